"""The colour-match diagnostics' data (bench/match_probe.py, bench/imitation_fit.py --door_twins):
the twin of each state has the door painted the other key's colour and the other answer, so no
layout tells the answer without the colours; a held key is not a key on the floor."""

from __future__ import annotations

import torch

from bench.imitation_fit import door_twins
from bench.match_probe import COLOURS, DOOR, KEY, matching_key_states
from models.encoding import ONEHOT_CHANNELS


def room(door_colour: int, door_seen_before: bool) -> torch.Tensor:
    """A 5 x 5 map, two frames: the agent at (2, 2) heading right, a red (0) key at (1, 1), a
    blue (2) key at (3, 3), a locked door at (4, 2) (in the older frame only if asked)."""
    obs = torch.zeros(1, 5, 5, 8, dtype=torch.uint8)
    obs[..., :4] = obs[..., 4:] = torch.tensor([1, 0, 0, 4], dtype=torch.uint8)
    obs[0, 2, 2, 4:] = torch.tensor([10, 0, 0, 0], dtype=torch.uint8)
    for frame in (0, 4):
        obs[0, 1, 1, frame:frame + 4] = torch.tensor([5, 0, 0, 4], dtype=torch.uint8)
        obs[0, 3, 3, frame:frame + 4] = torch.tensor([5, 2, 0, 4], dtype=torch.uint8)
    for frame in (0, 4) if door_seen_before else (4,):
        obs[0, 4, 2, frame:frame + 4] = torch.tensor([4, door_colour, 2, 4], dtype=torch.uint8)
    return obs


def test_each_state_comes_with_a_twin_whose_door_has_the_other_keys_colour():
    x, key_cells, labels, near = matching_key_states(room(2, True), ego_radius=0)
    assert len(x) == 2 and key_cells[0].equal(key_cells[1]) and near[0] == near[1]
    cells = x.flatten(1, 2)  # (2, S * S, 2 frames * 25)
    newest = cells[..., ONEHOT_CHANNELS:]
    door = int(newest[0, :, DOOR].nonzero())
    keys = newest[0, :, KEY].nonzero().flatten().tolist()
    assert sorted([int(labels[0]), int(labels[1])]) == keys  # one answer each
    for i in range(2):  # the labelled key has the door's colour, in both frames
        for frame in (cells[i, :, :ONEHOT_CHANNELS], newest[i]):
            assert frame[door, COLOURS].argmax() == frame[int(labels[i]), COLOURS].argmax()
            assert frame[door, COLOURS].sum() == 1
    # nothing but the door's colour differs between the two
    changed = (x[0] != x[1]).flatten(0, 1).any(-1).nonzero().flatten().tolist()
    assert changed == [door]


def test_a_state_where_no_key_has_the_doors_colour_is_left_out():
    assert len(matching_key_states(room(1, False), ego_radius=0)[0]) == 0
    x, _, _, _ = matching_key_states(room(0, False), ego_radius=0)  # door only in the newest frame
    assert len(x) == 2 and x[1].flatten(0, 1)[:, :ONEHOT_CHANNELS][:, DOOR].sum() == 0


def test_without_twins_the_states_stand_alone():
    x, _, labels, _ = matching_key_states(room(2, True), ego_radius=0, twins=False)
    assert len(x) == 1 and labels.tolist() == [50]  # the blue key, the door's colour


def test_a_held_key_is_no_key_on_the_floor():
    obs = room(2, True)
    obs[0, 2, 2, 4:] = torch.tensor([5, 2, 0, 0], dtype=torch.uint8)  # the agent holds a blue key
    obs[0, 3, 3, 4:] = torch.tensor([1, 0, 0, 4], dtype=torch.uint8)  # (no longer on the floor)
    assert len(matching_key_states(obs, ego_radius=0)[0]) == 0
    x, _, labels, _ = matching_key_states(obs, ego_radius=0, held_keys=True)
    assert len(x) == 2 and 40 in labels.tolist()  # the centre of the 9 x 9 map: the agent's cell
    assert len(door_twins(obs)) == 0


def test_the_policy_fits_twins_repaint_the_door_in_the_raw_map():
    obs = room(2, True)
    (twin,) = door_twins(obs)
    assert twin[4, 2, 1] == 0 and twin[4, 2, 5] == 0  # red, as the other key, in both frames
    twin[4, 2, 1] = twin[4, 2, 5] = 2
    assert twin.equal(obs[0])  # nothing else differs
