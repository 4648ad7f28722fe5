"""Compact text columns (pipelines/common/frames.py): the validated rows are held as categoricals so a national
year fits in memory. The rule tested here: compacting changes memory, never a result — the same
consolidation, ids and tables come out of compact rows as out of plain text rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common.frames import (
    categorical_take,
    compact_text_columns,
    is_categorical,
    map_values,
    text_or_empty,
)
from pipelines.consolidate.build import consolidate, normalize_accepted
from pipelines.demo.build import write_demo_year
from pipelines.demo.catalogue import FINANCE_DEPT
from pipelines.intake.inbox import submission_files
from pipelines.intake.parse_cache import read_submissions
from pipelines.normalize.canonical import default_rules
from pipelines.normalize.keys import normalize_rows
from pipelines.validate.runner import validate_workbooks


def test_compact_text_columns_keeps_values_and_leaves_unique_or_non_text_columns() -> None:
    frame = pd.DataFrame(
        {
            "dept": ["101", "102", "101", "101"],
            "unique": ["a", "b", "c", "d"],  # every value distinct: a categorical would not save anything
            "number": [1.0, 2.0, 3.0, 4.0],
            "lists": [["x"], ["y"], ["x"], []],
        }
    )
    out = compact_text_columns(frame)
    assert is_categorical(out["dept"]) and list(out["dept"].cat.categories) == ["101", "102"]
    assert out["dept"].astype(str).tolist() == frame["dept"].tolist()
    assert not is_categorical(out["unique"]) and not is_categorical(out["lists"])
    assert out["number"].dtype == float
    assert not is_categorical(frame["dept"])  # the input is not modified


def test_map_values_and_text_or_empty_on_categoricals() -> None:
    cat = pd.Series(pd.Categorical(["b", "a", None, "c", "a"]))
    mapped = map_values(cat, {"a": 1, "b": 2}, default=0)
    assert mapped.tolist() == [2, 1, 0, 0, 1]
    assert map_values(cat.astype(object), {"a": 1, "b": 2}, default=0).tolist() == [2, 1, 0, 0, 1]
    filled = text_or_empty(cat)
    assert is_categorical(filled) and filled.tolist() == ["b", "a", "", "c", "a"]
    taken = categorical_take(pd.Series(["z", "y", "z"]), np.array([0, 1, 2, 1]), pd.RangeIndex(4))
    assert taken.tolist() == ["z", "y", "z", "y"] and list(taken.cat.categories) == ["y", "z"]


@pytest.fixture(scope="module")
def demo_validation(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = write_demo_year(tmp_path_factory.mktemp("demo"), 2024)
    books, _ = read_submissions(submission_files([Path(folder)]), None)
    return validate_workbooks(books, year=2024, finance_dept=FINANCE_DEPT)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(**{c: frame[c].astype(str) for c in frame.columns if is_categorical(frame[c])})


def test_validated_rows_are_compact(demo_validation) -> None:  # type: ignore[no-untyped-def]
    rows = demo_validation.rows
    compacted = [c for c in rows.columns if is_categorical(rows[c])]
    assert {"outcome", "dept_code", "source_file", "level1", "level2"} <= set(compacted)


def test_normalize_compact_equals_plain(demo_validation) -> None:  # type: ignore[no-untyped-def]
    rows = demo_validation.rows
    accepted = rows[rows["outcome"] == "library"]
    compact = normalize_rows(accepted, default_rules(), compact=True)
    plain = normalize_rows(_plain(accepted), default_rules())
    assert any(is_categorical(compact[c]) for c in ("key", "match_name", "name_norm"))
    pd.testing.assert_frame_equal(_plain(compact), plain, check_dtype=False)


def test_consolidation_of_compact_rows_equals_plain_rows(demo_validation) -> None:  # type: ignore[no-untyped-def]
    results = []
    for rows in (demo_validation.rows, _plain(demo_validation.rows)):
        normalized = normalize_accepted(rows, default_rules())
        if not is_categorical(
            rows["outcome"]
        ):  # the plain run: text columns all the way, as before compacting
            normalized = _plain(normalized)
        assert any(is_categorical(normalized[c]) for c in normalized.columns) == is_categorical(
            rows["outcome"]
        )
        results.append(
            consolidate(rows, demo_validation.departments, year=2024, previous=None, normalized=normalized)
        )
    compact, plain = results
    assert len(compact.tables.indicators) > 50  # the demo's year: a real library, not a toy
    for name in ("indicators", "usages", "departments", "set_aside"):
        pd.testing.assert_frame_equal(
            _plain(getattr(compact.tables, name)), _plain(getattr(plain.tables, name)), check_dtype=False
        )
    pd.testing.assert_frame_equal(compact.candidates, plain.candidates, check_dtype=False)
    assert compact.row_ids.tolist() == plain.row_ids.tolist()
