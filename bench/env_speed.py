"""Random-action env steps per second for every IHAC task (run by hand, not a test).

    python bench/env_speed.py [--steps 20000] [--raw]

--raw times the unwrapped env (no gymnasium PassiveEnvChecker/OrderEnforcing wrappers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from envs import TASK_NAMES, make_env


def steps_per_second(task: str, steps: int, raw: bool, seed: int = 0) -> float:
    env = make_env(task)
    if raw:
        env = env.unwrapped
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, 7, size=steps)
    env.reset(seed=seed)
    episode = 0
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(int(a))
        if terminated or truncated:
            episode += 1
            env.reset(seed=seed + episode)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000, help="steps per task")
    parser.add_argument("--raw", action="store_true", help="time the unwrapped env")
    args = parser.parse_args()
    kind = "unwrapped" if args.raw else "gymnasium.make"
    print(f"random actions, {args.steps} steps per task, {kind} env (resets included)")
    for task in TASK_NAMES:
        sps = steps_per_second(task, args.steps, args.raw)
        print(f"{task:16s} {sps:10.0f} steps/s")


if __name__ == "__main__":
    main()
