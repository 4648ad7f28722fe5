"""Check the second fresh holdout (tests/data/fresh2_pairs.csv against fresh2_names.csv).

Usage: python -m benchmarks.check_fresh2 [--quiet]

The second fresh holdout is labelled once, before any matcher ever sees it, to measure the review queue honestly at
the end. This checker keeps that promise mechanical: every pair's text equals its rows', no pair is repeated, the
set is large enough (MIN_PAIRS, MIN_POSITIVES) and no source table is shared with real_names.csv or
fresh_names.csv. It prints the counts and exits 1 listing every problem. tests/test_fresh2_data.py runs the same
checks. How the set was built: tests/data/REAL_PAIRS.md, section "Second fresh holdout (fresh2)".
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

FRESH2_PAIRS_CSV = DATA / "fresh2_pairs.csv"
FRESH2_NAMES_CSV = DATA / "fresh2_names.csv"
FRESH_NAMES_CSV = DATA / "fresh_names.csv"
# Earlier sets whose sources fresh2 must not reuse (a shared table would leak tuning into the holdout).
EARLIER_NAMES_CSVS = (NAMES_CSV, FRESH_NAMES_CSV)
MIN_PAIRS = 220
MIN_POSITIVES = 60
SPLIT = "fresh2"
ROW_PREFIX = "F2"


@dataclass
class Fresh2Report:
    names: int = 0
    source_groups: int = 0
    pairs: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    by_pattern: Counter[str] = field(default_factory=Counter)
    hard: int = 0
    problems: list[str] = field(default_factory=list)


def earlier_source_refs(paths: tuple[Path, ...] = EARLIER_NAMES_CSVS) -> set[str]:
    """Every source_ref (URL, repo path or stored-file id) the earlier sets were built from."""
    refs: set[str] = set()
    for path in paths:
        refs.update(row["source_ref"].strip() for row in read_csv(path)[1])
    return refs


def check_fresh2(
    pairs_csv: Path = FRESH2_PAIRS_CSV,
    names_csv: Path = FRESH2_NAMES_CSV,
    earlier: tuple[Path, ...] = EARLIER_NAMES_CSVS,
) -> Fresh2Report:
    rep = Fresh2Report()
    pair_cols, pairs = read_csv(pairs_csv)
    name_cols, names = read_csv(names_csv)
    if pair_cols != PAIR_COLUMNS:
        rep.problems.append(f"{pairs_csv.name} columns {pair_cols} != {PAIR_COLUMNS}")
    if name_cols != NAME_COLUMNS:
        rep.problems.append(f"{names_csv.name} columns {name_cols} != {NAME_COLUMNS}")

    old_refs = earlier_source_refs(earlier)
    by_id: dict[str, dict[str, str]] = {}
    for row in names:
        rid = row["row_id"]
        if rid in by_id:
            rep.problems.append(f"{names_csv.name}: row_id {rid} twice")
        by_id[rid] = row
        if not rid.startswith(ROW_PREFIX):
            rep.problems.append(f"{names_csv.name}: row_id {rid} does not start with {ROW_PREFIX}")
        if not row["name"].strip() or not row["source_ref"].strip() or not row["split_group"].strip():
            rep.problems.append(f"{names_csv.name} {rid}: empty name, source_ref or split_group")
        if row["source_ref"].strip() in old_refs:
            rep.problems.append(
                f"{names_csv.name} {rid}: source_ref {row['source_ref']!r} is an earlier set's source"
            )
    rep.names = len(names)
    rep.source_groups = len({r["source_group"] for r in names})

    seen_ids: set[str] = set()
    seen = SeenPairs()
    for p in pairs:
        pid = p["pair_id"]
        if pid in seen_ids:
            rep.problems.append(f"{pid}: pair_id twice")
        seen_ids.add(pid)
        if p["label"] not in ("0", "1"):
            rep.problems.append(f"{pid}: label {p['label']!r} is not 0 or 1")
        if p["split"] != SPLIT:
            rep.problems.append(f"{pid}: split {p['split']!r} is not {SPLIT}")
        if p["pattern"] not in REQUIRED_PATTERNS | EXTRA_PATTERNS:
            rep.problems.append(f"{pid}: unknown pattern {p['pattern']!r}")
        if not p["note"].strip():
            rep.problems.append(f"{pid}: no note saying why the label")
        sides = pair_sides(p, by_id, names_csv.name, seen, rep.problems)
        if sides is None:
            continue
        a, b = sides
        if name_ratio(a["name"], b["name"]) >= HARD_RATIO:
            rep.hard += 1
        rep.by_label[p["label"]] += 1
        rep.by_pattern[p["pattern"]] += 1
    rep.pairs = len(pairs)
    if rep.pairs < MIN_PAIRS:
        rep.problems.append(f"{rep.pairs} pairs, fewer than {MIN_PAIRS}")
    if rep.by_label["1"] < MIN_POSITIVES:
        rep.problems.append(f"{rep.by_label['1']} pairs labelled 1, fewer than {MIN_POSITIVES}")
    return rep


def summary(rep: Fresh2Report) -> str:
    hard_share = rep.hard / rep.pairs if rep.pairs else 0.0
    return "\n".join(
        [
            f"fresh2_names.csv: {rep.names} rows, {rep.source_groups} source tables/lists",
            f"fresh2_pairs.csv: {rep.pairs} pairs; label 1: {rep.by_label['1']}, label 0: {rep.by_label['0']}; "
            f"hard (name ratio >= {HARD_RATIO}): {rep.hard} ({hard_share:.1%})",
            "by pattern: " + ", ".join(f"{k}={v}" for k, v in rep.by_pattern.most_common()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = check_fresh2()
    if "--quiet" not in argv:
        print(summary(rep))
    for problem in rep.problems:
        print("PROBLEM:", problem)
    return 1 if rep.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
