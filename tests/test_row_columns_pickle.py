"""A sheet's RowColumns (pipelines.intake.workbook) as the reader makes them: the text columns slices of
one Arrow array (rows._frame). Pickled (the parse cache, a parse worker's answer) they come back as the
same columns, the shared blank column still shared, without each slice carrying the whole array; a state
pickled before (three fields, one array a column) still loads."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import RowColumns
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook


def _rows(tmp_path: Path) -> list[RowColumns]:
    projects = [project_row(project=f"项目{i}", target=f"{i}%") for i in range(30)]
    path = write_workbook(tmp_path / "a.xlsx", default_info(), [core_row()] * 5, projects).path
    book = read_workbook(path)
    assert book.readable and book.sheets
    return [sheet.__dict__["frame"] for sheet in book.sheets.values()]


def _same(a: RowColumns, b: RowColumns) -> None:
    assert a.names == b.names and a.length == b.length
    for x, y in zip(a.arrays, b.arrays, strict=True):
        if isinstance(x, pa.Array):
            assert isinstance(y, pa.Array) and x.type == y.type and x.equals(y)
        else:
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
    assert a.frame().equals(b.frame())
    assert a.frame().dtypes.to_dict() == b.frame().dtypes.to_dict()


def test_the_reader_columns_come_back_the_same(tmp_path: Path) -> None:
    for rows in _rows(tmp_path):
        back = pickle.loads(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
        _same(rows, back)
        blank = [i for i, a in enumerate(rows.arrays) if isinstance(a, pa.Array) and not any(a.to_pylist())]
        assert len(blank) >= 2  # the columns nobody filled
        assert len({id(back.arrays[i]) for i in blank}) == 1


def test_slices_are_not_pickled_with_the_whole_array(tmp_path: Path) -> None:
    rows = max(_rows(tmp_path), key=len)
    text = [a for a in rows.arrays if isinstance(a, pa.Array) and any(a.to_pylist())]
    assert len(text) >= 5 and len({a.buffers()[2].address for a in text}) == 1  # slices of one array
    whole = sum(len(pickle.dumps(a)) for a in text)  # each slice on its own: its whole array each time
    assert len(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)) * 3 < whole


def test_an_older_state_still_loads(tmp_path: Path) -> None:
    rows = _rows(tmp_path)[0]
    old = RowColumns(rows.names, rows.arrays, rows.length)
    restored = object.__new__(RowColumns)
    restored.__setstate__((old.names, old.arrays, old.length))
    _same(rows, restored)
    empty = RowColumns(("a", "n"), (pa.array([], type=pa.large_string()), np.zeros(0)), 0)
    _same(empty, pickle.loads(pickle.dumps(empty)))
