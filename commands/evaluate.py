"""python main.py eval: the trained student(s) in --loaddir, or the teacher alone."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algos.evaluate import EvalResult, evaluate, run_episodes
from envs import make_env
from models import ACModel, network_options
from utils.checkpoint import CHECKPOINT_NAME, load_checkpoint
from utils.config import EvalConfig, config_from_dict
from utils.errors import TrainingInterrupted, UserError
from utils.interrupts import Interrupts
from utils.precision import describe as describe_precision
from utils.rundir import find_trained_runs, make_writable_dir, task_dir
from utils.video import save_gif


def run(cfg: EvalConfig) -> None:
    if cfg.eval_teacher or cfg.eval_meta_controller:
        evaluate_teacher(cfg)
    else:
        evaluate_students(cfg)


def fresh_eval_dir(out: Path) -> Path:
    """``out``, created; UserError if an earlier evaluation's results are there already."""
    if (out / "results.json").exists():
        raise UserError(f"{out} already holds an evaluation (results.json): give another "
                        "--savedir, or remove that directory to evaluate into it again")
    return make_writable_dir(out)


def write_results(out: Path, summary: dict[str, Any], result: EvalResult) -> None:
    """results.json, episodes.csv and the GIFs of an evaluation."""
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    with open(out / "episodes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode", "env_seed", "return", "length", "success"])
        for k, ep in enumerate(result.episodes):
            w.writerow([k, ep.seed, f"{ep.ret:.4f}", ep.length, int(ep.success)])
    for k, frames in enumerate(result.videos):
        save_gif(out / f"episode_{k}.gif", frames)


def _result_line(who: str, summary: dict[str, Any], cfg: EvalConfig, out: Path) -> str:
    return (f"{who}: mean return {summary['Return Mean']:.3f}, mean length {summary['Eplen']:.1f}, "
            f"success rate {summary['Success Rate']:.2f} ({cfg.num_eval} episodes, "
            f"{'greedy' if cfg.deterministic else 'sampled'} actions) -> {out}")


def load_student(run_dir: Path, task: str) -> tuple[ACModel, EvalConfig, dict[str, Any]]:
    """(the trained student, built as its run configured it; that config; the checkpoint)."""
    state = load_checkpoint(run_dir / CHECKPOINT_NAME, task=task)
    trained = config_from_dict(state["config"])
    w, h, c = make_env(task).observation_space.shape
    model = ACModel((w, h, c * trained.frame_stack), 7, trained.recurrent,
                    **network_options(trained))
    model.load_state_dict(state["model"])
    return model, trained, state


def evaluate_students(cfg: EvalConfig) -> None:
    runs = find_trained_runs(cfg.logdir, cfg.policy, cfg.task, cfg.loaddir)
    outs = [(run_dir.parent if len(runs) > 1 else run_dir) / cfg.savedir
            / (run_dir.name if len(runs) > 1 else "") for run_dir in runs]
    outs = [fresh_eval_dir(out) for out in outs]  # all refused before any is evaluated
    print(describe_precision(torch.device(cfg.device), cfg.precision), flush=True)
    summaries = []
    for run_dir, out in zip(runs, outs, strict=True):
        model, trained, state = load_student(run_dir, cfg.task)
        model.to(cfg.device)
        model.set_precision(cfg.precision)
        result = evaluate(model, cfg.task, cfg.num_eval, num_envs=cfg.num_envs,
                          frame_stack=trained.frame_stack, deterministic=cfg.deterministic,
                          device=torch.device(cfg.device), seed=0, record=cfg.num_videos)
        summary = {"run": str(run_dir), "iteration": state["counters"]["iteration"],
                   "env_steps": state["counters"]["env_steps"], "episodes": cfg.num_eval,
                   "deterministic": cfg.deterministic, "device": cfg.device,
                   "precision_used": describe_precision(torch.device(cfg.device), cfg.precision),
                   **result.summary()}
        write_results(out, summary, result)
        print(_result_line(str(run_dir), summary, cfg, out), flush=True)
        summaries.append(summary)
    if len(summaries) > 1:
        sr = np.array([s["Success Rate"] for s in summaries])
        ln = np.array([s["Eplen"] for s in summaries])
        print(f"over {len(summaries)} seeds: success rate {sr.mean():.2f} +- {sr.std():.2f}, "
              f"mean length {ln.mean():.1f}")


def evaluate_teacher(cfg: EvalConfig) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from planners import build_teacher
    from planners.teacher import TeacherPolicy
    from planners.teacher_scalars import teacher_scalars

    out = fresh_eval_dir(task_dir(cfg.logdir, cfg.policy, cfg.task) / cfg.loaddir / cfg.savedir)
    teacher = build_teacher(cfg, record_dir=out, seed=0)
    planner = getattr(teacher, "planner", None)  # (the oracle has none)
    print(teacher.planner.describe(), flush=True)
    num_envs = min(cfg.num_envs, cfg.num_eval)
    interrupts = Interrupts()
    try:
        with interrupts:
            result = run_episodes(TeacherPolicy(teacher, cfg.deterministic), cfg.task,
                                  cfg.num_eval, num_envs=num_envs, record=cfg.num_videos)
    except KeyboardInterrupt:
        raise TrainingInterrupted(_interrupted_line(interrupts.name, planner, out),
                                  128 + (interrupts.signum or 2)) from None
    summary = {"teacher": "soft planner" if cfg.soft_planner else "hard planner",
               "source": teacher.planner.describe(), "episodes": cfg.num_eval,
               "deterministic": cfg.deterministic, **result.summary(),
               "planner": teacher.planner.stats.as_dict(), "skills": teacher.stats.as_dict()}
    if planner is not None and planner.llm is not None:
        summary["json_schema"] = planner.llm.describe_schema()
        summary["uniform_fallbacks"] = planner.stats.unusable_texts
    write_results(out, summary, result)
    with SummaryWriter(log_dir=str(out)) as writer:
        scalars = {**teacher_scalars(teacher),
                   **{f"Test/{k}": v for k, v in result.summary().items()}}
        for tag, value in scalars.items():
            writer.add_scalar(tag, value, 0)
    if planner is not None and planner.fallback_summary():
        print(planner.fallback_summary(), flush=True)
    print(_result_line(f"teacher ({summary['teacher']})", summary, cfg, out), flush=True)


def _interrupted_line(signal_name: str, planner, out: Path) -> str:
    """What an interrupted teacher evaluation kept: the answers recorded so far."""
    kept = "no results.json"
    if planner is not None and planner.record_path is not None and planner.recorded:
        kept = (f"the LLM's answers to {len(planner.recorded)} texts, each complete, are in "
                f"{planner.record_path} (--answers_file replays them); no results.json")
    return f"eval interrupted ({signal_name}): {kept}"
