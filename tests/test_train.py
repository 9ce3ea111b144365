"""The real train/eval CLI with tiny budgets: run directory, logs, checkpoints, resume, seeds."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from main import main
from tests.conftest import TINY

LOSSES = ["Train/Policy Loss", "Train/Value Loss", "Train/Entropy", "Train/Approx KL"]


def rows(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_train_writes_the_run_directory(logdir: Path, capsys):
    assert main(["train", "--task", "simpledoorkey", "--savedir", "train", "--logdir",
                 str(logdir), *TINY]) == 0
    run = logdir / "ppo" / "simpledoorkey" / "train"  # exactly: no seed or time appended
    assert {"acmodel.pt", "config.json", "progress.csv", "curves.png"} <= {
        p.name for p in run.iterdir()}
    out = capsys.readouterr().out
    assert "itr 2/2" in out and "steps/s" in out and "ETA" in out and "eval success" in out

    state = torch.load(run / "acmodel.pt", weights_only=True)
    assert state["counters"]["iteration"] == 2 and state["config"]["task"] == "SimpleDoorKey"
    assert json.loads((run / "config.json").read_text())["n_itr"] == 2

    table = rows(run)
    assert [r["iteration"] for r in table] == ["1", "2"]
    for r in table:
        for key in [*LOSSES, "Train/SPS", "Test/Success Rate", "Train/Return Mean"]:
            assert math.isfinite(float(r[key])), key

    events = EventAccumulator(str(run))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    expected = {"Train/Return Mean", "Train/Return Std", "Train/Success Rate", "Train/Eplen",
                "Train/SPS", "Test/Return Mean", "Test/Return Std", "Test/Success Rate",
                "Test/Eplen", *LOSSES}
    assert expected <= tags
    steps = [e.step for e in events.Scalars("Train/SPS")]
    assert steps == [int(r["env_steps"]) for r in table]


@pytest.mark.slow
def test_same_seed_same_run_and_seed_zero_is_a_seed(logdir: Path):
    for name, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        assert main(["train", "--task", "SimpleDoorKey", "--savedir", name, "--logdir",
                     str(logdir), "--seed_list", seed, *TINY]) == 0
    runs = {n: rows(logdir / "ppo" / "simpledoorkey" / n) for n in "abc"}
    deterministic = [*LOSSES, "env_steps", "Train/Return Mean", "Test/Return Mean"]
    assert [[r[k] for k in deterministic] for r in runs["a"]] == \
        [[r[k] for k in deterministic] for r in runs["b"]]
    assert [r[LOSSES[0]] for r in runs["a"]] != [r[LOSSES[0]] for r in runs["c"]]


def test_rerun_resumes_and_a_finished_run_is_kept(logdir: Path, capsys):
    args = ["train", "--task", "SimpleDoorKey", "--savedir", "r", "--logdir", str(logdir), *TINY]
    assert main(args) == 0
    run = logdir / "ppo" / "simpledoorkey" / "r"
    before = (run / "acmodel.pt").read_bytes()
    capsys.readouterr()
    assert main(args) == 2  # finished: refuse, do not overwrite
    assert "finished run" in capsys.readouterr().err
    assert (run / "acmodel.pt").read_bytes() == before
    assert main([*args, "--n_itr", "3"]) == 0  # a larger budget continues it
    assert "resuming" in capsys.readouterr().out
    assert torch.load(run / "acmodel.pt", weights_only=True)["counters"]["iteration"] == 3
    assert [r["iteration"] for r in rows(run)] == ["1", "2", "3"]
    # results kept without their checkpoint (as committed): the marker still protects them
    assert json.loads((run / "finished.json").read_text())["iteration"] == 3
    (run / "acmodel.pt").unlink()
    capsys.readouterr()
    assert main([*args, "--n_itr", "3"]) == 2
    assert "finished run whose checkpoint is not here" in capsys.readouterr().err
    assert [r["iteration"] for r in rows(run)] == ["1", "2", "3"]


@pytest.mark.slow
def test_several_seeds_get_sub_directories_and_eval_finds_them(logdir: Path, capsys):
    assert main(["train", "--task", "KeyInBox", "--savedir", "multi", "--logdir", str(logdir),
                 "--seed_list", "0", "3", *TINY]) == 0
    base = logdir / "ppo" / "keyinbox" / "multi"
    assert (base / "seed_0" / "acmodel.pt").exists() and (base / "seed_3" / "acmodel.pt").exists()
    capsys.readouterr()
    assert main(["eval", "--task", "KeyInBox", "--loaddir", "multi", "--savedir", "eval",
                 "--logdir", str(logdir), "--num_eval", "3", "--num_videos", "0"]) == 0
    out = capsys.readouterr().out
    assert "over 2 seeds" in out
    assert (base / "eval" / "seed_0" / "results.json").exists()
    assert (base / "eval" / "seed_3" / "results.json").exists()


@pytest.mark.slow
def test_eval_prints_results_and_saves_videos(logdir: Path, capsys):
    assert main(["train", "--task", "SimpleDoorKey", "--savedir", "train", "--logdir",
                 str(logdir), *TINY]) == 0
    capsys.readouterr()
    assert main(["eval", "--task", "SimpleDoorKey", "--loaddir", "train", "--savedir", "eval",
                 "--logdir", str(logdir), "--num_eval", "5", "--num_videos", "2",
                 "--deterministic"]) == 0
    out = capsys.readouterr().out
    assert "mean return" in out and "mean length" in out and "success rate" in out
    ev = logdir / "ppo" / "simpledoorkey" / "train" / "eval"
    results = json.loads((ev / "results.json").read_text())
    assert results["episodes"] == 5 and 0 <= results["Success Rate"] <= 1
    assert len(rows_of(ev / "episodes.csv")) == 5
    gifs = sorted(p.name for p in ev.glob("*.gif"))
    assert gifs == ["episode_0.gif", "episode_1.gif"]
    import imageio.v3 as iio

    frames = iio.imread(ev / "episode_0.gif", index=None)
    assert frames.ndim == 4 and frames.shape[0] >= 2


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--recurrent"], ["--frame_stack", "3"], ["--gae"]],
                         ids=["recurrent", "frame_stack", "gae"])
def test_variants_train_and_evaluate(logdir: Path, extra: list[str]):
    assert main(["train", "--task", "LavaDoorKey", "--savedir", "v", "--logdir", str(logdir),
                 *TINY, *extra]) == 0
    run = logdir / "ppo" / "lavadoorkey" / "v"
    for r in rows(run):
        assert all(math.isfinite(float(r[k])) for k in LOSSES)
    assert main(["eval", "--task", "LavaDoorKey", "--loaddir", "v", "--savedir", "e", "--logdir",
                 str(logdir), "--num_eval", "2", "--num_videos", "1"]) == 0


def test_env_seed_list_trains_on_those_rooms_only(logdir: Path):
    from algos.trainer import Trainer
    from utils.config import TrainConfig

    cfg = TrainConfig(task="SimpleDoorKey", savedir="s", logdir=str(logdir), n_itr=1, traj_per_itr=2,
                 batch_size=32, num_envs=2, num_eval=1, env_seed_list=[5, 6]).validate()
    trainer = Trainer(cfg, 0, logdir / "s")
    seen = []
    original = trainer.vec._reset_env

    def spy(i: int, first: bool) -> None:
        original(i, first)
        seen.append(trainer.vec.seeds[i])

    trainer.vec._reset_env = spy
    trainer.train()
    assert set(seen) == {5, 6} and len(seen) > 2


@pytest.mark.slow
def test_resume_takes_the_new_learning_rates_and_adam_eps(logdir: Path, capsys):
    from algos.trainer import Trainer
    from utils.config import TrainConfig

    def run(n_itr: int, **kw) -> Trainer:
        cfg = TrainConfig(task="SimpleDoorKey", savedir="lr", logdir=str(logdir), algo="ihac",
                     n_itr=n_itr, traj_per_itr=2, batch_size=32, num_envs=2, num_eval=1,
                     lr_schedule="constant", **kw).validate()
        return Trainer(cfg, 0, logdir / "lr")

    run(1).train()
    capsys.readouterr()
    t = run(2, lr=1e-4, adam_eps=1e-5, tc_lr=0.003)
    assert t.resumed
    out = capsys.readouterr().out
    assert "resuming with --lr 0.0001 (the checkpoint had 0.001)" in out
    assert "resuming with --adam_eps 1e-05 (the checkpoint had 1e-08)" in out
    assert "resuming with --tc_lr 0.003 (the checkpoint had 0.01)" in out
    groups = t.algo.optimizer.param_groups
    assert [(g["lr"], g["eps"]) for g in groups] == [(1e-4, 1e-5)] * len(groups)
    assert [g["lr"] for g in t.critic_learner.optimizer.param_groups] == [0.003]
    assert t.algo.optimizer.state  # Adam's moments did come from the checkpoint
    t.train()  # and training continues with them
    state = torch.load(logdir / "lr" / "acmodel.pt", weights_only=True)
    assert state["counters"]["iteration"] == 2
    assert state["optimizer"]["param_groups"][0]["lr"] == 1e-4
    assert state["teacher_critic_optimizer"]["param_groups"][0]["lr"] == 0.003
    capsys.readouterr()
    run(3, lr=1e-4, adam_eps=1e-5, tc_lr=0.003)  # unchanged values: nothing to say
    assert "resuming with" not in capsys.readouterr().out


def test_onehot_student_trains_evaluates_and_must_resume_as_onehot(logdir: Path, capsys):
    common = ["--task", "SimpleDoorKey", "--logdir", str(logdir)]
    assert main(["train", *common, "--savedir", "oh", "--algo", "ihac", "--obs_encoding",
                 "onehot", *TINY]) == 0
    state = torch.load(logdir / "ppo" / "simpledoorkey" / "oh" / "acmodel.pt", weights_only=True)
    assert state["model"]["conv.0.weight"].shape[1] == 25
    assert state["teacher_critic"]["conv.0.weight"].shape[1] == 25
    assert main(["eval", *common, "--loaddir", "oh", "--savedir", "e", "--num_eval", "2",
                 "--num_videos", "0"]) == 0
    capsys.readouterr()
    assert main(["train", *common, "--savedir", "oh", "--algo", "ihac", *TINY, "--n_itr",
                 "3"]) == 2
    assert "--obs_encoding onehot" in capsys.readouterr().err


def test_tanh_heads_and_global_pool_train_evaluate_and_must_resume_alike(logdir: Path, capsys):
    """--head_activation tanh, --global_pool max and --trunk_pool max reach the student and the
    teacher critic, eval rebuilds the student exactly as trained (same outputs), and resuming
    with another activation or without the trunk's pool is refused."""
    from commands.evaluate import load_student
    from models import ACModel

    common = ["--task", "SimpleDoorKey", "--logdir", str(logdir)]
    pooled = ["--global_pool", "max", "--trunk_pool", "max"]
    assert main(["train", *common, "--savedir", "th", "--algo", "ihac", "--head_activation",
                 "tanh", *pooled, *TINY]) == 0
    run = logdir / "ppo" / "simpledoorkey" / "th"
    state = torch.load(run / "acmodel.pt", weights_only=True)
    flat = 64 * 10 * 10  # egocentric 19 x 19 map pooled to 10 x 10, 64 conv channels
    assert state["model"]["critic.0.weight"].shape[1] == flat + 64
    assert state["teacher_critic"]["head.0.weight"].shape[1] == flat + 64
    model, trained, _ = load_student(run, "SimpleDoorKey")
    assert isinstance(model.actor[1], torch.nn.Tanh) and isinstance(model.critic[1], torch.nn.Tanh)
    relu = ACModel((10, 10, 4), 7, encoding="egocentric", ego_radius=9, global_pool="max",
                   trunk_pool="max")
    relu.load_state_dict(state["model"])  # the same weights fit either activation...
    obs = torch.randint(0, 6, (8, 10, 10, 4), dtype=torch.uint8)
    obs[..., 3] = 4
    obs[:, 3, 4, 3] = 1
    with torch.no_grad():  # ...so only rebuilding the trained one gives the trained outputs
        assert not torch.allclose(model(obs)[0], relu(obs)[0])
    assert trained.head_activation == "tanh"
    assert main(["eval", *common, "--loaddir", "th", "--savedir", "e", "--num_eval", "2",
                 "--num_videos", "0"]) == 0
    capsys.readouterr()
    assert main(["train", *common, "--savedir", "th", "--algo", "ihac", *pooled,
                 *TINY, "--n_itr", "3"]) == 2
    assert "--head_activation tanh" in capsys.readouterr().err
    assert main(["train", *common, "--savedir", "th", "--algo", "ihac", "--head_activation",
                 "tanh", "--global_pool", "max", "--trunk_pool", "none", *TINY, "--n_itr",
                 "3"]) == 2
    assert "--trunk_pool max" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_with_the_same_flags_and_a_linear_lr_notes_no_change(logdir: Path, capsys):
    """The falling learning rate is the schedule's, not a flag the user changed."""
    args = ["train", "--task", "SimpleDoorKey", "--savedir", "lin", "--logdir", str(logdir),
            "--algo", "ihac", "--lr_schedule", "linear", *TINY]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--n_itr", "3"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "resuming with --" not in out
