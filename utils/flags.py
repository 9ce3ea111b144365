"""Command-line flags declared as dataclass fields, each with its help and its own checks.

``flag(default, help, Rule, ...)``: a field whose metadata holds the help text, the argparse
options (choices, nargs, const, required) and the rules its value must follow. ``check_fields``
applies every field's rules; a section's ``check`` method holds what involves several fields.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from utils.errors import UserError

MAX_SEED = 2**31 - 1  # torch, numpy and gymnasium all take it


@dataclass(frozen=True)
class Rule:
    """What a flag's value must be: ``ok(value)``, else the error says "--flag value is invalid:
    <says>", or ``says`` itself where it places {flag} and {value}."""
    ok: Callable[[Any], bool]
    says: str
    each: bool = False  # for a list flag: the rule holds for each element (named in the error)
    commas: bool = False  # the error writes the value with thousands separators (a size)


POSITIVE_INT = Rule(lambda v: v > 0, "it must be a positive integer")
POSITIVE = Rule(lambda v: v > 0, "it must be > 0")
NON_NEGATIVE = Rule(lambda v: v >= 0, "it must be >= 0")
UNIT = Rule(lambda v: 0 <= v <= 1, "it must be in [0, 1]")
OPEN_UNIT = Rule(lambda v: 0 < v <= 1, "it must be in (0, 1]")
SEED = Rule(lambda s: 0 <= s <= MAX_SEED, f"seeds go from 0 to {MAX_SEED:,}", each=True)
RUN_NAME = Rule(lambda v: v.strip() not in ("", ".", "..") and "/" not in v and "\\" not in v,
                "{flag} {value} is not a valid run name: use a plain name without slashes")


def at_most(bound: int) -> Rule:
    """A size with no memory bound of its own (the rollout's size is checked against the
    machine)."""
    return Rule(lambda v: v <= bound, f"at most {bound:,}", commas=True)


def flag(default: Any, help: str, *rules: Rule, **argparse_options: Any) -> Any:
    return field(default=default, metadata={"help": help, "rules": rules, **argparse_options})


def _shown(value: Any, commas: bool) -> str:
    if commas:
        return f"{value:,}"
    return repr(value) if isinstance(value, str) else str(value)


def check_fields(obj: Any) -> None:
    """Every float finite, then each field's rules; a UserError names the first bad value."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        values = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise UserError(f"--{f.name} {value} is invalid: it must be a finite number")
        if value is None:
            continue
        for rule in f.metadata.get("rules", ()):
            for v in (values if rule.each else [value]):
                if not rule.ok(v):
                    says = rule.says if "{flag}" in rule.says else \
                        "{flag} {value} is invalid: " + rule.says
                    raise UserError(says.format(flag=f"--{f.name}", value=_shown(v, rule.commas)))


def check_sections(obj: Any) -> None:
    """Each section's own ``check`` (what involves several of its fields), base sections first."""
    for cls in reversed(type(obj).__mro__):
        check = cls.__dict__.get("check")
        if check is not None:
            check(obj)
