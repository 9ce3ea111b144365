"""IHAC's teacher critic V_T (docs/method.md section 4.3), trained every iteration.

Target: clip(r + gamma_T * V_T(s') * (1 - terminated) - beta * CE(pi_T, pi_S)(s), 0, v_max), with
V_T(s') and the student's pi_S held fixed (semi-gradient TD). Unlike the original (whose target
went through .item() and whose optimizer never zeroed its gradients), this critic learns.
"""

from __future__ import annotations

import torch
from torch import nn

from algos.storage import RolloutStorage
from models import ACModel, TeacherCritic
from utils.config import Config


def cross_entropy(target_probs: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """CE(p, softmax(logits)) per row: -sum p log softmax(logits)."""
    return -(target_probs * torch.log_softmax(logits, dim=-1)).sum(-1)


class TeacherCriticLearner:
    def __init__(self, critic: TeacherCritic, cfg: Config) -> None:
        self.critic, self.cfg = critic, cfg
        self.optimizer = torch.optim.Adam(critic.parameters(), lr=cfg.tc_lr, fused=True)

    def loss(self, obs: torch.Tensor, next_obs: torch.Tensor, rewards: torch.Tensor,
             terminated: torch.Tensor, teacher_probs: torch.Tensor, student: ACModel
             ) -> torch.Tensor:
        cfg = self.cfg
        with torch.no_grad():
            logits, _, _ = student(obs)
            target = (rewards + cfg.tc_gamma * self.critic(next_obs) * (1 - terminated)
                      - cfg.tc_beta * cross_entropy(teacher_probs, logits)).clamp(0, cfg.tc_vmax)
        return nn.functional.mse_loss(self.critic(obs), target)

    def update(self, storage: RolloutStorage, student: ACModel, generator: torch.Generator
               ) -> float:
        """``epochs`` passes of minibatch SGD over the rollout; the mean loss."""
        f = storage.flat("obs", "next_obs", "rewards", "terminated", "teacher_probs")
        n, losses = len(f["obs"]), []
        n_batches = max(1, round(n / self.cfg.batch_size))  # nearly equal, as the student's
        for _ in range(self.cfg.epochs):
            for i in torch.tensor_split(torch.randperm(n, generator=generator), n_batches):
                loss = self.loss(f["obs"][i], f["next_obs"][i], f["rewards"][i],
                                 f["terminated"][i], f["teacher_probs"][i], student)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                losses.append(loss.item())
        return sum(losses) / len(losses)
