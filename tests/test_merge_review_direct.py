"""merge_review.xlsx written directly (review._write_direct: pipelines/common/xlsx_table.py renders the
pair and pattern rows around an xlsxwriter skeleton) is the file xlsxwriter writes (review._write_workbook,
the reference): the same bytes, and — read by openpyxl (normal and read-only) and by calamine — the same
sheets, cells and types, widths, 决定 validation, frozen panes and filters, for varied frames: hostile
texts, missing definition scores, XML specials and control characters, an empty frame, Arrow columns,
continuation sheets past a (patched) sheet limit, chunk boundaries. A frame the direct path does not know
goes to xlsxwriter as before; a decision filled in by openpyxl reads back."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from pipelines.common import xlsx_out, xlsx_table
from pipelines.common.formulas import restore_neutralized
from pipelines.dedupe import review
from pipelines.dedupe.candidates import sort_candidates
from pipelines.dedupe.review import REVIEW_SHEET, read_review, write_merge_review
from tests.test_merge_review_cells import arrow, candidates

SPECIAL = [
    "a&b",
    "<r>rich</r>",
    "x<y>z",
    " edge",
    "edge ",
    "\u3000全角空格",
    "tab\tinside",
    "ctl\x01char",
    "_x0041_ look-alike",
    "line\nbreak",
    "\ufffe",
    "",
    "=1+1",
    "'=quoted",
]


def special(n: int = 300, seed: int = 5) -> pd.DataFrame:
    """candidates() with XML specials, control characters and edge spaces in every text column."""
    frame = candidates(n, seed)
    rng = np.random.default_rng(seed)
    for column in ("id_a", "name_a", "id_b", "name_b", "reason", "pattern", "unit_a", "unit_b", "level2"):
        picks = rng.integers(len(SPECIAL), size=n)
        frame[column] = [
            SPECIAL[k] if k % 3 else f"{v}{SPECIAL[k]}" for k, v in zip(picks, frame[column], strict=True)
        ]
    return frame


def written(raw: pd.DataFrame, tmp_path: Path) -> tuple[bytes, bytes]:
    """(reference, direct) bytes of the same frame: the reference all xlsxwriter's (RowBlockSheet rows)."""
    cands = sort_candidates(raw) if len(raw) else raw
    firsts = pd.unique(cands["pattern_group"]) if len(cands) else []
    groups = {g: f"G{k + 1:04d}" for k, g in enumerate(firsts)}
    reference, direct = tmp_path / "reference.xlsx", tmp_path / "direct.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        # xlsxwriter's own shared strings: xlsx_rows' faster writer leaves U+FFFE raw (unreadable XML)
        patch.setattr(review, "fast_shared_strings", lambda workbook: workbook)
        review._write_workbook(reference, cands, groups)
    assert review._write_direct(direct, cands, groups), "the direct path refused the frame"
    return reference.read_bytes(), direct.read_bytes()


def openpyxl_view(data: bytes, read_only: bool) -> list[Any]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=read_only)
    out: list[Any] = [wb.sheetnames, wb.properties.title, wb.properties.creator, wb.properties.created]
    for ws in wb.worksheets:
        out.append([[(type(v), v) for v in row] for row in ws.iter_rows(values_only=True)])
        if read_only:
            continue
        out.append({k: (d.width, d.customWidth) for k, d in ws.column_dimensions.items()})
        out.append([(c.coordinate, c.style_id) for row in ws.iter_rows() for c in row])
        out.append(
            [(c.coordinate, c.fill.fgColor.rgb, c.alignment.wrap_text) for row in ws.iter_rows() for c in row]
        )
        out.append((ws.freeze_panes, ws.auto_filter.ref, ws.dimensions))
        out.append(
            [
                (str(v.sqref), v.type, v.formula1, v.errorTitle, v.error, v.showErrorMessage, v.allow_blank)
                for v in ws.data_validations.dataValidation
            ]
        )
    wb.close()
    return out


def calamine_view(data: bytes) -> list[Any]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [wb.sheet_names] + [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]


def assert_same_workbook(reference: bytes, direct: bytes) -> None:
    for read_only in (False, True):
        assert openpyxl_view(direct, read_only) == openpyxl_view(reference, read_only)
    assert calamine_view(direct) == calamine_view(reference)
    with zipfile.ZipFile(io.BytesIO(reference)) as a, zipfile.ZipFile(io.BytesIO(direct)) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
    assert direct == reference


FRAMES = {
    "hostile": lambda: candidates(400),
    "special": lambda: special(),
    "arrow": lambda: arrow(candidates(200, 7)),
    "one pair": lambda: candidates(1),
    "empty": lambda: candidates(5).iloc[:0],
    "no likely column": lambda: candidates(60).drop(columns="likely"),
    "all definition scores missing": lambda: candidates(50).assign(definition_score=np.nan),
    "integer scores": lambda: candidates(80).assign(name_score=lambda f: (f["name_score"] * 10).astype(int)),
}


@pytest.mark.parametrize("name", FRAMES)
def test_the_direct_file_is_the_xlsxwriter_file(name: str, tmp_path: Path) -> None:
    assert_same_workbook(*written(FRAMES[name](), tmp_path))


def test_continuation_sheets_past_the_row_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(xlsx_out, "SHEET_ROWS", 12)  # 11 pairs a sheet: pairs and patterns go on
    reference, direct = written(special(300), tmp_path)
    names = openpyxl.load_workbook(io.BytesIO(direct), read_only=True).sheetnames
    assert names[:3] == [REVIEW_SHEET, f"{REVIEW_SHEET}(2)", f"{REVIEW_SHEET}(3)"] and "差异模式(2)" in names
    assert_same_workbook(reference, direct)


def test_chunk_boundaries_do_not_show(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(xlsx_table, "ROW_CHUNK", 7)
    monkeypatch.setattr(xlsx_table, "SST_CHUNK", 5)  # plain and careful chunks of shared strings mixed
    assert_same_workbook(*written(special(200, 11), tmp_path))


def test_a_cell_that_differs_is_seen(tmp_path: Path) -> None:
    """The comparison itself: a direct file with one text changed is not the reference."""
    raw = candidates(30)
    reference, _ = written(raw, tmp_path)
    changed = raw.copy()
    changed.loc[changed.index[0], "reason"] = "另一个理由"
    _, direct = written(changed, tmp_path)
    with pytest.raises(AssertionError):
        assert_same_workbook(reference, direct)


def test_write_merge_review_takes_the_direct_path_and_is_deterministic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = special(120)
    first = write_merge_review(raw, tmp_path / "a.xlsx").read_bytes()
    assert write_merge_review(raw, tmp_path / "b.xlsx").read_bytes() == first

    def refuse(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("body", True):
            raise AssertionError("xlsxwriter wrote the rows")
        return skeleton(*args, **kwargs)

    skeleton = review._write_workbook
    monkeypatch.setattr(review, "_write_workbook", refuse)
    assert write_merge_review(raw, tmp_path / "c.xlsx").read_bytes() == first


def test_a_frame_the_direct_path_does_not_know_goes_to_xlsxwriter(tmp_path: Path) -> None:
    raw = candidates(40)
    raw["unit_a"] = raw["unit_a"].astype(object)
    raw.loc[raw.index[3], "unit_a"] = 7  # not a text: written as a number, cell by cell, as before
    cands = sort_candidates(raw)
    groups = {g: f"G{k + 1:04d}" for k, g in enumerate(pd.unique(cands["pattern_group"]))}
    assert not review._write_direct(tmp_path / "x.xlsx", cands, groups)
    assert not (tmp_path / "x.xlsx").exists()
    path = write_merge_review(raw, tmp_path / "merge_review.xlsx")
    values = [
        r[9] for r in openpyxl.load_workbook(path, read_only=True)[REVIEW_SHEET].iter_rows(values_only=True)
    ]
    assert 7 in values
    missing = candidates(10)
    missing.loc[0, "score"] = np.nan
    with pytest.raises(ValueError, match="missing or infinite score"):  # refused, as before
        write_merge_review(missing, tmp_path / "refused.xlsx")


def test_a_decision_filled_in_by_openpyxl_reads_back(tmp_path: Path) -> None:
    raw = candidates(60)  # hostile texts: formulas neutralized
    for column in ("name_a", "name_b"):  # a pair needs both names to be read back
        raw[column] = [v if v.strip() else f"名称{k}" for k, v in enumerate(raw[column])]
    path = write_merge_review(raw, tmp_path / "merge_review.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[REVIEW_SHEET]
    decided = {2: "合并", 5: "不合并", 9: review.PROMOTE}
    for row, decision in decided.items():
        ws.cell(row=row, column=review._DECISION_COL + 1, value=decision)
    names = {row: (ws.cell(row=row, column=2).value, ws.cell(row=row, column=4).value) for row in decided}
    wb.save(path)
    pairs, _ = read_review(path)
    got = {int(p["row"]): p["决定"] for p in pairs if p["决定"]}
    assert got == decided
    for p in pairs:
        if int(p["row"]) in decided:  # the neutralizing ' taken off again
            a, b = names[int(p["row"])]
            assert p["指标名称A"] == restore_neutralized(str(a).strip()) or not a
            assert p["指标名称B"] == restore_neutralized(str(b).strip()) or not b


def test_the_edge_space_check_knows_every_white_space_character() -> None:
    """shared_strings_xml tells a text with an edge space (xml:space, written by xlsxwriter's _write_si)
    from its UTF-8 bytes: the characters it looks for are exactly those str.isspace() holds true, found
    first or last in a text whatever stands beside them, and none that only shares bytes with one."""
    assert set(xlsx_table.SPACES) == {chr(code) for code in range(0x110000) if chr(code).isspace()}
    near = "\u00a1\u0085\u1681\u2010\u200b\u2027\u202a\u2060\u3001\u4e00\u4e05\u4e20名x"  # not spaces
    for char in [*xlsx_table.SPACES, *near]:
        for texts in (
            [char + "名"],
            ["名" + char],
            [char],
            ["甲", char + "乙"],
            ["甲" + char, ""],
            ["", char],
        ):
            joined = ("<si><t>" + "</t></si><si><t>".join(texts) + "</t></si>").encode()
            assert xlsx_table.plain_chunk(joined, len(texts)) is not char.isspace(), (hex(ord(char)), texts)


def test_a_failure_while_writing_the_package_is_raised_not_hung(tmp_path: Path) -> None:
    """write_package's zip thread: an error in the rows (this thread) or in the zip (that one) is
    raised here, and neither side waits for the other forever."""
    skeleton = io.BytesIO()
    with zipfile.ZipFile(skeleton, "w") as package:
        package.writestr("a.xml", "<a/>")
        package.writestr("b.xml", "<b/>")

    def rows() -> Any:
        yield b"<x/>" * 1000
        raise RuntimeError("a row failed")

    with pytest.raises(RuntimeError, match="a row failed"):
        xlsx_table.write_package(tmp_path / "x.zip", skeleton.getvalue(), {"a.xml": rows()})
    many = (b"<y/>" * 1000 for _ in range(50))  # more chunks than the queue holds
    with pytest.raises(OSError):
        xlsx_table.write_package(tmp_path / "missing" / "x.zip", skeleton.getvalue(), {"b.xml": many})
    xlsx_table.write_package(tmp_path / "ok.zip", skeleton.getvalue(), {"b.xml": [b"<b>", "text", b"</b>"]})
    with zipfile.ZipFile(tmp_path / "ok.zip") as package:
        assert package.read("a.xml") == b"<a/>" and package.read("b.xml") == b"<b>text</b>"
