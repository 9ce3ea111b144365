"""--precision: bf16 autocast where the hardware has bf16 arithmetic, said once at start.

CPUs: Intel AMX (``amx_bf16``) or AVX512-BF16 (``avx512_bf16``, some AMD EPYC and Intel
Xeons) do bf16 matrix products natively; on other CPUs torch emulates bf16 and it is slower than
fp32 (it still runs: the start line says so). GPUs: every CUDA device torch reports as
bf16-capable (Ampere and later).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

CPU_BF16_FLAGS = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16"))


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where that is not readable."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def bf16_hardware(device: torch.device) -> str | None:
    """What does bf16 arithmetic on ``device``: "AMX", "AVX512-BF16", the GPU's name, or None."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device) if torch.cuda.is_bf16_supported() else None
    flags = cpu_flags()
    return next((name for flag, name in CPU_BF16_FLAGS if flag in flags), None)


def describe(device: torch.device, precision: str) -> str:
    """The start line: which precision runs, and on what."""
    if precision == "fp32":
        return f"precision: fp32 on {device}"
    hardware = bf16_hardware(device)
    if hardware is None:
        return (f"precision: bf16 autocast on {device}, which has no bf16 arithmetic (no AMX or "
                "AVX512-BF16): torch emulates it, slower than fp32")
    return f"precision: bf16 autocast on {device} ({hardware})"


def autocast(device_type: str, precision: str) -> contextlib.AbstractContextManager:
    """The context the networks run their layers in: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(device_type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
