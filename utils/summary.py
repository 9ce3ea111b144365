"""bench/results/summary.csv: one row per (task, algorithm, variant) of the studies the README
quotes, computed from their committed runs (never typed by hand).

A study is a `main.py sweep` (or the older bench/reproduce.py) output directory: runs under
<study>/log/, and the teacher's line per task in <study>/teacher.json (measured and written there
when missing).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from collections import defaultdict
from functools import cache
from pathlib import Path

from utils.config import TrainConfig
from utils.curves import Run, load_runs, summarise
from utils.presets import ORIGINAL_PRESET, upgrade
from utils.schedule_flags import from_old_flags

COLUMNS = ("task", "algo", "variant", "seeds", "budget", "final_success_mean",
           "final_success_std", "final_length_mean", "teacher_success", "teacher_length",
           "steps_to_0.5", "steps_to_0.9", "study")
TEACHER_FILE = "teacher.json"


def measure_teacher(task: str, episodes: int = 100) -> dict[str, float]:
    """The teacher alone (hard planner, shipped answers) on the first ``episodes`` held-out
    rooms: the rooms every student evaluation uses, and more."""
    from algos.evaluate import run_episodes
    from planners.answers import AnswerBook
    from planners.planner import Planner
    from planners.teacher import Teacher, TeacherPolicy

    teacher = Teacher(task, Planner(task, AnswerBook.load(task)))
    s = run_episodes(TeacherPolicy(teacher), task, episodes, num_envs=16).summary()
    return {"task": task, "episodes": episodes, "success": s["Success Rate"],
            "length": s["Eplen"]}


def study_teacher(study: Path, task: str, episodes: int = 100) -> dict[str, float]:
    """The task's entry of <study>/teacher.json (one entry, or a list of them for a study of
    several tasks), measured and added first if it is missing."""
    from envs import resolve_task

    task = resolve_task(task)
    path = study / TEACHER_FILE
    known = []
    if path.exists():
        data = json.loads(path.read_text())
        known = data if isinstance(data, list) else [data]
        for teacher in known:
            if teacher["task"] == task:
                return teacher
    teacher = measure_teacher(task, episodes)
    known.append(teacher)
    path.write_text(json.dumps(known[0] if len(known) == 1 else known, indent=1) + "\n")
    return teacher


def _config(run: Run) -> dict:
    return upgrade(json.loads((run.path / "config.json").read_text()))


# config keys that say where a run lives, how long it runs and how it is watched, not how
# it learns: a run with every other key at its default has the default settings
NOT_SETTINGS = {"task", "savedir", "loaddir", "logdir", "policy", "algo", "seed_list", "seed",
                "n_itr", "total_env_steps", "preset", "device", "num_threads", "num_eval",
                "eval_interval", "eval_every_steps", "save_interval", "print_interval",
                "deterministic", "num_videos", "target_success", "target_evals"}


@cache
def _map_size(task: str) -> int:
    from envs import make_env

    env = make_env(task)
    w, h, _ = env.observation_space.shape
    env.close()
    return max(w, h)


def _effective(cfg: dict) -> dict:
    """The settings as the network saw them: --ego_radius as the window it kept (0, or a radius
    the map is smaller than, keeps the whole map), and nothing for an input that is not
    egocentric."""
    if cfg.get("obs_encoding") != "egocentric":
        return {**cfg, "ego_radius": None}
    whole = _map_size(cfg["task"]) - 1
    return {**cfg, "ego_radius": min(cfg["ego_radius"], whole) if cfg["ego_radius"] else whole}


def variant(run: Run) -> str:
    """"" for a run with the default settings; else the part of its label after the algorithm
    (`main.py sweep`'s --variant NAME), prefixed with "original" when it ran with the
    original's settings (--preset original: raw input, constant lr, iteration schedules). An
    unnamed run that differs from today's defaults (a default changed since it ran) is named by
    what differs, as KEY=VALUE; a named one adds KEY=VALUE for the flags that did not exist
    when it ran. --ego_radius is compared as the window the network saw."""
    saved = json.loads((run.path / "config.json").read_text())
    saved.update(from_old_flags(saved))  # the schedules' flags say what its old flags said
    cfg = upgrade(saved)  # what _config gives, with the saved keys kept apart
    have, want = _effective(cfg), _effective({**TrainConfig().to_dict(), "task": cfg["task"]})
    settings = [k for k in TrainConfig.__dataclass_fields__ if k not in NOT_SETTINGS]
    differ = [k for k in settings if have.get(k, want[k]) != want[k]]
    if not differ:
        return ""
    name = run.algo.partition("-")[2]
    original = all(cfg.get(k) == v for k, v in ORIGINAL_PRESET.items()
                   if k not in ("total_env_steps", "target_success"))
    if not (name or original):
        return " ".join(f"{k}={have[k]}" for k in differ)
    # a named run also says what it had of a flag added since it ran (its name's flags could
    # not have set it), unless the original's settings say it
    since = [f"{k}={have[k]}" for k in differ
             if k not in saved and have[k] is not None  # None: not for this input
             and not (original and k in ORIGINAL_PRESET)]
    return " ".join(["-".join(filter(None, ["original" if original else "", name])), *since])


def _steps(x: float) -> str:
    return "" if math.isnan(x) else str(round(x))  # NaN: never reached


# Studies run before 2026-12-04 played other rooms on these tasks than today's (the original
# code's rooms since): their rows carry this label instead of the task's name. Their
# ColoredDoorKey was a random-colour task, today's RandomColoredDoorKey (docs/method.md, 1).
OLD_ROOMS_LABELS = {"SimpleDoorKey": "SimpleDoorKey (old rooms)",
                    "LavaDoorKey": "LavaDoorKey (old rooms)",
                    "ColoredDoorKey": "RandomColoredDoorKey (old rooms)",
                    "TwoDoor": "TwoDoor (old rooms)"}


def study_rows(study: Path, old_rooms: bool = False) -> list[dict]:
    """One row per (task, algorithm, variant) of one study; ``old_rooms``: the study ran on the
    rooms of before 2026-12-04 (OLD_ROOMS_LABELS)."""
    runs = [r for r in load_runs(study / "log") if r.steps]
    groups: dict[tuple[str, str, str], list[Run]] = defaultdict(list)
    for r in runs:
        groups[(_config(r)["task"], r.algo.partition("-")[0], variant(r))].append(r)
    rows = []
    for (task, algo, var), rs in sorted(groups.items()):
        t = summarise([dataclasses.replace(r, algo=algo) for r in rs])[algo]
        teacher = study_teacher(study, task)
        label = OLD_ROOMS_LABELS.get(task, task) if old_rooms else task
        rows.append({
            "task": label, "algo": algo, "variant": var, "seeds": str(t["seeds"]),
            "budget": str(max(_config(r)["total_env_steps"] for r in rs)),
            "final_success_mean": f"{t['final_success']:.3f}",
            "final_success_std": f"{t['final_success_std']:.3f}",
            "final_length_mean": f"{t['final_length']:.1f}",
            "teacher_success": f"{teacher['success']:.3f}",
            "teacher_length": f"{teacher['length']:.1f}",
            "steps_to_0.5": _steps(t["to_0.5"]), "steps_to_0.9": _steps(t["to_0.9"]),
            "study": study.name,
            # unrounded, for tables that round to 2 places: re-rounding the 3-place strings
            # above can differ (0.0249 -> "0.025" -> "0.03") from the per-task tables' "0.02"
            "final_success_raw": (t["final_success"], t["final_success_std"])})
    return rows


def write_summary(studies: list[Path], out: Path, variants_only: frozenset[Path] = frozenset(),
                  old_rooms: frozenset[Path] = frozenset()) -> list[dict]:
    """Rows of every study into ``out``; two studies giving the same (task, algo, variant) is an
    error (the summary has one row per key). Of a study in ``variants_only`` only the variants
    count: its default-settings runs are the control of an ablation that another study's row
    already stands for. Studies in ``old_rooms`` ran on the rooms of before 2026-12-04."""
    rows, seen = [], {}
    for study in studies:
        for row in study_rows(study, study in old_rooms):
            if study in variants_only and not row["variant"]:
                continue
            key = (row["task"], row["algo"], row["variant"])
            if key in seen:
                raise ValueError(f"{seen[key]} and {study.name} both give {'/'.join(key)}: "
                                 "list one of them, or name a variant")
            seen[key] = study.name
            rows.append(row)
    write_rows(out, rows)
    return rows


def write_rows(path: Path, rows: list[dict]) -> None:
    """summary.csv: ``rows`` under the COLUMNS header (other keys, e.g. final_success_raw, dropped)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
