"""curves.png tells teacher-guided train episodes from the student's own."""

from __future__ import annotations

import csv
from pathlib import Path

from main import main
from tests.conftest import ROOT
from utils.plots import PLOT_NAME, _guided, plot_run


def test_guided_iterations_are_told_apart(tmp_path: Path) -> None:
    keys = ["iteration", "env_steps", "Train/Success Rate", "Train/Return Mean",
            "Train/Guidance Coef", "Train/Phase", "Test/Success Rate", "Test/Return Mean"]
    rows = [[1, 600, 1.0, 0.9, 1.0, 0.0, "", ""], [2, 1200, 0.9, 0.8, 0.5, 1.0, 0.2, 0.1],
            [3, 1800, 0.1, 0.05, 0.0, 1.0, "", ""]]
    with open(tmp_path / "progress.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        w.writerows(rows)
    with open(tmp_path / "progress.csv", newline="") as f:
        read = list(csv.DictReader(f))
    assert _guided(read) == [True, True, False]
    assert _guided([{"iteration": "1"}]) == [False]  # PPO: no guidance column
    assert plot_run(tmp_path, "ihac") == tmp_path / PLOT_NAME and (tmp_path / PLOT_NAME).stat().st_size


def test_plot_compares_committed_runs_and_an_out_that_is_a_file_is_one_line(
        tmp_path: Path, capsys) -> None:
    """`main.py plot` on runs as committed (the slow tier plots freshly trained ones)."""
    runs = ROOT / "bench" / "results" / "grid-before-original-rooms" / "log" / "ppo" / \
        "coloreddoorkey"
    out = tmp_path / "cmp"
    assert main(["plot", "--runs", str(runs), "--out", str(out)]) == 0
    assert "9 runs -> " in capsys.readouterr().out
    assert "| ihac | 3 | 200k | not reached | 0.53 +- 0.02 |" in (out / "results.md").read_text()
    with open(out / "evaluations.csv", newline="") as f:
        assert {row["algo"] for row in csv.DictReader(f)} == {"ihac", "llm4teach", "ppo"}
    assert (out / "success.png").stat().st_size > 0
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert main(["plot", "--runs", str(runs), "--out", str(taken)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"--out {taken} is a file" in err and "\n" not in err and taken.read_text() == "mine"
