"""Check the fourth fresh holdout (tests/data/fresh4_pairs.csv against fresh4_names.csv) with the one holdout
checker (benchmarks/check_holdout.py). How the set was built: tests/data/FRESH4.md.

Usage: python -m benchmarks.check_fresh4 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

FRESH4 = Holdout(
    split="fresh4",
    row_prefix="F4",
    pair_prefix="F4P",
    min_pairs=60,
    min_positives=40,
    earlier=(NAMES_CSV, DATA / "fresh_names.csv", DATA / "fresh2_names.csv", DATA / "fresh3_names.csv"),
)


if __name__ == "__main__":
    raise SystemExit(main(FRESH4))
