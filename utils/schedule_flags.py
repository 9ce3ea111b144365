"""The teacher's three schedules, one flag each (algos/schedules.py follows them).

--imitation   how long IHAC's imitation phase lasts: a fraction of the budget (0.1) or a number
              of iterations (300itr)
--guidance    how IHAC's guidance coefficient c falls from --guide_coef: linear:F (to 0 at F of
              the budget) or decay:D/K (times D every K iterations)
--kickstart   how the kickstarting weight falls from --ks_coef: linear:F (to 0 at F of the
              budget) or step:S/MIN/U (minus S per PPO-phase policy update, never below MIN, 0
              after U updates)

The budget is --total_env_steps, or --n_itr iterations when there is no env-step budget (as for
--lr_schedule linear).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Span:
    """A phase's length: a fraction of the budget, or a number of iterations."""
    fraction: float | None = None
    iterations: int | None = None


@dataclass(frozen=True)
class Linear:
    """Falls linearly from its start value (env step or iteration 0) to 0 at ``end`` of the
    budget, then stays 0."""
    end: float


@dataclass(frozen=True)
class Decay:
    """Multiplied by ``factor`` every ``every`` iterations."""
    factor: float
    every: int


@dataclass(frozen=True)
class Step:
    """Minus ``decrement`` per PPO-phase policy update, never below ``floor``, 0 after
    ``updates`` updates."""
    decrement: float
    floor: float
    updates: int


IMITATION_FORMS = "a fraction of the budget from 0 to 1 (e.g. 0.1) or iterations (e.g. 300itr)"
GUIDANCE_FORMS = ("linear:F (F a fraction of the budget in (0, 1]) or decay:D/K (D in [0, 1], "
                  "K iterations > 0), e.g. linear:0.3 or decay:0.99/10")
KICKSTART_FORMS = ("linear:F (F a fraction of the budget in (0, 1]) or step:S/MIN/U (S, MIN >= "
                   "0, U updates >= 0), e.g. linear:0.5 or step:0.005/0.1/3000")


def _number(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


@cache
def parse_imitation(text: str) -> Span:
    """"0.1" or "300itr"; ValueError otherwise."""
    text = text.strip()
    if text.endswith("itr"):
        return Span(iterations=_count(text[:-3]))
    fraction = _number(text)
    if not 0 <= fraction <= 1:
        raise ValueError(text)
    return Span(fraction=fraction)


def _linear(arg: str) -> Linear:
    end = _number(arg)
    if not 0 < end <= 1:
        raise ValueError(arg)
    return Linear(end)


@cache
def parse_guidance(text: str) -> Linear | Decay:
    """"linear:F" or "decay:D/K"; ValueError otherwise."""
    kind, _, arg = text.strip().partition(":")
    if kind == "linear":
        return _linear(arg)
    if kind == "decay":
        factor, every = arg.split("/")
        decay = Decay(_number(factor), _count(every))
        if not 0 <= decay.factor <= 1 or decay.every == 0:
            raise ValueError(text)
        return decay
    raise ValueError(text)


@cache
def parse_kickstart(text: str) -> Linear | Step:
    """"linear:F" or "step:S/MIN/U"; ValueError otherwise."""
    kind, _, arg = text.strip().partition(":")
    if kind == "linear":
        return _linear(arg)
    if kind == "step":
        decrement, floor, updates = arg.split("/")
        step = Step(_number(decrement), _number(floor), _count(updates))
        if step.decrement < 0 or step.floor < 0:
            raise ValueError(text)
        return step
    raise ValueError(text)


def parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    """A rule's test: ``parse`` accepts the text."""
    def ok(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True
    return ok


def from_old_flags(saved: dict) -> dict[str, str]:
    """The three schedule flags of a run saved before they existed (its config.json held ten
    flags: --imitation_frac/--imitation_itr, --guide_end_frac/--guide_decay/--guide_decay_every,
    --ks_end_frac/--ks_decrement/--ks_min/--ks_updates), as exactly what that run did."""
    out = {}
    if "imitation" not in saved:
        frac, itr = saved.get("imitation_frac", 0.0), saved.get("imitation_itr", -1)
        out["imitation"] = (str(frac) if frac else
                            f"{saved.get('n_itr', 20_000) // 10 if itr < 0 else itr}itr")
    if "guidance" not in saved:
        end = saved.get("guide_end_frac", 0.0)
        out["guidance"] = (f"linear:{end}" if end else
                           f"decay:{saved.get('guide_decay', 0.99)}/"
                           f"{saved.get('guide_decay_every', 10)}")
    if "kickstart" not in saved:
        end = saved.get("ks_end_frac", 0.0)
        out["kickstart"] = (f"linear:{end}" if end else
                            f"step:{saved.get('ks_decrement', 0.005)}/"
                            f"{saved.get('ks_min', 0.1)}/{saved.get('ks_updates', 3000)}")
    return out
