"""What schedulers and users do to a run: SIGTERM, Ctrl-C, kill -9, the same command twice, two
evaluations into one directory. Nothing already saved is lost, nothing is logged twice."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from main import main
from tests.conftest import ROOT, TINY
from utils.checkpoint import load_checkpoint
from utils.interrupts import Interrupts
from utils.runlock import LOCK_NAME, RunLock, lock_holder

SMALL = ["--algo", "ppo", "--traj_per_itr", "2", "--batch_size", "32", "--num_envs", "4",
         "--num_eval", "2"]


def train_cmd(logdir: Path, *args: str) -> list[str]:
    return [sys.executable, "main.py", "train", "--task", "SimpleDoorKey", "--savedir", "r",
            "--logdir", str(logdir), *SMALL, *args]


def start_until(cmd: list[str], prefix: str) -> subprocess.Popen:
    """Start ``cmd`` and return once it printed a line starting with ``prefix``."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 180
    for line in proc.stdout:
        if line.startswith(prefix):
            return proc
        assert time.time() < deadline
    raise AssertionError(f"never printed {prefix!r}: {proc.communicate()[1]}")


def csv_rows(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as f:
        return list(csv.DictReader(f))


def event_steps(run: Path, tag: str) -> list[int]:
    """Every step logged for ``tag`` in every event file, as any reader of the files sees them
    (no purge markers honoured)."""
    steps = []
    for path in sorted(run.glob("events.out.tfevents.*")):
        for event in EventFileLoader(str(path)).Load():
            steps += [event.step for v in event.summary.value if v.tag == tag]
    return sorted(steps)


def assert_logged_once(run: Path) -> None:
    """Iterations 1..n once each in progress.csv, and TensorBoard at exactly those env steps."""
    rows = csv_rows(run)
    assert [int(r["iteration"]) for r in rows] == list(range(1, len(rows) + 1))
    assert event_steps(run, "Train/SPS") == [int(r["env_steps"]) for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_the_logged_iteration_and_the_rerun_resumes(tmp_path: Path, sig, code):
    cmd = train_cmd(tmp_path, "--n_itr", "1000", "--eval_interval", "1000",
                    "--save_interval", "1000")
    proc = start_until(cmd, "itr 3/")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert f"interrupted ({signal.Signals(sig).name}): checkpoint saved at iteration" in err
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    done = load_checkpoint(run / "acmodel.pt")["counters"]["iteration"]
    assert done >= 3 and int(csv_rows(run)[-1]["iteration"]) == done  # the last one is logged
    assert (run / LOCK_NAME).read_text() == ""  # released
    proc = subprocess.run([*cmd[:-6], "--n_itr", str(done + 2)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert f"resuming {run} from iteration {done}" in proc.stdout and "dropped" not in proc.stdout
    assert_logged_once(run)
    assert int(csv_rows(run)[-1]["iteration"]) == done + 2


@pytest.mark.slow
def test_kill_9_before_the_first_checkpoint_starts_afresh_and_says_so(tmp_path: Path):
    cmd = train_cmd(tmp_path, "--n_itr", "4", "--eval_interval", "1000", "--save_interval",
                    "1000")
    proc = start_until(cmd, "itr 2/")
    proc.kill()
    proc.wait()
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    assert not (run / "acmodel.pt").exists() and len(csv_rows(run)) >= 2
    assert event_steps(run, "Train/SPS")
    assert f"pid {proc.pid} on" in (run / LOCK_NAME).read_text()  # left by the dead process
    assert lock_holder(run) == (proc.pid, socket.gethostname())  # what a sweep reads of it
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"locked by pid {proc.pid}" in done.stdout and "no longer running" in done.stdout
    assert "of a run stopped before its first checkpoint: starting afresh" in done.stdout
    assert "resuming" not in done.stdout
    assert_logged_once(run)
    assert len(csv_rows(run)) == 4


@pytest.mark.slow
def test_kill_9_after_a_checkpoint_drops_what_was_logged_after_it(tmp_path: Path):
    cmd = train_cmd(tmp_path, "--n_itr", "7", "--eval_interval", "1000", "--save_interval", "2")
    proc = start_until(cmd, "itr 5/")
    proc.kill()
    proc.wait()
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    saved = load_checkpoint(run / "acmodel.pt")["counters"]
    logged = csv_rows(run)
    assert int(logged[-1]["iteration"]) > saved["iteration"]  # rows after the checkpoint
    assert max(event_steps(run, "Train/SPS")) > saved["env_steps"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"logged after the checkpoint (iteration {saved['iteration']})" in done.stdout
    assert_logged_once(run)
    rows = csv_rows(run)
    assert len(rows) == 7 and rows[saved["iteration"] - 1] == logged[saved["iteration"] - 1]


def test_a_second_trainer_on_a_held_run_directory_stops(capsys, tmp_path: Path):
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    with RunLock(run):
        code = main(["train", "--task", "SimpleDoorKey", "--savedir", "r", "--logdir",
                     str(tmp_path), *TINY])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "\n" not in err
        assert f"is being trained by another process (pid {os.getpid()} on" in err
        assert not (run / "progress.csv").exists()
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "r", "--logdir",
                 str(tmp_path), *TINY]) == 0  # released: the next one runs


def test_signals_wait_for_the_commit_and_a_second_one_does_not():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with Interrupts() as interrupts:
        with pytest.raises(KeyboardInterrupt), interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run, and has waited
            committed = True
        assert committed and interrupts.name == "SIGTERM" and not interrupts.forced
    with Interrupts() as interrupts:
        with pytest.raises(KeyboardInterrupt), interrupts.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            pytest.fail("a second signal must break into the commit")
        assert interrupts.forced
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_an_evaluation_never_overwrites_another(capsys, tmp_path: Path):
    args = ["--task", "SimpleDoorKey", "--logdir", str(tmp_path)]
    assert main(["train", *args, "--savedir", "t", *TINY]) == 0
    assert main(["eval", *args, "--loaddir", "t", "--savedir", "e", "--num_eval", "2",
                 "--num_videos", "0"]) == 0
    results = tmp_path / "ppo" / "simpledoorkey" / "t" / "e" / "results.json"
    before = results.read_text()
    capsys.readouterr()
    for extra in ([], ["--eval_teacher"]):
        code = main(["eval", *args, "--loaddir", "t", "--savedir", "e", "--num_eval", "3",
                     "--num_videos", "0", *extra])
        err = capsys.readouterr().err.strip()
        assert code == 2 and "already holds an evaluation (results.json)" in err
    assert results.read_text() == before


def test_sigterm_in_process_saves_the_iteration_and_the_rerun_resumes(
        tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    """The quick tier's signal test (the real processes above are slow): SIGTERM while an
    iteration is committed lets it finish and be saved, exit 143; the same command resumes."""
    import utils.logger

    log = utils.logger.RunLogger.log

    def log_then_sigterm(self, *args, **kwargs):
        log(self, *args, **kwargs)
        # the trainer's handler, not the default one that would end the test session
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(utils.logger.RunLogger, "log", log_then_sigterm)
    args = ["train", "--task", "SimpleDoorKey", "--savedir", "r", "--logdir", str(tmp_path),
            *TINY]
    assert main(args) == 143
    run = tmp_path / "ppo" / "simpledoorkey" / "r"
    err = capsys.readouterr().err.strip()
    assert err == f"interrupted (SIGTERM): checkpoint saved at iteration 1 in {run}; run the " \
        "same command again to resume"
    assert load_checkpoint(run / "acmodel.pt")["counters"]["iteration"] == 1
    assert (run / LOCK_NAME).read_text() == ""  # released
    monkeypatch.undo()
    assert main(args) == 0
    assert f"resuming {run} from iteration 1" in capsys.readouterr().out
    assert_logged_once(run)
    assert len(csv_rows(run)) == 2
