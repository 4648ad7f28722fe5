"""An indicator sheet's grid → one text row per data row (SheetRows), every value kept as typed.

Below the header row: merged cells and "same as above" blanks are filled, notes rows (填表人、备注…),
repeated header rows and rows holding only a 序号 are set aside with a reason, the target and history are
parsed beside their text, and the values of unknown and second columns are kept per row in extra_json.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.common.columns import col_letter
from pipelines.common.findings import Finding
from pipelines.intake.cells import Merge, cell_texts, fill_merges
from pipelines.intake.data_rows import data_rows
from pipelines.intake.headers import (
    HeaderLayout,
    duplicate_header_findings,
    find_header,
    missing_column_findings,
    no_header_finding,
    unknown_header_findings,
)
from pipelines.intake.targets import history_json, parse_target
from pipelines.intake.workbook import EXTRA_COLUMN, PARSED_COLUMNS, PROVENANCE_COLUMNS, RowColumns, SheetRows
from schemas.text import cell_to_text
from schemas.vocab import reference

# Columns blanks in which mean "same as above" (officials leave them empty under the first row).
PROJECT_LEVEL_COLUMNS = (
    "project_category",
    "function_code",
    "sector",
    "industry",
    "fund_use",
    "project_goal",
    "project_nature",
)


def sheet_rows_from_grid(
    file: str,
    kind: str,
    name: str,
    raw: np.ndarray,
    merges: Sequence[Merge] = (),
    findings: list[Finding] | None = None,
) -> SheetRows | None:
    """One indicator sheet's grid (0-based, row 0 = Excel row 1; merges as (r0, c0, r1, c1)) → SheetRows.

    Structural problems (no header row F010, missing required column F004, unknown or doubled headers)
    are appended to `findings`; None is returned when no header row is found.
    """
    findings = [] if findings is None else findings
    specs = reference().columns[kind]
    english = [s.column for s in specs]
    if not raw.size or not (raw != "").any():
        # A blank sheet is allowed (the template says a sheet may be left empty).
        return SheetRows(kind, name, 0, {}, {}, _empty_frame(english))
    grid = fill_merges(raw, list(merges))
    layout = find_header(grid, kind)
    required = [s for s in specs if s.required]
    if layout is None:
        findings.append(no_header_finding(file, name, required))
        return None
    findings += unknown_header_findings(file, name, raw, grid, layout)
    findings += duplicate_header_findings(file, kind, name, raw, grid, layout)
    findings += missing_column_findings(file, name, layout, required)
    rows, skipped = data_rows(raw, grid, layout.row, layout.columns)
    return SheetRows(
        kind=kind,
        sheet_name=name,
        header_row=layout.row + 1,
        columns={col: col_letter(c) for col, c in layout.columns.items()},
        unknown_headers={text: col_letter(c) for c, text in layout.unknown.items()},
        frame=_rows_frame(file, name, english, grid, layout, rows),
        skipped_rows=skipped,
        duplicate_headers=layout.duplicate_headers(grid),
    )


def _rows_frame(
    file: str, name: str, english: list[str], grid: np.ndarray, layout: HeaderLayout, rows: np.ndarray
) -> RowColumns:
    """The data rows as the frame of SheetRows: text columns, the parsed target, provenance, extra_json."""
    n = len(rows)
    body = grid[rows]
    # Columns with nothing in them (sector, formula… are often left empty) cost nothing to convert.
    has_content = (body != "").any(axis=0) if n else np.zeros(grid.shape[1], dtype=bool)
    texts = {col: _column_texts(body, has_content, layout, col) for col in english}
    _forward_fill(texts)
    parsed = [parse_target(t, u) for t, u in zip(texts["target"], texts["unit"], strict=True)]
    text_columns: dict[str, list[str]] = {
        **texts,
        "source_file": [file] * n,
        "source_sheet": [name] * n,
        "target_symbol": [p.symbol for p in parsed],
        "target_text": [p.text for p in parsed],
        "target_unit": [p.unit for p in parsed],
        "history_json": [history_json(h) for h in texts["history"]],
    }
    numbers = {
        "source_row": np.asarray(rows + 1, dtype="int64"),
        "target_value": np.array([np.nan if p.value is None else p.value for p in parsed], dtype="float64"),
    }
    text_columns[EXTRA_COLUMN] = _extra_json(grid, layout, body, has_content)
    return _frame(text_columns, numbers, [*english, *PROVENANCE_COLUMNS, *PARSED_COLUMNS, EXTRA_COLUMN])


def _column_texts(body: np.ndarray, has_content: np.ndarray, layout: HeaderLayout, col: str) -> list[str]:
    """One English column's texts: its first column, blanks filled from any further column of the field."""
    sources = [layout.columns[col], *layout.duplicates.get(col, [])] if col in layout.columns else []
    values: list[str] | None = None
    for c in sources:
        if not has_content[c]:
            continue
        more = cell_texts(body[:, c])
        values = more if values is None else [v or w for v, w in zip(values, more, strict=True)]
    return values if values is not None else [""] * body.shape[0]


def _extra_json(
    grid: np.ndarray, layout: HeaderLayout, body: np.ndarray, has_content: np.ndarray
) -> list[str]:
    """Per row, the values of unknown and second columns as {header: value} JSON; "" when none."""
    n = body.shape[0]
    sources = sorted({*layout.unknown, *(c for cs in layout.duplicates.values() for c in cs)})
    keyed: list[tuple[str, list[str]]] = []
    used: set[str] = set()
    for c in sources:
        text = cell_to_text(grid[layout.row, c])
        key = text if text not in used else f"{text}（{col_letter(c)}列）"
        used.add(key)
        if has_content[c]:
            keyed.append((key, cell_texts(body[:, c])))
    if not keyed:
        return [""] * n
    out: list[str] = []
    for i in range(n):
        record = {key: values[i] for key, values in keyed if values[i]}
        out.append(json.dumps(record, ensure_ascii=False) if record else "")
    return out


def _forward_fill(texts: dict[str, list[str]]) -> None:
    """Blanks under 项目名称, 一级, 二级 and project-level columns mean "same as above" — within one project
    (and 二级 within one 一级): a new project never inherits the previous project's levels or category."""
    n = len(texts["level1"])
    if not n:
        return
    new_project = [True] * n
    if "project" in texts:
        project = texts["project"] = _ffill(texts["project"], None)
        new_project = [i == 0 or project[i] != project[i - 1] for i in range(n)]
        for col in PROJECT_LEVEL_COLUMNS:
            if col in texts:
                texts[col] = _ffill(texts[col], new_project)
        level1 = texts["level1"] = _ffill(texts["level1"], new_project)
    else:
        level1 = texts["level1"] = _ffill(texts["level1"], None)
        new_project = [i == 0 for i in range(n)]
    new_level1 = [new_project[i] or level1[i] != level1[i - 1] for i in range(n)]
    texts["level2"] = _ffill(texts["level2"], new_level1)


def _ffill(values: list[str], group_starts: list[bool] | None) -> list[str]:
    """Blank → the last non-blank value above it, not crossing a group start (True = a new group)."""
    if "" not in values:
        return values
    out: list[str] = []
    last = ""
    for i, value in enumerate(values):
        if group_starts is not None and group_starts[i]:
            last = ""
        if value:
            last = value
        out.append(last)
    return out


def _frame(texts: dict[str, list[str]], numbers: dict[str, np.ndarray], order: list[str]) -> RowColumns:
    """Columns → the sheet's RowColumns; text goes through Arrow, several times faster than pandas' own
    string checks, in one conversion for every column with text, each column a slice of it (a conversion
    costs ≈ 12 µs before its first string: ≈ 25 of them a sheet). Columns that are entirely empty share
    one immutable Arrow array."""
    n = len(next(iter(numbers.values())))
    blank = pa.array([""] * n, type=pa.large_string())
    filled = [c for c, v in texts.items() if any(v)]
    joined = pa.array([t for c in filled for t in texts[c]], type=pa.large_string())
    columns: dict[str, pa.Array | np.ndarray] = dict.fromkeys(texts, blank)
    columns.update({c: joined.slice(k * n, n) for k, c in enumerate(filled)})
    columns.update(numbers)
    return RowColumns(tuple(order), tuple(columns[c] for c in order), n)


def _empty_frame(english: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in (*english, "source_file", "source_sheet")})
    frame["source_row"] = pd.Series(dtype="int64")
    for c in PARSED_COLUMNS:
        frame[c] = pd.Series(dtype="float64" if c == "target_value" else "str")
    frame[EXTRA_COLUMN] = pd.Series(dtype="str")
    return frame[[*english, *PROVENANCE_COLUMNS, *PARSED_COLUMNS, EXTRA_COLUMN]]
