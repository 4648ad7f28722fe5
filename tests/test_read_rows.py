"""The reader's rows on real xlsx files written by the tests: provenance, merged cells and blanks filled,
Traditional Chinese and numbers as typed, notes rows set aside, formulas, real rows, the benchmark corpus."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.intake.workbook import SheetRows
from tests.read_helpers import EXTRA, PARSED, PROVENANCE, read_ok
from tests.xlsx_builders import (
    core_row,
    default_info,
    english_columns,
    load_realdata,
    project_row,
    realdata_project_rows,
    write_grid_workbook,
    write_workbook,
)

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
