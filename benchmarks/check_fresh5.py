"""Check the fifth fresh holdout (tests/data/fresh5_pairs.csv against fresh5_names.csv) with the one holdout
checker (benchmarks/check_holdout.py). How the set was built: tests/data/FRESH5.md.

Usage: python -m benchmarks.check_fresh5 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

FRESH5 = Holdout(
    split="fresh5",
    row_prefix="F5",
    pair_prefix="F5P",
    min_pairs=60,
    min_positives=40,
    earlier=(
        NAMES_CSV,
        DATA / "fresh_names.csv",
        DATA / "fresh2_names.csv",
        DATA / "fresh3_names.csv",
        DATA / "fresh4_names.csv",
    ),
)


if __name__ == "__main__":
    raise SystemExit(main(FRESH5))
