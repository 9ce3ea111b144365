"""How the student sees the historical map (--obs_encoding).

- raw: MiniGrid's codes as floats (object, colour, state, direction), as the original.
- onehot: each frame's 4 codes become 25 one-hot channels: MiniGrid's 11 object types, 6 colours,
  3 door states and the direction channel's 5 values (4 = not the agent).
- egocentric: onehot on a map centred on the agent and turned to its heading, so "the key is two
  cells ahead, one to the right" looks the same wherever the agent stands and whichever way it
  faces. The map grows to S x S, S = 2 * max(W, H) - 1, so that every cell of the room stays in
  view from any cell; cells beyond the room are all-zero (not even "unseen").
  With ``ego_radius`` R > 0 the map keeps (2R + 1) x (2R + 1) cells around the agent, and every
  cell farther away is folded onto the nearest edge cell (the channel-wise max): the edge says
  "there is a door somewhere beyond, to the left", without the cost of the whole map. Rooms up to
  R + 1 cells across (all tasks but TwoDoor, at the default R = 9) are not folded at all.
"""

from __future__ import annotations

from functools import lru_cache

import torch

ONEHOT_SIZES = (11, 6, 3, 5)
ONEHOT_CHANNELS = sum(ONEHOT_SIZES)
ENCODINGS = ("raw", "onehot", "egocentric")
# MiniGrid's headings: 0 right (+x), 1 down (+y), 2 left, 3 up
_DIR_TO_VEC = torch.tensor([[1, 0], [0, 1], [-1, 0], [0, -1]])


def encoded_shape(obs_shape: tuple[int, int, int], encoding: str,
                  ego_radius: int = 0) -> tuple[int, int, int]:
    """(W', H', C') of the network input for uint8 observations (W, H, C), C = 4 per frame."""
    w, h, c = obs_shape
    if encoding == "raw":
        return w, h, c
    channels = c // 4 * ONEHOT_CHANNELS
    if encoding == "onehot":
        return w, h, channels
    s = 2 * max(w, h) - 1
    if ego_radius:
        s = min(s, 2 * ego_radius + 1)
    return s, s, channels


def onehot(obs: torch.Tensor) -> torch.Tensor:
    """uint8 (B, W, H, C) -> float (B, W, H, C // 4 * 25)."""
    b, w, h, c = obs.shape
    offsets = torch.tensor([0, 11, 17, 20], device=obs.device)
    limits = torch.tensor(ONEHOT_SIZES, device=obs.device) - 1
    codes = torch.minimum(obs.view(b, w, h, c // 4, 4).long(), limits) + offsets
    out = torch.zeros(b, w, h, c // 4, ONEHOT_CHANNELS, device=obs.device)
    return out.scatter_(-1, codes, 1.0).view(b, w, h, -1)


@lru_cache(maxsize=8)  # a forward pass needs the same table every time
def _ego_offsets(size: int, device: torch.device) -> torch.Tensor:
    """(4, S, S, 2) map offsets of output cell (u, v) for each heading: u steps ahead (row),
    v steps to the right (column), u and v in [-(size - 1), size - 1]."""
    r = torch.arange(-(size - 1), size, device=device)
    u, v = torch.meshgrid(r, r, indexing="ij")
    fwd = _DIR_TO_VEC.to(device)
    right = fwd.roll(-1, dims=0)  # turning right from heading d gives heading d + 1
    return (u[None, ..., None] * fwd[:, None, None, :]
            + v[None, ..., None] * right[:, None, None, :])


def egocentric(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 (B, W, H, C) -> (uint8 (B, S, S, C), bool (B, S, S) inside the room), recentred and
    turned by the newest frame's agent (the one cell whose direction code is below 4). Row u,
    column v of the output is the cell u - (size - 1) steps ahead of the agent and v - (size - 1)
    steps to its right; cells beyond the room are 0."""
    b, w, h, c = obs.shape
    size = max(w, h)
    direction = obs[..., -1].reshape(b, -1)  # the newest frame's direction channel
    cell = torch.argmin(direction, dim=1)    # the agent's cell (0-3 there, 4 elsewhere)
    heading = direction.gather(1, cell[:, None]).squeeze(1).long().clamp(max=3)
    pos = torch.stack([cell // h, cell % h], dim=1)  # (B, 2) as (x, y)
    xy = pos[:, None, None, :] + _ego_offsets(size, obs.device)[heading]  # (B, S, S, 2)
    inside = (xy[..., 0] >= 0) & (xy[..., 0] < w) & (xy[..., 1] >= 0) & (xy[..., 1] < h)
    flat = (xy[..., 0].clamp(0, w - 1) * h + xy[..., 1].clamp(0, h - 1)).reshape(b, -1)
    out = obs.reshape(b, w * h, c).gather(1, flat[..., None].expand(-1, -1, c))
    side = 2 * size - 1
    inside = inside.view(b, side, side)
    return out.view(b, side, side, c) * inside[..., None], inside


def fold(x: torch.Tensor, radius: int) -> torch.Tensor:
    """float (B, S, S, C) centred map -> (B, S', S', C), S' = min(S, 2 * radius + 1): the cells
    farther than ``radius`` from the centre along an axis are max-pooled into that axis's edge
    cell, rows first, then columns (so a corner holds everything beyond both edges)."""
    side = x.shape[1]
    if not radius or side <= 2 * radius + 1:
        return x
    lo, hi = side // 2 - radius, side // 2 + radius
    for dim in (1, 2):
        x = torch.cat([x.narrow(dim, 0, lo + 1).amax(dim, keepdim=True),
                       x.narrow(dim, lo + 1, hi - lo - 1),
                       x.narrow(dim, hi, side - hi).amax(dim, keepdim=True)], dim=dim)
    return x


def encode(obs: torch.Tensor, encoding: str, ego_radius: int = 0) -> torch.Tensor:
    """uint8 (B, W, H, C) -> float network input (B, W', H', C') (``encoded_shape``)."""
    if encoding == "raw":
        return obs.float()
    if encoding == "onehot":
        return onehot(obs)
    ego, inside = egocentric(obs)
    return fold(onehot(ego) * inside[..., None], ego_radius)  # out-of-room cells: no channel
