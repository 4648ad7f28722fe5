"""Check the second fresh holdout (tests/data/fresh2_pairs.csv against fresh2_names.csv) with the one holdout
checker (benchmarks/check_holdout.py). How the set was built: tests/data/REAL_PAIRS.md.

Usage: python -m benchmarks.check_fresh2 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

FRESH2 = Holdout(
    split="fresh2",
    row_prefix="F2",
    pair_prefix="F2P",
    min_pairs=220,
    min_positives=60,
    earlier=(NAMES_CSV, DATA / "fresh_names.csv"),
)


if __name__ == "__main__":
    raise SystemExit(main(FRESH2))
