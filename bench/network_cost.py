"""What one update minibatch costs the student network, and how close to the CPU's peak it runs.

    python bench/network_cost.py [--task SimpleDoorKey] [--batch 128] [--rounds 5]
        [--networks none max stride max,broadcast]

Per network, named TRUNK_POOL[,GLOBAL_POOL][,film|,attention] (main.py's --trunk_pool,
--global_pool and --conditioning; today's other defaults: the egocentric map, radius 9): the
multiply-adds of one forward pass (counted from the Conv2d and Linear layers' shapes; the
attention's dot products, FiLM's a few thousand, attention's a few hundred thousand with a
handful of objects, are not counted), the median wall time of a
forward + backward pass over --batch observations (1 torch thread, the networks interleaved
round by round so that other work on the machine weighs on all alike), and the arithmetic rate
that implies (forward + backward counted as 3 forward passes; a multiply-add is 2 FLOPs).
The first line prints one core's fp32 peak to compare it with (GHz x 2 FMA units x 8 lanes with
AVX2, 16 with AVX-512, x 2 FLOPs per multiply-add). Near the peak, only fewer FLOPs (another
network) or a smaller dtype (bf16, where the CPU has it) can make the update faster.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from envs import make_env, resolve_task
from models import ACModel
from utils.config import flag_choices


def forward_macs(model: nn.Module, x: torch.Tensor) -> int:
    """Multiply-adds of one forward pass of one observation, from each layer's output shape."""
    total = 0

    def count(layer: nn.Module, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            k = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
            total += output[0].numel() * k
        elif isinstance(layer, nn.Linear):
            total += layer.in_features * layer.out_features

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return total


def core_peak() -> str:
    """One core's fp32 peak from /proc/cpuinfo (Linux): GHz x 2 FMA units x lanes x 2 FLOPs."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "one core's peak: unknown (no /proc/cpuinfo)"
    mhz = float(next(line.split(":")[1] for line in info.splitlines() if "MHz" in line))
    flags = next(line for line in info.splitlines() if line.startswith("flags")).split()
    lanes = 16 if "avx512f" in flags else 8 if "fma" in flags else 4
    return (f"one core's fp32 peak: {mhz / 1000:.2f} GHz x 2 FMA units x {lanes} lanes x 2 = "
            f"{mhz / 1000 * 2 * lanes * 2:.0f} GFLOP/s")


def network(name: str, obs_shape: tuple[int, int, int]) -> ACModel:
    """The student network that ``--trunk_pool A --global_pool B [--conditioning C]`` builds,
    from "A[,B][,C]"."""
    parts = name.split(",")
    conditionings = [p for p in flag_choices("conditioning") if p != "none"]
    conditioning = next((p for p in parts if p in conditionings), "none")
    parts = [p for p in parts if p not in conditionings]
    trunk_pool, global_pool = parts[0] if parts else "", parts[1] if len(parts) > 1 else ""
    trunk_pools, global_pools = flag_choices("trunk_pool"), flag_choices("global_pool")
    if trunk_pool not in trunk_pools or global_pool not in ("", *global_pools) or len(parts) > 2:
        raise SystemExit(f"network_cost: --networks {name!r} is invalid: TRUNK_POOL "
                         f"({', '.join(trunk_pools)}) optionally followed by ,GLOBAL_POOL "
                         f"({', '.join(global_pools)}) and ,CONDITIONING ({', '.join(conditionings)})")
    return ACModel(obs_shape, encoding="egocentric", ego_radius=9, trunk_pool=trunk_pool,
                   global_pool=global_pool or "none", conditioning=conditioning)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="SimpleDoorKey")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--networks", nargs="+", default=["none", "max", "stride", "max,broadcast"],
                        help="TRUNK_POOL[,GLOBAL_POOL][,CONDITIONING] each (CONDITIONING: film or "
                             "attention, main.py's --conditioning)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    env = make_env(resolve_task(args.task))
    obs = [env.reset(seed=1000 + i)[0] for i in range(args.batch)]
    env.close()
    batch = torch.from_numpy(np.stack(obs))
    nets = {name: network(name, tuple(batch.shape[1:])) for name in args.networks}
    x = nets[args.networks[0]].encode(batch)
    times: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(args.rounds + 1):  # the first round warms up and is dropped
        for name, net in nets.items():
            t0 = time.perf_counter()
            logits, values, _ = net(x)
            (logits.sum() + values.sum()).backward()
            times[name].append(time.perf_counter() - t0)
    print(f"{args.task}: input {tuple(x.shape[1:])}, batch {args.batch}, 1 thread, "
          f"{args.rounds} rounds; {core_peak()}")
    print("| network (trunk_pool[,global_pool][,conditioning]) | MACs per observation (forward) "
          "| fwd + bwd ms (median) | GFLOP/s |")
    print("|---|---|---|---|")
    for name, net in nets.items():
        macs = forward_macs(net, x)
        seconds = statistics.median(times[name][1:])
        rate = 3 * 2 * macs * args.batch / seconds / 1e9
        print(f"| {name} | {macs / 1e6:.2f} M | {1000 * seconds:.0f} | {rate:.0f} |")


if __name__ == "__main__":
    main()
