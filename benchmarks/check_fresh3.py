"""Check the third fresh holdout (tests/data/fresh3_pairs.csv against fresh3_names.csv) with the one holdout
checker (benchmarks/check_holdout.py). How the set was built: tests/data/REAL_PAIRS.md.

Usage: python -m benchmarks.check_fresh3 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

FRESH3 = Holdout(
    split="fresh3",
    row_prefix="F3",
    pair_prefix="F3P",
    min_pairs=150,
    min_positives=40,
    earlier=(NAMES_CSV, DATA / "fresh_names.csv", DATA / "fresh2_names.csv"),
)


if __name__ == "__main__":
    raise SystemExit(main(FRESH3))
