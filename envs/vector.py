"""N environments stepped in one process, with auto-reset, frame stacking and episode records.

Faster than one process per env here: a step of these envs costs tens of microseconds, far less
than inter-process communication, and it lets the student act on all N envs with ONE batched
forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import count

import numpy as np

from envs import make_env

# Held-out rooms: every evaluation (student or teacher) plays env seeds EVAL_SEED_BASE + k; no
# training run may reset an env with a seed in HELD_OUT_SEEDS (utils/config.py refuses one).
EVAL_SEED_BASE = 1_000_000
HELD_OUT_SEEDS = range(EVAL_SEED_BASE, 2 * EVAL_SEED_BASE)
FIRST_SEED_STRIDE = 10000  # env i of a training run is first reset with seed + 10000 * i


def first_room_seeds(seed: int, num_envs: int) -> list[int]:
    """The seeds a training run's envs are first reset with (then each continues its stream)."""
    return [seed + FIRST_SEED_STRIDE * i for i in range(num_envs)]


@dataclass
class Episode:
    """A finished episode: what the console, TensorBoard and CSV summarise."""

    ret: float
    length: int
    success: bool
    seed: int | None


class VecEnv:
    """``num_envs`` copies of one task. Observations are (N, W, H, 4 * frame_stack) uint8.

    Episode seeds: env i is first reset with ``seed + 10000 * i`` and then continues its own
    random stream (a fresh room every episode, reproducible from ``seed``); or, with
    ``episode_seeds``, every reset takes the next seed from that iterator (used for training on a
    fixed set of rooms and for evaluation on held-out rooms).
    """

    def __init__(self, task: str, num_envs: int, seed: int = 0, frame_stack: int = 1,
                 episode_seeds: Iterator[int] | None = None, render_mode: str | None = None
                 ) -> None:
        # .unwrapped: gymnasium's checker/order wrappers cost time on every step
        self.envs = [make_env(task, render_mode=render_mode).unwrapped for _ in range(num_envs)]
        self.num_envs = num_envs
        self.frame_stack = frame_stack
        self._episode_seeds = episode_seeds
        self._first_seeds = first_room_seeds(seed, num_envs)
        w, h, c = self.envs[0].observation_space.shape
        self.single_obs_shape = (w, h, c * frame_stack)
        self.max_steps = self.envs[0].max_steps
        self.obs = np.zeros((num_envs, *self.single_obs_shape), dtype=np.uint8)
        self.seeds: list[int | None] = [None] * num_envs  # seed of each env's current episode
        self._ret = np.zeros(num_envs)
        self._len = np.zeros(num_envs, dtype=np.int64)
        # called as on_episode_end(i) just before env i is auto-reset (e.g. to grab a last frame)
        self.on_episode_end: Callable[[int], None] | None = None

    def _reset_env(self, i: int, first: bool) -> None:
        if self._episode_seeds is not None:
            seed = next(self._episode_seeds)
        else:
            seed = self._first_seeds[i] if first else None
        frame, _ = self.envs[i].reset(seed=seed)
        self.seeds[i] = seed
        self.obs[i] = np.tile(frame, (1, 1, self.frame_stack))  # every slot holds the first frame
        self._ret[i] = 0.0
        self._len[i] = 0

    def reset(self) -> np.ndarray:
        for i in range(self.num_envs):
            self._reset_env(i, first=True)
        return self.obs

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                 dict[int, np.ndarray], list[Episode]]:
        """Step every env; finished ones are reset at once.

        Returns (next obs, rewards, terminated, truncated, final_obs, episodes): ``final_obs`` maps
        the index of each env that was truncated (time limit) to its last observation, which the
        learner needs for bootstrapping; ``obs`` already holds the first observation of the next
        episode for every env that finished.
        """
        n = self.num_envs
        rewards = np.zeros(n, dtype=np.float32)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        final_obs: dict[int, np.ndarray] = {}
        episodes: list[Episode] = []
        c = self.obs.shape[-1] // self.frame_stack
        for i, env in enumerate(self.envs):
            frame, reward, term, trunc, info = env.step(int(actions[i]))
            if self.frame_stack > 1:  # drop the oldest frame, append the new one
                self.obs[i, :, :, :-c] = self.obs[i, :, :, c:]
            self.obs[i, :, :, -c:] = frame
            rewards[i], terminated[i], truncated[i] = reward, term, trunc and not term
            self._ret[i] += reward
            self._len[i] += 1
            if term or trunc:
                if truncated[i]:
                    final_obs[i] = self.obs[i].copy()
                episodes.append(Episode(float(self._ret[i]), int(self._len[i]),
                                        bool(info.get("success", False)), self.seeds[i]))
                if self.on_episode_end is not None:
                    self.on_episode_end(i)
                self._reset_env(i, first=False)
        return self.obs, rewards, terminated, truncated, final_obs, episodes

    def close(self) -> None:
        for env in self.envs:
            env.close()


def cycle_seeds(seeds: list[int], start: int = 0) -> Iterator[int]:
    """Yield seeds[start], seeds[start+1], ... forever, wrapping around."""
    for k in count(start):
        yield seeds[k % len(seeds)]
