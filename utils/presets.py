"""--preset: named sets of defaults, and what older runs had before a flag existed."""

from __future__ import annotations

from typing import Any

from utils.errors import UserError

PRESETS = ("default", "original")
# --preset original: the original code's settings where our defaults differ (docs/method.md)
ORIGINAL_PRESET = {"obs_encoding": "raw", "lr_schedule": "constant", "total_env_steps": 0,
                   "imitation_frac": 0.0, "guide_end_frac": 0.0, "ks_end_frac": 0.0,
                   "trunk_pool": "none", "target_success": 0.0}
# what a run saved before a key existed had (config.json and checkpoints of older runs)
# (ego_radius 0: the whole egocentric map, all there was before --ego_radius)
LEGACY_DEFAULTS = {"obs_encoding": "raw", "lr_schedule": "constant", "imitation_frac": 0.0,
                   "guide_end_frac": 0.0, "ks_end_frac": 0.0, "preset": "original",
                   "ego_radius": 0, "trunk_pool": "none", "target_success": 0.0}
# an iteration-counted schedule given explicitly replaces the default fraction of the budget
SCHEDULE_FLAGS = {"imitation_frac": ("imitation_itr",),
                  "guide_end_frac": ("guide_decay", "guide_decay_every"),
                  "ks_end_frac": ("ks_decrement", "ks_min", "ks_updates")}


def apply_preset(cfg: Any, given: set[str]) -> list[str]:
    """Fill in --preset's values, then let iteration-counted schedules given on the command
    line replace the default fractions of the budget; flags in ``given`` are never changed.
    Returns a line for each schedule so replaced, to be said at start (config.json records the
    fraction as 0)."""
    notes = []
    if cfg.preset == "original":
        for name, value in ORIGINAL_PRESET.items():
            if name not in given:
                setattr(cfg, name, value)
    for frac, schedule in SCHEDULE_FLAGS.items():
        explicit = [f"--{name}" for name in schedule if name in given]
        if not explicit:
            continue
        if frac in given and getattr(cfg, frac):
            raise UserError(f"--{frac} and {' '.join(explicit)} are two schedules for one "
                            "thing: give one of them")
        if getattr(cfg, frac):
            notes.append(f"{' '.join(explicit)} given: that schedule counts iterations, so "
                         f"--{frac} is 0 (not {getattr(cfg, frac):g} of the budget)")
        setattr(cfg, frac, 0.0)
    return notes
