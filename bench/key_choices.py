"""The coloured tasks: which key a trained student picks up first, and what it does after.

    python bench/key_choices.py --task RandomColoredDoorKey \
        --runs bench/results/coloreddoorkey-default/log/ppo/coloreddoorkey/ihac_seed*
    python bench/key_choices.py --task RandomColoredDoorKey --teacher llm oracle

(The runs under bench/results/coloreddoorkey* were trained on today's RandomColoredDoorKey, then
named ColoredDoorKey: docs/method.md section 1.)

The student acts alone (sampled actions) on --episodes held-out rooms (the evaluation's seeds).
--teacher measures a teacher acting alone instead (llm: the shipped answers, a plan sampled at
every step; oracle: the rule-based right plan). Per run: how often the first key picked up has
the door's colour, split by whether the door had been seen before that pick-up, and the success
rate after a right and after a wrong first key (after a wrong one, success needs dropping it and
fetching the other), and how often per episode the key just dropped is picked up again (a
pick/drop loop: the LLM teacher drops a key for the other and often takes it back; a student
imitating it can be caught in it for good, docs/results.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from minigrid.core.world_object import Door

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algos.evaluate import EVAL_SEED_BASE
from commands.evaluate import load_student
from envs import make_env
from planners import build_teacher
from planners.mediator import COLOURED_TASKS
from planners.teacher import TeacherPolicy
from utils.config import EvalConfig
from utils.errors import UserError

DOOR = 4  # MiniGrid's object code of a door


def student_actor(model) -> Callable[[np.ndarray], int]:
    """The student's sampled action (one generator per run, so every run sees the same draws)."""
    model.eval()
    generator = torch.Generator().manual_seed(0)

    def act(obs: np.ndarray) -> int:
        with torch.no_grad():
            logits, _, _ = model(torch.from_numpy(obs[None]))
        return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))
    return act


def teacher_actor(name: str, task: str) -> Callable[[np.ndarray], int]:
    """The teacher acting alone, as `main.py eval --eval_teacher` runs it."""
    cfg = EvalConfig(task=task, oracle_planner=name == "oracle")
    policy = TeacherPolicy(build_teacher(cfg, seed=0))
    return lambda obs: int(policy(obs[None])[0])


def episode(act: Callable[[np.ndarray], int], env, seed: int) -> tuple[str, bool, bool, int]:
    """(first key: right / wrong / none, door seen before that pick-up, success, times the key
    just dropped was picked up again)."""
    obs, _ = env.reset(seed=seed)
    grid = env.unwrapped
    door = next(o for o in grid.grid.grid if isinstance(o, Door))
    first, seen, dropped, repicks = "none", False, None, 0
    for _ in range(grid.max_steps):
        action = act(obs)
        before, door_seen = grid.carrying, bool((obs[..., 0] == DOOR).any())
        obs, _, terminated, truncated, info = env.step(action)
        if before is not None and grid.carrying is None:
            dropped = before
        elif before is None and grid.carrying is not None:
            repicks += grid.carrying is dropped
            if first == "none":
                first = "right" if grid.carrying.color == door.color else "wrong"
                seen = door_seen
        if terminated or truncated:
            return first, seen, bool(info.get("success")), repicks
    return first, seen, False, repicks


def share(rows: list[tuple[str, bool, bool, int]]) -> str:
    """right first keys / episodes with a first key"""
    return f"{sum(first == 'right' for first, *_ in rows)}/{len(rows)}"


def success(eps: list[tuple[str, bool, bool, int]], first: str) -> str:
    rows = [ok for f, _, ok, _ in eps if f == first]
    return f"{sum(rows)}/{len(rows)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--runs", nargs="+", type=Path, help="run directories")
    who.add_argument("--teacher", nargs="+", choices=("llm", "oracle"), help="teachers alone")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--task", default="RandomColoredDoorKey", choices=list(COLOURED_TASKS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = make_env(args.task)
    actors = ({f"teacher {name}": teacher_actor(name, args.task) for name in args.teacher}
              if args.teacher else
              {str(run): student_actor(load_student(run, args.task)[0]) for run in args.runs})
    for name, act in actors.items():
        eps = [episode(act, env, EVAL_SEED_BASE + k) for k in range(args.episodes)]
        print(f"{name}: first key right {share([e for e in eps if e[0] != 'none'])} "
              f"(door seen before: {share([e for e in eps if e[0] != 'none' and e[1]])}, "
              f"not seen: {share([e for e in eps if e[0] != 'none' and not e[1]])}); "
              f"success after a right first key {success(eps, 'right')}, after a wrong one "
              f"{success(eps, 'wrong')}, with no key {success(eps, 'none')}; "
              f"re-picks of the key just dropped {sum(n for *_, n in eps) / len(eps):.1f} "
              "per episode; "
              f"overall {sum(ok for _, _, ok, _ in eps) / len(eps):.2f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except UserError as error:  # a run without a checkpoint, a wrong task: one line, exit 2
        print(f"key_choices: {error}", file=sys.stderr)
        sys.exit(2)
