"""What a sweep writes into its directory once its runs are done:

- evaluations.csv: every evaluation of every run (task, algorithm label, seed, env steps,
  success, length);
- summary.csv: one row per (task, algorithm, variant), the columns of bench/results/summary.csv;
- <task>/success.png, <task>/results.md, <task>/evaluations.csv: per task, the teacher's line on
  the figure;
- success.png: every task in one figure; results.md: the summary table and the figures;
- teacher.json: the teacher alone on each task's first --teacher_episodes held-out rooms.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from utils.curves import eval_grid, load_runs, summarise, write_outputs
from utils.rundir import task_dir
from utils.summary import study_rows, study_teacher, write_rows


def study_tasks(out: Path) -> list[str]:
    """The tasks that have runs under <out>/log, as their configs name them, in folder order."""
    tasks = []
    for cfg in sorted((out / "log").glob("*/*/*/**/config.json")):
        task = json.loads(cfg.read_text())["task"]
        if task not in tasks and (cfg.parent / "progress.csv").exists():
            tasks.append(task)
    return tasks


def write_report(out: Path, tasks: list[str], teacher_episodes: int) -> list[dict]:
    per_task, teachers = {}, {}
    for task in tasks:
        runs = [r for r in load_runs(task_dir(str(out / "log"), "ppo", task)) if r.steps]
        if not runs:
            continue
        teachers[task] = study_teacher(out, task, teacher_episodes)
        write_outputs(out / task.lower(), runs, summarise(runs),
                      f"{task}: student alone on held-out rooms", teachers[task]["success"])
        per_task[task] = runs
    with open(out / "evaluations.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["task", "algo", "seed", "env_steps", "success_rate", "mean_length", "run"])
        for task, runs in per_task.items():
            for r in runs:
                for s, sr, ln in zip(r.steps, r.success, r.eplen, strict=True):
                    w.writerow([task, r.algo, r.seed, s, sr, ln, r.path.relative_to(out)])
    rows = study_rows(out)
    write_rows(out / "summary.csv", rows)
    if per_task:
        _all_tasks_figure(out / "success.png", per_task, teachers)
    _results_md(out / "results.md", rows, list(per_task))
    return rows


def _all_tasks_figure(path: Path, per_task: dict, teachers: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    n = len(per_task)
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    # one colour per algorithm in every panel, and one legend naming them all
    labels = list(dict.fromkeys(r.algo for runs in per_task.values() for r in runs))
    colours = {label: f"C{i}" for i, label in enumerate(labels)}
    handles = {}
    for ax, (task, runs) in zip(axes.flat, per_task.items(), strict=False):
        for label in dict.fromkeys(r.algo for r in runs):
            steps, success = eval_grid([r for r in runs if r.algo == label])
            handles[label], = ax.plot(steps, success.mean(axis=0), "o-", markersize=2,
                                      color=colours[label])
            ax.fill_between(steps, success.min(axis=0), success.max(axis=0), alpha=0.2,
                            color=colours[label])
        handles["teacher alone"] = ax.axhline(teachers[task]["success"], color="k",
                                              linestyle="--")
        ax.set_title(task)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("env steps")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _steps(int(x))))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].set_ylabel("eval success (student alone)")
    order = [*labels, "teacher alone"]
    fig.legend([handles[k] for k in order], order, loc="lower center", ncol=len(order),
               fontsize=8)
    fig.tight_layout(rect=(0, 0.08 / rows, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _steps(n: int) -> str:
    return f"{n / 1000:.0f}k" if n >= 1000 else str(n)


def _reached(steps: str) -> str:
    return _steps(int(steps)) if steps else "not reached"


def _results_md(path: Path, rows: list[dict], tasks: list[str]) -> None:
    lines = ["# Sweep: the student alone on held-out rooms", "",
             "| task | algo | variant | seeds | budget | final success | length | teacher | "
             "teacher length | env steps to 0.5 | to 0.9 |", "|---|---|---|---|---|---|---|---|"
             "---|---|---|"]
    for r in rows:
        mean, std = r["final_success_raw"]
        lines.append(f"| {r['task']} | {r['algo']} | {r['variant']} | {r['seeds']} | "
                     f"{_steps(int(r['budget']))} | {mean:.2f} +- {std:.2f} | "
                     f"{r['final_length_mean']} | "
                     f"{float(r['teacher_success']):.2f} | {r['teacher_length']} | "
                     f"{_reached(r['steps_to_0.5'])} | {_reached(r['steps_to_0.9'])} |")
    lines += ["", "Final: the last evaluation (mean +- std across seeds). Steps to a threshold: "
              "the first evaluation at which the mean success across seeds reaches it.", ""]
    lines += _by_task(rows)
    lines += ["![all tasks](success.png)", ""]
    lines += [f"- {task}: [{task.lower()}/results.md]({task.lower()}/results.md)"
              for task in tasks]
    path.write_text("\n".join(lines) + "\n")


def _by_task(rows: list[dict]) -> list[str]:
    """The same final figures as one row per task and one column per algorithm (and variant),
    for comparing algorithms at a glance; a cell with fewer seeds than the most common count
    says how many it has (a sweep still running)."""
    def label(r: dict) -> str:
        return r["algo"] + (f" {r['variant']}" if r["variant"] else "")

    labels = list(dict.fromkeys(label(r) for r in rows))
    if len(labels) < 2:
        return []
    counts = [r["seeds"] for r in rows]
    seeds = max(set(counts), key=counts.count)
    cells, teacher = {}, {}
    for r in rows:
        mean, std = r["final_success_raw"]
        cells[r["task"], label(r)] = (f"{mean:.2f} +- {std:.2f} / {r['final_length_mean']}"
                                   + ("" if r["seeds"] == seeds else
                                      f" ({r['seeds']} seed{'' if r['seeds'] == '1' else 's'})"))
        teacher[r["task"]] = f"{float(r['teacher_success']):.2f} / {r['teacher_length']}"
    lines = ["Final success +- std / mean episode length by task (the teacher alone: teacher.json);"
             f" {seeds} seeds unless a cell says otherwise:", "",
             f"| task | teacher | {' | '.join(labels)} |", "|---" * (len(labels) + 2) + "|"]
    for task in teacher:
        lines.append(f"| {task} | {teacher[task]} | "
                     + " | ".join(cells.get((task, label), "-") for label in labels) + " |")
    return [*lines, ""]
