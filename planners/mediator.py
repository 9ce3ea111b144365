"""The mediator's first half: historical-map observation -> text (and where each named object is).

Text rules (fixed; the planner's cached answers are keyed by these exact strings):

- ``"Agent sees <a>, <b>, holds <c>."``; ``"<nothing>"`` stands for an empty list and for empty
  hands: ``"Agent sees <nothing>, holds <nothing>."``.
- The listed objects are those present in the map (every cell ever seen, as the observation holds
  it) except the agent's own cell, which shows the carried object: the held object is never
  listed. Fixed order: keys, then boxes, then doors.
- Named objects: ``key``, ``box``, ``door``. Lava, walls and DynamicDoorKey's moving balls are
  never named (the skills walk around them). A door is always named the same whatever its state
  (a locked door that opens ends the episode).
- Colours only in ColoredDoorKey and RandomColoredDoorKey (``COLOURED_TASKS``): ``<red key>``,
  ``<blue door>``, ``holds <red key>``; there the
  two keys are listed in grid order, by x then y (column, then row), as the original LLM4Teach
  mediator lists them (``np.argwhere`` over the [x, y] map), so which key the text names first
  follows the room's layout, not the colours. :func:`abstract_colours` turns such a text into
  the published tables' placeholder form (``color1``/``color2`` = first/second colour named in
  the text, as the original's planner numbers them) and :func:`concretize` maps a plan back.
- Numbering where objects repeat: TwoDoor's doors are ``<door1>``, ``<door2>`` in order of
  ``(x, y)`` among the doors currently in the map (a single seen door is always ``<door1>``).
- Held: ``<nothing>``, ``<key>``, ``<box>`` (a box can be picked up) or ``<red key>`` etc.

:class:`Perception` also records the coordinates of every named object (``objects``, keyed by
the name used in plans, without ``<>``), the held object's name and the agent's pose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

__all__ = [
    "COLOURED_TASKS",
    "COLOURS",
    "Perception",
    "abstract_colours",
    "concretize",
    "enumerate_texts",
    "make_text",
    "perceive",
    "sort_key",
    "split_text",
    "task_objects",
    "vocabulary",
]

NO_DIR = 4
DOOR, KEY, BOX = OBJECT_TO_IDX["door"], OBJECT_TO_IDX["key"], OBJECT_TO_IDX["box"]
# MiniGrid's six colours in COLOR_TO_IDX order (red, green, blue, purple, yellow, grey)
COLOURS: tuple[str, ...] = tuple(sorted(COLOR_TO_IDX, key=COLOR_TO_IDX.__getitem__))
_IDX_TO_COLOUR = {i: c for c, i in COLOR_TO_IDX.items()}
_CATEGORY = {"key": 0, "box": 1, "door": 2}  # the fixed text order
_TASKS = ("SimpleDoorKey", "LavaDoorKey", "ColoredDoorKey", "TwoDoor", "KeyInBox", "RandomBoxKey",
          "DynamicDoorKey", "RandomColoredDoorKey")
# tasks whose texts name colours (two keys of two colours; the door's colour tells which opens it)
COLOURED_TASKS = ("ColoredDoorKey", "RandomColoredDoorKey")


@dataclass(frozen=True)
class Perception:
    text: str                               # "Agent sees <key>, <door>, holds <nothing>."
    objects: dict[str, tuple[int, int]]     # name without <> -> (x, y), in text order
    held: str | None                        # "key", "red key", "box" or None
    agent: tuple[int, int, int]             # (x, y, dir)


@lru_cache(maxsize=64)
def _canonical(task: str) -> str:
    for name in _TASKS:
        if name.lower() == task.strip().lower():
            return name
    from envs import resolve_task  # also accepts the registered env ids

    return resolve_task(task)


_NUMBER_RE = re.compile(r"(\d+)")


def sort_key(name: str) -> tuple[int, int]:
    """Key of the canonical text order: keys, boxes, doors; then a number in the name (door1,
    color2 key). Sorting is stable, so objects alike (two concrete keys) keep their given order:
    their grid order in :func:`perceive`."""
    words = name.split()
    noun = words[-1].rstrip("0123456789") if words else ""
    number = _NUMBER_RE.search(name)
    return _CATEGORY.get(noun, len(_CATEGORY)), int(number.group(1)) if number else 0


def make_text(seen: list[str], held: str | None) -> str:
    """The text of a situation; ``seen`` must already be in the canonical order."""
    listed = ", ".join(f"<{o}>" for o in seen) if seen else "<nothing>"
    return f"Agent sees {listed}, holds <{held or 'nothing'}>."


_TEXT_RE = re.compile(r"^Agent sees (.*), holds <([^<>]*)>\.$")


def split_text(text: str) -> tuple[list[str], str | None]:
    """Inverse of :func:`make_text`: (listed object names, held name or None)."""
    m = _TEXT_RE.match(text)
    if m is None:
        raise ValueError(f"not a mediator text: {text!r}")
    seen = [o.strip("<> ") for o in m.group(1).split(",")]
    seen = [o for o in seen if o != "nothing"]
    held = None if m.group(2) == "nothing" else m.group(2)
    return seen, held


def _name(task: str, obj: int, colour: int) -> str:
    noun = "key" if obj == KEY else "box" if obj == BOX else "door"
    return f"{_IDX_TO_COLOUR[colour]} {noun}" if task in COLOURED_TASKS else noun


_PERCEPTION_CACHE: dict[tuple[str, bytes], Perception] = {}


def perceive(task: str, obs: np.ndarray) -> Perception:
    """Text, object coordinates, held object and pose of one (W, H, 4) uint8 observation."""
    task = _canonical(task)
    key = (task, obs.tobytes())
    hit = _PERCEPTION_CACHE.get(key)
    if hit is not None:
        return hit
    h = obs.shape[1]
    a = int(np.flatnonzero(obs[:, :, 3] != NO_DIR)[0])
    ax, ay = divmod(a, h)
    adir = int(obs[ax, ay, 3])
    carried = int(obs[ax, ay, 0])
    held = _name(task, carried, int(obs[ax, ay, 1])) if carried in (KEY, BOX) else None
    types = obs[:, :, 0]
    found: list[tuple[tuple[int, ...], str, tuple[int, int]]] = []
    doors: list[tuple[int, int]] = []
    # np.nonzero walks the [x, y] map x-major: objects alike stay in grid order (x, then y)
    for x, y in zip(*np.nonzero((types == KEY) | (types == BOX) | (types == DOOR)), strict=True):
        x, y = int(x), int(y)
        if (x, y) == (ax, ay):
            continue
        obj = int(types[x, y])
        if obj == DOOR and task == "TwoDoor":
            doors.append((x, y))
            continue
        name = _name(task, obj, int(obs[x, y, 1]))
        found.append(((*sort_key(name), x, y), name, (x, y)))
    for i, pos in enumerate(sorted(doors)):
        name = f"door{i + 1}"
        found.append(((*sort_key(name), *pos), name, pos))
    found.sort()
    objects = {name: pos for _, name, pos in found}
    out = Perception(make_text(list(objects), held), objects, held, (ax, ay, adir))
    if len(_PERCEPTION_CACHE) > 4096:
        _PERCEPTION_CACHE.clear()
    _PERCEPTION_CACHE[key] = out
    return out


# ---------------------------------------------------------------------- colours
_COLOUR_RE = re.compile(r"<(" + "|".join(COLOURS) + r") ")
_PLACEHOLDER_RE = re.compile(r"\bcolou?r(\d+)\b", re.IGNORECASE)


def abstract_colours(text: str) -> tuple[str, dict[str, str]]:
    """Replace concrete colours by ``color1``, ``color2``... numbered by first appearance.

    ``"Agent sees <red key>, <blue key>, <blue door>, holds <nothing>."`` ->
    ``("Agent sees <color1 key>, <color2 key>, <color2 door>, holds <nothing>.",
    {"color1": "red", "color2": "blue"})``. Texts without colours map to themselves and ``{}``.
    """
    numbers: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        colour = m.group(1)
        if colour not in numbers:
            numbers[colour] = f"color{len(numbers) + 1}"
        return f"<{numbers[colour]} "

    abstract = _COLOUR_RE.sub(sub, text)
    return abstract, {v: k for k, v in numbers.items()}


def concretize(plan: str, mapping: dict[str, str]) -> str:
    """``"go to <color2 key>"`` with ``{"color2": "blue"}`` -> ``"go to <blue key>"``.

    Placeholders missing from ``mapping`` are left as they are (the skills then find no such
    object and refuse)."""
    if not mapping:
        return plan
    return _PLACEHOLDER_RE.sub(lambda m: mapping.get(f"color{m.group(1)}", m.group(0)), plan)


# ---------------------------------------------------------------------- vocabulary
@lru_cache(maxsize=16)
def _vocabulary(task: str) -> tuple[str, ...]:
    if task in COLOURED_TASKS:
        return tuple(f"{c} key" for c in COLOURS) + tuple(f"{c} door" for c in COLOURS)
    if task == "TwoDoor":
        return ("key", "door1", "door2")
    if task in ("KeyInBox", "RandomBoxKey"):
        return ("key", "box", "door")
    return ("key", "door")


def vocabulary(task: str) -> list[str]:
    """The object names a text of this task can contain, in the canonical text order."""
    return list(_vocabulary(_canonical(task)))


def task_objects(task: str) -> list[str]:
    """Alias of :func:`vocabulary`."""
    return vocabulary(task)


def _states(task: str) -> list[tuple[list[str], str | None]]:
    """Every (seen objects, held) the task can show, in a stable order (held nothing first)."""
    def doors_options() -> list[list[str]]:
        return [[], ["door1"], ["door1", "door2"]] if task == "TwoDoor" else [[], ["door"]]

    out: list[tuple[list[str], str | None]] = []
    if task == "KeyInBox":
        # the key is in the box until the box is toggled; the box or the key may be held
        for held, others in ((None, []), (None, ["box"]), (None, ["key"]), ("box", []),
                             ("key", [])):
            out += [(others + d, held) for d in doors_options()]
    elif task == "RandomBoxKey":
        # either as KeyInBox, or an empty box and a key on the floor: every combination
        for held in (None, "key", "box"):
            free = [o for o in ("key", "box") if o != held]
            for mask in product((False, True), repeat=len(free)):
                out += [([o for o, m in zip(free, mask, strict=True) if m] + d, held)
                        for d in doors_options()]
    else:  # one key (SimpleDoorKey, LavaDoorKey, DynamicDoorKey, TwoDoor)
        for held, others in ((None, []), (None, ["key"]), ("key", [])):
            out += [(others + d, held) for d in doors_options()]
    return out


def _coloured_texts() -> list[str]:
    """The coloured tasks, abstract form: two keys (door colour d, other colour o) in either
    grid order, one door."""
    texts: dict[str, None] = {}
    d, o = COLOURS[:2]
    for keys in ([f"{d} key", f"{o} key"], [f"{o} key", f"{d} key"]):
        for held in (None, *keys):
            free = [k for k in keys if k != held]
            for mask in product((False, True), repeat=len(free)):
                for door in ([], [f"{d} door"]):
                    seen = [k for k, m in zip(free, mask, strict=True) if m] + door
                    texts[abstract_colours(make_text(seen, held))[0]] = None
    return sorted(texts, key=lambda t: (split_text(t)[1] is not None, len(split_text(t)[0]), t))


@lru_cache(maxsize=16)
def _enumerate(task: str) -> tuple[str, ...]:
    if task in COLOURED_TASKS:
        return tuple(_coloured_texts())
    return tuple(dict.fromkeys(make_text(sorted(seen, key=sort_key), held)
                               for seen, held in _states(task)))


def enumerate_texts(task: str) -> list[str]:
    """Every text :func:`perceive` can produce for the task (coloured tasks: abstract form)."""
    return list(_enumerate(_canonical(task)))
