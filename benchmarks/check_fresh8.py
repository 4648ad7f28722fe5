"""Check the eighth fresh holdout (tests/data/fresh8_pairs.csv against fresh8_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH8.md.

Usage: python -m benchmarks.check_fresh8 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH8", "REALDATA", "check_fresh8"]

REALDATA = DATA / "realdata"

FRESH8 = fresh_holdout(8)


def check_fresh8(spec: Holdout = FRESH8) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH8))
