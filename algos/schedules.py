"""What one iteration does, read off the run's progress (docs/method.md section 4).

Each schedule is one function of the flags and the progress so far (the trainer's counters:
``iteration``, ``env_steps``, ``imitation_iterations``). ``plan_iteration`` calls them once at
the start of an iteration; the plan it returns is handed to the collection and to the update,
which read nothing else about the phase.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from utils.config import TrainConfig
from utils.schedule_flags import Linear, parse_guidance, parse_imitation, parse_kickstart


@dataclass(frozen=True)
class IterationPlan:
    lr: float               # the student's learning rate
    imitating: bool         # IHAC's imitation phase: behaviour cloning + value alignment
    guide: float            # c of the guided sampling softmax(logits_S + c log pi_T); 0: off
    ks: float               # kickstarting weight of CE(pi_T, pi_S); 0 in the imitation phase
    consult_teacher: bool   # the teacher's probabilities are needed while collecting
    consult_critic: bool    # the teacher critic's values are needed (the imitation phase)

    @property
    def teacher_loss(self) -> bool:
        """The update has a loss against the teacher (imitation, or kickstarting)."""
        return self.imitating or self.ks > 0

    @property
    def phase(self) -> float:
        """The logged phase: 0 imitation, 1 reinforcement learning."""
        return 0.0 if self.imitating else 1.0


def learning_rate(cfg: TrainConfig, progress: Mapping[str, int]) -> float:
    """--lr, or with --lr_schedule linear: --lr x the share of the budget still ahead
    (env steps if --total_env_steps is set, else iterations)."""
    if cfg.lr_schedule == "constant":
        return cfg.lr
    done = (progress["env_steps"] / cfg.total_env_steps if cfg.total_env_steps
            else progress["iteration"] / cfg.n_itr)
    return cfg.lr * max(0.0, 1 - done)


def _remaining(cfg: TrainConfig, progress: Mapping[str, int], schedule: Linear) -> float:
    """1 at the start, falling linearly to 0 at ``schedule.end`` of the budget (env steps of
    --total_env_steps, or iterations of --n_itr without an env-step budget), then 0."""
    if cfg.total_env_steps:
        return max(0.0, 1 - progress["env_steps"] / (schedule.end * cfg.total_env_steps))
    return max(0.0, 1 - progress["iteration"] / (schedule.end * cfg.n_itr))


def imitation_iterations(cfg: TrainConfig) -> int | None:
    """The imitation phase's length in iterations (0 for the other algorithms), or None when it
    is a fraction of an env-step budget (the trainer counts its iterations then)."""
    span = parse_imitation(cfg.imitation)
    if cfg.algo != "ihac":
        return 0
    if span.iterations is not None:
        return span.iterations
    if cfg.total_env_steps:
        return None
    return math.floor(round(span.fraction * cfg.n_itr, 9))


def imitating(cfg: TrainConfig, progress: Mapping[str, int]) -> bool:
    """IHAC's imitation phase (--imitation): its first fraction of the budget or its first
    iterations; never for the other algorithms."""
    n = imitation_iterations(cfg)
    if n is None:
        return progress["env_steps"] < parse_imitation(cfg.imitation).fraction * \
            cfg.total_env_steps
    return progress["iteration"] < n


def guidance_coef(cfg: TrainConfig, progress: Mapping[str, int]) -> float:
    """IHAC's c (--guidance): linear from --guide_coef to 0 at a fraction of the budget, or
    guide_coef * D ** (iteration // K); 0 below --guide_min, and 0 for the other algorithms."""
    if cfg.algo != "ihac":
        return 0.0
    schedule = parse_guidance(cfg.guidance)
    if isinstance(schedule, Linear):
        c = cfg.guide_coef * _remaining(cfg, progress, schedule)
    else:
        c = cfg.guide_coef * schedule.factor ** (progress["iteration"] // schedule.every)
    return c if c >= cfg.guide_min else 0.0


def kickstart_coef(cfg: TrainConfig, progress: Mapping[str, int]) -> float:
    """The kickstarting weight as --kickstart has it (the imitation phase aside): linear from
    --ks_coef to 0 at a fraction of the budget, or ks_coef - S per PPO-phase policy update,
    never below MIN, 0 after U updates. A policy update is one iteration's PPO epochs, as in the
    original (its update_policy() steps the schedule once), not one minibatch gradient step.
    0 without a teacher."""
    if cfg.algo == "ppo":
        return 0.0
    schedule = parse_kickstart(cfg.kickstart)
    if isinstance(schedule, Linear):
        return cfg.ks_coef * _remaining(cfg, progress, schedule)
    imitated = imitation_iterations(cfg)
    if imitated is None:
        imitated = progress["imitation_iterations"]
    u = max(0, progress["iteration"] - imitated)
    if u >= schedule.updates:
        return 0.0
    return max(schedule.floor, cfg.ks_coef - schedule.decrement * u)


def plan_iteration(cfg: TrainConfig, progress: Mapping[str, int]) -> IterationPlan:
    """The plan of the iteration that starts at ``progress``."""
    imitation = imitating(cfg, progress)
    guide, ks = guidance_coef(cfg, progress), kickstart_coef(cfg, progress)
    return IterationPlan(
        lr=learning_rate(cfg, progress), imitating=imitation, guide=guide,
        ks=0.0 if imitation else ks,
        # the schedules only fall: once guidance and kickstarting are both off the teacher is
        # never needed again, and its critic serves only the imitation phase (value alignment)
        consult_teacher=cfg.algo != "ppo" and (guide > 0 or imitation or ks > 0),
        consult_critic=imitation)
