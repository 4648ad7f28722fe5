"""Check the ninth fresh holdout (tests/data/fresh9_pairs.csv against fresh9_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which refuses every source an earlier set used, also when its address is
written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH9.md.

Usage: python -m benchmarks.check_fresh9 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH9", "REALDATA", "check_fresh9"]

REALDATA = DATA / "realdata"

FRESH9 = fresh_holdout(9)


def check_fresh9(spec: Holdout = FRESH9) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH9))
