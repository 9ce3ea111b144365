"""Collection: the behaviour policy (the student, or IHAC's guided mixture with the teacher)
steps every env into the rollout storage, as the iteration's plan says."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from algos.schedules import IterationPlan
from algos.storage import RolloutStorage
from algos.twins import TwinMaker, Twins, twin_weight
from envs.vector import Episode, VecEnv
from models import ACModel, TeacherCritic
from utils.config import TrainConfig


@dataclass
class Act:
    """The behaviour policy's choice on one batch of observations (on the networks' device)."""
    actions: torch.Tensor
    logprobs: torch.Tensor            # the student's log-probs of the actions
    behaviour_logprobs: torch.Tensor  # the log-probs of the policy that chose them
    values: torch.Tensor
    memory: torch.Tensor | None       # the student's next memory (recurrent)
    teacher_probs: torch.Tensor | None  # when the plan consults the teacher
    tc_values: torch.Tensor | None      # when the plan consults the teacher critic
    agrees: torch.Tensor | None         # the student's argmax is the teacher's, per env


@dataclass
class Carry:
    """What one iteration's collection hands the next: the envs' observations, the student's
    memory and the mask of episodes still running."""
    obs: np.ndarray
    memory: torch.Tensor | None
    mask: torch.Tensor


@dataclass
class Collected:
    """One iteration's rollout besides the storage: finished episodes, env steps, and the share
    of steps on which the student's argmax was the teacher's (when the teacher was asked), and
    the colour twins made on the way (--twins; None without)."""
    episodes: list[Episode]
    steps: int
    agreement: float
    twins: Twins | None = None


class Collector:
    """Steps ``vec`` with the student (and the teacher and its critic where the plan asks them)
    into ``storage``; actions are sampled from ``sample_gen`` on the networks' device."""

    def __init__(self, cfg: TrainConfig, vec: VecEnv, model: ACModel, storage: RolloutStorage,
                 sample_gen: torch.Generator, teacher=None,
                 critic: TeacherCritic | None = None, twins: TwinMaker | None = None) -> None:
        self.cfg, self.vec, self.model, self.storage = cfg, vec, model, storage
        self.sample_gen, self.teacher, self.critic = sample_gen, teacher, critic
        self.twins = twins
        self.device = storage.device
        self.recurrence = cfg.recurrence if model.recurrent else 1

    def act(self, obs: np.ndarray, memory: torch.Tensor | None, plan: IterationPlan) -> Act:
        """The behaviour policy on a batch: softmax(student logits + c log(pi_T + 1e-8))."""
        obs_t = torch.from_numpy(obs).to(self.device)
        with torch.no_grad():
            logits, values, memory = self.model(obs_t, memory)
            logp = torch.log_softmax(logits, dim=-1)
            teacher_probs = tc_values = None
            behaviour = logp
            if plan.consult_teacher:  # the teacher reads the newest frame
                teacher_probs = torch.from_numpy(
                    self.teacher.batch_probs(obs[..., -4:])).float().to(self.device)
                if plan.guide > 0:
                    behaviour = torch.log_softmax(
                        logp + plan.guide * torch.log(teacher_probs + 1e-8), dim=-1)
            if plan.consult_critic:
                tc_values = self.critic(obs_t)
            if self.twins is not None and twin_weight(self.cfg, plan) > 0:
                self.twins.add(obs)
            actions = torch.multinomial(behaviour.exp(), 1, generator=self.sample_gen).squeeze(1)
        pick = actions[:, None]
        return Act(actions, logp.gather(1, pick).squeeze(1), behaviour.gather(1, pick).squeeze(1),
                   values, memory, teacher_probs, tc_values,
                   None if teacher_probs is None else logp.argmax(1) == teacher_probs.argmax(1))

    def collect(self, carry: Carry, plan: IterationPlan) -> tuple[Carry, Collected]:
        """Step all envs until >= traj_per_itr episodes ended and >= 2 x batch_size steps, as
        the plan says (guidance, whether the teacher and its critic are asked)."""
        cfg, st, device = self.cfg, self.storage, self.device
        st.reset()
        episodes: list[Episode] = []
        agreed = torch.zeros((), dtype=torch.long, device=device)
        # per step only the observations (and the teacher's probabilities) go to the device and
        # the actions come back; everything else stays there
        obs = carry.obs
        memory = None if carry.memory is None else carry.memory.to(device)
        mask = carry.mask.to(device)
        while True:
            obs_t = torch.from_numpy(obs)
            masked = None if memory is None else memory * mask[:, None]
            act = self.act(obs, masked, plan)
            if act.agrees is not None:
                agreed += act.agrees.sum()
            st.add(obs_t, act.actions, act.values, act.logprobs, masked, mask,
                   act.behaviour_logprobs, act.teacher_probs, act.tc_values)
            obs, rewards, term, trunc, final_obs, finished = self.vec.step(
                act.actions.cpu().numpy())
            next_obs = torch.from_numpy(obs).to(device, copy=True)
            bootstrap = torch.zeros(self.vec.num_envs, device=device)
            if final_obs:  # time-limit cuts: s' is the last obs (not the next episode's first)
                idx = list(final_obs)
                last = torch.from_numpy(np.stack([final_obs[i] for i in idx])).to(device)
                next_obs[idx] = last
                if self.cfg.timeout_value == "bootstrap":  # the cut is worth V_S(last obs)
                    mem = None if act.memory is None else act.memory[idx]
                    with torch.no_grad():
                        _, v, _ = self.model(last, mem)
                    bootstrap[idx] = v
            ended = term | trunc
            st.record(torch.from_numpy(rewards).to(device),
                      torch.from_numpy(term).float().to(device),
                      torch.from_numpy(trunc).float().to(device), bootstrap, next_obs)
            memory = act.memory
            mask = torch.from_numpy(~ended).float().to(device)
            episodes.extend(finished)
            if (len(episodes) >= cfg.traj_per_itr and st.step * self.vec.num_envs
                    >= 2 * cfg.batch_size and st.step % self.recurrence == 0):
                break
        with torch.no_grad():
            _, last_values, _ = self.model(torch.from_numpy(obs).to(device),
                                           None if memory is None else memory * mask[:, None])
        st.compute_returns(last_values * mask, cfg.gamma, cfg.lam if cfg.gae else None,
                           normalise=cfg.adv_norm == "batch")
        steps = st.step * self.vec.num_envs
        twins = None if self.twins is None else self.twins.take(device)
        return Carry(obs, memory, mask), Collected(episodes, steps, int(agreed) / steps, twins)
