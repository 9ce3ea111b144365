"""docs/flags.md and docs/metrics.md, written from the code: every flag of every command from
Config's help, every logged metric from the logger's keys (`python -m utils.reference_pages`).
tests/test_reference_pages.py fails when a page is stale or a metric has no description.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"

# what each metric of progress.csv / TensorBoard means (the part after "Train/", "Test/", ...)
METRICS = {
    "Return Mean": "mean episode return (MiniGrid's 1 - 0.9 * steps / max_steps on success, else "
                   "0)",
    "Return Std": "standard deviation of the episode returns",
    "Success Rate": "share of episodes that reached the goal (opened the door / reached it)",
    "Eplen": "mean episode length in env steps",
    "Episodes": "episodes that ended in this iteration's collection",
    "SPS": "env steps per second of this iteration (collection and update)",
    "Policy Loss": "PPO's clipped surrogate loss (mean over minibatches)",
    "Value Loss": "the critic's clipped squared error against the returns",
    "Entropy": "mean entropy of the student's action distribution",
    "Approx KL": "how far the update moved the student: mean (r - 1) - log r over the rollout "
                 "(PPO phase only)",
    "Clip Frac": "share of the rollout whose probability ratio left [1 - clip, 1 + clip]",
    "Grad Norm": "gradient norm before clipping to --max_grad_norm (mean over minibatches)",
    "Explained Variance": "1 - Var(returns - values) / Var(returns); NaN when every return is "
                          "equal",
    "Kickstart Loss": "cross-entropy of the student against the teacher's action probabilities, "
                      "weighted by the KS coefficient (LLM4Teach, and IHAC after imitation)",
    "Imitation Loss": "cross-entropy against the teacher's probabilities in IHAC's imitation "
                      "phase",
    "Value Align Loss": "squared error between the student's value and the teacher critic's in "
                        "IHAC's imitation phase",
    "Epochs": "PPO epochs run (fewer than --epochs when --target_kl stopped the update)",
    "Guidance Coef": "c in the behaviour policy softmax(student logits + c log pi_teacher): "
                     "above 0 the train episodes are teacher-guided",
    "KS Coef": "weight of the kickstarting loss this iteration",
    "Phase": "0 during IHAC's imitation phase, 1 after (teacher algorithms only)",
    "Teacher Agreement": "share of steps where the student's most likely action is the "
                         "teacher's",
    "Teacher Critic Loss": "the teacher critic's TD loss (IHAC, imitation phase)",
    "Learning Rate": "the optimizer's learning rate this iteration (--lr_schedule)",
    "Twin Loss": "--twins: cross-entropy of the student against the teacher on the colour twins "
                 "(mean over minibatches), weighted as the phase's teacher loss times --twin_coef",
    "Twins": "--twins: colour twins labelled by the teacher and kept for this iteration's update",
    "Twins Unanswered": "--twins: twins dropped because the teacher had no answer for their text",
    "Twins Relabelled": "--twins: answered twins whose teacher's most likely action differs from "
                        "the real state's (with --twin_keep relabelled, the only ones kept)",
    "LLM Calls": "chat completions sent to a live LLM so far (0 with answer files)",
    "Invalid Replies": "LLM replies that named no candidate plan (or several) and were asked "
                       "again",
    "Truncated Replies": "LLM replies cut at --llm_max_tokens",
    "Cache Hits": "teacher texts answered from the planner's per-text cache",
    "Texts Asked": "observation texts sent to the live LLM",
    "Unusable Texts": "texts for which no reply was usable: the uniform distribution over their "
                      "candidates was used",
    "Unparsed Plan Items": "plan items no skill understands (the agent waits on them)",
}


def metric_keys() -> list[str]:
    from algos.trainer import TEST_KEYS, TRAIN_KEYS

    return [*TRAIN_KEYS, *TEST_KEYS]


def metrics_page() -> str:
    lines = ["# Metrics", "",
             "Written by `python -m utils.reference_pages` from the trainer's logged keys. Each "
             "iteration writes one row of `progress.csv` and the same scalars to TensorBoard "
             "(x-axis: env steps). `Train/...`: the iteration's collection and update; "
             "`Test/...`: the student alone on the held-out rooms, at evaluations only (empty "
             "cells between); `Teacher/...`: running totals of the LLM teacher. PPO runs leave "
             "the teacher's columns empty.", "", "| key | meaning |", "|---|---|"]
    for key in metric_keys():
        lines.append(f"| `{key}` | {METRICS[key.split('/', 1)[1]]} |")
    return "\n".join(lines) + "\n"


def flags_page() -> str:
    from utils.config import COMMANDS

    lines = ["# Flags", "",
             "Written by `python -m utils.reference_pages` from `utils/config_sections.py` (each flag's "
             "help, default and the commands that take it). `main.py sweep` has flags of its "
             "own (`python main.py sweep --help`) and passes what follows `--` to each run's "
             "`train`.", "", "| flag | default | commands | meaning |", "|---|---|---|---|"]
    rows: dict[tuple[str, str], tuple[dataclasses.Field, list[str]]] = {}
    for command, config in COMMANDS.items():  # a flag once per meaning (--out has two)
        for f in dataclasses.fields(config):
            rows.setdefault((f.name, f.metadata["help"]), (f, []))[1].append(command)
    for f, commands in rows.values():
        meta = f.metadata
        choices = f" (one of: {', '.join(map(str, meta['choices']))})" if meta.get(
            "choices") else ""
        default = "" if f.default is None else f"`{f.default}`"
        help_text = (meta["help"] + choices).replace("|", "\\|")
        lines.append(f"| `--{f.name}` | {default} | {', '.join(commands)} | {help_text} |")
    return "\n".join(lines) + "\n"


PAGES = {"flags.md": flags_page, "metrics.md": metrics_page}

if __name__ == "__main__":
    for name, make in PAGES.items():
        (DOCS / name).write_text(make())
        sys.stdout.write(f"wrote {DOCS / name}\n")
