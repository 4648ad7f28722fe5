"""Hostile inputs shared by the reader's robustness tests (tests/test_read_fuzz.py, tests/test_safe_parse.py,
tests/test_parse_cache.py): seed workbooks, zip and XML editors, the four crashes of the held-out fuzzing
campaign, and what "one file error" means."""

from __future__ import annotations

import datetime
import io
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import xlsxwriter

from pipelines.demo.build import write_demo_year
from pipelines.demo.catalogue import DEMO_YEARS
from pipelines.intake.inbox import submission_files
from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import WorkerLimits
from pipelines.intake.template import write_template
from pipelines.intake.workbook import Workbook
from schemas.vocab import reference
from tests.xlsx_builders import core_row, default_info, english_columns, header_zh, project_row

SMALL_LIMITS = WorkerLimits(memory_bytes=1 << 30, timeout_seconds=60, workers=2)
REFUSED = {"F001", "F002", "F012"}


def write_seed(path: Path) -> Path:
    """A filled workbook as Excel writes it (shared strings, a date-formatted cell in the project sheet)."""
    wb = xlsxwriter.Workbook(path)
    info = wb.add_worksheet("部门信息")
    info.write_row(0, 0, ["项目", "内容"])
    info_zh = {spec.column: spec.header_zh for spec in reference().columns["info"]}
    for r, (key, value) in enumerate(default_info().items(), start=1):
        info.write_row(r, 0, [info_zh.get(key, key), value])
    for kind, row, name in (
        ("core", core_row(), "部门整体核心指标"),
        ("project", project_row(), "项目支出指标"),
    ):
        ws = wb.add_worksheet(name)
        cols = english_columns(kind)
        ws.write_row(0, 0, [header_zh(kind, c) for c in cols])
        ws.write_row(1, 0, [row.get(c) for c in cols])
    ws.write_datetime(
        1, len(cols) + 1, datetime.datetime(2024, 1, 1), wb.add_format({"num_format": "[h]:mm:ss"})
    )
    wb.close()
    return path


def make_seeds(folder: Path) -> dict[str, bytes]:
    """The seed workbooks every mutation starts from."""
    demo = submission_files([write_demo_year(folder / "demo", DEMO_YEARS[0])])
    readable = [p for p in demo if read_workbook(p).readable]
    return {
        "template": write_template(folder / "template.xlsx").read_bytes(),
        "filled": write_seed(folder / "filled.xlsx").read_bytes(),
        # A department's habits: merged cells, title rows, percent formats, Traditional text.
        "demo": max(readable, key=lambda p: p.stat().st_size).read_bytes(),
    }


def rezip(data: bytes, edit: Callable[[str, bytes], bytes]) -> bytes:
    """The same members, each passed through edit(name, bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
    return out.getvalue()


def in_member(member: str, fn: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda name, body: fn(body) if name == member else body


def patch_headers(
    data: bytes, signature: bytes, offset: int, fmt: str, value: int, *, first_only: bool = True
) -> bytes:
    """Overwrite a field of the zip's local (PK\\3\\4) or central (PK\\1\\2) headers."""
    out = bytearray(data)
    for m in re.finditer(re.escape(signature), data):
        struct.pack_into(fmt, out, m.start() + offset, value)
        if first_only:
            break
    return bytes(out)


def project_sheet(name: str, body: bytes) -> bool:
    return name == "xl/worksheets/sheet3.xml"


def assert_one_file_error(book: Workbook) -> None:
    assert not book.readable
    assert len(book.findings) == 1, book.findings
    (finding,) = book.findings
    assert finding.code in REFUSED and finding.severity == "file_error"
    assert finding.file == book.file and finding.message and not finding.message.isascii()


def assert_read_or_one_file_error(book: Workbook) -> None:
    if not book.readable:
        assert_one_file_error(book)


BILLION = b"4294967295"
CRASHES: dict[str, Callable[[dict[str, bytes]], bytes]] = {
    # calamine reserved memory for the declared count: "memory allocation of 103079215080 bytes failed".
    "shared_strings_count": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/sharedStrings.xml",
            lambda b: re.sub(rb'uniqueCount="\d+"', b'uniqueCount="' + BILLION + b'"', b),
        ),
    ),
    # zipfile: NotImplementedError("zip file version 25.5").
    "zip_version": lambda s: patch_headers(s["filled"], b"PK\x01\x02", 6, "<H", 255),
    # ElementTree: ValueError("multi-byte encodings are not supported").
    "multibyte_encoding": lambda s: rezip(
        s["filled"],
        in_member("xl/workbook.xml", lambda b: re.sub(rb'encoding="[^"]*"', b'encoding="GBK"', b)),
    ),
    # calamine's duration conversion: OverflowError("days=2147483647; must have magnitude <= 999999999").
    "date_overflow": lambda s: rezip(
        s["filled"],
        in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b"<v>45292</v>", b"<v>2147483647</v>")),
    ),
}
