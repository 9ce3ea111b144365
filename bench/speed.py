"""Training speed of this working tree against an earlier commit, side by side in one run.

    python bench/speed.py --against 65a2b08                 # IHAC and LLM4Teach, 3 rounds
    python bench/speed.py --against HEAD~1 --algos ppo --steps 10000 --rounds 5
    python bench/speed.py --against 65a2b08 -- --num_threads 2   # flags for both sides

The commit is exported (git archive) to a temporary directory. Each measurement is one
``main.py train`` process with that tree's default flags (plus any after ``--``) on --task, seed 0,
until --steps env steps; runs alternate base, new, base, new, ... within each round, so that
whatever else the machine is doing weighs on both alike. Speed = env steps / wall time of the
whole process (start-up, the teacher's set-up and the periodic evaluations included: what a user
waits for). Peak RSS is each process's own (wait4). Prints every run, then each side's median and
the ratio new / base.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export_commit(rev: str, into: Path) -> Path:
    """Write the tree of ``rev`` into ``into``/base and return that directory."""
    tree = into / "base"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True,
                             check=False)
    if archive.returncode:
        raise SystemExit(f"speed: cannot export --against {rev!r}: "
                         f"{archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def train_once(tree: Path, logdir: Path, task: str, algo: str, steps: int,
               extra: list[str]) -> tuple[float, float]:
    """(env steps/s, peak RSS in MB) of one training process in ``tree``: the env steps it
    logged (a run that stops once solved, --target_success, logs fewer than ``steps``)."""
    cmd = [sys.executable, "main.py", "train", "--task", task, "--algo", algo, "--seed", "0",
           "--savedir", "speed", "--logdir", str(logdir), "--total_env_steps", str(steps), *extra]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    # stderr to a file, not a pipe: nothing reads a pipe while wait4 waits, so a chatty run
    # would fill it and block
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            raise SystemExit(f"speed: training in {tree} failed:\n{err.read().decode().strip()}")
    with open(logdir / "ppo" / task.lower() / "speed" / "progress.csv") as f:
        done = int(f.read().splitlines()[-1].split(",")[1])
    return done / elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="65a2b08", help="the base commit (default 65a2b08)")
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--algos", nargs="+", default=["ihac", "llm4teach"],
                        choices=("ihac", "llm4teach", "ppo"))
    parser.add_argument("--steps", type=int, default=20000, help="env steps per run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"base": export_commit(args.against, Path(tmp)), "new": ROOT}
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            for algo in args.algos:
                for side, tree in sides.items():
                    logdir = Path(tmp) / f"log_{side}_{algo}_{r}"
                    sps, rss = train_once(tree, logdir, args.task, algo, args.steps, extra)
                    results.setdefault((algo, side), []).append((sps, rss))
                    print(f"round {r + 1} {algo:9s} {side:4s}: {sps:7.1f} env steps/s, "
                          f"peak RSS {rss:6.0f} MB", flush=True)
    print(f"\n{args.task}, {args.steps} env steps per run, {args.rounds} rounds, base = "
          f"{args.against}{' ' + ' '.join(extra) if extra else ''}")
    for algo in args.algos:
        base, new = (statistics.median(s for s, _ in results[(algo, side)])
                     for side in ("base", "new"))
        rss = {side: max(m for _, m in results[(algo, side)]) for side in ("base", "new")}
        print(f"{algo:9s}: base {base:7.1f}, new {new:7.1f} env steps/s (medians): "
              f"{new / base:.2f}x; peak RSS base {rss['base']:.0f} MB, new {rss['new']:.0f} MB")


if __name__ == "__main__":
    main()
