"""End-to-end training throughput (collection + update) in env steps per second.

    python bench/throughput.py                      # --num_envs 1 vs the default, and the ratio
    python bench/throughput.py --num_envs 1 4 8 16 32 --iterations 30

Each setting trains a fresh student (--algo, default ppo) on SimpleDoorKey (seed 0, one
torch thread) in a temporary directory for --iterations iterations; steps/s = env steps / wall
time of those iterations (start-up excluded; evaluation off but for one episode at the end).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algos.trainer import Trainer
from utils.config import TrainConfig


def measure(task: str, num_envs: int, iterations: int, algo: str = "ppo") -> tuple[float, int]:
    """(end-to-end env steps/s, env steps) of ``iterations`` training iterations."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig(task=task, savedir="bench", logdir=tmp, algo=algo, num_envs=num_envs,
                     n_itr=iterations, eval_interval=10**9, save_interval=10**9, num_eval=1,
                     print_interval=10**9).validate()
        trainer = Trainer(cfg, 0, Path(tmp) / "run")
        t0 = time.perf_counter()
        trainer.train()
        elapsed = time.perf_counter() - t0
        return trainer.counters["env_steps"] / elapsed, trainer.counters["env_steps"]


def main() -> None:
    default = TrainConfig.__dataclass_fields__["num_envs"].default
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--num_envs", type=int, nargs="+", default=[1, default])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--algo", default="ppo", choices=("ppo", "llm4teach", "ihac"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    for n in args.num_envs:
        sps, steps = measure(args.task, n, args.iterations, args.algo)
        results[n] = sps
        print(f"{args.algo} num_envs {n:3d}: {sps:8,.0f} env steps/s end-to-end ({steps:,} steps, "
              f"{args.iterations} iterations)", flush=True)
    if 1 in results and default in results and default != 1:
        print(f"default (num_envs {default}) / num_envs 1: {results[default] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
