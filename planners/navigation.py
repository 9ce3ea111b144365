"""Navigation for the skills: one breadth-first search over poses ``(x, y, dir)`` on a
historical-map observation, with the actions left / right / forward.

The search is lazy and shared: :func:`navigator` builds it once per observation and every skill of
every plan on that observation reuses it (a shortest path for "go to", the best pose to reveal
never-seen cells for "explore"). Which cells a forward step may enter is the skills' module
docstring's rule (:mod:`planners.skills`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from minigrid.core.constants import OBJECT_TO_IDX

__all__ = ["DONE", "DROP", "DX", "DY", "FORWARD", "LEFT", "PICKUP", "RIGHT", "TOGGLE", "UNSEEN",
           "Action", "Navigator", "navigator"]

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
DX = (1, 0, -1, 0)  # MiniGrid's DIR_TO_VEC: 0 east, 1 south, 2 west, 3 north
DY = (0, 1, 0, -1)
UNSEEN = 0  # the historical map's object id of a never-seen cell
_EMPTY, _WALL, _FLOOR, _DOOR = (OBJECT_TO_IDX[k] for k in ("empty", "wall", "floor", "door"))
_BALL, _GOAL = OBJECT_TO_IDX["ball"], OBJECT_TO_IDX["goal"]
EXPLORE_SLACK = 4
EXPLORE_K = 1.0
Action = int | None


@lru_cache(maxsize=8)
def _tables(w: int, h: int) -> tuple[list[int], list[tuple[int, ...]]]:
    """Per pose s = (x * h + y) * 4 + d: the pose after a forward step (-1 off the grid) and the
    3x3 view cells in MiniGrid's view order k = j * 3 + i (-1 off the grid)."""
    fwd, view = [], []
    for x in range(w):
        for y in range(h):
            for d in range(4):
                fx, fy = x + DX[d], y + DY[d]
                fwd.append((fx * h + fy) * 4 + d if 0 <= fx < w and 0 <= fy < h else -1)
                rx, ry = -DY[d], DX[d]
                cells = []
                for j in range(3):
                    for i in range(3):
                        f, r = 2 - j, i - 1
                        cx, cy = x + DX[d] * f + rx * r, y + DY[d] * f + ry * r
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
        free = [t in (UNSEEN, _EMPTY, _FLOOR, _GOAL, _BALL) or (t == _DOOR and s == 0)
                for t, s in zip(types, states, strict=True)]
        free[a] = True
        for c in self.view[self.start]:  # balls in view now are where they are
            if c >= 0 and types[c] == _BALL:
                free[c] = False
        self.free = free
        self.clear = [not (t == _WALL or (t == _DOOR and s != 0)) for t, s in
                      zip(types, states, strict=True)]
        self.unseen = [t == UNSEEN for t in types]
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
            cx, cy = x - DX[d], y - DY[d]
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
