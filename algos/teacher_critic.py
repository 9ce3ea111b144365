"""IHAC's teacher critic V_T (docs/method.md section 4.3), trained every iteration.

Target: clip(r + gamma_T * V_T(s') * (1 - terminated) - beta * CE(pi_T, pi_S)(s), 0, v_max), with
V_T(s') and the student's pi_S held fixed (semi-gradient TD). Unlike the original (whose target
went through .item() and whose optimizer never zeroed its gradients), this critic learns.
"""

from __future__ import annotations

import torch
from torch import nn

from algos.storage import ENCODE_CHUNK, RolloutStorage
from models import ACModel, TeacherCritic
from utils.config import TrainConfig


def cross_entropy(target_probs: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """CE(p, softmax(logits)) per row: -sum p log softmax(logits)."""
    return -(target_probs * torch.log_softmax(logits, dim=-1)).sum(-1)


class TeacherCriticLearner:
    def __init__(self, critic: TeacherCritic, cfg: TrainConfig) -> None:
        self.critic, self.cfg = critic, cfg
        self.optimizer = torch.optim.Adam(critic.parameters(), lr=cfg.tc_lr, fused=True)

    @staticmethod
    @torch.no_grad()
    def student_gap(teacher_probs: torch.Tensor, obs: torch.Tensor, student: ACModel
                    ) -> torch.Tensor:
        """CE(pi_T, pi_S)(s) per row: the target's penalty for the student's distance."""
        logits, _, _ = student(obs)
        return cross_entropy(teacher_probs, logits)

    @torch.no_grad()
    def target(self, next_obs: torch.Tensor, rewards: torch.Tensor, terminated: torch.Tensor,
               student_gap: torch.Tensor) -> torch.Tensor:
        """clip(r + gamma_T V_T(s') (1 - terminated) - beta CE(pi_T, pi_S)(s), 0, v_max): a
        student far from its teacher lowers the teacher's value of the state."""
        cfg = self.cfg
        return (rewards + cfg.tc_gamma * self.critic(next_obs) * (1 - terminated)
                - cfg.tc_beta * student_gap).clamp(0, cfg.tc_vmax)

    def loss(self, obs: torch.Tensor, next_obs: torch.Tensor, rewards: torch.Tensor,
             terminated: torch.Tensor, student_gap: torch.Tensor) -> torch.Tensor:
        target = self.target(next_obs, rewards, terminated, student_gap)
        return nn.functional.mse_loss(self.critic(obs), target)

    def update(self, storage: RolloutStorage, student: ACModel, generator: torch.Generator
               ) -> float:
        """``epochs`` passes of minibatch SGD over the rollout; the mean loss."""
        f = storage.flat("rewards", "terminated", "teacher_probs")
        n, losses = len(f["rewards"]), []
        device = storage.device
        # the student does not change while its teacher critic learns: its side of the target
        # once per rollout, not once per epoch
        gap = torch.cat([self.student_gap(f["teacher_probs"][i], storage.input_rows("obs", i),
                                          student)
                         for i in torch.arange(n, device=device).split(ENCODE_CHUNK)])
        n_batches = max(1, round(n / self.cfg.batch_size))  # nearly equal, as the student's
        for _ in range(self.cfg.epochs):
            perm = torch.randperm(n, generator=generator).to(device)  # CPU stream on any device
            for i in torch.tensor_split(perm, n_batches):
                loss = self.loss(storage.input_rows("obs", i), storage.input_rows("next_obs", i),
                                 f["rewards"][i], f["terminated"][i], gap[i])
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                losses.append(loss.detach())
        # one transfer per update, not one per minibatch
        return sum(torch.stack(losses).tolist()) / len(losses)
