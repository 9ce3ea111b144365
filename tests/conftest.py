"""Shared test helpers: tiny training budgets so the real CLI runs in seconds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
torch.set_num_threads(1)

# a few small iterations: enough to exercise collection, update, eval, checkpoint and logging;
# IHAC's imitation phase is off so that every iteration logs PPO's losses
TINY = ["--n_itr", "2", "--traj_per_itr", "2", "--batch_size", "32", "--num_envs", "4",
        "--num_eval", "4", "--eval_interval", "1", "--save_interval", "1", "--imitation", "0"]


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    return tmp_path / "log"
