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
    return (cfg.obs_encoding, cfg.lr_schedule, cfg.total_env_steps, cfg.imitation_frac,
            cfg.guide_end_frac, cfg.ks_end_frac, cfg.trunk_pool)


def test_the_defaults_hand_the_student_over_within_the_budget():
    assert settings() == ("egocentric", "linear", 300_000, 0.1, 0.3, 0.5, "none")


def test_preset_original_restores_the_originals_settings_and_given_flags_win():
    assert settings("--preset", "original") == ("raw", "constant", 0, 0.0, 0.0, 0.0, "none")
    assert settings("--trunk_pool", "max", "--preset", "original")[-1] == "max"
    assert settings("--preset", "original", "--obs_encoding", "onehot", "--total_env_steps",
                    "5000", "--ks_end_frac", "0.4", "--trunk_pool", "max") == (
        "onehot", "constant", 5000, 0.0, 0.0, 0.4, "max")


def test_an_iteration_schedule_given_explicitly_replaces_its_fraction():
    assert settings("--imitation_itr", "20") == ("egocentric", "linear", 300_000, 0.0, 0.3, 0.5,
                                                 "none")
    assert settings("--guide_decay", "0.9", "--ks_updates", "100")[3:6] == (0.1, 0.0, 0.0)


@pytest.mark.parametrize("flags, expected", [
    (["--imitation_itr", "5", "--imitation_frac", "0.2"],
     "--imitation_frac and --imitation_itr are two schedules for one thing"),
    (["--total_env_steps", "0"], "--imitation_frac 0.1 is a fraction of --total_env_steps, "
                                 "which is 0"),
])
def test_contradicting_schedules_are_one_clear_error(capsys, tmp_path: Path, flags, expected):
    code = main([*BASE, "--logdir", str(tmp_path), *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and "\n" not in err
    assert expected in err


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
