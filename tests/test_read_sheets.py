"""The reader's sheets and headers on real xlsx files written by the tests: sheet matching, header rows and
aliases, unknown and doubled headers, missing sheets and columns, the 部门信息 sheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.intake.read import read_workbook
from pipelines.intake.sheets import match_sheets
from tests.read_helpers import EXTRA, PARSED, PROVENANCE, codes, read_ok
from tests.xlsx_builders import (
    core_row,
    default_info,
    english_columns,
    project_row,
    write_grid_workbook,
    write_workbook,
)

# --- headers ---------------------------------------------------------------------------------------------


def test_shuffled_columns_and_unknown_headers(tmp_path: Path) -> None:
    cols = [
        "target",
        "name",
        "备注列",
        "level2",
        "project",
        "unit",
        "definition",
        "level1",
        "symbol",
        "function_code",
    ]
    written = write_workbook(
        tmp_path / "s.xlsx",
        default_info(),
        [core_row()],
        [project_row(**{"备注列": "随便写写"}), project_row(name="次数2", target=3)],
        columns={"project": cols},
        header_overrides={"project": {"备注列": "我的备注"}},
    )
    sheet = read_ok(written.path).sheets["project"]
    assert (
        sheet.columns["target"] == "A"
        and sheet.columns["name"] == "B"
        and sheet.columns["function_code"] == "J"
    )
    assert sheet.unknown_headers == {"我的备注": "C"}
    assert sheet.frame["name"].tolist() == ["日常维修维护次数", "次数2"]
    assert sheet.frame["target"].tolist() == ["200", "3"]
    assert sheet.frame["function_code"].tolist() == ["2010101", "2010101"]
    assert list(sheet.frame.columns) == english_columns("project") + PROVENANCE + PARSED + EXTRA


@pytest.mark.parametrize(
    ("column", "header"),
    [
        ("name", "三級指標"),
        ("name", "三级指标名称"),
        ("name", "３级指标名称"),
        ("name", "*三级指标"),
        ("target", "指标值"),
        ("target", "年度指标值"),
        ("target", "标准值"),
        ("target", "目标值（必填）"),
        ("unit", "度量单位"),
        ("unit", "指标值度量单位"),
        ("unit", "单位"),
        ("definition", "指标说明"),
        ("history", "历史数据"),
        ("symbol", "計算符號"),
        ("function_code", "功能分類科目編碼"),
        ("project", " 项 目 名 称 "),
    ],
)
def test_project_header_aliases(tmp_path: Path, column: str, header: str) -> None:
    row = project_row(history="2024年:90")
    written = write_workbook(
        tmp_path / "h.xlsx",
        default_info(),
        [core_row()],
        [row],
        header_overrides={"project": {column: header}},
    )
    sheet = read_ok(written.path).sheets["project"]
    assert sheet.columns[column] == written.columns["project"][column]
    assert sheet.unknown_headers == {}
    expected = {
        "name": "日常维修维护次数",
        "target": "200",
        "unit": "次",
        "definition": "反映办公大楼全年维修维护情况",
        "history": "2024年:90",
        "symbol": "≥",
        "function_code": "2010101",
        "project": "办公大楼运行保障",
    }
    assert sheet.frame[column].tolist() == [expected[column]]


def test_core_header_aliases_from_spec(tmp_path: Path) -> None:
    row = core_row(standard_source="国家统计制度")
    overrides = {
        "standard_source": "指标出处",
        "definition": "指标解释",
        "history": "历史数据",
        "target": "年度指标值",
        "name": "指標名稱",
    }
    sheet = read_ok(
        write_workbook(
            tmp_path / "ch.xlsx", default_info(), [row], [project_row()], header_overrides={"core": overrides}
        ).path
    ).sheets["core"]
    assert sheet.frame["standard_source"].tolist() == ["国家统计制度"]
    assert sheet.frame["definition"].tolist() == ["反映政策宣传覆盖的对象占应覆盖对象的比例"]
    assert sheet.frame["target_value"].tolist() == [95.0]
    assert sheet.unknown_headers == {}


def test_two_line_header_with_merged_group_cell(tmp_path: Path) -> None:
    header_top = [
        "序号",
        "项目名称",
        "绩效指标",
        None,
        None,
        "指标解释",
        "计算符号",
        "目标值",
        "计量单位",
        "功能分类科目编码",
    ]
    header_low = [None, None, "一级指标", "二级指标", "三级指标", None, None, None, None, None]
    data = [1, "甲项目", "产出指标", "数量指标", "培训人次", "反映培训人次", "≥", 100, "人次", "2010101"]
    merges = ["A2:A3", "B2:B3", "C2:E2", "F2:F3", "G2:G3", "H2:H3", "I2:I3", "J2:J3", "A1:J1"]
    path = write_grid_workbook(
        tmp_path / "two.xlsx",
        {
            "部门信息": [["部门编码", "1"]],
            "部门整体核心指标": [["指标名称", "指标说明", "计算符号", "目标值"]],
            "项目支出指标": [["2026年项目支出绩效目标表"], header_top, header_low, data],
        },
        {"项目支出指标": merges},
    )
    sheet = read_ok(path).sheets["project"]
    assert sheet.header_row == 3
    assert sheet.frame["source_row"].tolist() == [4]
    assert sheet.frame[["project", "level1", "level2", "name", "target"]].iloc[0].tolist() == [
        "甲项目",
        "产出指标",
        "数量指标",
        "培训人次",
        "100",
    ]


def test_duplicate_header_fills_blanks_from_second_column(tmp_path: Path) -> None:
    cols = ["project", "function_code", "level1", "level2", "name", "definition", "说明2", "symbol", "target"]
    rows = [project_row(definition="解释一"), project_row(definition=None, **{"说明2": "解释二"})]
    written = write_workbook(
        tmp_path / "d.xlsx",
        default_info(),
        [core_row()],
        rows,
        columns={"project": cols},
        header_overrides={"project": {"说明2": "指标说明"}},
    )
    sheet = read_ok(written.path).sheets["project"]
    assert sheet.columns["definition"] == "F"
    assert sheet.duplicate_headers == {"指标说明": "G"}
    assert sheet.frame["definition"].tolist() == ["解释一", "解释二"]


def test_unknown_headers_are_reported_and_their_values_kept(tmp_path: Path) -> None:
    """Issue 11 point 8: headers the template does not know (here 责任科室, 考核口径) were dropped without a word."""
    cols = [
        "project",
        "function_code",
        "level1",
        "level2",
        "name",
        "评分",
        "symbol",
        "target",
        "出处",
        "unit",
    ]
    rows = [
        project_row(**{"评分": "完成得满分，未完成不得分", "出处": "省级考核办法"}),
        project_row(name="次数2", **{"评分": None, "出处": None}),
    ]
    written = write_workbook(
        tmp_path / "u.xlsx",
        default_info(),
        [core_row()],
        rows,
        columns={"project": cols},
        header_overrides={"project": {"评分": "责任科室", "出处": "考核口径"}},
    )
    book = read_ok(written.path)
    header_row = written.header_row["project"]
    infos = [f for f in book.findings if f.code == "I403"]
    assert [(f.sheet, f.row, f.column, f.value, f.severity) for f in infos] == [
        ("项目支出指标", header_row, "F", "责任科室", "info"),
        ("项目支出指标", header_row, "I", "考核口径", "info"),
    ]
    assert all("F 列" in f.message or "I 列" in f.message for f in infos)
    extra = book.sheets["project"].frame["extra_json"].tolist()
    assert json.loads(extra[0]) == {"责任科室": "完成得满分，未完成不得分", "考核口径": "省级考核办法"}
    assert extra[1] == ""


def test_unknown_column_values_reach_the_validated_rows(tmp_path: Path) -> None:
    from pipelines.validate.runner import validate_workbooks

    cols = ["project", "function_code", "level1", "level2", "name", "definition", "symbol", "target", "评分"]
    written = write_workbook(
        tmp_path / "v.xlsx",
        default_info(),
        [core_row()],
        [project_row(**{"评分": "完成得满分"})],
        columns={"project": cols},
        header_overrides={"project": {"评分": "责任科室"}},
    )
    result = validate_workbooks([read_ok(written.path)], year=2026)
    project = result.rows[result.rows["sheet_kind"] == "project"]
    # The raw record is kept as written (validation folds every other text column).
    records = [json.loads(x) for x in project["extra_json"]]
    assert records == [{"责任科室": "完成得满分"}]
    assert any(f.code == "I403" and f.column == "I" for f in result.findings)


def test_two_headers_for_one_field_are_a_warning_naming_both(tmp_path: Path) -> None:
    """Issue 11 point 8: 标准值 and 目标值 both map to target; the leftmost won silently."""
    cols = ["project", "function_code", "level1", "level2", "name", "symbol", "target", "目标2", "unit"]
    rows = [
        project_row(target="≥90%", **{"目标2": "≥95%"}),
        project_row(name="次数2", target=None, **{"目标2": 3}),
    ]
    written = write_workbook(
        tmp_path / "w.xlsx",
        default_info(),
        [core_row()],
        rows,
        columns={"project": cols},
        header_overrides={"project": {"target": "标准值", "目标2": "目标值"}},
    )
    book = read_ok(written.path)
    (warning,) = [f for f in book.findings if f.code == "W217"]
    assert warning.severity == "warning" and warning.column == "H" and warning.field == "目标值"
    for words in ("G 列“标准值”", "H 列“目标值”", "已采用 G 列"):
        assert words in warning.message
    sheet = book.sheets["project"]
    assert sheet.frame["target"].tolist() == ["≥90%", "3"]  # G used, H fills its blanks
    assert [json.loads(x) for x in sheet.frame["extra_json"]] == [{"目标值": "≥95%"}, {"目标值": "3"}]


def test_a_header_merged_over_two_columns_is_not_two_headers(tmp_path: Path) -> None:
    grid = [
        ["项目名称", "一级指标", "二级指标", "三级指标", "指标值", "", "备注", ""],
        ["项目甲", "产出指标", "数量指标", "次数", "≥", "200", "甲", "乙"],
    ]
    path = write_grid_workbook(
        tmp_path / "m.xlsx",
        {"部门信息": [["项目", "内容"]], "部门整体核心指标": [], "项目支出指标": grid},
        merges={"项目支出指标": ["E1:F1", "G1:H1"]},
    )
    book = read_workbook(path)
    assert [(f.code, f.column) for f in book.findings if f.code in ("I403", "W217")] == [("I403", "G")]
    extra = json.loads(book.sheets["project"].frame["extra_json"][0])
    assert extra == {"指标值": "200", "备注": "甲", "备注（H列）": "乙"}


# --- structure: sheets, columns, header ---------------------------------------------------------------------


def test_missing_required_sheet(tmp_path: Path) -> None:
    book = read_workbook(
        write_workbook(
            tmp_path / "x.xlsx", default_info(), [core_row()], [project_row()], omit_sheets=("core",)
        ).path
    )
    assert book.readable
    assert codes(book) == ["F003"]
    assert book.findings[0].value == "部门整体核心指标"
    assert "project" in book.sheets


def test_missing_info_sheet_and_optional_common_sheet(tmp_path: Path) -> None:
    book = read_workbook(
        write_workbook(tmp_path / "x.xlsx", None, [core_row()], [project_row()], omit_sheets=("info",)).path
    )
    assert codes(book) == ["F003"] and book.findings[0].value == "部门信息"
    assert "common" not in book.sheets


def test_common_sheet_is_read(tmp_path: Path) -> None:
    common = [project_row(project=None, function_code=None, name="培训人次")]
    book = read_ok(
        write_workbook(tmp_path / "fin.xlsx", default_info(), [core_row()], [project_row()], common).path
    )
    assert book.sheets["common"].frame["name"].tolist() == ["培训人次"]
    assert book.sheets["common"].frame["project"].tolist() == [""]


def test_missing_required_columns(tmp_path: Path) -> None:
    cols = [c for c in english_columns("project") if c not in ("function_code", "target")]
    book = read_workbook(
        write_workbook(
            tmp_path / "c.xlsx", default_info(), [core_row()], [project_row()], columns={"project": cols}
        ).path
    )
    assert book.readable
    f004 = [f for f in book.findings if f.code == "F004"]
    assert sorted(f.field for f in f004) == ["功能分类科目编码", "目标值"]
    assert all(f.sheet == "项目支出指标" and f.row == 1 for f in f004)
    # The rows are still read (for feedback); the missing columns are empty.
    assert book.sheets["project"].frame["target"].tolist() == [""]


def test_no_header_row(tmp_path: Path) -> None:
    grid = [["说明"], *[[f"第{i}行", "随便", i] for i in range(20)]]
    path = write_grid_workbook(
        tmp_path / "nh.xlsx",
        {
            "部门信息": [["部门编码", 1]],
            "部门整体核心指标": [["指标名称", "指标说明", "计算符号", "目标值"]],
            "项目支出指标": grid,
        },
    )
    book = read_workbook(path)
    assert codes(book) == ["F010"]
    assert book.findings[0].sheet == "项目支出指标"
    assert "project" not in book.sheets


def test_blank_indicator_sheet_is_allowed(tmp_path: Path) -> None:
    header = [
        "项目名称",
        "功能分类科目编码",
        "一级指标",
        "二级指标",
        "三级指标",
        "指标解释",
        "计算符号",
        "目标值",
    ]
    path = write_grid_workbook(
        tmp_path / "blank.xlsx",
        {"部门信息": [["部门编码", 1]], "部门整体核心指标": [], "项目支出指标": [header]},
    )
    book = read_ok(path)
    assert book.findings == []
    assert (
        book.sheets["core"].frame.empty
        and list(book.sheets["core"].frame.columns) == english_columns("core") + PROVENANCE + PARSED + EXTRA
    )
    assert book.sheets["project"].frame.empty


def test_sheet_matching() -> None:
    names = [
        "填报说明",
        "表2 項目支出指標(2026)",
        "部门整体核心指标",
        "部门核心指标（旧）",
        "基本信息",
        "下拉选项",
    ]
    matched, ignored = match_sheets(names)
    assert matched == {"core": "部门整体核心指标", "project": "表2 項目支出指標(2026)", "info": "基本信息"}
    assert ignored == {"部门核心指标（旧）": "core"}


def test_info_sheet_variants(tmp_path: Path) -> None:
    grid = [
        ["2026年部门基本信息"],
        ["项目", "内容"],
        [1, "填报年度", None, 2026],
        [2, "部门代码：", "  101001 "],
        [3, "部門名稱", "市測試局"],
        [4, "联系人", None],
        [5, "联系电话：0571-12345678"],
        [6, "职能依据", "三定方案"],
    ]
    path = write_grid_workbook(
        tmp_path / "info.xlsx",
        {"單位信息": grid, "部门整体核心指标": [], "项目支出指标": []},
        {"單位信息": ["A1:D1"]},
    )
    book = read_ok(path)
    assert book.info == {
        "year": "2026",
        "dept_code": "101001",
        "dept_name": "市測試局",
        "contact": "",
        "phone": "0571-12345678",
        "function_basis": "三定方案",
    }
    assert book.info_cells["year"] == (3, "D")
    assert book.info_cells["dept_code"] == (4, "C")
    assert book.info_cells["phone"] == (7, "B")


def test_info_sheet_with_several_pairs_per_row(tmp_path: Path) -> None:
    grid = [
        ["部门信息表"],
        ["填报年度", 2026, "部门编码", "101001"],
        ["部门名称", "市测试局", None, None],
        ["联系人", None, "联系电话", "12345"],
    ]
    path = write_grid_workbook(
        tmp_path / "pairs.xlsx", {"部门信息": grid, "部门整体核心指标": [], "项目支出指标": []}
    )
    book = read_ok(path)
    assert book.info == {
        "year": "2026",
        "dept_code": "101001",
        "dept_name": "市测试局",
        "contact": "",
        "phone": "12345",
    }
    assert book.info_cells["dept_code"] == (2, "D")
    assert book.info_cells["phone"] == (4, "D")


def test_info_keys_the_template_does_not_know_are_kept_by_label(tmp_path: Path) -> None:
    """Unknown 部门信息 keys are not read as info, but their label and cell are kept (validation notes them,
    I405): beside a value, after a colon, side by side with a known pair. Titles, the 项目 | 内容 header,
    notes, 序号 and unknown keys left empty are not keys."""
    grid = [
        ["2026年部门基本信息表"],
        ["序号", "项目", "内容"],
        [1, "部门名称", "市测试局", "单位负责人", "张三"],
        [2, "部门编码", "101001"],
        [3, "填报年度", 2026],
        [4, "統一社會信用代碼", None],
        [5, "填表人：李四"],
        [None, "注：请如实填写"],
    ]
    path = write_grid_workbook(
        tmp_path / "unknown.xlsx", {"部门信息": grid, "部门整体核心指标": [], "项目支出指标": []}
    )
    book = read_ok(path)
    assert book.info == {"dept_name": "市测试局", "dept_code": "101001", "year": "2026"}
    unknown = {k: v for k, v in book.info_cells.items() if k not in book.info}
    assert unknown == {"单位负责人": (3, "D"), "填表人": (7, "B")}
