"""--device and --precision: the plumbing, tested on the CPU as far as it goes, and on CUDA
where a GPU is present (marker ``cuda``; those tests are skipped without one and never stand in
for the CPU tests above them)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from algos.ppo import PPO
from algos.storage import RolloutStorage
from algos.teacher_critic import TeacherCriticLearner
from main import main
from models import ACModel, TeacherCritic
from tests.conftest import TINY
from tests.plans import rl_plan
from utils import precision
from utils.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from utils.config import TrainConfig

OBS = (10, 10, 4)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


def rollout(steps: int = 64, envs: int = 4) -> RolloutStorage:
    torch.manual_seed(0)
    st = RolloutStorage(steps, envs, OBS)
    for _ in range(steps):
        st.add(torch.randint(0, 6, (envs, *OBS), dtype=torch.uint8),
               torch.randint(0, 7, (envs,)), torch.rand(envs), -torch.rand(envs), None,
               torch.ones(envs), teacher_probs=torch.softmax(torch.randn(envs, 7), -1),
               teacher_values=torch.rand(envs))
        st.record(torch.rand(envs), torch.zeros(envs), torch.zeros(envs), torch.zeros(envs),
                  torch.randint(0, 6, (envs, *OBS), dtype=torch.uint8))
    st.compute_returns(torch.zeros(envs), 0.99, None)
    return st


class HostReads:
    """Counts every Python-level read of a tensor's value back to the host (.item(), .tolist(),
    bool/float/int of a tensor, .cpu(), .numpy()): on a GPU each one waits for the device."""

    NAMES = ("item", "tolist", "__bool__", "__float__", "__int__", "cpu", "numpy")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for name in self.NAMES:
            original = getattr(torch.Tensor, name)

            def counted(t, *a, _original=original, **k):
                self.count += 1
                return _original(t, *a, **k)

            monkeypatch.setattr(torch.Tensor, name, counted)


def host_reads_of_an_update(monkeypatch, batch_size: int, learner: str) -> int:
    cfg = TrainConfig(task="SimpleDoorKey", batch_size=batch_size, epochs=2)
    st = rollout()
    gen = torch.Generator().manual_seed(0)
    with monkeypatch.context() as m:
        reads = HostReads(m)
        if learner == "ppo":
            PPO(ACModel(OBS), cfg).update(st, gen, rl_plan(cfg.lr))
        else:
            TeacherCriticLearner(TeacherCritic(OBS), cfg).update(st, ACModel(OBS), gen)
    return reads.count


@pytest.mark.parametrize("learner", ["ppo", "teacher_critic"])
def test_no_host_read_per_minibatch(monkeypatch, learner: str) -> None:
    """The hot path (every minibatch of every epoch) reads nothing back: the count of host reads
    of an update is the same with 2 minibatches per epoch as with 32 (the logs' once-per-update
    statistics only)."""
    few = host_reads_of_an_update(monkeypatch, 128, learner)
    many = host_reads_of_an_update(monkeypatch, 8, learner)
    assert few == many, (few, many)
    assert few <= 20


def test_storage_lives_on_its_device() -> None:
    st = RolloutStorage(4, 2, OBS, memory_size=8, device="cpu")
    tensors = [v for v in vars(st).values() if isinstance(v, torch.Tensor)]
    assert len(tensors) == 16 and all(t.device == st.device for t in tensors)


# ---------------------------------------------------------------------------- precision
@pytest.mark.parametrize(("flags", "expected"), [
    ({"amx_bf16", "avx512_bf16", "avx512f"}, "AMX"),
    ({"avx512_bf16", "avx512f"}, "AVX512-BF16"),
    ({"avx2", "avx512f"}, None)])
def test_bf16_hardware_is_read_from_the_cpu_flags(monkeypatch, flags, expected) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)
    cpu = torch.device("cpu")
    assert precision.bf16_hardware(cpu) == expected
    line = precision.describe(cpu, "bf16")
    if expected:
        assert line == f"precision: bf16 autocast on cpu ({expected})"
    else:
        assert "no bf16 arithmetic" in line and "slower than fp32" in line
    assert precision.describe(cpu, "fp32") == "precision: fp32 on cpu"


@pytest.mark.parametrize("recurrent", [False, True])
def test_bf16_outputs_are_float32_and_close_to_fp32(recurrent: bool) -> None:
    torch.manual_seed(0)
    model, critic = ACModel(OBS, recurrent=recurrent), TeacherCritic(OBS)
    obs = torch.randint(0, 6, (16, *OBS), dtype=torch.uint8)
    ref = model(obs)
    ref_v = critic(obs)
    model.set_precision("bf16")
    critic.set_precision("bf16")
    out = model(obs)
    assert [o.dtype for o in out if o is not None] == [torch.float32] * (3 if recurrent else 2)
    assert critic(obs).dtype == torch.float32
    for a, b in zip(out[:2], ref[:2], strict=True):
        assert torch.allclose(a, b, atol=0.05, rtol=0.05)
    assert torch.allclose(critic(obs), ref_v, atol=0.05, rtol=0.05)
    logits, values, _ = model(obs)
    (logits.sum() + values.sum()).backward()  # gradients reach the float32 parameters
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


def test_bf16_training_records_what_ran_it(tmp_path: Path, capsys) -> None:
    args = ["train", "--task", "SimpleDoorKey", "--algo", "ihac", "--logdir", str(tmp_path),
            "--savedir", "b", "--precision", "bf16", *TINY]
    assert main(args) == 0
    line = precision.describe(torch.device("cpu"), "bf16")
    assert line in capsys.readouterr().out
    cfg = json.loads((tmp_path / "ppo" / "simpledoorkey" / "b" / "config.json").read_text())
    assert cfg["precision"] == "bf16" and cfg["precision_used"] == line


# ---------------------------------------------------------------------------- devices
@pytest.mark.slow
def test_a_run_saved_on_another_device_resumes_and_says_what_restarts(tmp_path: Path,
                                                                      capsys) -> None:
    """The sampling generator's state is the device's: a checkpoint from a GPU resumes on the
    CPU (weights, optimizer, counters) and says that action sampling restarts its stream."""
    args = ["train", "--task", "SimpleDoorKey", "--algo", "ihac", "--logdir", str(tmp_path),
            "--savedir", "r", *TINY]
    assert main(args) == 0
    path = tmp_path / "ppo" / "simpledoorkey" / "r" / CHECKPOINT_NAME
    state = load_checkpoint(path)
    state.pop("format_version")
    state["rng"]["sample_device"] = "cuda"
    state["rng"]["sample"] = torch.zeros(16, dtype=torch.uint8)  # not a CPU generator's state
    save_checkpoint(path, state)
    capsys.readouterr()
    assert main([*args[:-len(TINY)], *TINY[:-6], "--n_itr", "3", *TINY[4:-6]]) == 0
    out = capsys.readouterr().out
    assert "resuming on cpu a run saved on cuda: action sampling restarts its random stream" in out
    assert load_checkpoint(path)["counters"]["iteration"] == 3


def test_cuda_without_a_gpu_is_one_line(tmp_path: Path, capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert main(["train", "--task", "SimpleDoorKey", "--logdir", str(tmp_path), "--savedir", "c",
                 "--device", "cuda"]) == 2
    assert "no CUDA device is available" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-1", "1.5", "nan", "inf"])
def test_sweep_gpus_per_run_is_checked(tmp_path: Path, capsys, value: str) -> None:
    assert main(["sweep", "--task", "SimpleDoorKey", "--algos", "ppo", "--seeds", "0",
                 "--budget", "1000", "--out", str(tmp_path / "s"), "--gpus_per_run", value]) == 2
    assert f"--gpus_per_run {float(value)} is invalid" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_sweep_runs_get_the_gpu_flag() -> None:
    from sweep.plan import parse_sweep

    common = ["--task", "SimpleDoorKey", "--algos", "ppo", "--seeds", "0", "--budget", "1000",
              "--out", "/tmp/x"]
    _, runs = parse_sweep([*common, "--gpus_per_run", "0.25"])
    assert runs[0].argv[-2:] == ["--device", "cuda"]
    _, runs = parse_sweep(common)
    assert "--device" not in runs[0].argv


@pytest.mark.cuda
@CUDA
@pytest.mark.parametrize("algo", ["ihac", "llm4teach", "ppo"])
def test_cuda_training_evaluation_and_resume_across_devices(tmp_path: Path, algo: str) -> None:
    base = ["--task", "SimpleDoorKey", "--algo", algo, "--logdir", str(tmp_path)]
    tiny = [*TINY[:1], "1", *TINY[2:]]  # one iteration per leg
    assert main(["train", *base, "--savedir", "g", *tiny, "--device", "cuda"]) == 0
    run = tmp_path / "ppo" / "simpledoorkey" / "g"
    assert main(["train", *base, "--savedir", "g", *tiny[2:], "--n_itr", "2",
                 "--device", "cpu"]) == 0  # saved on the GPU, resumed on the CPU
    assert main(["train", *base, "--savedir", "g", *tiny[2:], "--n_itr", "3",
                 "--device", "cuda", "--precision", "bf16"]) == 0  # and back, in bf16
    assert load_checkpoint(run / CHECKPOINT_NAME)["counters"]["iteration"] == 3
    for device in ("cuda", "cpu"):
        assert main(["eval", *base[:2], *base[4:], "--loaddir", "g", "--savedir", f"e_{device}",
                     "--device", device, "--num_eval", "4", "--num_videos", "0"]) == 0
        result = json.loads((run / f"e_{device}" / "results.json").read_text())
        assert math.isfinite(result["Return Mean"])
