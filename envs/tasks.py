"""The seven IHAC MiniGrid tasks.

Each class documents its task in Minigrid's docstring template. What they share (the room, the
rules of docs/method.md section 1 and the historical-map observation) lives in
:class:`envs.historical_map.HistoricalMapEnv`; a task only places its objects, and may act after
the agent's action (DynamicDoorKey's balls).
"""

from __future__ import annotations

from typing import Any

from minigrid.core.constants import COLOR_NAMES
from minigrid.core.world_object import Box, Door, Key, Lava, WorldObj

from envs.historical_map import FORWARD, HistoricalMapEnv, ObstacleBall

__all__ = [
    "ColoredDoorKeyEnv",
    "DynamicDoorKeyEnv",
    "KeyInBoxEnv",
    "LavaDoorKeyEnv",
    "RandomBoxKeyEnv",
    "SimpleDoorKeyEnv",
    "TwoDoorEnv",
]


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
        if action == FORWARD and isinstance(fwd_cell, ObstacleBall):
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
