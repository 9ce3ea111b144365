"""The defaults, --preset original, explicit flags winning over both, and runs saved before the
defaults changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from main import main
from tests.conftest import TINY
from utils.checkpoint import load_checkpoint, save_checkpoint
from utils.cli import parse_config

BASE = ["train", "--task", "SimpleDoorKey", "--savedir", "x"]


def settings(*flags: str) -> tuple:
    cfg = parse_config([*BASE, *flags])[1]
    return (cfg.obs_encoding, cfg.lr_schedule, cfg.total_env_steps, cfg.imitation, cfg.guidance,
            cfg.kickstart, cfg.trunk_pool)


def test_the_defaults_hand_the_student_over_within_the_budget():
    assert settings() == ("egocentric", "linear", 300_000, "0.1", "linear:0.3", "linear:0.5",
                          "none")


def test_preset_original_restores_the_originals_settings_and_given_flags_win():
    assert settings("--preset", "original") == ("raw", "constant", 0, "0.1", "decay:0.99/10",
                                                "step:0.005/0.1/3000", "none")
    assert settings("--trunk_pool", "max", "--preset", "original")[-1] == "max"
    assert settings("--preset", "original", "--obs_encoding", "onehot", "--total_env_steps",
                    "5000", "--kickstart", "linear:0.4", "--trunk_pool", "max") == (
        "onehot", "constant", 5000, "0.1", "decay:0.99/10", "linear:0.4", "max")


def test_the_originals_imitation_is_a_tenth_of_its_iterations():
    """--preset original has no env-step budget: --imitation 0.1 is then a tenth of --n_itr, as
    the original's n_itr / 10; with a budget it is a tenth of the env steps."""
    from algos.schedules import imitation_iterations

    assert imitation_iterations(parse_config([*BASE, "--preset", "original"])[1]) == 2000
    assert imitation_iterations(parse_config([*BASE, "--preset", "original", "--n_itr",
                                              "37"])[1]) == 3
    assert imitation_iterations(parse_config([*BASE, "--imitation", "30itr"])[1]) == 30
    assert imitation_iterations(parse_config(BASE)[1]) is None  # counted in env steps


@pytest.mark.parametrize("flags, expected", [
    (["--imitation_itr", "5"], "--imitation_itr is gone: each schedule is one flag now, "
                               "--imitation Nitr"),
    (["--ks_end_frac=0.4"], "--ks_end_frac is gone: each schedule is one flag now, "
                            "--kickstart linear:F"),
    (["--kickstart", "linear:0.1", "--imitation", "0.2"],
     "--kickstart linear:0.1 must end after --imitation 0.2"),
    (["--guidance", "decay:0.9"], "--guidance 'decay:0.9' is invalid: give linear:F"),
    (["--imitation=-3itr"], "--imitation '-3itr' is invalid"),
    (["--kickstart", "step:0.1/0/nan"], "--kickstart 'step:0.1/0/nan' is invalid"),
])
def test_schedules_given_wrongly_are_one_clear_error(capsys, tmp_path: Path, flags, expected):
    code = main([*BASE, "--logdir", str(tmp_path), *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "\n" not in err
    assert expected in err
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_a_run_saved_before_the_new_defaults_is_read_as_it_was(logdir: Path, capsys):
    # a raw-input run whose config predates --obs_encoding (as runs did before it existed)
    common = ["--task", "SimpleDoorKey", "--logdir", str(logdir), "--savedir", "old"]
    assert main(["train", *common, "--preset", "original", *TINY]) == 0
    run = logdir / "ppo" / "simpledoorkey" / "old"
    state = load_checkpoint(run / "acmodel.pt", task="SimpleDoorKey")
    for key in ("obs_encoding", "lr_schedule", "preset"):
        del state["config"][key]
    save_checkpoint(run / "acmodel.pt", state)
    cfg = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({k: v for k, v in cfg.items()
                                                 if k != "obs_encoding"}))
    assert state["model"]["conv.0.weight"].shape[1] == 4  # raw codes
    # eval rebuilds the raw network
    assert main(["eval", "--task", "SimpleDoorKey", "--logdir", str(logdir), "--loaddir", "old",
                 "--savedir", "e", "--num_eval", "2", "--num_videos", "0"]) == 0
    capsys.readouterr()
    # resuming with today's defaults is refused, naming the flag that resumes it
    assert main(["train", *common, *TINY, "--n_itr", "3"]) == 2
    assert "give --obs_encoding raw to resume it" in capsys.readouterr().err
    assert main(["train", *common, "--preset", "original", *TINY, "--n_itr", "3"]) == 0
    assert torch.load(run / "acmodel.pt", weights_only=True)["counters"]["iteration"] == 3
