"""--preset: named sets of defaults, and what older runs had before a flag existed."""

from __future__ import annotations

from typing import Any

from utils.schedule_flags import from_old_flags

PRESETS = ("default", "original")
# --preset original: the original code's settings where our defaults differ (docs/method.md);
# its imitation phase is the default --imitation 0.1: a tenth of --n_itr without an env-step budget
ORIGINAL_PRESET = {"obs_encoding": "raw", "lr_schedule": "constant", "total_env_steps": 0,
                   "guidance": "decay:0.99/10", "kickstart": "step:0.005/0.1/3000",
                   "trunk_pool": "none", "target_success": 0.0}
# what a run saved before a key existed had (config.json and checkpoints of older runs)
# (ego_radius 0: the whole egocentric map, all there was before --ego_radius); the schedules'
# flags: utils/schedule_flags.py from_old_flags
LEGACY_DEFAULTS = {"obs_encoding": "raw", "lr_schedule": "constant", "preset": "original",
                   "ego_radius": 0, "trunk_pool": "none", "target_success": 0.0}


def upgrade(saved: dict[str, Any]) -> dict[str, Any]:
    """A saved config (config.json, a checkpoint) as today's flags: what the run had of each
    flag added since it ran."""
    return {**LEGACY_DEFAULTS, **saved, **from_old_flags(saved)}


def apply_preset(cfg: Any, given: set[str]) -> None:
    """Fill in --preset's values; flags in ``given`` (on the command line) are never changed."""
    if cfg.preset == "original":
        for name, value in ORIGINAL_PRESET.items():
            if name not in given:
                setattr(cfg, name, value)
