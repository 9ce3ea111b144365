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


def listed_studies(parser: argparse.ArgumentParser) -> tuple[list[Path], frozenset[Path]]:
    """The studies of summary_studies.txt, and those of them whose line ends in "variants": only
    their variants count (their default runs are an ablation's control, another study gives that
    row)."""
    lines = [line.split() for line in (RESULTS / "summary_studies.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    for words in lines:
        if words[1:] not in ([], ["variants"]):
            parser.error(f"summary_studies.txt: {' '.join(words)!r} is invalid: expected a "
                         "study's folder name, optionally followed by 'variants'")
    return ([RESULTS / words[0] for words in lines],
            frozenset(RESULTS / words[0] for words in lines if words[1:] == ["variants"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=Path, nargs="+",
                        help="study directories (default: those listed, one per line, in "
                             "bench/results/summary_studies.txt)")
    parser.add_argument("--out", type=Path, default=RESULTS / "summary.csv")
    args = parser.parse_args()
    studies, variants_only = (args.studies, frozenset()) if args.studies else listed_studies(parser)
    for study in studies:
        if not (study / "log").is_dir():
            parser.error(f"{study} is not a study: it has no log/ of runs")
    try:
        rows = write_summary(studies, args.out, variants_only)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()
