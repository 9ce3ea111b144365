"""IHAC vs LLM4Teach vs PPO on one task: K seeds, an env-step budget, curves and a table.

    python bench/reproduce.py --task SimpleDoorKey --seeds 0 1 2 --budget 300000 \\
        --out bench/results/simpledoorkey -- --imitation_itr 20
    python bench/reproduce.py --task SimpleDoorKey --algos ihac --out bench/results/ablations \\
        --variant student_ratio="--ratio_wrt student" --variant no_guidance="--guide_coef 0"

Every (algorithm, seed) is one `python main.py train` process (two at a time: one per core, each
with one torch thread), run into <out>/log/ppo/<task>/<algo>_seed<s>/. The student is evaluated
alone every --eval_every env steps on the same 50 held-out rooms. Flags after `--` go to every
training run. `--variant NAME="FLAGS"` (repeatable) makes it an ablation study: every algorithm
runs once per variant with FLAGS added, into <algo>-<NAME>_seed<s>/, and the curves and the table
compare the variants. Writes into --out:
- evaluations.csv: every evaluation;
- success.png: eval success against env steps (mean and min-max across seeds, the teacher's
  success as a horizontal line);
- results.md: env steps to reach 0.5 and 0.9 mean eval success, final success and episode
  length, wall time per algorithm;
- teacher.json: the teacher alone on the first --teacher_episodes held-out rooms;
- command.txt: the command.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.curves import load_runs, summarise, write_outputs  # noqa: E402
from utils.summary import study_teacher  # noqa: E402

ALGOS = ("ihac", "llm4teach", "ppo")


def parse_variants(parser: argparse.ArgumentParser, specs: list[str]) -> dict[str, list[str]]:
    """NAME="FLAGS" specs -> {NAME: [flag, ...]}, in the order given."""
    variants: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, flags = spec.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.]+", name) or name in variants:
            parser.error(f"--variant {spec!r}: expected a new NAME=\"FLAGS\", NAME made of "
                         "letters, digits, _ and .")
        variants[name] = shlex.split(flags)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=300_000, help="env steps per run")
    parser.add_argument("--eval_every", type=int, default=20_000)
    parser.add_argument("--num_eval", type=int, default=50, help="held-out rooms per evaluation")
    parser.add_argument("--teacher_episodes", type=int, default=100,
                        help="rooms for the teacher's success line")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (one per core)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="FLAGS"',
                        help="an ablation: run every algorithm again with FLAGS, labelled NAME")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="-- flags for every run")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    variants = parse_variants(parser, args.variant)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "command.txt").write_text(shlex.join(["python", *sys.argv]) + "\n")
    logdir = args.out / "log"

    def train(job: tuple[str, str, int]) -> tuple[str, int, float, int]:
        algo, variant, seed = job
        name = f"{algo}-{variant}" if variant else algo
        cmd = [sys.executable, str(ROOT / "main.py"), "train", "--task", args.task,
               "--algo", algo, "--savedir", f"{name}_seed{seed}", "--seed_list", str(seed),
               "--logdir", str(logdir), "--n_itr", "1000000", "--total_env_steps",
               str(args.budget), "--eval_every_steps", str(args.eval_every), "--eval_interval",
               "1000000", "--num_eval", str(args.num_eval), "--print_interval", "50", *extra,
               *variants.get(variant, [])]
        t0 = time.time()
        with open(args.out / f"{name}_seed{seed}.log", "w") as log:
            code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        elapsed = time.time() - t0
        print(f"{name} seed {seed}: exit {code}, {elapsed:.0f} s", flush=True)
        return name, seed, elapsed, code

    jobs = [(a, v, s) for s in args.seeds for v in (variants or [""]) for a in args.algos]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(train, jobs))
    failed = [(a, s) for a, s, _, code in done if code != 0]
    if failed:
        sys.exit(f"runs failed: {failed} (see the .log files in {args.out})")
    runs = load_runs(logdir / "ppo" / args.task.lower())
    teacher = study_teacher(args.out, args.task, args.teacher_episodes)["success"]
    table = summarise(runs)
    write_outputs(args.out, runs, table, f"{args.task}: student alone on held-out rooms",
                  teacher)
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
