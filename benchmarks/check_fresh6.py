"""Check the sixth fresh holdout (tests/data/fresh6_pairs.csv against fresh6_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), which also refuses an earlier set's address written another way
(http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH6.md.

Usage: python -m benchmarks.check_fresh6 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import Holdout, HoldoutReport, address_key, check_holdout, fresh_holdout, main
from benchmarks.check_pairs import DATA

__all__ = ["FRESH6", "REALDATA", "address_key", "check_fresh6"]

REALDATA = DATA / "realdata"

FRESH6 = fresh_holdout(6)


def check_fresh6(spec: Holdout = FRESH6) -> HoldoutReport:
    return check_holdout(spec)


if __name__ == "__main__":
    raise SystemExit(main(FRESH6))
