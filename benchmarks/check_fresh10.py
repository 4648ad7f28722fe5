"""Check the tenth fresh holdout (tests/data/fresh10_pairs.csv against fresh10_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH10.md.

Usage: python -m benchmarks.check_fresh10 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH10", "REALDATA", "check_fresh10"]

REALDATA = DATA / "realdata"

FRESH10 = fresh_holdout(10)


def check_fresh10(spec: Holdout = FRESH10) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH10))
