"""How fast can the student network fit the teacher, as plain supervised learning, per input
encoding? The imitation phase and kickstarting can do no better than this.

    python bench/imitation_fit.py [--task SimpleDoorKey] [--states 20000] [--steps 1500]
        [--encodings raw onehot egocentric] [--ego_radius 9] [--trunk_pool none]
        [--conditioning none] [--global_pool none] [--head_activation relu] [--actor_head flat]
        [--labels teacher] [--seed 0] [--eval_episodes 50]

States come from the teacher acting alone (what IHAC's guided sampling visits at first), labelled
with the teacher's action distribution (the default hard planner: the action of one sampled plan).
Held-out states come from other rooms. Printed per encoding and number of Adam steps (lr 1e-3,
minibatches of 128, the student's defaults): held-out cross-entropy to the teacher's labels, and
agreement (student argmax == the label's argmax). "teacher floor": the agreement of two
independent labellings of the held-out states by the teacher itself, the most a student can reach.

``--labels oracle``: states and labels come from the rule-based right plans (planners/oracle.py)
instead of the LLM's: can the network represent a policy that succeeds (ColoredDoorKey: one that
matches the key to the door's colour)? Each fitted student then acts alone on the held-out rooms
every evaluation uses (sampled and greedy actions): its success is printed beside the teacher's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from algos.evaluate import StudentPolicy, run_episodes
from algos.teacher_critic import cross_entropy
from envs import resolve_task
from envs.vector import VecEnv
from models import ACModel
from models.encoding import ENCODINGS
from planners import build_teacher
from planners.oracle import OracleTeacher
from planners.teacher import TeacherPolicy
from utils.config import TrainConfig, flag_choices


def collect(task: str, n_states: int, seed: int, labels: str = "teacher"
            ) -> tuple[torch.Tensor, torch.Tensor, object]:
    """(obs (N, W, H, C) uint8, teacher probs (N, 7)) from the teacher (the LLM's plans, or the
    oracle's) acting alone."""
    if labels == "oracle":
        teacher = OracleTeacher(task)
    else:
        teacher = build_teacher(TrainConfig(task=task, offline_planner=True), seed=seed)
    policy = TeacherPolicy(teacher, seed=seed)
    vec = VecEnv(task, 16, seed=seed)
    obs, states, labels = vec.reset(), [], []
    while len(states) * 16 < n_states:
        probs = teacher.batch_probs(obs)
        states.append(torch.from_numpy(obs.copy()))
        labels.append(torch.from_numpy(probs).float())
        cum = probs.cumsum(axis=1)
        actions = (cum < policy.rng.random((len(probs), 1)) * cum[:, -1:]).sum(axis=1)
        obs = vec.step(actions)[0]
    vec.close()
    return torch.cat(states)[:n_states], torch.cat(labels)[:n_states], teacher


class CellActor(torch.nn.Module):
    """--actor_head cells (a prototype): the actor's logits are the sum over the egocentric map's
    cells of one small MLP applied to each cell's last-conv features and its place relative to the
    agent (rows ahead, columns right, scaled to [-1, 1]). The flat head learns "the key at this
    cell" once per cell; this one shares it across cells, so a key of the door's colour marked by
    the trunk in any cell asks for the step towards it."""

    def __init__(self, side: int, channels: int = 64, n_actions: int = 7) -> None:
        super().__init__()
        r = torch.linspace(-1, 1, side)
        u, v = torch.meshgrid(r, r, indexing="ij")
        self.register_buffer("coords", torch.stack([u, v], -1).reshape(side * side, 2))
        self.side, self.channels = side, channels
        self.net = torch.nn.Sequential(torch.nn.Linear(channels + 2, 64), torch.nn.ReLU(),
                                       torch.nn.Linear(64, n_actions))
        # hundreds of cells are summed: starting at zero keeps the first logits at zero
        torch.nn.init.zeros_(self.net[2].weight)
        torch.nn.init.zeros_(self.net[2].bias)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        x = flat.view(len(flat), self.side * self.side, self.channels)
        return self.net(torch.cat([x, self.coords.expand(len(x), -1, -1)], -1)).sum(1)


class PointerActor(torch.nn.Module):
    """--actor_head pointer (a prototype): the student's flat actor plus a pointer path. One
    logit per cell (a linear map of its last-conv features) makes a softmax over the cells; the
    attended features and place (rows ahead, columns right, in [-1, 1]) feed a small MLP whose
    action logits are added to the flat actor's. "Point at the key of the door's colour, step
    towards where it lies" is then one per-cell score, the readout bench/match_probe.py's cell
    head learns, and one map from a place to a step, shared by every cell."""

    def __init__(self, side: int, flat_actor: torch.nn.Module, channels: int = 64,
                 n_actions: int = 7) -> None:
        super().__init__()
        r = torch.linspace(-1, 1, side)
        u, v = torch.meshgrid(r, r, indexing="ij")
        self.register_buffer("coords", torch.stack([u, v], -1).reshape(side * side, 2))
        self.side, self.channels, self.flat = side, channels, flat_actor
        self.score = torch.nn.Linear(channels, 1)
        self.net = torch.nn.Sequential(torch.nn.Linear(channels + 2, 64), torch.nn.ReLU(),
                                       torch.nn.Linear(64, n_actions))

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        x = flat.view(len(flat), self.side * self.side, self.channels)
        weights = self.score(x).softmax(dim=1)  # (B, N, 1)
        read = (weights * torch.cat([x, self.coords.expand(len(x), -1, -1)], -1)).sum(1)
        return self.flat(flat) + self.net(read)


def door_twins(obs: torch.Tensor) -> torch.Tensor:
    """uint8 observations (N, W, H, C) -> the twins (M, W, H, C) of those whose newest frame shows
    one door and two keys on the floor (none held), exactly one of the door's colour: the same
    map with the door painted the other key's colour in every frame that shows it
    (bench/match_probe.py does the same to the encoded map)."""
    twins = []
    for o in obs:
        newest = o[..., -4:]
        doors, keys = (newest[..., 0] == 4).nonzero(), (newest[..., 0] == 5).nonzero()
        agent = (newest[..., 3] < 4).nonzero()[0]  # the map draws a held key on the agent's cell
        if len(doors) != 1 or len(keys) != 2 or (keys == agent).all(1).any():
            continue
        door = newest[doors[0, 0], doors[0, 1], 1]
        colours = [newest[x, y, 1] for x, y in keys]
        if sum(int(c == door) for c in colours) != 1:
            continue
        twin = o.clone()
        cell = twin[doors[0, 0], doors[0, 1]].view(-1, 4)  # (frames, 4), a view into the twin
        cell[cell[:, 0] == 4, 1] = colours[1] if colours[0] == door else colours[0]
        twins.append(twin)
    return torch.stack(twins) if twins else obs[:0]


def fit(model: torch.nn.Module, n: int, loss_of, steps: int, seed: int, checkpoints: list[int],
        score, fused: bool = False) -> tuple[float, list[str]]:
    """``steps`` Adam steps (lr 1e-3, the student's) on shuffled minibatches of 128 of ``n``
    training states, ``loss_of(model, indices)`` giving each minibatch's loss. Returns the
    milliseconds per step and ``score(model)`` after each step in ``checkpoints``."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    gen = torch.Generator().manual_seed(seed)
    seconds, step, scores = 0.0, 0, []
    while step < steps:
        for idx in torch.randperm(n, generator=gen).split(128):
            t0 = time.perf_counter()
            loss = loss_of(model, idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seconds += time.perf_counter() - t0
            step += 1
            if step in checkpoints:
                scores.append(score(model))
            if step >= steps:
                return 1000 * seconds / step, scores
    return 1000 * seconds / max(step, 1), scores


def held_out_scores(model: ACModel, obs: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        logits = torch.cat([model(chunk)[0] for chunk in obs.split(1024)])
    ce = cross_entropy(labels, logits).mean().item()
    agree = (logits.argmax(1) == labels.argmax(1)).float().mean().item()
    return ce, agree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--states", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--encodings", nargs="+", default=list(ENCODINGS), choices=ENCODINGS)
    parser.add_argument("--ego_radius", type=int, default=9, help="as main.py's --ego_radius")
    parser.add_argument("--trunk_pool", default="none", choices=flag_choices("trunk_pool"),
                        help="as main.py's --trunk_pool")
    parser.add_argument("--conditioning", default="none", choices=flag_choices("conditioning"),
                        help="as main.py's --conditioning")
    parser.add_argument("--global_pool", default="none", choices=flag_choices("global_pool"),
                        help="as main.py's --global_pool")
    parser.add_argument("--head_activation", default="relu",
                        choices=flag_choices("head_activation"),
                        help="as main.py's --head_activation")
    parser.add_argument("--actor_head", default="flat", choices=("flat", "cells", "pointer"),
                        help="the actor's head: the student's (flat), or a prototype: CellActor "
                             "or PointerActor (egocentric encoding, --global_pool none, "
                             "--trunk_pool none)")
    parser.add_argument("--labels", default="teacher", choices=("teacher", "oracle"),
                        help="the teacher's labels (its LLM answers) or the oracle's right plans")
    parser.add_argument("--by_plan", action="store_true",
                        help="with --labels oracle: the final agreement per oracle plan step "
                             "(colours as X: the door's colour, Y: another; where the colour "
                             "match is decided, split by whether the two keys ask for different "
                             "actions), on the held-out states and on as many training states")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deciding_weight", type=float, default=1.0,
                        help="with --labels oracle, a diagnostic: weigh the loss of the states "
                             "where the colour match is decided (the oracle walks to the key of "
                             "the door's colour, two keys known) this many times")
    parser.add_argument("--door_twins", action="store_true",
                        help="with --labels oracle, a diagnostic: every training state that shows "
                             "the door and two keys on the floor, one of its colour, is joined by "
                             "its twin with the door painted the other key's colour, labelled by "
                             "the oracle")
    parser.add_argument("--eval_episodes", type=int, default=50,
                        help="held-out rooms each fitted student plays alone (0: none)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = resolve_task(args.task)
    train_obs, train_labels, _ = collect(task, args.states, args.seed, args.labels)
    weights = torch.ones(len(train_obs))
    if args.deciding_weight != 1.0 and args.labels == "oracle":
        deciding = [plan_step(task, o) == DECIDING for o in train_obs.numpy()]
        weights[torch.tensor(deciding)] = args.deciding_weight
    if args.door_twins and args.labels == "oracle":
        twins = door_twins(train_obs)
        twin_labels = torch.from_numpy(OracleTeacher(task).batch_probs(twins.numpy())).float()
        print(f"door twins: {len(twins)} added to the training states")
        train_obs, train_labels = torch.cat([train_obs, twins]), torch.cat([train_labels,
                                                                            twin_labels])
        weights = torch.cat([weights, torch.ones(len(twins))])
    test_obs, test_labels, teacher = collect(task, args.states // 4, args.seed + 777, args.labels)
    relabel = torch.from_numpy(teacher.batch_probs(test_obs.numpy())).float()
    floor = (relabel.argmax(1) == test_labels.argmax(1)).float().mean().item()
    print(f"{task}: {len(train_obs)} training states, {len(test_obs)} held-out states "
          f"({args.labels}'s labels); teacher floor (agreement of two labellings) {floor:.3f}")
    if args.eval_episodes:
        alone = run_episodes(TeacherPolicy(teacher, seed=args.seed), task, args.eval_episodes,
                             num_envs=16).summary()
        print(f"the {args.labels} alone on {args.eval_episodes} held-out rooms: success "
              f"{alone['Success Rate']:.2f} in {alone['Eplen']:.1f} steps")
    checkpoints = sorted({s for s in (150, 300, 600, 1000, args.steps) if s <= args.steps})
    evals = " | student alone: sampled / greedy success (length)" if args.eval_episodes else ""
    print("| encoding | " + " | ".join(f"{s} steps: CE / agree" for s in checkpoints)
          + f" | ms per step{evals} |")
    print("|---|" + "---|" * (len(checkpoints) + 1 + bool(evals)))

    def loss_of(model: ACModel, idx: torch.Tensor) -> torch.Tensor:
        logits = model(train_obs[idx])[0]
        return (weights[idx] * cross_entropy(train_labels[idx], logits)).sum() \
            / weights[idx].sum()

    def score(model: ACModel) -> str:
        ce, agree = held_out_scores(model, test_obs, test_labels)
        return f"{ce:.2f} / {agree:.3f}"

    for encoding in args.encodings:
        torch.manual_seed(args.seed)
        model = ACModel(train_obs.shape[1:], 7, encoding=encoding, ego_radius=args.ego_radius,
                        trunk_pool=args.trunk_pool, global_pool=args.global_pool,
                        conditioning=args.conditioning, head_activation=args.head_activation)
        side = model.encode(train_obs[:1]).shape[1]
        if args.actor_head == "cells":
            model.actor = CellActor(side)
        elif args.actor_head == "pointer":
            model.actor = PointerActor(side, model.actor)
        ms_per_step, cells = fit(model, len(train_obs), loss_of, args.steps, args.seed,
                                 checkpoints, score, fused=True)
        cells.append(f"{ms_per_step:.1f}")
        if args.eval_episodes:
            cells.append(" / ".join(student_alone(model, task, args.eval_episodes, greedy)
                                    for greedy in (False, True)))
        print(f"| {encoding} | " + " | ".join(cells) + " |", flush=True)
        if args.by_plan and args.labels == "oracle":
            print(agreement_by_plan(model, task, test_obs, test_labels,
                                    train_obs[:len(test_obs)], train_labels[:len(test_obs)]),
                  flush=True)


DECIDING = "go to <X key> (2 keys known)"  # plan_step's name for where the match is decided


def plan_step(task: str, obs) -> str:
    """The first step of the oracle's plan for one observation, its colours named by role: X the
    door's colour (or the key to fetch), Y any other (two keys in sight: "go to <X key>" is the
    colour match, "go to <Y key>" the wrong key to clear from the door)."""
    import re

    from planners.mediator import perceive
    from planners.oracle import oracle_plan

    perception = perceive(task, obs)
    step = oracle_plan(task, perception).split(", ")[0]
    door = next((o for o in perception.objects if o.endswith(" door")), None)
    colour = door.split()[0] if door else None
    keys = sum(o.endswith(" key") for o in perception.objects) + (perception.held is not None)
    step = re.sub(r"\b(red|green|blue|purple|yellow|grey)\b",
                  lambda m: "X" if m.group(1) == colour else "Y", step)
    return f"{step} ({keys} keys known)" if "key" in step else step


def keys_disagree(task: str, obs) -> bool:
    """Where the oracle walks to the key of the door's colour: would walking to the other key
    take another action here? (Only there does an action show which key the student chose.)"""
    from planners.mediator import perceive
    from planners.oracle import oracle_plan
    from planners.skills import parse_plan, plan_action

    perception = perceive(task, obs)
    right = oracle_plan(task, perception).split(", ")[0].removeprefix("go to <").rstrip(">")
    other = next(o for o in perception.objects if o.endswith(" key") and o != right)
    act = [plan_action(parse_plan(f"go to <{k}>, pick up <{k}>"), obs, perception)
           for k in (right, other)]
    return act[0] != act[1]


def agreement_by_plan(model: ACModel, task: str, obs: torch.Tensor, labels: torch.Tensor,
                      train_obs: torch.Tensor, train_labels: torch.Tensor) -> str:
    """A table: per oracle plan step, held-out states and the student's agreement there, and its
    agreement on as many of its training states (fitting them, or not even those)."""
    def groups(obs: torch.Tensor, labels: torch.Tensor) -> dict[str, list[bool]]:
        with torch.no_grad():
            logits = torch.cat([model(chunk)[0] for chunk in obs.split(1024)])
        right = (logits.argmax(1) == labels.argmax(1)).tolist()
        out: dict[str, list[bool]] = {}
        for o, r in zip(obs.numpy(), right, strict=True):
            step = plan_step(task, o)
            if step == DECIDING:  # split: does walking to the other key take another action?
                step += (", the keys ask different actions" if keys_disagree(task, o)
                         else ", either key's action")
            out.setdefault(step, []).append(r)
        return out

    held, seen = groups(obs, labels), groups(train_obs, train_labels)
    lines = ["| oracle's plan step | held-out states | agreement | training states | agreement |",
             "|---|---|---|---|---|"]
    for step, rs in sorted(held.items(), key=lambda kv: -len(kv[1])):
        ts = seen.get(step, [])
        fit = f"{sum(ts) / len(ts):.3f}" if ts else "-"
        lines.append(f"| {step} | {len(rs)} | {sum(rs) / len(rs):.3f} | {len(ts)} | {fit} |")
    return "\n".join(lines)


def student_alone(model: ACModel, task: str, episodes: int, greedy: bool) -> str:
    """The fitted student's success (mean length) acting alone on the held-out rooms."""
    policy = StudentPolicy(model, 16, greedy, torch.device("cpu"))
    with torch.no_grad():
        s = run_episodes(policy, task, episodes, num_envs=16).summary()
    return f"{s['Success Rate']:.2f} ({s['Eplen']:.1f})"


if __name__ == "__main__":
    main()
