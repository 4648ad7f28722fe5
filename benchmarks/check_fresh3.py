"""Check the third fresh holdout (tests/data/fresh3_pairs.csv against fresh3_names.csv).

Usage: python -m benchmarks.check_fresh3 [--quiet]

The third fresh holdout is labelled once, before any matcher sees it, so the review queue can be judged again at
the end of a session. Integrity problems (a pair's text differs from its rows', a pair repeated, a source table
shared with real_names.csv, fresh_names.csv or fresh2_names.csv, a bad label, split or pattern) and size shortfalls
(fewer than MIN_PAIRS pairs or MIN_POSITIVES pairs labelled 1) are reported separately: the set as committed is
smaller than asked (see tests/data/REAL_PAIRS.md, "Third fresh holdout (fresh3)"), and its integrity must still
hold. Exits 1 when either list is non-empty.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.check_pairs import (
    DATA,
    EXTRA_PATTERNS,
    HARD_RATIO,
    NAME_COLUMNS,
    NAMES_CSV,
    PAIR_COLUMNS,
    REQUIRED_PATTERNS,
    SeenPairs,
    name_ratio,
    pair_sides,
    read_csv,
)

FRESH3_PAIRS_CSV = DATA / "fresh3_pairs.csv"
FRESH3_NAMES_CSV = DATA / "fresh3_names.csv"
# Earlier sets whose sources fresh3 must not reuse (a shared table would leak tuning into the holdout).
EARLIER_NAMES_CSVS = (NAMES_CSV, DATA / "fresh_names.csv", DATA / "fresh2_names.csv")
MIN_PAIRS = 150
MIN_POSITIVES = 40
SPLIT = "fresh3"
ROW_PREFIX = "F3"
PAIR_PREFIX = "F3P"


@dataclass
class Fresh3Report:
    names: int = 0
    source_groups: int = 0
    pairs: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    by_pattern: Counter[str] = field(default_factory=Counter)
    positives_by_pattern: Counter[str] = field(default_factory=Counter)
    hard: int = 0
    problems: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)


def earlier_source_refs(paths: tuple[Path, ...] = EARLIER_NAMES_CSVS) -> set[str]:
    """Every source_ref (URL, repo path or stored-file id) the earlier sets were built from."""
    refs: set[str] = set()
    for path in paths:
        refs.update(row["source_ref"].strip() for row in read_csv(path)[1])
    return refs


def _check_names(
    names: list[dict[str, str]], label: str, old_refs: set[str], rep: Fresh3Report
) -> dict[str, dict[str, str]]:
    by_id: dict[str, dict[str, str]] = {}
    for row in names:
        rid = row["row_id"]
        if rid in by_id:
            rep.problems.append(f"{label}: row_id {rid} twice")
        by_id[rid] = row
        if not rid.startswith(ROW_PREFIX):
            rep.problems.append(f"{label}: row_id {rid} does not start with {ROW_PREFIX}")
        if not row["name"].strip() or not row["source_ref"].strip() or not row["split_group"].strip():
            rep.problems.append(f"{label} {rid}: empty name, source_ref or split_group")
        if row["source_ref"].strip() in old_refs:
            rep.problems.append(f"{label} {rid}: source_ref {row['source_ref']!r} is an earlier set's source")
    rep.names = len(names)
    rep.source_groups = len({r["source_group"] for r in names})
    return by_id


def _check_pair_fields(p: dict[str, str], seen_ids: set[str], rep: Fresh3Report) -> None:
    pid = p["pair_id"]
    if pid in seen_ids:
        rep.problems.append(f"{pid}: pair_id twice")
    seen_ids.add(pid)
    if not pid.startswith(PAIR_PREFIX):
        rep.problems.append(f"{pid}: pair_id does not start with {PAIR_PREFIX}")
    if p["label"] not in ("0", "1"):
        rep.problems.append(f"{pid}: label {p['label']!r} is not 0 or 1")
    if p["split"] != SPLIT:
        rep.problems.append(f"{pid}: split {p['split']!r} is not {SPLIT}")
    if p["pattern"] not in REQUIRED_PATTERNS | EXTRA_PATTERNS:
        rep.problems.append(f"{pid}: unknown pattern {p['pattern']!r}")
    if not p["note"].strip():
        rep.problems.append(f"{pid}: no note saying why the label")


def check_fresh3(
    pairs_csv: Path = FRESH3_PAIRS_CSV,
    names_csv: Path = FRESH3_NAMES_CSV,
    earlier: tuple[Path, ...] = EARLIER_NAMES_CSVS,
) -> Fresh3Report:
    rep = Fresh3Report()
    pair_cols, pairs = read_csv(pairs_csv)
    name_cols, names = read_csv(names_csv)
    if pair_cols != PAIR_COLUMNS:
        rep.problems.append(f"{pairs_csv.name} columns {pair_cols} != {PAIR_COLUMNS}")
    if name_cols != NAME_COLUMNS:
        rep.problems.append(f"{names_csv.name} columns {name_cols} != {NAME_COLUMNS}")
    by_id = _check_names(names, names_csv.name, earlier_source_refs(earlier), rep)

    seen_ids: set[str] = set()
    seen = SeenPairs()
    for p in pairs:
        _check_pair_fields(p, seen_ids, rep)
        sides = pair_sides(p, by_id, names_csv.name, seen, rep.problems)
        if sides is None:
            continue
        a, b = sides
        if name_ratio(a["name"], b["name"]) >= HARD_RATIO:
            rep.hard += 1
        rep.by_label[p["label"]] += 1
        rep.by_pattern[p["pattern"]] += 1
        if p["label"] == "1":
            rep.positives_by_pattern[p["pattern"]] += 1
    rep.pairs = len(pairs)
    if rep.pairs < MIN_PAIRS:
        rep.shortfalls.append(f"{rep.pairs} pairs, fewer than {MIN_PAIRS}")
    if rep.by_label["1"] < MIN_POSITIVES:
        rep.shortfalls.append(f"{rep.by_label['1']} pairs labelled 1, fewer than {MIN_POSITIVES}")
    return rep


def summary(rep: Fresh3Report) -> str:
    hard_share = rep.hard / rep.pairs if rep.pairs else 0.0
    return "\n".join(
        [
            f"fresh3_names.csv: {rep.names} rows, {rep.source_groups} source tables/lists",
            f"fresh3_pairs.csv: {rep.pairs} pairs; label 1: {rep.by_label['1']}, label 0: {rep.by_label['0']}; "
            f"hard (name ratio >= {HARD_RATIO}): {rep.hard} ({hard_share:.1%})",
            "by pattern: " + ", ".join(f"{k}={v}" for k, v in rep.by_pattern.most_common()),
            "positives by pattern: "
            + ", ".join(f"{k}={v}" for k, v in rep.positives_by_pattern.most_common()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = check_fresh3()
    if "--quiet" not in argv:
        print(summary(rep))
    for problem in rep.problems:
        print("PROBLEM:", problem)
    for shortfall in rep.shortfalls:
        print("SHORTFALL:", shortfall)
    return 1 if rep.problems or rep.shortfalls else 0


if __name__ == "__main__":
    raise SystemExit(main())
