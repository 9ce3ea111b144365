"""The seven IHAC MiniGrid tasks and their "historical map" observation.

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
from minigrid.core.constants import COLOR_NAMES, DIR_TO_VEC, OBJECT_TO_IDX
from minigrid.core.grid import Grid
from minigrid.core.mission import MissionSpace
from minigrid.core.world_object import Ball, Box, Door, Key, Lava, WorldObj
from minigrid.minigrid_env import MiniGridEnv

__all__ = [
    "ColoredDoorKeyEnv",
    "DynamicDoorKeyEnv",
    "HistoricalMapEnv",
    "KeyInBoxEnv",
    "LavaDoorKeyEnv",
    "ObstacleBall",
    "RandomBoxKeyEnv",
    "SimpleDoorKeyEnv",
    "TwoDoorEnv",
]

EMPTY_ENC: tuple[int, int, int] = (OBJECT_TO_IDX["empty"], 0, 0)
# render_memory's never-seen cells (MiniGrid's walls are (100, 100, 100))
UNSEEN_GREY: tuple[int, int, int] = (160, 160, 160)
NO_DIR = 4  # channel-3 value of every cell but the agent's

# Actions (MiniGrid's enumeration, as plain ints for speed).
_LEFT, _RIGHT, _FORWARD, _PICKUP, _DROP, _TOGGLE, _DONE = range(7)


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
        self._place_objects(size_x, size_y)
        self.place_agent(top=(1, 1), size=(size_x - 2, size_y - 2))
        self.agent_pos = (int(self.agent_pos[0]), int(self.agent_pos[1]))
        self.agent_dir = int(self.agent_dir)
        self.mission = self._gen_mission()

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
        """Put a locked door on a random non-corner wall cell; return its inside neighbour."""
        (dx, dy), inside = self._rand_elem(self._wall_cells(*self.room_size))
        self.put_obj(Door(color, is_locked=True), dx, dy)
        self.door_pos = (dx, dy)
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

        if action == _LEFT:
            self.agent_dir = (self.agent_dir - 1) % 4
        elif action == _RIGHT:
            self.agent_dir = (self.agent_dir + 1) % 4
        elif action == _FORWARD:
            if fwd_cell is None or fwd_cell.can_overlap():
                self.agent_pos = (fx, fy)
            if fwd_cell is not None and fwd_cell.type == "lava":
                terminated = True
        elif action == _PICKUP:
            if fwd_cell is not None and fwd_cell.can_pickup() and self.carrying is None:
                self.carrying = fwd_cell
                self.carrying.cur_pos = np.array([-1, -1])
                self.grid.set(fx, fy, None)
        elif action == _DROP:
            if fwd_cell is None and self.carrying is not None:
                self.grid.set(fx, fy, self.carrying)
                self.carrying.cur_pos = (fx, fy)
                self.carrying = None
        elif action == _TOGGLE:
            if fwd_cell is not None:
                was_locked = isinstance(fwd_cell, Door) and fwd_cell.is_locked
                fwd_cell.toggle(self, (fx, fy))
                success = was_locked and fwd_cell.is_open
        elif action != _DONE:
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
        solid light grey (160, 160, 160), distinct from MiniGrid's (100, 100, 100) walls.
        """
        mem = self._memory
        img = np.empty(
            (self.height * tile_size, self.width * tile_size, 3), dtype=np.uint8
        )
        ax, ay = self.agent_pos
        for y in range(self.height):
            for x in range(self.width):
                tile_img = img[
                    y * tile_size : (y + 1) * tile_size,
                    x * tile_size : (x + 1) * tile_size,
                ]
                type_idx, color_idx, state = (int(v) for v in mem[x, y, :3])
                here = (x, y) == (ax, ay)
                if type_idx == 0 and not here:
                    tile_img[:] = UNSEEN_GREY
                    continue
                obj = WorldObj.decode(type_idx, color_idx, state) if type_idx else None
                tile_img[:] = Grid.render_tile(
                    obj, agent_dir=self.agent_dir if here else None, tile_size=tile_size
                )
        return img


class SimpleDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    One room of random size (5-10 cells a side, walls included) in a 10x10 grid. A locked door
    sits on a random wall cell (never a corner); a key of the door's colour lies on a random free
    cell inside. The agent (3x3 view) must pick up the key and open the door.

    ## Mission Space
    "use the key to open the door"

    ## Action Space
    | Num | Name | Action |
    |-----|------|--------|
    | 0 | left | Turn left |
    | 1 | right | Turn right |
    | 2 | forward | Move forward |
    | 3 | pickup | Pick up an object |
    | 4 | drop | Drop the carried object |
    | 5 | toggle | Toggle (open a door with the matching key, open a box) |
    | 6 | done | No-op |

    ## Observation Encoding
    The historical map: a (max_size, max_size, 4) uint8 array indexed [x, y]. Channels 0-2 are
    MiniGrid's (OBJECT_TO_IDX, COLOR_TO_IDX, state) for every cell seen so far (its last-seen
    content, walls blocking sight), 0 for cells never seen; the agent's cell shows the carried
    object (or empty). Channel 3 is the agent's direction at its cell and 4 elsewhere.

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door (toggle while carrying the key): success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/SimpleDoorKey-v0`
    - `MiniGrid-SimpleDoorKey-Min5-Max10-View3`
    """

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        self._place_locked_door(color)
        self._place_in_room(Key(color))


class LavaDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    SimpleDoorKey plus one lava cell inside the room, never on the cell in front of (inside of)
    the door. Entering the lava ends the episode with reward 0.

    ## Mission Space
    "avoid the lava and use the key to open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey (lava encodes as object 9).

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door: success.
    2. The agent walks into the lava: reward 0.
    3. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/LavaDoorKey-v0`
    - `MiniGrid-LavaDoorKey-Min5-Max10-View3`
    """

    @staticmethod
    def _gen_mission() -> str:
        return "avoid the lava and use the key to open the door"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        inside = self._place_locked_door(color)
        self._place_in_room(Lava(), avoid=(inside,))
        self._place_in_room(Key(color))


class ColoredDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    SimpleDoorKey with two keys of two different colours, one of which matches the door. Only
    one object can be carried: a wrong key that was picked up must be dropped first.

    ## Mission Space
    "use the key of the door's colour to open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey.

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door (toggle while carrying the matching key): success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/ColoredDoorKey-v0`
    - `MiniGrid-ColoredDoorKey-Min5-Max10-View3`
    """

    @staticmethod
    def _gen_mission() -> str:
        return "use the key of the door's colour to open the door"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        door_color, other_color = self._rand_subset(COLOR_NAMES, 2)
        self._place_locked_door(door_color)
        self._place_in_room(Key(door_color))
        self._place_in_room(Key(other_color))


class TwoDoorEnv(HistoricalMapEnv):
    """
    ## Description
    One 20x20 room filling a 20x20 grid. Two locked doors of the same colour sit on opposite
    walls (left/right or top/bottom, each at a random non-corner cell); the one key of that
    colour lies within 2 cells (Chebyshev distance) of the room centre (10, 10).

    ## Mission Space
    "use the key to open one of the two doors"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey, with shape (20, 20, 4).

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens either locked door: success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/TwoDoor-v0`
    - `MiniGrid-TwoDoor-Min20-Max20`
    """

    def __init__(self, min_size: int = 20, max_size: int = 20, **kwargs: Any) -> None:
        super().__init__(min_size=min_size, max_size=max_size, **kwargs)

    @staticmethod
    def _gen_mission() -> str:
        return "use the key to open one of the two doors"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        if self._rand_bool():  # doors on the left and right walls
            y1 = int(self._rand_int(1, size_y - 1))
            y2 = int(self._rand_int(1, size_y - 1))
            doors = [(0, y1), (size_x - 1, y2)]
        else:  # doors on the top and bottom walls
            x1 = int(self._rand_int(1, size_x - 1))
            x2 = int(self._rand_int(1, size_x - 1))
            doors = [(x1, 0), (x2, size_y - 1)]
        for x, y in doors:
            self.put_obj(Door(color, is_locked=True), x, y)
        self.door_pos = doors[0]
        cx, cy = size_x // 2, size_y // 2
        self.place_obj(Key(color), top=(cx - 2, cy - 2), size=(5, 5))


class KeyInBoxEnv(HistoricalMapEnv):
    """
    ## Description
    SimpleDoorKey where the key is hidden in a box of random colour. Toggling the box replaces it
    by the key (MiniGrid's Box.toggle); the key must then be picked up. (The box itself can also
    be picked up and dropped, as in MiniGrid.)

    ## Mission Space
    "open the box, take the key and open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey (a box encodes as object 7; its content is not shown).

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door: success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/KeyInBox-v0`
    - `MiniGrid-KeyInBox-Min5-Max10-View3`
    """

    @staticmethod
    def _gen_mission() -> str:
        return "open the box, take the key and open the door"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        self._place_locked_door(color)
        self._place_in_room(Box(self._rand_elem(COLOR_NAMES), contains=Key(color)))


class RandomBoxKeyEnv(HistoricalMapEnv):
    """
    ## Description
    SimpleDoorKey with a box of random colour always present. With probability 1/2 the key is
    inside the box; otherwise the key lies on the floor and the box is empty. The box is there in
    both cases so that its presence does not reveal where the key is. Toggling a box replaces it by
    its content: the key, or nothing (an empty box disappears).

    ## Mission Space
    "find the key and open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey (a box encodes as object 7; its content is not shown).

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door: success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/RandomBoxKey-v0`
    - `MiniGrid-RandomBoxKey-Min5-Max10-View3`
    """

    @staticmethod
    def _gen_mission() -> str:
        return "find the key and open the door"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        self._place_locked_door(color)
        box_color = self._rand_elem(COLOR_NAMES)
        if self._rand_bool():
            self._place_in_room(Box(box_color, contains=Key(color)))
        else:
            self._place_in_room(Box(box_color))
            self._place_in_room(Key(color))


class DynamicDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    SimpleDoorKey plus 2 moving obstacles: blue balls that cannot be picked up. Within a step,
    the agent acts first. If the action is `forward` and the cell in front held an obstacle
    ball, the agent collides: the episode terminates with reward 0. Otherwise (and if the episode
    did not end, by success or truncation), each ball in turn moves to a uniformly random empty
    4-neighbour cell of the room interior: never onto the agent, a door, the key, the lava or
    another ball; a ball with no free neighbour stays put. Balls never start on the cell inside
    the door. Since the cell in front of the agent is always visible, an agent that never walks
    forward into a ball it sees in front of it is never hit.

    ## Mission Space
    "avoid the moving balls and use the key to open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey;
    `pickup` on a ball does nothing.

    ## Observation Encoding
    The historical map, as SimpleDoorKey (balls encode as object 6, colour blue); a ball is shown
    where it was last seen.

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door: success.
    2. The agent walks forward into a ball: reward 0.
    3. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/DynamicDoorKey-v0`
    - `MiniGrid-DynamicDoorKey-Min5-Max10-View3`
    """

    n_obstacles = 2

    @staticmethod
    def _gen_mission() -> str:
        return "avoid the moving balls and use the key to open the door"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        color = self._rand_elem(COLOR_NAMES)
        inside = self._place_locked_door(color)
        self._place_in_room(Key(color))
        self.obstacles: list[ObstacleBall] = []
        for _ in range(self.n_obstacles):
            ball = ObstacleBall("blue")
            self._place_in_room(ball, avoid=(inside,))
            self.obstacles.append(ball)

    def _after_action(
        self, action: int, fwd_cell: WorldObj | None, terminated: bool, truncated: bool
    ) -> bool:
        if action == _FORWARD and isinstance(fwd_cell, ObstacleBall):
            return True  # collision
        if terminated or truncated:
            return terminated
        size_x, size_y = self.room_size
        grid = self.grid
        for ball in self.obstacles:
            bx, by = ball.cur_pos
            free = []
            for dx, dy in ((1, 0), (0, 1), (-1, 0), (0, -1)):
                nx, ny = bx + dx, by + dy
                if (
                    0 < nx < size_x - 1
                    and 0 < ny < size_y - 1
                    and grid.get(nx, ny) is None
                    and (nx, ny) != self.agent_pos
                ):
                    free.append((nx, ny))
            if free:
                nx, ny = free[int(self._rand_int(0, len(free)))]
                grid.set(bx, by, None)
                grid.set(nx, ny, ball)
                ball.cur_pos = (nx, ny)
        return terminated
