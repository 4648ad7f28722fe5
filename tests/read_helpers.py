"""Small helpers shared by the reader's tests (tests/test_read_*.py)."""

from __future__ import annotations

from pathlib import Path

from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import Workbook

PARSED = ["target_symbol", "target_value", "target_text", "target_unit", "history_json"]
PROVENANCE = ["source_file", "source_sheet", "source_row"]
EXTRA = ["extra_json"]


def read_ok(path: Path) -> Workbook:
    book = read_workbook(path)
    assert book.readable, book.findings
    return book


def codes(book: Workbook) -> list[str]:
    return [f.code for f in book.findings]
