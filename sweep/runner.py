"""Ray: one task per run, a progress line, and stopping cleanly.

Each run is `main.py train` in a fresh Ray worker process (``max_calls=1``: nothing carries over
from one run to the next), its output in <out>/logs/. Ctrl-C or SIGTERM to the sweep sends
SIGTERM to its running trainers (on other nodes: Ray's cancel), which save their checkpoints;
queued runs are dropped, and one that starts during the stop is sent SIGTERM too. Running the
same command again resumes them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sweep.cluster import connect
from sweep.plan import SweepRun
from utils.errors import TrainingInterrupted, UserError
from utils.runlock import lock_holder

ROOT = Path(__file__).resolve().parents[1]
STOP_WAIT_SECONDS = 300  # how long a stopped sweep waits for its trainers' checkpoints


def train_in_worker(argv: list[str], log_path: str, root: str) -> int:
    """One run in a Ray worker: `main.py train` with its output appended to ``log_path``."""
    if root not in sys.path:
        sys.path.insert(0, root)
    from commands.dispatch import run

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", buffering=1) as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        print(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()} on "
              f"{socket.gethostname()}: python main.py {' '.join(argv)}")
        return run(argv)


def _format_eta(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN or no progress yet
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class _Progress:
    """Runs done / running / queued, env steps and an ETA from this sweep's pace so far."""

    def __init__(self, runs: list[SweepRun], budget: int) -> None:
        self.runs, self.budget = runs, budget
        self.submitted = time.time()
        self.start_steps = self._steps()

    def _steps(self) -> int:
        return sum(min(r.env_steps(), self.budget) for r in self.runs)

    def line(self, pending: list[SweepRun], failed: int) -> str:
        # a run is running once its worker has written to its log since the submission
        running = sum(r.log_path.exists() and r.log_path.stat().st_mtime >= self.submitted
                      for r in pending)
        steps, total = self._steps(), self.budget * len(self.runs)
        elapsed = time.time() - self.submitted
        rate = (steps - self.start_steps) / elapsed if elapsed > 0 else 0.0
        eta = (total - steps) / rate if rate > 0 else float("nan")
        done = len(self.runs) - len(pending) - failed
        return (f"sweep: {done} done, {running} running, {len(pending) - running} queued"
                + (f", {failed} failed" if failed else "")
                + f" | {steps:,}/{total:,} env steps | ETA {_format_eta(eta)}")


def _terminate(run: SweepRun, host: str, signalled: set[int]) -> bool:
    """SIGTERM the run's trainer (once) if it is alive on this host; whether it is."""
    holder = lock_holder(run.run_dir)
    if not holder or holder[1] != host:
        return False
    try:
        os.kill(holder[0], signal.SIGTERM if holder[0] not in signalled else 0)
    except ProcessLookupError:  # a dead trainer's line (kill -9): Ray may be retrying the run
        return False
    signalled.add(holder[0])
    return True


def _stop(ray, refs: dict, pending: list) -> None:
    """SIGTERM the running trainers, cancel the other runs (queued, on other hosts, or being
    retried after a crash), and wait for the trainers to save. A run that starts all the same
    (Ray had already handed it to a worker) is sent SIGTERM as soon as it holds its lock."""
    host, signalled = socket.gethostname(), set()
    for ref in pending:
        if not _terminate(refs[ref], host, signalled):
            ray.cancel(ref)
    print(f"stopping: {len(signalled)} running here save their checkpoints, "
          f"{len(pending) - len(signalled)} others cancelled (up to {STOP_WAIT_SECONDS} s)...",
          flush=True)
    deadline, waiting = time.time() + STOP_WAIT_SECONDS, list(pending)
    while waiting and time.time() < deadline:
        _, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=1.0)
        for ref in waiting:
            _terminate(refs[ref], host, signalled)


def run_all(runs: list[SweepRun], budget: int, address: str | None, cpus: int | None,
            progress_every: float = 30.0, gpus_per_run: float = 0.0,
            on_start: Callable[[], None] | None = None) -> list[str]:
    """Run every unfinished run on Ray; return the names of those that failed. ``on_start``
    runs once Ray is up (the sweep records its command then, not for a start that fails)."""
    todo = [r for r in runs if not r.finished(budget)]
    print(f"sweep: {len(runs)} runs; {len(runs) - len(todo)} finished already (skipped), "
          f"{len(todo)} to run", flush=True)
    if not todo:
        if on_start:
            on_start()
        return []
    import ray

    # a local Ray nices its workers to 15; here the workers are the work, and at 15 they starve
    # beside any other busy process on the machine (measured: minutes to start a tiny run)
    os.environ.setdefault("RAY_worker_niceness", "0")
    connect(ray, address, cpus)
    if gpus_per_run > 0 and ray.cluster_resources().get("GPU", 0) < gpus_per_run:
        gpus = ray.cluster_resources().get("GPU", 0)
        ray.shutdown()
        raise UserError(f"--gpus_per_run {gpus_per_run:g}: the Ray cluster has {gpus:g} GPUs, "
                        "so no run could start; use --gpus_per_run 0 (the CPU) or a cluster "
                        "with GPUs")
    if on_start:
        on_start()
    # Ray gives each run its share of a GPU (CUDA_VISIBLE_DEVICES), so several runs share one
    remote = ray.remote(num_cpus=1, num_gpus=gpus_per_run, max_calls=1)(train_in_worker)
    progress = _Progress(todo, budget)
    refs = {remote.remote(r.argv, str(r.log_path), str(ROOT)): r for r in todo}
    pending, failed = list(refs), []
    received = [signal.SIGINT]

    def terminate(signum: int, frame: object) -> None:  # SIGTERM acts as Ctrl-C
        received[0] = signum
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, terminate)
    try:
        last = 0.0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=progress_every)
            for ref in ready:
                run = refs[ref]
                try:
                    code = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    code = f"crashed ({type(exc).__name__})"
                if code != 0:
                    failed.append(run.name)
                print(f"{run.name}: {'done' if code == 0 else f'exit {code}'} "
                      f"(log: {run.log_path})", flush=True)
            if ready or time.time() - last >= progress_every:
                print(progress.line([refs[p] for p in pending], len(failed)), flush=True)
                last = time.time()
    except KeyboardInterrupt:
        _stop(ray, refs, pending)
        raise TrainingInterrupted(
            f"sweep interrupted ({signal.Signals(received[0]).name}): the running runs saved "
            "their checkpoints; run the same command again to resume them",
            128 + received[0]) from None
    finally:
        signal.signal(signal.SIGTERM, old)
        ray.shutdown()
    return failed
