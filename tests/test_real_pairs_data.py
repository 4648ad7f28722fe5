"""The labelled real-name pair set (issue 11, point 4): its shape, its provenance and its split.

tests/data/real_pairs.csv pairs real indicator names of tests/data/real_names.csv; how it was built and labelled is
in tests/data/REAL_PAIRS.md. The dedupe evaluation trusts these properties, so a hand edit that breaks one fails here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmarks.check_pairs import (
    MIN_HARD_SHARE,
    MIN_HOLDOUT_SHARE,
    MIN_PAIRS,
    NAMES_CSV,
    PAIR_COLUMNS,
    PAIRS_CSV,
    REQUIRED_PATTERNS,
    check,
    read_csv,
)


@pytest.fixture(scope="module")
def pairs() -> list[dict[str, str]]:
    return read_csv(PAIRS_CSV)[1]


@pytest.fixture(scope="module")
def names() -> dict[str, dict[str, str]]:
    return {r["row_id"]: r for r in read_csv(NAMES_CSV)[1]}


def test_checker_finds_no_problem() -> None:
    rep = check()
    assert rep.problems == []


def test_columns_are_the_agreed_ones() -> None:
    cols, _ = read_csv(PAIRS_CSV)
    assert cols == PAIR_COLUMNS


def test_at_least_600_pairs_with_both_labels_in_both_splits(pairs: list[dict[str, str]]) -> None:
    assert len(pairs) >= MIN_PAIRS
    seen = {(p["split"], p["label"]) for p in pairs}
    assert seen == {("tune", "0"), ("tune", "1"), ("holdout", "0"), ("holdout", "1")}


def test_holdout_share_and_hard_share() -> None:
    rep = check()
    assert rep.holdout_share >= MIN_HOLDOUT_SHARE
    assert rep.hard_share >= MIN_HARD_SHARE


def test_every_name_is_a_real_row_with_provenance(
    pairs: list[dict[str, str]], names: dict[str, dict[str, str]]
) -> None:
    for p in pairs:
        for side in ("a", "b"):
            row = names[p[f"source_{side}"]]
            assert p[f"name_{side}"] == row["name"]
            assert row["source_ref"].strip(), row["row_id"]


def test_sources_are_many_tables_from_several_places(names: dict[str, dict[str, str]]) -> None:
    rows = list(names.values())
    assert len(rows) >= 1000
    assert len({r["source_group"] for r in rows}) >= 15
    assert len({r["region"] for r in rows if r["region"]}) >= 10
    # Older framework labels are part of the material (产出数量/项目效果/投入目标 …).
    level2 = {r["level2"] for r in rows}
    assert {"产出数量", "产出质量"} <= level2


def test_no_pair_is_duplicated(pairs: list[dict[str, str]]) -> None:
    keys = [frozenset((p["source_a"], p["source_b"])) for p in pairs]
    assert len(keys) == len(set(keys))
    assert all(len(k) == 2 for k in keys)


def test_every_pattern_of_the_issue_is_represented(pairs: list[dict[str, str]]) -> None:
    patterns = {p["pattern"] for p in pairs}
    assert patterns >= REQUIRED_PATTERNS
    # Each listed duplicate pattern has at least one real duplicate, each negative pattern a real non-duplicate.
    positives = {p["pattern"] for p in pairs if p["label"] == "1"}
    for pattern in ("qualifier_prefix", "synonym_word", "different_level2", "cross_scope", "cross_class"):
        assert pattern in positives, pattern
    for pattern in ("traditional_simplified", "punctuation_spacing", "unit_in_name", "word_order"):
        assert pattern in positives, pattern
    negatives = {p["pattern"] for p in pairs if p["label"] == "0"}
    for pattern in (
        "one_char_hard_negative",
        "same_object_different_measure",
        "same_measure_different_object",
        "easy_negative",
    ):
        assert pattern in negatives, pattern


def test_holdout_tables_are_never_seen_by_the_tune_part(
    pairs: list[dict[str, str]], names: dict[str, dict[str, str]]
) -> None:
    tune_groups = {
        names[p[f"source_{s}"]]["split_group"] for p in pairs if p["split"] == "tune" for s in "ab"
    }
    for p in pairs:
        if p["split"] == "holdout":
            groups = {names[p["source_a"]]["split_group"], names[p["source_b"]]["split_group"]}
            assert not groups <= tune_groups, p["pair_id"]


def _write(path: Path, cols: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def test_checker_reports_a_broken_copy(tmp_path: Path) -> None:
    """A duplicated pair, a name that is not its source row's and a lost label 1 in holdout are all reported."""
    cols, rows = read_csv(PAIRS_CSV)
    broken = [dict(r) for r in rows]
    broken.append(dict(broken[0], pair_id="P9999"))
    broken[1]["name_a"] = broken[1]["name_a"] + "（改）"
    broken = [r for r in broken if not (r["split"] == "holdout" and r["label"] == "1")]
    path = tmp_path / "real_pairs.csv"
    _write(path, cols, broken)
    problems = "\n".join(check(path, NAMES_CSV).problems)
    assert "duplicates an earlier pair" in problems
    assert "name_a" in problems
    assert "no pair with label 1 in the holdout split" in problems
