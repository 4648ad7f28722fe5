"""What intake hands on: a Workbook (部门信息, a SheetRows per indicator sheet, findings), its column names.

Every later stage reads these; nothing here parses. Instances are pickled by the parse cache and sent back
from the parse workers, so they hold plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from pipelines.common.findings import Finding

PROVENANCE_COLUMNS = ("source_file", "source_sheet", "source_row")
PARSED_COLUMNS = ("target_symbol", "target_value", "target_text", "target_unit", "history_json")
# What the reader read but no field holds: the values of unknown columns and of the second column of a
# field written twice, as a JSON object {header as written: value} per row ("" when there is none). The
# header of a second column with the same text is suffixed with its letter: "备注（H列）". A library row
# publishes it as its usage's `extra` (sorted keys: pipelines.consolidate.tables.extra_object).
EXTRA_COLUMN = "extra_json"
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's default "str"


class RowColumns:
    """A sheet's data rows as the reader makes them: the columns in order, text as Arrow large_string
    arrays (no nulls), numbers as numpy arrays. Validation stacks these arrays as they are; a DataFrame
    (≈ 40 columns: ≈ 0.6 ms of pandas per sheet) is only built when SheetRows.frame is asked for."""

    __slots__ = ("names", "arrays", "length")

    def __init__(
        self, names: tuple[str, ...], arrays: tuple[pa.Array | np.ndarray, ...], length: int
    ) -> None:
        self.names, self.arrays, self.length = names, arrays, length

    def __len__(self) -> int:
        return self.length

    # Pickled (the parse cache, a parse worker's answer) with the text as one Arrow array: the reader's
    # columns are slices of one array (rows._frame), and a slice would pickle that whole array. A column
    # that is the same array as an earlier one (the shared blank) is pickled as that column's position.
    def __getstate__(self) -> tuple[Any, ...]:
        text = [a for a in self.arrays if isinstance(a, pa.Array)]
        if not text or any(a.type != pa.large_string() or len(a) != self.length for a in text):
            return self.names, self.arrays, self.length
        first: dict[int, int] = {}
        others: list[Any] = []
        joined: list[pa.Array] = []
        for i, a in enumerate(self.arrays):
            if not isinstance(a, pa.Array):
                others.append(a)
            elif id(a) in first:
                others.append(first[id(a)])
            else:
                first[id(a)] = i
                others.append(None)
                joined.append(a)
        return self.names, tuple(others), self.length, pa.concat_arrays(joined)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        if len(state) == 3:
            self.names, self.arrays, self.length = state
            return
        self.names, others, self.length, joined = state
        arrays: list[Any] = []
        k = 0
        for a in others:
            if a is None:
                arrays.append(joined.slice(k * self.length, self.length))
                k += 1
            else:
                arrays.append(arrays[a] if isinstance(a, int) else a)
        self.arrays = tuple(arrays)

    def dtypes(self) -> list[object]:
        """The dtype each column has in the frame (TEXT_DTYPE for text)."""
        return [TEXT_DTYPE if isinstance(a, pa.Array) else a.dtype for a in self.arrays]

    def values(self, name: str) -> list[Any]:
        """One column's values as Python objects."""
        array = self.arrays[self.names.index(name)]
        return array.to_pylist() if isinstance(array, pa.Array) else array.tolist()

    def frame(self) -> pd.DataFrame:
        """The DataFrame: text behind ArrowStringArray (as pd.array makes it over large_string, without
        its cast and checks; columns sharing one immutable Arrow array each get their own wrapper)."""
        columns = {
            name: ArrowStringArray(a, dtype=TEXT_DTYPE) if isinstance(a, pa.Array) else a
            for name, a in zip(self.names, self.arrays, strict=True)
        }
        return pd.DataFrame(columns, copy=False)


class _Frame:
    """SheetRows.frame: given as a DataFrame, or as the reader's RowColumns, made a DataFrame once, when
    first read. `rows` gives whichever is held without building anything."""

    def __get__(self, obj: SheetRows | None, owner: type | None = None) -> pd.DataFrame:
        if obj is None:
            raise AttributeError("frame")  # a dataclass field without default
        value = obj.__dict__["frame"]
        if isinstance(value, RowColumns):
            value = obj.__dict__["frame"] = value.frame()
        return value

    def __set__(self, obj: SheetRows, value: pd.DataFrame | RowColumns) -> None:
        obj.__dict__["frame"] = value


@dataclass
class SheetRows:
    """The data rows of one indicator sheet."""

    kind: str  # "core" | "project" | "common"
    sheet_name: str  # as written in the workbook
    header_row: int  # Excel row number of the header row (0 when the sheet is blank)
    columns: dict[str, str]  # English column → Excel column letter, for the columns present
    unknown_headers: dict[str, str]  # unrecognised header text → column letter (kept, not an error)
    # One row per data row: every English column of columns.csv for this sheet ("" when absent or
    # empty, raw text as the official typed it), the parsed target (target_symbol, target_value,
    # target_text, target_unit), history_json, and provenance: source_file, source_sheet, source_row.
    frame: _Frame = _Frame()
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, why): notes rows
    # A second column whose header maps to an English column already present (e.g. 指标解释 and 指标说明):
    # header text → column letter. Its values fill the first column's blanks and are kept in extra_json.
    duplicate_headers: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> pd.DataFrame | RowColumns:
        """The rows as held: the frame once built, else the reader's columns (building nothing)."""
        held: pd.DataFrame | RowColumns = self.__dict__["frame"]
        return held

    def row_count(self) -> int:
        return len(self.rows)

    def column_values(self, name: str) -> list[Any] | None:
        """One column's values as Python objects (None when the sheet has no such column)."""
        held = self.rows
        if isinstance(held, RowColumns):
            return held.values(name) if name in held.names else None
        return held[name].tolist() if name in held.columns else None


@dataclass
class Workbook:
    path: Path
    file: str  # file name shown to officials
    sha256: str
    readable: bool  # False: not an xlsx, or over the bounds (exit 2 class)
    info: dict[str, str] = field(default_factory=dict)  # 部门信息: English key → raw text
    info_cells: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (Excel row, column letter)
    info_sheet: str = ""  # the 部门信息 sheet's name as written
    sheets: dict[str, SheetRows] = field(default_factory=dict)  # kind → rows
    findings: list[Finding] = field(default_factory=list)  # structural problems found while reading
    # Sheets that also matched a kind already taken (e.g. a copy "项目支出指标 (2)"): name → kind. Not read.
    ignored_sheets: dict[str, str] = field(default_factory=dict)
