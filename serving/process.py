"""``python main.py serve`` as a child process: start it, wait for its URL, stop it with SIGTERM.

The integration tests and bench/llm_server.py start the server exactly as a user does.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL_PREFIX = "use it with: --llm_url "


class ServeFailed(RuntimeError):
    """The server did not start (its output is in the message) or did not stop cleanly."""


class ServeProcess:
    """``main.py serve ARGS`` started; ``url`` and ``start_seconds`` once it printed its URL."""

    def __init__(self, args: list[str], log_path: Path, timeout: float = 120.0) -> None:
        t0 = time.perf_counter()
        self.args, self.log_path = args, Path(log_path)
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", *args],
                                         stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
        # a reader thread, so that waiting for a line can time out
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.printed = self._until_url(timeout)
        self.url = self.printed[-1][len(URL_PREFIX):].strip()
        self.start_seconds = time.perf_counter() - t0

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")  # end of output

    def _until_url(self, timeout: float) -> list[str]:
        seen: list[str] = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if not line:
                break
            seen.append(line)
            if line.startswith(URL_PREFIX):
                return seen
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        raise ServeFailed(f"main.py serve {' '.join(self.args)} did not start (exit "
                          f"{self.proc.returncode}): {''.join(seen)}"
                          f"{self.log_path.read_text()[-2000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> str:
        """Send ``sig``, wait; return what it printed after the URL. Raises unless it exited 0."""
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ServeFailed(f"main.py serve did not stop within {timeout} s of signal {sig}"
                              ) from None
        out = []
        while line := self._lines.get(timeout=5):
            out.append(line)
        if self.proc.returncode != 0:
            raise ServeFailed(f"main.py serve exited {self.proc.returncode} on signal {sig}: "
                              f"{''.join(out)}{self.log_path.read_text()[-2000:]}")
        return "".join(out)


@contextmanager
def serving(args: list[str], log_path: Path) -> Iterator[str]:
    """Yield the base URL of a running ``main.py serve ARGS``; stop it (SIGTERM) afterwards."""
    server = ServeProcess(args, log_path)
    try:
        yield server.url
    finally:
        server.stop()
