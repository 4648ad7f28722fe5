"""Check a fresh holdout of labelled real pairs (fresh2, fresh3, …: tests/data/<name>_pairs.csv against
<name>_names.csv). One checker, each holdout a `Holdout` spec (benchmarks/check_fresh2.py, check_fresh3.py).

A fresh holdout is labelled once, before any matcher sees it, so the review queue can be judged honestly. This
checker keeps that promise mechanical. Integrity problems (a pair's text differs from its rows', a pair repeated,
a source table shared with an earlier set, a bad label, split, id or pattern) and size shortfalls (fewer than
min_pairs pairs or min_positives pairs labelled 1) are reported separately. How each set was built:
tests/data/REAL_PAIRS.md.
"""

from __future__ import annotations

import re
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


@dataclass(frozen=True)
class Holdout:
    """One fresh holdout: its files, the earlier sets whose sources it must not reuse (a shared table would
    leak tuning into the holdout), its size floor and its id prefixes."""

    split: str  # also the files' stem: tests/data/<split>_pairs.csv, <split>_names.csv
    row_prefix: str
    pair_prefix: str
    min_pairs: int
    min_positives: int
    earlier: tuple[Path, ...]
    pairs_csv: Path | None = None  # default tests/data/<split>_pairs.csv
    names_csv: Path | None = None

    @property
    def pairs_path(self) -> Path:
        return self.pairs_csv or DATA / f"{self.split}_pairs.csv"

    @property
    def names_path(self) -> Path:
        return self.names_csv or DATA / f"{self.split}_names.csv"


def fresh_holdout(n: int, *, realdata: bool = True) -> Holdout:
    """The n-th fresh holdout (n ≥ 2): files tests/data/fresh<n>_*.csv, ids F<n>… / F<n>P…, and the sets whose
    sources it must not reuse — the first real set, fresh … fresh<n-1> (each was tuned or evaluated on) and,
    with realdata, the copied ../shared/realdata files (a source shared with any would not be new to the matcher)."""
    earlier = (NAMES_CSV, DATA / "fresh_names.csv", *(DATA / f"fresh{k}_names.csv" for k in range(2, n)))
    if realdata:
        earlier += tuple(sorted((DATA / "realdata").glob("*.csv")))
    return Holdout(
        split=f"fresh{n}",
        row_prefix=f"F{n}",
        pair_prefix=f"F{n}P",
        min_pairs=60,
        min_positives=40,
        earlier=earlier,
    )


@dataclass
class HoldoutReport:
    names: int = 0
    source_groups: int = 0
    pairs: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    by_pattern: Counter[str] = field(default_factory=Counter)
    positives_by_pattern: Counter[str] = field(default_factory=Counter)
    hard: int = 0
    problems: list[str] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)


def earlier_source_refs(paths: tuple[Path, ...]) -> set[str]:
    """Every source_ref (URL, repo path or stored-file id) the earlier sets were built from."""
    refs: set[str] = set()
    for path in paths:
        refs.update(row["source_ref"].strip() for row in read_csv(path)[1])
    return refs


def address_key(ref: str) -> str:
    """One spelling of a web address: no scheme, no leading www. or m., no trailing slash, lower case."""
    key = re.sub(r"^https?://", "", ref.strip().lower())
    key = re.sub(r"^(www\.|m\.)", "", key)
    return key.rstrip("/")


def _check_names(
    names: list[dict[str, str]], label: str, old_refs: set[str], spec: Holdout, rep: HoldoutReport
) -> dict[str, dict[str, str]]:
    by_id: dict[str, dict[str, str]] = {}
    old_keys = {address_key(ref) for ref in old_refs}
    for row in names:
        rid = row["row_id"]
        if rid in by_id:
            rep.problems.append(f"{label}: row_id {rid} twice")
        by_id[rid] = row
        if not rid.startswith(spec.row_prefix):
            rep.problems.append(f"{label}: row_id {rid} does not start with {spec.row_prefix}")
        if not row["name"].strip() or not row["source_ref"].strip() or not row["split_group"].strip():
            rep.problems.append(f"{label} {rid}: empty name, source_ref or split_group")
        if row["source_ref"].strip() in old_refs:
            rep.problems.append(f"{label} {rid}: source_ref {row['source_ref']!r} is an earlier set's source")
        elif address_key(row["source_ref"]) in old_keys:
            rep.problems.append(
                f"{label} {rid}: source_ref {row['source_ref']!r} is an earlier set's address"
            )
    rep.names = len(names)
    rep.source_groups = len({r["source_group"] for r in names})
    return by_id


def _check_pair_fields(p: dict[str, str], seen_ids: set[str], spec: Holdout, rep: HoldoutReport) -> None:
    pid = p["pair_id"]
    if pid in seen_ids:
        rep.problems.append(f"{pid}: pair_id twice")
    seen_ids.add(pid)
    if not pid.startswith(spec.pair_prefix):
        rep.problems.append(f"{pid}: pair_id does not start with {spec.pair_prefix}")
    if p["label"] not in ("0", "1"):
        rep.problems.append(f"{pid}: label {p['label']!r} is not 0 or 1")
    if p["split"] != spec.split:
        rep.problems.append(f"{pid}: split {p['split']!r} is not {spec.split}")
    if p["pattern"] not in REQUIRED_PATTERNS | EXTRA_PATTERNS:
        rep.problems.append(f"{pid}: unknown pattern {p['pattern']!r}")
    if not p["note"].strip():
        rep.problems.append(f"{pid}: no note saying why the label")


def check_holdout(spec: Holdout) -> HoldoutReport:
    rep = HoldoutReport()
    pairs_csv, names_csv = spec.pairs_path, spec.names_path
    pair_cols, pairs = read_csv(pairs_csv)
    name_cols, names = read_csv(names_csv)
    if pair_cols != PAIR_COLUMNS:
        rep.problems.append(f"{pairs_csv.name} columns {pair_cols} != {PAIR_COLUMNS}")
    if name_cols != NAME_COLUMNS:
        rep.problems.append(f"{names_csv.name} columns {name_cols} != {NAME_COLUMNS}")
    by_id = _check_names(names, names_csv.name, earlier_source_refs(spec.earlier), spec, rep)

    seen_ids: set[str] = set()
    seen = SeenPairs()
    for p in pairs:
        _check_pair_fields(p, seen_ids, spec, rep)
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
    if rep.pairs < spec.min_pairs:
        rep.shortfalls.append(f"{rep.pairs} pairs, fewer than {spec.min_pairs}")
    if rep.by_label["1"] < spec.min_positives:
        rep.shortfalls.append(f"{rep.by_label['1']} pairs labelled 1, fewer than {spec.min_positives}")
    return rep


def summary(spec: Holdout, rep: HoldoutReport) -> str:
    hard_share = rep.hard / rep.pairs if rep.pairs else 0.0
    return "\n".join(
        [
            f"{spec.names_path.name}: {rep.names} rows, {rep.source_groups} source tables/lists",
            f"{spec.pairs_path.name}: {rep.pairs} pairs; label 1: {rep.by_label['1']}, label 0: {rep.by_label['0']}; "
            f"hard (name ratio >= {HARD_RATIO}): {rep.hard} ({hard_share:.1%})",
            "by pattern: " + ", ".join(f"{k}={v}" for k, v in rep.by_pattern.most_common()),
            "positives by pattern: "
            + ", ".join(f"{k}={v}" for k, v in rep.positives_by_pattern.most_common()),
        ]
    )


def main(spec: Holdout, argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rep = check_holdout(spec)
    if "--quiet" not in argv:
        print(summary(spec, rep))
    for problem in rep.problems:
        print("PROBLEM:", problem)
    for shortfall in rep.shortfalls:
        print("SHORTFALL:", shortfall)
    return 1 if rep.problems or rep.shortfalls else 0
