"""RowBlockSheet.compact: the block's rows without implied cell references and spans (a third less per
release in git, issue 15) — every reader sees the same cells, formats and sheet settings as in the
xlsxwriter-identical file."""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import datetime

import pytest
import xlsxwriter
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from pipelines.common.xlsx_out import WORKBOOK_OPTIONS
from pipelines.common.xlsx_rows import RowBlockSheet, add_block_sheet


def _cell(rng: random.Random) -> object:
    r = rng.random()
    if r < 0.45:
        return rng.choice(["甲", "乙", "=1+1", "a&b<c>", " edge ", "设为共性指标"]) + str(rng.randint(0, 9))
    if r < 0.7:
        return None
    if r < 0.85:
        return rng.randint(-(10**9), 10**9)
    return rng.choice([0.1, 87.5, -3.25, 1 / 3, 2.0])


def _book(compact: bool, columns: list[list[object]], col: int, style_of: list[int], special: dict) -> bytes:
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    wb.set_properties({"created": datetime(2000, 1, 1)})
    formats = [None, *(wb.add_format(f) for f in ({"bold": 1}, {"bg_color": "#FFC7CE"}, {"italic": 1}))]
    ws = add_block_sheet(wb, "块")
    assert isinstance(ws, RowBlockSheet)
    ws.compact = compact
    ws.set_column(col + 1, col + 1, 20, wb.add_format({"text_wrap": True}))
    for j in range(len(columns)):
        ws.write_string(0, col + j, f"列{j}", formats[1])
    overrides = {at: formats[k] for at, k in special.items()}
    ws.write_block(1, col, columns, [formats[k] for k in style_of], overrides)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, col, max(len(columns[0]), 1), col + len(columns) - 1)
    ws.data_validation(1, col, 50, col, {"validate": "list", "source": ["合并", "不合并"]})
    wb.close()
    return buffer.getvalue()


def _openpyxl(data: bytes) -> object:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [
        [(c.value, c.font.b, c.font.i, c.fill.fgColor.rgb, c.alignment.wrap_text) for c in row]
        for row in ws.iter_rows()
    ]
    return (
        cells,
        ws.freeze_panes,
        ws.auto_filter.ref,
        ws.dimensions,
        [str(v.sqref) for v in ws.data_validations.dataValidation],
    )


def _read_only(data: bytes) -> list[tuple[object, ...]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def _calamine(data: bytes) -> list[list[object]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


@pytest.mark.parametrize("seed", range(24))
def test_compact_rows_read_as_the_same_cells(seed: int) -> None:
    rng = random.Random(seed)
    n, m, col = rng.randint(1, 60), rng.randint(1, 6), rng.choice([0, 0, 2])
    columns = [[_cell(rng) for _ in range(n)] for _ in range(m)]
    style_of = [rng.choice([0, 0, 1, 2]) for _ in range(m)]
    special = {(rng.randrange(n), rng.randrange(m)): rng.choice([2, 3]) for _ in range(n // 4)}
    full, compact = (
        _book(False, columns, col, style_of, special),
        _book(True, columns, col, style_of, special),
    )
    assert _openpyxl(compact) == _openpyxl(full)
    assert _read_only(compact) == _read_only(full)
    assert _calamine(compact) == _calamine(full)


def test_compact_xml_keeps_only_the_references_needed() -> None:
    """Spans go; a row names itself only as the block's first or after a row that writes nothing; a cell
    only after a gap (or when the block starts past A)."""
    columns: list[list[object]] = [["a", "b"], [None, 2], ["c", "d"]]
    data = _book(True, columns, 0, [0, 0, 0], {})
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    body = re.findall(r'<row(?: r="(\d+)")?[^>]*>(.*?)</row>', xml)
    assert [r for r, _ in body] == ["1", "2", ""]  # the header (ordinary row), the block's first, bare
    assert "spans=" not in xml.split('<row r="2"', 1)[1]
    assert re.findall(r'<c r="([A-Z]+\d+)"', body[1][1]) == ["C2"]  # after the missing B2
    assert re.findall(r'<c r="([A-Z]+\d+)"', body[2][1]) == []
    shifted = zipfile.ZipFile(io.BytesIO(_book(True, columns, 2, [0, 0, 0], {}))).read(
        "xl/worksheets/sheet1.xml"
    )
    assert b'<row><c r="C3"' in shifted  # a bare row; its first cell past A names itself
    smaller = len(xml.encode())
    assert smaller < len(
        zipfile.ZipFile(io.BytesIO(_book(False, columns, 0, [0, 0, 0], {}))).read("xl/worksheets/sheet1.xml")
    )


def test_a_row_after_a_row_that_writes_nothing_keeps_its_number() -> None:
    """Block rows 2-3 written, 4-5 empty (no cell, no format), 6 written, 7 with a format of its own (written
    cell by cell), 8 empty, 9 with a format of its own: only rows right after a written row go bare, and
    every reader sees each cell where xlsxwriter's own layout puts it."""
    columns: list[list[object]] = [
        ["a", "b", None, None, "e", "f", None, "h"],
        [1, 2, None, None, 5, 6, None, 8],
    ]
    special = {(5, 1): 2, (7, 0): 3}
    full, compact = _book(False, columns, 0, [0, 0], special), _book(True, columns, 0, [0, 0], special)
    xml = zipfile.ZipFile(io.BytesIO(compact)).read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r'<row(?: r="(\d+)")?[^>]*>', xml) == ["1", "2", "", "6", "", "9"]
    assert _openpyxl(compact) == _openpyxl(full)
    assert _read_only(compact) == _read_only(full)
    assert _calamine(compact) == _calamine(full)
    assert _calamine(compact)[8][0] == "h"  # row 9: a row read one too high would fail here
