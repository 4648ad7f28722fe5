"""Check the seventh fresh holdout (tests/data/fresh7_pairs.csv against fresh7_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH7.md.

Usage: python -m benchmarks.check_fresh7 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH7", "REALDATA", "check_fresh7"]

REALDATA = DATA / "realdata"

FRESH7 = fresh_holdout(7)


def check_fresh7(spec: Holdout = FRESH7) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH7))
