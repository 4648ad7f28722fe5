"""Check the sixth fresh holdout (tests/data/fresh6_pairs.csv against fresh6_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which also refuses an earlier set's address written another way
(http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH6.md.

Usage: python -m benchmarks.check_fresh6 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, address_key, check_holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

__all__ = ["FRESH6", "REALDATA", "address_key", "check_fresh6"]

REALDATA = DATA / "realdata"

FRESH6 = Holdout(
    split="fresh6",
    row_prefix="F6",
    pair_prefix="F6P",
    min_pairs=60,
    min_positives=40,
    # Every set the matcher was tuned or evaluated on, and the copied ../shared/realdata files (each has a
    # source_ref column): a source shared with any of them would not be new to the matcher.
    earlier=(
        NAMES_CSV,
        DATA / "fresh_names.csv",
        DATA / "fresh2_names.csv",
        DATA / "fresh3_names.csv",
        DATA / "fresh4_names.csv",
        DATA / "fresh5_names.csv",
        *sorted(REALDATA.glob("*.csv")),
    ),
)


def check_fresh6(spec: Holdout = FRESH6) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH6))
