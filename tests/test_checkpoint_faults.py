"""Faults around checkpoints: a corrupt or unreadable checkpoint never costs a whole run (the one
before it is kept and used, with a note of what was lost), a write that fails (full disk, file
size limit) is one line with the checkpoints intact, and a sweep runs every other run."""

from __future__ import annotations

import csv
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from main import main
from tests.conftest import ROOT, TINY
from utils.checkpoint import CHECKPOINT_NAME, load_checkpoint, previous_path

TRAIN = ["train", "--task", "SimpleDoorKey", "--algo", "ppo", "--savedir", "r",
         *TINY[2:]]  # TINY without its --n_itr


def train(logdir: Path, n_itr: int) -> list[str]:
    return [*TRAIN, "--logdir", str(logdir), "--n_itr", str(n_itr)]


def iterations(run: Path) -> list[int]:
    with open(run / "progress.csv") as f:
        return [int(r["iteration"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_a_corrupt_checkpoint_resumes_from_the_one_before(tmp_path: Path, capsys) -> None:
    assert main(train(tmp_path, 3)) == 0  # checkpoints at 1, 2, 3 (--save_interval 1)
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    assert load_checkpoint(previous_path(run / CHECKPOINT_NAME))["counters"]["iteration"] == 2
    data = (run / CHECKPOINT_NAME).read_bytes()
    (run / CHECKPOINT_NAME).write_bytes(data[: len(data) // 3])  # a torn write
    capsys.readouterr()
    assert main(train(tmp_path, 5)) == 0
    out = capsys.readouterr().out
    assert "is corrupt" in out and "using the checkpoint before it (acmodel.prev.pt, " \
        "iteration 2); what came after it is lost" in out
    assert iterations(run) == [1, 2, 3, 4, 5]  # iteration 3 again, from 2's checkpoint
    assert load_checkpoint(run / CHECKPOINT_NAME)["counters"]["iteration"] == 5


@pytest.mark.slow
def test_no_usable_checkpoint_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert main(train(tmp_path, 2)) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    for path in (run / CHECKPOINT_NAME, previous_path(run / CHECKPOINT_NAME)):
        path.write_bytes(b"garbage")
    capsys.readouterr()
    assert main(train(tmp_path, 4)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "nothing here can be resumed" in err
    assert f"delete {run} (or use another --savedir) to start over" in err


def _limit_file_size() -> None:  # in the child: files up to 1 MB; writing more fails (EFBIG)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))


@pytest.mark.slow
def test_a_checkpoint_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    assert main(train(tmp_path, 1)) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    before = (run / CHECKPOINT_NAME).read_bytes()
    done = subprocess.run([sys.executable, "main.py", *train(tmp_path, 2)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=_limit_file_size)
    err = done.stderr.strip()
    assert done.returncode == 2, err
    assert "\n" not in err and "Traceback" not in err
    assert f"cannot write checkpoint {run / CHECKPOINT_NAME} (EFBIG: File too large)" in err
    assert "the checkpoints already there are intact" in err
    assert (run / CHECKPOINT_NAME).read_bytes() == before
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_a_sweep_runs_the_others_and_reports_the_broken_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "study"
    common = ["sweep", "--task", "SimpleDoorKey", "--algos", "ppo", "--budget", "600",
              "--eval_every", "600", "--num_eval", "4", "--teacher_episodes", "4", "--cpus", "2",
              "--out", str(out), "--", "--num_envs", "4", "--traj_per_itr", "2",
              "--batch_size", "32"]
    assert main([*common[:5], "--seeds", "0", *common[5:]]) == 0
    broken = out / "log" / "ppo" / "simpledoorkey" / "ppo_seed0"
    (broken / CHECKPOINT_NAME).write_bytes(b"garbage")
    (broken / "finished.json").unlink()
    capsys.readouterr()
    assert main([*common[:5], "--seeds", "0", "1", "--budget", "1200", *common[7:]]) == 2
    err = capsys.readouterr().err
    assert "1 runs failed: SimpleDoorKey/ppo_seed0" in err
    assert (out / "log" / "ppo" / "simpledoorkey" / "ppo_seed1" / "finished.json").exists()


def _limit_file_size_small() -> None:  # in the child: files up to 6 KB (the logs, not pickles)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (6 << 10, 6 << 10))


@pytest.mark.slow
def test_logs_that_cannot_be_written_are_one_line_and_cost_nothing_saved(tmp_path: Path) -> None:
    assert main(train(tmp_path, 1)) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    checkpoint, rows = (run / CHECKPOINT_NAME).read_bytes(), (run / "progress.csv").read_bytes()
    # no checkpoint before iteration 30: TensorBoard's events or progress.csv outgrow the limit
    # first
    argv = [*train(tmp_path, 30), "--save_interval", "100", "--eval_interval", "100"]
    done = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, preexec_fn=_limit_file_size_small)
    err = done.stderr.strip()
    assert done.returncode == 2, err
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith(f"error: cannot write {run}") and "(EFBIG: File too large)" in err
    assert "the last checkpoint included" in err
    assert (run / CHECKPOINT_NAME).read_bytes() == checkpoint
    assert (run / "progress.csv").read_bytes().startswith(rows)  # the saved rows are all there
    # without the limit the run resumes from its checkpoint, its curve unbroken
    assert main([*train(tmp_path, 3)]) == 0
    assert iterations(run) == [1, 2, 3]


TB_FULL = """
import sys
from pathlib import Path
from utils.errors import UserError
from utils.logger import RunLogger
keys = [f"Train/a long tag that TensorBoard repeats in each event {i}" for i in range(5)]
logger = RunLogger(Path(sys.argv[1]), keys)
try:
    for i in range(1000):
        logger.log(i, i, {k: 1.0 for k in keys})
except UserError as exc:
    print(exc)
logger.close()
"""


def test_a_refused_tensorboard_write_names_the_event_file(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", TB_FULL, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_limit_file_size_small)
    assert done.returncode == 0 and done.stderr == "", done.stderr  # no thread traceback
    events = next(tmp_path.glob("events.out.tfevents.*"))
    assert done.stdout.startswith(f"cannot write {events} (EFBIG: File too large)")
