"""The mediator's second half: plan text -> skills -> one primitive action.

A plan is a list of items separated by ``,`` or ``and`` (``"go to <key> and pick up <key>"``);
:func:`parse_plan` turns each item into a skill bound to an object name (as in
``Perception.objects``: ``key``, ``red key``, ``door1``...). Unknown items become :class:`Wait`
and are counted in ``ParsedPlan.n_unparsed``.

Skills are stateless: every step they replan from the current observation and return
``(action or None, finished)``. :func:`plan_action` runs a plan's skills in order: the first that
yields an action gives it, a finished skill is skipped, a skill that yields nothing without being
finished stops the plan; without an action the result is ``done`` (6).

Navigation (shared by :class:`Explore` and :class:`GoTo`) is one breadth-first search over poses
``(x, y, dir)`` with the actions left / right / forward, computed lazily once per observation and
reused by every skill of every plan on that observation. A forward step may enter seen empty
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

__all__ = [
    "DONE",
    "Drop",
    "Explore",
    "GoTo",
    "ParsedPlan",
    "PickUp",
    "Skill",
    "Toggle",
    "UseFront",
    "Wait",
    "navigator",
    "parse_plan",
    "plan_action",
]

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
_DX = (1, 0, -1, 0)  # MiniGrid's DIR_TO_VEC: 0 east, 1 south, 2 west, 3 north
_DY = (0, 1, 0, -1)
_EMPTY, _WALL, _FLOOR, _DOOR = (OBJECT_TO_IDX[k] for k in ("empty", "wall", "floor", "door"))
_KEY, _BALL, _BOX, _GOAL, _LAVA = (OBJECT_TO_IDX[k] for k in ("key", "ball", "box", "goal", "lava"))
_UNSEEN = 0
EXPLORE_SLACK = 4
EXPLORE_K = 1.0
Action = int | None


# ---------------------------------------------------------------------- navigation
@lru_cache(maxsize=8)
def _tables(w: int, h: int) -> tuple[list[int], list[tuple[int, ...]]]:
    """Per pose s = (x * h + y) * 4 + d: the pose after a forward step (-1 off the grid) and the
    3x3 view cells in MiniGrid's view order k = j * 3 + i (-1 off the grid)."""
    fwd, view = [], []
    for x in range(w):
        for y in range(h):
            for d in range(4):
                fx, fy = x + _DX[d], y + _DY[d]
                fwd.append((fx * h + fy) * 4 + d if 0 <= fx < w and 0 <= fy < h else -1)
                rx, ry = -_DY[d], _DX[d]
                cells = []
                for j in range(3):
                    for i in range(3):
                        f, r = 2 - j, i - 1
                        cx, cy = x + _DX[d] * f + rx * r, y + _DY[d] * f + ry * r
                        cells.append(cx * h + cy if 0 <= cx < w and 0 <= cy < h else -1)
                view.append(tuple(cells))
    return fwd, view


class Navigator:
    """Lazy BFS over poses from the agent's pose on one observation, shared by all queries."""

    __slots__ = ("_explore", "_explore_ptr", "_goto", "_head", "clear", "dist", "first", "free", "fwd",
                 "h", "queue", "start", "types", "unseen", "view", "w")

    def __init__(self, obs: np.ndarray) -> None:
        w, h = obs.shape[0], obs.shape[1]
        self.w, self.h = w, h
        self.fwd, self.view = _tables(w, h)
        types = obs[:, :, 0].ravel().tolist()  # index x * h + y
        states = obs[:, :, 2].ravel().tolist()
        a = int(np.flatnonzero(obs[:, :, 3] != 4)[0])
        self.start = a * 4 + int(obs.flat[a * 4 + 3])
        self.types = types
        free = [t in (_UNSEEN, _EMPTY, _FLOOR, _GOAL, _BALL) or (t == _DOOR and s == 0)
                for t, s in zip(types, states, strict=True)]
        free[a] = True
        for c in self.view[self.start]:  # balls in view now are where they are
            if c >= 0 and types[c] == _BALL:
                free[c] = False
        self.free = free
        self.clear = [not (t == _WALL or (t == _DOOR and s != 0)) for t, s in
                      zip(types, states, strict=True)]
        self.unseen = [t == _UNSEEN for t in types]
        n = w * h * 4
        self.dist = [-1] * n
        self.first = [DONE] * n
        self.dist[self.start] = 0
        self.queue = [self.start]
        self._head = 0
        self._explore_ptr = 1
        self._explore: list[Action] = []  # the memoised explore() result
        self._goto: dict[tuple[int, int], Action] = {}

    @property
    def agent_cell(self) -> int:
        return self.start >> 2

    def _expand(self) -> bool:
        """Expand one pose; False when the search is exhausted."""
        q = self.queue
        if self._head >= len(q):
            return False
        s = q[self._head]
        self._head += 1
        dist, first = self.dist, self.first
        nd = dist[s] + 1
        root = s == self.start
        base = s & ~3
        f = self.fwd[s]
        for t, act in ((f, FORWARD), (base | ((s - 1) & 3), LEFT), (base | ((s + 1) & 3), RIGHT)):
            if t < 0 or dist[t] >= 0 or (act == FORWARD and not self.free[t >> 2]):
                continue
            dist[t] = nd
            first[t] = act if root else first[s]
            q.append(t)
        return True

    def goto(self, x: int, y: int) -> Action:
        """First action of a shortest path to a pose adjacent to (x, y) and facing it; None if
        there is none (also when already facing it)."""
        if (x, y) in self._goto:
            return self._goto[(x, y)]
        h, w = self.h, self.w
        goals = []
        for d in range(4):
            cx, cy = x - _DX[d], y - _DY[d]
            if 0 <= cx < w and 0 <= cy < h:
                goals.append((cx * h + cy) * 4 + d)
        dist = self.dist
        best: Action = None
        while True:
            reached = [g for g in goals if dist[g] >= 0]
            if reached:
                g = min(reached, key=dist.__getitem__)
                best = None if g == self.start else self.first[g]
                break
            if not self._expand():
                break
        self._goto[(x, y)] = best
        return best

    def visible(self, s: int) -> list[int]:
        """Cells the pose s would see, by MiniGrid's rule, with never-seen cells see-through."""
        v = self.view[s]
        clear = self.clear
        p00, p10, p20, p01, p11, p21 = v[0], v[1], v[2], v[3], v[4], v[5]
        t01 = p01 >= 0 and clear[p01]
        t11 = p11 >= 0 and clear[p11]
        t21 = p21 >= 0 and clear[p21]
        out = [c for c in (p01, p11, p21, v[6], v[7], v[8]) if c >= 0]
        v10 = t01 or t11 or t21
        t10 = v10 and p10 >= 0 and clear[p10]
        if v10 and p10 >= 0:
            out.append(p10)
        if (t01 or t11 or t10) and p00 >= 0:
            out.append(p00)
        if (t11 or t21 or t10) and p20 >= 0:
            out.append(p20)
        return out

    def _gain(self, s: int) -> int:
        unseen = self.unseen
        return sum(unseen[c] for c in self.visible(s))

    def explore(self) -> Action:
        """First action towards the best pose that would see never-seen cells: among the poses
        at most EXPLORE_SLACK steps further than the nearest such pose, the one with the most
        new cells per step (gain / (dist + EXPLORE_K)). None if no reachable pose reveals any."""
        if not self._explore:
            self._explore.append(self._explore_search())
        return self._explore[0]

    def _explore_search(self) -> Action:
        q, dist = self.queue, self.dist
        best, best_u, horizon = None, 0.0, None
        while True:
            while self._explore_ptr < len(q):
                s = q[self._explore_ptr]
                if horizon is not None and dist[s] > horizon:
                    return self.first[best]
                g = self._gain(s)
                if g:
                    if horizon is None:
                        horizon = dist[s] + EXPLORE_SLACK
                    u = g / (dist[s] + EXPLORE_K)
                    if u > best_u:
                        best, best_u = s, u
                self._explore_ptr += 1
            if not self._expand():
                return None if best is None else self.first[best]


_NAV_CACHE: dict[bytes, Navigator] = {}


def navigator(obs: np.ndarray) -> Navigator:
    """The (cached) navigator of an observation."""
    key = obs.tobytes()
    nav = _NAV_CACHE.get(key)
    if nav is None:
        if len(_NAV_CACHE) >= 256:
            _NAV_CACHE.clear()
        nav = _NAV_CACHE[key] = Navigator(obs)
    return nav


def _front(p: Perception) -> tuple[int, int]:
    x, y, d = p.agent
    return x + _DX[d], y + _DY[d]


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
            cx, cy = x + _DX[dd], y + _DY[dd]
            if not (0 <= cx < w and 0 <= cy < h) or types[cx * h + cy] != _EMPTY:
                continue
            score = 3
            for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                t = types[nx * h + ny] if 0 <= nx < w and 0 <= ny < h else _WALL
                if t == _DOOR:
                    score = 1
                    break
                if t == _UNSEEN:
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
