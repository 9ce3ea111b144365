"""curves.png tells teacher-guided train episodes from the student's own."""

from __future__ import annotations

import csv
from pathlib import Path

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
