"""The container's extent scan (pipelines.intake.extent) judges every window as the plain patterns it
replaced did: the same references beyond the bounds, the same windows with rows or cells placed by
position. The faster patterns (atomic letters, a digits look-ahead, one pattern per tag) are checked
against those plain ones on random windows built from the characters that matter, and on a real sheet."""

from __future__ import annotations

import random
import re
import zipfile
from pathlib import Path

import pytest

from pipelines.common.columns import col_letter
from pipelines.intake.bounds import Refused, max_cells
from pipelines.intake.extent import _LETTERS, _greater_than, scan_extents, scan_patterns
from schemas.vocab import reference
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

LIMITS = reference().limits


def _plain_patterns(limits: dict[str, int]) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """The patterns as first written: no atomic group, no look-ahead, both tags in one pattern."""
    tall_rows = min(limits["max_rows_per_sheet"], max_cells(limits) // limits["max_columns_per_sheet"])
    rows = _greater_than(str(tall_rows), "0123456789")
    cols = _greater_than(col_letter(limits["max_columns_per_sheet"] - 1), _LETTERS)
    too_far = re.compile(rb' r="(?:(?:' + cols + rb")[0-9]|[A-Z]{0,3}(?:" + rows + rb")(?![0-9]))")
    return too_far, re.compile(rb'<(?:c|row)[\s/>](?!r=")')


def _plain_scan(window: bytes) -> tuple[list[int], bool]:
    too_far, positional = _plain_patterns(LIMITS)
    starts = [m.start() for m in too_far.finditer(window)]
    return starts, any(m.end() + 4 <= len(window) for m in positional.finditer(window))


def _scan(window: bytes) -> tuple[list[int], bool]:
    patterns = scan_patterns(LIMITS)
    starts = [m.start() for m in patterns.too_far.finditer(window)]
    found = any(m.end() + 5 <= len(window) for p in patterns.positional for m in p.finditer(window))
    return starts, found


def _reference_text(rng: random.Random) -> bytes:
    tall = scan_patterns(LIMITS).tall_rows
    pieces = [
        b' r="',
        b'"',
        b"<c",
        b"<row",
        b"<c r=",
        b"<row r=",
        b" ",
        b"\t",
        b"/",
        b">",
        b"r=",
        b"<col",
        str(tall).encode(),
        str(tall + 1).encode(),
        str(tall - 1).encode(),
        b"0",
    ]
    alphabet = b"ABGHRSXZ0156789"
    out = []
    for _ in range(rng.randint(1, 8)):
        if rng.random() < 0.5:
            out.append(rng.choice(pieces))
        else:
            out.append(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 7))))
    return b"".join(out)


def test_random_windows_judged_as_the_plain_patterns() -> None:
    rng = random.Random(15)
    differing = []
    for _ in range(60_000):
        window = _reference_text(rng)
        if _scan(window) != _plain_scan(window):
            differing.append(window)
    assert differing == []


def test_references_near_the_bounds() -> None:
    tall = scan_patterns(LIMITS).tall_rows
    last_col = col_letter(LIMITS["max_columns_per_sheet"] - 1)
    beyond_col = col_letter(LIMITS["max_columns_per_sheet"])
    windows = [
        f'<c r="A{tall}"/>'.encode(),
        f'<c r="A{tall + 1}"/>'.encode(),
        f'<c r="{last_col}1"/>'.encode(),
        f'<c r="{beyond_col}1"/>'.encode(),
        f'<c r="AB{tall * 10}"/>'.encode(),
        f'<row r="{tall + 1}">'.encode(),
        b'<row><c t="s"><v>0</v></c></row>',
        b'<c\tr="A1"/><row\nr="1">',
        b'<sheetData><row r="1"><c r="A1"/></row></sheetData><c',
    ]
    for window in windows:
        assert _scan(window) == _plain_scan(window), window
    # Beyond the column bound is refused by the scan itself.
    with pytest.raises(Refused):
        scan_extents(f'<c r="{beyond_col}1"/>'.encode(), scan_patterns(LIMITS), LIMITS)
    assert scan_extents(f'<row r="{tall + 1}">'.encode(), scan_patterns(LIMITS), LIMITS)[0] == tall + 1
    assert scan_extents(b"<row><c/></row>", scan_patterns(LIMITS), LIMITS)[1]
    assert not scan_extents(b'<row r="1"><c r="A1"/></row>', scan_patterns(LIMITS), LIMITS)[1]


def test_a_real_sheet_judged_as_the_plain_patterns(tmp_path: Path) -> None:
    rows = [project_row(project=f"项目{i}") for i in range(40)]
    path = write_workbook(tmp_path / "a.xlsx", default_info(), [core_row()] * 12, rows).path
    with zipfile.ZipFile(path) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")]
    assert len(sheets) >= 3
    for xml in sheets:
        assert _scan(xml) == _plain_scan(xml)
        for cut in range(0, len(xml), 97):  # windows ending anywhere, as the streaming pass sees them
            assert _scan(xml[:cut]) == _plain_scan(xml[:cut])
