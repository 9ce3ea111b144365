"""Cut a run's TensorBoard events back to its checkpoint.

A run killed after its last checkpoint has logged iterations that its resumption logs again. The
events are rewritten into one file that keeps each (tag, step) once and nothing after the
checkpoint, then the old files are removed. A kill between the two steps leaves duplicates that
the next rewrite removes, so the cut is safe to repeat.
"""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.summary.writer.event_file_writer import EventFileWriter

EVENTS_GLOB = "events.out.tfevents.*"


def cut_events(run_dir: Path, last_step: int | None) -> int:
    """Keep the summaries logged at env steps <= ``last_step`` (None: none at all); return how
    many were dropped. Files that need no change are left as they are."""
    files = sorted(Path(run_dir).glob(EVENTS_GLOB))
    kept, seen, dropped = [], set(), 0
    for path in files:
        for event in EventFileLoader(str(path)).Load():
            if not event.HasField("summary"):
                continue  # the file-version header each file starts with
            key = (event.step, tuple(v.tag for v in event.summary.value))
            if last_step is None or event.step > last_step or key in seen:
                dropped += 1
                continue
            seen.add(key)
            kept.append(event)
    if not dropped:
        return 0
    if kept:
        writer = EventFileWriter(str(run_dir), filename_suffix=".kept")
        for event in kept:
            writer.add_event(event)
        writer.close()
    for path in files:
        path.unlink()
    return dropped
