"""Read: a department workbook → rows with provenance. Nothing is evaluated; sizes are bounded first.

The workbook is untrusted, and is read in the order its bytes are trusted:

1. the container (pipelines.intake.container): the file checked as a plain zip, every member
   stream-decompressed with a running byte count, worksheet XML scanned for cells beyond the bounds
   (pipelines.intake.extent) and the shared-string table's declared counts held to the bytes there —
   all before any spreadsheet parser sees the file (bounds and their wording: pipelines.intake.bounds);
2. the sheets (pipelines.intake.sheets): matched by name, read by python-calamine (cached formula values
   only, macros ignored); the 部门信息 pairs (pipelines.intake.department_info);
3. for each indicator sheet, its header row and what each column holds (pipelines.intake.headers), then
   its data rows (pipelines.intake.data_rows, pipelines.intake.rows) with the cells as the official sees
   them (pipelines.intake.cells, pipelines.intake.percent) and the parsed target (pipelines.intake.targets).

The result is a Workbook (pipelines.intake.workbook). Nothing is dropped unsaid: an unknown header is an
info finding (I403), a field written twice a warning (W217), and the values of those columns stay with each
row in extra_json. Whatever a parser still raises on bad bytes is one file error (F001); what Python cannot
catch (a native abort, the OOM killer, a hang) is contained by pipelines.intake.safe_parse.
"""

from __future__ import annotations

from pathlib import Path

import python_calamine

from pipelines.common.hashing import sha256_file
from pipelines.intake.bounds import Refused, human_bytes, limit_note, refusal, short_error
from pipelines.intake.container import check_container
from pipelines.intake.sheets import read_sheets
from pipelines.intake.workbook import Workbook
from schemas.vocab import reference


def read_workbook(path: Path) -> Workbook:
    """Read one submission workbook. Problems become findings on the Workbook; nothing is raised for bad
    input (a missing file does raise FileNotFoundError: that is the caller's mistake, not the department's).

    Whatever a parser raises on bad bytes (a zip version zipfile does not know, an XML encoding expat
    refuses, a date calamine cannot convert…) is one file error for this workbook. MemoryError is left to
    the caller (pipelines.intake.safe_parse turns it into F012), as is a native abort, which no Python code
    here can catch: that is why workbooks are parsed in worker processes.
    """
    path = Path(path)
    book = Workbook(path=path, file=path.name, sha256="", readable=False)
    try:
        return _read_workbook(path, book)
    except (FileNotFoundError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - untrusted bytes: any parser failure is this file's error
        return _set_aside(book, "F001", f"工作簿内容无法解析，文件可能已损坏（{short_error(exc)}）")


def _read_workbook(path: Path, book: Workbook) -> Workbook:
    limits = reference().limits
    size = path.stat().st_size
    if size > limits["max_file_bytes"]:
        book.findings.append(
            refusal(book.file, "F002", f"{limit_note('max_file_bytes')}；本文件 {human_bytes(size)}")
        )
        return book
    book.sha256 = sha256_file(path)
    try:
        layout = check_container(path, limits)
    except Refused as refused:
        book.findings.append(refusal(book.file, refused.code, refused.detail))
        return book
    try:
        calamine = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - calamine raises CalamineError, ValueError, OverflowError…
        book.findings.append(refusal(book.file, "F001", f"无法解析工作簿结构（{short_error(exc)}）"))
        return book
    with calamine:
        try:
            read_sheets(book, calamine, layout, limits)
        except Refused as refused:
            return _set_aside(book, refused.code, refused.detail, refused.sheet)
    book.readable = True
    return book


def _set_aside(book: Workbook, code: str, detail: str, sheet: str = "") -> Workbook:
    """Forget whatever was read: the workbook is set aside with this one finding."""
    book.sheets.clear()
    book.info.clear()
    book.info_cells.clear()
    book.readable = False
    book.findings = [refusal(book.file, code, detail, sheet)]
    return book
