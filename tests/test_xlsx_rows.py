"""RowBlockSheet.write_block and write_table_block give the bytes of xlsxwriter's cell-by-cell writes."""

from __future__ import annotations

import io
import random
from datetime import datetime

import pandas as pd
import pytest
import xlsxwriter
from openpyxl import load_workbook

from pipelines.common.xlsx_out import WORKBOOK_OPTIONS, write_table, xlsx_book
from pipelines.common.xlsx_rows import RowBlockSheet, add_block_sheet
from pipelines.common.xlsx_table_block import write_table_block
from tests.xlsx_builders import strings_book

_TEXTS = [
    "a",
    "b",
    "",
    "=1+1",
    "长" * 20000,
    "x" * 40000,
    " edge ",
    "a&b<c>",
    "_x0000_",
    "\x01ctl",
    "设为共性指标",
]


def _cell(rng: random.Random) -> object:
    r = rng.random()
    if r < 0.4:
        return rng.choice(_TEXTS) + str(rng.randint(0, 5))
    if r < 0.55:
        return rng.choice(_TEXTS)
    if r < 0.75:
        return None
    if r < 0.85:
        return rng.randint(-(10**12), 10**12)
    return rng.choice([0.1, 87.5, 1e20, -3.25, 1 / 3, 2.0, -0.0, 0.0, 1, 1.0])


def _book(block: bool, columns: list[list[object]], style_of: list[int], special: dict, start: int) -> bytes:
    """A workbook: a header, a column format, `columns` from `start` (as one block or cell by cell) and a
    second sheet sharing strings with the first."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    wb.set_properties({"created": datetime(2000, 1, 1)})
    formats = [None, *(wb.add_format(f) for f in ({"bold": 1}, {"bg_color": "#FFC7CE"}, {"italic": 1}))]
    ws = wb.add_worksheet("块", worksheet_class=RowBlockSheet) if block else wb.add_worksheet("块")
    ws.set_column(2, 2, 20, wb.add_format({"text_wrap": True}))
    for j in range(len(columns)):
        ws.write_string(0, j, f"列{j}", formats[1])
    styles = [formats[k] for k in style_of]
    overrides = {at: formats[k] for at, k in special.items()}
    if block:
        ws.write_block(start, 0, columns, styles, overrides)
    else:
        for i in range(len(columns[0])):
            for j, column in enumerate(columns):
                value, fmt = column[i], overrides.get((i, j), styles[j])
                if isinstance(value, str):
                    ws.write_string(start + i, j, value, fmt)
                elif value is None:
                    ws.write_blank(start + i, j, None, fmt)
                else:
                    ws.write_number(start + i, j, value, fmt)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(columns[0]), 1), len(columns) - 1)
    other = wb.add_worksheet("后")
    other.write_string(0, 0, "a0")
    wb.close()
    return buffer.getvalue()


@pytest.mark.parametrize("seed", range(60))
def test_write_block_bytes_equal_cell_by_cell(seed: int) -> None:
    rng = random.Random(seed)
    n, m = rng.randint(0, 70), rng.randint(1, 6)
    columns = [[_cell(rng) for _ in range(n)] for _ in range(m)]
    if seed % 7 == 0:
        columns = [[None] * n for _ in range(m)]  # nothing written, or only formatted blanks
    style_of = [rng.choice([0, 0, 1, 2]) for _ in range(m)]
    special = {(rng.randrange(n), rng.randrange(m)): rng.choice([2, 3]) for _ in range(n // 4)} if n else {}
    start = rng.choice([1, 1, 5, 17])
    assert _book(True, columns, style_of, special, start) == _book(False, columns, style_of, special, start)


def test_row_settings_fall_back_to_xlsxwriter() -> None:
    """A row with its own settings inside the block: xlsxwriter's writer does the rows, same bytes."""

    def build(block: bool) -> bytes:
        buffer = io.BytesIO()
        wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
        wb.set_properties({"created": datetime(2000, 1, 1)})
        ws = add_block_sheet(wb, "s") if block else wb.add_worksheet("s")
        ws.set_row(2, 30)
        columns: list[list[object]] = [["a", "b", "c"], [1, None, 2.5]]
        if block:
            assert isinstance(ws, RowBlockSheet)
            ws.write_block(1, 0, columns, [None, None])
        else:
            for i in range(3):
                ws.write_string(1 + i, 0, columns[0][i])  # type: ignore[arg-type]
                if columns[1][i] is not None:
                    ws.write_number(1 + i, 1, columns[1][i])  # type: ignore[arg-type]
        wb.close()
        return buffer.getvalue()

    assert build(True) == build(False)


def test_nan_is_refused_like_write_number() -> None:
    wb = xlsxwriter.Workbook(io.BytesIO(), WORKBOOK_OPTIONS)
    ws = add_block_sheet(wb, "s")
    with pytest.raises(TypeError):
        ws.write_block(1, 0, [[float("nan")]], [None])


def _review_like_frame(rows: int) -> pd.DataFrame:
    rng = random.Random(rows)
    return pd.DataFrame(
        {
            "dept": [f"部门{rng.randint(1, 9)}" for _ in range(rows)],
            "name": [rng.choice(["=SUM(A1)", "+86", "满意度", "", None, "@x", "－1"]) for _ in range(rows)],
            "core": [rng.randint(0, 40) for _ in range(rows)],
            "core_limit": [30] * rows,
            "score": [rng.choice([87.5, None, 100.0, float("nan")]) for _ in range(rows)],
            "flag": [rng.choice([True, False]) for _ in range(rows)],
            "verdict": [rng.choice(["退回", "部分退回", "通过"]) for _ in range(rows)],
        }
    ).astype({"dept": "string"})


@pytest.mark.parametrize("rows", [0, 1, 40])
def test_write_table_block_equals_write_table(tmp_path, rows: int) -> None:
    """The review's sheets: the same bytes as xlsx_out.write_table, highlights included."""
    frame = _review_like_frame(rows)
    titles = {"dept": "部门", "name": "名称", "core": "核心", "score": "得分", "verdict": "结论"}
    formats = {(i, "core"): "warning" for i in range(rows) if frame["core"][i] > 30}
    formats |= {(i, "verdict"): "error" for i in range(rows) if frame["verdict"][i] != "通过"}
    paths = {}
    for kind, writer in (("cells", write_table), ("block", write_table_block)):
        paths[kind] = tmp_path / f"{kind}.xlsx"
        with xlsx_book(paths[kind], title="t") as book:
            writer(book, "概况", frame.head(3), titles)
            writer(book, "部门审核", frame, titles, cell_formats=formats)
    assert paths["cells"].read_bytes() == paths["block"].read_bytes()
    sheet = load_workbook(paths["block"])["部门审核"]
    assert sheet.max_row == rows + 1
    if rows:
        assert all(str(c.value).startswith("'") for c in sheet["B"][1:] if str(c.value)[:1] in "=+@－")


def test_fast_shared_strings_same_bytes() -> None:
    """sharedStrings.xml written by fast_shared_strings equals xlsxwriter's, on texts that need escaping,
    whitespace preservation or the _xHHHH_ escape, and on plain ones."""
    texts = [
        *_TEXTS,
        "",
        " lead",
        "trail\n",
        "\u3000全角空格",
        "<r>rich?</r>",
        "a\tb",
        "_x00ZZ_",
        "x_x0041_y",
        "&amp;",
    ]

    assert strings_book(texts * 2, fast=True) == strings_book(texts * 2, fast=False)
