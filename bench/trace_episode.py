"""One trained student's episode, step by step, beside what the teacher would do there.

    python bench/trace_episode.py --run bench/results/network-attention/log/ppo/\
randomcoloreddoorkey/ihac-att_seed0 [--task RandomColoredDoorKey] [--room 0] [--steps 60]

The student acts greedily on held-out room --room (the evaluation's env seed 1_000_000 + room).
Each line: the step, the agent's cell and heading, what it holds, the student's action and its
probability, the teacher's two most likely actions (its expected distribution: every plan of the
shipped answers weighed by its probability) and the text the teacher reads. Used to see where a
student and its teacher part (docs/results.md: the pick/drop loop).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from algos.evaluate import EVAL_SEED_BASE
from commands.evaluate import load_student
from envs import make_env, resolve_task
from planners import build_teacher
from planners.mediator import perceive
from utils.config import EvalConfig
from utils.errors import UserError

ACTIONS = ("left", "right", "forward", "pickup", "drop", "toggle", "done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a trained run's directory")
    parser.add_argument("--task", default="RandomColoredDoorKey")
    parser.add_argument("--room", type=int, default=0, help="held-out room (0, 1, ...)")
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    if args.room < 0 or args.steps <= 0:
        raise UserError(f"--room {args.room} / --steps {args.steps} is invalid: a room >= 0 and "
                        "a positive number of steps")
    torch.set_num_threads(1)
    try:
        task = resolve_task(args.task)
    except ValueError as error:
        raise UserError(f"--task {args.task!r} is invalid: {error}") from None
    model = load_student(args.run, task)[0]
    model.eval()
    teacher = build_teacher(EvalConfig(task=task), seed=0)
    env = make_env(task)
    obs, _ = env.reset(seed=EVAL_SEED_BASE + args.room)
    grid = env.unwrapped
    for step in range(args.steps):
        with torch.no_grad():
            probs = torch.softmax(model(torch.from_numpy(obs[None]))[0], -1)[0].numpy()
        action = int(probs.argmax())
        frame = obs[None][..., -4:]  # the newest frame: what the teacher reads
        expected = teacher.expected_probs(frame)[0]
        top = " ".join(f"{ACTIONS[i]} {expected[i]:.2f}" for i in np.argsort(-expected)[:2])
        held = f"{grid.carrying.color} {grid.carrying.type}" if grid.carrying else "nothing"
        print(f"{step:3d} at {tuple(int(v) for v in grid.agent_pos)} heading {grid.agent_dir} "
              f"holds {held:12s} | student {ACTIONS[action]} {probs[action]:.2f} | teacher {top} "
              f"| {perceive(task, frame[0]).text}")
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            print(f"episode over after {step + 1} steps: success {bool(info.get('success'))}")
            break


if __name__ == "__main__":
    try:
        main()
    except UserError as error:  # a run without a checkpoint, an unknown task: one line, exit 2
        print(f"trace_episode: {error}", file=sys.stderr)
        sys.exit(2)
