"""The same seed and flags give the same progress.csv on the CPU in fp32 as before the device and
precision plumbing (issue: GPU training): learning is unchanged by anything that is not a flag.

tests/data/progress_reference/ holds the progress.csv of short runs made with exactly the
commands below: ihac, llm4teach and ppo_recurrent at commit 1cf5e04 (before that change);
ihac_iterations (the original's iteration-counted schedules, a linear learning rate over
iterations) and ihac_decoupled (--ratio_wrt decoupled with --target_kl's early stop) at commit
aabade9, before one iteration's plan was computed once and passed to the collection and the
update (algos/schedules.py), with the flags each schedule had then (--imitation_itr 3
--guide_decay 0.5 --guide_decay_every 2 --ks_decrement 2 --ks_updates 5 --ks_min 1; and
--guide_end_frac 0), which are the one-flag schedules below. Wall-clock columns are left out; every
other column must agree (floats to a relative 1e-4, which absorbs CPU kernels that round
differently, not a change of what is computed). Columns added since a reference was made
(--twins' Train/Twins, Train/Twins Unanswered, Train/Twins Relabelled, Train/Twin Loss) must
be empty in these runs, whose flags leave those features off.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from main import main

pytestmark = pytest.mark.slow

REFERENCE = Path(__file__).parent / "data" / "progress_reference"
COMMON = ["--task", "SimpleDoorKey", "--num_envs", "4", "--traj_per_itr", "4", "--batch_size",
          "64", "--eval_interval", "2", "--num_eval", "4", "--seed_list", "3"]
RUNS = {"ihac": ["--algo", "ihac", "--total_env_steps", "2600"],
        "llm4teach": ["--algo", "llm4teach", "--total_env_steps", "2600"],
        "ppo_recurrent": ["--algo", "ppo", "--recurrent", "--total_env_steps", "1200"],
        "ihac_iterations": ["--algo", "ihac", "--total_env_steps", "0", "--n_itr", "12",
                            "--imitation", "3itr", "--guidance", "decay:0.5/2", "--kickstart",
                            "step:2/1/5", "--lr_schedule", "linear"],
        "ihac_decoupled": ["--algo", "ihac", "--total_env_steps", "2600", "--ratio_wrt",
                           "decoupled", "--target_kl", "0.01", "--guidance",
                           "decay:0.99/10"]}
CLOCK = {"wall_time", "Train/SPS"}


def rows(path: Path) -> list[dict[str, str]]:
    with open(path) as f:
        return list(csv.DictReader(f))


def same(a: str, b: str) -> bool:
    if a == b:
        return True
    if not a or not b:
        return False
    x, y = float(a), float(b)
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-7)


@pytest.mark.parametrize("name", list(RUNS))
def test_progress_matches_the_reference(tmp_path: Path, name: str) -> None:
    assert main(["train", *COMMON, *RUNS[name], "--logdir", str(tmp_path),
                 "--savedir", name]) == 0
    got = rows(tmp_path / "ppo" / "simpledoorkey" / name / "progress.csv")
    want = rows(REFERENCE / f"{name}.csv")
    assert len(got) == len(want)
    assert [k for k in got[0] if k in want[0]] == list(want[0])  # every column, in its order
    added = [k for k in got[0] if k not in want[0]]
    assert all(g[k] == "" for g in got for k in added), added
    for g, w in zip(got, want, strict=True):
        differ = {k: (g[k], w[k]) for k in w if k not in CLOCK and not same(g[k], w[k])}
        assert not differ, f"iteration {w['iteration']}: {differ}"
