"""The real PPO update learns a small problem: a two-context bandit, collected into RolloutStorage.

Each step is a one-step episode: the observation shows one of two contexts, and the action that
context asks for earns reward 1. The student (the real CNN actor-critic) starts near uniform,
P(right action) ~ 1/7; a few iterations of collection, returns, advantages and PPO epochs must
raise it a lot, and the update going the wrong way (e.g. a flipped advantage sign) lowers it.
"""

from __future__ import annotations

import torch

from algos.ppo import PPO
from algos.storage import RolloutStorage
from models import ACModel
from tests.plans import rl_plan
from utils.config import TrainConfig

OBS_SHAPE = (3, 3, 2)
RIGHT = torch.tensor([2, 5])  # the rewarded action of context 0 and of context 1


def context_obs(ctx: torch.Tensor) -> torch.Tensor:
    obs = torch.zeros(len(ctx), *OBS_SHAPE, dtype=torch.uint8)
    obs[torch.arange(len(ctx)), :, :, ctx] = 3
    return obs


def p_right(model: ACModel) -> float:
    with torch.no_grad():
        logits, _, _ = model(context_obs(torch.arange(2)))
    return torch.softmax(logits, -1)[torch.arange(2), RIGHT].mean().item()


def collect(model: ACModel, st: RolloutStorage, gen: torch.Generator, steps: int) -> float:
    st.reset()
    n = st.num_envs
    rewards_sum = 0.0
    for _ in range(steps):
        ctx = torch.randint(0, 2, (n,), generator=gen)
        obs = context_obs(ctx)
        with torch.no_grad():
            logits, values, _ = model(obs)
        logp = torch.log_softmax(logits, -1)
        actions = torch.multinomial(logp.exp(), 1, generator=gen).squeeze(1)
        st.add(obs, actions, values, logp.gather(1, actions[:, None]).squeeze(1), None,
               torch.ones(n))
        rewards = (actions == RIGHT[ctx]).float()
        rewards_sum += rewards.sum().item()
        st.record(rewards, torch.ones(n), torch.zeros(n), torch.zeros(n))
    st.compute_returns(torch.zeros(n), 0.99, None)
    return rewards_sum / (steps * n)


def train_bandit(seed: int, iterations: int = 3) -> tuple[float, float]:
    """P(right action) before and after ``iterations`` of collection + PPO update."""
    torch.manual_seed(seed)
    model = ACModel(OBS_SHAPE)
    cfg = TrainConfig(task="SimpleDoorKey", batch_size=64, lr=1e-3).validate()
    ppo = PPO(model, cfg)
    st = RolloutStorage(16, 16, OBS_SHAPE)
    gen = torch.Generator().manual_seed(seed)
    before = p_right(model)
    for _ in range(iterations):
        collect(model, st, gen, 16)
        ppo.update(st, gen, rl_plan(cfg.lr))
    return before, p_right(model)


def test_ppo_learns_a_contextual_bandit():
    before, after = train_bandit(seed=0)
    assert before < 0.2
    # seeds 0-9 measured: 0.97-1.00 after 3 iterations; with the advantages negated 0.001-0.008
    assert after > 0.6, (before, after)
