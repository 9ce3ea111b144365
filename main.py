"""Entry point: ``python main.py train|eval|answers|plot ...`` (see README.md)."""

from __future__ import annotations

import sys

from utils.config import parse_config
from utils.errors import TrainingInterrupted, UserError


def main(argv: list[str] | None = None) -> int:
    try:
        command, cfg = parse_config(argv)
        import torch

        torch.set_num_threads(cfg.num_threads)
        if command == "train":
            from commands.train import run
        elif command == "eval":
            from commands.evaluate import run
        elif command == "answers":
            from commands.answers import run
        else:
            from commands.plot import run
        run(cfg)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        print(exc, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
