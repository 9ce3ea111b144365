"""What one PPO update logs about the change of the policy, on real rollouts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from algos.collect import Carry
from algos.trainer import Trainer
from tests.plans import rl_plan
from utils.config import TrainConfig


def collected(tmp_path: Path, **kw) -> Trainer:
    cfg = TrainConfig(task="SimpleDoorKey", savedir="s", logdir=str(tmp_path), n_itr=10,
                 traj_per_itr=2, batch_size=32, num_envs=2, num_eval=1, **kw).validate()
    t = Trainer(cfg, 0, tmp_path / "s")
    t.collector.collect(Carry(t.vec.reset(), torch.zeros(2, t.model.memory_size) if t.model.recurrent
                    else None, torch.ones(2)), t.plan())
    return t


def test_approx_kl_is_the_change_of_the_whole_update_against_the_collecting_student(
        tmp_path: Path):
    # ihac with guidance: the actions come from the guided mixture, but the KL and the clip
    # fraction measure how far the student moved from itself at collection
    t = collected(tmp_path, algo="ihac", imitation="0")
    st, T = t.storage, t.storage.step
    assert not torch.allclose(st.logprobs[:T], st.behaviour_logprobs[:T])
    plan = t.plan()
    assert not plan.imitating and plan.guide > 0 and plan.ks > 0
    stats, steps = t.algo.update(st, t.minibatch_gen, plan)
    assert steps >= 3
    f = st.flat("obs", "actions", "logprobs")
    with torch.no_grad():
        logits, _, _ = t.model(f["obs"])
    log_r = torch.log_softmax(logits.double(), -1).gather(1, f["actions"][:, None]).squeeze(1) \
        - f["logprobs"].double()
    r = log_r.exp()
    kl = ((r - 1) - log_r).mean().item()
    clip_frac = ((r - 1).abs() > t.cfg.clip).double().mean().item()
    assert kl > 1e-4  # the update did move the student
    assert stats["Approx KL"] == pytest.approx(kl, rel=1e-3)
    assert stats["Clip Frac"] == pytest.approx(clip_frac, abs=0.5 / len(r))
    for key in ("Policy Loss", "Value Loss", "Entropy", "Kickstart Loss", "Grad Norm",
                "Explained Variance"):
        assert key in stats


@pytest.mark.parametrize("recurrent", [False, pytest.param(True, marks=pytest.mark.slow)],
                         ids=["cnn", "lstm"])
def test_approx_kl_is_zero_when_the_update_changes_nothing(tmp_path: Path, recurrent: bool):
    t = collected(tmp_path, algo="ppo", recurrent=recurrent)
    before = [p.clone() for p in t.model.parameters()]
    stats, _ = t.algo.update(t.storage, t.minibatch_gen, rl_plan(lr=0.0))
    assert all(torch.equal(a, b) for a, b in zip(before, t.model.parameters(), strict=True))
    # the student re-evaluated on the rollout (the LSTM from each sequence's stored memory)
    # reproduces its log-probs at collection
    assert stats["Approx KL"] == pytest.approx(0, abs=1e-6)
    assert stats["Clip Frac"] == 0


def test_target_kl_stops_the_epochs_early(tmp_path: Path):
    full = collected(tmp_path / "a", algo="ppo", epochs=4)
    stats, steps = full.algo.update(full.storage, full.minibatch_gen, full.plan())
    per_epoch = steps // 4
    assert stats["Epochs"] == 4 and per_epoch >= 2
    # a tiny target: the first epoch's later minibatches see the student moved past it, so the
    # other epochs are skipped
    early = collected(tmp_path / "b", algo="ppo", epochs=4, target_kl=1e-9)
    stats, steps = early.algo.update(early.storage, early.minibatch_gen, early.plan())
    assert stats["Epochs"] == 1 and steps == per_epoch
    # a target never reached changes nothing
    loose = collected(tmp_path / "c", algo="ppo", epochs=4, target_kl=10.0)
    assert loose.algo.update(loose.storage, loose.minibatch_gen, loose.plan())[1] == 4 * per_epoch


def test_linear_learning_rate_reaches_zero_with_the_budget(tmp_path: Path):
    t = collected(tmp_path, algo="ppo", lr=1e-3, lr_schedule="linear", total_env_steps=10_000)
    for steps, lr in ((0, 1e-3), (2_500, 7.5e-4), (10_000, 0.0), (12_000, 0.0)):
        t.counters["env_steps"] = steps
        assert t.plan().lr == pytest.approx(lr)
    # with no env-step budget: by iterations
    t = collected(tmp_path / "i", algo="ppo", lr=1e-3, lr_schedule="linear", total_env_steps=0,
                  kickstart="step:0.005/0.1/3000")
    t.counters["iteration"] = 5
    assert t.plan().lr == pytest.approx(5e-4)
    assert collected(tmp_path / "c", algo="ppo", lr_schedule="constant").plan().lr == 1e-3
