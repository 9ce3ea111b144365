"""A search-based solver for the IHAC tasks that reads the TRUE env state.

Used by the tests to prove that every generated room is solvable. Each step it replans from
scratch (BFS over (x, y, direction) navigation states plus the task logic below), so it copes
with the moving balls of DynamicDoorKey:

1. holding a key of the locked door's colour: go and face a locked door, toggle;
2. holding anything else: drop it on a cell from which the key (or box holding it) can still be
   reached and the door's inside cell reached afterwards;
3. holding nothing: face the key of the door's colour and pick it up, or the box that holds it
   and toggle it; if that or the door's inside cell cannot be reached, pick up (or toggle away,
   for an empty box) a removable object in the way (the one in front of a door first).

Balls are obstacles; if no path avoids them, the solver follows a path through them but never
walks forward into one (it waits instead, and the balls move).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import gymnasium
from minigrid.core.world_object import Box, Door, Key, WorldObj

from envs.historical_map import HistoricalMapEnv, ObstacleBall

LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)
DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))
State = tuple[int, int, int]
Cell = tuple[int, int]


def _bfs(
    start: State, passable: Callable[[int, int], bool], goal: Callable[[State], bool]
) -> list[int] | None:
    """Shortest action list (left/right/forward) from start to a goal state, or None."""
    if goal(start):
        return []
    parent: dict[State, tuple[State, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        x, y, d = s
        dx, dy = DIRS[d]
        nexts = [(LEFT, (x, y, (d - 1) % 4)), (RIGHT, (x, y, (d + 1) % 4))]
        if passable(x + dx, y + dy):
            nexts.append((FORWARD, (x + dx, y + dy, d)))
        for a, n in nexts:
            if n in parent:
                continue
            parent[n] = (s, a)
            if goal(n):
                path = []
                cur: State = n
                link = parent[cur]
                while link is not None:
                    cur, act = link
                    path.append(act)
                    link = parent[cur]
                return path[::-1]
            queue.append(n)
    return None


class _View:
    """The true state of the env, with helpers."""

    def __init__(self, env: HistoricalMapEnv) -> None:
        self.env = env
        self.grid = env.grid
        self.pos: Cell = (int(env.agent_pos[0]), int(env.agent_pos[1]))
        self.dir = int(env.agent_dir)
        self.carrying = env.carrying
        self.objects: dict[Cell, WorldObj] = {}
        for y in range(self.grid.height):
            for x in range(self.grid.width):
                c = self.grid.get(x, y)
                if c is not None:
                    self.objects[(x, y)] = c
        self.doors = [
            p for p, o in self.objects.items() if isinstance(o, Door) and o.is_locked
        ]
        self.door_color = self.objects[self.doors[0]].color
        self.balls = {p for p, o in self.objects.items() if isinstance(o, ObstacleBall)}
        size_x, size_y = env.room_size
        self.door_insides = [
            (min(max(x, 1), size_x - 2), min(max(y, 1), size_y - 2))
            for x, y in self.doors
        ]

    @property
    def state(self) -> State:
        return (self.pos[0], self.pos[1], self.dir)

    def front(self, s: State | None = None) -> Cell:
        x, y, d = s if s is not None else self.state
        return (x + DIRS[d][0], y + DIRS[d][1])

    def passable_fn(
        self, blocked: set[Cell], freed: frozenset[Cell] | set[Cell] = frozenset()
    ) -> Callable[[int, int], bool]:
        w, h = self.grid.width, self.grid.height

        def passable(x: int, y: int) -> bool:
            if not (0 <= x < w and 0 <= y < h) or (x, y) in blocked:
                return False
            if (x, y) in freed:
                return True
            c = self.objects.get((x, y))
            return c is None or (c.can_overlap() and c.type != "lava")

        return passable

    def reachable(self, start: Cell, passable: Callable[[int, int], bool]) -> set[Cell]:
        seen = {start}
        queue = deque([start])
        while queue:
            x, y = queue.popleft()
            for dx, dy in DIRS:
                n = (x + dx, y + dy)
                if n not in seen and passable(*n):
                    seen.add(n)
                    queue.append(n)
        return seen

    def goal_targets(self) -> list[Cell]:
        """Cells holding the needed key, or a box that contains it."""
        out = []
        for p, o in self.objects.items():
            held = o.contains if isinstance(o, Box) else o
            if isinstance(held, Key) and held.color == self.door_color:
                out.append(p)
        return out

    def navigate(
        self, targets: list[Cell], extra_goal: Callable[[State], bool] | None = None
    ) -> list[int] | None:
        """Path to a state facing one of the targets (balls avoided if possible)."""
        tset = set(targets)

        def goal(s: State) -> bool:
            return self.front(s) in tset and (extra_goal is None or extra_goal(s))

        path = _bfs(self.state, self.passable_fn(self.balls), goal)
        if path is None and self.balls:
            path = _bfs(self.state, self.passable_fn(set(), freed=self.balls), goal)
        return path


def _step_towards(v: _View, path: list[int]) -> int:
    action = path[0]
    if action == FORWARD and v.front() in v.balls:
        return DONE  # never walk into a ball: wait for it to move
    return action


def solver_action(env: gymnasium.Env) -> int:
    """The solver's next action for the env's current true state."""
    u = env.unwrapped
    assert isinstance(u, HistoricalMapEnv)
    v = _View(u)
    carrying = v.carrying

    # 1. Holding the right key: open a door.
    if isinstance(carrying, Key) and carrying.color == v.door_color:
        path = v.navigate(v.doors)
        if path is None:
            return DONE
        return TOGGLE if not path else _step_towards(v, path)

    # 2. Holding something else: drop it where it does not block the rest of the task.
    if carrying is not None:
        targets = v.goal_targets()

        def good_drop(s: State) -> bool:
            f = v.front(s)
            if (
                f in v.objects
                or f in v.balls
                or f in v.door_insides
                or f == (s[0], s[1])
            ):
                return False
            size_x, size_y = u.room_size
            if not (0 < f[0] < size_x - 1 and 0 < f[1] < size_y - 1):
                return False
            reach = v.reachable((s[0], s[1]), v.passable_fn({f}, freed=v.balls))
            faceable = [
                t
                for t in targets
                if any((t[0] + dx, t[1] + dy) in reach for dx, dy in DIRS)
            ]
            if not faceable:
                return False
            reach2 = v.reachable(
                (s[0], s[1]), v.passable_fn({f}, freed=v.balls | set(faceable))
            )
            return any(c in reach2 for c in v.door_insides)

        path = _bfs(v.state, v.passable_fn(v.balls), good_drop)
        if path is None:  # no ideal spot: any free interior cell in front will do
            path = _bfs(
                v.state,
                v.passable_fn(v.balls),
                lambda s: (
                    v.front(s) not in v.objects
                    and v.front(s) not in v.balls
                    and v.front(s) != (s[0], s[1])
                ),
            )
        if path is None:
            return DONE
        return DROP if not path else _step_towards(v, path)

    # 3. Hands empty: get the key (opening its box first), unless the door is walled in.
    targets = v.goal_targets()
    freed = v.balls | set(targets)
    door_ok = any(
        c in v.reachable(v.pos, v.passable_fn(set(), freed=freed))
        for c in v.door_insides
    )
    path = v.navigate(targets) if door_ok else None
    if path is not None:
        if path:
            return _step_towards(v, path)
        return PICKUP if isinstance(v.objects[v.front()], Key) else TOGGLE
    # The key or the door cannot be reached: remove a removable obstacle (those in front of a
    # door first, then the nearest).
    removable = [
        p
        for p, o in v.objects.items()
        if p not in targets
        and (isinstance(o, Key) or (isinstance(o, Box) and o.contains is None))
    ]
    blocking = [p for p in removable if p in v.door_insides]
    path = v.navigate(blocking) if blocking else None
    if path is None:
        path = v.navigate(removable)
    if path is None:
        return DONE
    if path:
        return _step_towards(v, path)
    return PICKUP if isinstance(v.objects[v.front()], Key) else TOGGLE


def solve_episode(env: gymnasium.Env, seed: int) -> tuple[bool, int]:
    """Run the solver for one episode; returns (success, number of steps)."""
    env.reset(seed=seed)
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(solver_action(env))
        steps += 1
        if terminated or truncated:
            return bool(info["success"]), steps
