"""`main.py sweep`: runs on a real local Ray, the report, reruns that skip or resume."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from main import main
from tests.conftest import ROOT
from utils.checkpoint import load_checkpoint
from utils.summary import COLUMNS

TINY_RUN = ["--", "--traj_per_itr", "2", "--batch_size", "32", "--num_envs", "4"]


def sweep(out: Path, budget: int, task: str = "SimpleDoorKey") -> subprocess.CompletedProcess:
    cmd = [sys.executable, "main.py", "sweep", "--task", task, "--algos", "ppo",
           "--seeds", "0", "1", "--budget", str(budget), "--eval_every", "100", "--num_eval",
           "2", "--teacher_episodes", "4", "--cpus", "2", "--out", str(out), *TINY_RUN]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_sweep_runs_on_ray_reports_and_its_rerun_skips_or_resumes(tmp_path: Path):
    out = tmp_path / "study"
    first = sweep(out, 300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "2 runs; 0 finished already (skipped), 2 to run" in first.stdout
    assert "done, " in first.stdout and "running" in first.stdout and "queued" in first.stdout
    assert "ETA" in first.stdout
    runs = [out / "log" / "ppo" / "simpledoorkey" / f"ppo_seed{s}" for s in (0, 1)]
    steps = [load_checkpoint(r / "acmodel.pt")["counters"]["env_steps"] for r in runs]
    assert all(s >= 300 for s in steps)
    summary = read_csv(out / "summary.csv")
    assert list(summary[0]) == list(COLUMNS) and len(summary) == 1
    row = summary[0]
    # the flags every run got make it no default run: its variant says what differs
    assert (row["task"], row["algo"], row["variant"], row["seeds"], row["budget"]) == \
        ("SimpleDoorKey", "ppo", "traj_per_itr=2 batch_size=32 num_envs=4", "2", "300")
    evaluations = read_csv(out / "evaluations.csv")
    logged = sum(1 for r in runs for e in read_csv(r / "progress.csv") if e["Test/Success Rate"])
    assert len(evaluations) == logged and {e["task"] for e in evaluations} == {"SimpleDoorKey"}
    finals = [float(read_csv(r / "progress.csv")[-1]["Test/Success Rate"]) for r in runs]
    assert float(row["final_success_mean"]) == pytest.approx(sum(finals) / 2, abs=1e-3)
    for path in ("success.png", "results.md", "simpledoorkey/success.png",
                 "simpledoorkey/results.md", "teacher.json", "command.txt", "logs"):
        assert (out / path).exists(), path
    assert "| SimpleDoorKey | ppo |" in (out / "results.md").read_text()

    again = sweep(out, 300)  # the same command: nothing to run
    assert again.returncode == 0, again.stderr[-2000:]
    assert "2 finished already (skipped), 0 to run" in again.stdout
    assert [load_checkpoint(r / "acmodel.pt")["counters"]["env_steps"] for r in runs] == steps

    more = sweep(out, 700)  # a larger budget: both resume from their checkpoints
    assert more.returncode == 0, more.stderr[-2000:]
    assert "0 finished already (skipped), 2 to run" in more.stdout
    for r, s in zip(runs, steps, strict=True):
        assert load_checkpoint(r / "acmodel.pt")["counters"]["env_steps"] >= 700
        log = (out / "logs" / f"simpledoorkey_{r.name}.log").read_text()
        assert f"resuming {r} from iteration" in log and f"({s:,} env steps)" in log
    assert read_csv(out / "summary.csv")[0]["budget"] == "700"
    # the runs as committed, without their checkpoints: still finished, still skipped
    kept = tmp_path / "kept"
    shutil.copytree(out, kept)
    for path in kept.rglob("acmodel.pt"):
        path.unlink()
    assert "2 finished already (skipped), 0 to run" in sweep(kept, 700).stdout
    assert len((out / "command.txt").read_text().splitlines()) == 3

    # another task into the same study: the report still covers the first task's runs
    other = sweep(out, 300, task="LavaDoorKey")
    assert other.returncode == 0, other.stderr[-2000:]
    assert "2 runs; 0 finished already (skipped), 2 to run" in other.stdout
    assert [r["task"] for r in read_csv(out / "summary.csv")] == ["LavaDoorKey", "SimpleDoorKey"]
    assert {e["task"] for e in read_csv(out / "evaluations.csv")} == {"LavaDoorKey",
                                                                      "SimpleDoorKey"}
    results = (out / "results.md").read_text()
    assert "| SimpleDoorKey | ppo |" in results and "| LavaDoorKey | ppo |" in results
    assert (out / "simpledoorkey" / "success.png").exists()


def test_the_report_rounds_as_the_per_task_tables_do_and_compares_by_task(tmp_path: Path):
    """The old grid's ColoredDoorKey IHAC seeds (random colours, bench/results/
    grid-before-original-rooms) end at 0.50 / 0.52 / 0.56: std 0.0249, which
    summary.csv keeps as 0.025; the sweep's results.md must say 0.02 as the task's table does,
    not round the 3-place string a second time to 0.03. Its by-task table puts algorithms side
    by side and marks a cell with fewer seeds than the others (a sweep still running)."""
    from sweep.report import write_report

    grids = {"coloreddoorkey": ROOT / "bench" / "results" / "grid-before-original-rooms",
             "dynamicdoorkey": ROOT / "bench" / "results" / "grid"}
    study = tmp_path / "study"
    for task, name in [("coloreddoorkey", f"ihac_seed{s}") for s in (0, 1, 2)] + [
            ("dynamicdoorkey", f"ihac_seed{s}") for s in (0, 1, 2)] + [
            ("dynamicdoorkey", f"ppo_seed{s}") for s in (0, 1)] + [
            ("dynamicdoorkey", "llm4teach_seed0")]:
        run = study / "log" / "ppo" / task / name
        run.mkdir(parents=True)
        for file in ("config.json", "progress.csv"):
            shutil.copy(grids[task] / "log" / "ppo" / task / name / file, run / file)
    teachers = [json.loads((grid / "teacher.json").read_text()) for grid in grids.values()]
    (study / "teacher.json").write_text(json.dumps([t for ts in teachers for t in ts]))
    write_report(study, ["ColoredDoorKey", "DynamicDoorKey"], 100)
    assert read_csv(study / "summary.csv")[0]["final_success_std"] == "0.025"
    assert "| ihac | 3 | 200k | not reached | 0.53 +- 0.02 |" in (
        study / "coloreddoorkey" / "results.md").read_text()
    results = (study / "results.md").read_text()
    assert "| ColoredDoorKey | ihac |  | 3 | 300k | 0.53 +- 0.02 |" in results
    assert "| task | teacher | ihac | llm4teach | ppo |" in results
    assert "| ColoredDoorKey | 0.45 / 110.7 | 0.53 +- 0.02 / 88.2 | - | - |" in results
    dynamic = next(line for line in results.splitlines() if line.startswith("| DynamicDoorKey | 0"))
    assert dynamic.startswith("| DynamicDoorKey | 0.63 / 76.3 | 0.98 +- 0.03 / 20.8 | ")
    assert dynamic.endswith(" / 24.1 (1 seed) | 0.01 +- 0.01 / 142.4 (2 seeds) |")


@pytest.mark.parametrize("args, named", [
    (["--task", "Nope"], "Nope"),
    (["--task", "SimpleDoorKey", "--variant", "no flags"], "--variant 'no flags' is invalid"),
    (["--task", "SimpleDoorKey", "--budget", "0"], "--budget 0 is invalid"),
    (["--task", "SimpleDoorKey", "--", "--lr", "-1"], "--lr -1.0 is invalid"),
])
def test_bad_sweeps_stop_before_starting_anything(capsys, tmp_path: Path, args, named):
    argv = ["sweep", "--budget", "100", "--out", str(tmp_path / "s"), *args]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and named in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def long_sweep(out: Path, seeds: list[str], budget: int = 10_000_000) -> list[str]:
    """A sweep on one CPU that saves a checkpoint every iteration and never ends on its own."""
    return [sys.executable, "main.py", "sweep", "--task", "SimpleDoorKey", "--algos", "ppo",
            "--seeds", *seeds, "--budget", str(budget), "--eval_every", "5000000", "--num_eval",
            "2", "--teacher_episodes", "4", "--cpus", "1", "--out", str(out), *TINY_RUN,
            "--save_interval", "1"]


def stop_after_a_checkpoint(cmd: list[str], run: Path,
                            before_stop=lambda: None) -> tuple[subprocess.Popen, str, float]:
    """Start the sweep, SIGTERM it once `run` has a checkpoint; (process, output, stop time)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        deadline = time.time() + 300
        while not (run / "acmodel.pt").exists():
            assert proc.poll() is None and time.time() < deadline, "no checkpoint"
            time.sleep(0.5)
        before_stop()
        proc.send_signal(signal.SIGTERM)
        started = time.time()
        return proc, proc.communicate(timeout=150)[0], started
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.slow
def test_sigterm_to_a_sweep_saves_the_running_run_and_the_rerun_resumes_it(tmp_path: Path):
    # a preempted session: one run training, one queued behind it (one CPU)
    out = tmp_path / "s"
    run = out / "log" / "ppo" / "simpledoorkey" / "ppo_seed0"
    proc, output, _ = stop_after_a_checkpoint(long_sweep(out, ["0", "1"]), run)
    assert proc.returncode == 128 + signal.SIGTERM, output[-2000:]
    assert "stopping: 1 running here save their checkpoints, 1 others cancelled" in output
    log = (out / "logs" / "simpledoorkey_ppo_seed0.log").read_text()
    assert "interrupted (SIGTERM): checkpoint saved" in log, log[-2000:]
    saved = load_checkpoint(run / "acmodel.pt")["counters"]["env_steps"]
    assert not (out / "log" / "ppo" / "simpledoorkey" / "ppo_seed1" / "acmodel.pt").exists()

    # the same sweep again with a budget just past the saved run: it resumes, the other starts
    again = subprocess.run(long_sweep(out, ["0", "1"], saved + 100), cwd=ROOT,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    log = (out / "logs" / "simpledoorkey_ppo_seed0.log").read_text()
    assert f"({saved:,} env steps)" in log and f"resuming {run} from iteration" in log
    assert load_checkpoint(run / "acmodel.pt")["counters"]["env_steps"] >= saved + 100


@pytest.mark.slow
def test_a_run_retried_during_a_stop_is_stopped_too(tmp_path: Path):
    # kill -9 a trainer, then stop the sweep at once: Ray may still start the run's retry; the
    # sweep must not leave it training unattended until the stop's wait runs out (300 s)
    out = tmp_path / "s"
    run = out / "log" / "ppo" / "simpledoorkey" / "ppo_seed0"
    proc, output, started = stop_after_a_checkpoint(
        long_sweep(out, ["0"]), run,
        lambda: os.kill(int((run / "train.lock").read_text().split()[1]), signal.SIGKILL))
    assert proc.returncode == 128 + signal.SIGTERM, output[-2000:]
    assert time.time() - started < 150
    # the one run is counted once: signalled if its retry already holds the lock, else cancelled
    assert re.search(r"stopping: (1 running here .*, 0 others|0 running here .*, 1 others) "
                     r"cancelled", output), output[-2000:]
    log = (out / "logs" / "simpledoorkey_ppo_seed0.log").read_text()
    if log.count("== ") == 2:  # the retry started: it was stopped and saved
        assert "interrupted (SIGTERM): checkpoint saved" in log, log[-2000:]
    holder = (run / "train.lock").read_text().split()  # empty, or a dead trainer's line
    assert not holder or not Path(f"/proc/{holder[1]}").exists()
    assert load_checkpoint(run / "acmodel.pt")["counters"]["env_steps"] > 0


def test_a_workers_run_appends_its_output_to_its_log(tmp_path: Path):
    """train_in_worker, what each Ray task of a sweep runs (the Ray sweeps above are slow): the
    command line heads the run's log, its output and exit code follow."""
    from sweep.runner import train_in_worker

    log = tmp_path / "logs" / "run.log"
    argv = ["train", "--task", "Nope", "--savedir", "r", "--logdir", str(tmp_path / "log")]
    assert train_in_worker(argv, str(log), str(ROOT)) == 2
    head, *rest = log.read_text().splitlines()
    assert head.startswith("== ") and head.endswith(f"python main.py {' '.join(argv)}")
    assert rest and rest[-1].startswith("error:") and "Nope" in rest[-1]
