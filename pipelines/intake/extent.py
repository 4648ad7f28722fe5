"""How far a worksheet reaches, judged from its XML before any parser allocates for it.

calamine allocates a dense grid from the largest cell reference: one cell at XFD1048576 in a 5 KB file
would abort the whole process, and one at GR199999 would cost gigabytes. So the worksheet XML is scanned
while it is decompressed for references beyond the row/column bounds and for a range (rows × columns) over
the cell budget. In ordinary sheets nothing matches and the scan runs at regex-engine speed; every match
is re-checked exactly.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from functools import cache
from xml.etree import ElementTree

from pipelines.common.columns import col_index, col_letter
from pipelines.intake.bounds import CHUNK_BYTES, check_cells, check_extent, max_cells

WINDOW_OVERLAP = 96  # bytes carried from one chunk to the next: a reference cut at the border is whole again
_REF = re.compile(rb' r="([A-Z]*)([0-9]*)')
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class ScanPatterns:
    # A cell/row reference beyond the column bound or beyond the "tall" row threshold.
    too_far: re.Pattern[bytes]
    # A <c>/<row> whose first attribute is not r (position implied), one pattern a tag: each has a literal
    # start ("<c", "<row") the regex engine skips to, where "<" alone stopped it at every tag.
    positional: tuple[re.Pattern[bytes], ...]
    tall_rows: int  # rows beyond which the cell budget can be exceeded (max_cells // max_columns)


def scan_patterns(limits: dict[str, int]) -> ScanPatterns:
    return _scan_patterns(limits["max_rows_per_sheet"], limits["max_columns_per_sheet"], max_cells(limits))


@cache
def _scan_patterns(max_rows: int, max_cols: int, max_cells: int) -> ScanPatterns:
    tall_rows = min(max_rows, max_cells // max_cols)
    rows = _greater_than(str(tall_rows), "0123456789")
    cols = _greater_than(col_letter(max_cols - 1), _LETTERS)
    # The literal ' r="' first lets the regex engine skip quickly. The letters are taken at once (atomic:
    # giving one back never lets digits match) and a row reference needs as many digits as the threshold
    # before its branches are tried: every ordinary reference fails at its first digits (≈ 30 % less CPU).
    digits = rb"(?=[0-9]{%d})" % len(str(tall_rows))
    too_far = re.compile(
        rb' r="(?:(?:' + cols + rb")[0-9]|(?>[A-Z]{0,3})" + digits + rb"(?:" + rows + rb")(?![0-9]))"
    )
    # Where "<c" and the character after it were matched, (?=…)(?!…) match the same tags, one byte shorter.
    positional = tuple(re.compile(tag + rb'(?=[\s/>])(?![\s/>]r=")') for tag in (rb"<c", rb"<row"))
    return ScanPatterns(too_far, positional, tall_rows)


def scan_extents(window: bytes, patterns: ScanPatterns, limits: dict[str, int]) -> tuple[int, bool]:
    """Refuse a reference beyond the bounds. Returns (largest row referenced beyond the tall threshold,
    whether the window has rows/cells placed by position)."""
    tallest = 0
    for m in patterns.too_far.finditer(window):
        ref = _REF.match(window, m.start())
        if ref:
            letters, digits = ref.group(1).decode(), ref.group(2).decode()
            row = int(digits or 0)
            check_extent(row, col_index(letters) + 1 if letters else 0, limits)
            if row > patterns.tall_rows:
                tallest = max(tallest, row)
    # A tag cut by the window's end cannot be judged yet: the next window starts WINDOW_OVERLAP bytes earlier.
    # (The patterns' matches end before the character after the tag name, hence + 5.)
    positional = any(m.end() + 5 <= len(window) for p in patterns.positional for m in p.finditer(window))
    return tallest, positional


def check_tall_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, rows: int, limits: dict[str, int]) -> None:
    """A sheet reaching row `rows` may use only max_cells // rows columns: one more streaming pass over it
    looks for a reference beyond that column (only sheets taller than the threshold get here)."""
    allowed = max_cells(limits) // rows
    if allowed >= limits["max_columns_per_sheet"]:
        return
    wide = re.compile(rb' r="(?:' + _greater_than(col_letter(allowed - 1), _LETTERS) + rb")[0-9]")
    tail = b""
    with zf.open(info) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            m = wide.search(window)
            if m:
                ref = _REF.match(window, m.start())
                cols = col_index(ref.group(1).decode()) + 1 if ref else allowed + 1
                check_cells(rows, cols, limits)
            tail = window[-WINDOW_OVERLAP:]


def _greater_than(bound: str, alphabet: str) -> bytes:
    """A regex for strings of `alphabet` that compare greater than `bound` as numbers or column letters:
    longer, or the same length and greater at the first difference. Leading zeros ("0000001") also match;
    every match is re-checked exactly, so that only costs time in a crafted file."""
    n = len(bound)
    cls = f"[{alphabet[0]}-{alphabet[-1]}]"
    branches = [f"{cls}{{{n + 1},}}"]
    for i, ch in enumerate(bound):
        pos = alphabet.index(ch)
        if pos + 1 < len(alphabet):
            branches.append(f"{bound[:i]}[{alphabet[pos + 1]}-{alphabet[-1]}]{cls}{{{n - i - 1}}}")
    return "|".join(branches).encode()


def exact_extent(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """(rows, columns) of worksheet XML that places rows/cells by position, streaming it (rare: no
    mainstream writer omits the references). Applies the same rules calamine does."""
    max_row = max_col = 0
    row = 0
    col = 0
    with zf.open(info) as stream:
        for event, elem in ElementTree.iterparse(stream, events=("start", "end")):
            tag = elem.tag.rsplit("}", 1)[-1]
            if event == "start" and tag == "row":
                r = elem.get("r")
                row = int(r) if r and r.isdigit() else row + 1
                col = 0
                max_row = max(max_row, row)
            elif event == "start" and tag == "c":
                ref = elem.get("r")
                letters = "".join(ch for ch in ref or "" if ch.isalpha())
                digits = "".join(ch for ch in ref or "" if ch.isdigit())
                col = col_index(letters) + 1 if letters else col + 1
                if digits:
                    max_row = max(max_row, int(digits))
                max_col = max(max_col, col)
            elif event == "end" and tag == "row":
                elem.clear()
    return max_row, max_col
