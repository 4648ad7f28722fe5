"""Rows written bare (issue 15): merge_review.xlsx's and review.xlsx's writers leave out a row's number where
it follows the row written before it (ECMA-376 18.3.1.73: r is optional, the next row is meant). The old
layout — every row numbered, as the writers wrote it before — and the new one read as the same cells in
openpyxl (normal and read-only) and in calamine; the old layout is the new one with each bare row given
the number after the row before's (numbered), as the writers gave it."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from pipelines.common import xlsx_out
from pipelines.dedupe.review import write_merge_review
from pipelines.report import review_xlsx
from pipelines.report.tables import review_tables
from tests.test_merge_review_cells import candidates
from tests.test_merge_review_direct import calamine_view, openpyxl_view, special
from tests.test_report import sample_inputs

_ROW = re.compile(rb'<row(?: r="(\d+)")?([ >])')


def renumbered(xml: bytes, shift_at: int = -1) -> bytes:
    """A worksheet with every row numbered: a bare row gets the number after the row before's. shift_at:
    the bare row at that position (0-based among the bare rows) numbered one too far (a wrong layout)."""
    last, bare = 0, -1

    def number(match: re.Match[bytes]) -> bytes:
        nonlocal last, bare
        if match[1] is not None:
            last = int(match[1])
        else:
            bare += 1
            last += 2 if bare == shift_at else 1
        return b'<row r="%d"%s' % (last, match[2])

    return _ROW.sub(number, xml)


def old_layout(data: bytes, shift_at: int = -1) -> bytes:
    """The package with every worksheet's rows numbered (renumbered); every other part as it is."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            part = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                part = renumbered(part, shift_at)
            target.writestr(info, part)
    return out.getvalue()


def rows(data: bytes) -> tuple[int, int]:
    """(bare rows, numbered rows) over the package's worksheets."""
    bare = numbered = 0
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = package.read(name)
                bare += xml.count(b"<row>")
                numbered += xml.count(b"<row r=")
    return bare, numbered


def assert_same_cells(new: bytes, old: bytes) -> None:
    for read_only in (False, True):
        assert openpyxl_view(new, read_only) == openpyxl_view(old, read_only), read_only
    assert calamine_view(new) == calamine_view(old)


@pytest.fixture
def small_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", 40)  # continuation sheets: each body's first row numbered


@pytest.mark.parametrize("frame", ["plain", "special", "continued", "one pair"])
def test_merge_review_reads_as_its_old_layout(
    frame: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if frame == "continued":
        request.getfixturevalue("small_sheets")
    raw = {
        "plain": candidates(300),
        "special": special(200),
        "continued": candidates(150),
        "one pair": candidates(1),
    }
    data = write_merge_review(raw[frame], tmp_path / "merge_review.xlsx").read_bytes()
    old = old_layout(data)
    bare, numbered = rows(data)
    assert bare >= (len(raw[frame]) - 1 if frame != "continued" else 100) and rows(old)[0] == 0
    assert numbered == rows(old)[1] - bare
    assert_same_cells(data, old)


def test_review_xlsx_reads_as_its_old_layout(tmp_path: Path) -> None:
    inputs = sample_inputs()
    data = review_xlsx.write_review_xlsx(tmp_path, inputs, review_tables(inputs)).read_bytes()
    old = old_layout(data)
    assert rows(data)[0] > 0 and rows(old)[0] == 0
    assert_same_cells(data, old)


def test_a_misnumbered_row_is_seen(tmp_path: Path) -> None:
    """The comparison itself: the old layout with one row numbered one too far reads differently."""
    data = write_merge_review(candidates(30), tmp_path / "merge_review.xlsx").read_bytes()
    with pytest.raises(AssertionError):
        assert_same_cells(data, old_layout(data, shift_at=10))
