"""How usable an LLM's recorded answers are: per answer file (what `python main.py answers` or a
live run wrote), the texts, the replies, the usable ones, and the texts that fell back to the
uniform distribution.

    python bench/answer_stats.py NAME=DIR [NAME=DIR ...] [--tasks SimpleDoorKey KeyInBox]

DIR holds <task>.json files (lower-case task names, as bench/teacher.py's --answers reads them).
Texts offered one candidate plan are not asked (probability 1) and are counted apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def stats(path: Path) -> dict[str, float]:
    entries = json.loads(path.read_text())["entries"]
    asked = [e for e in entries.values() if e.get("n_ask", 0) > 0]
    replies = sum(len(e.get("replies", [])) for e in asked)
    unusable = sum(e.get("invalid", 0) for e in asked)
    usable_per_text = [len(e.get("replies", [])) - e.get("invalid", 0) for e in asked]
    return {"texts": len(entries), "asked": len(asked), "one_candidate": len(entries) - len(asked),
            "replies": replies, "usable": replies - unusable,
            "usable_per_text": sum(usable_per_text) / max(1, len(asked)),
            "fallbacks": sum(bool(e.get("uniform_fallback")) for e in asked),
            "truncated": sum(e.get("truncated", 0) for e in asked)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("answers", nargs="+", metavar="NAME=DIR")
    parser.add_argument("--tasks", nargs="+", default=["SimpleDoorKey", "KeyInBox"])
    args = parser.parse_args(argv)
    print("| answers | task | texts (one candidate) | replies | usable | usable per text asked "
          "| cut at the limit | uniform fallbacks |")
    print("|---|---|---|---|---|---|---|---|")
    for spec in args.answers:
        name, sep, folder = spec.partition("=")
        if not sep:
            parser.error(f"{spec!r}: give NAME=DIR")
        for task in args.tasks:
            path = Path(folder) / f"{task.lower()}.json"
            if not path.is_file():
                print(f"error: {path}: no such answer file", file=sys.stderr)
                return 2
            s = stats(path)
            print(f"| {name} | {task} | {s['texts']} ({s['one_candidate']}) | {s['replies']} | "
                  f"{s['usable']} ({s['usable'] / max(1, s['replies']):.0%}) | "
                  f"{s['usable_per_text']:.1f} | {s['truncated']} | {s['fallbacks']} of "
                  f"{s['asked']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
