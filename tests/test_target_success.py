"""--target_success / --target_evals: a run stops once the student alone has reached the target
in that many evaluations in a row (the default: 0.9 twice), and trains its whole budget with 0.

The evaluation's outcome is scripted here (the real evaluation is tested in test_held_out.py and
test_train.py) so that the stop is certain on any CPU."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import algos.trainer
from algos.evaluate import EvalResult
from envs.vector import Episode
from main import main
from utils.checkpoint import CHECKPOINT_NAME, load_checkpoint

BASE = ["train", "--task", "SimpleDoorKey", "--algo", "ppo", "--num_envs", "4",
        "--traj_per_itr", "2", "--batch_size", "32", "--num_eval", "10", "--eval_interval", "1",
        "--save_interval", "100", "--n_itr", "8"]


@pytest.fixture
def successes(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Success rates the evaluations return, in order (then 0.0)."""
    script: list[float] = []

    def evaluate(model, task, num_episodes, **kw) -> EvalResult:
        rate = script.pop(0) if script else 0.0
        won = round(rate * num_episodes)
        return EvalResult([Episode(1.0 if k < won else 0.0, 20, k < won, 1_000_000 + k)
                           for k in range(num_episodes)])

    monkeypatch.setattr(algos.trainer, "evaluate", evaluate)
    return script


def iterations(run: Path) -> list[int]:
    with open(run / "progress.csv") as f:
        return [int(r["iteration"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_the_run_stops_after_the_target_twice_in_a_row(tmp_path: Path, successes, capsys):
    successes += [0.5, 1.0, 0.8, 1.0, 0.5, 0.9, 1.0]  # >= 0.9 twice in a row first at 6, 7
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "s"]) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "s"
    assert iterations(run) == [1, 2, 3, 4, 5, 6, 7]
    out = capsys.readouterr().out
    assert "solved: the student alone reached 2 evaluations in a row at success >= 0.9" in out
    finished = json.loads((run / "finished.json").read_text())
    assert finished["iteration"] == 7 and finished["target_streak"] == 2
    assert load_checkpoint(run / CHECKPOINT_NAME)["counters"]["iteration"] == 7
    # a solved run is finished; --target_success 0 trains it on to its budget
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "s"]) == 2
    assert "--target_success 0 (or a higher one) to train on" in capsys.readouterr().err
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "s",
                 "--target_success", "0"]) == 0
    assert iterations(run) == list(range(1, 9))


@pytest.mark.slow
def test_target_zero_and_other_targets(tmp_path: Path, successes) -> None:
    successes += [1.0] * 8
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "off",
                 "--target_success", "0"]) == 0
    assert iterations(tmp_path / "ppo" / "simpledoorkey" / "off") == list(range(1, 9))
    successes[:] = [1.0] * 8
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "three",
                 "--target_evals", "3"]) == 0
    assert iterations(tmp_path / "ppo" / "simpledoorkey" / "three") == [1, 2, 3]


@pytest.mark.parametrize("flags", [["--target_success", "1.5"], ["--target_success", "nan"],
                                   ["--target_evals", "0"]])
def test_bad_targets_are_one_line(tmp_path: Path, capsys, flags) -> None:
    assert main([*BASE, "--logdir", str(tmp_path), "--savedir", "b", *flags]) == 2
    assert flags[0] in capsys.readouterr().err
