"""What a department's feedback shows, kept without keeping any whole workbook.

The feedback (pipelines.report.feedback) returns each indicator sheet as it was read, with its problems
marked. For that a rebuild needs, per workbook, its layout — 部门信息 and their cells, the sheets' names,
header rows, column letters and skipped rows, the reader's own findings — and the cells as typed of the
recognised columns of every row. Validation keeps exactly that (`layout`, `shown_cells`) and drops the
parsed workbooks: their parsed targets, history, extras and per-sheet frames are not needed afterwards.
`ShownCells` gives a workbook's sheets back, as column lists of the values a spreadsheet cell shows
(pipelines.common.xlsx_out.shown_values: neutralized text, None for blanks), for its feedback.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from pipelines.common.frames import compact_text_columns
from pipelines.common.xlsx_out import Shown, shown_values
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


class ShownCells:
    """The kept cells, read back one sheet at a time as plain lists of shown values (what the feedback
    writer takes).

    Each column is prepared once — a categorical as its codes and its values already shown (each distinct
    text neutralized once for all workbooks), any other column as its array — so a sheet's rows are one
    numpy pick per column, not a DataFrame per workbook."""

    def __init__(self, cells: pd.DataFrame) -> None:
        self._pick: dict[str, Callable[[np.ndarray], list]] = {c: _picker(cells[c]) for c in cells.columns}
        self._columns = shown_columns()  # once, not per sheet
        self._rows: dict[tuple[str, str], np.ndarray] = {}
        if not cells.empty:
            groups = cells.groupby(["source_file", "source_sheet"], sort=False, observed=True).indices
            self._rows = {(str(f), str(s)): np.asarray(p) for (f, s), p in groups.items()}

    def values(self, file: str, sheet: SheetRows) -> dict[str, list]:
        """The sheet's rows as read, in order, as shown: its recognised columns and source_row."""
        positions = self._rows.get((file, sheet.sheet_name), np.empty(0, dtype=np.intp))
        out = {}
        for column in (c for c in self._columns if c in sheet.columns or c == "source_row"):
            pick = self._pick.get(column)
            out[column] = pick(positions) if pick is not None else Shown([None] * len(positions))
        return out


def _picker(values: pd.Series) -> Callable[[np.ndarray], list]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        # A code of -1 (a missing value) takes the last entry: "" (stack_rows leaves no missing text).
        shown = shown_values([*values.cat.categories.tolist(), ""])
        categories = np.empty(len(shown), dtype=object)
        categories[:] = shown
        return lambda positions: Shown(categories[codes[positions]].tolist())
    # Any other column shown once for all its rows too (a value is shown the same wherever it is): a
    # sheet's rows are then a numpy pick, not an Arrow take and a list of Python values per sheet.
    everything = np.empty(len(values), dtype=object)
    everything[:] = shown_values(values.array.tolist())
    return lambda positions: Shown(everything[positions].tolist())
