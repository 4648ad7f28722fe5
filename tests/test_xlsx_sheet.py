"""FastSheet / FastWorkbook (pipelines.common.xlsx_sheet) write exactly the bytes xlsxwriter writes for the
same cells written one by one: columns of text, numbers and blanks, cells written twice (the last write
wins), cells it hands back to xlsxwriter (long text, other types, row settings, comments, autofit), and
shared strings that need escaping."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.common.xlsx_out import FIXED_CREATED, WORKBOOK_OPTIONS
from pipelines.common.xlsx_sheet import FastSheet, FastWorkbook

# A sheet's content as operations: ("put" a column or "row", row, col, values, format names) or
# ("write", row, col, value, format name).
Op = tuple
FORMATS = {"bold": {"bold": True}, "wrap": {"text_wrap": True}, "fill": {"bg_color": "#FFC7CE"}}


def _bytes(fast: bool, sheets: list[list[Op]], setup: Callable | None = None) -> bytes:
    buffer = io.BytesIO()
    workbook = (FastWorkbook if fast else xlsxwriter.Workbook)(buffer, WORKBOOK_OPTIONS)
    workbook.set_properties({"created": FIXED_CREATED})
    formats = {name: workbook.add_format(spec) for name, spec in FORMATS.items()}
    for k, ops in enumerate(sheets):
        ws = workbook.add_worksheet(f"s{k}")
        if setup is not None:
            setup(ws, formats)
        for op in ops:
            kind, row, col, value, fmt = op
            if kind == "write":
                ws.write(row, col, value, formats.get(fmt))
            elif fast:
                assert isinstance(ws, FastSheet)
                put = ws.put_column if kind == "put" else ws.put_row
                put(row, col, value, [formats.get(f) for f in fmt])
            else:
                for i, v in enumerate(value):
                    at = (row + i, col) if kind == "put" else (row, col + i)
                    ws.write(*at, v, formats.get(fmt[i]))
    workbook.close()
    return buffer.getvalue()


def _same(sheets: list[list[Op]], setup: Callable | None = None) -> None:
    assert _bytes(True, sheets, setup) == _bytes(False, sheets, setup)


def _put(row: int, col: int, values: list, fmt: str | None = None) -> Op:
    return ("put", row, col, values, [fmt] * len(values))


def test_a_table_of_columns_is_written_as_xlsxwriter_writes_it() -> None:
    texts = ["甲", "乙", "", None, "甲", "丙 ", "a&b<c>", 'say "x"', "line\nbreak", "_x0041_", "\x01ctl"]
    numbers = [1, -2, 3.5, 0, None, 1e300, -0.0, 12345678901234, 2.5e-9, 7, 8]
    marks = [None, "fill", None, "fill", "wrap", None, None, "fill", None, None, "wrap"]
    header = [("write", 0, j, t, "bold") for j, t in enumerate(["名称", "数值", "说明"])]
    body = [
        _put(1, 0, texts),
        ("put", 1, 1, numbers, marks),
        _put(1, 2, [None] * len(texts), "wrap"),  # formatted blanks are written, plain ones are not
    ]
    _same([header + body, body, []])


def test_rows_of_several_blocks_and_sixteen_row_spans() -> None:
    """Columns of different row ranges, a table row between them, and spans per block of 16 rows."""
    first = [_put(1, c, [f"r{i}c{c}" if (i + c) % 3 else None for i in range(40)]) for c in range(5)]
    second = [_put(45, c, [i * c for i in range(30)]) for c in (1, 7)]
    _same([[("write", 0, 0, "标题", "bold"), ("write", 42, 3, "中间", None), *first, *second]])


def test_cells_written_twice_keep_the_last_write() -> None:
    _same(
        [
            [_put(0, 0, ["a", "b", "c"]), _put(1, 0, ["x", "y"])],  # overlapping columns
            [("write", 1, 0, "first", None), _put(0, 0, ["a", "b", "c"])],  # a column over a cell
            [_put(0, 0, ["a", "b", "c"]), ("write", 1, 0, "later", "bold")],  # a cell over a column
            [_put(0, 0, ["a", "b"]), _put(1, 1, ["c", "d", "e"])],  # blocks sharing rows
            [_put(0, 0, ["a", None, "b"]), ("write", 1, 0, None, "fill")],  # a blank where none was
        ]
    )


def test_what_xlsxwriter_writes_itself() -> None:
    """Long text (UTF-16 truncation), other types, NaN and infinities go through write()."""
    long_text = "𝒳" * 17000 + "尾"  # 34001 UTF-16 units: xlsxwriter cuts it
    odd = [long_text, True, date(2026, 1, 2), Decimal("1.5"), float("nan"), float("inf"), 2**70, "ok"]
    options = dict(WORKBOOK_OPTIONS, nan_inf_to_errors=True)
    for values in (odd, ["a", long_text], ["a", "b", float("nan")]):
        sheets = [[_put(0, 0, values), _put(0, 1, ["after", "it"])]]
        fast, slow = io.BytesIO(), io.BytesIO()
        for buffer, cls in ((fast, FastWorkbook), (slow, xlsxwriter.Workbook)):
            workbook = cls(buffer, options)
            workbook.set_properties({"created": FIXED_CREATED})
            ws = workbook.add_worksheet("s")
            for _, row, col, vals, _fmt in sheets[0]:
                if isinstance(ws, FastSheet):
                    ws.put_column(row, col, vals, [None] * len(vals))
                else:
                    for i, v in enumerate(vals):
                        ws.write(row + i, col, v)
            workbook.close()
        assert fast.getvalue() == slow.getvalue()


def test_row_settings_comments_column_formats_and_autofit() -> None:
    ops = [("write", 0, 0, "标题", "bold"), _put(1, 0, ["a", None, "c"]), _put(1, 1, [1, 2, None])]

    def row_height(ws, formats) -> None:
        ws.set_row(2, 30)

    def comment(ws, formats) -> None:
        ws.write_comment(1, 3, "注释")

    def column_format(ws, formats) -> None:
        ws.set_column(0, 0, 12, formats["wrap"])

    def default_height(ws, formats) -> None:
        ws.set_default_row(24)

    for setup in (row_height, comment, column_format, default_height):
        _same([ops], setup)

    fast, slow = io.BytesIO(), io.BytesIO()
    for buffer, cls in ((fast, FastWorkbook), (slow, xlsxwriter.Workbook)):
        workbook = cls(buffer, WORKBOOK_OPTIONS)
        workbook.set_properties({"created": FIXED_CREATED})
        ws = workbook.add_worksheet("s")
        cells = ["很长的一段文字" * 3, "b", None]
        if isinstance(ws, FastSheet):
            ws.put_column(0, 0, cells, [None] * 3)
        else:
            for i, v in enumerate(cells):
                ws.write(i, 0, v)
        ws.autofit()
        workbook.close()
    assert fast.getvalue() == slow.getvalue()


_values = st.one_of(
    st.none(),
    st.sampled_from(["", "甲", "乙", " lead", "trail ", "a&b", "_x0020_", "\t"]),
    st.text(max_size=6),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
_op = st.one_of(
    st.tuples(
        st.just("put"),
        st.integers(0, 40),
        st.integers(0, 5),
        st.lists(_values, min_size=1, max_size=25),
        st.sampled_from([None, "bold", "fill"]),
    ).map(lambda t: ("put", t[1], t[2], t[3], [t[4] if i % 3 else None for i in range(len(t[3]))])),
    st.tuples(
        st.just("write"), st.integers(0, 40), st.integers(0, 5), _values, st.sampled_from([None, "wrap"])
    ),
    st.tuples(st.integers(0, 40), st.integers(0, 5), st.lists(_values, min_size=1, max_size=6)).map(
        lambda t: ("row", t[0], t[1], t[2], ["wrap" if i % 2 else None for i in range(len(t[2]))])
    ),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_op, max_size=12))
def test_any_sequence_of_writes_gives_xlsxwriters_bytes(ops: list[Op]) -> None:
    _same([ops])
