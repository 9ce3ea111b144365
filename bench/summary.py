"""Write bench/results/summary.csv from the committed runs of the studies the README quotes.

    python bench/summary.py            # the studies listed in bench/results/summary_studies.txt
    python bench/summary.py --studies bench/results/a bench/results/b --out summary.csv

One row per (task, algorithm, variant): seeds, budget, final eval success (mean and std across
seeds) and length, the teacher's success and length on the held-out rooms, and the env steps at
which the mean eval success first reaches 0.5 and 0.9 (empty when never). Columns and rules:
utils/summary.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.summary import write_summary  # noqa: E402

RESULTS = ROOT / "bench" / "results"


MARKS = ("variants", "old-rooms")


def listed_studies(parser: argparse.ArgumentParser
                   ) -> tuple[list[Path], frozenset[Path], frozenset[Path]]:
    """The studies of summary_studies.txt; those of them whose line has "variants": only their
    variants count (their default runs are an ablation's control, another study gives that row);
    and those whose line has "old-rooms": run on the rooms of before 2026-12-04."""
    lines = [line.split() for line in (RESULTS / "summary_studies.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    for words in lines:
        if any(w not in MARKS for w in words[1:]) or len(set(words[1:])) < len(words[1:]):
            parser.error(f"summary_studies.txt: {' '.join(words)!r} is invalid: expected a "
                         "study's folder name, optionally followed by 'variants' and/or "
                         "'old-rooms'")

    def marked(mark: str) -> frozenset[Path]:
        return frozenset(RESULTS / words[0] for words in lines if mark in words[1:])

    return [RESULTS / words[0] for words in lines], marked("variants"), marked("old-rooms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=Path, nargs="+",
                        help="study directories (default: those listed, one per line, in "
                             "bench/results/summary_studies.txt)")
    parser.add_argument("--out", type=Path, default=RESULTS / "summary.csv")
    args = parser.parse_args()
    if args.studies:
        studies, variants_only, old_rooms = args.studies, frozenset(), frozenset()
    else:
        studies, variants_only, old_rooms = listed_studies(parser)
    for study in studies:
        if not (study / "log").is_dir():
            parser.error(f"{study} is not a study: it has no log/ of runs")
    try:
        rows = write_summary(studies, args.out, variants_only, old_rooms)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()
