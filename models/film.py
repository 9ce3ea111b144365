"""--conditioning film: the conv trunk's features scaled and shifted by a summary of the whole map.

A colour-matching task (RandomColoredDoorKey: take the key with the door's colour) asks "does this
key have that door's colour?" wherever the two are. Plain 3x3 convolutions see that only where
both fall in one receptive field. Here a few learned queries attend over every cell of the first
conv layer's features (MapSummary: "the door is red", wherever it is), and that summary sets a
per-channel scale and shift of the second layer's features in every cell (FiLM, Perez et al.
2018; BabyAI's models condition on the instruction this way), so that a red key can light up a
channel only when the door is red. The network learns what to summarise and how to modulate:
nothing about the task's rule is computed for it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

QUERIES, QUERY_DIM = 4, 16  # the summary: 4 learned queries of 16 dimensions (64 numbers)


class MapSummary(nn.Module):
    """(B, C, W, H) -> (B, QUERIES * QUERY_DIM): each learned query's attention-weighted mean of
    every cell's value vector (softmax over the cells of the query's dot product with each
    cell's key)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.keys = nn.Conv2d(channels, QUERY_DIM, 1)
        self.values = nn.Conv2d(channels, QUERY_DIM, 1)
        self.queries = nn.Parameter(torch.randn(QUERIES, QUERY_DIM) / math.sqrt(QUERY_DIM))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keys = self.keys(x).flatten(2)      # (B, D, N)
        values = self.values(x).flatten(2)  # (B, D, N)
        scores = torch.einsum("qd,bdn->bqn", self.queries, keys) / math.sqrt(QUERY_DIM)
        summary = torch.einsum("bqn,bdn->bqd", scores.softmax(dim=-1), values)
        return summary.flatten(1)


class Film(nn.Module):
    """x * (1 + gamma(z)) + beta(z) per channel; zero-initialised, so it starts as the identity
    and the network starts as the unconditioned CNN."""

    def __init__(self, summary_size: int, channels: int) -> None:
        super().__init__()
        self.coefs = nn.Linear(summary_size, 2 * channels)
        nn.init.zeros_(self.coefs.weight)
        nn.init.zeros_(self.coefs.bias)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.coefs(z)[:, :, None, None].chunk(2, dim=1)
        return x * (1 + gamma) + beta


class FilmTrunk(nn.Module):
    """The student's three 3x3 convs (16, 32, 64 channels; padding 1; ReLU) with the second
    layer's pre-activation FiLM-conditioned on a MapSummary of the first layer's output;
    ``trunk_pool`` as in conv_trunk (a 2x2 max-pool before the third conv, or a stride of 2 in
    it)."""

    def __init__(self, channels: int, trunk_pool: str = "none") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.summary = MapSummary(16)
        self.film = Film(QUERIES * QUERY_DIM, 32)
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if trunk_pool == "max" else nn.Identity()
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1, stride=2 if trunk_pool == "stride" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(x))
        z = self.summary(h)
        h = torch.relu(self.film(self.conv2(h), z))  # as BabyAI: conv, FiLM, then ReLU
        return torch.relu(self.conv3(self.pool(h)))
