"""A table written as one block (RowBlockSheet.write_block): the review workbook's tables, the same bytes as
xlsx_out.write_table writes them cell by cell."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import pandas as pd
from xlsxwriter.format import Format

from pipelines.common import xlsx_out
from pipelines.common.xlsx_out import XlsxBook, auto_width, column_cells, continued_name, safe_sheet_name
from pipelines.common.xlsx_rows import RowBlockSheet, add_block_sheet, fast_shared_strings


def write_table_block(
    book: XlsxBook,
    sheet: str,
    frame: pd.DataFrame,
    titles: Mapping[str, str],
    *,
    cell_formats: Mapping[tuple[int, str], str] | None = None,
    compact: bool = False,
) -> RowBlockSheet:
    """xlsx_out.write_table (header row, auto widths, frozen header, autofilter; no start row, required
    columns or column formats) with the body written as one block: the same bytes, or with compact the
    same cells without the body's implied references (RowBlockSheet.compact). A table longer than a sheet
    goes on over sheets "name(2)", … as write_table's does; the first sheet is returned."""
    spans = xlsx_out.sheet_spans(len(frame))
    if len(spans) > 1:
        sheets = []
        for k, (a, z) in enumerate(spans, start=1):
            part = {(i - a, c): f for (i, c), f in (cell_formats or {}).items() if a <= i < z}
            name = continued_name(sheet, k)
            # each part's widths from its own first rows: the first part's are the whole table's
            sheets.append(
                write_table_block(book, name, frame.iloc[a:z], titles, cell_formats=part, compact=compact)
            )
        return sheets[0]
    fast_shared_strings(book.workbook)
    safe = safe_sheet_name(sheet, book.sheet_names)
    book.sheet_names.append(safe)
    ws = add_block_sheet(book.workbook, safe)
    ws.compact = compact
    columns = list(frame.columns)
    for j, column in enumerate(columns):
        header = titles.get(column, str(column))
        ws.set_column(j, j, auto_width(header, frame[column].iloc[:500].tolist()), None)  # it reads 500
        book.write(ws, 0, j, header, "header")
    positions = {c: j for j, c in enumerate(columns)}
    # Formats made in the order the cell-by-cell writes first use them (their style numbers follow it).
    placed = sorted(((i, positions[c]), name) for (i, c), name in (cell_formats or {}).items())
    overrides = {at: book.fmt(name) for at, name in placed}
    cells = [column_cells(frame[c]) for c in columns]
    ws.write_block(1, 0, cells, [None] * len(columns), cast(dict[tuple[int, int], Format], overrides))
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return ws
