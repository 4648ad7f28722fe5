"""The reader on real xlsx files written by the tests: messy layouts, hostile files, parsing of targets."""

from __future__ import annotations

import hashlib
import json
import math
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.intake.read import read_workbook
from pipelines.intake.sheets import match_sheets
from pipelines.intake.targets import parse_history, parse_target
from pipelines.intake.workbook import SheetRows, Workbook
from schemas.vocab import reference
from tests.xlsx_builders import (
    core_row,
    default_info,
    english_columns,
    load_realdata,
    project_row,
    realdata_project_rows,
    write_far_cell_workbook,
    write_grid_workbook,
    write_workbook,
    write_zip_bomb,
)

PARSED = ["target_symbol", "target_value", "target_text", "target_unit", "history_json"]
PROVENANCE = ["source_file", "source_sheet", "source_row"]
EXTRA = ["extra_json"]


def read_ok(path: Path) -> Workbook:
    book = read_workbook(path)
    assert book.readable, book.findings
    return book


def codes(book: Workbook) -> list[str]:
    return [f.code for f in book.findings]


# --- the ordinary case ---------------------------------------------------------------------------------


def test_plain_workbook_rows_columns_and_provenance(tmp_path: Path) -> None:
    projects = [project_row(), project_row(name="维修验收合格率", level2="质量指标", target="≥95%", unit="%")]
    written = write_workbook(tmp_path / "部门A.xlsx", default_info(), [core_row()], projects)
    book = read_ok(written.path)

    assert book.file == "部门A.xlsx"
    assert book.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()
    assert book.findings == []
    assert book.info == {"year": "2026", "dept_code": "101001", "dept_name": "市测试局", "complexity": "复杂"}
    assert book.info_cells["dept_code"] == (written.info_rows["dept_code"], "B")
    assert set(book.sheets) == {"core", "project"}

    project = book.sheets["project"]
    assert isinstance(project, SheetRows)
    assert list(project.frame.columns) == english_columns("project") + PROVENANCE + PARSED + EXTRA
    assert project.header_row == written.header_row["project"] == 1
    assert project.columns == written.columns["project"]
    assert project.frame["source_row"].tolist() == written.data_rows["project"] == [2, 3]
    assert project.frame["source_file"].tolist() == ["部门A.xlsx"] * 2
    assert project.frame["source_sheet"].tolist() == ["项目支出指标"] * 2
    assert project.frame["name"].tolist() == ["日常维修维护次数", "维修验收合格率"]
    assert project.frame["target"].tolist() == ["200", "≥95%"]
    assert project.frame["target_value"].tolist() == [200.0, 95.0]
    assert project.frame["target_symbol"].tolist() == ["", "≥"]
    assert project.frame["target_unit"].tolist() == ["次", "%"]
    assert project.frame["sector"].tolist() == ["", ""]  # absent values are "", not NaN
    assert json.loads(project.frame["history_json"].iloc[0]) == {"2025": "180次"}
    assert str(project.frame["name"].dtype) == "str"
    assert str(project.frame["source_row"].dtype) == "int64"
    project.frame.loc[0, "sector"] = "改一个格"  # empty columns share storage: writing one leaves the rest
    assert project.frame["formula"].tolist() == ["", ""] and project.frame["sector"].tolist() == [
        "改一个格",
        "",
    ]

    core = book.sheets["core"]
    assert list(core.frame.columns) == english_columns("core") + PROVENANCE + PARSED + EXTRA
    assert core.frame["name"].tolist() == ["政策宣传覆盖率"]


def test_title_rows_keep_true_excel_row_numbers(tmp_path: Path) -> None:
    rows = [project_row(name=f"指标{i}") for i in range(3)]
    written = write_workbook(
        tmp_path / "t.xlsx",
        default_info(),
        [core_row()],
        rows,
        title_rows={"project": 2, "core": 1},
        info_title=True,
    )
    book = read_ok(written.path)
    assert book.sheets["project"].header_row == 3
    assert book.sheets["project"].frame["source_row"].tolist() == [4, 5, 6] == written.data_rows["project"]
    assert book.sheets["core"].frame["source_row"].tolist() == [3]
    assert book.info["dept_name"] == "市测试局"
    assert book.info_cells["year"] == (written.info_rows["year"], "B")


def test_merged_cells_fill_project_and_levels(tmp_path: Path) -> None:
    rows = [
        project_row(project="甲项目", level1="产出指标", level2="数量指标", name="培训人次"),
        project_row(project="甲项目", level1="产出指标", level2="数量指标", name="培训场次"),
        project_row(project="甲项目", level1="产出指标", level2="质量指标", name="培训合格率"),
        project_row(project="甲项目", level1="效益指标", level2="社会效益指标", name="政策知晓率"),
        project_row(project="乙项目", level1="效益指标", level2="社会效益指标", name="覆盖率"),
        project_row(project="乙项目", level1="满意度指标", level2="服务对象满意度指标", name="满意度"),
    ]
    written = write_workbook(
        tmp_path / "m.xlsx",
        default_info(),
        [core_row()],
        rows,
        merged={"project": ["project", "level1", "level2"]},
        title_rows=1,
    )
    frame = read_ok(written.path).sheets["project"].frame
    assert frame["project"].tolist() == ["甲项目"] * 4 + ["乙项目"] * 2
    assert frame["level1"].tolist() == ["产出指标"] * 3 + ["效益指标", "效益指标", "满意度指标"]
    assert frame["level2"].tolist() == [
        "数量指标",
        "数量指标",
        "质量指标",
        "社会效益指标",
        "社会效益指标",
        "服务对象满意度指标",
    ]
    assert frame["source_row"].tolist() == written.data_rows["project"]


def test_blank_same_as_above_never_crosses_a_project(tmp_path: Path) -> None:
    rows = [
        project_row(
            project="甲项目",
            project_category="会议培训类",
            function_code="2010101",
            level1="产出指标",
            level2="数量指标",
        ),
        project_row(
            project=None, project_category=None, function_code=None, level1=None, level2=None, name="培训场次"
        ),
        project_row(
            project=None,
            project_category=None,
            function_code=None,
            level1=None,
            level2="质量指标",
            name="合格率",
        ),
        # A new project leaves its levels and category blank: they must stay blank (validation rejects).
        project_row(
            project="乙项目",
            project_category=None,
            function_code="2080801",
            level1=None,
            level2=None,
            name="覆盖率",
        ),
        project_row(
            project=None,
            project_category=None,
            function_code=None,
            level1="效益指标",
            level2=None,
            name="知晓率",
        ),
    ]
    frame = (
        read_ok(write_workbook(tmp_path / "b.xlsx", default_info(), [core_row()], rows).path)
        .sheets["project"]
        .frame
    )
    assert frame["project"].tolist() == ["甲项目", "甲项目", "甲项目", "乙项目", "乙项目"]
    assert frame["project_category"].tolist() == ["会议培训类", "会议培训类", "会议培训类", "", ""]
    assert frame["function_code"].tolist() == ["2010101", "2010101", "2010101", "2080801", "2080801"]
    assert frame["level1"].tolist() == ["产出指标", "产出指标", "产出指标", "", "效益指标"]
    # 二级 does not carry from 产出/质量 into the new 一级 效益指标 either.
    assert frame["level2"].tolist() == ["数量指标", "数量指标", "质量指标", "", ""]


def test_core_sheet_levels_fill_down(tmp_path: Path) -> None:
    rows = [
        core_row(name="A"),
        core_row(level1=None, level2=None, name="B"),
        core_row(level1="效益指标", level2=None, name="C"),
    ]
    frame = (
        read_ok(write_workbook(tmp_path / "c.xlsx", default_info(), rows, [project_row()]).path)
        .sheets["core"]
        .frame
    )
    assert frame["level1"].tolist() == ["产出指标", "产出指标", "效益指标"]
    assert frame["level2"].tolist() == ["数量指标", "数量指标", ""]


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
    """Issue 11 point 8: 评（扣）分标准 and 指标出处 on the project sheet were dropped without a word."""
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
        header_overrides={"project": {"评分": "评（扣）分标准", "出处": "指标出处"}},
    )
    book = read_ok(written.path)
    header_row = written.header_row["project"]
    infos = [f for f in book.findings if f.code == "I403"]
    assert [(f.sheet, f.row, f.column, f.value, f.severity) for f in infos] == [
        ("项目支出指标", header_row, "F", "评（扣）分标准", "info"),
        ("项目支出指标", header_row, "I", "指标出处", "info"),
    ]
    assert all("F 列" in f.message or "I 列" in f.message for f in infos)
    extra = book.sheets["project"].frame["extra_json"].tolist()
    assert json.loads(extra[0]) == {"评（扣）分标准": "完成得满分，未完成不得分", "指标出处": "省级考核办法"}
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
        header_overrides={"project": {"评分": "评（扣）分标准"}},
    )
    result = validate_workbooks([read_ok(written.path)], year=2026)
    project = result.rows[result.rows["sheet_kind"] == "project"]
    # The raw record is kept as written (validation folds every other text column).
    records = [json.loads(x) for x in project["extra_json"]]
    assert records == [{"评（扣）分标准": "完成得满分"}]
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


# --- Traditional Chinese, full width, numbers ---------------------------------------------------------------


def test_traditional_and_fullwidth_sheet_names_headers_values(tmp_path: Path) -> None:
    info = {"填報年度": "２０２６", "部門編碼：": "１０１００１", "單位名稱": "市測試局"}
    written = write_workbook(
        tmp_path / "繁體.xlsx",
        info,
        [core_row(name="政策宣傳覆蓋率")],
        [project_row(level1="產出指標", name="維修驗收合格率", target="≧９５％", unit="％")],
        sheet_names={"info": "部門信息", "core": "部門整體核心指標", "project": "表2 項目支出指標(2026)"},
        header_overrides={"project": {"level1": "一級指標", "target": "目標值", "unit": "計量單位"}},
    )
    book = read_ok(written.path)
    assert book.findings == []
    assert book.info_sheet == "部門信息"
    # Values are kept as typed (validation normalizes); keys are recognised whatever the script.
    assert book.info == {"year": "２０２６", "dept_code": "１０１００１", "dept_name": "市測試局"}
    sheet = book.sheets["project"]
    assert sheet.sheet_name == "表2 項目支出指標(2026)"
    assert sheet.frame["source_sheet"].tolist() == ["表2 項目支出指標(2026)"]
    assert sheet.frame["level1"].tolist() == ["產出指標"]
    assert sheet.frame["name"].tolist() == ["維修驗收合格率"]
    assert sheet.frame["target"].tolist() == ["≧９５％"]
    assert (
        sheet.frame["target_symbol"].iloc[0],
        sheet.frame["target_value"].iloc[0],
        sheet.frame["target_unit"].iloc[0],
    ) == ("≥", 95.0, "%")
    assert book.sheets["core"].frame["name"].tolist() == ["政策宣傳覆蓋率"]


def test_numbers_stored_as_text_read_like_numbers(tmp_path: Path) -> None:
    rows = [
        project_row(function_code=2010101, target=95, weight=10.0),
        project_row(function_code="2010101", target="95", weight="10"),
        project_row(function_code=" 2010101 ", target=95.5, weight="10"),
    ]
    frame = (
        read_ok(
            write_workbook(
                tmp_path / "n.xlsx", default_info(dept_code=101001, year=2026), [core_row()], rows
            ).path
        )
        .sheets["project"]
        .frame
    )
    assert frame["function_code"].tolist() == ["2010101"] * 3
    assert frame["target"].tolist() == ["95", "95", "95.5"]
    assert frame["weight"].tolist() == ["10"] * 3
    assert frame["target_value"].tolist() == [95.0, 95.0, 95.5]


def test_percent_formatted_number_reads_as_shown(tmp_path: Path) -> None:
    """Excel stores a typed "95%" as 0.95 with a percent format; the official sees 95%."""
    path = tmp_path / "pct.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    pct = wb.add_format({"num_format": "0%"})
    ws = wb.add_worksheet("部门信息")
    ws.write_row(0, 0, ["部门编码", "101001"])
    wb.add_worksheet("部门整体核心指标").write_row(0, 0, ["指标名称", "指标说明", "计算符号", "目标值"])
    ws = wb.add_worksheet("项目支出指标")
    ws.write_row(
        0,
        0,
        [
            "项目名称",
            "功能分类科目编码",
            "一级指标",
            "二级指标",
            "三级指标",
            "指标解释",
            "计算符号",
            "目标值",
            "计量单位",
        ],
    )
    ws.write_row(1, 0, ["甲", "2010101", "产出指标", "质量指标", "合格率", "合格率", "≥"])
    ws.write_number(1, 7, 0.95, pct)
    ws.write_row(2, 0, ["甲", "2010101", "产出指标", "数量指标", "人次", "人次", "≥", 0.5])
    wb.close()
    frame = read_ok(path).sheets["project"].frame
    assert frame["target"].tolist() == ["95%", "0.5"]
    assert frame["target_value"].tolist() == [95.0, 0.5]
    assert frame["target_unit"].tolist() == ["%", ""]


# --- empty rows, notes rows ---------------------------------------------------------------------------------


def test_blank_rows_skipped_and_notes_rows_set_aside(tmp_path: Path) -> None:
    rows = [project_row(name=f"指标{i}") for i in range(4)]
    notes = [
        "填表人：张三        审核人：李四",
        ["填报日期：", "2025-11-20", None, "联系电话：", "0571-8888"],
        ["注：1.目标值请填数值"],
    ]
    written = write_workbook(
        tmp_path / "notes.xlsx",
        default_info(),
        [core_row()],
        rows,
        blank_rows_after={"project": [0, 2]},
        notes_rows={"project": notes},
    )
    sheet = read_ok(written.path).sheets["project"]
    assert sheet.frame["name"].tolist() == ["指标0", "指标1", "指标2", "指标3"]
    assert sheet.frame["source_row"].tolist() == written.data_rows["project"] == [2, 4, 5, 7]
    assert [r for r, _ in sheet.skipped_rows] == written.notes_rows["project"]
    assert all("备注或签名行" in why for _, why in sheet.skipped_rows)


def test_data_that_merely_starts_like_a_note_is_kept(tmp_path: Path) -> None:
    rows = [project_row(name="注册企业数量"), project_row(project="说明书印制项目", name="印制数量")]
    frame = (
        read_ok(
            write_workbook(
                tmp_path / "k.xlsx",
                default_info(),
                [core_row()],
                rows,
                columns={
                    "project": [
                        "name",
                        "project",
                        "function_code",
                        "level1",
                        "level2",
                        "definition",
                        "symbol",
                        "target",
                    ]
                },
            ).path
        )
        .sheets["project"]
        .frame
    )
    assert frame["name"].tolist() == ["注册企业数量", "印制数量"]


def test_seq_only_rows_and_repeated_header_rows_are_not_data(tmp_path: Path) -> None:
    header = [
        "序号",
        "项目名称",
        "功能分类科目编码",
        "一级指标",
        "二级指标",
        "三级指标",
        "指标解释",
        "计算符号",
        "目标值",
    ]
    data = [1, "甲", "2010101", "产出指标", "数量指标", "人次", "反映人次", "≥", 10]
    grid = [
        header,
        data,
        header,
        [2, "甲", "2010101", "产出指标", "质量指标", "合格率", "反映合格率", "≥", "95%"],
        [3],
        [4],
        ["   "],
    ]
    path = write_grid_workbook(
        tmp_path / "seq.xlsx",
        {
            "部门信息": [["部门编码", 1]],
            "部门整体核心指标": [["指标名称", "指标说明", "计算符号", "目标值"]],
            "项目支出指标": grid,
        },
    )
    sheet = read_ok(path).sheets["project"]
    assert sheet.frame["source_row"].tolist() == [2, 4]
    assert sheet.skipped_rows == [
        (3, "重复的表头行"),
        (5, "只有序号，没有指标内容"),
        (6, "只有序号，没有指标内容"),
    ]


def test_garbage_rows_are_kept_for_validation(tmp_path: Path) -> None:
    rows = [project_row(), {"name": "???"}, {"target": "待定", "level1": "经济指标"}]
    frame = (
        read_ok(write_workbook(tmp_path / "g.xlsx", default_info(), [core_row()], rows).path)
        .sheets["project"]
        .frame
    )
    assert len(frame) == 3
    assert frame["name"].tolist() == ["日常维修维护次数", "???", ""]
    assert math.isnan(frame["target_value"].iloc[2])
    assert frame["target_text"].iloc[2] == "待定"


# --- formulas ---------------------------------------------------------------------------------------------


def test_formulas_give_cached_values_and_are_never_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "formula.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("部门信息")
    ws.write_row(0, 0, ["部门编码", "101001"])
    ws.write_formula(1, 0, '="填报"&"年度"', None, "填报年度")
    ws.write_formula(1, 1, "=2000+25", None, 2026)
    wb.add_worksheet("部门整体核心指标").write_row(0, 0, ["指标名称", "指标说明", "计算符号", "目标值"])
    ws = wb.add_worksheet("项目支出指标")
    ws.write_row(
        0,
        0,
        [
            "项目名称",
            "功能分类科目编码",
            "一级指标",
            "二级指标",
            "三级指标",
            "指标解释",
            "计算符号",
            "目标值",
            "权重",
        ],
    )
    ws.write_row(1, 0, ["甲", "2010101", "产出指标", "数量指标", "人次", "人次", "≥"])
    # The cached values disagree with what the formulas would compute: only the cached ones may appear.
    ws.write_formula(1, 7, "=1+1", None, 95)
    ws.write_formula(1, 8, '=WEBSERVICE("http://example.invalid/")', None, "10")
    ws.write_formula(2, 5, "=A2", None, "")
    wb.close()
    book = read_ok(path)
    assert book.info == {"dept_code": "101001", "year": "2026"}
    frame = book.sheets["project"].frame
    assert frame["target"].tolist() == ["95"]
    assert frame["weight"].tolist() == ["10"]
    assert frame["source_row"].tolist() == [2]  # the formula with an empty cached value makes no row


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


# --- hostile and broken files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        ("项目名称,三级指标,目标值\n甲,人次,100\n".encode("gb18030"), "CSV"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (bytes(range(256)) * 4, "无法识别"),
        (b"", "空"),
        (b"%PDF-1.7\n", "PDF"),
    ],
)
def test_not_an_xlsx_is_f001(tmp_path: Path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_bytes(content)
    book = read_workbook(path)
    assert not book.readable
    assert codes(book) == ["F001"]
    assert looks_like in book.findings[0].value
    assert book.sheets == {} and book.info == {}


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    book = read_workbook(path)
    assert codes(book) == ["F001"] and "Word" in book.findings[0].value


def test_truncated_and_corrupt_zip(tmp_path: Path) -> None:
    good = write_workbook(
        tmp_path / "good.xlsx", default_info(), [core_row()], [project_row() for _ in range(50)]
    ).path
    data = good.read_bytes()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(data[: len(data) // 2])
    book = read_workbook(truncated)
    assert not book.readable and codes(book) == ["F001"]

    # Same size, central directory intact, but a member's compressed bytes flipped: CRC or inflate fails.
    corrupt = bytearray(data)
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 10, start + min(info.compress_size, 400)):
        corrupt[k] ^= 0x5A
    bad = tmp_path / "corrupt.xlsx"
    bad.write_bytes(bytes(corrupt))
    book = read_workbook(bad)
    assert not book.readable and codes(book) == ["F001"]
    assert "sheet3.xml" in book.findings[0].value


@pytest.fixture(scope="module")
def ratio_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 300 MB of worksheet XML (more than the total bound too) in a file well under 1 MB.
    return write_zip_bomb(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", 300 << 20)


def test_zip_bomb_ratio_is_refused_with_bounded_memory(ratio_bomb: Path) -> None:
    bomb = ratio_bomb
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        book = read_workbook(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not book.readable
    assert codes(book) == ["F002"]
    assert "压缩比" in book.findings[0].message
    assert peak < 200 << 20


def test_zip_bomb_total_size_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    limit = reference().limits["max_uncompressed_bytes"]
    bomb = write_zip_bomb(tmp_path / "bomb2.xlsx", limit + (8 << 20), compressible=False)
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    assert (
        info.file_size < reference().limits["max_compression_ratio"] * info.compress_size
    )  # ratio alone passes
    tracemalloc.start()
    try:
        book = read_workbook(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert codes(book) == ["F002"] and not book.readable
    assert "解压后" in book.findings[0].message
    assert peak < 200 << 20


def test_declared_sizes_that_lie_do_not_help(tmp_path: Path, ratio_bomb: Path) -> None:
    """The central directory claims a tiny uncompressed size; the bytes actually inflated are counted."""
    bomb = ratio_bomb
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    # Patch the zip64 extra field's uncompressed size in the central directory to 1000 bytes.
    needle = info.file_size.to_bytes(8, "little")
    at = data.rfind(needle)
    assert at > info.header_offset
    data[at : at + 8] = (1000).to_bytes(8, "little")
    liar = tmp_path / "liar2.xlsx"
    liar.write_bytes(bytes(data))
    book = read_workbook(liar)
    assert codes(book) == ["F002"] or codes(book) == ["F001"]  # refused either as too big or inconsistent
    assert not book.readable


def test_far_away_cell_is_refused_before_the_parser_allocates(tmp_path: Path) -> None:
    # calamine would allocate a dense 1,048,576 × 16,384 grid for this 5 KB file and abort the process.
    book = read_workbook(write_far_cell_workbook(tmp_path / "far.xlsx"))
    assert codes(book) == ["F002"] and not book.readable
    book = read_workbook(write_far_cell_workbook(tmp_path / "wide.xlsx", "GS1"))  # column 201
    assert codes(book) == ["F002"] and "列" in book.findings[0].message
    book = read_workbook(write_far_cell_workbook(tmp_path / "long.xlsx", "A200001"))
    assert codes(book) == ["F002"] and "200001" in book.findings[0].message
    # Within the row and column bounds, but the sheet's range (rows × columns) is over the cell budget.
    book = read_workbook(write_far_cell_workbook(tmp_path / "square.xlsx", "GR199999"))
    assert codes(book) == ["F002"] and "199999 行 × 200 列" in book.findings[0].message
    for cell in ("A200000", "GR1000"):  # at the row bound; at the column bound
        book = read_workbook(write_far_cell_workbook(tmp_path / f"{cell}.xlsx", cell))
        assert book.readable, (cell, book.findings)


def test_cells_without_references_are_bounded_exactly(tmp_path: Path) -> None:
    """Rows/cells may omit r= (position implied); the bound must hold for them too."""
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    limit = reference().limits["max_columns_per_sheet"]
    cells = "".join('<c t="inlineStr"><is><t>x</t></is></c>' for _ in range(limit + 1))
    sheet = f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>{cells}</row></sheetData></worksheet>'
    out = tmp_path / "positional.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, sheet if info.filename == "xl/worksheets/sheet3.xml" else zin.read(info))
    book = read_workbook(out)
    assert codes(book) == ["F002"] and not book.readable


def test_too_many_zip_entries(tmp_path: Path) -> None:
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    out = tmp_path / "many.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        for i in range(reference().limits["max_zip_entries"]):
            zout.writestr(f"customXml/item{i}.xml", "")
    book = read_workbook(out)
    assert codes(book) == ["F002"] and "2000" in book.findings[0].message


def test_macros_are_ignored(tmp_path: Path) -> None:
    src = write_workbook(tmp_path / "src.xlsx", default_info(), [core_row()], [project_row()]).path
    out = tmp_path / "macro.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"Sub AutoOpen()" * 100)
    book = read_ok(out)
    assert book.findings == [] and len(book.sheets["project"].frame) == 1


# --- real rows ------------------------------------------------------------------------------------------------


def test_real_indicator_rows_round_trip_with_provenance(tmp_path: Path) -> None:
    real = load_realdata()
    if not real:
        pytest.skip("real data directory not available")
    picked = [r for r in real if r["value"]] + [r for r in real if r["level1"] in ("项目产出", "项目效果")][
        :40
    ]
    rows = realdata_project_rows(picked)
    written = write_workbook(
        tmp_path / "real.xlsx",
        default_info(),
        [core_row()],
        rows,
        title_rows=1,
        notes_rows={"project": ["填表人：王五"]},
    )
    sheet = read_ok(written.path).sheets["project"]
    frame = sheet.frame
    assert len(frame) == len(picked)
    assert frame["source_row"].tolist() == written.data_rows["project"]
    assert frame["name"].tolist() == [r["name"].strip() for r in picked]
    # The old-framework labels are kept verbatim for the normalizer; blanks under a label are filled.
    assert "项目产出" in set(frame["level1"])
    by_value = {
        r: (s, v, u)
        for r, s, v, u in zip(
            frame["target"], frame["target_symbol"], frame["target_value"], frame["target_unit"], strict=True
        )
    }
    assert by_value["≥100百分比"] == ("≥", 100.0, "%")
    assert by_value["1000标箱"] == ("", 1000.0, "标箱")
    assert by_value["-0%"] == ("", 0.0, "%")
    assert by_value["5人/10万人"] == ("", 5.0, "人/10万人")
    assert math.isnan(by_value["效果明显"][1]) and by_value["效果明显"][0] == ""
    assert by_value["不超预算"][0] == "≤" and math.isnan(by_value["不超预算"][1])
    assert by_value["≥99%（另一处写作≤99%）"][:2] == ("≥", 99.0)
    assert by_value["292% (sic, OCR of ≥92%)"][:2] == ("", 292.0)
    assert sheet.skipped_rows == [(written.notes_rows["project"][0], "备注或签名行：填表人：王五")]


# --- parse_target / parse_history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit_hint", "expected"),
    [
        ("≥95%", "", ("≥", 95.0, "%")),
        ("不低于 90 %", "", ("≥", 90.0, "%")),
        ("≤ 3 天", "", ("≤", 3.0, "天")),
        ("≥100百分比", "", ("≥", 100.0, "%")),
        ("292%", "", ("", 292.0, "%")),
        (">92%", "", (">", 92.0, "%")),
        ("-0%", "", ("", 0.0, "%")),
        ("100%", "", ("", 100.0, "%")),
        ("1000标箱", "", ("", 1000.0, "标箱")),
        ("2280次", "次", ("", 2280.0, "次")),
        ("1,000", "人次", ("", 1000.0, "人次")),
        ("95%以上", "", ("≥", 95.0, "%")),
        ("3天以内", "", ("≤", 3.0, "天")),
        ("5个工作日内", "", ("≤", 5.0, "个工作日")),
        ("≥99%（另一处写作≤99%）", "", ("≥", 99.0, "%")),
        ("100（人次）", "", ("", 100.0, "人次")),
        ("效果明显", "", ("", None, "")),
        ("是", "", ("", None, "")),
        ("不超预算", "", ("≤", None, "")),
        ("大于等于95%", "", ("≥", 95.0, "%")),
        ("＞＝９５％", "", ("≥", 95.0, "%")),
        ("≧95", "%", ("≥", 95.0, "%")),
        ("95", "百分比", ("", 95.0, "%")),
        ("=100%", "", ("=", 100.0, "%")),
        ("为民服务", "", ("", None, "")),
        ("2024年底前完成", "", ("", None, "")),
        ("90%-95%", "", ("", None, "")),
        ("定性", "", ("定性", None, "")),
        ("", "%", ("", None, "%")),
        ("12.5万元", "", ("", 12.5, "万元")),
    ],
)
def test_parse_target(text: str, unit_hint: str, expected: tuple[str, float | None, str]) -> None:
    parsed = parse_target(text, unit_hint)
    assert (parsed.symbol, parsed.value, parsed.unit) == expected
    assert parsed.text == (text and parsed.text)  # qualitative text kept
    if text in ("效果明显", "不超预算"):
        assert parsed.text == text


def test_parse_target_symbols_come_from_the_vocabulary() -> None:
    for alias, symbol in reference().vocab_lookup["symbol"].items():
        if symbol == "定性":
            continue
        parsed = parse_target(f"{alias}5")
        assert (parsed.symbol, parsed.value) == (symbol, 5.0), alias


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年:95%;2025年:97%", {"2024": "95%", "2025": "97%"}),
        ("2023年95%，2024年96%", {"2023": "95%", "2024": "96%"}),
        ("2024：90", {"2024": "90"}),
        ("2024年度：1,000；2025年度：1,200", {"2024": "1,000", "2025": "1,200"}),
        ("95%", {"": "95%"}),
        ("", {}),
        ("  ", {}),
    ],
)
def test_parse_history(text: str, expected: dict[str, str]) -> None:
    assert parse_history(text) == expected


def test_history_json_is_sorted(tmp_path: Path) -> None:
    row = project_row(history="2025年:97%;2023年:90%")
    frame = (
        read_ok(write_workbook(tmp_path / "hj.xlsx", default_info(), [core_row()], [row]).path)
        .sheets["project"]
        .frame
    )
    assert frame["history_json"].tolist() == ['{"2023": "90%", "2025": "97%"}']


# --- the benchmark corpus reads back exactly -----------------------------------------------------------------


def test_generated_corpus_reads_back_with_its_counts(tmp_path: Path) -> None:
    from benchmarks.corpus import generate_corpus

    corpus = generate_corpus(tmp_path / "a", rows=2400, year=2026, seed=8, departments=6)
    again = generate_corpus(tmp_path / "b", rows=2400, year=2026, seed=8, departments=6)
    assert [p.read_bytes() for p in corpus.paths] == [p.read_bytes() for p in again.paths]  # deterministic
    assert corpus.total_rows == 2400
    styles = {s for f in corpus.files for s in f.style}
    assert {"merged", "blanks", "traditional", "fullwidth", "aliases", "shuffled", "notes", "title"} <= styles
    for f, path in zip(corpus.files, corpus.paths, strict=True):
        book = read_ok(path)
        assert book.findings == [], f.file
        assert book.info["dept_code"] == f.dept_code
        counts = {kind: len(sheet.frame) for kind, sheet in book.sheets.items()}
        assert counts == {
            "core": f.core_rows,
            "project": f.project_rows,
            **({"common": f.common_rows} if f.common_rows else {}),
        }
        frame = book.sheets["project"].frame
        assert (frame["project"] != "").all() and (frame["level1"] != "").all()  # merged/blank cells filled
        assert frame["source_row"].is_monotonic_increasing


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
