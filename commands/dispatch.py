"""One command line to its command: ``run(["train", "--task", ...])``, the exit code.

main.py is this and nothing more; the sweep's Ray workers call it directly (no import of
main.py, which imports the sweep).
"""

from __future__ import annotations

import importlib
import sys

from utils.cli import parse_config
from utils.errors import DISK_ERRNOS, TrainingInterrupted, UserError, write_failed

COMMANDS = {"train": "commands.train", "eval": "commands.evaluate", "answers": "commands.answers",
            "plot": "commands.plot", "serve": "commands.serve"}
USES_TORCH = ("train", "eval", "answers")


def run(argv: list[str]) -> int:
    """Run one command line (without the program name); its exit code. Every error a user can
    cause is one line on stderr, never a traceback."""
    try:
        if argv[:1] == ["sweep"]:  # its own flags (sweep/plan.py), not one run's config
            from commands.sweep import main as sweep

            sweep(argv[1:])
            return 0
        command, cfg = parse_config(argv)
        if command in USES_TORCH:
            import torch

            # answers has no --num_threads (no network of its own): one thread, as the default
            torch.set_num_threads(getattr(cfg, "num_threads", 1))
        importlib.import_module(COMMANDS[command]).run(cfg)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk or a file size limit anywhere (a plot, a results file)
        if exc.errno not in DISK_ERRNOS:
            raise
        print(f"error: {write_failed(exc.filename or 'a file', exc)}", file=sys.stderr)
        return 2
    return 0

