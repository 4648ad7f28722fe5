"""The self-evaluation workbook (issue 14, SPEC §7): written pre-filled for one department and year, filled
the way a clerk would (openpyxl on the real xlsx), read back; every validation error located as Excel shows
it (file, sheet, row, column) with its stable code; the codes raised equal the catalogue."""

from __future__ import annotations

import ast
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.common.findings import SEVERITY_ORDER, Finding
from pipelines.evaluate.codes import self_eval_codes
from pipelines.evaluate.reader import evaluation_items, parse_number, read_self_evaluation
from pipelines.evaluate.score import score_departments, score_projects, score_usages
from pipelines.evaluate.workbook import (
    INDICATOR_SHEET,
    INFO_SHEET,
    INSTRUCTIONS_SHEET,
    PROJECT_SHEET,
    write_self_evaluation,
)

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2026


def _usage(
    ident: str, project: str, level1: str, name: str, symbol: str, target: str, unit: str, **kw: object
) -> dict[str, object]:
    return {
        "indicator_id": ident,
        "year": YEAR,
        "dept_code": "201",
        "dept_name": "示例市教育局",
        "scope": "项目" if project else "部门整体",
        "project": project,
        "project_category": "",
        "function_code": "2050201",
        "level1": level1,
        "level2": "",
        "name": name,
        "symbol": symbol,
        "target": target,
        "target_value": pd.to_numeric(target, errors="coerce"),
        "unit": unit,
        "weight": None,
        "source_row": len(ident),
    } | kw


def department_rows() -> list[dict[str, object]]:
    """Department 201's usages of YEAR: 项目甲 (≥, ≤, 是/否, 定性, 满意度) and one 部门整体 row — the rows every
    self-evaluation test starts from."""
    return [
        _usage("ZB-X000001", "项目甲", "产出指标", "维修校舍面积", "≥", "4000", "平方米", source_row=2),
        _usage("ZB-X000002", "项目甲", "产出指标", "维修完成时间", "≤", "30", "天", source_row=3),
        _usage("ZB-X000003", "项目甲", "产出指标", "是否通过竣工验收", "=", "是", "", source_row=4),
        _usage("ZB-X000004", "项目甲", "效益指标", "办学条件", "定性", "明显改善", "", source_row=5),
        _usage("ZB-X000005", "项目甲", "满意度指标", "师生满意度", "≥", "90", "%", source_row=6),
        _usage("ZB-B000006", "", "效益指标", "义务教育巩固率", "≥", "99", "%", source_row=2),
    ]


@pytest.fixture(scope="module")
def usages() -> pd.DataFrame:
    rows = [
        *department_rows(),
        _usage(
            "ZB-X000007",
            "项目乙",
            "产出指标",
            "培训人次",
            "≥",
            "500",
            "人次",
            dept_code="202",
            dept_name="卫健委",
        ),
        _usage("ZB-X000008", "项目甲", "产出指标", "上年度指标", "≥", "10", "个", year=YEAR - 1),
        _usage("ZB-G000009", "会议培训类共性指标", "产出指标", "培训天数", "≥", "3", "天", scope="共性"),
    ]
    return pd.DataFrame(rows)


GOOD = {"ZB-X000001": 4200, "ZB-X000002": 25, "ZB-X000003": "是", "ZB-X000005": 93, "ZB-B000006": 99.2}


def _rows(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    """库内编号 → Excel row."""
    return {str(ws.cell(r, 1).value): r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}


def _column(ws: openpyxl.worksheet.worksheet.Worksheet, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def _fill(path: Path, edit: Callable[[openpyxl.Workbook], None] | None = None) -> Path:
    """Fill the workbook as a clerk would (all correct), then apply `edit`."""
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATOR_SHEET]
    rows = _rows(ws)
    for ident, value in GOOD.items():
        ws.cell(rows[ident], _column(ws, "完成值")).value = value
    ws.cell(rows["ZB-X000004"], _column(ws, "评判等级")).value = "基本达成目标"
    ws.cell(rows["ZB-X000004"], _column(ws, "自评分值")).value = 25
    ws.cell(rows["ZB-X000001"], _column(ws, "偏差原因")).value = "超额完成"
    projects = wb[PROJECT_SHEET]
    for r in range(2, projects.max_row + 1):
        projects.cell(r, 3).value, projects.cell(r, 4).value, projects.cell(r, 5).value = 100, 92, "是"
    if edit:
        edit(wb)
    wb.save(path)
    return path


@pytest.fixture()
def written(tmp_path: Path, usages: pd.DataFrame) -> Path:
    return write_self_evaluation(usages, "201", YEAR, tmp_path)


def test_written_workbook_is_pre_filled_for_the_department_and_year(
    written: Path, usages: pd.DataFrame
) -> None:
    assert written.name == "201示例市教育局2026年度绩效自评表.xlsx"
    wb = openpyxl.load_workbook(written)
    assert wb.sheetnames == [INSTRUCTIONS_SHEET, INFO_SHEET, INDICATOR_SHEET, PROJECT_SHEET]
    ws = wb[INDICATOR_SHEET]
    assert [c.value for c in ws[1]] == [
        "库内编号",
        "项目名称",
        "一级指标",
        "二级指标",
        "指标名称",
        "计算符号",
        "目标值",
        "计量单位",
        "分值",
        "评分方式",
        "完成值",
        "评判等级",
        "自评分值",
        "偏差原因",
        "佐证资料",
    ]
    # the department's 项目 and 部门整体 usages of the year: not another department's, year's, or 共性 rows
    assert set(_rows(ws)) == {
        "ZB-X000001",
        "ZB-X000002",
        "ZB-X000003",
        "ZB-X000004",
        "ZB-X000005",
        "ZB-B000006",
    }
    row = _rows(ws)["ZB-X000004"]
    assert [ws.cell(row, j).value for j in (2, 5, 6, 7, 10)] == [
        "项目甲",
        "办学条件",
        "定性",
        "明显改善",
        "按评判等级赋分（定性）",
    ]
    # MoF split (no 成本, with 满意度): 产出 50 over three, 效益 30, 满意度 10; 部门整体 alone gets 90
    points = {ident: ws.cell(r, 9).value for ident, r in _rows(ws).items()}
    assert points == {
        "ZB-X000001": 16.67,
        "ZB-X000002": 16.67,
        "ZB-X000003": 16.66,
        "ZB-X000004": 30,
        "ZB-X000005": 10,
        "ZB-B000006": 90,
    }
    assert ws.cell(_rows(ws)["ZB-B000006"], 2).value == "（部门整体）"
    info = {r[0].value: r[1].value for r in wb[INFO_SHEET].iter_rows(min_row=2)}
    assert info == {"部门编码": "201", "部门名称": "示例市教育局", "自评年度": "2026"}
    projects = [[c.value for c in r] for r in wb[PROJECT_SHEET].iter_rows()]
    assert projects == [
        ["项目名称", "指标个数", "全年预算数（万元）", "全年执行数（万元）", "是否完成"],
        ["（部门整体）", 1, None, None, None],
        ["项目甲", 5, None, None, None],
    ]


def test_drop_downs_highlights_and_instructions(written: Path) -> None:
    wb = openpyxl.load_workbook(written)
    ws = wb[INDICATOR_SHEET]
    rows = _rows(ws)
    lists = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation if v.type == "list"}
    grade_cell = f"L{rows['ZB-X000004']}"
    assert lists[grade_cell] == '"基本达成目标,部分实现目标,实现目标程度较低"'
    assert lists[f"K{rows['ZB-X000003']}"] == '"是,否"'  # a 是/否 indicator's 完成值
    highlighted = {
        c.coordinate for r in ws.iter_rows(min_row=2) for c in r if c.fill.fgColor.rgb == "FFFFEB9C"
    }
    assert f"K{rows['ZB-X000001']}" in highlighted and grade_cell in highlighted
    assert f"K{rows['ZB-X000004']}" not in highlighted  # a qualitative row fills 评判等级 and 自评分值
    assert ws.protection.sheet and not ws[f"K{rows['ZB-X000001']}"].protection.locked
    assert [v.formula1 for v in wb[PROJECT_SHEET].data_validations.dataValidation if v.type == "list"] == [
        '"是,否"'
    ]
    shown = {
        c.value
        for r in wb[INSTRUCTIONS_SHEET].iter_rows()
        for c in r
        if isinstance(c.value, str) and re.fullmatch(r"E\d{3}", c.value)
    }
    assert shown == set(self_eval_codes())
    text = " ".join(str(c.value) for r in wb[INSTRUCTIONS_SHEET].iter_rows() for c in r if c.value)
    assert "完成率低于 60% 得 0 分" in text and "基本达成目标：分值的 80%–100%" in text


def test_written_workbook_is_deterministic(tmp_path: Path, usages: pd.DataFrame) -> None:
    first = write_self_evaluation(usages, "201", YEAR, tmp_path / "a").read_bytes()
    assert write_self_evaluation(usages, "201", YEAR, tmp_path / "b").read_bytes() == first
    with pytest.raises(ValueError, match="没有入库"):
        write_self_evaluation(usages, "999", YEAR, tmp_path)


def test_filled_workbook_reads_back_and_scores(written: Path, usages: pd.DataFrame) -> None:
    evaluation = read_self_evaluation(_fill(written), usages, "201", YEAR)
    assert evaluation.findings == []
    results = evaluation.results.set_index("indicator_id")
    assert (
        results.loc["ZB-X000001", "actual_value"] == 4200
        and results.loc["ZB-X000001", "deviation_reason"] == "超额完成"
    )
    assert results.loc["ZB-X000003", "actual"] == "是" and results.loc["ZB-X000004", "proposed"] == 25
    assert (
        results.loc["ZB-X000001", "source_row"]
        == _rows(openpyxl.load_workbook(written)[INDICATOR_SHEET])["ZB-X000001"]
    )
    scores = score_usages(evaluation_items(usages, "201", YEAR, evaluation.results)).set_index("indicator_id")
    assert scores["awarded"].to_dict() == {
        "ZB-B000006": 90.0,
        "ZB-X000001": 16.67,
        "ZB-X000002": 16.67,
        "ZB-X000003": 16.66,
        "ZB-X000004": 25.0,
        "ZB-X000005": 10.0,
    }
    projects = score_projects(scores.reset_index(), evaluation.projects).set_index("project")
    assert projects["total"].to_dict() == {"": 100.0, "项目甲": 95.0}
    assert projects.loc["项目甲", "grade"] == "优"
    assert score_departments(projects.reset_index())["total"].tolist() == [97.5]


def test_percent_formatted_cells_read_as_shown() -> None:
    assert parse_number(0.93, "0%") == pytest.approx(93.0)
    assert parse_number("93%") == 93.0 and parse_number("１，２００") == 1200.0
    assert parse_number("25天", unit="天") == 25.0
    assert (
        parse_number("约九十") is None and parse_number(True) is None and parse_number(float("nan")) is None
    )


def _cell(sheet: str, ident: str, header: str, value: object) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[sheet]
        ws.cell(_rows(ws)[ident], _column(ws, header)).value = value

    return edit


def _project(label: str, header: str, value: object) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[PROJECT_SHEET]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == label)
        ws.cell(row, _column(ws, header)).value = value

    return edit


def _duplicate(ident: str) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[INDICATOR_SHEET]
        source = _rows(ws)[ident]
        for j in range(1, ws.max_column + 1):
            ws.cell(ws.max_row + 1 if j == 1 else ws.max_row, j).value = ws.cell(source, j).value

    return edit


def _clear_row(sheet: str, ident: str) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[sheet]
        row = _rows(ws)[ident]
        for j in range(1, ws.max_column + 1):
            ws.cell(row, j).value = None

    return edit


def _clear_project(label: str) -> Callable[[openpyxl.Workbook], None]:
    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[PROJECT_SHEET]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == label)
        for j in range(1, ws.max_column + 1):
            ws.cell(row, j).value = None

    return edit


# (edit, code, sheet, the 库内编号 or project of the row pointed at ("" = no row), column letter, text in the message)
CASES = [
    (
        _cell(INDICATOR_SHEET, "ZB-X000001", "完成值", None),
        "E503",
        INDICATOR_SHEET,
        "ZB-X000001",
        "K",
        "完成值未填写",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000001", "完成值", "约四千"),
        "E504",
        INDICATOR_SHEET,
        "ZB-X000001",
        "K",
        "约四千",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000003", "完成值", "基本完成"),
        "E505",
        INDICATOR_SHEET,
        "ZB-X000003",
        "K",
        "基本完成",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000004", "评判等级", "优秀"),
        "E506",
        INDICATOR_SHEET,
        "ZB-X000004",
        "L",
        "优秀",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000004", "评判等级", None),
        "E503",
        INDICATOR_SHEET,
        "ZB-X000004",
        "L",
        "评判等级未填写",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000004", "自评分值", 31),
        "E507",
        INDICATOR_SHEET,
        "ZB-X000004",
        "M",
        "24–30 分",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000004", "自评分值", 23.99),
        "E507",
        INDICATOR_SHEET,
        "ZB-X000004",
        "M",
        "23.99",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000004", "自评分值", None),
        "E503",
        INDICATOR_SHEET,
        "ZB-X000004",
        "M",
        "自评分值未填写",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000001", "库内编号", "ZB-X000007"),
        "E508",
        INDICATOR_SHEET,
        "ZB-X000007",
        "A",
        "没有该编号",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-X000001", "库内编号", "ZB-X000008"),
        "E508",
        INDICATOR_SHEET,
        "ZB-X000008",
        "A",
        "2026 年度",
    ),
    (
        _cell(INDICATOR_SHEET, "ZB-B000006", "项目名称", "项目甲"),
        "E508",
        INDICATOR_SHEET,
        "ZB-B000006",
        "A",
        "属于项目“（部门整体）”",
    ),
    (_duplicate("ZB-X000002"), "E509", INDICATOR_SHEET, "ZB-X000002", "A", "已在第"),
    (_clear_row(INDICATOR_SHEET, "ZB-X000005"), "E510", INDICATOR_SHEET, "", "", "师生满意度"),
    (
        _project("项目甲", "全年预算数（万元）", "很多"),
        "E511",
        PROJECT_SHEET,
        "项目甲",
        "C",
        "全年预算数（万元）“很多”",
    ),
    (_project("项目甲", "全年预算数（万元）", 0), "E511", PROJECT_SHEET, "项目甲", "C", "不是大于等于 0"),
    (_project("项目甲", "全年执行数（万元）", -5), "E511", PROJECT_SHEET, "项目甲", "D", "全年执行数"),
    (_project("项目甲", "是否完成", "大概"), "E512", PROJECT_SHEET, "项目甲", "E", "大概"),
    (_project("项目甲", "项目名称", "项目丙"), "E513", PROJECT_SHEET, "项目丙", "A", "项目丙"),
    (_clear_project("项目甲"), "E514", PROJECT_SHEET, "", "", "项目甲"),
]


# A row whose key is changed is also a usage (or project) left out: the warning comes with the error.
ALSO = {"E508": ["E510"], "E513": ["E514"]}


def _pointed_row(path: Path, sheet: str, key: str) -> int | None:
    if not key:
        return None
    ws = openpyxl.load_workbook(path)[sheet]
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == key]
    return rows[-1]  # a duplicate is flagged at its second row


@pytest.mark.parametrize(("edit", "code", "sheet", "key", "column", "text"), CASES)
def test_each_error_is_located(
    written: Path,
    usages: pd.DataFrame,
    edit: Callable[[openpyxl.Workbook], None],
    code: str,
    sheet: str,
    key: str,
    column: str,
    text: str,
) -> None:
    path = _fill(written, edit)
    evaluation = read_self_evaluation(path, usages, "201", YEAR)
    codes = [f.code for f in evaluation.findings]
    assert sorted(codes) == sorted([code, *ALSO.get(code, [])]), [f.message for f in evaluation.findings]
    finding: Finding = next(f for f in evaluation.findings if f.code == code)
    assert (finding.file, finding.sheet, finding.row, finding.column) == (
        path.name,
        sheet,
        _pointed_row(path, sheet, key),
        column,
    )
    assert text in finding.message, finding.message
    assert finding.fix and finding.severity == self_eval_codes()[code].severity


def test_a_row_with_an_error_scores_zero_and_names_the_code(written: Path, usages: pd.DataFrame) -> None:
    path = _fill(written, _cell(INDICATOR_SHEET, "ZB-X000001", "完成值", "约四千"))
    evaluation = read_self_evaluation(path, usages, "201", YEAR)
    scores = score_usages(evaluation_items(usages, "201", YEAR, evaluation.results)).set_index("indicator_id")
    assert scores.loc["ZB-X000001", "awarded"] == 0.0 and "E504" in scores.loc["ZB-X000001", "explanation"]
    assert scores.loc["ZB-X000002", "awarded"] == 16.67


def _rename_sheet(wb: openpyxl.Workbook) -> None:
    wb[PROJECT_SHEET].title = "项目表"


@pytest.mark.parametrize(
    ("edit", "text"),
    [
        (_rename_sheet, "缺少工作表“项目情况”"),
        (lambda wb: wb[INFO_SHEET].cell(2, 2, "202"), "部门编码为“202”"),
        (lambda wb: wb[INFO_SHEET].cell(4, 2, "2025"), "自评年度为“2025”"),
        (lambda wb: wb[INDICATOR_SHEET].cell(1, 11, "实际值"), "缺少列“完成值”"),
    ],
)
def test_a_workbook_of_another_shape_is_set_aside(
    written: Path, usages: pd.DataFrame, edit: Callable[[openpyxl.Workbook], None], text: str
) -> None:
    evaluation = read_self_evaluation(_fill(written, edit), usages, "201", YEAR)
    assert [f.code for f in evaluation.findings] == ["E502"] and evaluation.set_aside
    assert text in evaluation.findings[0].message and evaluation.results.empty


def test_a_file_that_is_not_a_workbook_is_set_aside(tmp_path: Path, usages: pd.DataFrame) -> None:
    text = tmp_path / "自评表.xlsx"
    text.write_text("完成值,95", encoding="utf-8")
    zipped = tmp_path / "压缩包.xlsx"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    for path in (text, zipped):
        evaluation = read_self_evaluation(path, usages, "201", YEAR)
        assert [(f.code, f.file) for f in evaluation.findings] == [("E501", path.name)]


# --- the catalogue of self-evaluation codes -------------------------------------------------------------

E_CODE = re.compile(r"^E\d{3}$")


def _raised() -> dict[str, set[str]]:
    """code → the modules of pipelines/ whose string literals are exactly that code."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "pipelines").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and E_CODE.match(node.value):
                found.setdefault(node.value, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_codes_raised_equal_the_catalogue() -> None:
    raised = _raised()
    assert set(raised) == set(self_eval_codes())
    assert all(modules == {"pipelines/evaluate/reader.py"} for modules in raised.values()), raised
    assert all(spec.severity in SEVERITY_ORDER for spec in self_eval_codes().values())


def test_every_code_is_exercised_by_these_tests() -> None:
    exercised = {case[1] for case in CASES} | {"E501", "E502"}
    assert exercised == set(self_eval_codes())


# --- the evaluation tables ------------------------------------------------------------------------------


def test_evaluation_tables_from_read_workbooks(written: Path, usages: pd.DataFrame) -> None:
    from pipelines.evaluate.tables import evaluation_tables

    other = usages.assign(dept_code="205", dept_name="示例市交通运输局")[usages["dept_code"] == "201"]
    both = pd.concat([usages, other], ignore_index=True)
    path = _fill(written, _cell(INDICATOR_SHEET, "ZB-X000001", "完成值", "约四千"))
    tables = evaluation_tables(both, YEAR, {"201": read_self_evaluation(path, usages, "201", YEAR)})
    assert tables.usages["dept_code"].tolist() == ["201"] * 6 + ["202"] + ["205"] * 6  # sorted, all listed
    mine = tables.usages[tables.usages["dept_code"] == "201"].set_index("indicator_id")
    assert mine.loc["ZB-X000001", "findings"] == "E504" and mine.loc["ZB-X000001", "awarded"] == 0.0
    assert mine.loc["ZB-X000002", "rule"] == "proportional" and mine.loc["ZB-X000002", "rate"] == 120.0
    assert (
        mine.loc["ZB-X000004", "grade"] == "基本达成目标" and mine.loc["ZB-X000004", "rule"] == "qualitative"
    )
    assert [f.code for f in tables.findings] == ["E504"]
    depts = tables.departments.set_index("dept_code")
    assert depts["submitted"].to_dict() == {"201": True, "202": False, "205": False}
    assert depts.loc["205", "total"] == 0.0 and "未提交自评表" in depts.loc["205", "explanation"]
    projects = tables.projects.set_index(["dept_code", "project"])
    assert projects.loc[("201", "项目甲"), "total"] == pytest.approx(78.33)  # 95 − 16.67 for the wrong row
    again = evaluation_tables(both, YEAR, {"201": read_self_evaluation(path, usages, "201", YEAR)})
    for name in ("usages", "projects", "departments"):
        pd.testing.assert_frame_equal(getattr(tables, name), getattr(again, name))


def test_evaluation_tables_of_a_year_without_usages(usages: pd.DataFrame) -> None:
    from pipelines.evaluate.tables import evaluation_tables

    tables = evaluation_tables(usages, 1999, {})
    assert tables.usages.empty and tables.projects.empty and tables.departments.empty


def test_docs_self_evaluation_is_generated() -> None:
    from pipelines.evaluate.doc import markdown

    assert (ROOT / "docs" / "SELF_EVALUATION.md").read_text(encoding="utf-8") == markdown()


def test_proposed_points_may_carry_their_unit(written: Path, usages: pd.DataFrame) -> None:
    path = _fill(written, _cell(INDICATOR_SHEET, "ZB-X000004", "自评分值", "26分"))
    evaluation = read_self_evaluation(path, usages, "201", YEAR)
    assert evaluation.findings == []
    assert evaluation.results.set_index("indicator_id").loc["ZB-X000004", "proposed"] == 26.0


def test_the_department_may_come_from_the_workbook(written: Path, usages: pd.DataFrame) -> None:
    path = _fill(written)
    evaluation = read_self_evaluation(path, usages, None, YEAR)
    assert evaluation.dept_code == "201" and evaluation.findings == [] and len(evaluation.results) == 6
    path = _fill(written, lambda wb: wb[INFO_SHEET].cell(2, 2, "999"))
    evaluation = read_self_evaluation(path, usages, None, YEAR)
    assert [f.code for f in evaluation.findings] == [
        "E502"
    ] and "“999”在 2026 年度没有" in evaluation.findings[0].message


def test_a_folder_of_workbooks(tmp_path: Path, usages: pd.DataFrame) -> None:
    from pipelines.evaluate.run import evaluate_folder, scorecard

    folder = tmp_path / "submissions"
    first = _fill(write_self_evaluation(usages, "201", YEAR, folder))
    (folder / "~$lock.xlsx").write_bytes(b"")  # Excel's lock file of an open workbook: not a submission
    (folder / "zz_second.xlsx").write_bytes(first.read_bytes())  # the same department again
    (folder / "broken.xlsx").write_text("not a workbook", encoding="utf-8")
    tables = evaluate_folder(usages, YEAR, folder)
    assert sorted((f.file, f.code) for f in tables.findings) == [
        ("broken.xlsx", "E501"),
        ("zz_second.xlsx", "E502"),
    ]
    assert "已提交自评表“201示例市教育局2026年度绩效自评表.xlsx”" in next(
        f.message for f in tables.findings if f.code == "E502"
    )
    assert tables.departments.set_index("dept_code")["submitted"].to_dict() == {"201": True, "202": False}
    card = scorecard(tables, "201")
    assert card.splitlines()[0] == "示例市教育局（201）2026 年度绩效自评：97.5 分，等级“优”"
    assert "  项目甲：95 分（优）；指标 85/90，预算执行率 10/10" in card
    assert "失分：办学条件（项目甲）25/30：按评判等级赋分" in card
    assert scorecard(tables, "999") == "部门 999 本年度没有参加自评的指标"
