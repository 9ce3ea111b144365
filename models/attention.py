"""--conditioning attention: the cells that hold an object attend to each other (self-attention).

A colour-matching task (RandomColoredDoorKey: take the key with the door's colour) asks whether
this key has that door's colour, wherever the two are. A dot product between two cells' learned
embeddings is the natural "same colour" test: when the query and key projections weigh the colour
channels alike, a key's query scores highest against the door of its colour, and the door's value
vector ("I am a door") is added to that key's cell. This is relational RL's entity attention
(Zambaldi et al. 2019, whose Box-World rule is the same match of a key's colour with a lock's),
here over the first conv layer's features, with the entities being the cells that hold an object
(door, key, ball, box, goal, lava, the agent: the newest frame's object-type channels), so that
the softmax is spread over a handful of objects and not over hundreds of empty cells. Every cell
reads the objects (a residual, zero-initialised output: the network starts as the plain CNN);
nothing about which key matches is computed for it.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from models.encoding import ONEHOT_CHANNELS

HEADS, HEAD_DIM = 2, 16
# one frame's one-hot channels: MiniGrid's object types 4-10 (door, key, ball, box, goal, lava,
# agent; 0-3, unseen, empty, wall and floor, are not entities), and the direction channel's values
# 0-3, set only in the agent's cell (the map draws the agent by its heading)
OBJECT_TYPES, AGENT_HEADINGS = slice(4, 11), slice(20, 24)


def object_cells(x: torch.Tensor) -> torch.Tensor:
    """One-hot input (B, C, W, H), the newest frame last -> bool (B, W * H): the cells holding an
    object, and the agent's (so that a map with nothing seen yet still has one entity)."""
    newest = x[:, x.shape[1] - ONEHOT_CHANNELS:]
    objects = newest[:, OBJECT_TYPES].amax(dim=1) + newest[:, AGENT_HEADINGS].amax(dim=1)
    return objects.flatten(1) > 0


class CellAttention(nn.Module):
    """(B, C, W, H) features, (B, W * H) entity mask -> (B, C, W, H): each cell plus a learned
    projection of its multi-head attention over the entity cells."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.qkv = nn.Conv2d(channels, 3 * HEADS * HEAD_DIM, 1)
        self.out = nn.Conv2d(HEADS * HEAD_DIM, channels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, h: torch.Tensor, entities: torch.Tensor) -> torch.Tensor:
        b, _, w, ht = h.shape
        q, k, v = self.qkv(h).reshape(b, 3, HEADS, HEAD_DIM, w * ht).transpose(3, 4).unbind(1)
        # (B, heads, N, D) each. Only the entity cells are keys and values: gathered to the
        # batch's largest count K (a handful of objects, not the map's hundreds of cells; one
        # host read of K per forward pass)
        count = int(entities.sum(dim=1).max())
        cells = entities.to(torch.uint8).topk(count, dim=1).indices  # (B, K), entities first
        real = entities.gather(1, cells)  # False where a map has fewer than K
        index = cells[:, None, :, None].expand(-1, HEADS, -1, HEAD_DIM)
        k, v = k.gather(2, index), v.gather(2, index)
        scores = q @ k.transpose(2, 3) / math.sqrt(HEAD_DIM)  # (B, heads, N, K)
        scores = scores.masked_fill(~real[:, None, None, :], float("-inf"))
        read = scores.softmax(dim=-1) @ v  # (B, heads, N, D)
        read = read.transpose(2, 3).reshape(b, HEADS * HEAD_DIM, w, ht)
        return h + self.out(read)


class AttentionTrunk(nn.Module):
    """The student's three 3x3 convs (16, 32, 64 channels; padding 1; ReLU) with CellAttention
    on the first layer's output; ``trunk_pool`` as in conv_trunk."""

    def __init__(self, channels: int, trunk_pool: str = "none") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.attention = CellAttention(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2, ceil_mode=True) if trunk_pool == "max" else nn.Identity()
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1, stride=2 if trunk_pool == "stride" else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.attention(F.relu(self.conv1(x)), object_cells(x))
        h = F.relu(self.conv2(h))
        return F.relu(self.conv3(self.pool(h)))
