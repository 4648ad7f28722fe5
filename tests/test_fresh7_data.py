"""The seventh fresh holdout (tests/data/fresh7_*.csv): integrity, provenance and independence from every set before
it (fresh6 included) and from the copied realdata files, checked by benchmarks/check_fresh7.py (the one holdout
checker, which also sees through http/https, www./m. and trailing slashes).

fresh7 was labelled by meaning and committed before any matcher ran on it. It reaches the 40 positives asked only
through two copies of one scoring framework (34 of its 41 duplicates); FRESH7.md says so. How it was built:
tests/data/FRESH7.md.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

from benchmarks.check_fresh7 import FRESH7, REALDATA, check_fresh7
from benchmarks.check_holdout import address_key, earlier_source_refs
from benchmarks.check_pairs import DATA, NAME_COLUMNS, PAIR_COLUMNS, read_csv

# The duplicate count FRESH7.md records; a change to the labels must change both.
RECORDED_POSITIVES = 41
RECORDED_PAIRS = 736
# Positives whose two rows both come from the scoring-framework tables (寿县, the two 四川 copies).
RECORDED_FRAMEWORK_POSITIVES = 34


def _rows(path: Path) -> list[dict[str, str]]:
    return read_csv(path)[1]


def test_no_integrity_problem_and_the_agreed_columns() -> None:
    assert check_fresh7().problems == []
    assert read_csv(FRESH7.pairs_path)[0] == PAIR_COLUMNS
    assert read_csv(FRESH7.names_path)[0] == NAME_COLUMNS


def test_labels_split_notes_and_the_recorded_counts() -> None:
    pairs = _rows(FRESH7.pairs_path)
    assert len(pairs) == RECORDED_PAIRS >= FRESH7.min_pairs
    assert {p["label"] for p in pairs} == {"0", "1"}
    assert {p["split"] for p in pairs} == {"fresh7"}
    assert all(p["note"].strip() for p in pairs)
    assert sum(p["label"] == "1" for p in pairs) == RECORDED_POSITIVES
    text = (DATA / "FRESH7.md").read_text(encoding="utf-8")
    assert f"label 1: {RECORDED_POSITIVES}," in text and f"{RECORDED_PAIRS} pairs" in text


def test_enough_positives_and_how_many_come_from_the_scoring_frameworks() -> None:
    assert check_fresh7().shortfalls == []
    group = {r["row_id"]: r["source_group"] for r in _rows(FRESH7.names_path)}
    frameworks = {g for g in group.values() if "wanglu" in g or "dazhou" in g or "shouxian" in g}
    positives = [p for p in _rows(FRESH7.pairs_path) if p["label"] == "1"]
    both = [p for p in positives if group[p["source_a"]] in frameworks and group[p["source_b"]] in frameworks]
    assert len(positives) >= FRESH7.min_positives
    assert len(both) == RECORDED_FRAMEWORK_POSITIVES


def test_every_pair_names_existing_rows_and_copies_them() -> None:
    names = {r["row_id"]: r for r in _rows(FRESH7.names_path)}
    for p in _rows(FRESH7.pairs_path):
        assert p["source_a"] != p["source_b"], p["pair_id"]
        for side in ("a", "b"):
            row = names[p[f"source_{side}"]]
            for col in ("name", "definition", "unit", "level2", "scope", "function_code"):
                assert p[f"{col}_{side}"] == row[col], p["pair_id"]


def test_every_row_has_provenance() -> None:
    for r in _rows(FRESH7.names_path):
        assert re.match(r"^https?://", r["source_ref"]), r["row_id"]
        for col in ("source_group", "split_group", "department", "year", "table", "name", "note"):
            assert r[col].strip(), (r["row_id"], col)
        assert r["scope"] in {"项目", "部门整体", "共性"}, r["row_id"]


def test_pairs_join_rows_of_two_different_tables() -> None:
    # Candidates are pairs across tables within a block; two rows of one table are never paired here.
    group = {r["row_id"]: r["source_group"] for r in _rows(FRESH7.names_path)}
    assert all(group[p["source_a"]] != group[p["source_b"]] for p in _rows(FRESH7.pairs_path))


def test_no_source_shared_with_any_earlier_set_or_realdata_file() -> None:
    realdata = sorted(REALDATA.glob("*.csv"))
    assert len(realdata) == 5 and set(realdata) <= set(FRESH7.earlier)
    assert DATA / "fresh6_names.csv" in FRESH7.earlier
    assert len(FRESH7.earlier) == 12, "real, fresh … fresh6 and the five realdata files should all be read"
    old = {address_key(ref) for ref in earlier_source_refs(FRESH7.earlier)}
    assert old
    assert not {address_key(r["source_ref"]) for r in _rows(FRESH7.names_path)} & old


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_checker_catches_a_fresh6_address_a_bad_label_and_an_edited_pair(tmp_path: Path) -> None:
    # A hand edit that reuses fresh6's table (written http instead of https), labels 2, or copies a side wrongly
    # must fail, not pass silently.
    names = _rows(FRESH7.names_path)
    fresh6_ref = _rows(DATA / "fresh6_names.csv")[0]["source_ref"]
    names[0]["source_ref"] = fresh6_ref.replace("http://", "https://www.", 1)
    pairs = _rows(FRESH7.pairs_path)
    pairs[0]["name_b"] += "X"
    pairs[1]["label"] = "2"
    edited = replace(
        FRESH7,
        names_csv=_write(tmp_path / "names.csv", NAME_COLUMNS, names),
        pairs_csv=_write(tmp_path / "pairs.csv", PAIR_COLUMNS, pairs),
    )
    problems = " | ".join(check_fresh7(edited).problems)
    assert f"{names[0]['row_id']}: source_ref" in problems and "earlier set's address" in problems
    assert "differs from" in problems
    assert "is not 0 or 1" in problems
