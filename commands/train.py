"""python main.py train: one run per seed in --seed_list."""

from __future__ import annotations

from pathlib import Path

from algos.trainer import Trainer
from utils.config import Config
from utils.precision import describe as describe_precision
from utils.rundir import train_run_dirs
from utils.runlock import RunLock


def run(cfg: Config) -> None:
    run_dirs = train_run_dirs(cfg.logdir, cfg.policy, cfg.task, cfg.savedir, cfg.seed_list)
    for seed, run_dir in zip(cfg.seed_list, run_dirs, strict=True):
        train_one(cfg, seed, run_dir)


def train_one(cfg: Config, seed: int, run_dir: Path) -> None:
    """Train (or resume) one seed in ``run_dir``, holding its lock throughout."""
    with RunLock(run_dir):
        trainer = Trainer(cfg, seed, run_dir)
        print(describe_precision(trainer.device, cfg.precision), flush=True)
        if trainer.teacher is not None:
            print(trainer.teacher.planner.describe(), flush=True)
        if not trainer.resumed:
            print(f"training {cfg.algo} on {cfg.task}, seed {seed} -> {run_dir} "
                  f"({cfg.num_envs} envs, {cfg.n_itr} iterations)", flush=True)
        trainer.train()
    print(f"done: {run_dir}", flush=True)
