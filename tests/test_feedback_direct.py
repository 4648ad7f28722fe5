"""The feedback workbook written by pipelines.common.xlsx_direct reads exactly as the one xlsxwriter writes
for the same calls (xlsx_out.XlsxBook, the writer before): every reader (openpyxl, openpyxl read_only,
python-calamine) sees the same sheets, cell values, fills, fonts, wrapping, borders, column widths,
merged cells, frozen panes and autofilters — on real feedback (a generated corpus, validated) and on the
hand-made findings of tests/test_feedback.py. The file is a well-formed package, the same bytes twice,
and its text is neutralized."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any, cast

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pipelines.common.xlsx_direct import DirectBook, house_styles
from pipelines.common.xlsx_out import xlsx_book
from pipelines.common.xlsx_parts import shared_strings_xml
from pipelines.common.xlsx_zip import zip_bytes
from pipelines.report.feedback import draw_feedback, frame_values, own_findings, write_feedback
from tests.test_feedback import _findings, _workbook


def _cell_style(cell: Any) -> tuple[object, ...]:
    font, fill, align, border = cell.font, cell.fill, cell.alignment, cell.border
    return (
        cell.value,
        cell.number_format,
        font.name,
        font.sz,
        font.b,
        font.color.rgb if font.color is not None else None,
        fill.fill_type,
        fill.fgColor.rgb if fill.fill_type else None,
        align.wrap_text,
        align.vertical,
        tuple(getattr(border, side).style for side in ("left", "right", "top", "bottom")),
    )


def facts(data: bytes) -> dict[str, object]:
    """What readers see in an xlsx: per sheet the cells with their formats, widths, merges, panes and
    filters (openpyxl), the rows read_only, the values calamine reads; the document's title and subject."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheets: dict[str, object] = {}
    for ws in book.worksheets:
        sheets[ws.title] = {
            "cells": [[_cell_style(c) for c in row] for row in ws.iter_rows()],
            "widths": {k: (d.min, d.max, d.width, d.customWidth) for k, d in ws.column_dimensions.items()},
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "dimensions": ws.dimensions,
        }
    fast = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    read_only = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in fast.worksheets}
    fast.close()
    calamine = CalamineWorkbook.from_filelike(io.BytesIO(data))
    values = {name: calamine.get_sheet_by_name(name).to_python() for name in calamine.sheet_names}
    props = (book.properties.title, book.properties.subject)
    return {"sheets": sheets, "read_only": read_only, "calamine": values, "properties": props}


def _both(
    folder: Path, workbook: Any, findings: list[Any], values: Any = frame_values
) -> tuple[bytes, bytes]:
    """The feedback drawn through xlsxwriter (XlsxBook) and through DirectBook: (old, new) bytes."""
    mine = own_findings(workbook, findings)
    title = f"{workbook.file} 审核反馈"
    path = folder / "xlsxwriter.xlsx"
    with xlsx_book(path, title=title, subject="预算绩效指标填报反馈") as book:
        draw_feedback(cast(Any, book), workbook, mine, values)
    old = path.read_bytes()
    direct = DirectBook(title=title, subject="预算绩效指标填报反馈")
    draw_feedback(direct, workbook, mine, values)
    return old, direct.bytes()


def _same_reading(old: bytes, new: bytes) -> None:
    a, b = facts(old), facts(new)
    assert a["properties"] == b["properties"]
    assert a["calamine"] == b["calamine"]
    assert a["read_only"] == b["read_only"]
    sheets_a, sheets_b = cast(dict, a["sheets"]), cast(dict, b["sheets"])
    assert list(sheets_a) == list(sheets_b)
    for name in sheets_a:
        for key in sheets_a[name]:
            assert sheets_a[name][key] == sheets_b[name][key], (name, key)


@pytest.fixture(scope="module")
def corpus_feedback(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, list[Any]]]:
    """Real feedback: a small generated corpus (benchmarks.corpus, with its planted faults), read and
    validated as `indicators validate` does."""
    from benchmarks.corpus import generate_corpus
    from pipelines.intake.read import read_workbook
    from pipelines.validate.runner import validate_workbooks

    folder = tmp_path_factory.mktemp("corpus")
    corpus = generate_corpus(folder, rows=600, year=2026, seed=3, departments=6)
    workbooks = [read_workbook(p) for p in corpus.paths]
    result = validate_workbooks(workbooks)
    return [(wb, [f for f in result.findings if f.file == wb.file]) for wb in workbooks]


def test_real_feedback_reads_the_same_through_every_reader(corpus_feedback: list, tmp_path: Path) -> None:
    assert sum(len(f) for _, f in corpus_feedback) > 0  # the corpus carries findings to colour
    for workbook, findings in corpus_feedback:
        _same_reading(*_both(tmp_path, workbook, findings))


def test_hand_made_findings_read_the_same_and_neutralized(tmp_path: Path) -> None:
    """The findings of tests/test_feedback.py (every severity, dangerous text, merged 汇总 lines)."""
    old, new = _both(tmp_path, _workbook(), _findings())
    _same_reading(old, new)
    texts = [v for rows in cast(dict, facts(new)["calamine"]).values() for row in rows for v in row]
    assert "'" + '=HYPERLINK("http://x","y")' in texts
    assert not any(isinstance(v, str) and v and v[0] in "=+-@" for v in texts)
    unreadable = _workbook(readable=False)
    _same_reading(*_both(tmp_path, unreadable, _findings()))


def test_the_same_inputs_give_the_same_bytes(tmp_path: Path) -> None:
    a = write_feedback(_workbook(), _findings(), tmp_path / "a").read_bytes()
    b = write_feedback(_workbook(), _findings(), tmp_path / "b").read_bytes()
    assert a == b
    assert write_feedback(_workbook(), _findings()[:2], tmp_path / "c").read_bytes() != a


def test_the_package_is_complete_and_well_formed(tmp_path: Path) -> None:
    data = write_feedback(_workbook(), _findings(), tmp_path).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        names = package.namelist()
        types = package.read("[Content_Types].xml").decode()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        workbook_xml = package.read("xl/workbook.xml").decode()
        for name in names:
            if name.endswith(".xml") and not name.startswith("["):
                assert f'PartName="/{name}"' in types, name
            assert package.getinfo(name).date_time == (1980, 1, 1, 0, 0, 0)
        for target in re.findall(r'Target="([^"]+)"', rels):
            assert f"xl/{target}" in names
        sheets = re.findall(r'<sheet name="([^"]+)" sheetId="(\d+)" r:id="(rId\d+)"/>', workbook_xml)
        assert [s[0] for s in sheets] == ["汇总", "部门整体核心指标", "项目支出指标"]
        assert package.read("xl/styles.xml") == house_styles()[0]
        sst = package.read("xl/sharedStrings.xml").decode()
    count, unique = map(int, re.search(r'count="(\d+)" uniqueCount="(\d+)"', sst).groups())  # type: ignore[union-attr]
    assert unique == sst.count("<si>") and count >= unique


@pytest.mark.parametrize(
    "text",
    ["a&b<c>", " edge ", "tab\tend", "_x0041_", "ctl\x01\x0b", "line\nbreak ", "\ufffe", "<r>rich</r>"],
)
def test_shared_strings_read_as_xlsxwriter_writes_them(text: str, tmp_path: Path) -> None:
    """A text needing care (escaped as xlsxwriter escapes it: control characters as _xHHHH_, a literal
    escape kept literal) reads as from xlsxwriter's file, in openpyxl and in calamine (which disagree on
    _xHHHH_); a text looking like a rich string stays text (xlsxwriter would write it as XML)."""

    def read(data: bytes) -> tuple[object, object]:
        sheet = openpyxl.load_workbook(io.BytesIO(data))["s"]
        calamine = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("s").to_python()
        return sheet["B1"].value, calamine[0][1]

    book = DirectBook()
    book.write_row(book.add_sheet("s"), 0, ["plain", text])
    with xlsx_book(tmp_path / "xlsxwriter.xlsx") as ref:
        ref.write_row(ref.add_sheet("s"), 0, ["plain", text])
    if text.startswith("<r>"):
        assert read(book.bytes()) == (text, text)
    else:
        assert read(book.bytes()) == read((tmp_path / "xlsxwriter.xlsx").read_bytes())


def test_a_text_the_fast_join_misses_is_still_escaped() -> None:
    """The one-search test over the joined table flags any text needing care (no false negative)."""
    xml = shared_strings_xml(["ok", "a&b", "x "], references=3)
    assert "<si><t>a&amp;b</t></si>" in xml
    assert '<si><t xml:space="preserve">x </t></si>' in xml


def test_the_zip_is_read_by_zipfile() -> None:
    data = zip_bytes([("a.xml", b"<a/>" * 100), ("b/c.xml", b"")])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert z.read("a.xml") == b"<a/>" * 100 and z.read("b/c.xml") == b""


def test_a_column_landing_on_written_cells_is_refused() -> None:
    book = DirectBook()
    ws = book.add_sheet("s")
    book.write(ws, 2, 0, "x")
    book.put_column(ws, 1, 0, ["a", "b"], [None, None])
    with pytest.raises(ValueError, match="lands on cells"):
        book.bytes()


@pytest.mark.parametrize("seed", range(4))
def test_columns_with_gaps_read_as_from_xlsxwriter(seed: int, tmp_path: Path) -> None:
    """Columns of text, numbers, blanks with and without a style, placed with gaps between them and
    below rows written singly: the cells without a reference land where xlsxwriter puts them."""
    import random

    rng = random.Random(seed)
    pool: list[object] = ["甲", "乙", " edge ", "a&b", 7, -2.5, 0, None, None, None]
    names = [None, None, "wrap", "error", "warning", "excluded"]
    placed = sorted(rng.sample(range(9), 6))
    columns = [
        ([rng.choice(pool) for _ in range(30)], [rng.choice(names) for _ in range(30)]) for _ in placed
    ]

    def draw(book: Any) -> None:
        ws = book.add_sheet("表")
        book.write_row(ws, 0, ["标题", None, 3], "header")
        book.write_merged(ws, 1, 1, 4, "合并", "wrap")
        for col, (cells, formats) in zip(placed, columns, strict=True):
            book.put_column(ws, 3, col, cells, formats)
        ws.freeze_panes(3, 1)
        ws.autofilter(2, 0, 33, 8)

    direct = DirectBook()
    draw(direct)
    with xlsx_book(tmp_path / "xlsxwriter.xlsx") as ref:
        draw(ref)
    _same_reading((tmp_path / "xlsxwriter.xlsx").read_bytes(), direct.bytes())
