"""Entry point: ``python main.py train|eval|answers|plot|serve|sweep ...`` (see README.md)."""

from __future__ import annotations

import sys

from commands.dispatch import run


def main(argv: list[str] | None = None) -> int:
    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
