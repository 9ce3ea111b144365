"""The teacher alone on every task: success rate and mean episode length over held-out env seeds.

    python bench/teacher.py [--episodes 100] [--tasks SimpleDoorKey TwoDoor]

Rows: the hard planner (one plan sampled per step) and the soft planner (actions mixed by plan
probability), both with the shipped answers, and the oracle's plans (planners/oracle.py) with the
same skills. The oracle's failures are skill failures; "wrong plans" = oracle success - hard
planner success is the share of episodes lost to the LLM's plans. Env seeds 1_000_000 + k, the
held-out rooms every evaluation uses.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algos.evaluate import run_episodes
from envs import TASK_NAMES
from planners.answers import AnswerBook
from planners.oracle import OracleTeacher
from planners.planner import Planner
from planners.teacher import Teacher, TeacherConfig, TeacherPolicy

ORIGINAL = {"SimpleDoorKey": "1.00 (25.7)", "LavaDoorKey": "0.44", "ColoredDoorKey": "0.62",
            "TwoDoor": "0.09"}  # ALGORITHM.md section 6, hard planner, recorded answers


def measure(task: str, kind: str, episodes: int, num_envs: int = 16) -> tuple[float, float, float]:
    """(success rate, mean length, seconds) of one teacher on ``episodes`` held-out rooms."""
    if kind == "oracle":
        teacher = OracleTeacher(task)
    else:
        teacher = Teacher(task, Planner(task, AnswerBook.load(task)),
                          TeacherConfig(soft=kind == "soft"))
    t0 = time.perf_counter()
    result = run_episodes(TeacherPolicy(teacher), task, episodes,
                          num_envs=min(num_envs, episodes))
    s = result.summary()
    return s["Success Rate"], s["Eplen"], time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--tasks", nargs="+", default=list(TASK_NAMES))
    args = parser.parse_args()
    print(f"teacher alone, {args.episodes} episodes per row (env seeds 1000000+k); "
          "success (mean length)")
    print("| task | hard planner | soft planner | oracle plans | lost to wrong plans | "
          "original (hard) |")
    print("|---|---|---|---|---|---|")
    for task in args.tasks:
        row = {k: measure(task, k, args.episodes) for k in ("hard", "soft", "oracle")}
        cells = [f"{row[k][0]:.2f} ({row[k][1]:.1f})" for k in ("hard", "soft", "oracle")]
        wrong = row["oracle"][0] - row["hard"][0]
        print(f"| {task} | {' | '.join(cells)} | {wrong:.2f} | {ORIGINAL.get(task, '-')} |",
              flush=True)


if __name__ == "__main__":
    main()
