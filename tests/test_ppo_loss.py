"""The PPO loss of one minibatch against a computation by hand (plain Python floats).

A table model returns chosen logits and values per sample, so every term is known: samples inside
and outside the ratio clip with positive and negative advantages, values where either side of the
clipped value loss is the larger, an entropy bonus and a kickstarting term.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from algos.ppo import PPO
from algos.schedules import IterationPlan
from algos.storage import Minibatch
from tests.plans import rl_plan
from utils.config import TrainConfig

CLIP, VALUE_COEF, ENTROPY_COEF, KS_COEF = 0.2, 0.5, 0.1, 2.0

# per sample: (ratio pi_new / pi_old, advantage, new value, old value, return)
SAMPLES = [
    (1.5, 1.0, 1.0, 0.0, 1.0),     # ratio clipped (1.2 A); value: the clipped side is larger
    (0.5, 0.5, -1.0, 0.0, 1.0),    # ratio below the clip, A > 0: unclipped; value: unclipped
    (0.5, -1.0, 0.5, 0.4, 0.0),    # ratio clipped (0.8 A); value inside the clip
    (1.5, -0.5, 0.3, 0.0, 0.5),    # ratio above the clip, A < 0: unclipped; value: clipped side
    (1.1, 2.0, 0.0, 0.0, 0.0),     # inside the clip
    (0.9, -1.5, 2.0, 1.0, 3.0),    # inside the clip; value: clipped side
]
ACTIONS = [0, 3, 6, 2, 5, 1]


def logits_row(i: int) -> list[float]:
    return [((i * 7 + j) * 0.37) % 2 - 1 + 0.8 * (j == i % 7) for j in range(7)]


def teacher_row(i: int) -> list[float]:
    if i % 2:  # one-hot, as the hard planner gives
        return [float(j == (i + 1) % 7) for j in range(7)]
    raw = [1.0 + j * (i + 1) % 5 for j in range(7)]
    return [r / sum(raw) for r in raw]


def log_softmax(row: list[float]) -> list[float]:
    z = math.log(sum(math.exp(x) for x in row))
    return [x - z for x in row]


class TableModel(nn.Module):
    """Sample i's observation holds i; the forward returns row i of the logits and values."""

    recurrent = False

    def __init__(self, logits: list[list[float]], values: list[float]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits, dtype=torch.float64))
        self.values = nn.Parameter(torch.tensor(values, dtype=torch.float64))

    def forward(self, obs, memory=None):
        i = obs[:, 0, 0, 0].long()
        return self.logits[i], self.values[i], None


def t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def build(ratio_wrt: str, ks: float = KS_COEF) -> tuple[PPO, Minibatch, IterationPlan]:
    n = len(SAMPLES)
    logits = [logits_row(i) for i in range(n)]
    new_logp = [log_softmax(logits[i])[ACTIONS[i]] for i in range(n)]
    # the reference log-prob that gives the sample its ratio; the other field gets a decoy
    ref = [new_logp[i] - math.log(SAMPLES[i][0]) for i in range(n)]
    decoy = [r - 0.3 * (i + 1) for i, r in enumerate(ref)]
    student, behaviour = (decoy, ref) if ratio_wrt == "behaviour" else (ref, decoy)
    mb = Minibatch(
        obs=torch.arange(n, dtype=torch.uint8).reshape(n, 1, 1, 1),
        actions=torch.tensor(ACTIONS), logprobs=t(student),
        values=t([s[3] for s in SAMPLES]), returns=t([s[4] for s in SAMPLES]),
        advantages=t([s[1] for s in SAMPLES]), memory=None, masks=None,
        behaviour_logprobs=t(behaviour), teacher_probs=t([teacher_row(i) for i in range(n)]),
        teacher_values=t([0.1 * i for i in range(n)]))
    cfg = TrainConfig(task="SimpleDoorKey", clip=CLIP, value_coef=VALUE_COEF,
                 entropy_coef=ENTROPY_COEF, ratio_wrt=ratio_wrt).validate()
    ppo = PPO(TableModel(logits, [s[2] for s in SAMPLES]), cfg)
    return ppo, mb, rl_plan(ks=ks)


def hand(clip_ratio: bool = True, value_max: bool = True) -> dict[str, float]:
    n = len(SAMPLES)
    surrogate, value, entropy, ks = [], [], [], []
    for i, (r, a, v, v_old, ret) in enumerate(SAMPLES):
        clipped_r = min(max(r, 1 - CLIP), 1 + CLIP) if clip_ratio else r
        surrogate.append(min(r * a, clipped_r * a))
        v_clipped = v_old + min(max(v - v_old, -CLIP), CLIP)
        pick = max if value_max else min
        value.append(pick((v - ret) ** 2, (v_clipped - ret) ** 2))
        logp = log_softmax(logits_row(i))
        entropy.append(-sum(math.exp(lp) * lp for lp in logp))
        ks.append(-sum(q * lp for q, lp in zip(teacher_row(i), logp, strict=True)))
    out = {"Policy Loss": -sum(surrogate) / n, "Value Loss": sum(value) / n,
           "Entropy": sum(entropy) / n, "Kickstart Loss": sum(ks) / n}
    out["total"] = (out["Policy Loss"] + VALUE_COEF * out["Value Loss"]
                    - ENTROPY_COEF * out["Entropy"] + KS_COEF * out["Kickstart Loss"])
    return out


def test_the_hand_computation_exercises_every_term():
    full = hand()
    assert hand(clip_ratio=False)["Policy Loss"] != pytest.approx(full["Policy Loss"], abs=0.05)
    assert hand(value_max=False)["Value Loss"] != pytest.approx(full["Value Loss"], abs=0.05)
    # the max picks the clipped side for some samples and the unclipped side for others
    unclipped = [(v - ret) ** 2 for _, _, v, _, ret in SAMPLES]
    assert full["Value Loss"] > sum(unclipped) / len(SAMPLES) + 0.05
    assert any(a > 0 for _, a, *_ in SAMPLES) and any(a < 0 for _, a, *_ in SAMPLES)
    assert ENTROPY_COEF * full["Entropy"] > 0.05 and KS_COEF * full["Kickstart Loss"] > 0.5


@pytest.mark.parametrize("ratio_wrt", ["behaviour", "student"])
def test_ppo_loss_matches_the_hand_computation(ratio_wrt: str):
    ppo, mb, plan = build(ratio_wrt)
    loss, stats = ppo.loss(mb, plan)
    expected = hand()
    for key in ("Policy Loss", "Value Loss", "Entropy", "Kickstart Loss"):
        assert stats[key] == pytest.approx(expected[key], rel=1e-9), key
    assert loss.item() == pytest.approx(expected["total"], rel=1e-9)


def test_decoupled_ppo_weights_the_clipped_student_surrogate():
    """--ratio_wrt decoupled: the ratio (and its clip) against the student at collection, each
    sample weighted by min(is_clip, pi_S_old / pi_B)."""
    ppo, mb, plan = build("student")
    ppo.cfg.ratio_wrt, ppo.cfg.is_clip = "decoupled", 0.6
    shift = t([0.3 * (i + 1) for i in range(len(SAMPLES))])  # behaviour more likely than student
    mb = mb._replace(behaviour_logprobs=mb.logprobs + shift)
    _, stats = ppo.loss(mb, plan)
    weights = [min(0.6, math.exp(-0.3 * (i + 1))) for i in range(len(SAMPLES))]
    assert weights[0] == 0.6 and weights[-1] < 0.6  # the truncation binds for some samples
    expected = 0.0
    for w, (r, a, *_) in zip(weights, SAMPLES, strict=True):
        expected -= w * min(r * a, min(max(r, 1 - CLIP), 1 + CLIP) * a) / len(SAMPLES)
    assert stats["Policy Loss"] == pytest.approx(expected, rel=1e-9)
    # with the behaviour equal to the student it is the student-ratio PPO loss
    same = mb._replace(behaviour_logprobs=mb.logprobs)
    ppo.cfg.is_clip = 1.0
    assert ppo.loss(same, plan)[1]["Policy Loss"] == pytest.approx(hand()["Policy Loss"], rel=1e-9)


def test_without_kickstarting_the_loss_has_no_teacher_term():
    ppo, mb, plan = build("behaviour", ks=0.0)
    loss, stats = ppo.loss(mb, plan)
    expected = hand()
    assert "Kickstart Loss" not in stats
    assert loss.item() == pytest.approx(expected["total"] - KS_COEF * expected["Kickstart Loss"],
                                        rel=1e-9)


def test_the_gradient_raises_the_probability_of_actions_with_positive_advantage():
    """Inside the clip the policy gradient moves log pi(a|s) with the sign of A."""
    ppo, mb, plan = build("behaviour", ks=0.0)
    ppo.cfg.entropy_coef = 0.0
    loss, _ = ppo.loss(mb, plan)
    loss.backward()
    grad = ppo.model.logits.grad
    for i in (4, 5):  # inside the clip: A > 0, A < 0
        # d loss / d logit[a] = -A r (1 - p_a) / n: descent raises logit[a] iff A > 0
        assert (grad[i, ACTIONS[i]].item() < 0) == (SAMPLES[i][1] > 0)
    for i in (0, 2):  # clipped on the side the advantage pushes to: no policy gradient
        assert torch.allclose(grad[i], torch.zeros(7, dtype=torch.float64))


def test_imitation_loss_matches_the_hand_computation():
    ppo, mb, plan = build("behaviour")
    plan = dataclasses.replace(plan, imitating=True, ks=0.0, consult_critic=True)
    loss, stats = ppo.loss(mb, plan)
    n = len(SAMPLES)
    ce = sum(-sum(q * lp for q, lp in zip(teacher_row(i), log_softmax(logits_row(i)), strict=True))
             for i in range(n)) / n
    align = sum((SAMPLES[i][2] - 0.1 * i) ** 2 for i in range(n)) / n
    assert stats == pytest.approx({"Imitation Loss": ce, "Value Align Loss": align}, rel=1e-9)
    cfg = ppo.cfg
    assert loss.item() == pytest.approx(cfg.imitation_coef * (ce + cfg.value_align_coef * align),
                                        rel=1e-9)
