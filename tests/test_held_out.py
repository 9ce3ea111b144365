"""Evaluations play exactly the documented held-out rooms, and no training run ever plays one.

The held-out rooms are env seeds 1,000,000 + k (k < num_eval): the student alone, inside `train`
and in `eval`, and the teacher alone (`eval --eval_teacher`). Training envs are first reset with
seed + 10000 * i and then continue their own random streams (reset without a seed).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import algos.evaluate
import algos.trainer
from envs.vector import EVAL_SEED_BASE, HELD_OUT_SEEDS, VecEnv
from main import main
from tests.conftest import TINY


def spy(kind: str, log: dict[str, list]) -> type[VecEnv]:
    """A VecEnv that records the seed of every reset it makes (None: the env's own stream)."""

    class Recording(VecEnv):
        def _reset_env(self, i: int, first: bool) -> None:
            super()._reset_env(i, first)
            log[kind].append(self.seeds[i])

    return Recording


@pytest.fixture
def resets(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    log: dict[str, list] = {"train": [], "eval": []}
    monkeypatch.setattr(algos.trainer, "VecEnv", spy("train", log))
    monkeypatch.setattr(algos.evaluate, "VecEnv", spy("eval", log))
    return log


def episode_seeds(path: Path) -> list[int]:
    with open(path) as f:
        return [int(row["env_seed"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize("seed", [0, pytest.param(3, marks=pytest.mark.slow)])
def test_train_evaluates_on_the_held_out_rooms_and_never_trains_on_them(
        tmp_path: Path, resets: dict[str, list], seed: int) -> None:
    args = ["train", "--task", "SimpleDoorKey", "--logdir", str(tmp_path), "--savedir", "t",
            "--seed_list", str(seed), *TINY]
    assert main(args) == 0
    num_eval, num_envs, evaluations = 4, 4, 2  # TINY: --num_eval 4, --num_envs 4, 2 iterations
    first = [s for s in resets["train"] if s is not None]
    assert first == [seed + 10000 * i for i in range(num_envs)]
    assert resets["train"].count(None) > 0  # later rooms come from the envs' own streams
    # each evaluation: the first num_eval held-out rooms (the vector env may start a few more)
    played = resets["eval"]
    assert None not in played and all(s in HELD_OUT_SEEDS for s in played)
    starts = [i for i, s in enumerate(played) if s == EVAL_SEED_BASE]
    assert len(starts) == evaluations
    for k in starts:
        assert played[k:k + num_eval] == [EVAL_SEED_BASE + j for j in range(num_eval)]
    assert not set(first) & set(played)


@pytest.mark.slow
def test_eval_of_student_and_teacher_records_the_held_out_seeds(
        tmp_path: Path, resets: dict[str, list]) -> None:
    common = ["--task", "SimpleDoorKey", "--logdir", str(tmp_path), "--num_eval", "6",
              "--num_envs", "4"]
    assert main(["train", *common, "--savedir", "t", *TINY[:4]]) == 0
    assert main(["eval", *common, "--loaddir", "t", "--savedir", "student",
                 "--num_videos", "0"]) == 0
    assert main(["eval", *common, "--loaddir", "t", "--savedir", "teacher", "--eval_teacher",
                 "--offline_planner", "--num_videos", "0"]) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "t"
    held = [EVAL_SEED_BASE + k for k in range(6)]
    assert episode_seeds(run / "student" / "episodes.csv") == held
    assert episode_seeds(run / "teacher" / "episodes.csv") == held
    training = {s for s in resets["train"] if s is not None}
    assert training and not training & set(HELD_OUT_SEEDS[:100])


@pytest.mark.parametrize("flags", [["--seed_list", "1000000"],
                                   ["--seed_list", "990000", "--num_envs", "2"],
                                   ["--env_seed_list", "5", "1000003"]])
def test_a_training_seed_on_a_held_out_room_is_refused(tmp_path: Path, capsys, flags) -> None:
    args = ["train", "--task", "SimpleDoorKey", "--logdir", str(tmp_path), "--savedir", "t",
            *flags]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "held-out evaluation room" in err and "1,000,000 to 1,999,999" in err
    assert not (tmp_path / "ppo").exists()
