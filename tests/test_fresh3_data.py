"""The third fresh holdout (tests/data/fresh3_*.csv): integrity, provenance and independence from earlier sets.

The review queue is measured once on this set at the end of the session, so what the measurement trusts is checked
here: pair texts equal their rows', no repeated pair, no source table shared with real_names.csv, fresh_names.csv
or fresh2_names.csv. The set is smaller than asked (150 pairs / 40 positives); that shortfall is an expected failure
kept visible below, not hidden. How it was built: tests/data/REAL_PAIRS.md, "Third fresh holdout (fresh3)".
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.check_fresh3 import (
    EARLIER_NAMES_CSVS,
    FRESH3_NAMES_CSV,
    FRESH3_PAIRS_CSV,
    MIN_PAIRS,
    MIN_POSITIVES,
    check_fresh3,
    earlier_source_refs,
)
from benchmarks.check_pairs import NAME_COLUMNS, PAIR_COLUMNS, read_csv


@pytest.fixture(scope="module")
def pairs() -> list[dict[str, str]]:
    return read_csv(FRESH3_PAIRS_CSV)[1]


@pytest.fixture(scope="module")
def names() -> dict[str, dict[str, str]]:
    return {r["row_id"]: r for r in read_csv(FRESH3_NAMES_CSV)[1]}


def test_checker_finds_no_integrity_problem() -> None:
    assert check_fresh3().problems == []


def test_columns_are_the_agreed_ones() -> None:
    assert read_csv(FRESH3_PAIRS_CSV)[0] == PAIR_COLUMNS
    assert read_csv(FRESH3_NAMES_CSV)[0] == NAME_COLUMNS


def test_enough_pairs_and_both_labels(pairs: list[dict[str, str]]) -> None:
    assert len(pairs) >= MIN_PAIRS
    assert {p["label"] for p in pairs} == {"0", "1"}
    assert {p["split"] for p in pairs} == {"fresh3"}


@pytest.mark.xfail(strict=True, reason="fresh3 has 18 positives, fewer than the 40 asked; see REAL_PAIRS.md")
def test_enough_positives(pairs: list[dict[str, str]]) -> None:
    assert sum(p["label"] == "1" for p in pairs) >= MIN_POSITIVES


def test_every_pair_side_is_copied_from_its_row(
    pairs: list[dict[str, str]], names: dict[str, dict[str, str]]
) -> None:
    for p in pairs:
        for side in ("a", "b"):
            row = names[p[f"source_{side}"]]
            for col in ("name", "definition", "unit", "level2", "scope", "function_code"):
                assert p[f"{col}_{side}"] == row[col], p["pair_id"]


def test_no_source_shared_with_earlier_sets(names: dict[str, dict[str, str]]) -> None:
    old = earlier_source_refs()
    assert len(EARLIER_NAMES_CSVS) == 3 and old, "the three earlier sets should be readable"
    assert not {r["source_ref"] for r in names.values()} & old


def test_checker_catches_a_shared_source_and_an_edited_pair(tmp_path: Path) -> None:
    # A hand edit that breaks independence or copies a side wrongly must fail, not pass silently.
    with FRESH3_NAMES_CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["source_ref"] = read_csv(EARLIER_NAMES_CSVS[2])[1][0]["source_ref"]
    bad_names = tmp_path / "names.csv"
    with bad_names.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=NAME_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    with FRESH3_PAIRS_CSV.open(encoding="utf-8", newline="") as fh:
        prs = list(csv.DictReader(fh))
    prs[0]["name_a"] += "X"
    prs.append(dict(prs[1]))
    bad_pairs = tmp_path / "pairs.csv"
    with bad_pairs.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=PAIR_COLUMNS)
        w.writeheader()
        w.writerows(prs)
    problems = " | ".join(check_fresh3(bad_pairs, bad_names).problems)
    assert "earlier set's source" in problems
    assert "differs from" in problems
    assert "twice" in problems or "duplicates" in problems
