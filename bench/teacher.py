"""The teacher alone on every task: success rate and mean episode length over held-out env seeds.

    python bench/teacher.py [--episodes 100] [--tasks SimpleDoorKey TwoDoor] \\
        [--answers gemma-3-270m=bench/results/teacher/answers/gemma-3-270m ...]

Columns (all with the same skills): the hard planner (one plan sampled per step) and the soft
planner (actions mixed by plan probability) with the shipped answers; "uniform": no LLM at all,
every candidate plan offered with a text equally likely (hard planner); the oracle's plans
(planners/oracle.py), whose failures are skill failures; "wrong plans" = oracle - hard planner,
the share of episodes lost to the shipped answers' plans; then one column per --answers
NAME=DIR (hard planner with DIR/<task>.json, e.g. answers recorded from another LLM with
``python main.py answers``). Env seeds 1_000_000 + k: the held-out rooms every evaluation uses.
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

# the original code's teacher, hard planner, recorded answers, 100 rooms (ColoredDoorKey: 0.611
# over 1000 rooms, bench/results/coloreddoorkey-teacher/); the original defines no other task
ORIGINAL = {"SimpleDoorKey": "1.00 (25.7)", "LavaDoorKey": "0.44", "ColoredDoorKey": "0.62",
            "TwoDoor": "0.09"}
BUILT_IN = ("hard", "soft", "uniform", "oracle")


def choices_of(task: str) -> dict[str, list[str]]:
    """The candidate plans offered with each text (they come with the shipped file)."""
    book = AnswerBook.load(task)
    return {t: e["candidates"] for t, e in book.entries.items() if e.get("candidates")}


def make_teacher(task: str, kind: str, answers: Path | None = None):
    if kind == "oracle":
        return OracleTeacher(task)
    if kind == "uniform":
        planner = Planner(task, uniform=True, choices=choices_of(task))
    else:
        book = AnswerBook.load(task, answers / f"{task.lower()}.json" if answers else None)
        planner = Planner(task, book, choices=choices_of(task))
    return Teacher(task, planner, TeacherConfig(soft=kind == "soft"))


def measure(task: str, kind: str, episodes: int, answers: Path | None = None,
            num_envs: int = 16) -> tuple[float, float, float]:
    """(success rate, mean length, seconds) of one teacher on ``episodes`` held-out rooms."""
    teacher = make_teacher(task, kind, answers)
    t0 = time.perf_counter()
    result = run_episodes(TeacherPolicy(teacher), task, episodes,
                          num_envs=min(num_envs, episodes))
    s = result.summary()
    return s["Success Rate"], s["Eplen"], time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--tasks", nargs="+", default=list(TASK_NAMES))
    parser.add_argument("--answers", nargs="+", default=[], metavar="NAME=DIR",
                        help="extra columns: the hard planner with DIR/<task>.json")
    args = parser.parse_args()
    extra = {}
    for spec in args.answers:
        name, sep, path = spec.partition("=")
        if not sep or not Path(path).is_dir():
            parser.error(f"--answers {spec!r}: expected NAME=DIR with DIR a directory")
        extra[name] = Path(path)
    print(f"teacher alone, {args.episodes} episodes per cell (env seeds 1000000+k); "
          "success (mean length)")
    heads = ["hard planner", "soft planner", "uniform (no LLM)", "oracle plans",
             "lost to wrong plans", *extra, "original (hard)"]
    print("| task | " + " | ".join(heads) + " |")
    print("|---" * (len(heads) + 1) + "|")
    for task in args.tasks:
        row = {k: measure(task, k, args.episodes) for k in BUILT_IN}
        row.update({name: measure(task, "hard", args.episodes, path)
                    for name, path in extra.items()})
        cells = [f"{row[k][0]:.2f} ({row[k][1]:.1f})" for k in BUILT_IN[:4]]
        cells.append(f"{row['oracle'][0] - row['hard'][0]:.2f}")
        cells += [f"{row[k][0]:.2f} ({row[k][1]:.1f})" for k in extra]
        print(f"| {task} | {' | '.join(cells)} | {ORIGINAL.get(task, '-')} |", flush=True)


if __name__ == "__main__":
    main()
