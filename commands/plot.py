"""python main.py plot --runs log/ppo/simpledoorkey --out comparison: curves of any runs.

Groups the runs found under --runs by algorithm (from their config.json; runs that
`main.py sweep` named <algo>-<variant>_seed<s> by that label) and writes evaluations.csv,
success.png and results.md into --out, as the sweep does per task.
"""

from __future__ import annotations

from pathlib import Path

from utils.config import PlotConfig
from utils.curves import load_runs, summarise, write_outputs
from utils.errors import UserError
from utils.rundir import make_writable_dir


def run(cfg: PlotConfig) -> None:
    missing = [r for r in cfg.runs if not Path(r).exists()]
    if missing:
        raise UserError(f"--runs {missing[0]} does not exist")
    runs = [r for r in load_runs(*map(Path, cfg.runs)) if r.steps]
    if not runs:
        raise UserError(f"no evaluated runs (progress.csv with Test/ rows) under {cfg.runs}")
    out = Path(cfg.out or "plot")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a directory for success.png, results.md "
                        "and evaluations.csv")
    write_outputs(make_writable_dir(out), runs, summarise(runs), cfg.title)
    print(f"{len(runs)} runs -> {out}/success.png, results.md, evaluations.csv")
