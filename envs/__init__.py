"""IHAC MiniGrid tasks, registered with gymnasium at import.

Each task is registered twice: under our namespace (``IHAC/<Task>-v0``) and under an id in the
original LLM4Teach code's style (for its four tasks, ``ORIGINAL_TASKS``, the ids it
registered). ``make_env`` accepts either id or the bare task name.
"""

from __future__ import annotations

import gymnasium
from gymnasium.envs.registration import register

from envs.historical_map import HistoricalMapEnv
from envs.tasks import (
    ColoredDoorKeyEnv,
    DynamicDoorKeyEnv,
    KeyInBoxEnv,
    LavaDoorKeyEnv,
    RandomBoxKeyEnv,
    RandomColoredDoorKeyEnv,
    SimpleDoorKeyEnv,
    TwoDoorEnv,
)

__all__ = [
    "ALL_ENV_IDS",
    "ENV_IDS",
    "ORIGINAL_IDS",
    "ORIGINAL_TASKS",
    "TASK_CLASSES",
    "TASK_NAMES",
    "HistoricalMapEnv",
    "make_env",
    "resolve_task",
]

TASK_CLASSES: dict[str, type[HistoricalMapEnv]] = {
    "SimpleDoorKey": SimpleDoorKeyEnv,
    "LavaDoorKey": LavaDoorKeyEnv,
    "ColoredDoorKey": ColoredDoorKeyEnv,
    "TwoDoor": TwoDoorEnv,
    "KeyInBox": KeyInBoxEnv,
    "RandomBoxKey": RandomBoxKeyEnv,
    "DynamicDoorKey": DynamicDoorKeyEnv,
    "RandomColoredDoorKey": RandomColoredDoorKeyEnv,
}
# The original LLM4Teach code's tasks (its env/ package); the others are our designs.
ORIGINAL_TASKS: tuple[str, ...] = ("SimpleDoorKey", "LavaDoorKey", "ColoredDoorKey", "TwoDoor")
TASK_NAMES: tuple[str, ...] = tuple(TASK_CLASSES)
ENV_IDS: dict[str, str] = {name: f"IHAC/{name}-v0" for name in TASK_NAMES}
ORIGINAL_IDS: dict[str, str] = {
    name: (
        "MiniGrid-TwoDoor-Min20-Max20"
        if name == "TwoDoor"
        else f"MiniGrid-{name}-Min5-Max10-View3"
    )
    for name in TASK_NAMES
}
ALL_ENV_IDS: tuple[str, ...] = tuple(ENV_IDS.values()) + tuple(ORIGINAL_IDS.values())
_SIZES: dict[str, tuple[int, int]] = {
    name: (20, 20) if name == "TwoDoor" else (5, 10) for name in TASK_NAMES
}

_LOOKUP: dict[str, str] = {}
for _name in TASK_NAMES:
    for _key in (_name, ENV_IDS[_name], ORIGINAL_IDS[_name]):
        _LOOKUP[_key.lower()] = _name
    _min, _max = _SIZES[_name]
    for _id in (ENV_IDS[_name], ORIGINAL_IDS[_name]):
        if _id not in gymnasium.registry:  # importing twice must not re-register
            register(
                id=_id,
                entry_point=TASK_CLASSES[_name],
                kwargs={"min_size": _min, "max_size": _max},
            )


def resolve_task(name: str) -> str:
    """Canonical task name for a task name or any registered id (case-insensitive)."""
    try:
        return _LOOKUP[name.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(
            f"unknown task {name!r}; valid tasks: {', '.join(TASK_NAMES)}"
        ) from None


def make_env(task: str, render_mode: str | None = None) -> gymnasium.Env:
    """``gymnasium.make`` of a task, given its name or any of its ids."""
    return gymnasium.make(ENV_IDS[resolve_task(task)], render_mode=render_mode)
