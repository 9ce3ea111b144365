"""The student: a CNN actor-critic over the historical map (docs/method.md section 3)."""

from __future__ import annotations

import torch
from torch import nn

from models.attention import AttentionTrunk
from models.encoding import encode, encoded_shape
from models.film import FilmTrunk
from utils.precision import autocast

HIDDEN = 64
# the heads' hidden activation (--head_activation). With ReLU, a 64-unit layer fed by tens of
# thousands of conv features dies: one Adam step moves every weight by about the learning rate,
# so a unit's input can jump by more than its whole range, and a unit negative on every state
# gets no gradient again (measured: 0-5 of the critic's 64 units alive at the end of default
# runs, bench/dead_units.py). Tanh units saturate but never stop learning.
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class BroadcastMax(nn.Module):
    """(B, C, W, H) -> (B, 2C, W, H): every cell also gets each channel's maximum over the map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, x.amax(dim=(2, 3), keepdim=True).expand_as(x)], dim=1)


def conv_trunk(channels: int, trunk_pool: str = "none", global_pool: str = "none",
               conditioning: str = "none") -> nn.Module:
    """Three 3x3 convs (16, 32, 64 channels; padding 1; ReLU); ``trunk_pool`` "max" puts a 2x2
    max-pool (odd sides rounded up) before the third, "stride" gives the third a stride of 2;
    ``global_pool`` "broadcast" feeds the third each channel's map-wide maximum in every cell;
    ``conditioning`` "film" conditions the second on a summary of the whole map (models/film.py),
    "attention" lets the first layer's object cells attend to each other (models/attention.py)."""
    if conditioning == "film":
        return FilmTrunk(channels, trunk_pool)
    if conditioning == "attention":
        return AttentionTrunk(channels, trunk_pool)
    # either pool quarters the cells the third conv and the heads' first layers see, which are
    # most of the network's cost on the 19 x 19 egocentric map, without folding the map; the
    # strided conv keeps which of the 3 x 3 cells under it held what, the max-pool does not
    pool = [nn.MaxPool2d(2, ceil_mode=True)] if trunk_pool == "max" else []
    stride = 2 if trunk_pool == "stride" else 1
    # broadcast: "the held key is red" (the agent's cell) and "a red door is somewhere" meet in
    # one cell, where one ReLU unit of the third conv can tell whether the colours match
    broadcast = [BroadcastMax()] if global_pool == "broadcast" else []
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), *pool, *broadcast,
        nn.Conv2d(32 * (2 if broadcast else 1), 64, 3, padding=1, stride=stride), nn.ReLU(),
    )


def embedding_size(width: int, height: int, global_pool: str, trunk_pool: str = "none") -> int:
    if trunk_pool in ("max", "stride"):
        width, height = -(-width // 2), -(-height // 2)
    return 64 * width * height + (64 if global_pool == "max" else 0)


def network_options(cfg) -> dict:
    """The keyword arguments of ACModel and TeacherCritic that a run's Config sets."""
    return {"encoding": cfg.obs_encoding, "ego_radius": cfg.ego_radius,
            "global_pool": cfg.global_pool, "trunk_pool": cfg.trunk_pool,
            "head_activation": cfg.head_activation,
            "conditioning": cfg.conditioning}


def embed(conv: nn.Module, obs: torch.Tensor, encoding: str = "raw",
          ego_radius: int = 0, global_pool: str = "none") -> torch.Tensor:
    """uint8 (B, W, H, C) observations -> flat conv features (B, embedding_size). A float input
    is taken as already encoded (RolloutStorage.encode_observations)."""
    if not obs.is_floating_point():
        obs = encode(obs, encoding, ego_radius)
    x = conv(obs.permute(0, 3, 1, 2))  # (B, W, H, C) -> (B, C, W, H)
    # flatten in (W, H, C) order: the conv output is already laid out so in memory (the input
    # permute makes it channels-last), so this costs no copy (measured ~18% faster)
    flat = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
    if global_pool == "max":
        # "a red door is somewhere" as one feature, wherever it is: comparing it with the key
        # ahead or in hand no longer needs separate weights for every position of the door
        return torch.cat([flat, x.amax(dim=(2, 3))], dim=1)
    return flat


class Precision:
    """--precision on a network: its layers run under bf16 autocast, its outputs stay float32."""

    precision = "fp32"

    def set_precision(self, precision: str) -> None:
        self.precision = precision

    def _autocast(self, x: torch.Tensor):
        return autocast(x.device.type, self.precision)


class ACModel(Precision, nn.Module):
    """Three 3x3 convs (16, 32, 64; padding 1; ReLU), then separate actor and critic MLPs.

    Input: uint8 observations (B, W, H, C) with C = 4 * frame_stack, as the envs emit them,
    fed as raw codes, one-hot channels or an agent-centred one-hot map (``encoding``,
    models/encoding.py; ``ego_radius`` folds a large egocentric map). ``trunk_pool`` "max" halves
    the map's sides inside the CNN (conv_trunk); ``global_pool`` "max" adds
    the last conv layer's maximum over the map to the flattened features; ``head_activation``
    is the hidden activation of both heads (relu or tanh). With ``recurrent`` an LSTM cell
    (hidden 64) sits between the CNN and both heads; its memory is (B, 2 * 64) = concatenated
    (h, c).
    """

    def __init__(self, obs_shape: tuple[int, int, int], n_actions: int = 7,
                 recurrent: bool = False, encoding: str = "raw", ego_radius: int = 0,
                 global_pool: str = "none", head_activation: str = "relu",
                 trunk_pool: str = "none", conditioning: str = "none") -> None:
        super().__init__()
        width, height, channels = encoded_shape(obs_shape, encoding, ego_radius)
        self.obs_shape = tuple(obs_shape)
        self.recurrent = recurrent
        self.encoding, self.ego_radius, self.global_pool = encoding, ego_radius, global_pool
        self.conv = conv_trunk(channels, trunk_pool, global_pool, conditioning)
        embedding = embedding_size(width, height, global_pool, trunk_pool)
        if recurrent:
            self.lstm = nn.LSTMCell(embedding, HIDDEN)
            embedding = HIDDEN
        act = ACTIVATIONS[head_activation]
        self.actor = nn.Sequential(nn.Linear(embedding, HIDDEN), act(),
                                   nn.Linear(HIDDEN, n_actions))
        self.critic = nn.Sequential(nn.Linear(embedding, HIDDEN), act(), nn.Linear(HIDDEN, 1))

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        """uint8 observations -> this network's float input (what ``forward`` would encode)."""
        return encode(obs, self.encoding, self.ego_radius)

    @property
    def memory_size(self) -> int:
        return 2 * HIDDEN if self.recurrent else 0

    def forward(self, obs: torch.Tensor, memory: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Return (action logits (B, A), values (B,), next memory (B, 128) or None), float32."""
        with self._autocast(obs):
            x = embed(self.conv, obs, self.encoding, self.ego_radius, self.global_pool)
            if self.recurrent:
                if memory is None:
                    memory = x.new_zeros(x.shape[0], self.memory_size)
                h, c = self.lstm(x, (memory[:, :HIDDEN], memory[:, HIDDEN:]))
                x, memory = h, torch.cat([h, c], dim=1)
            logits, values = self.actor(x), self.critic(x).squeeze(-1)
        return logits.float(), values.float(), None if memory is None else memory.float()


class TeacherCritic(Precision, nn.Module):
    """IHAC's teacher critic V_T: the student's CNN shape with one scalar head."""

    def __init__(self, obs_shape: tuple[int, int, int], encoding: str = "raw",
                 ego_radius: int = 0, global_pool: str = "none",
                 head_activation: str = "relu", trunk_pool: str = "none",
                 conditioning: str = "none") -> None:
        super().__init__()
        width, height, channels = encoded_shape(obs_shape, encoding, ego_radius)
        self.encoding, self.ego_radius, self.global_pool = encoding, ego_radius, global_pool
        self.conv = conv_trunk(channels, trunk_pool, global_pool, conditioning)
        self.head = nn.Sequential(nn.Linear(embedding_size(width, height, global_pool, trunk_pool),
                                            HIDDEN),
                                  ACTIVATIONS[head_activation](), nn.Linear(HIDDEN, 1))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        with self._autocast(obs):
            value = self.head(embed(self.conv, obs, self.encoding, self.ego_radius,
                                    self.global_pool)).squeeze(-1)
        return value.float()
