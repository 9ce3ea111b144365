"""An ablation study through `main.py sweep` (variants, flags for every run), and
bench/summary.py over it: the rows the README quotes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from utils.config import TrainConfig
from utils.curves import Run
from utils.summary import variant

TINY_RUN = ["--traj_per_itr", "2", "--batch_size", "32", "--num_envs", "4", "--imitation", "1itr",
            "--save_interval", "1"]


@pytest.mark.slow
def test_ablation_variants_run_with_their_flags_and_are_compared(tmp_path: Path):
    out = tmp_path / "abl"
    cmd = [sys.executable, str(ROOT / "main.py"), "sweep", "--task", "SimpleDoorKey",
           "--algos", "ihac", "--seeds", "0", "--budget", "600", "--eval_every", "300",
           "--num_eval", "2", "--teacher_episodes", "4", "--cpus", "2", "--out", str(out),
           "--variant", "student_ratio=--ratio_wrt student", "--variant", "no_guidance=--guide_coef 0",
           "--variant", "orig=--preset original", "--", *TINY_RUN]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    runs = out / "log" / "ppo" / "simpledoorkey"
    assert sorted(p.name for p in runs.iterdir()) == ["ihac-no_guidance_seed0", "ihac-orig_seed0",
                                                      "ihac-student_ratio_seed0"]
    cfg = json.loads((runs / "ihac-student_ratio_seed0" / "config.json").read_text())
    assert cfg["ratio_wrt"] == "student" and cfg["guide_coef"] == 1.0 and cfg["num_envs"] == 4
    cfg = json.loads((runs / "ihac-no_guidance_seed0" / "config.json").read_text())
    assert cfg["ratio_wrt"] == "behaviour" and cfg["guide_coef"] == 0.0
    table = (out / "simpledoorkey" / "results.md").read_text()
    assert "| ihac-student_ratio | 1 |" in table and "| ihac-no_guidance | 1 |" in table
    with open(out / "evaluations.csv", newline="") as f:
        labels = {row["algo"] for row in csv.DictReader(f)}
    assert labels == {"ihac-student_ratio", "ihac-no_guidance", "ihac-orig"}
    assert (out / "success.png").stat().st_size > 0
    assert "--variant" in (out / "command.txt").read_text()
    teacher = json.loads((out / "teacher.json").read_text())
    assert teacher["task"] == "SimpleDoorKey" and teacher["episodes"] == 4

    # the summary the README quotes, computed from these runs
    summary = tmp_path / "summary.csv"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "summary.py"), "--studies",
                           str(out), "--out", str(summary)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(summary, newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    # --preset original (raw input, constant lr, iteration schedules) is named as such
    assert sorted(rows) == ["no_guidance", "original-orig", "student_ratio"]
    row = rows["student_ratio"]
    assert (row["task"], row["algo"], row["seeds"], row["budget"]) == ("SimpleDoorKey", "ihac",
                                                                        "1", "600")
    assert float(row["teacher_success"]) == teacher["success"]
    with open(out / "evaluations.csv", newline="") as f:
        curve = [(int(r["env_steps"]), float(r["success_rate"])) for r in csv.DictReader(f)
                 if r["algo"] == "ihac-student_ratio"]
    assert float(row["final_success_mean"]) == curve[-1][1]
    assert row["steps_to_0.5"] == next((str(s) for s, sr in curve if sr >= 0.5), "")
    # one row per (task, algo, variant): the same study twice is refused in one line
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "summary.py"), "--studies",
                           str(out), str(out), "--out", str(summary)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "both give SimpleDoorKey/ihac/" in done.stderr



def test_committed_summary_is_what_the_committed_runs_give(tmp_path: Path):
    """bench/results/summary.csv (which the README quotes) is never edited by hand: rebuilt from
    the committed runs of the studies in summary_studies.txt, it comes out byte for byte."""
    out = tmp_path / "summary.csv"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "summary.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_text() == (ROOT / "bench" / "results" / "summary.csv").read_text()


# a run saved before each schedule was one flag: no --imitation/--guidance/--kickstart keys
OLD_SCHEDULES = {"imitation": None, "guidance": None, "kickstart": None}


@pytest.mark.parametrize("task, label, settings, expected", [
    ("SimpleDoorKey", "ihac", {}, ""),                                      # today's defaults
    ("SimpleDoorKey", "ihac", {"ego_radius": None}, ""),  # before --ego_radius: the whole map,
    ("SimpleDoorKey", "ihac", {"ego_radius": 0}, ""),     # which on a 10 x 10 room is radius 9
    ("TwoDoor", "ihac", {"ego_radius": 0}, "ego_radius=19"),                # not on TwoDoor's
    ("SimpleDoorKey", "ihac", {"ego_radius": 5}, "ego_radius=5"),           # unnamed: says what
    ("SimpleDoorKey", "ihac", {"lr": 3e-4, "gae": True}, "lr=0.0003 gae=True"),
    ("SimpleDoorKey", "ihac-radius5", {"ego_radius": 5}, "radius5"),        # named: its name
    ("SimpleDoorKey", "ihac-radius5", {"obs_encoding": "raw", "ego_radius": 5}, "radius5"),
    ("SimpleDoorKey", "ihac", {"trunk_pool": None}, ""),  # before --trunk_pool: none, the default
    ("SimpleDoorKey", "ihac", {"trunk_pool": "max"}, "trunk_pool=max"),
    ("SimpleDoorKey", "ihac-radius5", {"ego_radius": 5, "head_activation": None,  # named, and
                                       "global_pool": None}, "radius5"),  # flags since: defaults
    ("SimpleDoorKey", "ihac-radius5", {"ego_radius": 5, "obs_encoding": None},  # a flag added
     "radius5 obs_encoding=raw"),                          # since it ran, not at its default
    ("SimpleDoorKey", "ihac-orig", {"obs_encoding": "raw", "lr_schedule": "constant",
                                    "guidance": "decay:0.99/10",
                                    "kickstart": "step:0.005/0.1/3000", "trunk_pool": "none"},
     "original-orig"),
    # runs saved before each schedule was one flag: their ten flags say what they did
    ("SimpleDoorKey", "ihac-orig", {"obs_encoding": "raw", "lr_schedule": "constant",
                                    **OLD_SCHEDULES, "imitation_frac": 0.0, "imitation_itr": -1,
                                    "guide_end_frac": 0.0, "ks_end_frac": 0.0,
                                    "trunk_pool": None}, "original-orig"),
    ("SimpleDoorKey", "ihac", {**OLD_SCHEDULES, "imitation_frac": 0.1, "guide_end_frac": 0.3,
                               "ks_end_frac": 0.5}, ""),  # the defaults then are today's
    ("SimpleDoorKey", "ihac", {**OLD_SCHEDULES, "imitation_frac": 0.1, "guide_end_frac": 0.0,
                               "guide_decay": 0.9, "guide_decay_every": 5, "ks_end_frac": 0.5},
     "guidance=decay:0.9/5"),
])
def test_a_runs_variant_says_how_it_differs_from_todays_defaults(
        tmp_path: Path, task: str, label: str, settings: dict, expected: str):
    """summary.csv's variant column: a run counts as today's defaults only if it learnt with them
    (--ego_radius compared as the window the network saw)."""
    cfg = {**TrainConfig(task=task).to_dict(), **settings}
    for key in [k for k, v in settings.items() if v is None]:
        del cfg[key]  # a run saved before the flag existed
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    run = Run(label, 0, tmp_path, [], [], [], 0.0)
    assert variant(run) == expected
