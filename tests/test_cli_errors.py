"""Bad input: one clear line on stderr and exit code 2, never a traceback. Atomic saves."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from main import main
from tests.conftest import ROOT, TINY
from utils.checkpoint import load_checkpoint, save_checkpoint
from utils.errors import UserError


def run_main(capsys, args: list[str]) -> tuple[int, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = capsys.readouterr().err.strip()
    return code, err


def one_line(err: str) -> str:
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("error:"), err
    return err


def test_unknown_task_lists_the_valid_ones(capsys, logdir: Path):
    code, err = run_main(capsys, ["train", "--task", "DoorKeyy", "--savedir", "x",
                                  "--logdir", str(logdir)])
    assert code == 2
    assert "DoorKeyy" in one_line(err) and "SimpleDoorKey" in err and "DynamicDoorKey" in err


@pytest.mark.parametrize("flag,value", [("--n_itr", "0"), ("--batch_size", "-1"),
                                        ("--num_envs", "0"), ("--traj_per_itr", "-3"),
                                        ("--num_eval", "0"), ("--frame_stack", "0"),
                                        ("--llm_max_tokens", "0")])
def test_zero_or_negative_sizes(capsys, logdir: Path, flag: str, value: str):
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "x",
                                  "--logdir", str(logdir), flag, value])
    assert code == 2
    assert flag in one_line(err) and value in err and "positive" in err
    assert not logdir.exists()


@pytest.mark.parametrize("args", [["--n_itr", "ten"], ["--algo", "sac"], ["--bogus", "1"]])
def test_malformed_flags(capsys, logdir: Path, args: list[str]):
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "x", *args])
    assert code == 2
    one_line(err)
    assert args[0].lstrip("-") in err or args[1] in err


def test_eval_without_a_training_run(capsys, logdir: Path):
    code, err = run_main(capsys, ["eval", "--task", "SimpleDoorKey", "--loaddir", "nothere",
                                  "--savedir", "e", "--logdir", str(logdir)])
    assert code == 2 and "nothere" in one_line(err) and "train first" in err


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory) -> Path:
    """The logdir of one tiny run, trained once for this module's tests."""
    logdir = tmp_path_factory.mktemp("trained") / "log"
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "t", "--logdir", str(logdir),
                 *TINY]) == 0
    return logdir


@pytest.fixture
def trained(logdir: Path, trained_once: Path) -> Path:
    """A copy of that run of the test's own: the test may damage it."""
    shutil.copytree(trained_once, logdir)
    return logdir / "ppo" / "simpledoorkey" / "t"


def eval_args(logdir: Path, task: str = "SimpleDoorKey", loaddir: str = "t") -> list[str]:
    return ["eval", "--task", task, "--loaddir", loaddir, "--savedir", "e", "--logdir",
            str(logdir), "--num_eval", "2", "--num_videos", "0"]


def test_empty_checkpoint(capsys, trained: Path):
    (trained / "acmodel.pt").write_bytes(b"")
    code, err = run_main(capsys, eval_args(trained.parents[2]))
    assert code == 2 and "empty" in one_line(err)


def test_corrupt_checkpoint(capsys, trained: Path):
    rng = random.Random(0)
    # garbage makes torch.load raise many exception types
    for size in (1, 7, 100, 2000, 50_000, 2000, 2000, 2000):
        (trained / "acmodel.pt").write_bytes(rng.randbytes(size))
        code, err = run_main(capsys, eval_args(trained.parents[2]))
        assert code == 2 and "corrupt" in one_line(err)


def test_truncated_checkpoint(capsys, trained: Path):
    data = (trained / "acmodel.pt").read_bytes()
    (trained / "acmodel.pt").write_bytes(data[: len(data) // 2])
    code, err = run_main(capsys, eval_args(trained.parents[2]))
    assert code == 2 and "corrupt" in one_line(err)


def test_a_pickled_module_is_refused(capsys, trained: Path):
    torch.save(torch.nn.Linear(2, 2), trained / "acmodel.pt")  # the original's habit
    code, err = run_main(capsys, eval_args(trained.parents[2]))
    assert code == 2 and "acmodel.pt" in one_line(err)


def test_checkpoint_of_another_task(capsys, trained: Path):
    logdir = trained.parents[2]
    other = logdir / "ppo" / "lavadoorkey" / "t"
    other.mkdir(parents=True)
    shutil.copy(trained / "acmodel.pt", other / "acmodel.pt")
    code, err = run_main(capsys, eval_args(logdir, task="LavaDoorKey"))
    assert code == 2 and "SimpleDoorKey" in one_line(err) and "LavaDoorKey" in err
    code, err = run_main(capsys, ["train", "--task", "LavaDoorKey", "--savedir", "t",
                                  "--logdir", str(logdir), *TINY])
    assert code == 2 and "SimpleDoorKey" in one_line(err)


def test_unwritable_logdir(capsys, tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "x",
                                  "--logdir", str(blocker / "log"), *TINY])
    assert code == 2 and "cannot create directory" in one_line(err)


def test_bad_run_names(capsys, logdir: Path):
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "../up",
                                  "--logdir", str(logdir)])
    assert code == 2 and "--savedir" in one_line(err)


def test_cli_error_has_no_traceback_in_a_real_process(tmp_path: Path):
    proc = subprocess.run([sys.executable, "main.py", "train", "--task", "nope", "--savedir", "x",
                           "--logdir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown task 'nope'" in proc.stderr


def test_atomic_save_keeps_the_old_checkpoint_when_writing_fails(tmp_path: Path, monkeypatch):
    path = tmp_path / "acmodel.pt"
    good = {"model": {"w": torch.ones(2)}, "config": {"task": "SimpleDoorKey"},
            "counters": {"iteration": 1}}
    save_checkpoint(path, good)

    def dies_halfway(obj, f, *a, **k):
        f.write(b"partial data")
        raise KeyboardInterrupt  # e.g. a kill arriving mid-write

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {**good, "counters": {"iteration": 2}})
    monkeypatch.undo()
    assert load_checkpoint(path)["counters"]["iteration"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["acmodel.pt"]  # no temp file left over
    with pytest.raises(UserError):
        load_checkpoint(path, task="TwoDoor")


@pytest.mark.parametrize("args,named", [
    (["--total_env_steps", "1000", "--guidance", "linear:1.5"], "--guidance 'linear:1.5'"),
    (["--total_env_steps", "1000", "--imitation", "0.3", "--kickstart", "linear:0.2"],
     "--kickstart linear:0.2 must end after --imitation 0.3")])
def test_schedule_fractions_are_fractions_in_order(capsys, logdir: Path, args: list[str],
                                                   named: str):
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "x",
                                  "--logdir", str(logdir), *args])
    assert code == 2 and named in one_line(err)


def test_negative_ego_radius_is_refused(capsys, logdir: Path):
    code, err = run_main(capsys, ["train", "--task", "SimpleDoorKey", "--savedir", "x",
                                  "--logdir", str(logdir), "--ego_radius", "-1"])
    assert code == 2 and "--ego_radius -1 is invalid: it must be >= 0" in one_line(err)
