"""The bounds a workbook must stay within (schemas/reference/limits.csv), and how a refusal reads.

A workbook over a bound, or one no parser can read, is set aside whole with one file finding: F002 names
the bound in the clerk's words (the note_zh of limits.csv), F001 says what is wrong with the file.
"""

from __future__ import annotations

from functools import cache

from pipelines.common.columns import col_letter
from pipelines.common.findings import Finding, make_finding
from schemas.vocab import REFERENCE_DIR, read_reference_csv, reference

CHUNK_BYTES = 1 << 20  # zip members are decompressed in chunks of this size, never whole
DEFAULT_MAX_CELLS = 10_000_000  # used when limits.csv has no max_cells_per_sheet
DEFAULT_MAX_SHARED_STRINGS = 10_000_000  # used when limits.csv has no max_shared_strings
_DEFAULT_NOTES = {
    "max_cells_per_sheet": f"每个工作表的范围（行数×列数）不超过{DEFAULT_MAX_CELLS // 10000}万个单元格",
    "max_shared_strings": f"工作簿中不同的文字内容不超过{DEFAULT_MAX_SHARED_STRINGS // 10000}万条",
}


class Refused(Exception):
    """A bound or the file's structure failed: the workbook is set aside with this finding."""

    def __init__(self, code: str, detail: str, sheet: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.sheet = sheet  # the worksheet at fault, when one is


def refusal(file: str, code: str, detail: str, sheet: str = "") -> Finding:
    """The one finding of a workbook set aside (F001 also shows the detail as its value)."""
    return make_finding(code, file, sheet=sheet, value=detail if code == "F001" else "", detail=detail)


def max_cells(limits: dict[str, int]) -> int:
    return limits.get("max_cells_per_sheet", DEFAULT_MAX_CELLS)


def check_extent(rows: int, cols: int, limits: dict[str, int]) -> None:
    """A cell beyond the last column or row a sheet may use."""
    if cols > limits["max_columns_per_sheet"]:
        raise Refused(
            "F002",
            f"{limit_note('max_columns_per_sheet')}；有单元格在第 {cols} 列（{col_letter(cols - 1)} 列）",
        )
    if rows > limits["max_rows_per_sheet"]:
        raise Refused("F002", f"{limit_note('max_rows_per_sheet')}；有单元格在第 {rows} 行")


def check_cells(rows: int, cols: int, limits: dict[str, int]) -> None:
    """A parser allocates rows × columns cells for a sheet, however few are filled."""
    if rows * cols > max_cells(limits):
        raise Refused("F002", f"{limit_note('max_cells_per_sheet')}；本表范围为 {rows} 行 × {cols} 列")


@cache
def _limit_notes() -> dict[str, str]:
    return {r["name"]: r.get("note_zh", "") for r in read_reference_csv(REFERENCE_DIR / "limits.csv")}


def limit_note(name: str) -> str:
    """The bound in the clerk's words: limits.csv's note, else a default, else the bare value."""
    return _limit_notes().get(name) or _DEFAULT_NOTES.get(name) or f"{name} ≤ {reference().limits[name]}"


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}字节"


def short_error(exc: BaseException) -> str:
    """A parser's message, cut to fit in a finding."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "…"
