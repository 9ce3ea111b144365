"""The student network: shapes, frame stacking, LSTM memory."""

from __future__ import annotations

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
