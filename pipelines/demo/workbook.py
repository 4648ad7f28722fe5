"""The one writer of synthetic submission workbooks, shared by the demo, the benchmark corpus and the tests.

Each caller describes what a department typed; this module lays it out in the template's layout and writes
the xlsx. The layout is the template's (pipelines/intake/template.py, schemas/reference/sheets.csv and
columns.csv): a 部门信息 sheet of 项目 | 内容 rows, then one sheet per indicator kind (部门整体核心指标,
项目支出指标, 共性指标) with one header row and one row per indicator. What officials add around it is
described, not coded here: title rows above the header, their own headers and column order, runs of equal
values written once (merged, or left blank as "same as above"), blank rows, notes rows below the data.

Two steps: `info_grid` and `indicator_grid` lay a sheet out as a Grid (cells, merges, widths) and say where
each row went; `workbook_bytes` writes Grids as xlsx bytes. Deterministic: the caller gives the creation
date, and xlsxwriter stamps fixed dates on the zip members.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

import opencc
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.common.columns import col_letter
from pipelines.intake.template import INFO_HEADERS
from schemas.vocab import reference

Cell = str | int | float | bool | None
CellRange = tuple[int, int, int, int]  # first row, first column, last row, last column (0-based)

# How officials merge or blank a repeated value: a column's run only continues while these columns (and
# the column itself) keep their value — 项目 and its columns per project, 一级 within a project, 二级
# within an 一级.
OFFICIAL_RUNS: dict[str, tuple[str, ...]] = {
    "project": (),
    "project_category": ("project",),
    "function_code": ("project",),
    "project_goal": ("project",),
    "level1": ("project",),
    "level2": ("project", "level1"),
}


class Styled(NamedTuple):
    """A cell value with the name of its format (a key of the `formats` given to workbook_bytes)."""

    value: Cell
    fmt: str | None


Value = Cell | Styled


def _split(value: Value) -> tuple[Cell, str | None]:
    return (value.value, value.fmt) if isinstance(value, Styled) else (value, None)


@dataclass
class Grid:
    """One sheet's cells before they are written: values with formats, merged ranges, column widths."""

    name: str
    cells: dict[tuple[int, int], tuple[Cell, str | None]] = field(default_factory=dict)
    merges: list[CellRange] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None

    def put(self, row: int, col: int, value: Value) -> None:
        self.cells[(row, col)] = _split(value)


# --------------------------------------------------------------------------------------------------
# Text as departments type it
# --------------------------------------------------------------------------------------------------


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    """Simplified → Traditional Chinese, as a department working in Traditional types it."""
    return _s2t().convert(text) if text else text


def sheet_name(kind: str) -> str:
    """The template's name of a sheet kind (info, core, project, common)."""
    return reference().sheets[kind].name_zh


def info_label(key: str) -> str:
    """The template's label of an English 部门信息 column; any other key is a label as written."""
    labels = {spec.column: spec.header_zh for spec in reference().columns["info"]}
    return labels.get(key, key)


# --------------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------------


@dataclass
class InfoSheet:
    """The 部门信息 sheet: (label, value) rows under a 项目 | 内容 header."""

    rows: Sequence[tuple[Value, Value]]
    name: str = ""  # default: the template's name
    title: Value = None  # a title row above the header
    merge_title: bool = True  # the title merged over both columns
    header: tuple[Value, Value] = INFO_HEADERS


def info_grid(sheet: InfoSheet) -> tuple[Grid, list[int]]:
    """The sheet laid out, and the Excel row of each (label, value) row."""
    grid = Grid(sheet.name or sheet_name("info"))
    r = 0
    if sheet.title is not None:
        grid.put(0, 0, sheet.title)
        if sheet.merge_title:
            grid.merges.append((0, 0, 0, 1))
        r = 1
    grid.put(r, 0, sheet.header[0])
    grid.put(r, 1, sheet.header[1])
    excel_rows = []
    for label, value in sheet.rows:
        r += 1
        grid.put(r, 0, label)
        grid.put(r, 1, value)
        excel_rows.append(r + 1)
    return grid, excel_rows


Note = Sequence[Value] | Value  # cells by column, or one value merged across the table


@dataclass
class IndicatorSheet:
    """An indicator sheet (core, project or common) as a department fills it."""

    kind: str
    rows: Sequence[Mapping[str, Value]]  # English column → value as typed (missing: empty)
    columns: Sequence[str] = ()  # written columns in order (default: the template's); others are extra
    headers: Mapping[str, Value] = field(default_factory=dict)  # header as written (default: template's)
    name: str = ""  # default: the template's name
    titles: Sequence[Value] = ()  # rows above the header
    merged_titles: int = 1  # how many of the title rows are merged across the table
    runs: Mapping[str, Sequence[str]] = field(default_factory=dict)  # column → columns a run stays within
    merge_runs: bool = True  # runs of equal values merged; False: repeated cells left blank
    blank_after: Collection[int] = ()  # data-row indexes followed by an empty row
    notes_gap: int = 0  # empty rows between the data and the notes
    notes: Sequence[Note] = ()


@dataclass
class Placed:
    """Where an indicator sheet's parts went (Excel rows count from 1)."""

    header_row: int
    data_rows: list[int]
    notes_rows: list[int]
    columns: dict[str, str]  # column → letter


def _is_cells(note: Note) -> bool:
    return isinstance(note, list | tuple) and not isinstance(note, Styled)


def indicator_grid(sheet: IndicatorSheet) -> tuple[Grid, Placed]:
    """The sheet laid out: titles, header, data rows (with runs merged or blanked), notes."""
    grid = Grid(sheet.name or sheet_name(sheet.kind))
    columns = list(sheet.columns) or [spec.column for spec in reference().columns[sheet.kind]]
    width = len(columns)
    for r, title in enumerate(sheet.titles):
        grid.put(r, 0, title)
        if r < sheet.merged_titles and width > 1:
            grid.merges.append((r, 0, r, width - 1))
    header_row = len(sheet.titles)
    known = {spec.column for spec in reference().columns[sheet.kind]}
    for c, column in enumerate(columns):
        default = reference().header_zh(sheet.kind, column) if column in known else column
        grid.put(header_row, c, sheet.headers.get(column, default))
    data_rows, r = _put_rows(grid, sheet, columns, header_row + 1)
    r += sheet.notes_gap
    notes_rows = []
    for note in sheet.notes:
        if _is_cells(note):
            for c, value in enumerate(note):  # type: ignore[arg-type]
                if value is not None:
                    grid.put(r, c, value)
        else:
            grid.put(r, 0, note)  # type: ignore[arg-type]
            if width > 1:
                grid.merges.append((r, 0, r, width - 1))
        notes_rows.append(r + 1)
        r += 1
    letters = {column: col_letter(c) for c, column in enumerate(columns)}
    return grid, Placed(header_row + 1, data_rows, notes_rows, letters)


def _put_rows(grid: Grid, sheet: IndicatorSheet, columns: list[str], first: int) -> tuple[list[int], int]:
    """Put the data rows from 0-based row `first`; returns their Excel rows and the next free row."""
    r, grid_rows = first, []
    for i, row in enumerate(sheet.rows):
        for c, column in enumerate(columns):
            value = row.get(column)
            if value is not None and value != "":  # empty cells without a format are not written at all
                grid.cells[(r, c)] = _split(value)
        grid_rows.append(r)
        r += 2 if i in sheet.blank_after else 1
    values = [{k: _split(v)[0] for k, v in row.items()} for row in sheet.rows] if sheet.runs else []
    for c, column in enumerate(columns):
        if column not in sheet.runs:
            continue
        for start, end in _runs(values, grid_rows, column, sheet.runs[column]):
            if sheet.merge_runs:
                grid.merges.append((grid_rows[start], c, grid_rows[end], c))
            else:
                for k in range(start + 1, end + 1):
                    grid.cells.pop((grid_rows[k], c), None)
    return [row + 1 for row in grid_rows], r


def _runs(
    values: list[dict[str, Cell]], grid_rows: list[int], column: str, within: Sequence[str]
) -> list[tuple[int, int]]:
    """(first, last) row indexes of runs of two or more adjacent rows that repeat a non-empty value of
    `column`, with the same values in the `within` columns."""
    runs = []
    start = 0
    keys = (*within, column)
    for i in range(1, len(values) + 1):
        same = (
            i < len(values)
            and grid_rows[i] == grid_rows[i - 1] + 1
            and all(values[i].get(k) == values[start].get(k) for k in keys)
        )
        if same:
            continue
        if i - start > 1 and values[start].get(column) not in (None, ""):
            runs.append((start, i - 1))
        start = i
    return runs


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def workbook_bytes(
    grids: Sequence[Grid],
    *,
    created: datetime,
    properties: Mapping[str, str] | None = None,
    formats: Mapping[str, Mapping[str, object]] | None = None,
    streaming: bool = False,
) -> bytes:
    """The grids as one xlsx, in order. formats: name → xlsxwriter format properties, as cells name them.
    streaming: rows written as they come, with inline strings (fast and small for large sheets; no merges)."""
    buffer = io.BytesIO()
    options: dict[str, object] = {"strings_to_numbers": False, "strings_to_formulas": False}
    if streaming:
        options["constant_memory"] = True  # needs temp files: in_memory would turn it off
    else:
        options |= {"in_memory": True, "strings_to_urls": False}
    workbook = xlsxwriter.Workbook(buffer, options)
    workbook.set_properties({**(properties or {}), "created": created})
    registered = {name: workbook.add_format(dict(spec)) for name, spec in (formats or {}).items()}
    for grid in grids:
        if streaming and grid.merges:
            raise ValueError(f"streaming cannot merge cells ({grid.name})")
        _write_grid(workbook.add_worksheet(grid.name), grid, registered)
    workbook.close()
    return buffer.getvalue()


def _write_grid(ws: Worksheet, grid: Grid, formats: Mapping[str, Format]) -> None:
    """Merged ranges first (their top cell carries the value), then every other cell row by row."""
    for c, width in grid.widths.items():
        ws.set_column(c, c, width)
    covered: set[tuple[int, int]] = set()
    for r0, c0, r1, c1 in grid.merges:
        value, fmt = grid.cells.get((r0, c0), (None, None))
        ws.merge_range(r0, c0, r1, c1, "", formats.get(fmt or ""))
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        _write(ws, r0, c0, value, formats.get(fmt or ""))
    for (r, c), (value, fmt) in sorted(grid.cells.items()):
        if (r, c) not in covered:
            _write(ws, r, c, value, formats.get(fmt or ""))
    if grid.freeze:
        ws.freeze_panes(*grid.freeze)


def _write(ws: Worksheet, row: int, col: int, value: Cell, fmt: Format | None) -> None:
    """By Python type: the caller decides text or number ("95" is a number stored as text)."""
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        raise TypeError(f"cell ({row}, {col}): {type(value).__name__} is not a cell value")
