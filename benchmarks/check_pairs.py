"""Check the labelled real-name pair set (tests/data/real_pairs.csv) against its source rows (real_names.csv).

Usage: python -m benchmarks.check_pairs [--quiet]

Prints the counts (pairs by label, pattern and split, hard share, sources) and exits 1 listing every problem
found. tests/test_real_pairs_data.py runs the same checks, so a hand edit that breaks the set fails CI.
How the set was built and the labelling guideline: tests/data/REAL_PAIRS.md.
"""

from __future__ import annotations

import csv
import difflib
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
PAIRS_CSV = DATA / "real_pairs.csv"
NAMES_CSV = DATA / "real_names.csv"

PAIR_COLUMNS = [
    "pair_id",
    "name_a",
    "definition_a",
    "unit_a",
    "level2_a",
    "scope_a",
    "function_code_a",
    "name_b",
    "definition_b",
    "unit_b",
    "level2_b",
    "scope_b",
    "function_code_b",
    "label",
    "pattern",
    "split",
    "source_a",
    "source_b",
    "note",
]
NAME_COLUMNS = [
    "row_id",
    "source_group",
    "split_group",
    "level1",
    "level2",
    "name",
    "definition",
    "unit",
    "target",
    "scope",
    "function_code",
    "department",
    "year",
    "region",
    "table",
    "source_ref",
    "note",
]
# The patterns issue 11 asks the set to cover (point 4 and "A review queue with recall").
REQUIRED_PATTERNS = frozenset(
    {
        "qualifier_prefix",
        "synonym_word",
        "different_level2",
        "cross_scope",
        "cross_class",
        "traditional_simplified",
        "punctuation_spacing",
        "unit_in_name",
        "word_order",
        "one_char_hard_negative",
        "same_object_different_measure",
        "same_measure_different_object",
        "easy_negative",
    }
)
# Patterns found in the real rows beyond the list.
EXTRA_PATTERNS = frozenset({"template_marker", "function_word", "unit_change"})
MIN_PAIRS = 600
MIN_HOLDOUT_SHARE = 0.35
MIN_HARD_SHARE = 0.40
HARD_RATIO = 0.5  # difflib ratio of the two names (spaces removed) at or above which a pair counts as hard


@dataclass
class Report:
    pairs: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    by_pattern: Counter[str] = field(default_factory=Counter)
    by_split_label: Counter[tuple[str, str]] = field(default_factory=Counter)
    hard_share: float = 0.0
    holdout_share: float = 0.0
    names: int = 0
    source_groups: int = 0
    split_groups: int = 0
    sources_in_pairs: int = 0
    problems: list[str] = field(default_factory=list)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def name_ratio(a: str, b: str) -> float:
    """Character overlap of two names, the measure 'hard' is defined by."""
    a, b = re.sub(r"\s", "", a), re.sub(r"\s", "", b)
    return difflib.SequenceMatcher(None, a, b).ratio()


INPUT_COLUMNS = ("name", "definition", "unit", "level2", "scope", "function_code")


def side_inputs(row: dict[str, str]) -> tuple[str, ...]:
    """What the matcher sees of one side of a pair."""
    return tuple(row[c] for c in INPUT_COLUMNS)


@dataclass
class SeenPairs:
    """The pairs met so far: by their two rows, and by what the matcher sees of both sides."""

    rows: set[frozenset[str]] = field(default_factory=set)
    inputs: set[frozenset[tuple[str, ...]]] = field(default_factory=set)


def pair_sides(
    p: dict[str, str],
    by_id: dict[str, dict[str, str]],
    names_label: str,
    seen: SeenPairs,
    problems: list[str],
) -> tuple[dict[str, str], dict[str, str]] | None:
    """The two rows a pair names, after checking that its copied text equals theirs and that it neither pairs
    a row with itself nor repeats an earlier pair; None (with a problem) when a side is not in the names file."""
    pid = p["pair_id"]
    a, b = by_id.get(p["source_a"]), by_id.get(p["source_b"])
    if a is None or b is None:
        problems.append(f"{pid}: source_a/source_b {p['source_a']}/{p['source_b']} not in {names_label}")
        return None
    for side, row in (("a", a), ("b", b)):
        for col in INPUT_COLUMNS:
            if p[f"{col}_{side}"] != row[col]:
                problems.append(
                    f"{pid}: {col}_{side} {p[f'{col}_{side}']!r} differs from {row['row_id']} {row[col]!r}"
                )
    key_rows = frozenset((p["source_a"], p["source_b"]))
    # A pair is a duplicate when both sides show the matcher the same inputs; rows worded alike but defined,
    # filed or classed differently are different inputs.
    key_inputs = frozenset((side_inputs(a), side_inputs(b)))
    if len(key_rows) == 1:
        problems.append(f"{pid}: pairs a row with itself")
    if key_rows in seen.rows or key_inputs in seen.inputs:
        problems.append(f"{pid}: duplicates an earlier pair ({a['name']} / {b['name']})")
    seen.rows.add(key_rows)
    seen.inputs.add(key_inputs)
    return a, b


def check(pairs_csv: Path = PAIRS_CSV, names_csv: Path = NAMES_CSV) -> Report:
    rep = Report()
    pair_cols, pairs = read_csv(pairs_csv)
    name_cols, names = read_csv(names_csv)
    if pair_cols != PAIR_COLUMNS:
        rep.problems.append(f"real_pairs.csv columns {pair_cols} != {PAIR_COLUMNS}")
    if name_cols != NAME_COLUMNS:
        rep.problems.append(f"real_names.csv columns {name_cols} != {NAME_COLUMNS}")
    by_id: dict[str, dict[str, str]] = {}
    for row in names:
        if row["row_id"] in by_id:
            rep.problems.append(f"real_names.csv: row_id {row['row_id']} twice")
        by_id[row["row_id"]] = row
        if not row["name"].strip() or not row["source_ref"].strip() or not row["split_group"].strip():
            rep.problems.append(f"real_names.csv {row['row_id']}: empty name, source_ref or split_group")
    rep.names = len(names)
    rep.source_groups = len({r["source_group"] for r in names})
    rep.split_groups = len({r["split_group"] for r in names})

    seen_ids: set[str] = set()
    seen = SeenPairs()
    tune_groups: set[str] = set()
    holdout_pairs_groups: list[tuple[str, set[str]]] = []
    used_sources: set[str] = set()
    hard = 0
    for p in pairs:
        pid = p["pair_id"]
        if pid in seen_ids:
            rep.problems.append(f"{pid}: pair_id twice")
        seen_ids.add(pid)
        if p["label"] not in ("0", "1"):
            rep.problems.append(f"{pid}: label {p['label']!r} is not 0 or 1")
        if p["split"] not in ("tune", "holdout"):
            rep.problems.append(f"{pid}: split {p['split']!r} is not tune or holdout")
        if p["pattern"] not in REQUIRED_PATTERNS | EXTRA_PATTERNS:
            rep.problems.append(f"{pid}: unknown pattern {p['pattern']!r}")
        sides = pair_sides(p, by_id, "real_names.csv", seen, rep.problems)
        if sides is None:
            continue
        a, b = sides
        used_sources.update({a["source_group"], b["source_group"]})
        groups = {a["split_group"], b["split_group"]}
        if p["split"] == "tune":
            tune_groups |= groups
        else:
            holdout_pairs_groups.append((pid, groups))
        if name_ratio(a["name"], b["name"]) >= HARD_RATIO:
            hard += 1
        rep.by_label[p["label"]] += 1
        rep.by_pattern[p["pattern"]] += 1
        rep.by_split_label[(p["split"], p["label"])] += 1

    rep.pairs = len(pairs)
    rep.sources_in_pairs = len(used_sources)
    # The split is drawn by source group: every holdout pair holds a table the tune part never saw.
    for pid, groups in holdout_pairs_groups:
        if groups <= tune_groups:
            rep.problems.append(
                f"{pid}: holdout pair whose split groups {sorted(groups)} all appear in tune pairs"
            )
    if rep.pairs:
        rep.hard_share = hard / rep.pairs
        rep.holdout_share = sum(n for (s, _), n in rep.by_split_label.items() if s == "holdout") / rep.pairs
    if rep.pairs < MIN_PAIRS:
        rep.problems.append(f"{rep.pairs} pairs, fewer than {MIN_PAIRS}")
    for split in ("tune", "holdout"):
        for label in ("0", "1"):
            if not rep.by_split_label[(split, label)]:
                rep.problems.append(f"no pair with label {label} in the {split} split")
    if rep.holdout_share < MIN_HOLDOUT_SHARE:
        rep.problems.append(
            f"holdout holds {rep.holdout_share:.1%} of pairs, less than {MIN_HOLDOUT_SHARE:.0%}"
        )
    if rep.hard_share < MIN_HARD_SHARE:
        rep.problems.append(f"hard pairs are {rep.hard_share:.1%}, less than {MIN_HARD_SHARE:.0%}")
    missing = sorted(REQUIRED_PATTERNS - set(rep.by_pattern))
    if missing:
        rep.problems.append(f"patterns not represented: {missing}")
    return rep


def summary(rep: Report) -> str:
    lines = [
        f"real_names.csv: {rep.names} rows, {rep.source_groups} source tables/lists, {rep.split_groups} split groups",
        f"real_pairs.csv: {rep.pairs} pairs from {rep.sources_in_pairs} source tables/lists; "
        f"label 1: {rep.by_label['1']}, label 0: {rep.by_label['0']}; "
        f"hard (name ratio >= {HARD_RATIO}): {rep.hard_share:.1%}; holdout share: {rep.holdout_share:.1%}",
        "by split/label: "
        + ", ".join(f"{s}/{lab}={n}" for (s, lab), n in sorted(rep.by_split_label.items())),
        "by pattern: " + ", ".join(f"{k}={v}" for k, v in rep.by_pattern.most_common()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = check()
    if "--quiet" not in argv:
        print(summary(rep))
    for problem in rep.problems:
        print("PROBLEM:", problem)
    return 1 if rep.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
