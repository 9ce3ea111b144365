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

from utils.errors import UserError

CHECKPOINT_NAME = "acmodel.pt"
# written once a run reaches its budget: results committed without their checkpoints (tens of MB
# each) still say the run is finished, so a sweep's rerun skips it and `train` will not wipe it
FINISHED_NAME = "finished.json"
FORMAT_VERSION = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temporary file in the same directory, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_checkpoint(path: Path, task: str | None = None) -> dict[str, Any]:
    """Load a checkpoint written by save_checkpoint; UserError for anything a user can get wrong."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}: train first (python main.py train --task ... "
                        "--savedir ...) or check --loaddir")
    if path.stat().st_size == 0:
        raise UserError(f"checkpoint {path} is empty (0 bytes): it is not usable, train again")
    try:
        with warnings.catch_warnings():  # garbage can trigger pickle-protocol warnings
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # garbage bytes make the (legacy) unpickler raise anything at all
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"checkpoint {path} is corrupt or not a checkpoint of this project "
                        f"({reason[:120]})") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION or \
            not {"model", "config", "counters"} <= state.keys():
        raise UserError(f"checkpoint {path} is not a checkpoint of this project (missing model, "
                        "config or counters)")
    if task is not None and state["config"].get("task") != task:
        raise UserError(f"checkpoint {path} was trained on task {state['config'].get('task')}, "
                        f"not {task}")
    return state
