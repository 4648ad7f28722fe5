"""pipelines.common.xlsx_out: neutralization, deterministic and atomic xlsx/CSV writing (files opened with openpyxl)."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.common.columns import col_index, col_letter, first_col_index
from pipelines.common.csv_out import csv_text, write_csv
from pipelines.common.formulas import is_dangerous, neutralize
from pipelines.common.xlsx_out import (
    FILL_ERROR,
    FILL_WARNING,
    FONT_REQUIRED,
    cell_value,
    safe_sheet_name,
    write_table,
    xlsx_book,
)

DANGEROUS = [
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "  =1+1",
    "\t=1",
    "\rcmd",
    "\n=1",
    "\u3000=1",  # ideographic space before the trigger
    "＝1+1",  # full-width forms
    "＋1",
    "－1",
    "＠SUM(A1)",
    "﹦1",  # small form equals
]
SAFE = ["≥95%", "95", "道路养护", "a=b", "1-2", "—", "'=already neutral", " 95%", ""]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_text_gets_a_leading_quote(text: str) -> None:
    assert is_dangerous(text)
    assert neutralize(text) == "'" + text
    assert not is_dangerous(neutralize(text))  # idempotent: neutralizing twice changes nothing more
    assert neutralize(neutralize(text)) == neutralize(text)


@pytest.mark.parametrize("text", SAFE)
def test_safe_text_is_unchanged(text: str) -> None:
    assert not is_dangerous(text)
    assert neutralize(text) == text


def test_numbers_stay_numbers() -> None:
    assert neutralize(-2) == -2
    assert neutralize(-2.5) == -2.5
    assert cell_value(-2) == -2
    assert cell_value(np.int64(-7)) == -7
    assert cell_value(95.0) == 95 and isinstance(cell_value(95.0), int)
    assert cell_value(0.25) == 0.25


def test_cell_value_blanks_and_conversions() -> None:
    for blank in (None, float("nan"), pd.NA, pd.NaT, np.nan, ""):
        assert cell_value(blank) is None
    assert cell_value(True) == "是" and cell_value(False) == "否"
    assert cell_value(["a", "b"]) == "a、b"
    assert cell_value(np.array(["x", "y"], dtype=object)) == "x、y"
    assert cell_value({"2025": "97%", "2024": "95%"}) == '{"2024": "95%", "2025": "97%"}'
    assert cell_value(float("inf")) == "inf"
    assert cell_value(10**16) == str(10**16)  # Excel would round it
    assert cell_value(["=cmd", "b"]) == "'=cmd、b"
    long = cell_value("字" * 40000)
    assert isinstance(long, str) and len(long) == 32767 and long.endswith("…")


def test_column_letters() -> None:
    assert col_letter(0) == "A" and col_letter(27) == "AB"
    assert col_index("A") == 0 and col_index("ab") == 27 and first_col_index("C:D") == 2
    assert col_letter(col_index("AAAAA")) == "AAAAA"  # hostile XML may write letters past Excel's XFD
    assert [col_index(col_letter(i)) for i in range(20000)] == list(range(20000))
    with pytest.raises(ValueError):
        first_col_index("12")


def test_safe_sheet_name() -> None:
    assert safe_sheet_name("a/b[c]:d*e?f\\g") == "a_b_c__d_e_f_g"
    assert len(safe_sheet_name("很长" * 30)) == 31
    assert safe_sheet_name("汇总", ["汇总"]) == "汇总_2"
    assert safe_sheet_name("Sheet", ["sheet", "Sheet_2"]) == "Sheet_3"
    assert safe_sheet_name("'引号'") == "引号"
    assert safe_sheet_name("") == "Sheet"


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["道路养护里程", '=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"],
            "target": [95.0, -2, float("nan"), 0.5, None],
            "unit": ["%", "", "公里", "天", "＝1"],
        }
    )


def _write(path: Path, frame: pd.DataFrame) -> Path:
    with xlsx_book(path, title="测试") as book:
        write_table(
            book,
            "指标",
            frame,
            {"name": "指标名称", "target": "目标值", "unit": "计量单位"},
            widths={"name": 30},
            required=["name"],
            cell_formats={(0, "target"): "error", (2, "unit"): "warning"},
        )
    return path


def test_write_table_cells_headers_and_formats(tmp_path: Path) -> None:
    frame = _frame()
    path = _write(tmp_path / "t.xlsx", frame)
    ws = openpyxl.load_workbook(path)["指标"]
    assert [c.value for c in ws[1]] == ["指标名称", "目标值", "计量单位"]
    assert ws["A1"].font.b and ws["A1"].font.color.rgb == "FF" + FONT_REQUIRED[1:]
    assert ws["B1"].font.color is None or ws["B1"].font.color.rgb != "FF" + FONT_REQUIRED[1:]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:C{len(frame) + 1}"
    assert abs(ws.column_dimensions["A"].width - 30) < 1

    for i, text in enumerate(frame["name"], start=2):
        cell = ws.cell(i, 1)
        assert cell.data_type == "s"
        assert cell.value == neutralize(text)
    for text in ('=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"):
        assert any(c.value == "'" + text for c in ws["A"])
    assert ws["C6"].value == "'＝1"

    assert ws["B2"].value == 95 and ws["B2"].data_type == "n"
    assert ws["B3"].value == -2 and ws["B3"].data_type == "n"  # a negative number is not neutralized
    assert ws["B4"].value is None and ws["B6"].value is None  # NaN / None → blank
    assert ws["C3"].value is None  # empty text → blank
    assert ws["B2"].fill.fgColor.rgb == "FF" + FILL_ERROR[1:]
    assert ws["C4"].fill.fgColor.rgb == "FF" + FILL_WARNING[1:]
    assert ws["B3"].fill.fill_type is None
    # Nothing anywhere is a formula.
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_strings_are_never_formulas_in_the_xml(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.xlsx", _frame())
    with zipfile.ZipFile(path) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode("utf-8")
        shared = z.read("xl/sharedStrings.xml").decode("utf-8")
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    assert "<hyperlink" not in sheet_xml
    assert "&apos;=HYPERLINK" in shared or "'=HYPERLINK" in shared


def test_same_content_gives_identical_bytes(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.xlsx", _frame())
    b = _write(tmp_path / "b.xlsx", _frame())
    assert sha256(a) == sha256(b)
    changed = _frame()
    changed.loc[0, "unit"] = "人次"
    c = _write(tmp_path / "c.xlsx", changed)
    assert sha256(c) != sha256(a)
    with zipfile.ZipFile(a) as z:
        core = z.read("docProps/core.xml").decode("utf-8")
        stamps = {info.date_time for info in z.infolist()}
    assert "2000-01-01T00:00:00Z" in core
    assert str(time.gmtime().tm_year) not in core
    assert stamps == {(1980, 1, 1, 0, 0, 0)}


def test_identical_bytes_across_time_zones(tmp_path: Path) -> None:
    old = os.environ.get("TZ")
    digests = []
    try:
        for i, zone in enumerate(("UTC", "Asia/Shanghai", "America/New_York")):
            os.environ["TZ"] = zone
            time.tzset()
            digests.append(sha256(_write(tmp_path / f"{i}.xlsx", _frame())))
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()
    assert len(set(digests)) == 1


def test_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out" / "x.xlsx"
    _write(target, _frame())
    before = sha256(target)
    with pytest.raises(RuntimeError), xlsx_book(target) as book:
        write_table(book, "指标", pd.DataFrame({"a": ["半截"]}))
        raise RuntimeError("boom")
    assert sha256(target) == before  # the failed write did not touch the existing file
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.xlsx"]  # no temp files left


def test_csv_is_neutralized_and_deterministic(tmp_path: Path) -> None:
    frame = _frame()
    path = write_csv(tmp_path / "t.csv", frame, {"name": "指标名称", "target": "目标值", "unit": "计量单位"})
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese text correctly
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["指标名称", "目标值", "计量单位"]
    assert [r[0] for r in rows[1:]] == [neutralize(v) for v in frame["name"]]
    assert [r[1] for r in rows[1:]] == ["95", "-2", "", "0.5", ""]
    assert rows[5][2] == "'＝1"
    for row in rows:
        for value in row:
            assert not is_dangerous(value) or math.isfinite(
                float(value)
            )  # only real numbers may start with -
    again = write_csv(tmp_path / "u.csv", frame, {"name": "指标名称", "target": "目标值", "unit": "计量单位"})
    assert sha256(again) == sha256(path)
    assert csv_text(frame) != csv_text(frame.iloc[:2])


def test_the_column_fast_path_neutralizes_what_the_cell_path_does() -> None:
    """column_cells (whole text columns) and cell_value (one cell) agree on every text, including first
    characters that only fold to a trigger under NFKC (⁺ ₊ ﹫ ＝) and Unicode spaces before a trigger."""
    import pandas as pd

    from pipelines.common.xlsx_out import cell_value, column_cells

    texts = ["⁺1", "₊1", "﹫x", "＝SUM(A1)", "\u2003=1", "\u00a0+1", "=1", "普通文字", "abc", "-", "﹣2", "¹"]
    series = pd.Series(texts, dtype="string")
    assert column_cells(series) == [cell_value(t) for t in texts]
    assert all(str(v).startswith("'") for v in column_cells(series)[:7])
