"""Check the eleventh fresh holdout (tests/data/fresh11_pairs.csv against fresh11_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH11.md.

Usage: python -m benchmarks.check_fresh11 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH11", "REALDATA", "check_fresh11"]

REALDATA = DATA / "realdata"

FRESH11 = fresh_holdout(11)


def check_fresh11(spec: Holdout = FRESH11) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH11))
