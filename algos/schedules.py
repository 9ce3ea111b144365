"""What one iteration does, read off the run's progress (docs/method.md section 4).

Each schedule is one function of the flags and the progress so far (the trainer's counters:
``iteration``, ``env_steps``, ``imitation_iterations``). ``plan_iteration`` calls them once at
the start of an iteration; the plan it returns is handed to the collection and to the update,
which read nothing else about the phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from utils.config import TrainConfig, imitation_iterations


@dataclass(frozen=True)
class IterationPlan:
    lr: float               # the student's learning rate
    imitating: bool         # IHAC's imitation phase: behaviour cloning + value alignment
    guide: float            # c of the guided sampling softmax(logits_S + c log pi_T); 0: off
    ks: float               # kickstarting weight of CE(pi_T, pi_S); 0 in the imitation phase
    consult_teacher: bool   # the teacher's probabilities are needed while collecting
    consult_critic: bool    # the teacher critic's values are needed (the imitation phase)

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


def _remaining(cfg: TrainConfig, progress: Mapping[str, int], frac: float) -> float:
    """1 at env step 0, falling linearly to 0 at frac x total_env_steps (then 0)."""
    return max(0.0, 1 - progress["env_steps"] / (frac * cfg.total_env_steps))


def imitating(cfg: TrainConfig, progress: Mapping[str, int]) -> bool:
    """IHAC's imitation phase: the first --imitation_frac of the env-step budget, or the first
    --imitation_itr iterations; never for the other algorithms."""
    if cfg.algo == "ihac" and cfg.imitation_frac:
        return progress["env_steps"] < cfg.imitation_frac * cfg.total_env_steps
    return progress["iteration"] < imitation_iterations(cfg)


def guidance_coef(cfg: TrainConfig, progress: Mapping[str, int]) -> float:
    """IHAC's c: linear from --guide_coef to 0 at --guide_end_frac of the budget, or
    guide_coef * guide_decay ** (iteration // guide_decay_every); 0 below --guide_min, and 0
    for the other algorithms."""
    if cfg.algo != "ihac":
        return 0.0
    if cfg.guide_end_frac:
        c = cfg.guide_coef * _remaining(cfg, progress, cfg.guide_end_frac)
    else:
        c = cfg.guide_coef * cfg.guide_decay ** (progress["iteration"] // cfg.guide_decay_every)
    return c if c >= cfg.guide_min else 0.0


def kickstart_coef(cfg: TrainConfig, progress: Mapping[str, int]) -> float:
    """The kickstarting weight as the schedule has it (the imitation phase aside): linear from
    --ks_coef to 0 at --ks_end_frac of the budget, or ks_coef - ks_decrement per PPO-phase
    policy update, floored at ks_min, 0 after ks_updates. A policy update is one iteration's
    PPO epochs, as in the original (its update_policy() steps the schedule once), not one
    minibatch gradient step. 0 without a teacher."""
    if cfg.algo == "ppo":
        return 0.0
    if cfg.ks_end_frac:
        return cfg.ks_coef * _remaining(cfg, progress, cfg.ks_end_frac)
    imitated = (progress["imitation_iterations"] if cfg.imitation_frac
                else imitation_iterations(cfg))
    u = max(0, progress["iteration"] - imitated)
    if u >= cfg.ks_updates:
        return 0.0
    return max(cfg.ks_min, cfg.ks_coef - cfg.ks_decrement * u)


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
