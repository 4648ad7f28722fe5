"""Check the seventh fresh holdout (tests/data/fresh7_pairs.csv against fresh7_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH7.md.

Usage: python -m benchmarks.check_fresh7 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, main
from benchmarks.check_pairs import DATA, NAMES_CSV

__all__ = ["FRESH7", "REALDATA", "check_fresh7"]

REALDATA = DATA / "realdata"

FRESH7 = Holdout(
    split="fresh7",
    row_prefix="F7",
    pair_prefix="F7P",
    min_pairs=60,
    min_positives=40,
    # Every set the matcher was tuned or evaluated on (fresh6 included) and the copied ../shared/realdata files:
    # a source shared with any of them would not be new to the matcher.
    earlier=(
        NAMES_CSV,
        DATA / "fresh_names.csv",
        DATA / "fresh2_names.csv",
        DATA / "fresh3_names.csv",
        DATA / "fresh4_names.csv",
        DATA / "fresh5_names.csv",
        DATA / "fresh6_names.csv",
        *sorted(REALDATA.glob("*.csv")),
    ),
)


def check_fresh7(spec: Holdout = FRESH7) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH7))
