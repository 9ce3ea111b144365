"""Can a student trunk tell which key has the door's colour? A supervised probe, no policy.

    python bench/match_probe.py [--task RandomColoredDoorKey] [--states 60000] [--steps 1500]
        [--networks none attention film broadcast] [--heads cell flat] [--head_activation relu]
        [--without_twins] [--held_keys] [--seed 0]

The policy fits of bench/imitation_fit.py ask a network to turn "the key of the door's colour is
there" into an action; when they fail, this separates the two halves. States come from the
rule-based oracle acting alone (bench/imitation_fit.py's collect); kept are those whose newest
egocentric map (the student's default input) shows one door and two keys on the floor (none
held), one of the door's colour, each beside its twin with the door painted the other key's
colour (so the oracle's path tells nothing: every layout comes with both answers). The label is
which of the two keys matches, a diagnostic computed from the task's rule (no student ever
sees it). Chance is 0.5.

A probe network is a student trunk (conv_trunk: the three 3x3 convs, with ``--conditioning`` or
``--global_pool`` as in main.py; "broadcast" is ``--global_pool broadcast``) and one of two heads,
its logits masked to the two key cells:
- cell: a 1x1 convolution, one logit per cell from that cell's features alone. It can point at
  the matching key only if the trunk has put "I match the door" into the key's own cell.
- flat: the actor's head shape (flatten, 64 ReLU units, then a logit per cell): the relation may
  also be computed here, across cells, as the policy's head would have to.
- squeeze: flat, after a 1x1 convolution down to 4 channels per cell (a 16th of its fan-in).
Printed per network and head: held-out accuracy after so many Adam steps (lr 1e-3, minibatches of
128), training accuracy, and the held-out accuracy split by whether the door lies within the
plain trunk's receptive field of both keys (7 x 7: at most 3 cells away along each axis).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from torch import nn

from envs import resolve_task
from models.acmodel import ACTIVATIONS, conv_trunk
from models.encoding import ONEHOT_CHANNELS, encode

# one-hot channels of a frame (models/encoding.py); HEADINGS are set only in the agent's cell
DOOR, KEY, COLOURS, HEADINGS = 4, 5, slice(11, 17), slice(20, 24)
NETWORKS = {"none": ("none", "none"), "attention": ("attention", "none"),
            "film": ("film", "none"), "broadcast": ("none", "broadcast")}
SQUEEZE = 4
REACH = 3  # the plain trunk's receptive field: three 3x3 convs see 3 cells each way


def matching_key_states(obs: torch.Tensor, ego_radius: int, twins: bool = True,
                        held_keys: bool = False
                        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 observations -> (encoded maps (M, S, S, C); bool (M, S * S) the two key cells; long
    (M,) the matching key's cell; bool (M,) whether the door is within REACH of both keys) for
    the states with one door and two keys on the floor (none held) in the newest frame, exactly
    one of the door's colour, each followed by its twin: the same map with the door painted the
    other key's colour (in every frame), so the other key matches. Where the oracle walks
    decides nothing then: every layout comes with both answers, and only the colours tell them
    apart. ``twins`` False: the states alone, as the oracle met them. ``held_keys``: a key in
    hand (drawn on the agent's cell) counts as one of the two."""
    x = encode(obs, "egocentric", ego_radius)
    frames = x.shape[-1] // ONEHOT_CHANNELS
    newest = x[..., x.shape[-1] - ONEHOT_CHANNELS:].flatten(1, 2)  # (N, S * S, 25)
    # the map draws a held key on the agent's cell: a key there is no key on the floor
    doors, keys = newest[..., DOOR] > 0, newest[..., KEY] > 0
    if not held_keys:
        keys &= (newest[..., HEADINGS] == 0).all(-1)
    colour = newest[..., COLOURS].argmax(-1)  # (N, S * S)
    side = x.shape[1]
    maps, key_cells, labels, near = [], [], [], []
    for i in range(len(x)):
        if doors[i].sum() != 1 or keys[i].sum() != 2:
            continue
        door = int(doors[i].nonzero())
        pair = keys[i].nonzero().flatten()
        match = colour[i, pair] == colour[i, door]
        if int(match.sum()) != 1:
            continue
        right, wrong = int(pair[match][0]), int(pair[~match][0])
        cells = torch.cat([pair, pair.new_tensor([door])])
        rows, cols = cells.div(side, rounding_mode="floor"), cells % side
        within = bool((rows[:2] - rows[2]).abs().max() <= REACH
                      and (cols[:2] - cols[2]).abs().max() <= REACH)
        twin = x[i].clone().view(side * side, frames, ONEHOT_CHANNELS)
        seen = twin[door, :, DOOR] > 0  # the frames that show the door
        twin[door, seen, COLOURS] = 0
        twin[door, seen, COLOURS.start + int(colour[i, wrong])] = 1
        maps += [x[i], twin.view(x.shape[1:])][:1 + twins]
        key_cells += [keys[i], keys[i]][:1 + twins]
        labels += [right, wrong][:1 + twins]
        near += [within, within][:1 + twins]
    if not maps:
        return x[:0], keys[:0], torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.bool)
    return torch.stack(maps), torch.stack(key_cells), torch.tensor(labels), torch.tensor(near)


class Probe(nn.Module):
    """A student trunk and a head scoring each cell; only the two key cells compete."""

    def __init__(self, channels: int, side: int, network: str, head: str,
                 activation: str = "relu") -> None:
        super().__init__()
        conditioning, global_pool = NETWORKS[network]
        self.trunk = conv_trunk(channels, "none", global_pool, conditioning)
        # squeeze: 4 channels per cell before flattening, a 16th of the flat head's fan-in
        squeeze = [nn.Conv2d(64, SQUEEZE, 1), nn.ReLU()] if head == "squeeze" else []
        width = SQUEEZE if squeeze else 64
        self.head = nn.Conv2d(64, 1, 1) if head == "cell" else nn.Sequential(
            *squeeze, nn.Flatten(), nn.Linear(width * side * side, 64), ACTIVATIONS[activation](),
            nn.Linear(64, side * side))

    def forward(self, x: torch.Tensor, key_cells: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.trunk(x.permute(0, 3, 1, 2))).flatten(1)
        return logits.masked_fill(~key_cells, float("-inf"))


def accuracy(model: Probe, data: tuple) -> tuple[float, float, float]:
    """(all, door within reach, door beyond reach) accuracy on (x, key cells, labels, near)."""
    x, cells, labels, near = data
    with torch.no_grad():
        right = torch.cat([model(a, b).argmax(1) for a, b in zip(x.split(1024), cells.split(1024),
                                                                   strict=True)]) == labels
    return (right.float().mean().item(), right[near].float().mean().item(),
            right[~near].float().mean().item())


def main() -> None:
    from bench.imitation_fit import collect, fit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="RandomColoredDoorKey")
    parser.add_argument("--states", type=int, default=60000,
                        help="oracle states collected for training (a quarter more, held out); "
                             "about one in six shows the door and both keys")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--heads", nargs="+", default=["cell", "flat"],
                        choices=("cell", "flat", "squeeze"))
    parser.add_argument("--head_activation", default="relu", choices=list(ACTIVATIONS),
                        help="the flat head's hidden activation, as main.py's --head_activation")
    parser.add_argument("--ego_radius", type=int, default=9, help="as main.py's --ego_radius")
    parser.add_argument("--without_twins", action="store_true",
                        help="the oracle's states alone, without their twins: how much does "
                             "where the keys lie on its path give away?")
    parser.add_argument("--held_keys", action="store_true",
                        help="also the states where the agent holds one of the two keys (the "
                             "map draws it on the agent's cell): does the held key match?")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = resolve_task(args.task)
    train = matching_key_states(collect(task, args.states, args.seed, "oracle")[0],
                                args.ego_radius, not args.without_twins, args.held_keys)
    test = matching_key_states(collect(task, args.states // 4, args.seed + 777, "oracle")[0],
                               args.ego_radius, not args.without_twins, args.held_keys)
    print(f"{task}: {len(train[0])} training states, {len(test[0])} held-out states with the door "
          f"and two keys in view ({test[3].float().mean():.2f} of them with the door within "
          f"{REACH} cells of both keys)"
          + ("; the oracle's states alone, no twins" if args.without_twins else "; chance 0.5"))
    checkpoints = sorted({s for s in (300, 600, 1000, args.steps) if s <= args.steps})
    print("| network | head | " + " | ".join(f"{s} steps" for s in checkpoints)
          + " | training states | held out, door within reach / beyond | ms per step |")
    print("|---|---|" + "---|" * (len(checkpoints) + 3))
    side, channels = train[0].shape[1], train[0].shape[-1]
    for network in args.networks:
        for head in args.heads:
            torch.manual_seed(args.seed)
            model = Probe(channels, side, network, head, args.head_activation)
            ms_per_step, cells = fit(
                model, len(train[0]),
                lambda m, idx: nn.functional.cross_entropy(m(train[0][idx], train[1][idx]),
                                                           train[2][idx]),
                args.steps, args.seed, checkpoints, lambda m: f"{accuracy(m, test)[0]:.3f}")
            _, near, far = accuracy(model, test)
            cells += [f"{accuracy(model, train)[0]:.3f}", f"{near:.3f} / {far:.3f}",
                      f"{ms_per_step:.1f}"]
            print(f"| {network} | {head} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
