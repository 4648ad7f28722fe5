"""Check the sixth fresh holdout (tests/data/fresh6_pairs.csv against fresh6_names.csv) with the one holdout
checker (benchmarks/check_holdout.py), plus one check of its own: no source address may be an earlier set's
address written another way (http/https, www./m., a trailing slash). How the set was built: tests/data/FRESH6.md.

Usage: python -m benchmarks.check_fresh6 [--quiet]
"""

from __future__ import annotations

import re
import sys

from benchmarks.check_holdout import Holdout, HoldoutReport, check_holdout, earlier_source_refs, summary
from benchmarks.check_pairs import DATA, NAMES_CSV, read_csv

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


def address_key(ref: str) -> str:
    """One spelling of a web address: no scheme, no leading www. or m., no trailing slash, lower case."""
    key = re.sub(r"^https?://", "", ref.strip().lower())
    key = re.sub(r"^(www\.|m\.)", "", key)
    return key.rstrip("/")


def reused_addresses(spec: Holdout) -> list[str]:
    """Rows whose source address equals an earlier set's once both are written the same way."""
    old = {address_key(ref) for ref in earlier_source_refs(spec.earlier)}
    return [
        f"{spec.names_path.name} {row['row_id']}: source_ref {row['source_ref']!r} is an earlier set's address"
        for row in read_csv(spec.names_path)[1]
        if address_key(row["source_ref"]) in old
    ]


def check_fresh6(spec: Holdout = FRESH6) -> HoldoutReport:
    rep = check_holdout(spec)
    rep.problems.extend(reused_addresses(spec))
    return rep


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = check_fresh6()
    if "--quiet" not in argv:
        print(summary(FRESH6, rep))
    for problem in rep.problems:
        print("PROBLEM:", problem)
    for shortfall in rep.shortfalls:
        print("SHORTFALL:", shortfall)
    return 1 if rep.problems or rep.shortfalls else 0


if __name__ == "__main__":
    raise SystemExit(main())
