"""The student network: shapes, frame stacking, LSTM memory."""

from __future__ import annotations

import pytest
import torch

from models import ACModel


def test_cnn_shapes():
    model = ACModel((10, 10, 4))
    logits, values, memory = model(torch.zeros(5, 10, 10, 4, dtype=torch.uint8))
    assert logits.shape == (5, 7) and values.shape == (5,) and memory is None
    assert [m.out_channels for m in model.conv if isinstance(m, torch.nn.Conv2d)] == [16, 32, 64]


def test_frame_stack_channels():
    model = ACModel((20, 20, 12))  # TwoDoor, --frame_stack 3
    logits, values, _ = model(torch.zeros(2, 20, 20, 12, dtype=torch.uint8))
    assert logits.shape == (2, 7) and values.shape == (2,)


def test_recurrent_memory_carries_information():
    torch.manual_seed(0)
    model = ACModel((10, 10, 4), recurrent=True)
    obs = torch.randint(0, 10, (3, 10, 10, 4), dtype=torch.uint8)
    _, _, memory = model(obs)
    assert memory.shape == (3, model.memory_size)
    logits_with, _, _ = model(obs, memory)
    logits_fresh, _, _ = model(obs, torch.zeros_like(memory))
    assert not torch.allclose(logits_with, logits_fresh)
    logits_none, _, _ = model(obs)
    assert torch.allclose(logits_none, logits_fresh)


def test_onehot_encoding_sets_one_channel_per_code():
    from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

    from models.encoding import encode

    obs = torch.zeros(1, 3, 2, 8, dtype=torch.uint8)  # two stacked frames
    obs[0, :, :, 3] = obs[0, :, :, 7] = 4             # direction channel: not the agent
    obs[0, 1, 0, :4] = torch.tensor([OBJECT_TO_IDX["door"], COLOR_TO_IDX["blue"], 2, 4])
    obs[0, 2, 1, 4:] = torch.tensor([OBJECT_TO_IDX["key"], COLOR_TO_IDX["red"], 0, 1])
    x = encode(obs, "onehot")
    assert x.shape == (1, 3, 2, 50) and (x.sum(-1) == 8).all()  # 4 codes x 2 frames per cell
    on = set(torch.nonzero(x[0, 1, 0]).flatten().tolist())
    assert on == {OBJECT_TO_IDX["door"], 11 + COLOR_TO_IDX["blue"], 17 + 2, 20 + 4,
                  25 + 0, 25 + 11, 25 + 17, 25 + 20 + 4}  # frame 2 of that cell: unseen
    assert 25 + OBJECT_TO_IDX["key"] in set(torch.nonzero(x[0, 2, 1]).flatten().tolist())
    model = ACModel((3, 2, 8), encoding="onehot")
    assert model.conv[0].in_channels == 50
    logits, values, _ = model(obs)
    assert logits.shape == (1, 7) and values.shape == (1,)


@pytest.mark.parametrize("heading, ahead, right", [(0, (3, 1), (2, 2)), (1, (2, 2), (1, 1)),
                                                   (2, (1, 1), (2, 0)), (3, (2, 0), (3, 1))])
def test_egocentric_encoding_puts_what_is_ahead_in_front(heading, ahead, right):
    """Agent at (2, 1) of a 4 x 3 room: the cell one step ahead lands at row S//2 + 1 of the
    centre column, the cell to its right at column S//2 + 1, whatever the heading."""
    from minigrid.core.constants import OBJECT_TO_IDX

    from models.encoding import egocentric, encode

    obs = torch.zeros(1, 4, 3, 4, dtype=torch.uint8)
    obs[..., 3] = 4
    obs[0, 2, 1] = torch.tensor([OBJECT_TO_IDX["empty"], 0, 0, heading])
    obs[0, ahead[0], ahead[1], 0] = OBJECT_TO_IDX["key"]
    obs[0, right[0], right[1], 0] = OBJECT_TO_IDX["door"]
    ego, inside = egocentric(obs)
    c = 3  # S = 2 * max(4, 3) - 1 = 7, the agent at the centre (3, 3)
    assert ego.shape == (1, 7, 7, 4) and ego[0, c, c, 3] == heading
    assert ego[0, c + 1, c, 0] == OBJECT_TO_IDX["key"]
    assert ego[0, c, c + 1, 0] == OBJECT_TO_IDX["door"]
    assert inside.sum() == 12 and (ego[~inside] == 0).all()  # the room's 12 cells, no more
    x = encode(obs, "egocentric")
    assert x.shape == (1, 7, 7, 25)
    assert (x[0][inside[0]].sum(-1) == 4).all() and (x[0][~inside[0]] == 0).all()
    model = ACModel((4, 3, 4), encoding="egocentric")
    logits, values, _ = model(obs)
    assert logits.shape == (1, 7) and values.shape == (1,)


def test_ego_radius_folds_far_cells_onto_the_edge_in_their_direction():
    """TwoDoor's 20 x 20 room, the agent near a corner, facing right: a door 15 cells ahead and 12
    to the right is beyond the 9-cell radius on both axes, so it lands on the far corner of the
    19 x 19 map; a key 3 cells ahead stays where it was. Rooms up to 10 x 10 are not folded."""
    from minigrid.core.constants import OBJECT_TO_IDX

    from models.encoding import encode, encoded_shape

    obs = torch.zeros(1, 20, 20, 4, dtype=torch.uint8)
    obs[..., 3] = 4
    obs[0, 1, 2] = torch.tensor([OBJECT_TO_IDX["empty"], 0, 0, 0])  # heading 0: right, +x
    obs[0, 16, 14, 0] = OBJECT_TO_IDX["door"]  # 15 ahead (+x), 12 to the right (+y)
    obs[0, 4, 2, 0] = OBJECT_TO_IDX["key"]
    full, folded = encode(obs, "egocentric"), encode(obs, "egocentric", ego_radius=9)
    assert full.shape == (1, 39, 39, 25) and folded.shape == (1, 19, 19, 25)
    assert encoded_shape((20, 20, 4), "egocentric", 9) == (19, 19, 25)
    door, key = OBJECT_TO_IDX["door"], OBJECT_TO_IDX["key"]
    assert full[0, 19 + 15, 19 + 12, door] == 1 and full[0, 19 + 3, 19, key] == 1
    assert folded[0, 18, 18, door] == 1 and folded[0, ..., door].sum() == 1
    assert folded[0, 9 + 3, 9, key] == 1 and folded[0, ..., key].sum() == 1
    # the cells within the radius are untouched
    assert torch.equal(folded[0, 1:18, 1:18], full[0, 11:28, 11:28])
    small = obs[:, :10, :10]
    assert torch.equal(encode(small, "egocentric", ego_radius=9), encode(small, "egocentric"))
    model = ACModel((20, 20, 4), encoding="egocentric", ego_radius=9)
    logits, values, _ = model(obs)
    assert logits.shape == (1, 7) and values.shape == (1,) and model.conv[0].in_channels == 25


def test_global_max_pool_sees_a_door_the_same_wherever_it_is():
    """--global_pool max: the 64 pooled features of a red door in an empty room are the same
    whichever cell it is on, as long as everything within the convs' reach of it looks alike
    (6 cells: three 3x3 convs, then the max over their outputs around it); only the flattened,
    position-wise features change. So a colour match needs no weights per position of the
    door."""
    from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

    from models.acmodel import embed

    def room(door_xy: tuple[int, int]) -> torch.Tensor:
        obs = torch.zeros(1, 20, 20, 4, dtype=torch.uint8)
        obs[..., 0] = OBJECT_TO_IDX["empty"]
        obs[..., 3] = 4
        obs[0, 19, 19] = torch.tensor([OBJECT_TO_IDX["empty"], 0, 0, 2])  # heading 2: left
        obs[0, door_xy[0], door_xy[1], :3] = torch.tensor(
            [OBJECT_TO_IDX["door"], COLOR_TO_IDX["red"], 2])
        return obs

    torch.manual_seed(0)
    model = ACModel((20, 20, 4), encoding="egocentric", global_pool="max")
    plain = ACModel((20, 20, 4), encoding="egocentric")
    assert model.actor[0].in_features == plain.actor[0].in_features + 64
    with torch.no_grad():
        a, b = (embed(model.conv, room(xy), "egocentric", 0, "max") for xy in ((7, 7), (8, 6)))
    assert a.shape == (1, 64 * 39 * 39 + 64)
    assert torch.equal(a[:, -64:], b[:, -64:]) and not torch.equal(a[:, :-64], b[:, :-64])
    logits, values, _ = model(room((7, 7)))
    assert logits.shape == (1, 7) and values.shape == (1,)


@pytest.mark.parametrize("trunk_pool, third", [("max", ["MaxPool2d", "Conv2d", "ReLU"]),
                                               ("stride", ["Conv2d", "ReLU"])])
def test_trunk_pool_quarters_the_cells_after_the_second_conv(trunk_pool, third):
    """--trunk_pool max / stride: the 19 x 19 egocentric map (TwoDoor's 20 x 20 room, radius 9)
    reaches the heads as 10 x 10 (odd sides rounded up, so the map's last row and column still
    count), which shrinks the heads' input four-fold; the student and the teacher critic are
    built alike, and a pooled student still tells an agent's surroundings apart."""
    from models import TeacherCritic
    from models.acmodel import embed

    obs = torch.zeros(2, 20, 20, 4, dtype=torch.uint8)
    obs[..., 0], obs[..., 3] = 1, 4  # empty cells, no agent...
    obs[:, 10, 10, 3] = 0  # ...but one, heading right
    obs[1, 19, 10, 0] = 2  # a wall at the far edge, folded onto the map's last column
    pooled = ACModel((20, 20, 4), encoding="egocentric", ego_radius=9, trunk_pool=trunk_pool)
    plain = ACModel((20, 20, 4), encoding="egocentric", ego_radius=9)
    assert [type(m).__name__ for m in pooled.conv] == ["Conv2d", "ReLU", "Conv2d", "ReLU", *third]
    assert pooled.conv[-2].stride == ((2, 2) if trunk_pool == "stride" else (1, 1))
    assert pooled.actor[0].in_features == 64 * 10 * 10 and plain.actor[0].in_features == 64 * 19 * 19
    critic = TeacherCritic((20, 20, 4), "egocentric", 9, trunk_pool=trunk_pool)
    assert critic.head[0].in_features == 64 * 10 * 10
    with torch.no_grad():
        x = embed(pooled.conv, obs, "egocentric", 9)
    assert x.shape == (2, 6400) and not torch.equal(x[0], x[1])
    logits, values, _ = pooled(obs)
    assert logits.shape == (2, 7) and values.shape == (2,)
    # any side: the embedding size the heads are built for is what the trunk gives
    for side in (7, 10, 11):
        net = ACModel((side, side, 4), trunk_pool=trunk_pool)
        assert net(torch.zeros(1, side, side, 4, dtype=torch.uint8))[0].shape == (1, 7)


def test_network_cost_counts_the_multiply_adds_of_every_layer():
    """bench/network_cost.py's count, checked against the layer shapes by hand: 19 x 19 cells,
    3x3 convs 25 -> 16 -> 32 -> 64 (padding 1), then the actor (7) and critic (1) heads on the
    flattened map; the strided trunk's third conv and heads see 10 x 10 cells."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from network_cost import forward_macs

    obs = torch.zeros(1, 10, 10, 4, dtype=torch.uint8)
    obs[..., 3] = 4
    obs[0, 3, 4, 3] = 1
    heads = lambda cells: 2 * 64 * cells * 64 + 64 * 7 + 64 * 1  # noqa: E731
    convs = 361 * 9 * (25 * 16 + 16 * 32)
    for pool, cells in (("none", 361), ("stride", 100)):
        net = ACModel((10, 10, 4), encoding="egocentric", ego_radius=9, trunk_pool=pool)
        assert forward_macs(net, net.encode(obs)) == convs + cells * 9 * 32 * 64 + heads(cells)


def test_global_pool_broadcast_lets_the_agents_cell_see_the_whole_map():
    """--global_pool broadcast: each channel's map-wide maximum joins every cell before the third
    conv, so the third conv's output at the agent's cell (the map's centre) depends on an object
    far beyond the three 3x3 convs' 7 x 7 reach (a door in the room's far corner); without it,
    it does not. The heads' input size is unchanged; the student and teacher critic alike."""
    from models import TeacherCritic

    obs = torch.zeros(2, 10, 10, 4, dtype=torch.uint8)
    obs[..., 0], obs[..., 3] = 1, 4  # empty cells, no agent...
    obs[:, 1, 1, 3] = 0  # ...but one in a corner, heading right
    obs[1, 9, 9, :3] = torch.tensor([4, 0, 1], dtype=torch.uint8)  # a red door, 8 cells away
    for pool in ("none", "max"):
        plain = ACModel((10, 10, 4), encoding="egocentric", ego_radius=9, trunk_pool=pool)
        wide = ACModel((10, 10, 4), encoding="egocentric", ego_radius=9, trunk_pool=pool,
                       global_pool="broadcast")
        assert wide.conv[-2].in_channels == 64 and plain.conv[-2].in_channels == 32
        assert wide.actor[0].in_features == plain.actor[0].in_features
        critic = TeacherCritic((10, 10, 4), "egocentric", 9, "broadcast", trunk_pool=pool)
        assert critic.conv[-2].in_channels == 64
        with torch.no_grad():
            for net, sees in ((plain, False), (wide, True)):
                out = net.conv(net.encode(obs).permute(0, 3, 1, 2))
                at = 9 if pool == "none" else 9 // 2  # the agent's cell: the 19 x 19 map's centre
                agent = out[:, :, at, at]
                assert (not torch.equal(agent[0], agent[1])) == sees
