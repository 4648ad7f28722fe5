"""Excel's rows per sheet (xlsx_out.SHEET_ROWS, 1,048,576 with the header): a table longer than that goes on
over further sheets instead of losing its last rows (xlsxwriter drops a cell below the limit without a
word, and the sheet's drop-down and filter with it). merge_review.xlsx lists ≈ 1.2 pairs per input row, so a
1M-row year; the limit is patched small here (xlsx_out reads it at each call)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.common import xlsx_out
from pipelines.common.xlsx_rows import add_block_sheet
from pipelines.common.xlsx_table_block import write_table_block
from pipelines.dedupe.candidates import CANDIDATE_COLUMNS, sort_candidates
from pipelines.dedupe.review import (
    GUIDE_SHEET,
    PATTERN_SHEET,
    REVIEW_COLUMNS,
    REVIEW_SHEET,
    ReviewError,
    read_review,
    write_merge_review,
)
from tests.test_merge_review_cells import candidates

LIMIT = 50  # rows a sheet, header included: 49 pairs a sheet
PAIRS = [REVIEW_SHEET, f"{REVIEW_SHEET}(2)", f"{REVIEW_SHEET}(3)"]


def _pairs(n: int) -> pd.DataFrame:
    """n candidate pairs with hostile text, every pair named (read_review refuses a pair without names)."""
    raw = candidates(n)
    for column in ("name_a", "name_b"):
        raw.loc[raw[column] == "", column] = "未命名"
    return raw


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture
def small_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", LIMIT)


def test_pairs_past_a_sheet_go_on_over_further_sheets_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _pairs(120)
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", LIMIT)
    split = write_merge_review(raw, tmp_path / "split.xlsx")
    wb = openpyxl.load_workbook(split)
    assert wb.sheetnames == [*PAIRS, PATTERN_SHEET, GUIDE_SHEET]  # the first pair sheet first, as today
    sheets = [wb[name] for name in PAIRS]
    headers = {_rows(ws)[0] for ws in sheets}
    assert len(headers) == 1 and list(headers.pop()[: len(REVIEW_COLUMNS)]) == list(REVIEW_COLUMNS)
    assert [ws.max_row - 1 for ws in sheets] == [49, 49, 22]
    for ws in sheets:
        last = ws.max_row
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:O{last}"
        (validation,) = ws.data_validations.dataValidation
        assert str(validation.sqref) == f"G2:G{LIMIT}"  # the drop-down down to the sheet's last row
        assert validation.formula1 == '"合并,不合并,设为共性指标"'
    guide = " ".join(str(r[0]) for r in _rows(wb[GUIDE_SHEET]))
    assert "配对共 120 对" in guide and f"“{PAIRS[1]}”至“{PAIRS[2]}”" in guide
    body = [row for ws in sheets for row in _rows(ws)[1:]]
    wb.close()

    monkeypatch.undo()  # the same frame on one sheet: the same rows in the same order
    one = openpyxl.load_workbook(write_merge_review(raw, tmp_path / "one.xlsx"))
    assert one.sheetnames == [REVIEW_SHEET, PATTERN_SHEET, GUIDE_SHEET]
    assert body == _rows(one[REVIEW_SHEET])[1:] and len(body) == 120
    assert "配对共" not in " ".join(str(r[0]) for r in _rows(one[GUIDE_SHEET]))
    one.close()


def _decide(path: Path, cells: dict[tuple[str, int], str]) -> None:
    wb = openpyxl.load_workbook(path)
    for (sheet, row), decision in cells.items():
        wb[sheet].cell(row=row, column=REVIEW_COLUMNS.index("决定") + 1, value=decision)
    wb.save(path)


def test_decisions_on_every_pair_sheet_are_read_back(tmp_path: Path, small_sheets: None) -> None:
    path = write_merge_review(_pairs(120), tmp_path / "merge_review.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    # every pair where it is written: sheet, Excel row, the two ids (plain text)
    expected = [
        (name, str(r), row[0], row[2]) for name in PAIRS for r, row in enumerate(_rows(wb[name])[1:], start=2)
    ]
    wb.close()
    _decide(path, {(PAIRS[0], 2): "合并", (PAIRS[1], 5): "不合并", (PAIRS[2], 23): "设为共性指标"})
    pairs, _ = read_review(path)
    assert len(expected) == 120
    assert [(p["sheet"], p["row"], p["指标编号A"], p["指标编号B"]) for p in pairs] == expected
    decided = {(p["sheet"], p["row"]): p["决定"] for p in pairs if p["决定"]}
    assert decided == {(PAIRS[0], "2"): "合并", (PAIRS[1], "5"): "不合并", (PAIRS[2], "23"): "设为共性指标"}

    _decide(path, {(PAIRS[2], 7): "也许"})  # a problem on a later sheet names that sheet
    with pytest.raises(ReviewError, match=r"“合并审核\(3\)”表第7行“决定”填写为“也许”"):
        read_review(path)


def test_patterns_past_a_sheet_go_on_too_and_their_decisions_are_read(
    tmp_path: Path, small_sheets: None
) -> None:
    raw = _pairs(120)
    raw["pattern"] = [f"甲{k}→乙{k}" for k in range(len(raw))]  # one pattern a pair: 120 pattern rows
    path = write_merge_review(raw, tmp_path / "merge_review.xlsx")
    wb = openpyxl.load_workbook(path)
    names = [PATTERN_SHEET, f"{PATTERN_SHEET}(2)", f"{PATTERN_SHEET}(3)"]
    assert wb.sheetnames == [*PAIRS, *names, GUIDE_SHEET]
    assert [wb[n].max_row - 1 for n in names] == [49, 49, 22]
    assert sorted(r[1] for n in names for r in _rows(wb[n])[1:]) == sorted(raw["pattern"])
    pattern = wb[names[2]].cell(row=3, column=2).value
    wb[names[2]].cell(row=3, column=5, value="不合并")
    wb.save(path)
    _, decisions = read_review(path)
    assert decisions == {pattern: "不合并"}


def test_a_review_that_fits_is_written_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The split changes nothing while the pairs fit: the limit at exactly their rows gives the same bytes
    (over 1,000 pairs: the drop-down reaches row 1,000 at least, and the limit then cuts it nowhere)."""
    raw = _pairs(1200)
    real = write_merge_review(raw, tmp_path / "real.xlsx").read_bytes()
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", 1201)
    assert write_merge_review(raw, tmp_path / "fits.xlsx").read_bytes() == real
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", 1200)
    assert write_merge_review(raw, tmp_path / "over.xlsx").read_bytes() != real


def test_a_block_past_the_sheet_is_refused_not_cut(tmp_path: Path, small_sheets: None) -> None:
    with xlsx_out.xlsx_book(tmp_path / "x.xlsx") as book:
        ws = add_block_sheet(book.workbook, "表")
        book.sheet_names.append("表")
        ws.write_block(1, 0, [["a"] * (LIMIT - 1)], [None])  # the last row of the sheet: fits
        with pytest.raises(ValueError, match="past the sheet"):
            ws.write_block(LIMIT, 0, [["b"]], [None])


@pytest.mark.parametrize("writer", ["write_table", "write_table_block"])
def test_the_table_writers_go_on_over_further_sheets(tmp_path: Path, small_sheets: None, writer: str) -> None:
    """xlsx_out.write_table (indicators export, self-evaluation) and write_table_block (review.xlsx)."""
    frame = pd.DataFrame({"id": [f"ZB-{k:04d}" for k in range(120)], "n": range(120)})
    path = tmp_path / "t.xlsx"
    with xlsx_out.xlsx_book(path) as book:
        if writer == "write_table":
            xlsx_out.write_table(
                book, "使用记录", frame, {"id": "编号", "n": "数"}, cell_formats={(100, "n"): "warning"}
            )
        else:
            write_table_block(
                book, "使用记录", frame, {"id": "编号", "n": "数"}, cell_formats={(100, "n"): "warning"}
            )
        xlsx_out.write_table(book, "说明", pd.DataFrame({"item": ["a"]}))
    wb = openpyxl.load_workbook(path)
    names = ["使用记录", "使用记录(2)", "使用记录(3)"]
    assert wb.sheetnames == [*names, "说明"]
    rows = [r for n in names for r in _rows(wb[n])[1:]]
    assert rows == list(zip(frame["id"], frame["n"], strict=True))
    for n in names:
        assert _rows(wb[n])[0] == ("编号", "数") and wb[n].freeze_panes == "A2"
        assert wb[n].auto_filter.ref == f"A1:B{wb[n].max_row}"
    highlighted = wb[names[2]].cell(row=100 - 2 * 49 + 2, column=2)
    assert highlighted.value == 100 and highlighted.fill.fgColor.rgb.endswith(xlsx_out.FILL_WARNING[1:])
    wb.close()


def test_sheet_spans() -> None:
    assert xlsx_out.sheet_spans(0) == [(0, 0)]
    assert xlsx_out.sheet_spans(1_048_575) == [(0, 1_048_575)]
    assert xlsx_out.sheet_spans(1_048_576) == [(0, 1_048_575), (1_048_575, 1_048_576)]
    assert xlsx_out.continued_name("合并审核", 2) == "合并审核(2)"
    assert xlsx_out.continued_name("x" * 31, 12) == "x" * 27 + "(12)"


def _many_pairs(n: int) -> pd.DataFrame:
    """n distinct pairs built a column at a time (id_a A0000000, A0000001, …; four patterns)."""
    k = np.arange(n)
    patterns = np.array(["培→训", "湿→耕", "服务→∅", "率→数"], dtype=object)[k * 4 // n]
    text = {c: np.full(n, "", dtype=object) for c in CANDIDATE_COLUMNS}
    numbers = {"score": 90.0, "name_score": 80.0, "definition_score": 50.0, "cosine": 0.5}
    return pd.DataFrame(
        text
        | {c: np.full(n, v) for c, v in numbers.items()}
        | {
            "id_a": np.char.add("A", np.char.zfill(k.astype(str), 7)).astype(object),
            "id_b": np.char.add("B", np.char.zfill(k.astype(str), 7)).astype(object),
            "name_a": np.char.add("指标甲", (k % 5000).astype(str)).astype(object),
            "name_b": np.char.add("指标乙", (k % 5000).astype(str)).astype(object),
            "reason": np.full(n, "名称相近", dtype=object),
            "pattern": patterns,
            "pattern_group": patterns,
            "likely": np.ones(n, dtype=bool),
        },
        columns=CANDIDATE_COLUMNS,
    )


def test_at_the_real_limit_the_pair_past_it_is_on_the_second_sheet(tmp_path: Path) -> None:
    """1,048,576 pairs: the first sheet full (1,048,575 and the header), the last pair on 合并审核(2) — before,
    xlsxwriter dropped it and, with it, the first sheet's drop-down and filter (≈ 25 s CPU)."""
    n = xlsx_out.SHEET_ROWS
    raw = _many_pairs(n)
    last = sort_candidates(raw).at[n - 1, "id_a"]
    path = write_merge_review(raw, tmp_path / "merge_review.xlsx")
    del raw
    with zipfile.ZipFile(path) as z:
        book = z.read("xl/workbook.xml").decode()
        first, second = z.read("xl/worksheets/sheet1.xml"), z.read("xl/worksheets/sheet2.xml").decode()
        texts = re.findall(r"<si><t>([^<]*)</t></si>", z.read("xl/sharedStrings.xml").decode())
    assert re.findall(r'<sheet name="([^"]+)"', book) == [*PAIRS[:2], PATTERN_SHEET, GUIDE_SHEET]
    # the header and the first pair numbered, every later row bare (it follows the row before): n rows
    assert first.count(b"<row ") == 2 and first.count(b"<row>") == n - 2 and b'<row r="2">' in first
    for xml in (first.decode(), second):
        assert "<autoFilter " in xml and "<dataValidation " in xml and "<pane " in xml
    rows = re.findall(r'<row r="(\d+)"[^>]*>(.*?)</row>', second)
    assert [r for r, _ in rows] == ["1", "2"]
    assert texts[int(re.search(r"<v>(\d+)</v>", rows[1][1]).group(1))] == last


def test_a_rule_made_from_a_later_sheet_names_that_sheet(tmp_path: Path, small_sheets: None) -> None:
    from pipelines.dedupe.decisions import apply_review

    path = write_merge_review(_pairs(120), tmp_path / "merge_review.xlsx")
    _decide(path, {(PAIRS[1], 5): "不合并"})
    rules = tmp_path / "rules"
    summary = apply_review(path, rules, 2026)
    written = "".join(p.read_text(encoding="utf-8") for p in sorted(rules.glob("*.csv")))
    assert summary.undecided == 119
    assert f"{PAIRS[1]}（第5行）决定不合并" in written  # the row number alone would point at 合并审核's row 5
    assert f"{REVIEW_SHEET}（第5行）" not in written
