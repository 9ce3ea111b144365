"""Colour twins: which of the teacher's twin labels carry a colour signal, and are they right?

    python bench/twin_labels.py --task RandomColoredDoorKey --episodes 100 --kind swap

The LLM teacher (shipped answers) plays the held-out rooms alone (a plan sampled at every step);
each state it meets gets one twin (algos/twins.py). Counted: twins whose label differs from the
real state's when both are one sampled draw (how twins were judged before 2026-12-06), when both
are the teacher's expected action distribution (how they are judged now), and by the oracle (the
rule-based right plan, which reads the task's rule: the yardstick, never a training signal);
and how often the teacher's relabelled twins ask for the action the oracle takes on them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minigrid.core.actions import Actions

from algos.evaluate import EVAL_SEED_BASE
from algos.twins import MAKERS
from envs import make_env
from planners import build_teacher
from planners.mediator import COLOURED_TASKS
from planners.teacher import TeacherPolicy
from utils.config import EvalConfig
from utils.errors import UserError


def count(task: str, kind: str, episodes: int) -> Counter:
    llm = build_teacher(EvalConfig(task=task), seed=0)
    oracle = build_teacher(EvalConfig(task=task, oracle_planner=True))
    policy, env, rng = TeacherPolicy(llm), make_env(task), np.random.default_rng(0)
    c: Counter = Counter()
    for k in range(episodes):
        obs, _ = env.reset(seed=EVAL_SEED_BASE + k)
        for _ in range(env.unwrapped.max_steps):
            twin = MAKERS[kind](obs, rng)
            if twin is not None:
                pair = np.stack([obs, twin])[..., -4:]  # the teachers read the newest frame
                try:
                    drawn = llm.batch_probs(pair).argmax(1)
                    expected = llm.expected_probs(pair).argmax(1)
                except UserError:  # no answer for the twin's text
                    c["unanswered"] += 1
                else:
                    right = oracle.batch_probs(pair).argmax(1)
                    c["answered"] += 1
                    c["relabelled, draws"] += drawn[0] != drawn[1]
                    c["of which the same expected action"] += (
                        drawn[0] != drawn[1] and expected[0] == expected[1])
                    c["of which the twin's draw is the oracle's action"] += (
                        drawn[0] != drawn[1] and drawn[1] == right[1])
                    c["relabelled, expected"] += expected[0] != expected[1]
                    c["of which the twin's expected action is the oracle's"] += (
                        expected[0] != expected[1] and expected[1] == right[1])
                    c["of which the real state's expected action is the oracle's"] += (
                        expected[0] != expected[1] and expected[0] == right[0])
                    c["relabelled, oracle"] += right[0] != right[1]
                    if expected[0] != expected[1]:
                        c[Actions(expected[0]).name, Actions(expected[1]).name] += 1
            obs, _, terminated, truncated, _ = env.step(int(policy(obs[None])[0]))
            if terminated or truncated:
                break
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="RandomColoredDoorKey", choices=list(COLOURED_TASKS))
    parser.add_argument("--kind", default="swap", choices=sorted(MAKERS))
    parser.add_argument("--episodes", type=int, default=100)
    args = parser.parse_args()
    c = count(args.task, args.kind, args.episodes)
    print(f"# {args.task}, {args.kind} twins of the LLM teacher's own play, "
          f"{args.episodes} held-out rooms")
    for name in ("answered", "unanswered", "relabelled, draws",
                 "of which the same expected action",
                 "of which the twin's draw is the oracle's action", "relabelled, expected",
                 "of which the twin's expected action is the oracle's",
                 "of which the real state's expected action is the oracle's",
                 "relabelled, oracle"):
        print(f"{name}: {c[name]}")
    pairs = sorted(((k, v) for k, v in c.items() if isinstance(k, tuple)), key=lambda kv: -kv[1])
    print("relabelled by expectation, real state's action -> twin's: "
          + ", ".join(f"{real} -> {twin} {n}" for (real, twin), n in pairs))


if __name__ == "__main__":
    main()
