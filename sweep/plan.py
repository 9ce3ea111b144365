"""The runs of a sweep: one per (task, algorithm, variant, seed), each a `main.py train`
command line into <out>/log/ppo/<task>/<algo>[-<variant>]_seed<s>/, and its state on disk."""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from utils.checkpoint import CHECKPOINT_NAME, FINISHED_NAME, load_checkpoint
from utils.cli import OneLineParser, parse_config
from utils.errors import UserError
from utils.rundir import task_dir

ALGOS = ("ihac", "llm4teach", "ppo")


@dataclass
class SweepRun:
    task: str
    algo: str
    variant: str
    seed: int
    out: Path
    argv: list[str] = field(default_factory=list)  # main.py's arguments for this run

    @property
    def label(self) -> str:
        return f"{self.algo}-{self.variant}" if self.variant else self.algo

    @property
    def name(self) -> str:
        return f"{self.task}/{self.label}_seed{self.seed}"

    @property
    def run_dir(self) -> Path:
        return task_dir(str(self.out / "log"), "ppo", self.task) / f"{self.label}_seed{self.seed}"

    @property
    def log_path(self) -> Path:
        return self.out / "logs" / f"{self.task.lower()}_{self.label}_seed{self.seed}.log"

    def env_steps(self) -> int:
        """Env steps logged so far (the last progress.csv row), 0 before any."""
        path = self.run_dir / "progress.csv"
        if not path.exists():
            return 0
        with open(path, "rb") as f:
            lines = f.read().splitlines()
        last = lines[-1].split(b",") if len(lines) > 1 else []
        return int(last[1]) if len(last) > 1 and last[1].isdigit() else 0

    def finished(self, budget: int) -> bool:
        """The checkpoint reached the budget; without one (committed results leave it out), the
        run's finished marker did."""
        path, marker = self.run_dir / CHECKPOINT_NAME, self.run_dir / FINISHED_NAME
        if path.exists():
            try:
                return load_checkpoint(path)["counters"]["env_steps"] >= budget
            except UserError:  # its own trainer says what is wrong, and the others run
                return False
        return marker.exists() and json.loads(marker.read_text())["env_steps"] >= budget


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="main.py sweep", description="Every (task, algorithm, variant, "
                      "seed) as a Ray task; reruns skip finished runs and resume the others.")
    p.add_argument("--task", nargs="+", required=True, help="one or more tasks")
    p.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--budget", type=int, required=True, help="env steps per run")
    p.add_argument("--eval_every", type=int, default=20_000,
                   help="evaluate the student alone every this many env steps (default: 20000)")
    p.add_argument("--num_eval", type=int, default=50, help="held-out rooms per evaluation")
    p.add_argument("--teacher_episodes", type=int, default=100,
                   help="held-out rooms for the teacher's line (default: 100)")
    p.add_argument("--variant", action="append", default=[], metavar='NAME="FLAGS"',
                   help="an ablation: every algorithm again with FLAGS, labelled NAME")
    p.add_argument("--out", type=Path, required=True, help="the sweep's directory")
    p.add_argument("--address", help="join this Ray cluster (e.g. auto or HOST:6379) instead of "
                                     "starting a local one; --out and the project must be at "
                                     "the same path on every node (a shared filesystem)")
    p.add_argument("--cpus", type=int, help="a local Ray's size: runs at a time (default: the "
                                            "machine's cores)")
    p.add_argument("--gpus_per_run", type=float, default=0.0,
                   help="GPUs each run asks of Ray (e.g. 0.25: four runs share a GPU); above 0 "
                        "the runs train with --device cuda (default: 0, the CPU)")
    return p


def parse_variants(specs: list[str]) -> dict[str, list[str]]:
    """NAME="FLAGS" specs -> {NAME: [flag, ...]}, in the order given."""
    variants: dict[str, list[str]] = {}
    for spec in specs:
        name, sep, flags = spec.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z0-9_.]+", name) or name in variants:
            raise UserError(f"--variant {spec!r} is invalid: expected a new NAME=\"FLAGS\", NAME "
                            "made of letters, digits, _ and .")
        try:
            variants[name] = shlex.split(flags)
        except ValueError as exc:  # an unclosed quote
            raise UserError(f"--variant {spec!r} is invalid: its FLAGS do not parse as a "
                            f"command line ({exc})") from None
    return variants


def parse_sweep(argv: list[str]) -> tuple[argparse.Namespace, list[SweepRun]]:
    """The sweep's options and its runs, each run's flags checked as `main.py train` would."""
    own, extra = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else \
        (argv, [])
    args = build_parser().parse_args(own)
    for name in ("budget", "eval_every", "num_eval", "teacher_episodes", "cpus"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UserError(f"--{name} {value} is invalid: it must be a positive integer")
    gpus = args.gpus_per_run
    if not (math.isfinite(gpus) and (0 <= gpus <= 1 or (gpus > 1 and gpus == int(gpus)))):
        raise UserError(f"--gpus_per_run {gpus} is invalid: a share of one GPU (0 to 1) or a "
                        "whole number of GPUs")
    device = ["--device", "cuda"] if args.gpus_per_run > 0 and "--device" not in extra else []
    variants = parse_variants(args.variant)
    out = args.out.resolve()
    runs = []
    for task in dict.fromkeys(args.task):
        for variant in variants or [""]:
            for algo in args.algos:
                for seed in args.seeds:
                    run = SweepRun(task, algo, variant, seed, out)
                    run.argv = [
                        "train", "--task", task, "--algo", algo,
                        "--savedir", run.run_dir.name, "--seed_list", str(seed),
                        "--logdir", str(out / "log"), "--n_itr", "1000000",
                        "--total_env_steps", str(args.budget),
                        "--eval_every_steps", str(args.eval_every), "--eval_interval",
                        "1000000", "--num_eval", str(args.num_eval), "--print_interval", "50",
                        "--target_success", "0",  # every run trains the whole budget
                        *device, *extra, *variants.get(variant, [])]
                    # flags checked here as the trainer will; a GPU is checked on the node
                    # that runs it (this one may have none)
                    checked = run.argv + (["--device", "cpu"] if device else [])
                    run.task = parse_config(checked)[1].task  # an alias's canonical name
                    if all(r.name != run.name for r in runs):
                        runs.append(run)
    return args, runs
