"""Colour twins (--twins): only colours change, consistently in every frame; the teacher labels a
twin as any state (its answer follows the colours, not the positions); a training run makes,
learns from and logs them."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from algos.twins import TwinMaker, paint_twin, swap_twin
from main import main
from planners import build_teacher
from planners.mediator import perceive
from tests.conftest import TINY
from tests.plans import rl_plan
from utils.config import TrainConfig
from utils.errors import UserError

EMPTY, WALL, DOOR, KEY = 1, 2, 4, 5
RED, BLUE, GREY = 0, 2, 5


def room(door_colour: int = BLUE, held: int | None = None) -> np.ndarray:
    """A 6 x 6 walled map, two frames: the agent at (2, 2) heading right (holding a key of colour
    ``held`` if given), a red key at (1, 1), a blue key at (3, 3) (both seen in both frames), a
    locked door at (5, 2) seen in the newest frame only."""
    frame = np.zeros((6, 6, 4), dtype=np.uint8)
    frame[..., :3], frame[..., 3] = (EMPTY, 0, 0), 4
    frame[0, :, :3] = frame[5, :, :3] = frame[:, 0, :3] = frame[:, 5, :3] = (WALL, GREY, 0)
    frame[1, 1, :3], frame[3, 3, :3] = (KEY, RED, 0), (KEY, BLUE, 0)
    older, newest = frame.copy(), frame.copy()
    newest[5, 2, :3] = (DOOR, door_colour, 2)
    newest[2, 2, 3] = 0
    if held is not None:
        newest[2, 2, :3] = (KEY, held, 0)
    return np.concatenate([older, newest], axis=-1)


def changed_cells(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    return [tuple(map(int, c)) for c in np.argwhere((a != b).any(-1))]


def test_swap_exchanges_the_colours_of_two_objects_alike_in_every_frame():
    obs = room()
    twin = swap_twin(obs, np.random.default_rng(0))
    assert changed_cells(obs, twin) == [(1, 1), (3, 3)]
    for frame in (slice(0, 4), slice(4, 8)):  # both frames, only the colour channel
        assert twin[1, 1, frame].tolist() == [KEY, BLUE, 0, 4]
        assert twin[3, 3, frame].tolist() == [KEY, RED, 0, 4]
    # the door is alone of its type: a swap never touches it, whatever the draw
    assert all(changed_cells(obs, swap_twin(obs, np.random.default_rng(s))) == [(1, 1), (3, 3)]
               for s in range(20))


def test_a_held_key_swaps_with_the_key_on_the_floor():
    obs = room(held=BLUE)
    obs[3, 3, 4:7] = (EMPTY, 0, 0)  # the blue key was picked up
    twin = swap_twin(obs, np.random.default_rng(0))
    assert changed_cells(obs, twin) == [(1, 1), (2, 2)]
    assert twin[2, 2, 4:].tolist() == [KEY, RED, 0, 0] and twin[1, 1, 5] == BLUE


def test_no_swap_without_two_objects_alike_of_different_colours():
    obs = room()
    obs[1, 1, 1::4] = BLUE  # two blue keys
    assert swap_twin(obs, np.random.default_rng(0)) is None


def test_paint_changes_one_object_to_each_other_colour_alike():
    obs = room()
    seen: dict[tuple[int, int], set[int]] = {}
    for s in range(300):
        twin = paint_twin(obs, np.random.default_rng(s))
        (cell,) = changed_cells(obs, twin)
        new = int(twin[cell][-3])
        assert new != int(obs[cell][-3]) and twin[cell][-4] == obs[cell][-4]
        seen.setdefault(cell, set()).add(new)
    assert sorted(seen) == [(1, 1), (3, 3), (5, 2)]  # the door and both keys
    assert seen[(5, 2)] == {0, 1, 3, 4, 5}  # every colour but its own blue


def test_the_teacher_labels_a_twin_by_its_colours():
    """The shipped answers go for the key of the door's colour: on the twin that is the other
    key, at the other place."""
    cfg = TrainConfig(task="RandomColoredDoorKey").validate()
    teacher = build_teacher(cfg)
    obs = room()
    twin = swap_twin(obs, np.random.default_rng(0))
    for o, blue_key_at in ((obs, (3, 3)), (twin, (1, 1))):
        p = perceive("RandomColoredDoorKey", o[..., -4:])
        assert p.objects["blue key"] == blue_key_at
        plan = max(teacher.planner.distribution(p.text), key=lambda x: x[1])[0]
        assert plan == "go to <blue key>, pick up <blue key>"
    # heading east from (2, 2): toward the blue key at (3, 3) the agent moves forward; toward
    # the twin's, at (1, 1), it turns left
    real = teacher.batch_probs(obs[None, ..., -4:], deterministic=True)[0].argmax()
    mirrored = teacher.batch_probs(twin[None, ..., -4:], deterministic=True)[0].argmax()
    assert (real, mirrored) == (2, 0)


def test_a_twin_is_labelled_and_judged_by_the_teachers_expected_actions_not_a_draw():
    """On this room the shipped teacher's actions are split (forward 0.72, done 0.24, left 0.04);
    on its swap twin, left 0.94. The label is that expectation, and every twin counts as
    relabelled: comparing two draws would miss the pairs where both draws turn left."""
    teacher = build_teacher(TrainConfig(task="RandomColoredDoorKey").validate())
    obs = np.stack([room()] * 40)
    real = teacher.expected_probs(obs[:1, ..., -4:])[0]
    assert real.max() < 0.8  # a split distribution: draws would differ among themselves
    maker = TwinMaker("swap", teacher, seed=0)
    maker.add(obs)
    twins = maker.take(torch.device("cpu"))
    expected = teacher.expected_probs(twins.obs[:1, ..., -4:].numpy())[0]
    assert (twins.relabelled, len(twins)) == (40, 40)
    assert torch.allclose(twins.probs, torch.from_numpy(expected).float().expand(40, 7))
    assert expected.argmax() == 0 and real.argmax() == 2  # turn left against forward


def test_relabelled_twins_are_counted_and_can_be_the_only_ones_kept():
    """Painting one object of the room: a key taking a third colour leaves the teacher's choice
    as it was, so some painted twins are relabelled and some are not; --twin_keep relabelled
    keeps exactly the ones counted."""
    teacher = build_teacher(TrainConfig(task="RandomColoredDoorKey").validate())
    obs = np.stack([room()] * 60)
    real_action = teacher.expected_probs(obs[:1, ..., -4:])[0].argmax()
    kept = {}
    for keep in ("all", "relabelled"):
        maker = TwinMaker("paint", teacher, seed=0, keep=keep)
        maker.add(obs)
        kept[keep] = maker.take(torch.device("cpu"))
    every, relabelled = kept["all"], kept["relabelled"]
    changed = every.probs.argmax(1) != real_action
    assert 0 < every.relabelled == int(changed.sum()) < len(every)
    assert (relabelled.relabelled, len(relabelled)) == (every.relabelled, every.relabelled)
    assert torch.equal(relabelled.obs, every.obs[changed])
    with pytest.raises(UserError, match="--twin_keep 'changed'"):
        TwinMaker("swap", teacher, seed=0, keep="changed")
    # pairs: each relabelled twin, then its real state with the teacher's expected label
    maker = TwinMaker("paint", teacher, seed=0, keep="pairs")
    maker.add(obs)
    pairs = maker.take(torch.device("cpu"))
    assert (pairs.relabelled, len(pairs)) == (every.relabelled, 2 * every.relabelled)
    assert torch.equal(pairs.obs[::2], relabelled.obs)
    assert torch.equal(pairs.obs[1::2], torch.from_numpy(obs[: every.relabelled]))
    real = torch.from_numpy(teacher.expected_probs(obs[:1, ..., -4:])).float()
    assert torch.allclose(pairs.probs[1::2], real.expand(every.relabelled, 7))
    assert (pairs.probs[1::2].argmax(1) != pairs.probs[::2].argmax(1)).all()


def test_a_twin_the_teacher_cannot_answer_is_dropped_and_counted():
    """The shipped answers hold no text whose door matches no key: painting the door a third
    colour leaves the twin unanswered."""
    teacher = build_teacher(TrainConfig(task="RandomColoredDoorKey").validate())
    maker = TwinMaker("paint", teacher, seed=0)
    obs = np.stack([room()] * 60)
    maker.add(obs)
    twins = maker.take(torch.device("cpu"))
    assert 0 < twins.unanswered < 60 and len(twins) == 60 - twins.unanswered
    assert twins.obs.dtype == torch.uint8 and twins.probs.shape == (len(twins), 7)
    assert torch.allclose(twins.probs.sum(1), torch.ones(len(twins)))
    assert len(maker.take(torch.device("cpu"))) == 0  # the next iteration starts afresh


def test_the_twin_loss_is_the_cross_entropy_weighted_as_the_phases_teacher_loss():
    from tests.test_ppo_loss import KS_COEF, build

    ppo, mb, plan = build("behaviour")
    ppo.cfg.twin_coef = 0.5
    logits = ppo.model.logits.detach()
    probs = torch.softmax(torch.randn(3, 7, dtype=torch.float64), -1)
    twin_obs = torch.tensor([4, 0, 2], dtype=torch.uint8).reshape(3, 1, 1, 1)
    base, _ = ppo.loss(mb, plan)
    with_twins, stats = ppo.loss(mb, plan, (twin_obs, probs))
    ce = -(probs * torch.log_softmax(logits[[4, 0, 2]], -1)).sum(1).mean()
    assert stats["Twin Loss"].item() == pytest.approx(ce.item(), rel=1e-9)
    assert (with_twins - base).item() == pytest.approx(0.5 * KS_COEF * ce.item(), rel=1e-9)
    # without a teacher's loss (kickstarting over) the twins weigh nothing, unless
    # --twin_span run: then never less than --twin_coef
    assert "Twin Loss" not in ppo.loss(mb, rl_plan(ks=0.0), (twin_obs, probs))[1]
    ppo.cfg.twin_span = "run"
    rl = rl_plan(ks=0.0)
    after = ppo.loss(mb, rl, (twin_obs, probs))[0] - ppo.loss(mb, rl)[0]
    assert after.item() == pytest.approx(0.5 * ce.item(), rel=1e-9)
    with_twins, _ = ppo.loss(mb, plan, (twin_obs, probs))
    assert (with_twins - base).item() == pytest.approx(0.5 * KS_COEF * ce.item(), rel=1e-9)
    # --twin_span rl: nothing while the teacher's loss lasts, --twin_coef after it
    ppo.cfg.twin_span = "rl"
    assert "Twin Loss" not in ppo.loss(mb, plan, (twin_obs, probs))[1]
    after = ppo.loss(mb, rl, (twin_obs, probs))[0] - ppo.loss(mb, rl)[0]
    assert after.item() == pytest.approx(0.5 * ce.item(), rel=1e-9)


def test_twins_for_the_whole_run_outlast_the_teachers_loss(logdir: Path):
    """Kickstarting ends after one update: from then on only --twin_span run and rl still make
    twins (the teacher labels them although the update has no other loss against it), rl only
    then."""
    args = ["train", "--task", "RandomColoredDoorKey", "--algo", "ihac", "--twins", "swap",
            "--logdir", str(logdir), *TINY, "--n_itr", "3", "--imitation", "0",
            "--kickstart", "step:2/0.1/1", "--seed_list", "0"]
    made = {}
    for span in ("teacher", "run", "rl"):
        assert main([*args, "--twin_span", span, "--savedir", span]) == 0
        with open(logdir / "ppo" / "randomcoloreddoorkey" / span / "progress.csv") as f:
            table = list(csv.DictReader(f))
        assert float(table[-1]["Train/KS Coef"]) == 0
        made[span] = [float(r["Train/Twins"]) for r in table]
    assert made["teacher"][0] > 0 and made["teacher"][-1] == 0
    assert all(m > 0 for m in made["run"])
    assert made["rl"][0] == 0 and made["rl"][-1] > 0


def test_a_run_with_twins_makes_learns_from_and_logs_them(logdir: Path):
    args = ["train", "--task", "RandomColoredDoorKey", "--algo", "ihac", "--twins", "swap",
            "--logdir", str(logdir), *TINY, "--n_itr", "3", "--imitation", "1itr",
            "--kickstart", "step:2/0.1/3000", "--seed_list", "0"]
    assert main([*args, "--savedir", "a"]) == 0
    with open(logdir / "ppo" / "randomcoloreddoorkey" / "a" / "progress.csv", newline="") as f:
        table = list(csv.DictReader(f))
    made = [float(r["Train/Twins"]) for r in table]
    assert all(m > 0 for m in made) and table[0]["Train/Phase"] == "0.0"
    relabelled = [float(r["Train/Twins Relabelled"]) for r in table]
    assert all(0 <= r <= m for r, m in zip(relabelled, made, strict=True))
    assert all(math.isfinite(float(r["Train/Twin Loss"])) for r in table)
    # the same seed gives the same run
    assert main([*args, "--savedir", "b"]) == 0
    with open(logdir / "ppo" / "randomcoloreddoorkey" / "b" / "progress.csv", newline="") as f:
        again = list(csv.DictReader(f))
    keys = ("Train/Twins", "Train/Twin Loss", "Train/Policy Loss", "Test/Success Rate")
    assert [[r[k] for k in keys] for r in table] == [[r[k] for k in keys] for r in again]

