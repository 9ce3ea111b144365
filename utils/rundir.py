"""Where runs live: log/<policy>/<task lower-case>/<savedir>/[seed_<s>/].

One seed: the run directory is exactly log/<policy>/<task>/<savedir>/, so ``--loaddir train``
finds the run saved with ``--savedir train``. Several seeds: one sub-directory seed_<s>/ each.
"""

from __future__ import annotations

import os
from pathlib import Path

from utils.checkpoint import CHECKPOINT_NAME
from utils.errors import UserError


def task_dir(logdir: str, policy: str, task: str) -> Path:
    return Path(logdir) / policy / task.lower()


def train_run_dirs(logdir: str, policy: str, task: str, savedir: str,
                   seeds: list[int]) -> list[Path]:
    """The run directory of each seed, in --seed_list order."""
    base = task_dir(logdir, policy, task) / savedir
    if len(seeds) == 1:
        return [base]
    return [base / f"seed_{s}" for s in seeds]


def find_trained_runs(logdir: str, policy: str, task: str, loaddir: str) -> list[Path]:
    """The run directories saved under --loaddir: itself, or its seed_<s>/ sub-directories."""
    base = task_dir(logdir, policy, task) / loaddir
    if (base / CHECKPOINT_NAME).exists():
        return [base]
    seeds = sorted((p for p in base.glob("seed_*") if (p / CHECKPOINT_NAME).exists()),
                   key=lambda p: int(p.name[5:]) if p.name[5:].isdigit() else 1 << 62)
    if seeds:
        return seeds
    if not base.is_dir():
        raise UserError(f"no training run at {base}: train first (python main.py train --task "
                        f"{task} --savedir {loaddir}) or check --loaddir/--logdir/--policy")
    raise UserError(f"no checkpoint ({CHECKPOINT_NAME}) in {base} or its seed_<s>/ directories")


def make_writable_dir(path: Path) -> Path:
    """Create ``path`` (and parents); UserError if it cannot be created or written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create directory {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"cannot write to directory {path}: permission denied")
    return path
