"""Learning curves of a run as a PNG, drawn from its progress.csv."""

from __future__ import annotations

import csv
from pathlib import Path

PLOT_NAME = "curves.png"


def _column(rows: list[dict[str, str]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in rows:
        if r.get(key) not in (None, "", "nan"):
            xs.append(float(r["env_steps"]))
            ys.append(float(r[key]))
    return xs, ys


def _guided(rows: list[dict[str, str]]) -> list[bool]:
    """Whether each iteration's train episodes were teacher-guided: the behaviour policy mixed
    the teacher's probabilities in (guidance coefficient > 0; PPO runs have none)."""
    return [float(r.get("Train/Guidance Coef") or 0) > 0 for r in rows]


def plot_run(run_dir: Path, title: str) -> Path | None:
    """Success rate and return against env steps (train episodes and evaluations)."""
    path = run_dir / "progress.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    guided = _guided(rows)
    imitation = [float(r["env_steps"]) for r in rows if r.get("Train/Phase") == "0.0"]
    for ax, metric in zip(axes, ("Success Rate", "Return Mean"), strict=True):
        if imitation:
            ax.axvspan(0, max(imitation), color="tab:orange", alpha=0.08,
                       label="imitation phase")
        for is_guided, style, label in (
                (True, "--", "train episodes, teacher-guided (its actions mixed in)"),
                (False, "-", "train episodes, the student's own actions")):
            xs, ys = _column([r for r, g in zip(rows, guided, strict=True) if g == is_guided],
                             f"Train/{metric}")
            if xs:
                ax.plot(xs, ys, style, label=label, markersize=3, alpha=0.6)
        xs, ys = _column(rows, f"Test/{metric}")
        ax.plot(xs, ys, "o-", label="evaluation (the student alone)", markersize=3)
        ax.set_xlabel("env steps")
        ax.set_ylabel(metric.lower())
        ax.grid(alpha=0.3)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    out = run_dir / PLOT_NAME
    tmp = out.with_name(f".{PLOT_NAME}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out)
    return out
