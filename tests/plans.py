"""Iteration plans for tests that drive PPO directly (algos/schedules.py makes the real ones)."""

from __future__ import annotations

from algos.schedules import IterationPlan


def rl_plan(lr: float = 1e-3, ks: float = 0.0) -> IterationPlan:
    """A reinforcement-learning (PPO-phase) iteration, without guidance."""
    return IterationPlan(lr=lr, imitating=False, guide=0.0, ks=ks, consult_teacher=ks > 0,
                         consult_critic=False)
