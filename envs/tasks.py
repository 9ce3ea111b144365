"""The eight IHAC MiniGrid tasks: the original's four (SimpleDoorKey, LavaDoorKey, ColoredDoorKey,
TwoDoor: room for room the original code's) and four of our design.

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

# The original tasks draw colours from MiniGrid's names in alphabetical order; ours (KeyInBox,
# RandomBoxKey, DynamicDoorKey) from COLOR_NAMES as MiniGrid orders them.
SORTED_COLOURS: tuple[str, ...] = tuple(sorted(COLOR_NAMES))

__all__ = [
    "ColoredDoorKeyEnv",
    "DynamicDoorKeyEnv",
    "KeyInBoxEnv",
    "LavaDoorKeyEnv",
    "RandomBoxKeyEnv",
    "RandomColoredDoorKeyEnv",
    "SimpleDoorKeyEnv",
    "TwoDoorEnv",
]


class SimpleDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    The original LLM4Teach task. One room of random size (5-10 cells a side, walls included) in
    a 10x10 grid. A locked door of a random colour sits on one of the four walls (each with odds
    1/4), on a random non-corner cell of it; the agent starts on a random free cell with a random
    direction; a key of the door's colour lies on a random free cell inside. The agent (3x3 view)
    must pick up the key and open the door. Every env seed gives the original code's room: the
    same random draws in the same order (docs/method.md section 1).

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
        door, _ = self._original_door_cell()
        color = self._rand_elem(SORTED_COLOURS)
        self._put_locked_door(color, door)
        self._place_agent()
        self._place_in_rect(Key(color))


class LavaDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    The original LLM4Teach task: SimpleDoorKey's room (the same draws), then one lava cell on a
    random free cell inside the room, never on the cell in front of (inside of) the door. The key
    may lie on that cell. Entering the lava ends the episode with reward 0.

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
        door, inside = self._original_door_cell()
        color = self._rand_elem(SORTED_COLOURS)
        self._put_locked_door(color, door)
        self._place_agent()
        self._place_in_rect(Key(color))
        self._place_in_rect(Lava(), avoid=inside)


class ColoredDoorKeyEnv(HistoricalMapEnv):
    """
    ## Description
    The original LLM4Teach task: SimpleDoorKey's room with a blue locked door, a blue key and a
    red key (always these colours). Neither key lies on the cell in front of (inside of) the
    door. Only one object can be carried: the red key, if picked up, must be dropped first.

    ## Mission Space
    "use the key of the door's colour to open the door"

    ## Action Space
    MiniGrid's 7 actions (left, right, forward, pickup, drop, toggle, done), as SimpleDoorKey.

    ## Observation Encoding
    The historical map, as SimpleDoorKey.

    ## Rewards
    `1 - 0.9 * (step_count / max_steps)` on success, 0 otherwise.

    ## Termination
    1. The agent opens the locked door (toggle while carrying the blue key): success.
    2. Truncation at max_steps = 150.

    ## Registered Configurations
    - `IHAC/ColoredDoorKey-v0`
    - `MiniGrid-ColoredDoorKey-Min5-Max10-View3`
    """

    @staticmethod
    def _gen_mission() -> str:
        return "use the key of the door's colour to open the door"

    def _door_and_key_colours(self) -> tuple[str, str]:
        return "blue", "red"

    def _place_objects(self, size_x: int, size_y: int) -> None:
        door, inside = self._original_door_cell()
        door_color, other_color = self._door_and_key_colours()
        self._put_locked_door(door_color, door)
        self._place_agent()
        if self._draws_key_count:
            self._rand_int(2, 3)  # the original draws its number of keys (always 2)
        self._place_in_rect(Key(door_color), avoid=inside)
        self._place_in_rect(Key(other_color), avoid=inside)

    _draws_key_count = True


class RandomColoredDoorKeyEnv(ColoredDoorKeyEnv):
    """
    ## Description
    Our extension of ColoredDoorKey (not in the paper): the door's colour is drawn at random, and
    so is the other key's (two distinct colours of MiniGrid's six), so the student must match a
    key's colour to the door's. Otherwise the original's rules: the door on one of the four walls
    with equal odds, neither key on the cell inside the door.

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
    - `IHAC/RandomColoredDoorKey-v0`
    - `MiniGrid-RandomColoredDoorKey-Min5-Max10-View3`
    """

    _draws_key_count = False

    def _door_and_key_colours(self) -> tuple[str, str]:
        door_color, other_color = self._rand_subset(SORTED_COLOURS, 2)
        return door_color, other_color


class TwoDoorEnv(HistoricalMapEnv):
    """
    ## Description
    The original LLM4Teach task. One 20x20 room filling a 20x20 grid. Two locked doors of the
    same random colour sit on opposite walls (right/left or bottom/top with equal odds, each at a
    random non-corner cell); the one key of that colour lies in the 2x2 block of cells x, y in
    9..10 at the room's centre; then the agent starts on a random free cell.

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
        if self._rand_int(0, 2) == 0:  # doors on the right and left walls
            doors = [(size_x - 1, int(self._rand_int(1, size_y - 1))),
                     (0, int(self._rand_int(1, size_y - 1)))]
        else:  # doors on the bottom and top walls
            doors = [(int(self._rand_int(1, size_x - 1)), size_y - 1),
                     (int(self._rand_int(1, size_x - 1)), 0)]
        color = self._rand_elem(SORTED_COLOURS)
        for cell in doors:
            self.put_obj(Door(color, is_locked=True), *cell)
        self.door_pos = doors[0]
        self.place_obj(Key(color), top=(size_x // 2 - 1, size_y // 2 - 1), size=(2, 2))
        self._place_agent()


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
