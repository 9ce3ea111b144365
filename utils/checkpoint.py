"""Checkpoints: a dict of state_dicts, counters and the config, written atomically.

A checkpoint is only ever replaced by ``os.replace`` of a complete temporary file, so a kill
at any moment leaves either the old or the new acmodel.pt, never a broken one. Loading uses
``weights_only=True``: a checkpoint cannot run code.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch

from utils.errors import UserError, os_reason

CHECKPOINT_NAME = "acmodel.pt"
# written once a run reaches its budget: results committed without their checkpoints (tens of MB
# each) still say the run is finished, so a sweep's rerun skips it and `train` will not wipe it
FINISHED_NAME = "finished.json"
FORMAT_VERSION = 1


def previous_path(path: Path) -> Path:
    """Where the checkpoint before ``path``'s current one is kept (acmodel.prev.pt)."""
    return path.with_name(f"{path.stem}.prev{path.suffix}")


class UnusableCheckpoint(UserError):
    """A checkpoint file that cannot be read back (empty, truncated, garbage)."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file in the same directory, then
    rename), keeping the checkpoint it replaces as acmodel.prev.pt: if the new one is ever
    unreadable, the run resumes from the one before. A write that fails (a full disk, a file
    size limit) is one line, the existing checkpoints untouched."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.replace(path, previous_path(path))
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # torch.save reports a failed write as RuntimeError
        if os.path.exists(tmp):
            os.remove(tmp)
        cause = exc.__context__ if isinstance(exc, RuntimeError) and exc.__context__ else exc
        reason = (os_reason(cause) if isinstance(cause, OSError)
                  else str(cause).splitlines()[0])
        raise UserError(f"cannot write checkpoint {path} ({reason}); the checkpoints already "
                        "there are intact: free space and run the same command again") from None
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_latest(path: Path, task: str | None = None) -> tuple[dict[str, Any], str | None]:
    """The checkpoint at ``path``, or, if it is missing or unreadable, the one before it
    (acmodel.prev.pt), with a note saying what was lost; UserError when neither is usable."""
    prev = previous_path(Path(path))
    try:
        if not Path(path).is_file() and prev.is_file():
            raise UnusableCheckpoint(f"checkpoint {path} is missing")
        return load_checkpoint(path, task), None
    except UnusableCheckpoint as exc:
        if not prev.is_file():
            raise UserError(f"{exc}; there is no earlier checkpoint: delete {Path(path).parent} "
                            "(or use another --savedir) to start over") from None
        first = str(exc)
    try:
        state = load_checkpoint(prev, task)
    except UnusableCheckpoint as exc:
        raise UserError(f"{first}; and the one before, {exc}: nothing here can be resumed: "
                        f"delete {Path(path).parent} (or use another --savedir) to start "
                        "over") from None
    note = (f"{first}: using the checkpoint before it ({prev.name}, iteration "
            f"{state['counters']['iteration']}); what came after it is lost")
    return state, note


def load_checkpoint(path: Path, task: str | None = None) -> dict[str, Any]:
    """Load a checkpoint written by save_checkpoint; UserError for anything a user can get wrong."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}: train first (python main.py train --task ... "
                        "--savedir ...) or check --loaddir")
    if path.stat().st_size == 0:
        raise UnusableCheckpoint(f"checkpoint {path} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():  # garbage can trigger pickle-protocol warnings
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # garbage bytes make the (legacy) unpickler raise anything at all
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnusableCheckpoint(f"checkpoint {path} is corrupt or not a checkpoint of this "
                                 f"project ({reason[:120]})") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION or \
            not {"model", "config", "counters"} <= state.keys():
        raise UnusableCheckpoint(f"checkpoint {path} is not a checkpoint of this project "
                                 "(missing model, config or counters)")
    if task is not None and state["config"].get("task") != task:
        raise UserError(f"checkpoint {path} was trained on task {state['config'].get('task')}, "
                        f"not {task}")
    return state
