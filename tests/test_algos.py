"""IHAC, LLM4Teach and PPO: tiny end-to-end runs, schedules, determinism, the teacher critic."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pytest
import torch

from algos.collect import Carry
from algos.schedules import IterationPlan, guidance_coef, imitation_iterations, kickstart_coef
from algos.storage import RolloutStorage
from algos.teacher_critic import TeacherCriticLearner
from algos.trainer import Trainer
from main import main
from models import ACModel, TeacherCritic
from tests.conftest import TINY
from tests.plans import rl_plan
from utils.config import TrainConfig

ALGO_KEYS = {
    "ihac": ["Train/Teacher Critic Loss", "Train/Imitation Loss", "Train/Value Align Loss",
             "Train/Guidance Coef", "Train/Phase", "Train/Teacher Agreement", "Train/KS Coef"],
    "llm4teach": ["Train/Kickstart Loss", "Train/KS Coef", "Train/Teacher Agreement",
                  "Train/Policy Loss"],
    "ppo": ["Train/Policy Loss", "Train/Value Loss"],
}


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("algo", list(ALGO_KEYS))
def test_tiny_run_logs_finite_losses_and_its_checkpoint_evaluates(algo: str, logdir: Path):
    args = ["train", "--task", "SimpleDoorKey", "--savedir", algo, "--algo", algo, "--logdir",
            str(logdir), *TINY, "--n_itr", "3", "--imitation", "1itr", "--kickstart", "step:2/0.1/3000"]
    assert main(args) == 0
    run = logdir / "ppo" / "simpledoorkey" / algo
    table = rows(run)
    for key in ALGO_KEYS[algo]:
        values = [float(r[key]) for r in table if r[key] != ""]
        assert values and all(math.isfinite(v) for v in values), key
    if algo == "ihac":  # imitation first, then PPO with kickstarting
        assert [r["Train/Phase"] for r in table] == ["0.0", "1.0", "1.0"]
        assert table[0]["Train/Policy Loss"] == "" and table[1]["Train/Kickstart Loss"] != ""
    if algo != "ppo":  # kickstarting steps once per PPO-phase iteration, however many minibatches
        ks = [r["Train/KS Coef"] for r in table]
        assert ks == (["0.0", "10.0", "8.0"] if algo == "ihac" else ["10.0", "8.0", "6.0"])
    state = torch.load(run / "acmodel.pt", weights_only=True)
    assert ("teacher_critic" in state) == (algo == "ihac")
    assert main(["eval", "--task", "SimpleDoorKey", "--loaddir", algo, "--savedir", "e",
                 "--logdir", str(logdir), "--num_eval", "3", "--num_videos", "0"]) == 0


@pytest.mark.parametrize("algo", ["ihac", *(pytest.param(a, marks=pytest.mark.slow)
                                             for a in ("llm4teach", "ppo"))])
def test_same_seed_same_first_iteration(algo: str, logdir: Path):
    for name in ("a", "b"):
        assert main(["train", "--task", "LavaDoorKey", "--savedir", name, "--algo", algo,
                     "--logdir", str(logdir), *TINY, "--n_itr", "1", "--seed_list", "0"]) == 0
    a, b = (rows(logdir / "ppo" / "lavadoorkey" / n)[0] for n in "ab")
    keys = [k for k in a if k.startswith("Train/") and k != "Train/SPS" and a[k] != ""]
    assert keys and [a[k] for k in keys] == [b[k] for k in keys]


ITERATION_SCHEDULES = {"total_env_steps": 0, "kickstart": "step:0.005/0.1/3000"}


def trainer(tmp_path: Path, **kw) -> Trainer:
    cfg = TrainConfig(task="SimpleDoorKey", savedir="s", logdir=str(tmp_path), n_itr=100,
                 traj_per_itr=2, batch_size=32, num_envs=2, num_eval=1, **kw).validate()
    return Trainer(cfg, 0, tmp_path / "s")


def test_schedules(tmp_path: Path):
    # the original's iteration-counted schedules (--preset original)
    t = trainer(tmp_path, algo="ihac", guidance="decay:0.5/10", guide_min=0.1,
                **ITERATION_SCHEDULES)
    assert imitation_iterations(t.cfg) == 10  # n_itr / 10
    for itr, c in ((0, 1.0), (9, 1.0), (10, 0.5), (25, 0.25), (30, 0.125), (40, 0.0)):
        t.counters["iteration"] = itr
        assert guidance_coef(t.cfg, t.counters) == pytest.approx(c)
    # one step of the kickstarting schedule per PPO-phase iteration, after the 10 imitation ones
    for itr, ks in ((10, 10.0), (110, 9.5), (1990, 0.1), (3009, 0.1), (3010, 0.0)):
        t.counters["iteration"] = itr
        assert kickstart_coef(t.cfg, t.counters) == pytest.approx(ks)
        assert t.plan().ks == pytest.approx(ks)  # after the imitation phase
    l4t = trainer(tmp_path, algo="llm4teach", **ITERATION_SCHEDULES)
    first = l4t.plan()
    assert first.guide == 0 and first.ks == 10 and not first.imitating and l4t.critic is None
    assert first.consult_teacher and not first.consult_critic
    assert imitation_iterations(l4t.cfg) == 0
    ppo = trainer(tmp_path, algo="ppo")
    assert ppo.teacher is None and ppo.plan() == IterationPlan(
        lr=1e-3, imitating=False, guide=0.0, ks=0.0, consult_teacher=False, consult_critic=False)


def test_schedules_as_fractions_of_the_budget(tmp_path: Path):
    t = trainer(tmp_path, algo="ihac", total_env_steps=100_000, imitation="0.1",
                guidance="linear:0.5", kickstart="linear:0.8", ks_coef=4.0)
    for steps, imitating, c, ks in ((0, True, 1.0, 4.0), (9_999, True, 0.80002, 3.50005),
                                    (10_000, False, 0.8, 3.5), (25_000, False, 0.5, 2.75),
                                    (50_000, False, 0.0, 1.5), (80_000, False, 0.0, 0.0),
                                    (99_000, False, 0.0, 0.0)):
        t.counters["env_steps"] = steps
        plan = t.plan()
        assert plan.imitating == imitating and plan.phase == (0.0 if imitating else 1.0)
        assert plan.guide == pytest.approx(c)
        assert kickstart_coef(t.cfg, t.counters) == pytest.approx(ks)
        # no kickstarting while imitating: the imitation loss replaces the PPO loss
        assert plan.ks == (0.0 if imitating else pytest.approx(ks))
    # the original's per-update ks schedule counts PPO iterations after a budget-based imitation
    t = trainer(tmp_path, algo="ihac", total_env_steps=100_000, imitation="0.1",
                kickstart="step:0.005/0.1/3000")
    t.counters.update(iteration=120, imitation_iterations=20, env_steps=50_000)
    assert t.plan().ks == pytest.approx(10 - 0.005 * 100)


def test_guided_sampling_follows_the_teacher_and_records_the_behaviour_policy(tmp_path: Path):
    t = trainer(tmp_path, algo="ihac")
    obs = t.vec.reset()
    plan = t.plan()  # the imitation phase: the teacher and its critic consulted, c = 1
    assert plan.consult_teacher and plan.consult_critic and plan.guide == 1.0
    act = t.collector.act(obs, None, plan)
    # the hard planner's one-hot dominates log(pi_T + 1e-8): the teacher's action is taken
    assert (act.actions == act.teacher_probs.argmax(1)).all()
    assert (act.behaviour_logprobs > act.logprobs).all() and act.tc_values.shape == (2,)
    unguided = t.collector.act(obs, None, dataclasses.replace(plan, guide=0.0))
    assert torch.allclose(unguided.logprobs, unguided.behaviour_logprobs)


def test_the_teacher_and_its_critic_rest_once_their_phases_end(tmp_path: Path):
    t = trainer(tmp_path, algo="ihac", total_env_steps=100_000, imitation="0.1",
                guidance="linear:0.2", kickstart="linear:0.5")
    calls = []
    ask = t.teacher.batch_probs
    t.teacher.batch_probs = lambda obs: calls.append(len(obs)) or ask(obs)
    for steps, teacher, critic in ((0, True, True), (20_000, True, False),
                                   (50_000, False, False)):
        calls.clear()
        t.counters["env_steps"] = steps
        plan = t.plan()
        t.collector.collect(Carry(t.vec.reset(), None, torch.ones(2)), plan)
        T = t.storage.step
        assert bool(calls) == teacher
        assert (t.storage.teacher_probs[:T].sum(-1) == 1).all() if teacher else \
            (t.storage.teacher_probs[:T] == 0).all()
        assert (t.storage.teacher_values[:T] != 0).any() == critic
        assert plan.consult_teacher == teacher and plan.consult_critic == critic


@pytest.mark.parametrize("timeout_value", ["bootstrap", "zero"])
def test_time_limit_cuts_are_bootstrapped_or_worth_zero(tmp_path: Path, timeout_value: str):
    t = trainer(tmp_path, algo="ppo", timeout_value=timeout_value)
    obs = t.vec.reset()
    # an untrained student: nearly every episode times out
    t.collector.collect(Carry(obs, None, torch.ones(2)), t.plan())
    st, T = t.storage, t.storage.step
    cut = st.truncated[:T].bool()
    assert cut.any()
    if timeout_value == "bootstrap":  # V_S(last obs) is never exactly 0 for a fresh network
        assert (st.bootstrap[:T][cut] != 0).all()
        assert torch.allclose(st.returns[:T][cut], st.rewards[:T][cut] + 0.99 * st.bootstrap[:T][cut])
    else:
        assert (st.bootstrap[:T] == 0).all()
        assert torch.equal(st.returns[:T][cut], st.rewards[:T][cut])


def fixed_batch(n: int = 64):
    torch.manual_seed(0)
    obs = torch.randint(0, 6, (n, 10, 10, 4), dtype=torch.uint8)
    return (obs, torch.randint(0, 6, (n, 10, 10, 4), dtype=torch.uint8), torch.rand(n),
            (torch.rand(n) < 0.2).float(), torch.softmax(torch.randn(n, 7), -1))


def test_teacher_critic_learns_on_a_fixed_batch():
    cfg = TrainConfig(task="SimpleDoorKey", tc_lr=1e-3)
    critic = TeacherCritic((10, 10, 4))
    learner = TeacherCriticLearner(critic, cfg)
    student = ACModel((10, 10, 4))
    *batch, teacher_probs = fixed_batch()
    batch.append(learner.student_gap(teacher_probs, batch[0], student))
    first = learner.loss(*batch)
    learner.optimizer.zero_grad()
    first.backward()
    grads = [p.grad for p in critic.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    for _ in range(60):
        loss = learner.loss(*batch)
        learner.optimizer.zero_grad()
        loss.backward()
        learner.optimizer.step()
    assert learner.loss(*batch).item() < 0.5 * first.item()


def test_teacher_critic_update_uses_the_rollout(tmp_path: Path):
    t = trainer(tmp_path, algo="ihac")
    obs = t.vec.reset()
    mask = torch.ones(2)
    t.collector.collect(Carry(obs, None, mask), t.plan())
    assert isinstance(t.storage, RolloutStorage) and t.storage.teacher_probs[:t.storage.step].sum(
        -1).allclose(torch.ones(t.storage.step, 2))
    before = [p.clone() for p in t.critic.parameters()]
    loss = t.critic_learner.update(t.storage, t.model, t.minibatch_gen)
    assert math.isfinite(loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, t.critic.parameters(), strict=True))


def test_a_rollout_encoded_once_updates_both_networks_as_encoding_every_minibatch(
        tmp_path: Path):
    """The trainer encodes a rollout once for every epoch of the student and the teacher
    critic (RolloutStorage.encode_observations): the update must be the one the networks get
    when each minibatch's uint8 observations are encoded in the forward pass."""
    runs = []
    for encode_once in (False, True):
        t = trainer(tmp_path / str(encode_once), algo="ihac")
        t.collector.collect(Carry(t.vec.reset(), None, torch.ones(2)), t.plan())
        if encode_once:
            t.storage.encode_observations(t.model.encode, ("obs", "next_obs"))
            assert t.storage.input_rows("obs", torch.arange(3)).dtype == torch.float32
        before = {k: v.clone() for k, v in t.critic.state_dict().items()}
        t.critic_learner.update(t.storage, t.model, t.minibatch_gen)
        t.algo.update(t.storage, t.minibatch_gen, rl_plan())
        runs.append((t.model.state_dict(), t.critic.state_dict()))
        assert any(not torch.equal(before[k], v) for k, v in t.critic.state_dict().items())
    (student, critic), (student_once, critic_once) = runs
    assert all(torch.equal(student[k], student_once[k]) for k in student)
    # the critic's target takes the student's side from one pass over the rollout (batches of
    # another size than the minibatches': the same up to float rounding)
    assert all(torch.allclose(critic[k], critic_once[k], atol=1e-6) for k in critic)


def test_ratio_wrt_changes_the_policy_loss(tmp_path: Path):
    losses = {}
    for ratio in ("behaviour", "student"):
        t = trainer(tmp_path / ratio, algo="ihac", ratio_wrt=ratio, imitation="0")
        plan = t.plan()
        t.collector.collect(Carry(t.vec.reset(), None, torch.ones(2)), plan)
        mb = next(t.storage.minibatches(32, torch.Generator().manual_seed(0)))
        losses[ratio] = t.algo.loss(mb, plan)[1]["Policy Loss"]
    assert losses["behaviour"] != losses["student"]


@pytest.mark.slow
def test_plot_compares_runs(logdir: Path, tmp_path: Path, capsys):
    for algo in ("ppo", "llm4teach"):
        assert main(["train", "--task", "SimpleDoorKey", "--savedir", algo, "--algo", algo,
                     "--logdir", str(logdir), *TINY, "--n_itr", "3",
                     "--eval_every_steps", "500", "--eval_interval", "100"]) == 0
    out = tmp_path / "cmp"
    assert main(["plot", "--runs", str(logdir / "ppo" / "simpledoorkey"), "--out", str(out)]) == 0
    table = (out / "results.md").read_text()
    assert "| ppo | 1 |" in table and "| llm4teach | 1 |" in table
    with open(out / "evaluations.csv", newline="") as f:
        evals = list(csv.DictReader(f))
    assert {e["algo"] for e in evals} == {"ppo", "llm4teach"}
    assert len([e for e in evals if e["algo"] == "ppo"]) == 3  # >= 500 steps per iteration
    # each run named relative to the CSV's folder: a committed results folder names no machine
    assert all(not Path(e["run"]).is_absolute() and (out / e["run"] / "config.json").exists()
               for e in evals)
    from PIL import Image

    assert Image.open(out / "success.png").size[0] > 400
