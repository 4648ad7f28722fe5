"""I402, once per sheet (never per cell: a Traditional workbook would drown its real problems): how many
cells were read as Simplified / half-width (counted by canonicalize_rows), with the first example."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipelines.common.findings import Finding, make_finding
from pipelines.intake.workbook import SheetRows, Workbook
from pipelines.validate.canonicalize import folded
from pipelines.validate.rules.base import RuleContext, rule
from schemas.text import clean_text


def _first_example(sheet: SheetRows, first_row: int) -> str:
    """“原文”→“读作” for the first folded cell of the sheet's first flagged row (read from the sheet's
    columns: no frame is built for it)."""
    at = np.flatnonzero(np.asarray(sheet.column_values("source_row")) == first_row)
    for column in sheet.columns:
        values = sheet.column_values(column)
        if values is None:
            continue
        text = str(values[at[0]]) if len(at) else ""
        if text and "\x1f" not in text and folded([text])[0]:
            return f"“{text[:20]}”→“{clean_text(text)[:20]}”"
    return ""


def folded_cells(rows: pd.DataFrame, workbooks: Sequence[Workbook], ctx: RuleContext) -> list[Finding]:
    flagged = (rows["folded_cells"] > 0) & (rows["file_error"] == "")
    if not flagged.any():
        return []
    # Only the four columns the note needs: grouping the whole (wide) frame copies every column.
    keep = rows.loc[flagged, ["source_file", "source_sheet", "source_row", "folded_cells"]]
    per_sheet = keep.groupby(["source_file", "source_sheet"], sort=True).agg(
        first_row=("source_row", "min"), count=("folded_cells", "sum")
    )
    sheets = {(wb.file, s.sheet_name): s for wb in workbooks for s in wb.sheets.values()}
    out = []
    for (file, sheet_name), first_row, count in zip(
        per_sheet.index, per_sheet["first_row"], per_sheet["count"], strict=True
    ):
        sheet = sheets.get((file, sheet_name))
        example = ""
        if sheet is not None and sheet.column_values("source_row") is not None:
            example = _first_example(sheet, first_row)
        out.append(make_finding("I402", str(file), sheet=str(sheet_name), value=int(count), detail=example))
    return out


TEXT_FOLDED = rule("text_folded", "I402", "info", "sheets", "繁体/全角 per sheet", check=folded_cells)
