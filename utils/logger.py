"""One dict of scalars per iteration goes to TensorBoard, a CSV and (partly) the console."""

from __future__ import annotations

import contextlib
import csv
import math
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from utils.errors import UserError, write_failed
from utils.tbevents import cut_events

CSV_NAME = "progress.csv"


def _quiet_tensorboard_thread(args: threading.ExceptHookArgs) -> None:
    """TensorBoard writes its events in a thread; a write the disk refuses there would print a
    traceback, then come back as the same OSError at the next write in the main thread, which
    RunLogger turns into one line. So the thread stays quiet about OSErrors."""
    if issubclass(args.exc_type, OSError) and "tensorboard" in type(args.thread).__module__:
        return
    _default_hook(args)


_default_hook = threading.excepthook
threading.excepthook = _quiet_tensorboard_thread


def _read_csv(path: Path) -> tuple[list[dict[str, str]], list[str] | None]:
    if not path.exists() or path.stat().st_size == 0:
        return [], None
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader), reader.fieldnames


class RunLogger:
    """TensorBoard events + progress.csv in the run directory.

    ``resume_at``: (iteration, env steps) of the checkpoint a run resumes from. Rows and events
    logged after it (by the interrupted process, after its last checkpoint) are dropped, so the
    curves do not double back. A fresh run drops whatever an earlier process left without a
    checkpoint (one killed before its first). Either says what it dropped.
    """

    def __init__(self, run_dir: Path, fieldnames: list[str],
                 resume_at: tuple[int, int] | None = None) -> None:
        self.fieldnames = ["iteration", "env_steps", "wall_time", *fieldnames]
        path = run_dir / CSV_NAME
        old_rows, header = _read_csv(path)
        rows: list[dict[str, str]] = []
        if resume_at is not None and header == self.fieldnames:
            rows = [r for r in old_rows if int(r["iteration"]) <= resume_at[0]]
        elif resume_at is not None and old_rows:  # another version's columns: keep them aside
            path.rename(path.with_name(f"progress.old-{int(time.time())}.csv"))
            old_rows = []
        events = cut_events(run_dir, None if resume_at is None else resume_at[1])
        if len(old_rows) > len(rows) or events:
            after = ("logged after the checkpoint (iteration "
                     f"{resume_at[0]})" if resume_at is not None else
                     "of a run stopped before its first checkpoint: starting afresh")
            print(f"note: {run_dir}: dropped {len(old_rows) - len(rows)} progress.csv rows and "
                  f"{events} TensorBoard events {after}", flush=True)
        self.run_dir, self._failed = run_dir, False
        with self._guard(path):
            # the kept rows go to a new file that replaces the old one whole: a write refused
            # half-way (a full disk) leaves the old progress.csv as it was
            tmp = path.with_name(f".{CSV_NAME}.tmp")
            with open(tmp, "w", newline="") as f:
                kept = csv.DictWriter(f, fieldnames=self.fieldnames)
                kept.writeheader()
                kept.writerows(rows)
            os.replace(tmp, path)
            self.writer = SummaryWriter(log_dir=str(run_dir), flush_secs=10)
            self._csv_file = open(path, "a", newline="")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=self.fieldnames)
        self._start = time.time() - (float(rows[-1]["wall_time"]) if rows else 0.0)

    @contextlib.contextmanager
    def _guard(self, path: Path) -> Iterator[None]:
        """OSError inside -> the one line naming ``path`` and the errno (UserError)."""
        try:
            yield
        except OSError as exc:
            self._failed = True
            raise write_failed(exc.filename or path, exc) from None

    def log(self, iteration: int, env_steps: int, scalars: dict[str, float]) -> None:
        """Write one row; TensorBoard's x-axis is env steps (comparable across algorithms)."""
        unknown = scalars.keys() - set(self.fieldnames)
        if unknown:
            raise KeyError(f"scalars not declared to the logger: {sorted(unknown)}")
        row = {"iteration": iteration, "env_steps": env_steps,
               "wall_time": round(time.time() - self._start, 3), **scalars}
        with self._guard(self._events_path()):
            for tag, value in scalars.items():
                if value is not None and not math.isnan(value):
                    self.writer.add_scalar(tag, value, env_steps)
        with self._guard(self.run_dir / CSV_NAME):
            self._csv.writerow(row)
            self._csv_file.flush()
        with self._guard(self._events_path()):
            self.writer.flush()  # what progress.csv holds, TensorBoard's files hold too

    def _events_path(self) -> Path:
        """TensorBoard's event file (its thread's errors come back without a file name)."""
        name = getattr(self.writer._get_file_writer().event_writer, "_file_name", None)
        return Path(name) if name else self.run_dir

    def close(self) -> None:
        """Close both files; after a refused write, quietly (that error is already on its
        way up, and the rows after the last checkpoint are dropped on resume anyway)."""
        failed_before = self._failed
        try:
            with self._guard(self.run_dir):
                self.writer.close()
                self._csv_file.close()
        except UserError:
            if not failed_before:
                raise
