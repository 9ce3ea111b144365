"""The mediator's observation -> text: exact texts and coordinates, colours, the text enumeration."""

from __future__ import annotations

import json

import numpy as np
import pytest
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

from envs import TASK_NAMES, make_env
from planners.answers import PUBLISHED_TABLES
from planners.mediator import (
    abstract_colours,
    concretize,
    enumerate_texts,
    make_text,
    perceive,
    sort_key,
    split_text,
    vocabulary,
)
from planners.oracle import oracle_plan
from planners.skills import parse_plan, plan_action

PUBLISHED = PUBLISHED_TABLES
WALL, EMPTY = (2, 0, 0), (1, 0, 0)


def key(c: str = "yellow") -> tuple[int, int, int]:
    return OBJECT_TO_IDX["key"], COLOR_TO_IDX[c], 0


def door(c: str = "yellow") -> tuple[int, int, int]:
    return OBJECT_TO_IDX["door"], COLOR_TO_IDX[c], 2  # locked


def box(c: str = "green") -> tuple[int, int, int]:
    return OBJECT_TO_IDX["box"], COLOR_TO_IDX[c], 0


LAVA = (OBJECT_TO_IDX["lava"], COLOR_TO_IDX["red"], 0)
BALL = (OBJECT_TO_IDX["ball"], COLOR_TO_IDX["blue"], 0)


def make_obs(room: tuple[int, int], agent: tuple[int, int, int], cells: dict | None = None,
             carried: tuple[int, int, int] | None = None, size: int = 10,
             unseen: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
    """A fully seen room (walls, empty floor) at the grid's top-left, with objects and the agent."""
    obs = np.zeros((size, size, 4), dtype=np.uint8)
    obs[:, :, 3] = 4
    sx, sy = room
    obs[:sx, :sy, :3] = WALL
    obs[1:sx - 1, 1:sy - 1, :3] = EMPTY
    for (x, y), enc in (cells or {}).items():
        obs[x, y, :3] = enc
    for x, y in unseen:
        obs[x, y, :3] = 0
    x, y, d = agent
    obs[x, y, :3] = carried if carried is not None else EMPTY
    obs[x, y, 3] = d
    return obs


# one hand-built situation per task: (task, obs, text, objects, held)
CASES = [
    ("SimpleDoorKey", make_obs((6, 6), (2, 2, 0), {(3, 4): key(), (0, 2): door()}),
     "Agent sees <key>, <door>, holds <nothing>.", {"key": (3, 4), "door": (0, 2)}, None),
    ("SimpleDoorKey", make_obs((6, 6), (2, 2, 1), unseen=((3, 3), (4, 4))),
     "Agent sees <nothing>, holds <nothing>.", {}, None),
    ("LavaDoorKey", make_obs((7, 5), (4, 2, 3), {(2, 3): LAVA, (6, 2): door("red")},
                             carried=key("red")),
     "Agent sees <door>, holds <key>.", {"door": (6, 2)}, "key"),
    ("ColoredDoorKey", make_obs((8, 8), (3, 3, 2), {(1, 1): key("blue"), (4, 4): key("red"),
                                                    (7, 5): door("green")}),
     "Agent sees <blue key>, <red key>, <green door>, holds <nothing>.",
     {"blue key": (1, 1), "red key": (4, 4), "green door": (7, 5)}, None),
    # the two keys in grid order (x, then y) as the original lists them, whatever their colours
    ("ColoredDoorKey", make_obs((8, 8), (3, 3, 2), {(1, 1): key("red"), (4, 4): key("blue"),
                                                    (7, 5): door("blue")}),
     "Agent sees <red key>, <blue key>, <blue door>, holds <nothing>.",
     {"red key": (1, 1), "blue key": (4, 4), "blue door": (7, 5)}, None),
    ("ColoredDoorKey", make_obs((8, 8), (3, 3, 2), {(2, 5): key("red"), (2, 1): key("blue")}),
     "Agent sees <blue key>, <red key>, holds <nothing>.",
     {"blue key": (2, 1), "red key": (2, 5)}, None),
    ("RandomColoredDoorKey", make_obs((8, 8), (3, 3, 2), {(4, 4): key("grey")},
                                      carried=key("purple")),
     "Agent sees <grey key>, holds <purple key>.", {"grey key": (4, 4)}, "purple key"),
    ("TwoDoor", make_obs((20, 20), (10, 9, 1), {(10, 10): key(), (19, 5): door(), (0, 12): door()},
                         size=20),
     "Agent sees <key>, <door1>, <door2>, holds <nothing>.",
     {"key": (10, 10), "door1": (0, 12), "door2": (19, 5)}, None),
    ("TwoDoor", make_obs((20, 20), (10, 9, 1), {(19, 5): door()}, carried=key(), size=20),
     "Agent sees <door1>, holds <key>.", {"door1": (19, 5)}, "key"),
    ("KeyInBox", make_obs((6, 7), (1, 1, 0), {(2, 3): box(), (3, 6): door()}),
     "Agent sees <box>, <door>, holds <nothing>.", {"box": (2, 3), "door": (3, 6)}, None),
    ("KeyInBox", make_obs((6, 7), (1, 1, 0), {(3, 6): door()}, carried=box()),
     "Agent sees <door>, holds <box>.", {"door": (3, 6)}, "box"),
    ("RandomBoxKey", make_obs((9, 6), (5, 3, 2), {(3, 4): box(), (2, 2): key(), (8, 2): door()}),
     "Agent sees <key>, <box>, <door>, holds <nothing>.",
     {"key": (2, 2), "box": (3, 4), "door": (8, 2)}, None),
    ("RandomBoxKey", make_obs((9, 6), (5, 3, 2), {(2, 2): key()}, carried=box()),
     "Agent sees <key>, holds <box>.", {"key": (2, 2)}, "box"),
    ("DynamicDoorKey", make_obs((7, 7), (3, 3, 0), {(2, 2): BALL, (4, 5): BALL, (5, 5): key(),
                                                    (3, 0): door()}),
     "Agent sees <key>, <door>, holds <nothing>.", {"key": (5, 5), "door": (3, 0)}, None),
]


@pytest.mark.parametrize(("task", "obs", "text", "objects", "held"), CASES)
def test_hand_built_texts(task, obs, text, objects, held) -> None:
    p = perceive(task, obs)
    assert p.text == text
    assert p.objects == objects
    assert list(p.objects) == list(objects)  # text order
    assert p.held == held
    x, y = np.argwhere(obs[:, :, 3] != 4)[0]
    assert p.agent == (x, y, obs[x, y, 3])


def test_all_tasks_have_a_hand_built_case() -> None:
    assert {c[0] for c in CASES} == set(TASK_NAMES)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_real_env_states_match_the_true_grid(task: str) -> None:
    """Objects named by perceive are exactly the keys / boxes / doors of the true grid in seen
    cells, at their true positions; the held object is env.carrying."""
    env = make_env(task).unwrapped
    rng = np.random.default_rng(0)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        for _ in range(60):
            p = perceive(task, obs)
            truth = {}
            for x in range(env.width):
                for y in range(env.height):
                    c = env.grid.get(x, y)
                    if c is not None and c.type in ("key", "box", "door") and env._memory[x, y, 0]:
                        truth[(x, y)] = c
            assert sorted(p.objects.values()) == sorted(truth)
            for name, pos in p.objects.items():
                assert name.split()[-1].rstrip("12") == truth[pos].type
                if task in ("ColoredDoorKey", "RandomColoredDoorKey"):
                    assert name.split()[0] == truth[pos].color
            held = env.carrying
            assert (p.held is None) == (held is None)
            if held is not None:
                assert p.held.split()[-1] == held.type
            assert p.agent == (*env.agent_pos, env.agent_dir)
            assert p.text == make_text(list(p.objects), p.held)
            obs, _, term, trunc, _ = env.step(int(rng.integers(7)))
            if term or trunc:
                break


def test_abstract_colours_and_concretize_round_trip() -> None:
    text = "Agent sees <red key>, <blue key>, <blue door>, holds <nothing>."
    abstract, mapping = abstract_colours(text)
    assert abstract == "Agent sees <color1 key>, <color2 key>, <color2 door>, holds <nothing>."
    assert mapping == {"color1": "red", "color2": "blue"}
    assert concretize(abstract, mapping) == text
    assert concretize("go to <color2 key>, pick up <color2 key>", mapping) == (
        "go to <blue key>, pick up <blue key>")
    held = "Agent sees <grey door>, holds <purple key>."
    assert abstract_colours(held) == ("Agent sees <color1 door>, holds <color2 key>.",
                                      {"color1": "grey", "color2": "purple"})
    plain = "Agent sees <key>, <door>, holds <nothing>."
    assert abstract_colours(plain) == (plain, {})
    assert concretize("go to <key>", {}) == "go to <key>"


def test_vocabulary() -> None:
    assert vocabulary("SimpleDoorKey") == ["key", "door"]
    assert vocabulary("TwoDoor") == ["key", "door1", "door2"]
    assert vocabulary("KeyInBox") == vocabulary("RandomBoxKey") == ["key", "box", "door"]
    coloured = vocabulary("ColoredDoorKey")
    assert len(coloured) == 12 and coloured[0] == "red key" and coloured[-1] == "grey door"
    assert vocabulary("RandomColoredDoorKey") == coloured
    assert vocabulary("IHAC/SimpleDoorKey-v0") == ["key", "door"]


def _rollout_texts(task: str, episodes: int) -> set[str]:
    """Texts of random, oracle, epsilon-oracle (30 % random) and two fixed-plan rollouts (explore
    everything; take the key, then explore everything: the texts where both TwoDoor doors are seen)."""
    env = make_env(task).unwrapped
    rng = np.random.default_rng(1)
    texts = set()
    for eps, fixed in ((1.0, None), (0.0, None), (0.3, None), (0.0, "explore"),
                       (0.0, "go to <key>, pick up <key>, explore")):
        for k in range(episodes):
            obs, _ = env.reset(seed=5000 + k)
            for _ in range(150):
                p = perceive(task, obs)
                texts.add(abstract_colours(p.text)[0])
                if rng.random() < eps:
                    a = int(rng.integers(7))
                else:
                    a = plan_action(parse_plan(fixed or oracle_plan(task, p)), obs, p)
                obs, _, term, trunc, _ = env.step(a)
                if term or trunc:
                    break
    return texts


# one door task, the two-door one and a box task in the quick tier; the others are slow
ENUMERATED_QUICKLY = ("SimpleDoorKey", "TwoDoor", "KeyInBox")


@pytest.mark.parametrize("task", [t if t in ENUMERATED_QUICKLY else
                                  pytest.param(t, marks=pytest.mark.slow) for t in TASK_NAMES])
def test_enumeration_is_exactly_what_rollouts_produce(task: str) -> None:
    texts = enumerate_texts(task)
    assert len(texts) == len(set(texts))
    seen = _rollout_texts(task, 8 if task == "TwoDoor" else 40)
    assert seen <= set(texts), seen - set(texts)  # complete
    assert seen == set(texts), set(texts) - seen  # and nothing impossible
    assert enumerate_texts(task) == texts  # stable


def _unordered(text: str) -> tuple[frozenset[str], str | None]:
    seen, held = split_text(text)
    return frozenset(seen), held


@pytest.mark.parametrize(("task", "table"), [("SimpleDoorKey", "simpledoorkey"),
                                             ("LavaDoorKey", "simpledoorkey"),
                                             ("TwoDoor", "twodoor"),
                                             ("ColoredDoorKey", "coloreddoorkey"),
                                             ("RandomColoredDoorKey", "coloreddoorkey")])
def test_enumeration_equals_published_tables(task: str, table: str) -> None:
    published = json.loads(PUBLISHED.read_text())["tasks"][table]
    ours = {_unordered(t) for t in enumerate_texts(task)}
    for part in ("answers", "choices"):
        assert {_unordered(t) for t in published[part]} == ours


def test_box_tasks_against_published_choices() -> None:
    """The published KeyInBox / RandomBoxKey choices share one list; RandomBoxKey's texts cover
    it, KeyInBox's are the subset where the key is inside the box until the box is opened."""
    published = {_unordered(t) for t in
                 json.loads(PUBLISHED.read_text())["tasks"]["randomboxkey"]["choices"]}
    random_box = {_unordered(t) for t in enumerate_texts("RandomBoxKey")}
    key_in_box = {_unordered(t) for t in enumerate_texts("KeyInBox")}
    assert published <= random_box
    assert key_in_box <= random_box
    assert (frozenset({"box"}), "key") not in key_in_box  # one key, inside the box


def test_texts_are_in_canonical_order() -> None:
    for task in TASK_NAMES:
        for text in enumerate_texts(task):
            seen, _ = split_text(text)
            assert seen == sorted(seen, key=sort_key)
