"""Evaluate a student alone on held-out rooms: the same env seeds every time."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import numpy as np
import torch

from envs.vector import Episode, VecEnv
from models import ACModel

SUMMARY_KEYS = ("Return Mean", "Return Std", "Success Rate", "Eplen")
EVAL_SEED_BASE = 1_000_000  # held-out: training rooms come from seed + 10000 * i and its stream


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


def frame_of(env) -> np.ndarray:
    """One video frame: the true room (left) beside what the agent remembers (right)."""
    full = env.render()
    memory = env.render_memory(tile_size=full.shape[0] // env.height)
    return np.concatenate([full, memory], axis=1)


def evaluate(model: ACModel, task: str, num_episodes: int, *, num_envs: int, frame_stack: int,
             deterministic: bool, device: torch.device, seed: int = 0, record: int = 0
             ) -> EvalResult:
    """Run ``num_episodes`` episodes on env seeds EVAL_SEED_BASE + 0 .. num_episodes - 1.

    ``record`` > 0 keeps the frames of the first ``record`` episodes (for GIFs).
    """
    num_envs = min(num_envs, num_episodes)
    vec = VecEnv(task, num_envs, frame_stack=frame_stack,
                 episode_seeds=(EVAL_SEED_BASE + k for k in count()),
                 render_mode="rgb_array" if record else None)
    generator = torch.Generator().manual_seed(seed)
    obs = vec.reset()
    memory = torch.zeros(num_envs, model.memory_size) if model.recurrent else None
    done_eps: dict[int, Episode] = {}
    frames: dict[int, list[np.ndarray]] = {}

    def capture(i: int) -> None:
        k = vec.seeds[i] - EVAL_SEED_BASE
        if k < record:
            frames.setdefault(k, []).append(frame_of(vec.envs[i]))

    was_training = model.training
    model.eval()
    if record:
        vec.on_episode_end = capture  # the final frame, before the auto-reset
        for i in range(num_envs):
            capture(i)
    while len(done_eps) < num_episodes:
        actions, _, _, memory = act(model, obs, memory, deterministic, generator, device)
        obs, _, term, trunc, _, finished = vec.step(actions.numpy())
        for ep in finished:
            k = ep.seed - EVAL_SEED_BASE
            if k < num_episodes:
                done_eps[k] = ep
        if memory is not None:
            memory *= torch.from_numpy(~(term | trunc)).float()[:, None]
        if record:
            for i in range(num_envs):
                capture(i)
    model.train(was_training)
    vec.close()
    return EvalResult([done_eps[k] for k in range(num_episodes)],
                      [frames[k] for k in range(min(record, num_episodes)) if k in frames])
