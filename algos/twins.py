"""Colour twins (--twins): beside a state the teacher labels, the same map with colours changed,
labelled by the teacher as it labels any state (docs/method.md section 4, "Colour twins").

A student that only sees real rooms can read the right key off where the keys lie; a twin keeps
every position and changes only colours, so the teacher's label on it can differ from the real
state's only through colour. Twins are generic: no twin reads the task's rule (which key opens
which door); the teacher decides what a twin asks for.

- ``swap``: two objects alike (same type, different colours) in the newest frame exchange colours.
- ``paint``: one coloured object takes another colour, drawn uniformly from the other five.

A recoloured cell is recoloured in every stacked frame that shows the same object there (type
and colour as in the newest frame), so the frames stay one consistent history. The held object
(drawn on the agent's cell) counts as an object of the map.

A twin's label is the teacher's expected action distribution (every plan weighed by its
probability: what a sampled label is on average), and a twin is *relabelled* when that
distribution's most likely action differs from the real state's: only those pairs carry a colour
signal. Comparing two sampled labels instead would call a twin relabelled whenever the two draws
differ, colour or not (a third of the LLM teacher's, docs/method.md section 4). ``--twin_keep
relabelled`` keeps only the relabelled ones (the teacher still decides which they are; no twin
reads the task's rule); ``--twin_keep pairs`` keeps each relabelled twin together with its real
state, labelled the same way, so the two sides of the colour contrast are learned together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

from utils.errors import UserError

TWIN_KINDS = ("none", "swap", "paint")
TWIN_KEEP = ("all", "relabelled", "pairs")
COLOURED_TYPES = tuple(OBJECT_TO_IDX[t] for t in ("door", "key", "ball", "box"))
N_COLOURS = len(COLOR_TO_IDX)


def _recolour(twin: np.ndarray, x: int, y: int, colour: int) -> None:
    """Paint the object at (x, y) of the newest frame ``colour`` in every frame showing it."""
    cell = twin[x, y].reshape(-1, 4)  # (frames, 4), a view into the twin
    obj_type, old = cell[-1, 0], cell[-1, 1]
    cell[(cell[:, 0] == obj_type) & (cell[:, 1] == old), 1] = colour


def coloured_objects(obs: np.ndarray) -> np.ndarray:
    """(K, 2) cells of the newest frame holding a door, key, ball or box (the held one too)."""
    return np.argwhere(np.isin(obs[..., -4], COLOURED_TYPES))


def swap_twin(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Two objects alike exchange colours; None when no two objects alike differ in colour."""
    cells = coloured_objects(obs)
    newest = obs[..., -4:]
    pairs = [(i, j) for i in range(len(cells)) for j in range(i + 1, len(cells))
             if newest[tuple(cells[i])][0] == newest[tuple(cells[j])][0]
             and newest[tuple(cells[i])][1] != newest[tuple(cells[j])][1]]
    if not pairs:
        return None
    i, j = pairs[rng.integers(len(pairs))]
    (xi, yi), (xj, yj) = cells[i], cells[j]
    ci, cj = int(newest[xi, yi, 1]), int(newest[xj, yj, 1])
    twin = obs.copy()
    _recolour(twin, xi, yi, cj)
    _recolour(twin, xj, yj, ci)
    return twin


def paint_twin(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """One coloured object takes one of the five other colours; None when none is in view."""
    cells = coloured_objects(obs)
    if not len(cells):
        return None
    x, y = cells[rng.integers(len(cells))]
    old = int(obs[x, y, -3])
    colour = int(rng.integers(N_COLOURS - 1))
    twin = obs.copy()
    _recolour(twin, x, y, colour + (colour >= old))  # skips the old colour
    return twin


MAKERS = {"swap": swap_twin, "paint": paint_twin}


def twin_weight(cfg, plan) -> float:
    """The twin loss's weight in this iteration, before --twin_coef; 0: no twins are made. As the
    teacher's loss of the phase (imitation: --imitation_coef; then the kickstarting weight); with
    --twin_span run never below 1, so the twins outlast the teacher's loss; with --twin_span rl
    1 once the teacher's loss is over and 0 before (twins only in the RL phase)."""
    teacher = cfg.imitation_coef if plan.imitating else plan.ks
    if cfg.twin_span == "rl":
        return 0.0 if teacher > 0 else 1.0
    return max(teacher, 1.0) if cfg.twin_span == "run" else teacher


@dataclass
class Twins:
    """One iteration's twins on the networks' device: uint8 maps and the teacher's labels."""
    obs: torch.Tensor    # (M, W, H, C) uint8, or the encoded network input
    probs: torch.Tensor  # (M, 7)
    unanswered: int      # twins dropped because the teacher had no answer for their text
    relabelled: int      # answered twins whose teacher's most likely action differs from the real

    def __len__(self) -> int:
        return len(self.obs)


class TwinMaker:
    """Makes at most one twin per observation and asks the teacher for its label. A twin whose
    text the teacher cannot answer (an answer file without it, no LLM) is dropped and counted."""

    def __init__(self, kind: str, teacher, seed: int, keep: str = "all") -> None:
        if kind not in MAKERS:
            raise UserError(f"--twins {kind!r}: give one of {', '.join(TWIN_KINDS)}")
        if keep not in TWIN_KEEP:
            raise UserError(f"--twin_keep {keep!r}: give one of {', '.join(TWIN_KEEP)}")
        self.make_one, self.teacher, self.keep = MAKERS[kind], teacher, keep
        self.rng = np.random.default_rng([seed, 0x7417])  # its own stream: the envs' is apart
        self.reset()

    def reset(self) -> None:
        self._obs: list[np.ndarray] = []
        self._probs: list[np.ndarray] = []
        self._unanswered = self._relabelled = 0

    def add(self, obs: np.ndarray) -> None:
        """Twins of a batch of observations (N, W, H, C), labelled by the teacher."""
        for o in obs:
            twin = self.make_one(o, self.rng)
            if twin is None:
                continue
            try:
                probs = self.teacher.expected_probs(twin[None, ..., -4:])[0]
            except UserError:
                self._unanswered += 1
                continue
            real = self.teacher.expected_probs(o[None, ..., -4:])[0]
            relabelled = bool(probs.argmax() != real.argmax())
            self._relabelled += relabelled
            if not (relabelled or self.keep == "all"):
                continue
            self._obs.append(twin)
            self._probs.append(probs)
            if self.keep == "pairs":  # and the real side of the contrast
                self._obs.append(o)
                self._probs.append(real)

    def take(self, device: torch.device) -> Twins:
        """This iteration's twins (maybe none), and a fresh start for the next iteration."""
        if self._obs:
            obs = torch.from_numpy(np.stack(self._obs)).to(device)
            probs = torch.from_numpy(np.stack(self._probs)).float().to(device)
        else:
            obs = torch.empty(0, dtype=torch.uint8, device=device)
            probs = torch.empty(0, 7, device=device)
        out = Twins(obs, probs, self._unanswered, self._relabelled)
        self.reset()
        return out
