"""Evaluate a student alone on held-out rooms: the same env seeds every time."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Protocol

import numpy as np
import torch

from envs.vector import EVAL_SEED_BASE, Episode, VecEnv
from models import ACModel
from utils.video import frame_title, titled_frame

SUMMARY_KEYS = ("Return Mean", "Return Std", "Success Rate", "Eplen")


@dataclass
class EvalResult:
    episodes: list[Episode]
    videos: list[list[np.ndarray]] = field(default_factory=list)  # frames of the first episodes

    def summary(self) -> dict[str, float]:
        return summarize(self.episodes)


def summarize(episodes: list[Episode]) -> dict[str, float]:
    """Return Mean/Std, Success Rate and Eplen of a list of episodes (NaN when empty)."""
    if not episodes:
        return {k: float("nan") for k in SUMMARY_KEYS}
    rets = np.array([e.ret for e in episodes])
    return {"Return Mean": float(rets.mean()), "Return Std": float(rets.std()),
            "Success Rate": float(np.mean([e.success for e in episodes])),
            "Eplen": float(np.mean([e.length for e in episodes]))}


def act(model: ACModel, obs: np.ndarray, memory: torch.Tensor | None, deterministic: bool,
        generator: torch.Generator, device: torch.device
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """One batched forward: (actions, log-probs, values, next memory), all on the CPU."""
    with torch.no_grad():
        logits, values, memory = model(torch.from_numpy(obs).to(device),
                                       None if memory is None else memory.to(device))
        logp_all = torch.log_softmax(logits, dim=-1).cpu()
        if deterministic:
            actions = logp_all.argmax(dim=-1)
        else:
            actions = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
        logprobs = logp_all.gather(1, actions[:, None]).squeeze(1)
    return actions, logprobs, values.cpu(), None if memory is None else memory.cpu()


def frame_of(env, task: str, episode: int, action: int | None) -> np.ndarray:
    """One video frame: the true room (left) beside what the agent remembers (right), titled
    with the episode, the step and the action that led to it."""
    full = env.render()
    memory = env.render_memory(tile_size=full.shape[0] // env.height)
    return titled_frame(full, memory, frame_title(task, episode, env.step_count, action))


class Policy(Protocol):
    """Anything that acts on a batch of observations (student or teacher)."""

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...  # (N, W, H, C) -> (N,) actions

    def episodes_ended(self, ended: np.ndarray) -> None: ...  # (N,) bool: reset any memory


class StudentPolicy:
    """The student network acting alone (sampled or greedy actions; LSTM memory if any)."""

    def __init__(self, model: ACModel, num_envs: int, deterministic: bool, device: torch.device,
                 seed: int = 0) -> None:
        self.model, self.deterministic, self.device = model, deterministic, device
        self.generator = torch.Generator().manual_seed(seed)
        self.memory = torch.zeros(num_envs, model.memory_size) if model.recurrent else None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        actions, _, _, self.memory = act(self.model, obs, self.memory, self.deterministic,
                                         self.generator, self.device)
        return actions.numpy()

    def episodes_ended(self, ended: np.ndarray) -> None:
        if self.memory is not None:
            self.memory *= torch.from_numpy(~ended).float()[:, None]


def run_episodes(policy: Policy, task: str, num_episodes: int, *, num_envs: int,
                 frame_stack: int = 1, record: int = 0) -> EvalResult:
    """Run ``num_episodes`` episodes on env seeds EVAL_SEED_BASE + 0 .. num_episodes - 1.

    ``num_envs`` must be the batch size the policy was built for; ``record`` > 0 keeps the
    frames of the first ``record`` episodes (for GIFs).
    """
    vec = VecEnv(task, num_envs, frame_stack=frame_stack,
                 episode_seeds=(EVAL_SEED_BASE + k for k in count()),
                 render_mode="rgb_array" if record else None)
    obs = vec.reset()
    done_eps: dict[int, Episode] = {}
    frames: dict[int, list[np.ndarray]] = {}

    last: list[int | None] = [None] * num_envs  # the action that led to each env's frame

    def capture(i: int) -> None:
        k = vec.seeds[i] - EVAL_SEED_BASE
        if k < record:
            frames.setdefault(k, []).append(frame_of(vec.envs[i], task, k, last[i]))

    if record:
        vec.on_episode_end = capture  # the final frame, before the auto-reset
        for i in range(num_envs):
            capture(i)
    while len(done_eps) < num_episodes:
        actions = policy(obs)
        last[:] = [int(a) for a in actions]
        obs, _, term, trunc, _, finished = vec.step(actions)
        for ep in finished:
            k = ep.seed - EVAL_SEED_BASE
            if k < num_episodes:
                done_eps[k] = ep
        policy.episodes_ended(term | trunc)
        if record:
            for i in range(num_envs):
                if term[i] or trunc[i]:
                    last[i] = None  # the env was reset: its frame is a new episode's start
                capture(i)
    vec.close()
    return EvalResult([done_eps[k] for k in range(num_episodes)],
                      [frames[k] for k in range(min(record, num_episodes)) if k in frames])


def evaluate(model: ACModel, task: str, num_episodes: int, *, num_envs: int, frame_stack: int,
             deterministic: bool, device: torch.device, seed: int = 0, record: int = 0
             ) -> EvalResult:
    """The student alone on the held-out rooms (see run_episodes)."""
    num_envs = min(num_envs, num_episodes)
    was_training = model.training
    model.eval()
    try:
        return run_episodes(StudentPolicy(model, num_envs, deterministic, device, seed), task,
                            num_episodes, num_envs=num_envs, frame_stack=frame_stack,
                            record=record)
    finally:
        model.train(was_training)
