"""Entry point: ``python main.py train|eval --task <Task> ...`` (see README.md)."""

from __future__ import annotations

import csv
import json
import sys

from utils.config import Config, config_from_dict, parse_config
from utils.errors import TrainingInterrupted, UserError


def train(cfg: Config) -> None:
    from algos.trainer import Trainer
    from utils.rundir import train_run_dirs

    run_dirs = train_run_dirs(cfg.logdir, cfg.policy, cfg.task, cfg.savedir, cfg.seed_list)
    for seed, run_dir in zip(cfg.seed_list, run_dirs, strict=False):
        trainer = Trainer(cfg, seed, run_dir)
        if not trainer.resumed:
            print(f"training {cfg.algo} on {cfg.task}, seed {seed} -> {run_dir} "
                  f"({cfg.num_envs} envs, {cfg.n_itr} iterations)", flush=True)
        trainer.train()
        print(f"done: {run_dir}", flush=True)


def evaluate(cfg: Config) -> None:
    import numpy as np
    import torch

    from algos.evaluate import evaluate as run_episodes
    from models import ACModel
    from utils.checkpoint import CHECKPOINT_NAME, load_checkpoint
    from utils.rundir import find_trained_runs, make_writable_dir
    from utils.video import save_gif

    runs = find_trained_runs(cfg.logdir, cfg.policy, cfg.task, cfg.loaddir)
    summaries = []
    for run in runs:
        state = load_checkpoint(run / CHECKPOINT_NAME, task=cfg.task)
        trained = config_from_dict(state["config"])
        model = ACModel(_obs_shape(cfg.task, trained.frame_stack), 7, trained.recurrent)
        model.load_state_dict(state["model"])
        model.to(cfg.device)
        base = run.parent if len(runs) > 1 else run
        out = make_writable_dir(base / cfg.savedir / (run.name if len(runs) > 1 else ""))
        result = run_episodes(model, cfg.task, cfg.num_eval, num_envs=cfg.num_envs,
                              frame_stack=trained.frame_stack, deterministic=cfg.deterministic,
                              device=torch.device(cfg.device), seed=0, record=cfg.num_videos)
        summary = {"run": str(run), "iteration": state["counters"]["iteration"],
                   "env_steps": state["counters"]["env_steps"], "episodes": cfg.num_eval,
                   "deterministic": cfg.deterministic, **result.summary()}
        (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
        with open(out / "episodes.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["episode", "env_seed", "return", "length", "success"])
            for k, ep in enumerate(result.episodes):
                w.writerow([k, ep.seed, f"{ep.ret:.4f}", ep.length, int(ep.success)])
        for k, frames in enumerate(result.videos):
            save_gif(out / f"episode_{k}.gif", frames)
        print(f"{run}: mean return {summary['Return Mean']:.3f}, mean length "
              f"{summary['Eplen']:.1f}, success rate {summary['Success Rate']:.2f} "
              f"({cfg.num_eval} episodes, {'greedy' if cfg.deterministic else 'sampled'} actions) "
              f"-> {out}", flush=True)
        summaries.append(summary)
    if len(summaries) > 1:
        sr = np.array([s["Success Rate"] for s in summaries])
        ln = np.array([s["Eplen"] for s in summaries])
        print(f"over {len(summaries)} seeds: success rate {sr.mean():.2f} +- {sr.std():.2f}, "
              f"mean length {ln.mean():.1f}")


def _obs_shape(task: str, frame_stack: int) -> tuple[int, int, int]:
    from envs import make_env

    w, h, c = make_env(task).observation_space.shape
    return (w, h, c * frame_stack)


def main(argv: list[str] | None = None) -> int:
    try:
        command, cfg = parse_config(argv)
        import torch

        torch.set_num_threads(cfg.num_threads)
        if command == "train":
            train(cfg)
        else:
            evaluate(cfg)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(exc, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
