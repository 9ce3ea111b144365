"""One writer per run directory: ``train.lock`` in it, held with flock and naming its holder.

The kernel drops an flock when its process dies, even by kill -9, so a lock is never stuck; the
holder's line stays in the file, which is how a takeover is noticed and reported. A second
trainer on a held run directory stops with one clear line instead of writing beside the first.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
from pathlib import Path

from utils.errors import UserError
from utils.rundir import make_writable_dir

LOCK_NAME = "train.lock"


def _holder_line(pid: int, host: str) -> str:
    return f"pid {pid} on {host}\n"


def lock_holder(run_dir: Path) -> tuple[int, str] | None:
    """(pid, host) named in the run directory's lock file, if any (the holder may be gone:
    a lock file keeps its line after kill -9)."""
    try:
        line = (Path(run_dir) / LOCK_NAME).read_text()
    except OSError:
        return None
    match = re.fullmatch(r"pid (\d+) on (\S+)\n?", line)
    return (int(match[1]), match[2]) if match else None


class RunLock:
    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        make_writable_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        holder = os.read(fd, 200).decode(errors="replace").strip()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"{self.path.parent} is being trained by another process "
                            f"({holder or 'unknown'}): wait for it, stop it, or use another "
                            "--savedir") from None
        if holder:
            print(f"note: {self.path.parent} was locked by {holder}, which is no longer "
                  "running: taking the lock over", flush=True)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_line(os.getpid(), socket.gethostname()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # an empty lock file: released cleanly
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
