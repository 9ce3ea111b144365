"""One dict of scalars per iteration goes to TensorBoard, a CSV and (partly) the console."""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

CSV_NAME = "progress.csv"


class RunLogger:
    """TensorBoard events + progress.csv in the run directory.

    ``resume_at``: the iteration of the checkpoint a run resumes from. Rows logged after it (by
    the interrupted process, after its last checkpoint) are dropped from the CSV and purged from
    TensorBoard's view, so the curves do not double back. A fresh run that finds an old CSV
    (a run killed before its first checkpoint) moves it aside rather than mixing the two.
    """

    def __init__(self, run_dir: Path, fieldnames: list[str], resume_at: int | None = None) -> None:
        self.fieldnames = ["iteration", "env_steps", "wall_time", *fieldnames]
        path = run_dir / CSV_NAME
        rows: list[dict[str, str]] = []
        purge_step = None
        if path.exists() and path.stat().st_size > 0:
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                old_rows, header = list(reader), reader.fieldnames
            if resume_at is not None and header == self.fieldnames:
                rows = [r for r in old_rows if int(r["iteration"]) <= resume_at]
                purge_step = int(rows[-1]["env_steps"]) + 1 if rows else 0
            else:
                path.rename(path.with_name(f"progress.old-{int(time.time())}.csv"))
        self.writer = SummaryWriter(log_dir=str(run_dir), flush_secs=10, purge_step=purge_step)
        self._csv_file = open(path, "w", newline="")
        self._csv = csv.DictWriter(self._csv_file, fieldnames=self.fieldnames)
        self._csv.writeheader()
        self._csv.writerows(rows)
        self._csv_file.flush()
        self._start = time.time() - (float(rows[-1]["wall_time"]) if rows else 0.0)

    def log(self, iteration: int, env_steps: int, scalars: dict[str, float]) -> None:
        """Write one row; TensorBoard's x-axis is env steps (comparable across algorithms)."""
        unknown = scalars.keys() - set(self.fieldnames)
        if unknown:
            raise KeyError(f"scalars not declared to the logger: {sorted(unknown)}")
        for tag, value in scalars.items():
            if value is not None and not math.isnan(value):
                self.writer.add_scalar(tag, value, env_steps)
        row = {"iteration": iteration, "env_steps": env_steps,
               "wall_time": round(time.time() - self._start, 3), **scalars}
        self._csv.writerow(row)
        self._csv_file.flush()

    def close(self) -> None:
        self.writer.close()
        self._csv_file.close()
