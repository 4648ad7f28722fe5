"""The zip around an xlsx package, written directly: entries deflated in order, every one dated
1980-01-01 00:00 (the same parts give the same bytes), parts that never change deflated once per process.

Deflate level 1 for the parts written per workbook: on feedback workbooks (≈ 150 KB of XML each) it
takes a third of level 6's CPU (≈ 0.7 ms against ≈ 2.1 ms) for files ≈ 12 % larger; the outbox is not
committed, so the CPU matters more than the bytes. A committed workbook (review.xlsx)
is the other way round: every release adds its bytes to the repo for good, and git cannot shrink deflated
parts, so those are deflated again at COMMITTED_LEVEL (redeflated; its rows are written without implied
numbers: xlsx_rows.RowBlockSheet.compact).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Sequence
from functools import cache

ZIP_LEVEL = 1  # deflate level of the parts written per workbook
# Deflate level of a workbook committed in every release (redeflated). review.xlsx of a 100k-row year, rows
# without numbers: level 6 (xlsxwriter's) 512 KiB, 7 497, 8 464, 9 461; redeflating at 7 costs 0.13 s CPU
# (100k rows) and 0.52 s (300k), at 9 0.33 and 1.33 s: 7 keeps most of the bytes for the report's time.
COMMITTED_LEVEL = 7
Packed = tuple[int, int, bytes]  # a part deflated: CRC-32, uncompressed size, raw deflate stream
_DOS_DATE = (1 << 5) | 1  # 1980-01-01 (time 00:00:00): a fixed timestamp on every entry


def pack(data: bytes, level: int = ZIP_LEVEL) -> Packed:
    deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    return zlib.crc32(data), len(data), deflate.compress(data) + deflate.flush()


@cache
def packed_constant(data: bytes) -> Packed:
    """A part that never changes (styles, theme, root rels), deflated once per process, at level 9."""
    return pack(data, 9)


def zip_bytes(parts: Sequence[tuple[str, bytes | Packed]]) -> bytes:
    """A zip of the parts (ASCII names) in order, every entry deflated and dated 1980-01-01."""
    out, central = io.BytesIO(), []
    for name, part in parts:
        crc, size, data = part if isinstance(part, tuple) else pack(part)
        raw = name.encode("ascii")
        offset = out.tell()
        # version needed, flags, method (deflate), time, date, CRC, sizes, name length, extra length
        fields = (20, 0, 8, 0, _DOS_DATE, crc, len(data), size, len(raw), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + raw)
        out.write(data)
        # version made by, the same fields, comment length, disk, internal and external attributes, offset
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory), start, 0))
    return out.getvalue()


def redeflated(data: bytes, level: int = COMMITTED_LEVEL, bare_rows: bool = False) -> bytes:
    """The same zip package, every entry deflated again at `level`: the same names, order, dates and
    attributes (so the same package gives the same bytes), only the deflate streams change. bare_rows:
    the worksheets' rows without their implied numbers (without_row_numbers: for packages written before
    the compact writers left them out, e.g. benchmarks.growth_variants' replays)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if bare_rows and info.filename.startswith("xl/worksheets/sheet"):
                content = without_row_numbers(content)
            part = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            part.external_attr, part.create_system = info.external_attr, info.create_system
            target.writestr(part, content, zipfile.ZIP_DEFLATED, level)
    return out.getvalue()


_ROW_START = re.compile(rb'<row r="(\d+)">')


def without_row_numbers(sheet: bytes) -> bytes:
    """A worksheet's <row r="N"> written <row> where N follows the row before, as its cells already carry
    no reference (ECMA-376 18.3.1.73: a row's r is optional, the next row is meant; openpyxl and calamine
    read it so, tests/test_review_xlsx_deflate.py; Excel and LibreOffice are reported to, e.g.
    ExcelDataReader#115): review.xlsx's findings sheet of a 100k-row year deflates (level 6) to 228 KB
    instead of 299. A row after a gap, or with attributes beyond r (height, style, spans), keeps its
    number, so a bare row always follows the row written before it. `<row r="` only ever starts a tag in
    a worksheet part: text in one is escaped (&lt;)."""
    last = 0

    def bare(match: re.Match[bytes]) -> bytes:
        nonlocal last
        number = int(match.group(1))
        follows, last = number == last + 1, number
        return b"<row>" if follows else match.group(0)

    return _ROW_START.sub(bare, sheet)
