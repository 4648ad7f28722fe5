"""review.xlsx, committed in every release, is deflated at xlsx_zip.COMMITTED_LEVEL and its rows carry no
implied numbers (git cannot shrink deflated parts): the same cells as xlsxwriter's package, fewer bytes,
the same bytes on a rerun."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from pipelines.common.xlsx_zip import COMMITTED_LEVEL, redeflated
from pipelines.report import review_xlsx
from pipelines.report.build import write_annual_report
from pipelines.report.tables import review_tables
from tests.test_report import YEAR, sample_inputs


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("report") / "reports" / str(YEAR)
    write_annual_report(out, sample_inputs())
    return (out / "review.xlsx").read_bytes()


def deflated(data: bytes, level: int) -> bytes:
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    return deflate.compress(data) + deflate.flush()


def test_every_part_is_deflated_at_the_committed_level(review: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(review)) as package:
        entries = package.infolist()
        assert any(e.filename.startswith("xl/worksheets/") for e in entries)
        for entry in entries:
            assert entry.compress_type == zipfile.ZIP_DEFLATED
            data = package.read(entry)
            assert entry.compress_size == len(deflated(data, COMMITTED_LEVEL)), entry.filename


def test_redeflated_keeps_the_package_and_is_smaller(review: bytes) -> None:
    """At level 6 (xlsxwriter's) and back at the committed level: the same names, order, dates, attributes
    and part bytes; the committed package smaller; redeflating a package again gives the same bytes."""
    level6 = redeflated(review, 6)
    assert redeflated(level6) == review == redeflated(review)
    with zipfile.ZipFile(io.BytesIO(level6)) as a, zipfile.ZipFile(io.BytesIO(review)) as b:
        pairs = list(zip(a.infolist(), b.infolist(), strict=True))
        for x, y in pairs:
            assert (x.filename, x.date_time, x.external_attr) == (y.filename, y.date_time, y.external_attr)
            assert a.read(x) == b.read(y)
        assert sum(y.compress_size for _, y in pairs) < sum(x.compress_size for x, _ in pairs)


def test_the_workbook_reads_as_before(review: bytes, tmp_path: Path) -> None:
    """Readers open the committed package like one at xlsxwriter's level: every sheet, every cell."""
    path, old = tmp_path / "review.xlsx", tmp_path / "level6.xlsx"
    path.write_bytes(review)
    old.write_bytes(redeflated(review, 6))
    new_book, old_book = openpyxl.load_workbook(path), openpyxl.load_workbook(old)
    assert new_book.sheetnames == old_book.sheetnames and "问题明细" in new_book.sheetnames
    for name in new_book.sheetnames:
        new_rows = list(new_book[name].iter_rows(values_only=True))
        assert new_rows == list(old_book[name].iter_rows(values_only=True))
        assert new_rows


def cells(path: Path, engine: str) -> dict[str, list[list[object]]]:
    frames = pd.read_excel(path, sheet_name=None, header=None, engine=engine)
    return {
        name: frame.astype(object).where(frame.notna(), None).values.tolist()
        for name, frame in frames.items()
    }


def without_spans(path: Path) -> None:
    """The package with its rows' optional spans attribute left out."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info, re.sub(rb' spans="[^"]*"', b"", data))


def test_rows_without_numbers_read_as_numbered(tmp_path: Path) -> None:
    """Gaps, a row with a height, a first row further down: each reader puts every cell where the numbered
    package has it; only a row right after the one before loses its number."""
    numbered = tmp_path / "numbered.xlsx"
    book = xlsxwriter.Workbook(numbered, {"in_memory": True})
    sheet = book.add_worksheet("甲")
    for row in (2, 3, 4, 7, 8, 9, 20):
        sheet.write_row(row, 0, [f"r{row}", row, f'<row r="{row}">'])
    sheet.set_row(8, 30)  # a height: <row r="9" ht=… customHeight=…> keeps its number
    book.add_worksheet("乙").write_column(0, 1, ["a", "b", "c"])
    book.close()
    without_spans(numbered)  # as the compact writer numbers rows: <row r="N">
    bare = tmp_path / "bare.xlsx"
    bare.write_bytes(redeflated(numbered.read_bytes(), bare_rows=True))
    with zipfile.ZipFile(bare) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert xml.count("<row>") == 2  # rows 4, 5 of 3, 4, 5, 8, 9 (a height), 10, 21: 10 follows a height
    assert re.findall(r'<row r="(\d+)"', xml) == ["3", "8", "9", "10", "21"]
    for engine in ("openpyxl", "calamine"):
        assert cells(bare, engine) == cells(numbered, engine), engine


def test_review_rows_read_as_xlsxwriter_numbered_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """review.xlsx as written (compact rows, written bare) and as xlsxwriter's own package (every row
    numbered, every cell referenced, level 6): the same cells."""
    inputs = sample_inputs()
    tables = review_tables(inputs)
    written = review_xlsx.write_review_xlsx(tmp_path, inputs, tables).rename(tmp_path / "written.xlsx")
    monkeypatch.setattr(review_xlsx, "COMMITTED_LEVEL", 6)  # xlsxwriter's level (committed_book)
    block = review_xlsx.write_table_block
    monkeypatch.setattr(
        review_xlsx, "write_table_block", lambda *a, **k: block(*a, **{**k, "compact": False})
    )
    numbered = review_xlsx.write_review_xlsx(tmp_path, inputs, tables)
    names = openpyxl.load_workbook(written, read_only=True).sheetnames
    with zipfile.ZipFile(written) as package:
        details = package.read(f"xl/worksheets/sheet{names.index('问题明细') + 1}.xml")
    with zipfile.ZipFile(numbered) as package:
        assert b'<row r="3" spans="' in package.read(f"xl/worksheets/sheet{names.index('问题明细') + 1}.xml")
    assert b"<row>" in details and b'<row r="3"' not in details
    for engine in ("openpyxl", "calamine"):
        assert cells(written, engine) == cells(numbered, engine), engine
