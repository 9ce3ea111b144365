"""The teacher critic's TD target (IHAC's own contribution), against a hand computation.

target = clip(r + gamma_T * V_T(s') * (1 - terminated) - beta * CE(pi_T, pi_S)(s), 0, v_max)
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from algos.teacher_critic import TeacherCriticLearner, cross_entropy
from utils.config import TrainConfig


class ReadValue(nn.Module):
    """A critic whose value of an observation is written in its first cell: V(s) = s[0, 0, 0]."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.w * obs[:, 0, 0, 0].float()


def observations(values: list[float]) -> torch.Tensor:
    obs = torch.zeros(len(values), 3, 3, 4)
    obs[:, 0, 0, 0] = torch.tensor(values)
    return obs


def learner(gamma: float = 0.9, beta: float = 0.5, vmax: float = 2.0) -> TeacherCriticLearner:
    cfg = TrainConfig(task="SimpleDoorKey", tc_gamma=gamma, tc_beta=beta, tc_vmax=vmax)
    return TeacherCriticLearner(ReadValue(), cfg)


def test_target_against_a_hand_computation() -> None:
    rewards = torch.tensor([0.0, 0.5, 0.0, 0.9, 0.0, 0.0])
    next_values = [1.0, 1.2, 1.5, 1.0, 0.2, 3.0]
    terminated = torch.tensor([0.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    gap = torch.tensor([0.2, 0.4, 0.1, 0.0, 1.0, 0.0])
    # gamma 0.9, beta 0.5, v_max 2: r + 0.9 V' (1 - done) - 0.5 gap, clipped to [0, 2]
    expected = torch.tensor([
        0.0 + 0.9 * 1.0 - 0.5 * 0.2,        # 0.80
        0.5 + 0.9 * 1.2 - 0.5 * 0.4,        # 1.38
        0.0 + 0.0 - 0.5 * 0.1,              # -0.05 -> 0 (terminated: no bootstrap, clip at 0)
        0.9 + 0.0 - 0.0,                    # 0.90 (terminated)
        0.0 + 0.9 * 0.2 - 0.5 * 1.0,        # -0.32 -> 0
        0.0 + 0.9 * 3.0 - 0.0,              # 2.70 -> 2 (clip at v_max)
    ]).clamp(0, 2)
    assert expected.tolist() == pytest.approx([0.8, 1.38, 0.0, 0.9, 0.0, 2.0])
    got = learner().target(observations(next_values), rewards, terminated, gap)
    assert got.tolist() == pytest.approx(expected.tolist())


def test_the_loss_regresses_the_critic_on_that_target() -> None:
    lrn = learner()
    obs, next_obs = observations([0.3, 1.0]), observations([1.0, 0.5])
    rewards, terminated, gap = torch.tensor([0.0, 1.0]), torch.zeros(2), torch.tensor([0.2, 0.0])
    target = torch.tensor([0.9 * 1.0 - 0.5 * 0.2, 1.0 + 0.9 * 0.5])
    loss = lrn.loss(obs, next_obs, rewards, terminated, gap)
    assert loss.item() == pytest.approx(((torch.tensor([0.3, 1.0]) - target) ** 2).mean().item())


def test_a_larger_student_gap_never_raises_the_target() -> None:
    torch.manual_seed(0)
    lrn = learner()
    n = 200
    next_obs = observations(torch.rand(n).mul(3).tolist())
    rewards, terminated = torch.rand(n), (torch.rand(n) < 0.3).float()
    gap = torch.rand(n) * 2
    low = lrn.target(next_obs, rewards, terminated, gap)
    high = lrn.target(next_obs, rewards, terminated, gap + torch.rand(n))
    assert (high <= low).all()
    assert (high < low).any()  # and somewhere strictly lowers it (not all clipped)


def test_the_gap_is_the_cross_entropy_of_the_teacher_to_the_student() -> None:
    teacher = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25]]))
    hand = [-torch.log(torch.tensor(0.5)).item(),
            -(0.5 * torch.log(torch.tensor(0.5)) + 0.5 * torch.log(torch.tensor(0.25))).item()]
    assert cross_entropy(teacher, logits).tolist() == pytest.approx(hand)
