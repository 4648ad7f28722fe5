"""The fresh holdouts (tests/data/fresh2_*.csv … fresh11_*.csv): integrity, provenance and independence from the
sets before them, checked by the one holdout checker (benchmarks/check_holdout.py).

The review queue is measured once on each set, so what the measurement trusts is checked here: pair texts equal
their rows', no repeated pair, no source table shared with an earlier set (also when its address is written
another way). fresh3, fresh4, fresh5, fresh6, fresh8, fresh9, fresh10 and fresh11 are smaller than asked (18, 6,
13, 15, 10, 2, 7 and 11 of 40 positives): those shortfalls are strict expected failures kept visible, not hidden.
fresh7 reaches 40 only through two copies of one scoring framework; its recorded counts are pinned below, and so are
fresh8's, fresh9's, fresh10's and fresh11's.
How each was built: tests/data/REAL_PAIRS.md (fresh2–fresh4) and tests/data/FRESH5.md … FRESH11.md.
"""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.check_fresh2 import FRESH2
from benchmarks.check_fresh3 import FRESH3
from benchmarks.check_fresh4 import FRESH4
from benchmarks.check_fresh5 import FRESH5
from benchmarks.check_fresh6 import FRESH6
from benchmarks.check_fresh7 import FRESH7
from benchmarks.check_fresh8 import FRESH8
from benchmarks.check_fresh9 import FRESH9
from benchmarks.check_fresh10 import FRESH10
from benchmarks.check_fresh11 import FRESH11
from benchmarks.check_holdout import Holdout, address_key, check_holdout, earlier_source_refs
from benchmarks.check_pairs import DATA, NAME_COLUMNS, PAIR_COLUMNS, read_csv

SETS = {
    "fresh2": FRESH2,
    "fresh3": FRESH3,
    "fresh4": FRESH4,
    "fresh5": FRESH5,
    "fresh6": FRESH6,
    "fresh7": FRESH7,
    "fresh8": FRESH8,
    "fresh9": FRESH9,
    "fresh10": FRESH10,
    "fresh11": FRESH11,
}
HOLDOUTS = [pytest.param(spec, id=split) for split, spec in SETS.items()]
# Positives each short set holds (the 40 asked are not there): a strict expected failure each.
SHORT = {
    "fresh3": 18,
    "fresh4": 6,
    "fresh5": 13,
    "fresh6": 15,
    "fresh8": 10,
    "fresh9": 2,
    "fresh10": 7,
    "fresh11": 11,
}
REALDATA = DATA / "realdata"
# fresh7's counts as FRESH7.md records them; a change to its labels must change both.
FRESH7_POSITIVES = 41
FRESH7_PAIRS = 736
FRESH7_FRAMEWORK_POSITIVES = 34  # both rows from the scoring-framework tables (寿县, the two 四川 copies)
# fresh8's counts as FRESH8.md records them; every one of its duplicates is one reader's call.
FRESH8_PAIRS = 603
FRESH8_ONE_READERS_CALL = 15  # labels (of both kinds) whose note says so
# fresh9's counts as FRESH9.md records them.
FRESH9_PAIRS = 151
FRESH9_SOURCES = 7
FRESH9_ONE_READERS_CALL = 5
# fresh10's counts as FRESH10.md records them.
FRESH10_PAIRS = 238
FRESH10_SOURCES = 10  # tables; 9 addresses (鄂州市财政局's page holds two project tables)
FRESH10_ONE_READERS_CALL = 9
# fresh11's counts as FRESH11.md records them.
FRESH11_PAIRS = 85
FRESH11_SOURCES = 4  # tables, one address each
FRESH11_ONE_READERS_CALL = 12


def _rows(path: Path) -> list[dict[str, str]]:
    return read_csv(path)[1]


@pytest.mark.parametrize("spec", HOLDOUTS)
def test_checker_finds_no_integrity_problem_and_columns_are_agreed(spec: Holdout) -> None:
    assert check_holdout(spec).problems == []
    assert read_csv(spec.pairs_path)[0] == PAIR_COLUMNS
    assert read_csv(spec.names_path)[0] == NAME_COLUMNS


@pytest.mark.parametrize("spec", HOLDOUTS)
def test_enough_pairs_both_labels_one_split_every_label_explained(spec: Holdout) -> None:
    pairs = _rows(spec.pairs_path)
    assert len(pairs) >= spec.min_pairs
    assert {p["label"] for p in pairs} == {"0", "1"}
    assert {p["split"] for p in pairs} == {spec.split}
    assert all(p["note"].strip() for p in pairs)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(
            spec,
            id=split,
            marks=[pytest.mark.xfail(strict=True, reason=f"{split} has {SHORT[split]} positives, not 40")]
            if split in SHORT
            else [],
        )
        for split, spec in SETS.items()
    ],
)
def test_enough_positives(spec: Holdout) -> None:
    assert sum(p["label"] == "1" for p in _rows(spec.pairs_path)) >= spec.min_positives


@pytest.mark.parametrize("split", sorted(SHORT))
def test_the_short_sets_hold_the_recorded_positives(split: str) -> None:
    # The expected failure above must fail for the recorded reason, not because a file went missing.
    assert sum(p["label"] == "1" for p in _rows(SETS[split].pairs_path)) == SHORT[split]


@pytest.mark.parametrize("spec", HOLDOUTS)
def test_every_pair_names_two_existing_rows_and_copies_them(spec: Holdout) -> None:
    names = {r["row_id"]: r for r in _rows(spec.names_path)}
    for p in _rows(spec.pairs_path):
        assert p["source_a"] != p["source_b"], p["pair_id"]
        for side in ("a", "b"):
            row = names[p[f"source_{side}"]]
            for col in ("name", "definition", "unit", "level2", "scope", "function_code"):
                assert p[f"{col}_{side}"] == row[col], p["pair_id"]


@pytest.mark.parametrize("spec", HOLDOUTS)
def test_no_source_shared_with_earlier_sets_however_written(spec: Holdout) -> None:
    old = earlier_source_refs(spec.earlier)
    assert old, "the earlier sets should be readable"
    assert all(path.exists() for path in spec.earlier)
    old_keys = {address_key(ref) for ref in old}
    assert not {address_key(r["source_ref"]) for r in _rows(spec.names_path)} & old_keys


@pytest.mark.parametrize(
    "spec",
    [FRESH6, FRESH7, FRESH8, FRESH9, FRESH10, FRESH11],
    ids=["fresh6", "fresh7", "fresh8", "fresh9", "fresh10", "fresh11"],
)
def test_the_later_sets_also_exclude_every_realdata_file(spec: Holdout) -> None:
    realdata = sorted(REALDATA.glob("*.csv"))
    assert len(realdata) == 5 and set(realdata) <= set(spec.earlier)
    n = int(spec.split.removeprefix("fresh"))
    assert DATA / f"fresh{n - 1}_names.csv" in spec.earlier
    assert len(spec.earlier) == n + 5, "real, fresh, fresh2 … the previous set and the five realdata files"


def test_address_key_sees_one_address_written_two_ways() -> None:
    assert address_key("https://www.dyrmt.com/article-1-2.html/") == address_key(
        "http://dyrmt.com/article-1-2.html"
    )
    assert address_key("https://m.taowenge.com/p-1.html") == address_key("https://taowenge.com/p-1.html")
    assert address_key("https://a.gov.cn/x") != address_key("https://a.gov.cn/y")


def test_fresh7_counts_as_recorded_and_its_framework_share() -> None:
    pairs = _rows(FRESH7.pairs_path)
    assert len(pairs) == FRESH7_PAIRS
    positives = [p for p in pairs if p["label"] == "1"]
    assert len(positives) == FRESH7_POSITIVES
    text = (DATA / "FRESH7.md").read_text(encoding="utf-8")
    assert f"label 1: {FRESH7_POSITIVES}," in text and f"{FRESH7_PAIRS} pairs" in text
    assert check_holdout(FRESH7).shortfalls == []
    group = {r["row_id"]: r["source_group"] for r in _rows(FRESH7.names_path)}
    frameworks = {g for g in group.values() if "wanglu" in g or "dazhou" in g or "shouxian" in g}
    both = [p for p in positives if group[p["source_a"]] in frameworks and group[p["source_b"]] in frameworks]
    assert len(both) == FRESH7_FRAMEWORK_POSITIVES


@pytest.mark.parametrize(
    "spec",
    [FRESH7, FRESH8, FRESH9, FRESH10, FRESH11],
    ids=["fresh7", "fresh8", "fresh9", "fresh10", "fresh11"],
)
def test_rows_have_provenance_and_pairs_join_two_tables(spec: Holdout) -> None:
    names = _rows(spec.names_path)
    for r in names:
        assert re.match(r"^https?://", r["source_ref"]), r["row_id"]
        for col in ("source_group", "split_group", "department", "year", "table", "name", "note"):
            assert r[col].strip(), (r["row_id"], col)
        assert r["scope"] in {"项目", "部门整体", "共性"}, r["row_id"]
    # Candidates are pairs across tables within a block; two rows of one table are never paired here.
    group = {r["row_id"]: r["source_group"] for r in names}
    assert all(group[p["source_a"]] != group[p["source_b"]] for p in _rows(spec.pairs_path))


def test_fresh8_counts_as_recorded_and_every_duplicate_is_one_readers_call() -> None:
    pairs = _rows(FRESH8.pairs_path)
    assert len(pairs) == FRESH8_PAIRS
    positives = [p for p in pairs if p["label"] == "1"]
    assert len(positives) == SHORT["fresh8"]
    text = (DATA / "FRESH8.md").read_text(encoding="utf-8")
    assert f"label 1: {SHORT['fresh8']}," in text and f"{FRESH8_PAIRS} pairs" in text
    assert check_holdout(FRESH8).shortfalls == [f"{SHORT['fresh8']} pairs labelled 1, fewer than 40"]
    assert all("one reader's call" in p["note"] for p in positives)
    assert sum("one reader's call" in p["note"] for p in pairs) == FRESH8_ONE_READERS_CALL


RECORDED = {  # set: (pairs, source tables, labels whose note says "one reader's call")
    "fresh9": (FRESH9, FRESH9_PAIRS, FRESH9_SOURCES, FRESH9_ONE_READERS_CALL),
    "fresh10": (FRESH10, FRESH10_PAIRS, FRESH10_SOURCES, FRESH10_ONE_READERS_CALL),
    "fresh11": (FRESH11, FRESH11_PAIRS, FRESH11_SOURCES, FRESH11_ONE_READERS_CALL),
}


@pytest.mark.parametrize("name", list(RECORDED))
def test_counts_as_recorded(name: str) -> None:
    spec, n_pairs, n_sources, n_calls = RECORDED[name]
    pairs = _rows(spec.pairs_path)
    assert len(pairs) == n_pairs
    assert sum(p["label"] == "1" for p in pairs) == SHORT[name]
    assert len({r["source_group"] for r in _rows(spec.names_path)}) == n_sources
    text = (DATA / f"{name.upper()}.md").read_text(encoding="utf-8")
    assert f"label 1: {SHORT[name]}," in text and f"{n_pairs} pairs" in text
    assert check_holdout(spec).shortfalls == [f"{SHORT[name]} pairs labelled 1, fewer than 40"]
    assert sum("one reader's call" in p["note"] for p in pairs) == n_calls


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rewritten(ref: str) -> str:
    """The same address written another way (the other scheme, a www. prefix)."""
    if ref.startswith("https://"):
        return ref.replace("https://", "http://www.", 1)
    if ref.startswith("http://"):
        return ref.replace("http://", "https://www.", 1)
    return ref


@pytest.mark.parametrize("spec", HOLDOUTS)
def test_checker_catches_a_reused_source_a_bad_label_and_an_edited_pair(
    spec: Holdout, tmp_path: Path
) -> None:
    # A hand edit that reuses an earlier table (as written, or written another way), labels 2, copies a side
    # wrongly or repeats a pair must fail, not pass silently.
    names = _rows(spec.names_path)
    earlier = _rows(spec.earlier[-1])[0]["source_ref"]
    names[0]["source_ref"] = earlier
    rewritten = [r["source_ref"] for r in _rows(spec.earlier[0]) if r["source_ref"].startswith("http")]
    if rewritten:
        names[1]["source_ref"] = _rewritten(rewritten[0])
    pairs = _rows(spec.pairs_path)
    pairs[0]["name_a"] += "X"
    pairs[2]["label"] = "2"
    pairs.append(dict(pairs[1]))
    edited = replace(
        spec,
        names_csv=_write(tmp_path / "names.csv", NAME_COLUMNS, names),
        pairs_csv=_write(tmp_path / "pairs.csv", PAIR_COLUMNS, pairs),
    )
    problems = " | ".join(check_holdout(edited).problems)
    assert f"{names[0]['row_id']}: source_ref" in problems and "earlier set's source" in problems
    if rewritten:
        assert f"{names[1]['row_id']}: source_ref" in problems and "earlier set's address" in problems
    assert "differs from" in problems
    assert "is not 0 or 1" in problems
    assert "twice" in problems or "duplicates" in problems
