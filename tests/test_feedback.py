"""pipelines.report.feedback: the per-workbook feedback file, built from Workbook/SheetRows objects made here."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.common.findings import GROUP_SAMPLE, SEVERITY_ZH, make_finding
from pipelines.common.xlsx_out import FILL_ERROR, FILL_EXCLUDED, FILL_WARNING
from pipelines.intake.workbook import SheetRows, Workbook
from pipelines.report.feedback import (
    NOTES_TITLE,
    OUTCOME_TITLE,
    ROW_TITLE,
    SUMMARY_SHEET,
    feedback_name,
    write_feedback,
)
from schemas.vocab import reference

FILE = "交通运输局2026年指标.xlsx"
RED, YELLOW, GREY = ("FF" + c[1:] for c in (FILL_ERROR, FILL_WARNING, FILL_EXCLUDED))
DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)"]
# The department put its columns in its own order (letters as in its workbook).
PROJECT_LETTERS = {
    "project": "B",
    "name": "C",
    "level1": "D",
    "level2": "E",
    "target": "F",
    "symbol": "G",
    "data_source": "I",
    "include": "K",
}


def _frame(kind: str, rows: list[dict[str, str]], first_row: int, sheet: str) -> pd.DataFrame:
    """A frame shaped as SheetRows documents: every English column of the sheet, then provenance."""
    columns = [s.column for s in reference().columns[kind]]
    records = []
    for i, values in enumerate(rows):
        record = dict.fromkeys(columns, "")
        record.update(values)
        record.update(source_file=FILE, source_sheet=sheet, source_row=first_row + i)
        records.append(record)
    return pd.DataFrame(records)


def _workbook(readable: bool = True, project_sheet: str = "项目支出指标") -> Workbook:
    project_rows = [
        {
            "project": "道路养护",
            "name": "养护里程",
            "level1": "产出指标",
            "level2": "数量指标",
            "target": "abc",
            "symbol": "≥",
            "data_source": "",
        },
        {
            "project": "道路养护",
            "name": DANGEROUS[0],
            "level1": "效益指标",
            "level2": "社会效益指标",
            "target": DANGEROUS[1],
            "symbol": "≥",
            "data_source": DANGEROUS[3],
            "include": "否",
        },
        {
            "project": "道路养护",
            "name": "群众满意度",
            "level1": "满意度指标",
            "level2": "服务对象满意度指标",
            "target": DANGEROUS[2],
            "symbol": "≥",
            "data_source": "问卷",
        },
        {
            "project": "道路养护",
            "name": "按时完工率",
            "level1": "产出指标",
            "level2": "时效指标",
            "target": "100",
            "symbol": "=",
            "data_source": "验收报告",
        },
    ]
    project = SheetRows(
        kind="project",
        sheet_name=project_sheet,
        header_row=3,
        columns=PROJECT_LETTERS,
        unknown_headers={"备注": "L"},
        frame=_frame("project", project_rows, 4, project_sheet),
        skipped_rows=[(9, "填表人等说明行")],
    )
    core = SheetRows(
        kind="core",
        sheet_name="部门整体核心指标",
        header_row=1,
        columns={"name": "A", "definition": "B", "symbol": "C", "target": "D"},
        unknown_headers={},
        frame=_frame(
            "core",
            [{"name": "道路完好率", "definition": "完好里程/总里程", "symbol": "≥", "target": "95%"}],
            2,
            "部门整体核心指标",
        ),
    )
    return Workbook(
        path=Path("/inbox") / FILE,
        file=FILE,
        sha256="0" * 64,
        readable=readable,
        info={"year": "2026", "dept_code": "101001", "dept_name": "交通运输局"},
        info_cells={"year": (2, "B"), "dept_code": (3, "B"), "dept_name": (4, "B")},
        info_sheet="部门信息",
        sheets={"core": core, "project": project} if readable else {},
    )


def _findings(sheet: str = "项目支出指标") -> list:
    f = make_finding
    return [
        f("R107", FILE, sheet=sheet, row=4, column="F", field="目标值", value="abc"),
        f("W208", FILE, sheet=sheet, row=4, column="I", field="数据来源"),
        f("X301", FILE, sheet=sheet, row=5, column="K", field="纳入指标库", value="否"),
        f("W209", FILE, sheet=sheet, row=6),  # a row, no column → the 原行号 cell
        f("R101", FILE, sheet=sheet, row=7, column="H", field="指标解释"),  # column not present → 原行号
        f("W208", FILE, sheet="部门整体核心指标", row=2, column="", field="数据来源"),
        f("R107", "其他部门.xlsx", sheet=sheet, row=5, column="F", field="目标值", value="x"),  # another file
    ]


@pytest.fixture()
def written(tmp_path: Path) -> tuple[Path, list]:
    findings = _findings()
    return write_feedback(_workbook(), findings, tmp_path), findings


def _rows(ws) -> list[list[object]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def _fill(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None


def test_name_and_sheets(written: tuple[Path, list]) -> None:
    path, _ = written
    assert path.name == "交通运输局2026年指标_反馈.xlsx" == feedback_name(FILE)
    assert feedback_name("C:\\上报\\a.b.xlsx") == "a.b_反馈.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, "部门整体核心指标", "项目支出指标"]


def test_sheet_rows_as_read_with_highlights(written: tuple[Path, list]) -> None:
    path, findings = written
    ws = openpyxl.load_workbook(path)["项目支出指标"]
    ref = reference()
    ordered = sorted(PROJECT_LETTERS, key=lambda c: PROJECT_LETTERS[c])
    header = [c.value for c in ws[1]]
    assert header == [ROW_TITLE, *(ref.header_zh("project", c) for c in ordered), OUTCOME_TITLE, NOTES_TITLE]
    assert ws.freeze_panes == "B2"
    assert [ws.cell(r, 1).value for r in range(2, 6)] == [4, 5, 6, 7]  # Excel rows of the submission
    col = {c: header.index(ref.header_zh("project", c)) + 1 for c in ordered}
    row_of = {4: 2, 5: 3, 6: 4, 7: 5}

    assert ws.cell(row_of[4], col["target"]).value == "abc"
    assert _fill(ws.cell(row_of[4], col["target"])) == RED
    assert _fill(ws.cell(row_of[4], col["data_source"])) == YELLOW  # empty cell, still coloured
    assert _fill(ws.cell(row_of[5], col["include"])) == GREY
    assert _fill(ws.cell(row_of[6], 1)) == YELLOW  # row-only finding → 原行号
    assert _fill(ws.cell(row_of[7], 1)) == RED  # its column is not in the sheet → 原行号
    assert _fill(ws.cell(row_of[4], col["name"])) is None
    assert _fill(ws.cell(row_of[5], col["target"])) is None  # the other file's finding is ignored

    outcome = header.index(OUTCOME_TITLE) + 1
    assert [ws.cell(r, outcome).value for r in range(2, 6)] == ["退回", "不入库", "受理（有提示）", "退回"]
    notes = header.index(NOTES_TITLE) + 1
    r107, w208, x301 = findings[0], findings[1], findings[2]
    assert ws.cell(row_of[4], notes).value == f"[R107] F列：{r107.message}；[W208] I列：{w208.message}"
    assert ws.cell(row_of[5], notes).value == f"[X301] K列：{x301.message}"
    assert ws.cell(row_of[6], notes).value == f"[W209] {findings[3].message}"
    assert ws.cell(row_of[7] + 1, 1).value is None  # nothing but the rows read


def test_dangerous_values_are_inert_text(written: tuple[Path, list]) -> None:
    path, _ = written
    book = openpyxl.load_workbook(path)
    seen = {}
    for ws in book:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str) and cell.value.lstrip("'") in DANGEROUS:
                    seen[cell.value.lstrip("'")] = cell
    assert set(seen) == set(DANGEROUS)
    for text, cell in seen.items():
        assert cell.data_type == "s"
        assert cell.value == "'" + text


def test_summary(written: tuple[Path, list]) -> None:
    path, findings = written
    rows = _rows(openpyxl.load_workbook(path)[SUMMARY_SHEET])
    by_label = {r[0]: r[1] for r in rows if r[0] is not None}
    assert by_label["文件"] == FILE
    assert by_label["部门编码"] == "101001" and by_label["部门名称"] == "交通运输局"
    assert "2 行被退回" in by_label["审核结论"]
    counts = {
        r[0]: r[1:5] for r in rows if r[0] in ("项目支出指标", "部门整体核心指标") and isinstance(r[2], int)
    }
    assert counts["项目支出指标"] == [4, 2, 1, 1]  # read, rejected, excluded, warned
    assert counts["部门整体核心指标"] == [1, 0, 0, 1]
    severity_counts = {r[0]: r[1] for r in rows if r[0] in SEVERITY_ZH.values() and isinstance(r[1], int)}
    mine = findings[:-1]
    for severity, label in SEVERITY_ZH.items():
        assert severity_counts[label] == sum(1 for f in mine if f.severity == severity)
    header_at = next(
        i
        for i, r in enumerate(rows)
        if r[:8] == ["代码", "类别", "工作表", "列", "问题", "处理建议", "单元格", "数量"]
    )
    groups = [r for r in rows[header_at + 1 :] if r[0] and r[0][:1] in "FRWXI" and isinstance(r[7], int)]
    assert sum(g[7] for g in groups) == len(mine)
    r107 = next(g for g in groups if g[0] == "R107")
    assert r107[1:8] == ["行错误", "项目支出指标", "目标值", findings[0].message, findings[0].fix, "F4", 1]
    assert ["工作表", "行号", "原因"] in [r[:3] for r in rows]
    assert ["项目支出指标", 9, "填表人等说明行"] in [r[:3] for r in rows]


def test_many_identical_problems_are_grouped(tmp_path: Path) -> None:
    findings = [
        make_finding("R101", FILE, sheet="项目支出指标", row=4 + i, column="F", field="目标值")
        for i in range(GROUP_SAMPLE + 2)
    ]
    wb = _workbook()
    rows_frame = wb.sheets["project"].frame
    wb.sheets["project"].frame = pd.concat([rows_frame] * 2, ignore_index=True).assign(
        source_row=range(4, 4 + 2 * len(rows_frame))
    )
    rows = _rows(openpyxl.load_workbook(write_feedback(wb, findings, tmp_path))[SUMMARY_SHEET])
    group = next(r for r in rows if r[0] == "R101")
    assert group[7] == GROUP_SAMPLE + 2
    assert group[6] == "、".join(f"F{4 + i}" for i in range(GROUP_SAMPLE)) + f" 等 {GROUP_SAMPLE + 2} 处"


def test_unreadable_workbook_gets_the_summary_only(tmp_path: Path) -> None:
    wb = _workbook(readable=False)
    wb.info = {}
    bad = make_finding("F001", FILE)
    wb.findings = [bad]
    path = write_feedback(wb, [], tmp_path)  # the reader's own finding is enough
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET]
    rows = _rows(book[SUMMARY_SHEET])
    assert any(r[0] == "F001" and r[4] == bad.message and r[5] == bad.fix for r in rows)
    verdict = next(r for r in rows if r[0] == "审核结论")
    assert "不予受理" in verdict[1]
    assert _fill(book[SUMMARY_SHEET].cell(rows.index(verdict) + 1, 2)) == RED


def test_file_error_rejects_every_row(tmp_path: Path) -> None:
    findings = [
        make_finding(
            "F006", FILE, sheet="部门信息", row=2, column="B", field="填报年度", value="2025", detail=2026
        )
    ]
    book = openpyxl.load_workbook(write_feedback(_workbook(), findings, tmp_path))
    ws = book["项目支出指标"]
    header = [c.value for c in ws[1]]
    outcome = header.index(OUTCOME_TITLE) + 1
    assert {ws.cell(r, outcome).value for r in range(2, ws.max_row + 1)} == {"退回（文件错误）"}
    rows = _rows(book[SUMMARY_SHEET])
    year_row = next(i for i, r in enumerate(rows, 1) if r[0] == "填报年度")
    assert _fill(book[SUMMARY_SHEET].cell(year_row, 2)) == RED  # the 部门信息 cell the finding points at


def test_traditional_sheet_name_is_kept(tmp_path: Path) -> None:
    findings = _findings("項目支出指標")
    book = openpyxl.load_workbook(write_feedback(_workbook(project_sheet="項目支出指標"), findings, tmp_path))
    assert "項目支出指標" in book.sheetnames
    ws = book["項目支出指標"]
    assert _fill(ws.cell(2, 1 + 1 + sorted(PROJECT_LETTERS.values()).index("F"))) == RED


def test_rewrite_is_byte_identical(tmp_path: Path) -> None:
    a = write_feedback(_workbook(), _findings(), tmp_path / "a")
    b = write_feedback(
        _workbook(), list(reversed(_findings())), tmp_path / "b"
    )  # order of findings irrelevant
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    c = write_feedback(_workbook(), _findings()[:2], tmp_path / "c")
    assert c.read_bytes() != a.read_bytes()


def test_only_identical_messages_share_a_line(tmp_path: Path) -> None:
    """Issue 11, point 7: one rule, three projects, two different messages → two lines, each true of its cells."""
    findings = [
        make_finding(
            "W204", FILE, sheet="项目支出指标", row=r, column="E", field="二级指标", value=p, detail=d
        )
        for r, p, d in ((2, "项目甲", "质量指标"), (13, "项目甲", "质量指标"), (24, "项目丙", "数量指标"))
    ]
    rows = _rows(openpyxl.load_workbook(write_feedback(_workbook(), findings, tmp_path))[SUMMARY_SHEET])
    lines = [r for r in rows if r[0] == "W204"]
    assert len(lines) == 2
    by_cells = {r[6]: r[4] for r in lines}
    assert "项目甲" in by_cells["E2、E13"] and "质量指标" in by_cells["E2、E13"]
    assert "项目丙" in by_cells["E24"] and "数量指标" in by_cells["E24"]


def test_cells_come_back_with_the_value_and_type_read(tmp_path: Path) -> None:
    """The returned sheet takes the read columns as they are: a number stays a number, a blank stays blank,
    a text stays text (neutralized), whatever the column's dtype and the frame's index."""
    workbook = _workbook()
    project = workbook.sheets["project"]
    frame = project.frame.copy()
    frame.index = frame.index + 100  # a frame cut from a larger one keeps its labels
    frame["target"] = pd.Series([95.5, "abc", None, 100], index=frame.index, dtype=object)
    frame["data_source"] = pd.Series([1.5, float("nan"), 2.0, 3.25], index=frame.index)
    workbook.sheets["project"] = SheetRows(
        kind=project.kind,
        sheet_name=project.sheet_name,
        header_row=project.header_row,
        columns=project.columns,
        unknown_headers=project.unknown_headers,
        frame=frame,
    )
    ws = openpyxl.load_workbook(write_feedback(workbook, [], tmp_path))["项目支出指标"]
    header = [c.value for c in ws[1]]
    ref = reference()
    target = header.index(ref.header_zh("project", "target")) + 1
    source = header.index(ref.header_zh("project", "data_source")) + 1
    name = header.index(ref.header_zh("project", "name")) + 1
    assert [ws.cell(r, target).value for r in range(2, 6)] == [95.5, "abc", None, 100]
    assert [ws.cell(r, source).value for r in range(2, 6)] == [1.5, None, 2, 3.25]
    assert ws.cell(3, name).value == "'" + DANGEROUS[0]
    assert [ws.cell(r, 1).value for r in range(2, 6)] == [4, 5, 6, 7]


def test_feedback_from_the_kept_cells_shows_what_the_workbook_as_read_shows(tmp_path: Path) -> None:
    """The rebuild keeps no workbook: its layout (no rows) and the cells of every row, stacked and made
    compact as validation keeps them, give the same feedback, cell by cell and colour by colour."""
    from functools import partial

    from pipelines.validate.returned import ShownCells, layout, shown_cells

    workbook, findings = _workbook(), _findings()
    stacked = pd.concat([s.frame for s in workbook.sheets.values()], ignore_index=True).fillna("")
    kept = layout(workbook)
    assert all(s.frame.empty for s in kept.sheets.values())
    values = partial(ShownCells(shown_cells(stacked)).values, FILE)
    direct = openpyxl.load_workbook(write_feedback(workbook, findings, tmp_path / "direct"))
    again = openpyxl.load_workbook(write_feedback(kept, findings, tmp_path / "kept", values))
    assert direct.sheetnames == again.sheetnames
    for name in direct.sheetnames:
        assert _rows(direct[name]) == _rows(again[name])
        assert [[_fill(c) for c in row] for row in direct[name].iter_rows()] == [
            [_fill(c) for c in row] for row in again[name].iter_rows()
        ]
