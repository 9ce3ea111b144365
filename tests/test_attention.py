"""--conditioning attention (models/attention.py): which cells are entities, the gathered attention
against a dense masked one, that a key's cell can read the door of its colour, and the option end
to end (train, eval, resume, refusals)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from main import main
from models import ACModel
from models.attention import HEAD_DIM, HEADS, AttentionTrunk, CellAttention, object_cells
from models.encoding import encode
from tests.conftest import TINY


def test_the_entities_are_the_object_cells_and_the_agent_in_the_newest_frame():
    obs = torch.zeros(2, 5, 5, 8, dtype=torch.uint8)  # two frames: 8 channels
    obs[..., :4] = torch.tensor([1, 0, 0, 4], dtype=torch.uint8)  # older frame: all empty
    obs[..., 4:] = torch.tensor([1, 0, 0, 4], dtype=torch.uint8)  # newest: empty ...
    obs[:, 4, 4, 4:] = torch.tensor([1, 0, 0, 2], dtype=torch.uint8)  # ... the agent, heading 2
    obs[0, 1, 2, 4:] = torch.tensor([5, 2, 0, 4], dtype=torch.uint8)  # a key
    obs[0, 3, 3, 4:] = torch.tensor([4, 1, 2, 4], dtype=torch.uint8)  # a locked door
    obs[0, 0, 0, 4:] = torch.tensor([2, 5, 0, 4], dtype=torch.uint8)  # a wall is no entity
    obs[1, 2, 2, :4] = torch.tensor([5, 2, 0, 4], dtype=torch.uint8)  # only in the older frame
    mask = object_cells(encode(obs, "onehot").permute(0, 3, 1, 2))
    assert mask[0].nonzero().flatten().tolist() == [1 * 5 + 2, 3 * 5 + 3, 4 * 5 + 4]
    assert mask[1].nonzero().flatten().tolist() == [4 * 5 + 4]  # nothing seen: the agent alone


def test_gathered_attention_equals_dense_attention_over_the_entity_cells():
    torch.manual_seed(0)
    att = CellAttention(5)
    torch.nn.init.normal_(att.out.weight)
    h = torch.randn(3, 5, 4, 4)
    entities = torch.rand(3, 16) < 0.3
    entities[1] = False
    entities[1, 7] = True  # one entity only; the maps hold different counts
    q, k, v = att.qkv(h).reshape(3, 3, HEADS, HEAD_DIM, 16).transpose(3, 4).unbind(1)
    scores = (q @ k.transpose(2, 3) / math.sqrt(HEAD_DIM)).masked_fill(
        ~entities[:, None, None, :], float("-inf"))
    dense = h + att.out((scores.softmax(-1) @ v).transpose(2, 3).reshape(3, HEADS * HEAD_DIM, 4, 4))
    assert torch.allclose(att(h, entities), dense, atol=1e-5)


def test_it_starts_as_the_plain_trunk_and_learns_to_read_other_cells():
    torch.manual_seed(0)
    att = CellAttention(4)
    h, entities = torch.randn(2, 4, 3, 3), torch.ones(2, 9, dtype=torch.bool)
    assert torch.equal(att(h, entities), h)  # zero-initialised output
    # a target at one cell that depends on another cell: after training, changing that other
    # cell changes the first cell's output
    target = h.clone()
    target[:, :, 0, 0] += h[:, :, 2, 2]
    opt = torch.optim.Adam(att.parameters(), lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        ((att(h, entities) - target) ** 2).mean().backward()
        opt.step()
    moved = h.clone()
    moved[:, :, 2, 2] += 3.0
    assert not torch.allclose(att(moved, entities)[:, :, 0, 0], att(h, entities)[:, :, 0, 0])


def test_the_trunk_trains_the_attention_end_to_end():
    torch.manual_seed(0)
    model = ACModel((10, 10, 4), encoding="egocentric", ego_radius=9, conditioning="attention")
    assert isinstance(model.conv, AttentionTrunk)
    obs = torch.randint(0, 6, (8, 10, 10, 4), dtype=torch.uint8)
    obs[..., 3] = 4
    obs[:, 4, 4, 3] = 1  # the agent, facing down
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(2):  # the first step makes the zero-initialised output projection non-zero
        opt.zero_grad()
        logits, values, _ = model(obs)
        (logits.logsumexp(1).mean() + values.pow(2).mean()).backward()
        opt.step()
    grad = model.conv.attention.qkv.weight.grad
    assert grad is not None and grad.abs().sum() > 0


@pytest.mark.slow
def test_conditioning_attention_trains_evaluates_and_must_match_to_resume(logdir: Path, capsys):
    common = ["--task", "RandomColoredDoorKey", "--logdir", str(logdir), "--savedir", "att"]
    assert main(["train", *common, *TINY, "--n_itr", "2", "--conditioning", "attention"]) == 0
    run = logdir / "ppo" / "randomcoloreddoorkey" / "att"
    state = torch.load(run / "acmodel.pt", weights_only=True)
    assert state["config"]["conditioning"] == "attention"
    assert any(k.startswith("conv.attention.") for k in state["model"])
    assert main(["eval", "--task", "RandomColoredDoorKey", "--logdir", str(logdir), "--loaddir",
                 "att", "--savedir", "e", "--num_eval", "2", "--num_videos", "0"]) == 0
    capsys.readouterr()
    assert main(["train", *common, *TINY, "--n_itr", "3"]) == 2
    assert "give --conditioning attention to resume it" in capsys.readouterr().err


@pytest.mark.parametrize("flags, says", [
    (["--global_pool", "broadcast"], "--conditioning attention and --global_pool broadcast"),
    (["--obs_encoding", "raw"], "--conditioning attention needs one-hot cells"),
])
def test_attention_refuses_what_it_cannot_combine_with(flags, says, capsys, tmp_path: Path):
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "x", "--logdir",
                 str(tmp_path), "--conditioning", "attention", *flags]) == 2
    assert says in capsys.readouterr().err
