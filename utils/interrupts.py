"""Ctrl-C (SIGINT) and SIGTERM, what schedulers send before they kill a job, stop training the
same way.

A signal that arrives while the trainer collects experience stops it at once: nothing saved has
changed yet. One that arrives while an iteration is being committed (update, evaluation, log
row, checkpoint) waits until that ends, so the checkpoint, progress.csv and TensorBoard agree on
the last iteration. A second signal during a commit stops at once and the trainer saves nothing
(the checkpoint on disk stays the last consistent one).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """Install the handlers for a ``with`` block; ``deferred()`` marks a commit."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal received
        self.committing = False
        self.forced = False  # a second signal broke into a commit: the state is half-updated
        self._old: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        # Python delivers signals to the main thread only; elsewhere (a worker thread) the
        # process's own handlers stay in charge
        if threading.current_thread() is threading.main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._old.items():
            signal.signal(s, handler)
        self._old = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.committing and self.signum is None:
            self.signum = signum
            return
        self.signum = self.signum or signum
        self.forced = self.committing
        raise KeyboardInterrupt

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else "SIGINT"

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Signals wait for the end of this block (unless a second one comes)."""
        self.committing = True
        try:
            yield
        finally:
            self.committing = False
        if self.signum is not None:
            raise KeyboardInterrupt
