"""The reader on hostile and broken files: not an xlsx, corrupt zips, zip bombs, far-away cells, macros —
each refused before any parser trusts it, with bounded memory."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from pipelines.intake.read import read_workbook
from schemas.vocab import reference
from tests.read_helpers import codes, read_ok
from tests.xlsx_builders import (
    core_row,
    default_info,
    project_row,
    write_far_cell_workbook,
    write_workbook,
    write_zip_bomb,
)

# --- hostile and broken files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        ("项目名称,三级指标,目标值\n甲,人次,100\n".encode("gb18030"), "CSV"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (bytes(range(256)) * 4, "无法识别"),
        (b"", "空"),
        (b"%PDF-1.7\n", "PDF"),
    ],
)
def test_not_an_xlsx_is_f001(tmp_path: Path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(content)
    book = read_workbook(path)
    assert not book.readable
    assert codes(book) == ["F001"]
    assert looks_like in book.findings[0].value
    assert book.sheets == {} and book.info == {}


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    book = read_workbook(path)
    assert codes(book) == ["F001"] and "Word" in book.findings[0].value


def test_truncated_and_corrupt_zip(tmp_path: Path) -> None:
    good = write_workbook(
        tmp_path / "good.xlsx", default_info(), [core_row()], [project_row() for _ in range(50)]
    ).path
    data = good.read_bytes()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    book = read_workbook(truncated)
    assert not book.readable and codes(book) == ["F001"]

    # Same size, central directory intact, but a member's compressed bytes flipped: CRC or inflate fails.
    corrupt = bytearray(data)
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + min(info.compress_size, 400)):
        corrupt[k] ^= 0x5A
    bad = tmp_path / "corrupt.xlsx"
    bad.write_bytes(bytes(corrupt))
    book = read_workbook(bad)
    assert not book.readable and codes(book) == ["F001"]
    assert "sheet3.xml" in book.findings[0].value


@pytest.fixture(scope="module")
def ratio_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 300 MB of worksheet XML (more than the total bound too) in a file well under 1 MB.
    return write_zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 300 << 20)


def test_zip_bomb_ratio_is_refused_with_bounded_memory(ratio_bomb: Path) -> None:
    bomb = ratio_bomb
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        book = read_workbook(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not book.readable
    assert codes(book) == ["F002"]
    assert "压缩比" in book.findings[0].message
    assert peak < 200 << 20


def test_zip_bomb_total_size_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    limit = reference().limits["max_uncompressed_bytes"]
    bomb = write_zip_bomb(tmp_path / "bomb2.xlsx", limit + (8 << 20), compressible=False)
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    assert (
        info.file_size < reference().limits["max_compression_ratio"] * info.compress_size
    )  # ratio alone passes
    tracemalloc.start()
    try:
        book = read_workbook(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes(book) == ["F002"] and not book.readable
    assert "解压后" in book.findings[0].message
    assert peak < 200 << 20


def test_declared_sizes_that_lie_do_not_help(tmp_path: Path, ratio_bomb: Path) -> None:
    """The central directory claims a tiny uncompressed size; the bytes actually inflated are counted."""
    bomb = ratio_bomb
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    # Patch the zip64 extra field's uncompressed size in the central directory to 1000 bytes.
    needle = info.file_size.to_bytes(8, "little")
    at = data.rfind(needle)
    assert at > info.header_offset
    data[at : at + 8] = (1000).to_bytes(8, "little")
    liar = tmp_path / "liar2.xlsx"
    liar.write_bytes(bytes(data))
    book = read_workbook(liar)
    assert codes(book) == ["F002"] or codes(book) == ["F001"]  # refused either as too big or inconsistent
    assert not book.readable


def test_far_away_cell_is_refused_before_the_parser_allocates(tmp_path: Path) -> None:
    # calamine would allocate a dense 1,048,576 × 16,384 grid for this 5 KB file and abort the process.
    book = read_workbook(write_far_cell_workbook(tmp_path / "far.xlsx"))
    assert codes(book) == ["F002"] and not book.readable
    book = read_workbook(write_far_cell_workbook(tmp_path / "wide.xlsx", "GS1"))  # column 201
    assert codes(book) == ["F002"] and "列" in book.findings[0].message
    book = read_workbook(write_far_cell_workbook(tmp_path / "long.xlsx", "A200001"))
    assert codes(book) == ["F002"] and "200001" in book.findings[0].message
    # Within the row and column bounds, but the sheet's range (rows × columns) is over the cell budget.
    book = read_workbook(write_far_cell_workbook(tmp_path / "square.xlsx", "GR199999"))
    assert codes(book) == ["F002"] and "199999 行 × 200 列" in book.findings[0].message
    for cell in ("A200000", "GR1000"):  # at the row bound; at the column bound
        book = read_workbook(write_far_cell_workbook(tmp_path / f"{cell}.xlsx", cell))
        assert book.readable, (cell, book.findings)


def test_cells_without_references_are_bounded_exactly(tmp_path: Path) -> None:
    """Rows/cells may omit r= (position implied); the bound must hold for them too."""
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    limit = reference().limits["max_columns_per_sheet"]
    cells = "".join('<c t="inlineStr"><is><t>x</t></is></c>' for _ in range(limit + 1))
    sheet = f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>{cells}</row></sheetData></worksheet>'
    out = tmp_path / "positional.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, sheet if info.filename == "xl/worksheets/sheet3.xml" else zin.read(info))
    book = read_workbook(out)
    assert codes(book) == ["F002"] and not book.readable


def test_too_many_zip_entries(tmp_path: Path) -> None:
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    out = tmp_path / "many.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        for i in range(reference().limits["max_zip_entries"]):
            zout.writestr(f"customXml/item{i}.xml", "")
    book = read_workbook(out)
    assert codes(book) == ["F002"] and "2000" in book.findings[0].message


def test_macros_are_ignored(tmp_path: Path) -> None:
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    out = tmp_path / "macro.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"Sub AutoOpen()" * 100)
    book = read_ok(out)
    assert book.findings == [] and len(book.sheets["project"].frame) == 1
