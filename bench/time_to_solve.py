"""Time to a solved student: wall time and env steps from a run's start to its first evaluation
(the student alone on --num_eval held-out rooms) with success >= --threshold.

    python bench/time_to_solve.py                       # SimpleDoorKey, IHAC and LLM4Teach, 3 seeds
    python bench/time_to_solve.py --algos ihac --seeds 0 --eval_every 2000 -- --num_threads 2
    python bench/time_to_solve.py --against 910d458 --jobs 2   # side by side with a commit

Each run is one ``main.py train`` process with this tree's default flags (plus any after ``--``),
evaluated every --eval_every env steps, stopped with SIGTERM (it saves and exits) once an
evaluation reaches the threshold, or at --budget. Wall time counts from the process's start
(imports, the teacher's set-up and every evaluation included: what a user waits for). Runs go
one at a time unless --jobs says otherwise; on a shared machine wall times carry its load. Peak
RSS is each process's own (wait4). With --against REV the same runs also go in that commit's
tree (exported as bench/speed.py does), alternating base and new so that the machine's load
weighs on both alike; flags after ``--`` go to the new side only (the base may not know them).
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.5


def first_solved(progress: Path, threshold: float) -> int | None:
    """Env steps of the first logged evaluation with success >= threshold, if any."""
    if not progress.exists():
        return None
    with open(progress, newline="") as f:
        for row in csv.DictReader(f):
            rate = row.get("Test/Success Rate") or ""
            if rate and float(rate) >= threshold:
                return int(row["env_steps"])
    return None


class Run:
    """One training process, watched until solved or finished."""

    def __init__(self, logdir: Path, task: str, algo: str, seed: int, args: argparse.Namespace,
                 extra: list[str], tree: Path = ROOT, side: str = "new") -> None:
        self.algo, self.seed, self.side = algo, seed, side
        self.progress = logdir / "ppo" / task.lower() / f"{algo}_seed{seed}" / "progress.csv"
        cmd = [sys.executable, "main.py", "train", "--task", task, "--algo", algo,
               "--seed_list", str(seed), "--savedir", f"{algo}_seed{seed}", "--logdir",
               str(logdir), "--total_env_steps", str(args.budget), "--eval_every_steps",
               str(args.eval_every), "--eval_interval", "1000000", "--num_eval",
               str(args.num_eval), *extra]
        self.err = tempfile.TemporaryFile()  # a file, not a pipe nobody reads while we poll
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env={**os.environ, "PYTHONHASHSEED": "0"})
        self.solved_at: tuple[float, int] | None = None  # (seconds, env steps)
        self.rss_mb = 0.0

    def poll(self, threshold: float) -> bool:
        """True once the process has exited (after being stopped when solved)."""
        if self.solved_at is None:
            steps = first_solved(self.progress, threshold)
            if steps is not None:
                self.solved_at = (time.perf_counter() - self.t0, steps)
                self.proc.send_signal(signal.SIGTERM)  # saves its checkpoint and exits
        pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.rss_mb = usage.ru_maxrss / 1024  # KB on Linux
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 128 + signal.SIGTERM):
            self.err.seek(0)
            raise SystemExit(f"time_to_solve: {self.algo} seed {self.seed} failed (exit {code}):"
                             f"\n{self.err.read().decode().strip()[-2000:]}")
        if self.solved_at is None:  # the evaluation that solved it may be the budget's last
            steps = first_solved(self.progress, threshold)
            if steps is not None:
                self.solved_at = (time.perf_counter() - self.t0, steps)
        return True

    def line(self) -> str:
        who = f"{self.side:4s} {self.algo:9s} seed {self.seed}"
        if self.solved_at is None:
            return f"{who}: not solved within the budget, peak RSS {self.rss_mb:.0f} MB"
        seconds, steps = self.solved_at
        return f"{who}: {seconds:7.1f} s, {steps:7,} env steps, peak RSS {self.rss_mb:.0f} MB"


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--algos", nargs="+", default=["ihac", "llm4teach"],
                        choices=("ihac", "llm4teach", "ppo"))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--threshold", type=float, default=0.9)
    parser.add_argument("--eval_every", type=int, default=5000,
                        help="env steps between evaluations: the resolution of the answer")
    parser.add_argument("--num_eval", type=int, default=50)
    parser.add_argument("--budget", type=int, default=100000, help="stop unsolved runs here")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--against", help="also run a commit's tree, alternating with this one")
    args = parser.parse_args(argv)
    sides = ["base", "new"] if args.against else ["new"]
    todo = [(side, a, s) for a in args.algos for s in args.seeds for side in sides]
    done: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"new": ROOT}
        if args.against:
            sys.path.insert(0, str(ROOT))
            from bench.speed import export_commit

            trees["base"] = export_commit(args.against, Path(tmp))
        running: list[Run] = []
        while todo or running:
            while todo and len(running) < args.jobs:
                side, algo, seed = todo.pop(0)
                running.append(Run(Path(tmp) / side, args.task, algo, seed, args,
                                   extra if side == "new" else [], trees[side], side))
            time.sleep(POLL_SECONDS)
            for run in [r for r in running if r.poll(args.threshold)]:
                running.remove(run)
                done.append(run)
                print(run.line(), flush=True)
    print(f"\n{args.task}: first {args.num_eval}-room evaluation >= {args.threshold} (every "
          f"{args.eval_every:,} env steps), {args.jobs} run(s) at a time"
          f"{', new side flags: ' + ' '.join(extra) if extra else ''}"
          f"{', base = ' + args.against if args.against else ''}")
    for algo in args.algos:
        for side in sides:
            runs = [r for r in done if r.algo == algo and r.side == side]
            solved = [r.solved_at for r in runs if r.solved_at is not None]
            rss = max(r.rss_mb for r in runs)
            who = f"{side:4s} {algo:9s}"
            if not solved:
                print(f"{who}: no seed solved within {args.budget:,} env steps; "
                      f"peak RSS {rss:.0f} MB")
                continue
            print(f"{who}: {len(solved)}/{len(runs)} seeds solved; median "
                  f"{statistics.median(s for s, _ in solved):.0f} s, "
                  f"{statistics.median(n for _, n in solved):,.0f} env steps "
                  f"(mean {statistics.mean(s for s, _ in solved):.0f} s, "
                  f"{statistics.mean(n for _, n in solved):,.0f}); peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
