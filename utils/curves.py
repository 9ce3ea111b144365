"""Evaluation curves of several runs: load them, compare algorithms, write CSV + PNG + table.

Used by `python main.py sweep` (sweep/report.py) and `python main.py plot`.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Run:
    algo: str
    seed: int
    path: Path
    steps: list[int]          # env steps at each evaluation
    success: list[float]
    eplen: list[float]
    wall_time: float          # seconds of training (last CSV row)


def run_label(run_dir: Path, cfg: dict) -> str:
    """`main.py sweep` (and bench/reproduce.py before it) names runs <label>_seed<s> (label:
    algo or <algo>-<variant>); other runs are labelled by their algorithm."""
    m = re.fullmatch(r"(.+)_seed\d+", run_dir.name)
    algo = cfg.get("algo", "?")
    return m.group(1) if m and m.group(1).split("-")[0] == algo else algo


def load_runs(*roots: Path) -> list[Run]:
    """Every run directory (with progress.csv and config.json) at or below the given paths."""
    runs = []
    for root in roots:
        for csv_path in sorted(Path(root).rglob("progress.csv")):
            cfg = json.loads((csv_path.parent / "config.json").read_text())
            with open(csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
            ev = [r for r in rows if r.get("Test/Success Rate")]
            runs.append(Run(run_label(csv_path.parent, cfg), int(cfg.get("seed", 0)),
                            csv_path.parent,
                            [int(r["env_steps"]) for r in ev],
                            [float(r["Test/Success Rate"]) for r in ev],
                            [float(r["Test/Eplen"]) for r in ev],
                            float(rows[-1]["wall_time"]) if rows else 0.0))
    return runs


def eval_grid(runs: list[Run]) -> tuple[np.ndarray, np.ndarray]:
    """Align seeds by evaluation index: (mean env steps (E,), success (seeds, E))."""
    n = min(len(r.steps) for r in runs)
    steps = np.mean([r.steps[:n] for r in runs], axis=0)
    return steps, np.array([r.success[:n] for r in runs])


def summarise(runs: list[Run]) -> dict[str, dict[str, float]]:
    """Per algorithm: env steps at which mean eval success first reaches 0.5 and 0.9, final
    success (mean, std across seeds), final episode length, wall time."""
    table = {}
    by_algo: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        if r.steps:
            by_algo[r.algo].append(r)
    for algo, rs in by_algo.items():
        steps, success = eval_grid(rs)
        mean = success.mean(axis=0)

        def first(threshold: float, steps=steps, mean=mean) -> float:
            hit = np.nonzero(mean >= threshold)[0]
            return float(steps[hit[0]]) if len(hit) else float("nan")

        table[algo] = {"seeds": len(rs), "to_0.5": first(0.5), "to_0.9": first(0.9),
                       "final_success": float(success[:, -1].mean()),
                       "final_success_std": float(success[:, -1].std()),
                       "final_length": float(np.mean([r.eplen[-1] for r in rs])),
                       "final_steps": float(steps[-1]),
                       "wall_time": float(np.mean([r.wall_time for r in rs]))}
    return table


def _fmt_steps(x: float) -> str:
    return "not reached" if np.isnan(x) else f"{x / 1000:.0f}k"


def write_outputs(out: Path, runs: list[Run], table: dict[str, dict[str, float]], title: str,
                  teacher_success: float | None = None) -> None:
    """evaluations.csv, success.png and results.md in ``out``; a run's path in the CSV is
    relative to ``out``, so that a committed results folder names no machine's directories."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "evaluations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["algo", "seed", "env_steps", "success_rate", "mean_length", "run"])
        for r in runs:
            for s, sr, ln in zip(r.steps, r.success, r.eplen, strict=True):
                w.writerow([r.algo, r.seed, s, sr, ln, os.path.relpath(r.path, out)])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for algo in table:
        rs = [r for r in runs if r.algo == algo and r.steps]
        steps, success = eval_grid(rs)
        line, = ax.plot(steps, success.mean(axis=0), "o-", markersize=3,
                        label=f"{algo} ({len(rs)} seeds)")
        ax.fill_between(steps, success.min(axis=0), success.max(axis=0), alpha=0.2,
                        color=line.get_color())
    if teacher_success is not None:
        ax.axhline(teacher_success, color="k", linestyle="--",
                   label=f"teacher alone ({teacher_success:.2f})")
    ax.set_xlabel("env steps")
    ax.set_ylabel("eval success rate (student alone)")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title + " (mean, min-max across seeds)")
    fig.tight_layout()
    fig.savefig(out / "success.png", dpi=100)
    plt.close(fig)
    lines = [f"# {title}", ""]
    if teacher_success is not None:
        lines += [f"Teacher alone (hard planner, shipped answers, 100 rooms): "
                  f"{teacher_success:.2f} success.", ""]
    lines += ["| algorithm | seeds | env steps to 0.5 | env steps to 0.9 | final success | "
              "final mean length | env steps | wall time per run |", "|---|---|---|---|---|---|---|---|"]
    for algo, t in table.items():
        lines.append(f"| {algo} | {t['seeds']} | {_fmt_steps(t['to_0.5'])} | "
                     f"{_fmt_steps(t['to_0.9'])} | {t['final_success']:.2f} +- "
                     f"{t['final_success_std']:.2f} | {t['final_length']:.1f} | "
                     f"{t['final_steps'] / 1000:.0f}k | {t['wall_time'] / 60:.1f} min |")
    lines += ["", "Steps to a threshold: the first evaluation at which the mean success across "
              "seeds reaches it (evaluations aligned by index)."]
    (out / "results.md").write_text("\n".join(lines) + "\n")
