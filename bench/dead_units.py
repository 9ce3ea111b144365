"""How many hidden units of a trained student's heads still work.

    python bench/dead_units.py --task DynamicDoorKey \
        --runs bench/results/dynamicdoorkey-default/log/ppo/dynamicdoorkey/ihac_seed*

Each head (actor, critic and, for IHAC, the teacher critic) has one 64-unit hidden layer. A unit
counts as alive when it passes a gradient on at least one of the states the student visits
acting alone (sampled actions) on --episodes held-out rooms: a ReLU unit above 0, a tanh unit
below 0.99 in magnitude. A dead critic predicts one value for every state; the run's logged
Train/Explained Variance is then exactly 0.
"""

from __future__ import annotations

import argparse
import sys
from itertools import count
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algos.evaluate import EVAL_SEED_BASE, StudentPolicy
from commands.evaluate import load_student
from envs import resolve_task
from envs.vector import VecEnv
from models import TeacherCritic, network_options
from models.acmodel import embed


def visited_states(model, task: str, episodes: int, frame_stack: int) -> torch.Tensor:
    """The observations of ``episodes`` held-out episodes of the student acting alone."""
    num_envs = min(16, episodes)
    vec = VecEnv(task, num_envs, frame_stack=frame_stack,
                 episode_seeds=(EVAL_SEED_BASE + k for k in count()))
    policy = StudentPolicy(model, num_envs, deterministic=False, device=torch.device("cpu"))
    obs, states, done = vec.reset(), [], 0
    while done < episodes:
        states.append(obs.copy())
        obs, _, term, trunc, _, finished = vec.step(policy(obs))
        policy.episodes_ended(term | trunc)
        done += len(finished)
    vec.close()
    return torch.from_numpy(np.concatenate(states))


def alive(hidden: torch.Tensor, activation: str) -> int:
    working = hidden > 0 if activation == "relu" else hidden.abs() < 0.99
    return int(working.any(dim=0).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--runs", nargs="+", required=True, type=Path, help="run directories")
    parser.add_argument("--episodes", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = resolve_task(args.task)
    for run in args.runs:
        model, cfg, state = load_student(run, task)
        model.eval()
        x = visited_states(model, task, args.episodes, cfg.frame_stack)
        act = cfg.head_activation
        with torch.no_grad():
            e = embed(model.conv, x, cfg.obs_encoding, cfg.ego_radius, cfg.global_pool)
            values = model.critic(e).squeeze(-1)
            line = (f"{run}: {len(x)} states; alive of 64: actor "
                    f"{alive(model.actor[1](model.actor[0](e)), act)}, critic "
                    f"{alive(model.critic[1](model.critic[0](e)), act)} (values "
                    f"{values.min():.3f}..{values.max():.3f})")
            if "teacher_critic" in state:
                tc = TeacherCritic(model.obs_shape, **network_options(cfg))
                tc.load_state_dict(state["teacher_critic"])
                h = tc.head[1](tc.head[0](embed(tc.conv, x, cfg.obs_encoding, cfg.ego_radius,
                                                cfg.global_pool)))
                line += f", teacher critic {alive(h, act)}"
        print(f"{line}; {act} heads", flush=True)


if __name__ == "__main__":
    main()
