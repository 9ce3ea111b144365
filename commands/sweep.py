"""python main.py sweep: a study's runs on Ray, then its evaluations, summary, figures and table.

    python main.py sweep --task SimpleDoorKey DynamicDoorKey --algos ihac llm4teach ppo \\
        --seeds 0 1 2 --budget 300000 --out bench/results/grid
    python main.py sweep --task SimpleDoorKey --algos ihac --budget 100000 --out ablation \\
        --variant no_guidance="--guide_coef 0" -- --obs_encoding onehot

Flags after `--` go to every run, a variant's FLAGS to its runs (sweep/plan.py). The same
command again skips finished runs and resumes interrupted ones; --budget may grow to continue
them all. The command line is appended to <out>/command.txt.
"""

from __future__ import annotations

import shlex

from sweep.plan import parse_sweep
from sweep.report import study_tasks, write_report
from sweep.runner import run_all
from utils.errors import UserError
from utils.rundir import make_writable_dir


def main(argv: list[str]) -> None:
    args, runs = parse_sweep(argv)
    out = runs[0].out

    def record() -> None:  # once the sweep really starts
        make_writable_dir(out)
        with open(out / "command.txt", "a") as f:
            f.write(shlex.join(["python", "main.py", "sweep", *argv]) + "\n")

    failed = run_all(runs, args.budget, args.address, args.cpus,
                     gpus_per_run=args.gpus_per_run, on_start=record)
    # the report covers the whole study: tasks of earlier sweeps into the same --out too
    tasks = list(dict.fromkeys([r.task for r in runs] + study_tasks(out)))
    write_report(out, tasks, args.teacher_episodes)
    print(f"wrote {out / 'summary.csv'}, {out / 'results.md'}, {out / 'success.png'} and per "
          "task figures", flush=True)
    print((out / "results.md").read_text(), flush=True)
    if failed:
        raise UserError(f"{len(failed)} runs failed: {', '.join(failed)} (their logs are in "
                        f"{out / 'logs'}); the report covers the others")
