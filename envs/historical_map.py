"""The rules every IHAC task shares, and its "historical map" observation.

Every task is a :class:`minigrid.minigrid_env.MiniGridEnv` subclass that shares the rules of
docs/method.md section 1 (implemented once in :class:`HistoricalMapEnv`):

- one rectangular room of random size ``sizeX, sizeY`` in ``[min_size, max_size]`` (walls
  included) at the top-left corner of a ``max_size x max_size`` grid; cells outside the room are
  ``None``;
- the agent starts on a random free cell inside the room, with a random direction;
- ``agent_view_size=3``, ``see_through_walls=False``, ``max_steps=150``, MiniGrid's 7 actions;
- reward ``self._reward()`` (``1 - 0.9 * step_count / max_steps``) on the success step, which
  terminates the episode; every other reward is 0;
- ``info["success"]`` is ``True`` exactly on the success step and ``False`` otherwise (also in the
  ``reset`` info).

The observation is a ``(max_size, max_size, 4)`` uint8 array indexed ``[x, y]`` (the convention of
``Grid.encode``): channels 0-2 hold MiniGrid's (object, colour, state) encoding of every cell seen
so far this episode (last-seen content; 0 for never-seen cells), except the agent's own cell,
which shows the carried object (or empty ``(1, 0, 0)``); channel 3 holds the agent's direction
(0-3) at the agent's cell and 4 everywhere else.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import numpy as np
from gymnasium import spaces
from minigrid.core.constants import DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Ball, Door, WorldObj
from minigrid.minigrid_env import MiniGridEnv

__all__ = ["FORWARD", "HistoricalMapEnv", "ObstacleBall"]

EMPTY_ENC: tuple[int, int, int] = (OBJECT_TO_IDX["empty"], 0, 0)
# render_memory's never-seen cells: dark blue with light diagonal hatching, unlike anything
# MiniGrid draws (its walls are plain grey (100, 100, 100), its floor black)
UNSEEN_BASE: tuple[int, int, int] = (30, 34, 70)
UNSEEN_HATCH: tuple[int, int, int] = (110, 120, 190)


def unseen_tile(tile_size: int) -> np.ndarray:
    """The (tile, tile, 3) image of a never-seen cell in render_memory."""
    tile = np.empty((tile_size, tile_size, 3), dtype=np.uint8)
    tile[:] = UNSEEN_BASE
    y, x = np.indices((tile_size, tile_size))
    tile[(x + y) % max(2, tile_size // 4) == 0] = UNSEEN_HATCH
    return tile
NO_DIR = 4  # channel-3 value of every cell but the agent's

# Actions (MiniGrid's enumeration, as plain ints for speed).
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = range(7)


def _view_offsets(view_size: int) -> list[list[tuple[int, int]]]:
    """World offsets of the view cells, per direction: offsets[dir][j * view_size + i].

    View coordinates follow MiniGrid: the agent is at (view_size // 2, view_size - 1) and looks
    towards j = 0; world = agent + fwd * (view_size - 1 - j) + right * (i - view_size // 2).
    """
    out = []
    for d in range(4):
        fx, fy = (int(v) for v in DIR_TO_VEC[d])
        rx, ry = -fy, fx
        cells = []
        for j in range(view_size):
            for i in range(view_size):
                f = view_size - 1 - j
                r = i - view_size // 2
                cells.append((fx * f + rx * r, fy * f + ry * r))
        out.append(cells)
    return out


_OFFSETS3 = _view_offsets(3)


class ObstacleBall(Ball):
    """A ball that cannot be picked up: the moving obstacle of DynamicDoorKey."""

    def can_pickup(self) -> bool:
        return False


class HistoricalMapEnv(MiniGridEnv):
    """Shared machinery: one random room, the historical-map observation, success detection.

    Subclasses implement ``_gen_mission`` and ``_place_objects``; they may override
    ``_after_action`` (called after the agent's action, before the observation).
    """

    def __init__(
        self,
        min_size: int = 5,
        max_size: int = 10,
        max_steps: int = 150,
        agent_view_size: int = 3,
        **kwargs: Any,
    ) -> None:
        if not 5 <= min_size <= max_size:
            raise ValueError(
                f"need 5 <= min_size <= max_size, got {min_size}, {max_size}"
            )
        self.min_size = min_size
        self.max_size = max_size
        self.room_size: tuple[int, int] = (max_size, max_size)
        # Allocated here and again in reset, before MiniGridEnv.reset calls gen_obs.
        self._alloc_memory(max_size, max_size)
        super().__init__(
            mission_space=MissionSpace(mission_func=self._gen_mission),
            width=max_size,
            height=max_size,
            max_steps=max_steps,
            see_through_walls=False,
            agent_view_size=agent_view_size,
            **kwargs,
        )
        self.observation_space = spaces.Box(
            low=0, high=255, shape=(max_size, max_size, 4), dtype=np.uint8
        )

    # ------------------------------------------------------------------ generation
    @staticmethod
    def _gen_mission() -> str:
        return "use the key to open the door"

    def _gen_grid(self, width: int, height: int) -> None:
        self.grid = Grid(width, height)
        size_x = int(self._rand_int(self.min_size, self.max_size + 1))
        size_y = int(self._rand_int(self.min_size, self.max_size + 1))
        self.room_size = (size_x, size_y)
        self.grid.wall_rect(0, 0, size_x, size_y)
        self._agent_placed = False
        self._place_objects(size_x, size_y)
        if not self._agent_placed:  # our own tasks place the agent after every object
            self._place_agent(top=(1, 1), size=(size_x - 2, size_y - 2))
        self.mission = self._gen_mission()

    def _place_agent(
        self, top: tuple[int, int] | None = None, size: tuple[int, int] | None = None
    ) -> None:
        """Random free cell in ``top, size`` (default: the whole room, walls rejected), then a
        random direction: MiniGrid's ``place_agent`` and its two draws."""
        if top is None:
            top, size = (0, 0), self.room_size
        self.place_agent(top=top, size=size)
        self.agent_pos = (int(self.agent_pos[0]), int(self.agent_pos[1]))
        self.agent_dir = int(self.agent_dir)
        self._agent_placed = True

    def _place_objects(self, size_x: int, size_y: int) -> None:
        raise NotImplementedError

    def _interior(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(top, size) of the room's interior, for place_obj."""
        return (1, 1), (self.room_size[0] - 2, self.room_size[1] - 2)

    def _place_in_room(
        self, obj: WorldObj, avoid: tuple[tuple[int, int], ...] = ()
    ) -> tuple[int, int]:
        top, size = self._interior()

        def reject(_env: MiniGridEnv, pos: tuple[int, int]) -> bool:
            return (int(pos[0]), int(pos[1])) in avoid

        pos = self.place_obj(
            obj, top=top, size=size, reject_fn=reject if avoid else None
        )
        return int(pos[0]), int(pos[1])

    def _place_in_rect(
        self, obj: WorldObj, avoid: tuple[int, int] | None = None
    ) -> tuple[int, int]:
        """The original tasks' placement: a random cell of the whole room rectangle, walls,
        objects, the agent and ``avoid`` rejected (one draw of x and y per try)."""

        def reject(_env: MiniGridEnv, pos: tuple[int, int]) -> bool:
            return (int(pos[0]), int(pos[1])) == avoid

        pos = self.place_obj(
            obj, top=(0, 0), size=self.room_size, reject_fn=reject if avoid else None
        )
        return int(pos[0]), int(pos[1])

    def _original_door_cell(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The original tasks' door cell: one of the four walls with equal odds (right, bottom,
        left, top), then a random non-corner cell on it. Returns (door, its inside neighbour)."""
        size_x, size_y = self.room_size
        wall = int(self._rand_int(0, 4))
        if wall in (0, 2):  # right, left
            y = int(self._rand_int(1, size_y - 1))
            x = size_x - 1 if wall == 0 else 0
            return (x, y), (x - 1 if wall == 0 else 1, y)
        x = int(self._rand_int(1, size_x - 1))  # bottom, top
        y = size_y - 1 if wall == 1 else 0
        return (x, y), (x, y - 1 if wall == 1 else 1)

    def _put_locked_door(self, color: str, cell: tuple[int, int]) -> None:
        self.put_obj(Door(color, is_locked=True), *cell)
        self.door_pos = cell

    def _wall_cells(
        self, size_x: int, size_y: int
    ) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Non-corner wall cells of the room, each with its inside neighbour."""
        cells = []
        for x in range(1, size_x - 1):
            cells.append(((x, 0), (x, 1)))
            cells.append(((x, size_y - 1), (x, size_y - 2)))
        for y in range(1, size_y - 1):
            cells.append(((0, y), (1, y)))
            cells.append(((size_x - 1, y), (size_x - 2, y)))
        return cells

    def _place_locked_door(self, color: str) -> tuple[int, int]:
        """Our own tasks' door: a locked door on a non-corner wall cell drawn uniformly over all
        of them; returns its inside neighbour."""
        (dx, dy), inside = self._rand_elem(self._wall_cells(*self.room_size))
        self._put_locked_door(color, (dx, dy))
        return inside

    # ------------------------------------------------------------------ dynamics
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        self._alloc_memory(self.width, self.height)
        obs, info = super().reset(seed=seed, options=options)
        info["success"] = False
        return obs, info

    def step(
        self, action: Any
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        # MiniGridEnv.step's semantics, plus success detection and the _after_action hook.
        self.step_count += 1
        action = int(action)
        terminated = False
        success = False
        ax, ay = self.agent_pos
        vx, vy = DIR_TO_VEC[self.agent_dir]
        fx, fy = ax + int(vx), ay + int(vy)
        fwd_cell = self.grid.get(fx, fy)

        if action == LEFT:
            self.agent_dir = (self.agent_dir - 1) % 4
        elif action == RIGHT:
            self.agent_dir = (self.agent_dir + 1) % 4
        elif action == FORWARD:
            if fwd_cell is None or fwd_cell.can_overlap():
                self.agent_pos = (fx, fy)
            if fwd_cell is not None and fwd_cell.type == "lava":
                terminated = True
        elif action == PICKUP:
            if fwd_cell is not None and fwd_cell.can_pickup() and self.carrying is None:
                self.carrying = fwd_cell
                self.carrying.cur_pos = np.array([-1, -1])
                self.grid.set(fx, fy, None)
        elif action == DROP:
            if fwd_cell is None and self.carrying is not None:
                self.grid.set(fx, fy, self.carrying)
                self.carrying.cur_pos = (fx, fy)
                self.carrying = None
        elif action == TOGGLE:
            if fwd_cell is not None:
                was_locked = isinstance(fwd_cell, Door) and fwd_cell.is_locked
                fwd_cell.toggle(self, (fx, fy))
                success = was_locked and fwd_cell.is_open
        elif action != DONE:
            raise ValueError(f"Unknown action: {action}")

        terminated = terminated or success
        truncated = self.step_count >= self.max_steps
        terminated = self._after_action(action, fwd_cell, terminated, truncated)
        reward = self._reward() if success else 0.0

        if self.render_mode == "human":
            self.render()
        return self.gen_obs(), reward, terminated, truncated, {"success": success}

    def _after_action(
        self, action: int, fwd_cell: WorldObj | None, terminated: bool, truncated: bool
    ) -> bool:
        """Hook run after the agent's action; returns the (possibly updated) terminated flag."""
        return terminated

    # ------------------------------------------------------------------ observation
    def _alloc_memory(self, width: int, height: int) -> None:
        # channels 0-2: last-seen encoding (0 = never seen); channel 3: NO_DIR everywhere.
        self._memory = np.zeros((width, height, 4), dtype=np.uint8)
        self._memory[:, :, 3] = NO_DIR

    def visible_cells(self) -> list[tuple[int, int]]:
        """World cells the agent sees now (MiniGrid's process_vis semantics, clipped at the edge)."""
        if self.agent_view_size != 3:
            return self._visible_cells_generic()
        ax, ay = self.agent_pos
        w, h = self.width, self.height
        cells = self.grid.grid
        offs = _OFFSETS3[self.agent_dir]

        def world(k: int) -> tuple[int, int] | None:
            x, y = ax + offs[k][0], ay + offs[k][1]
            return (x, y) if 0 <= x < w and 0 <= y < h else None

        def clear(p: tuple[int, int] | None) -> bool:  # out of the grid = opaque wall
            if p is None:
                return False
            c = cells[p[1] * w + p[0]]
            return c is None or c.see_behind()

        # View index k = j * 3 + i; the agent is at k = 7 and looks towards j = 0.
        p00, p10, p20, p01, p11, p21, p02, p12, p22 = (world(k) for k in range(9))
        # The agent's own cell is always see-through, so the two nearest rows are always visible.
        vis = [p01, p11, p21, p02, p12, p22]
        t01, t11, t21 = clear(p01), clear(p11), clear(p21)
        v10 = t01 or t11 or t21
        t10 = v10 and clear(p10)
        if v10:
            vis.append(p10)
        if t01 or t11 or t10:
            vis.append(p00)
        if t11 or t21 or t10:
            vis.append(p20)
        return [p for p in vis if p is not None]

    def _visible_cells_generic(self) -> list[tuple[int, int]]:
        """Reference implementation through MiniGrid's gen_obs_grid (any view size)."""
        _, vis_mask = self.gen_obs_grid()
        vs = self.agent_view_size
        offs = _view_offsets(vs)[self.agent_dir]
        ax, ay = self.agent_pos
        out = []
        for j in range(vs):
            for i in range(vs):
                if vis_mask[i, j]:
                    x, y = ax + offs[j * vs + i][0], ay + offs[j * vs + i][1]
                    if 0 <= x < self.width and 0 <= y < self.height:
                        out.append((x, y))
        return out

    def gen_obs(self) -> np.ndarray:
        """Refresh the memory with the visible cells and return the historical map."""
        mem = self._memory
        cells = self.grid.grid
        w = self.width
        for x, y in self.visible_cells():
            c = cells[y * w + x]
            mem[x, y, :3] = EMPTY_ENC if c is None else c.encode()
        obs = mem.copy()
        ax, ay = self.agent_pos
        carried = self.carrying
        obs[ax, ay, :3] = EMPTY_ENC if carried is None else (*carried.encode()[:2], 0)
        obs[ax, ay, 3] = self.agent_dir
        return obs

    def render_memory(self, tile_size: int = 16) -> np.ndarray:
        """RGB image (H * tile, W * tile, 3) of what the agent remembers.

        Remembered cells use MiniGrid's tiles (the agent drawn at its cell); never-seen cells are
        hatched dark blue (:func:`unseen_tile`), unlike MiniGrid's plain grey walls.
        """
        mem = self._memory
        img = np.empty(
            (self.height * tile_size, self.width * tile_size, 3), dtype=np.uint8
        )
        ax, ay = self.agent_pos
        unseen = unseen_tile(tile_size)
        for y in range(self.height):
            for x in range(self.width):
                tile_img = img[
                    y * tile_size : (y + 1) * tile_size,
                    x * tile_size : (x + 1) * tile_size,
                ]
                type_idx, color_idx, state = (int(v) for v in mem[x, y, :3])
                here = (x, y) == (ax, ay)
                if type_idx == 0 and not here:
                    tile_img[:] = unseen
                    continue
                obj = WorldObj.decode(type_idx, color_idx, state) if type_idx else None
                tile_img[:] = Grid.render_tile(
                    obj, agent_dir=self.agent_dir if here else None, tile_size=tile_size
                )
        return img
