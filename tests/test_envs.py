"""Tests of the IHAC MiniGrid tasks (envs/), parametrized over every registered id."""

from __future__ import annotations

import importlib
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Door, Key, Lava, Wall

import envs
from envs.historical_map import HistoricalMapEnv, ObstacleBall, unseen_tile
from tests.solver import solve_episode, solver_action

ALL_IDS = list(envs.ALL_ENV_IDS)


def _make(env_id: str, **kwargs: object) -> HistoricalMapEnv:
    env = gymnasium.make(env_id, **kwargs).unwrapped
    assert isinstance(env, HistoricalMapEnv)
    return env


def _check_agent_channel(env: HistoricalMapEnv, obs: np.ndarray) -> None:
    ax, ay = env.agent_pos
    not4 = np.argwhere(obs[:, :, 3] != 4)
    assert not4.tolist() == [[ax, ay]]
    assert obs[ax, ay, 3] == env.agent_dir


# ---------------------------------------------------------------- registration / API
def test_api() -> None:
    assert envs.TASK_NAMES == (
        "SimpleDoorKey",
        "LavaDoorKey",
        "ColoredDoorKey",
        "TwoDoor",
        "KeyInBox",
        "RandomBoxKey",
        "DynamicDoorKey",
        "RandomColoredDoorKey",
    )
    assert envs.ORIGINAL_TASKS == ("SimpleDoorKey", "LavaDoorKey", "ColoredDoorKey", "TwoDoor")
    assert len(envs.ALL_ENV_IDS) == 16 == len(set(envs.ALL_ENV_IDS))
    assert envs.ENV_IDS["SimpleDoorKey"] == "IHAC/SimpleDoorKey-v0"
    assert envs.ORIGINAL_IDS["TwoDoor"] == "MiniGrid-TwoDoor-Min20-Max20"
    for name in envs.TASK_NAMES:
        for key in (
            name,
            name.lower(),
            name.upper(),
            envs.ENV_IDS[name],
            envs.ORIGINAL_IDS[name],
        ):
            assert envs.resolve_task(key) == name
    with pytest.raises(
        ValueError, match=r"unknown task 'DoorKey'; valid tasks: SimpleDoorKey, "
    ):
        envs.resolve_task("DoorKey")
    env = envs.make_env(
        "minigrid-lavadoorkey-min5-max10-view3", render_mode="rgb_array"
    )
    assert isinstance(env.unwrapped, envs.tasks.LavaDoorKeyEnv)
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3
    importlib.reload(envs)  # a second import must not re-register
    assert all(i in gymnasium.registry for i in envs.ALL_ENV_IDS)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_check_env(env_id: str) -> None:
    env = _make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)
    max_size = env.max_size
    assert env.observation_space == gymnasium.spaces.Box(
        0, 255, (max_size, max_size, 4), np.uint8
    )
    assert env.action_space == gymnasium.spaces.Discrete(7)
    assert (
        env.agent_view_size == 3 and env.max_steps == 150 and not env.see_through_walls
    )


@pytest.mark.parametrize("env_id", ALL_IDS)
@pytest.mark.parametrize("seed", [0, 7])
def test_determinism(env_id: str, seed: int) -> None:
    env1, env2 = _make(env_id), _make(env_id)
    obs1, _ = env1.reset(seed=seed)
    obs2, _ = env2.reset(seed=seed)
    np.testing.assert_array_equal(obs1, obs2)
    actions = np.random.default_rng(seed).integers(0, 7, size=50)
    for a in actions:
        r1 = env1.step(int(a))
        r2 = env2.step(int(a))
        np.testing.assert_array_equal(r1[0], r2[0])
        assert r1[1:] == r2[1:]
        if r1[2] or r1[3]:
            obs1, _ = env1.reset(seed=seed + 1)
            obs2, _ = env2.reset(seed=seed + 1)
            np.testing.assert_array_equal(obs1, obs2)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_room_generation(env_id: str) -> None:
    env = _make(env_id)
    for seed in range(30):
        env.reset(seed=seed)
        sx, sy = env.room_size
        assert env.min_size <= sx <= env.max_size and env.min_size <= sy <= env.max_size
        ax, ay = env.agent_pos
        assert 0 < ax < sx - 1 and 0 < ay < sy - 1 and 0 <= env.agent_dir < 4
        for x in range(env.width):
            for y in range(env.height):
                c = env.grid.get(x, y)
                if x >= sx or y >= sy:
                    assert c is None
                elif x in (0, sx - 1) or y in (0, sy - 1):
                    assert isinstance(c, (Wall, Door))
                    if isinstance(c, Door):
                        assert c.is_locked
                        # never a corner
                        assert (x in (0, sx - 1)) != (y in (0, sy - 1))
        doors = [o for o in env.grid.grid if isinstance(o, Door)]
        keys = [o for o in env.grid.grid if isinstance(o, Key)]
        boxes = [o for o in env.grid.grid if o is not None and o.type == "box"]
        task = envs.resolve_task(env_id)
        assert len(doors) == (2 if task == "TwoDoor" else 1)
        assert len({d.color for d in doors}) == 1
        if task in ("ColoredDoorKey", "RandomColoredDoorKey"):
            assert len(keys) == 2 and len({k.color for k in keys}) == 2
            assert doors[0].color in {k.color for k in keys}
            if task == "ColoredDoorKey":
                assert doors[0].color == "blue" and {k.color for k in keys} == {"blue", "red"}
            dx, dy = doors[0].cur_pos
            inside = (min(max(dx, 1), sx - 2), min(max(dy, 1), sy - 2))
            assert all(tuple(k.cur_pos) != inside for k in keys)
        elif task in ("KeyInBox", "RandomBoxKey"):
            assert len(boxes) == 1
            inside = [boxes[0].contains] if boxes[0].contains is not None else []
            all_keys = keys + inside
            assert len(all_keys) == 1 and all_keys[0].color == doors[0].color
            if task == "KeyInBox":
                assert keys == []
        else:
            assert len(keys) == 1 and keys[0].color == doors[0].color
        if task == "TwoDoor":
            assert 9 <= keys[0].cur_pos[0] <= 10 and 9 <= keys[0].cur_pos[1] <= 10
        if task == "LavaDoorKey":
            lava = [o for o in env.grid.grid if isinstance(o, Lava)]
            assert len(lava) == 1
            dx, dy = doors[0].cur_pos
            inside = (min(max(dx, 1), sx - 2), min(max(dy, 1), sy - 2))
            assert tuple(lava[0].cur_pos) != inside
        if task == "DynamicDoorKey":
            balls = [o for o in env.grid.grid if isinstance(o, ObstacleBall)]
            assert len(balls) == 2 and all(not b.can_pickup() for b in balls)


def test_random_colored_door_key_draws_every_colour_pair() -> None:
    """Our extension: the door's colour (and the other key's) is drawn, not always blue."""
    env = _make(envs.ENV_IDS["RandomColoredDoorKey"])
    pairs = set()
    for seed in range(300):
        env.reset(seed=seed)
        door = next(o for o in env.grid.grid if isinstance(o, Door))
        other = next(o for o in env.grid.grid if isinstance(o, Key) and o.color != door.color)
        pairs.add((door.color, other.color))
    assert len(pairs) == 30


def test_random_box_key_branches() -> None:
    env = _make(envs.ENV_IDS["RandomBoxKey"])
    in_box = 0
    for seed in range(200):
        env.reset(seed=seed)
        box = next(o for o in env.grid.grid if o is not None and o.type == "box")
        in_box += box.contains is not None
    assert 70 < in_box < 130


# ---------------------------------------------------------------- observation
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_visibility_rollout(env_id: str) -> None:
    """Fast visibility equals MiniGrid's; the map only holds what was seen, as last seen."""
    env = _make(env_id)
    rng = np.random.default_rng(1)
    for seed in (0, 1):
        obs, _ = env.reset(seed=seed)
        seen: set[tuple[int, int]] = set()
        for t in range(151):
            visible = env.visible_cells()
            assert sorted(visible) == sorted(env._visible_cells_generic())
            seen |= set(visible)
            nonzero = {tuple(p) for p in np.argwhere(obs[:, :, 0] != 0).tolist()}
            assert nonzero <= seen
            assert nonzero == seen  # every seen cell encodes as >= 1 (empty is 1)
            unseen = np.ones(obs.shape[:2], dtype=bool)
            for x, y in seen:
                unseen[x, y] = False
            assert not obs[unseen][:, :3].any()
            _check_agent_channel(env, obs)
            ax, ay = env.agent_pos
            for x, y in visible:  # currently visible cells show their true content
                if (x, y) != (ax, ay):
                    c = env.grid.get(x, y)
                    expected = (1, 0, 0) if c is None else c.encode()
                    assert tuple(obs[x, y, :3]) == expected
            carried = (1, 0, 0) if env.carrying is None else env.carrying.encode()
            assert tuple(obs[ax, ay, :3]) == carried
            if t == 150:
                break
            obs, _, terminated, truncated, info = env.step(int(rng.integers(0, 7)))
            if not info["success"]:  # only an opened door lets the agent see out
                sx, sy = env.room_size
                assert not obs[sx:, :, :3].any() and not obs[:, sy:, :3].any()
            if terminated or truncated:
                break


def test_reset_sees_only_the_view() -> None:
    env = _make(envs.ENV_IDS["SimpleDoorKey"])
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        visible = set(env.visible_cells())
        # rows 1-2 always; row 0 if not hidden and not off the grid
        assert 6 <= len(visible) <= 9
        for x in range(env.width):
            for y in range(env.height):
                assert obs[x, y, :3].any() == ((x, y) in visible)


def test_wall_blocks_sight() -> None:
    """Hand-checked 3x3 view: agent at (2, 2) facing +x (its left is y = 1)."""
    env = _make(envs.ENV_IDS["SimpleDoorKey"])
    env.reset(seed=0)
    env.grid.wall_rect(0, 0, 10, 10)
    for x in range(1, 9):
        for y in range(1, 9):
            env.grid.set(x, y, None)
    env.carrying = None
    env.agent_pos, env.agent_dir = (2, 2), 0
    env.grid.set(3, 2, Wall())  # in front
    env.grid.set(3, 3, Wall())  # front-right
    env.grid.set(4, 2, Wall())  # two ahead
    # two ahead, right: hidden behind (3, 3), (3, 2) and (4, 2)
    env.grid.set(4, 3, Key("red"))
    # two ahead, left: seen past the free cell (3, 1)
    env.grid.set(4, 1, Ball("green"))
    env._alloc_memory(env.width, env.height)
    obs = env.gen_obs()
    assert sorted(env.visible_cells()) == sorted(env._visible_cells_generic())
    assert tuple(obs[4, 3, :3]) == (0, 0, 0)
    assert tuple(obs[4, 1, :3]) == Ball("green").encode()
    assert tuple(obs[4, 2, :3]) == Wall().encode()
    assert tuple(obs[3, 1, :3]) == (1, 0, 0)
    # behind, beside and beyond the view
    for x, y in [(1, 1), (1, 2), (1, 3), (2, 4), (5, 2)]:
        assert tuple(obs[x, y, :3]) == (0, 0, 0)


def test_memory_and_carried_object() -> None:
    """After a pickup the agent's cell shows the key; the key's old cell is remembered empty."""
    env = _make(envs.ENV_IDS["SimpleDoorKey"])
    obs, _ = env.reset(seed=3)
    key = next(o for o in env.grid.grid if isinstance(o, Key))
    key_pos = tuple(key.cur_pos)
    assert tuple(obs[env.agent_pos[0], env.agent_pos[1], :3]) == (1, 0, 0)
    for _ in range(150):
        obs, *_ = env.step(solver_action(env))
        if env.carrying is not None:
            break
    assert env.carrying is key
    ax, ay = env.agent_pos
    assert tuple(obs[ax, ay, :3]) == (key.encode()[0], key.encode()[1], 0)
    assert tuple(obs[key_pos[0], key_pos[1], :3]) == (1, 0, 0)
    _check_agent_channel(env, obs)


# ---------------------------------------------------------------- rewards and dynamics
@pytest.mark.parametrize("env_id", ALL_IDS)
def test_solvable(env_id: str) -> None:
    env = gymnasium.make(env_id)
    for seed in range(20):
        success, steps = solve_episode(env, seed)
        assert success, f"{env_id} seed {seed} not solved in {steps} steps"


def test_success_reward_and_info() -> None:
    env = _make(envs.ENV_IDS["ColoredDoorKey"])
    _, info = env.reset(seed=5)
    assert info["success"] is False
    total = 0.0
    for t in range(1, 151):  # noqa: B007 (t is read after the loop)
        _, reward, terminated, _, info = env.step(solver_action(env))
        assert isinstance(info["success"], bool)
        total += float(reward)
        if terminated:
            break
        assert reward == 0 and not info["success"]
    assert info["success"] and terminated
    assert reward == pytest.approx(1 - 0.9 * t / 150) and total == reward


def test_lava_ends_with_zero() -> None:
    env = _make(envs.ENV_IDS["LavaDoorKey"])
    env.reset(seed=0)
    ax, ay = env.agent_pos
    env.agent_dir = 0
    env.grid.set(ax + 1, ay, Lava())
    _, reward, terminated, _, info = env.step(2)
    assert terminated and reward == 0 and not info["success"]


def test_truncation() -> None:
    env = _make(envs.ENV_IDS["SimpleDoorKey"])
    env.reset(seed=0)
    for t in range(1, 151):
        _, reward, terminated, truncated, _ = env.step(6)
        assert truncated == (t == 150) and not terminated and reward == 0


def test_dynamic_balls() -> None:
    env = _make(envs.ENV_IDS["DynamicDoorKey"])
    moved = 0
    for seed in range(5):
        env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        for _ in range(60):
            before = [tuple(b.cur_pos) for b in env.obstacles]
            a = int(rng.integers(0, 7))
            if a == 2 and isinstance(env.grid.get(*env.front_pos), ObstacleBall):
                a = 6
            _, _, terminated, truncated, info = env.step(a)
            after = [tuple(b.cur_pos) for b in env.obstacles]
            moved += before != after
            sx, sy = env.room_size
            for (bx, by), ball in zip(after, env.obstacles, strict=False):
                assert env.grid.get(bx, by) is ball
                assert 0 < bx < sx - 1 and 0 < by < sy - 1
                assert (bx, by) != tuple(env.agent_pos)
            for (x0, y0), (x1, y1) in zip(before, after, strict=False):
                assert abs(x0 - x1) + abs(y0 - y1) <= 1
            # never hit: we never walked into a ball
            assert not terminated or info["success"]
            if terminated or truncated:
                break
    assert moved > 50

    # Walking forward into a ball: collision, reward 0, the ball does not move.
    env.reset(seed=0)
    ax, ay = env.agent_pos
    env.agent_dir = 0
    ball = env.obstacles[0]
    env.grid.set(*ball.cur_pos, None)
    if env.grid.get(ax + 1, ay) is not None:
        env.grid.set(ax + 1, ay, None)
    env.put_obj(ball, ax + 1, ay)
    _, reward, terminated, _, info = env.step(2)
    assert terminated and reward == 0 and not info["success"]
    assert tuple(env.agent_pos) == (ax, ay) and tuple(ball.cur_pos) == (ax + 1, ay)
    env.reset(seed=0)
    env.agent_dir = 0
    env.grid.set(*env.obstacles[0].cur_pos, None)
    env.put_obj(env.obstacles[0], env.agent_pos[0] + 1, env.agent_pos[1])
    env.step(3)  # pickup does nothing on an obstacle ball
    assert env.carrying is None


# ---------------------------------------------------------------- rendering
@pytest.mark.parametrize("task", ["SimpleDoorKey", "TwoDoor"])
def test_render_memory(task: str) -> None:
    env = _make(envs.ENV_IDS[task])
    obs, _ = env.reset(seed=2)
    for a in (0, 2, 2, 1, 2):
        obs, *_ = env.step(a)
    img = env.render_memory(tile_size=8)
    assert img.dtype == np.uint8 and img.shape == (env.height * 8, env.width * 8, 3)
    for x in range(env.width):
        for y in range(env.height):
            tile = img[y * 8 : (y + 1) * 8, x * 8 : (x + 1) * 8]
            if obs[x, y, 0] == 0:
                assert (tile == unseen_tile(8)).all()
            else:
                assert not (tile == unseen_tile(8)).all()
    # never-seen cells look like no MiniGrid tile: neither a wall nor the floor
    wall = Grid.render_tile(Wall(), tile_size=8)
    floor = Grid.render_tile(None, tile_size=8)
    assert not (unseen_tile(8) == wall).all() and not (unseen_tile(8) == floor).all()
    assert np.abs(unseen_tile(8).astype(int) - wall.astype(int)).mean() > 40


def test_video_frames_say_what_they_show(tmp_path) -> None:
    from algos.evaluate import run_episodes
    from planners.oracle import OracleTeacher
    from planners.teacher import TeacherPolicy
    from utils.video import frame_title

    result = run_episodes(TeacherPolicy(OracleTeacher("SimpleDoorKey"), True), "SimpleDoorKey",
                          2, num_envs=2, record=1)
    frames = result.videos[0]
    env = _make(envs.ENV_IDS["SimpleDoorKey"])
    room_h = env.unwrapped.height * 32  # MiniGrid's render tile
    assert len(frames) == result.episodes[0].length + 1  # the start, then one per step
    assert all(f.shape == frames[0].shape for f in frames)
    band = frames[0].shape[0] - room_h
    assert band > 0 and frames[0].shape[1] == 2 * env.unwrapped.width * 32
    header = frames[0][:band]
    assert (header < 100).any() and (header == 255).any()  # dark text on white
    assert frame_title("SimpleDoorKey", 0, 0, None) == "SimpleDoorKey   episode 0   step 0   start"
    assert frame_title("SimpleDoorKey", 3, 7, 3).endswith("step 7   action: pick up")
    # frames differ where the title does: each names its own step
    assert not (frames[0][:band] == frames[1][:band]).all()
