"""The report's spreadsheet writer kept lean (pipelines.common.xlsx_rows): text columns held as arrays of
shared-string numbers, shared strings written in bounded joins, uniform columns classified at once, widths
from the first 500 values only — each still the bytes of xlsxwriter's cell-by-cell writes."""

from __future__ import annotations

import io
import random
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from pipelines.common import xlsx_rows
from pipelines.common.xlsx_out import WORKBOOK_OPTIONS, write_table, xlsx_book
from pipelines.common.xlsx_rows import RowBlockSheet, add_block_sheet, fast_shared_strings
from pipelines.common.xlsx_table_block import write_table_block
from tests.xlsx_builders import strings_book

_CAREFUL_TEXTS = [" lead", "trail ", "a&b", "<x>", "_x0041_", "\x01c", "\u3000全角"]


def _columns(rows: int, seed: int) -> list[list[object]]:
    rng = random.Random(seed)
    names = [f"指标{k}" for k in range(rows // 3 + 1)] + _CAREFUL_TEXTS
    return [
        [rng.choice(names) for _ in range(rows)],  # all text
        [float(rng.randint(0, 100)) for _ in range(rows)],  # all float
        [rng.randint(-5, 5) for _ in range(rows)],  # all int
        [None] * rows,  # all None (a formatted blank below)
        [rng.choice([*names, None, 2.5, 7]) for _ in range(rows)],  # mixed
        [f"编号{rng.randint(0, rows)}" for _ in range(rows)],  # all text, many distinct
    ]


def _book(
    block: bool, columns: list[list[object]], special: dict[tuple[int, int], int], row_height: bool
) -> bytes:
    buffer = io.BytesIO()
    wb = fast_shared_strings(xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS))
    wb.set_properties({"created": datetime(2000, 1, 1)})
    blue, red = wb.add_format({"bg_color": "#DDEBF7"}), wb.add_format({"bg_color": "#FFC7CE"})
    ws = add_block_sheet(wb, "表") if block else wb.add_worksheet("表")
    if row_height:
        ws.set_row(3, 30)  # a row setting: the block goes through xlsxwriter's own writer
    styles = [None, None, None, blue, None, None]
    if block:
        assert isinstance(ws, RowBlockSheet)
        ws.compact = False
        ws.write_block(1, 0, columns, styles, {at: red for at in special})  # type: ignore[arg-type]
    else:
        for i in range(len(columns[0])):
            for j, column in enumerate(columns):
                value, fmt = column[i], red if (i, j) in special else styles[j]
                if isinstance(value, str):
                    ws.write_string(1 + i, j, value, fmt)
                elif value is None:
                    ws.write_blank(1 + i, j, None, fmt)
                else:
                    ws.write_number(1 + i, j, value, fmt)
    wb.close()
    return buffer.getvalue()


@pytest.mark.parametrize(("rows", "row_height"), [(0, False), (5000, False), (300, True)])
def test_block_bytes_equal_cell_by_cell_across_chunks(rows: int, row_height: bool) -> None:
    """More rows than a render chunk (2048), rows with a cell format of their own, and the fallback to
    xlsxwriter's writer: the array-held text columns give the cell-by-cell bytes."""
    columns = _columns(rows, rows)
    special = {(i, (i * 7) % 6): 1 for i in range(0, rows, 97)}
    assert _book(True, columns, special, row_height) == _book(False, columns, special, row_height)


def test_text_columns_are_held_as_arrays() -> None:
    """A text column costs 8 bytes a cell (an int64 array), not an int object per cell; a mixed one stays
    a list (its numbers are kept as given)."""
    wb = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
    ws = add_block_sheet(wb, "s")
    ws.write_block(1, 0, [["a", "b", "a"], ["a", 1.5, None]], [None, None])
    text, mixed = ws._blocks[0].values
    assert isinstance(text, np.ndarray) and text.dtype == np.int64 and text.tolist() == [0, 1, 0]
    assert mixed == [0, 1.5, None]
    wb.close()


def test_shared_strings_written_in_bounded_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    """sharedStrings.xml in joins of a few texts (careful ones between) equals xlsxwriter's own."""
    texts = [f"文本{k}" for k in range(40)]
    texts[5:5] = _CAREFUL_TEXTS
    texts += _CAREFUL_TEXTS[:2]

    for chunk in (1, 3, 16384):
        monkeypatch.setattr(xlsx_rows, "_SST_CHUNK", chunk)
        assert strings_book(texts, fast=True) == strings_book(texts, fast=False)


def test_table_widths_from_first_500_values(tmp_path: Path) -> None:
    """write_table_block takes widths from the first 500 values, as write_table does: a wide value after
    row 500 widens neither."""
    names = ["短"] * 700
    names[650] = "很长的名称" * 8
    frame = pd.DataFrame({"name": names, "n": range(700)})
    titles = {"name": "名称", "n": "序号"}
    paths = {}
    for kind, writer in (("cells", write_table), ("block", write_table_block)):
        paths[kind] = tmp_path / f"{kind}.xlsx"
        with xlsx_book(paths[kind], title="t") as book:
            writer(book, "表", frame, titles)
    assert paths["cells"].read_bytes() == paths["block"].read_bytes()
