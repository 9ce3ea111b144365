"""The mediator's second half: plan text -> skills -> one primitive action.

A plan is a list of items separated by ``,`` or ``and`` (``"go to <key> and pick up <key>"``);
:func:`parse_plan` turns each item into a skill bound to an object name (as in
``Perception.objects``: ``key``, ``red key``, ``door1``...). Unknown items become :class:`Wait`
and are counted in ``ParsedPlan.n_unparsed``.

Skills are stateless: every step they replan from the current observation and return
``(action or None, finished)``. :func:`plan_action` runs a plan's skills in order: the first that
yields an action gives it, a finished skill is skipped, a skill that yields nothing without being
finished stops the plan; without an action the result is ``done`` (6).

Navigation (shared by :class:`Explore` and :class:`GoTo`, in :mod:`planners.navigation`) is one
breadth-first search over poses ``(x, y, dir)`` with the actions left / right / forward,
computed lazily once per observation and reused by every skill of every plan on that
observation. A forward step may enter seen empty
cells, open doors and never-seen cells (optimistic: the front cell is always seen before the agent
steps into it); never walls, keys, boxes, closed doors or lava. DynamicDoorKey's balls are
impassable where the current 3x3 view square shows them; balls remembered elsewhere have moved on
since and are treated as passable (they would otherwise block stale paths for ever). Since the cell
in front is always in view, the agent never walks forward into a ball.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from minigrid.core.constants import OBJECT_TO_IDX

from planners.mediator import Perception
from planners.navigation import (
    DONE,
    DROP,
    DX,
    DY,
    LEFT,
    PICKUP,
    RIGHT,
    TOGGLE,
    UNSEEN,
    Action,
    navigator,
)

__all__ = [
    "Drop",
    "Explore",
    "GoTo",
    "ParsedPlan",
    "PickUp",
    "Skill",
    "Toggle",
    "UseFront",
    "Wait",
    "parse_plan",
    "plan_action",
]

_EMPTY, _WALL, _DOOR, _BOX = (OBJECT_TO_IDX[k] for k in ("empty", "wall", "door", "box"))


def _front(p: Perception) -> tuple[int, int]:
    x, y, d = p.agent
    return x + DX[d], y + DY[d]


# ---------------------------------------------------------------------- skills
class Skill:
    """A skill: ``skill(obs, perception) -> (action or None, finished)``."""

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        raise NotImplementedError


@dataclass(frozen=True)
class Explore(Skill):
    """Walk to the nearest pose that reveals never-seen cells. Finished once every object named
    by a later skill of the plan is known (seen or held), or when nothing reachable is left."""

    later: tuple[str, ...] = ()

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        if self.later and all(o in p.objects or o == p.held for o in self.later):
            return None, True
        a = navigator(obs).explore()
        return a, a is None


@dataclass(frozen=True)
class GoTo(Skill):
    """Shortest path to a cell next to the object, facing it. Finished when facing it or holding
    it. An object not seen yet is searched for: explore until it is (without this, "go to
    <door>" before the door is seen gave the done action, a tenth of the SimpleDoorKey teacher's
    actions); (None, False) when it is unreachable or nothing is left to explore."""

    obj: str

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        if p.held == self.obj:
            return None, True
        pos = p.objects.get(self.obj)
        if pos is None:
            return navigator(obs).explore(), False
        if _front(p) == pos:
            return None, True
        return navigator(obs).goto(*pos), False


@dataclass(frozen=True)
class PickUp(Skill):
    obj: str

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        if p.held == self.obj:
            return None, True
        if p.held is None and p.objects.get(self.obj) == _front(p):
            return PICKUP, False
        return None, False


@dataclass(frozen=True)
class Drop(Skill):
    """Drop the held object on a free cell beside the agent, preferring cells that block no
    door: turn towards the best of the four neighbours, then drop."""

    obj: str

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        if p.held != self.obj:
            return None, True
        nav = navigator(obs)
        types, h, w = nav.types, nav.h, nav.w
        x, y, d = p.agent
        best, best_score = -1, 0
        for k in (0, 1, 3, 2):  # front, right, left, behind
            dd = (d + k) % 4
            cx, cy = x + DX[dd], y + DY[dd]
            if not (0 <= cx < w and 0 <= cy < h) or types[cx * h + cy] != _EMPTY:
                continue
            score = 3
            for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                t = types[nx * h + ny] if 0 <= nx < w and 0 <= ny < h else _WALL
                if t == _DOOR:
                    score = 1
                    break
                if t == UNSEEN:
                    score = min(score, 2)
            if score > best_score:
                best, best_score = k, score
        if best == 0:
            return DROP, False
        return (RIGHT if best == 1 else LEFT), False


@dataclass(frozen=True)
class Toggle(Skill):
    """Open a door / a box in front. Finished when the object is no longer in the map."""

    obj: str

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        pos = p.objects.get(self.obj)
        if pos is None:
            return None, True
        if _front(p) == pos:
            return TOGGLE, False
        return None, False


@dataclass(frozen=True)
class UseFront(Skill):
    """``use <key>``: toggle the door or box in front, if any."""

    obj: str = ""

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        fx, fy = _front(p)
        if 0 <= fx < obs.shape[0] and 0 <= fy < obs.shape[1] and obs[fx, fy, 0] in (_DOOR, _BOX):
            return TOGGLE, False
        return None, False


@dataclass(frozen=True)
class Wait(Skill):
    """The done action, never finished (also what an unparseable item becomes)."""

    def __call__(self, obs: np.ndarray, p: Perception) -> tuple[Action, bool]:
        return DONE, False


# ---------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class ParsedPlan:
    skills: tuple[Skill, ...]
    n_unparsed: int


_SPLIT_RE = re.compile(r",|;|\n|\band\b|\bthen\b")
_NUMBER_RE = re.compile(r"^\s*(?:\d+\s*[.)]|-|\*)\s*")
_OBJ_RE = re.compile(
    r"^(?:the )?((?:(?:red|green|blue|purple|yellow|grey|gray|colou?r\d+) )?(?:key|box|door)"
    r"|door ?[12])$")
_ITEM_RES: tuple[tuple[re.Pattern[str], type[Skill]], ...] = (
    (re.compile(r"^go ?to (.+)$"), GoTo),
    (re.compile(r"^pick ?up (.+)$"), PickUp),
    (re.compile(r"^(?:drop|put down) (.+)$"), Drop),
    (re.compile(r"^(?:open|toggle|unlock) (.+?)(?: (?:with|using) .+)?$"), Toggle),
    (re.compile(r"^use (.+)$"), UseFront),
)


def _object(text: str) -> str | None:
    name = " ".join(text.replace("<", " ").replace(">", " ").split())
    m = _OBJ_RE.match(name)
    if m is None:
        return None
    name = m.group(1).replace("gray", "grey").replace("colour", "color")
    return re.sub(r"^door ([12])$", r"door\1", name)


def _item(item: str) -> Skill | None:
    if item in ("explore", "explore the room", "explore the environment"):
        return Explore()
    if item in ("wait", "done", "stay", "do nothing"):
        return Wait()
    for pattern, cls in _ITEM_RES:
        m = pattern.match(item)
        if m:
            obj = _object(m.group(1))
            return None if obj is None else cls(obj)
    return None


@lru_cache(maxsize=8192)
def parse_plan(plan: str) -> ParsedPlan:
    """Plan text -> skills. Tolerates case, spaces, quotes, a trailing period, a leading
    ``1.``; items split on ``,`` and ``and``; unknown items become :class:`Wait` (counted)."""
    text = _NUMBER_RE.sub("", plan.strip().lower())
    items = []
    for raw in _SPLIT_RE.split(text):
        item = " ".join(raw.strip().strip("\"'`").strip(" .!").strip("\"'`").split())
        if item:
            items.append(item)
    skills: list[Skill] = []
    n_unparsed = 0
    for item in items:
        skill = _item(item)
        if skill is None:
            n_unparsed += 1
            skill = Wait()
        skills.append(skill)
    # an explore is finished once every object a later skill names is known
    for i, skill in enumerate(skills):
        if isinstance(skill, Explore):
            later = tuple(dict.fromkeys(
                s.obj for s in skills[i + 1:] if isinstance(s, GoTo | PickUp | Drop | Toggle)))
            skills[i] = Explore(later)
    return ParsedPlan(tuple(skills), n_unparsed)


def plan_action(parsed: ParsedPlan, obs: np.ndarray, perception: Perception) -> int:
    """The primitive action of a plan on the current observation (``done`` if none)."""
    for skill in parsed.skills:
        action, finished = skill(obs, perception)
        if action is not None:
            return action
        if not finished:
            return DONE
    return DONE
