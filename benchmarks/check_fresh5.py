"""Check the fifth fresh holdout (tests/data/fresh5_pairs.csv against fresh5_names.csv) with the one holdout
checker (benchmarks/check_holdout.py). How the set was built: tests/data/FRESH5.md.

Usage: python -m benchmarks.check_fresh5 [--quiet]
"""

from __future__ import annotations

from benchmarks.check_holdout import fresh_holdout, main

FRESH5 = fresh_holdout(5, realdata=False)


if __name__ == "__main__":
    raise SystemExit(main(FRESH5))
