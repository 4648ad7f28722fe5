"""What a department's feedback shows, kept without keeping any whole workbook.

The feedback (pipelines.report.feedback) returns each indicator sheet as it was read, with its problems
marked. For that a rebuild needs, per workbook, its layout — 部门信息 and their cells, the sheets' names,
header rows, column letters and skipped rows, the reader's own findings — and the cells as typed of the
recognised columns of every row. Validation keeps exactly that (`layout`, `shown_cells`) and drops the
parsed workbooks: their parsed targets, history, extras and per-sheet frames are not needed afterwards.
`with_rows` puts one workbook back together for its feedback.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pipelines.common.frames import compact_text_columns
from pipelines.intake.workbook import SheetRows, Workbook
from schemas.vocab import INDICATOR_SHEETS, reference

PROVENANCE = ["source_file", "source_sheet", "source_row"]


def shown_columns() -> list[str]:
    """The recognised columns of the indicator sheets (what a returned sheet can show), provenance first."""
    ref = reference()
    return list(dict.fromkeys([*PROVENANCE, *(c.column for k in INDICATOR_SHEETS for c in ref.columns[k])]))


def layout(wb: Workbook) -> Workbook:
    """The workbook without its rows: every sheet's frame emptied, the rest kept."""
    sheets = {kind: dataclasses.replace(sheet, frame=pd.DataFrame()) for kind, sheet in wb.sheets.items()}
    return dataclasses.replace(wb, sheets=sheets)


def shown_cells(stacked: pd.DataFrame) -> pd.DataFrame:
    """The cells as typed of every stacked row read (stack_rows, before any cleaning): provenance and the
    recognised columns, text columns with few distinct values as categoricals (one string per value
    across all workbooks)."""
    keep = [c for c in shown_columns() if c in stacked.columns]
    return compact_text_columns(stacked[keep].reset_index(drop=True))


def _as_read(values: pd.Series) -> pd.Series:
    """A column back in the reader's own text dtype, so the feedback writes what it always wrote."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(values.cat.categories.dtype)
    return values


def _sheet_frame(sheet: SheetRows, part: pd.DataFrame) -> pd.DataFrame:
    """One sheet's rows (in the order read) with its recognised columns and source_row."""
    n = len(part)
    columns = {}
    for column in (c for c in shown_columns() if c in sheet.columns or c == "source_row"):
        if column in part.columns:
            columns[column] = _as_read(part[column]).reset_index(drop=True)
        else:  # an empty sheet's column no workbook filled: no rows to show
            columns[column] = pd.Series(np.full(n, "", dtype=object))
    return pd.DataFrame(columns)


def with_rows(wb: Workbook, cells: pd.DataFrame, positions: np.ndarray | None) -> Workbook:
    """A layout with its sheets' rows again: `positions` are its rows in `cells` (None: it has none)."""
    mine = cells.take(positions) if positions is not None else cells.iloc[:0]
    sheets = {}
    for kind, sheet in wb.sheets.items():
        part = mine[mine["source_sheet"] == sheet.sheet_name] if len(mine) else mine
        sheets[kind] = dataclasses.replace(sheet, frame=_sheet_frame(sheet, part))
    return dataclasses.replace(wb, sheets=sheets)


def rows_by_file(cells: pd.DataFrame) -> dict[str, np.ndarray]:
    """file → the positions of its rows in `cells` (grouped once, not once per workbook)."""
    if cells.empty or "source_file" not in cells.columns:
        return {}
    groups = cells.groupby("source_file", sort=False, observed=True).indices
    return {str(file): np.asarray(positions) for file, positions in groups.items()}
