"""python main.py train: one run per seed in --seed_list."""

from __future__ import annotations

import shutil
from pathlib import Path

from algos.trainer import Trainer
from utils.checkpoint import CHECKPOINT_NAME, FINISHED_NAME, previous_path
from utils.config import TrainConfig
from utils.precision import describe as describe_precision
from utils.rundir import train_run_dirs
from utils.runlock import RunLock


def run(cfg: TrainConfig) -> None:
    run_dirs = train_run_dirs(cfg.logdir, cfg.policy, cfg.task, cfg.savedir, cfg.seed_list)
    for seed, run_dir in zip(cfg.seed_list, run_dirs, strict=True):
        train_one(cfg, seed, run_dir)


def _first_missing(path: Path) -> Path | None:
    """The outermost of ``path`` and its parents that does not exist yet (None: it exists)."""
    missing = None
    for p in (path, *path.parents):
        if p.exists():
            return missing
        missing = p
    return missing


def train_one(cfg: TrainConfig, seed: int, run_dir: Path) -> None:
    """Train (or resume) one seed in ``run_dir``, holding its lock throughout. A start that
    fails before anything was saved (a dead --llm_url, say) leaves nothing behind."""
    created = _first_missing(run_dir)
    try:
        _train_one(cfg, seed, run_dir)
    except Exception:
        saved = [run_dir / name for name in (CHECKPOINT_NAME, FINISHED_NAME)]
        if created is not None and not any(p.exists() or previous_path(p).exists()
                                           for p in saved):
            shutil.rmtree(created, ignore_errors=True)
        raise


def _train_one(cfg: TrainConfig, seed: int, run_dir: Path) -> None:
    with RunLock(run_dir):
        trainer = Trainer(cfg, seed, run_dir)
        print(describe_precision(trainer.device, cfg.precision), flush=True)
        if trainer.teacher is not None:
            print(trainer.teacher.planner.describe(), flush=True)
        if not trainer.resumed:
            print(f"training {cfg.algo} on {cfg.task}, seed {seed} -> {run_dir} "
                  f"({cfg.num_envs} envs, {cfg.n_itr} iterations)", flush=True)
        try:
            trainer.train()
        finally:
            planner = getattr(trainer.teacher, "planner", None)
            if planner is not None and planner.fallback_summary():
                print(planner.fallback_summary(), flush=True)
    print(f"done: {run_dir}", flush=True)
