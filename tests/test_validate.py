"""Validation (CONTRACT §3): the four outcomes, located Chinese findings, grouping, accounting, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from pipelines.common.findings import group_findings
from pipelines.intake.read import read_workbook
from pipelines.validate.runner import validate_workbooks
from schemas.vocab import reference
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook


def _project(name: str, **kw: object) -> list[dict[str, object]]:
    """A well-formed project: quantity, quality, effect and satisfaction indicators."""
    base = {"project": name, **kw}
    return [
        project_row(
            **base, level1="产出指标", level2="数量指标", name=f"{name}服务人次", unit="人次", target=100
        ),
        project_row(
            **base, level1="产出指标", level2="质量指标", name=f"{name}验收合格率", unit="%", target=95
        ),
        project_row(
            **base, level1="效益指标", level2="社会效益指标", name=f"{name}覆盖率", unit="%", target=90
        ),
        project_row(
            **base,
            level1="满意度指标",
            level2="服务对象满意度指标",
            name=f"{name}满意度",
            unit="%",
            target=90,
        ),
    ]


def _validate(
    *paths: Path, year: int | None = 2026, finance: str | None = None, indicators: pd.DataFrame | None = None
):  # type: ignore[no-untyped-def]
    workbooks = [read_workbook(p) for p in paths]
    return validate_workbooks(workbooks, year=year, finance_dept=finance, indicators=indicators)


def _codes(result, code: str) -> list:  # type: ignore[no-untyped-def]
    return [f for f in result.findings if f.code == code]


def test_clean_workbook_all_rows_enter_the_library(tmp_path: Path) -> None:
    path = tmp_path / "clean.xlsx"
    write_workbook(path, default_info(), [core_row()], _project("档案数字化"))
    result = _validate(path)
    assert result.counts() == {"read": 5, "library": 5, "noncore": 0, "excluded": 0, "rejected": 0}
    assert result.exit_code == 0
    assert not [f for f in result.findings if f.severity in ("file_error", "row_error")]


def test_row_errors_are_located_in_excel_terms(tmp_path: Path) -> None:
    rows = _project("道路养护", function_code="2140106")
    rows += [
        project_row(project="道路养护", function_code="2140106", name=""),  # R101
        project_row(
            project="道路养护", function_code="2140106", level1="预算绩效", level2="预算管理"
        ),  # R102
        project_row(
            project="道路养护", function_code="2140106", level1="效益指标", level2="数量指标"
        ),  # R103
        project_row(project="道路养护", function_code="21401x6", name="编码有误"),  # R104
        project_row(project="道路养护", function_code="9990101", name="类不存在"),  # R105
        project_row(project="道路养护", function_code="2140106", symbol="约等于", name="符号有误"),  # R106
        project_row(
            project="道路养护", function_code="2140106", target="效果明显", name="目标非数字"
        ),  # R107
        project_row(
            project="道路养护",
            function_code="2140106",
            change_type="修改",
            library_id="ZB-X000001",
            name="缺理由",
        ),  # R108
        project_row(
            project="道路养护",
            function_code="2140106",
            change_type="退出",
            change_reason="不再开展",
            name="缺编号",
        ),  # R111
    ]
    path = tmp_path / "errors.xlsx"
    written = write_workbook(path, default_info(), [core_row()], rows, title_rows={"project": 2})
    result = _validate(path)
    data_rows = written.data_rows["project"]
    letters = written.columns["project"]
    expected = {
        "R101": (4, "name"),
        "R102": (5, "level1"),
        "R103": (6, "level2"),
        "R104": (7, "function_code"),
        "R105": (8, "function_code"),
        "R106": (9, "symbol"),
        "R107": (10, "target"),
        "R108": (11, "change_reason"),
        "R111": (12, "library_id"),
    }
    for code, (index, column) in expected.items():
        found = _codes(result, code)
        assert found, code
        f = found[0]
        assert (f.sheet, f.row, f.column) == ("项目支出指标", data_rows[index], letters[column]), code
        assert f.message and f.fix and "“" in f.message or code in ("R101",)
    # Title rows above the header: the Excel row numbers are still the true ones (header at row 3).
    assert written.header_row["project"] == 3 and data_rows[0] == 4
    assert result.counts()["rejected"] == 9 and result.counts()["library"] == 5
    assert result.exit_code == 1
    r107 = _codes(result, "R107")[0]
    assert "效果明显" in r107.message and "定性" in r107.fix


def test_warnings_keep_rows(tmp_path: Path) -> None:
    big = [
        project_row(project="大项目", name=f"指标{i}", level2="数量指标") for i in range(11)
    ]  # W201, W203, W204
    construction = [
        project_row(
            project="校舍改造",
            project_category="工程基建类",
            level2="数量指标",
            name="改造面积",
            unit="平方米",
        ),
        project_row(
            project="校舍改造",
            project_category="工程基建类",
            level2="质量指标",
            name="验收合格率",
            unit="%",
            target=100,
        ),
        project_row(
            project="校舍改造",
            project_category="工程基建类",
            level1="效益指标",
            level2="社会效益指标",
            name="受益学生数",
            unit="人",
        ),
    ]  # W205
    weighted = [
        project_row(
            project="补贴发放",
            level1="产出指标",
            level2="数量指标",
            name="补贴发放户数",
            unit="户",
            weight=30,
        ),
        project_row(
            project="补贴发放",
            level1="产出指标",
            level2="质量指标",
            name="发放准确率",
            unit="%",
            target=98,
            weight=10,
        ),
        project_row(
            project="补贴发放",
            level1="效益指标",
            level2="社会效益指标",
            name="困难群众覆盖率",
            unit="%",
            target=90,
            weight=30,
        ),
        project_row(
            project="补贴发放",
            level1="满意度指标",
            level2="服务对象满意度指标",
            name="补贴对象满意度",
            unit="%",
            target=90,
            weight=10,
        ),
    ]  # W207: 产出 50 expected
    misc = [
        project_row(project="补贴发放", name="无来源指标", data_source="", history=""),  # W208, W209
        project_row(project="补贴发放", name="2025年第一季度完成率", unit="%"),  # W210
        project_row(project="补贴发放", name="款不在目录", function_code="2089999"),  # W211
    ]
    cores = [core_row(name=f"核心{i}") for i in range(7)]  # W206 (单一: limit 6)
    path = tmp_path / "warnings.xlsx"
    write_workbook(path, default_info(complexity="单一"), cores, big + construction + weighted + misc)
    result = _validate(path)
    for code in ("W201", "W203", "W204", "W205", "W206", "W207", "W208", "W209", "W210", "W211"):
        assert _codes(result, code), code
    assert result.counts()["rejected"] == 0
    assert result.exit_code == 0
    w207 = _codes(result, "W207")[0]
    assert "产出指标 40 应为 50" in w207.message


def test_noncore_and_phase_rows_are_set_aside(tmp_path: Path) -> None:
    rows = _project("文化惠民")
    rows += [
        project_row(project="文化惠民", name="部门自用指标", include="否"),
        project_row(project="文化惠民", name="一期工程完工率", phased="是"),
        project_row(
            project="场馆建设", project_nature="一次性", name="场馆主体完工率", phased="是", unit="%"
        ),
    ]
    path = tmp_path / "setaside.xlsx"
    write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    c = result.counts()
    assert (c["noncore"], c["excluded"], c["library"]) == (1, 1, 5)
    assert c["read"] == c["library"] + c["noncore"] + c["excluded"] + c["rejected"]
    kept_one_off = result.rows[result.rows["name"] == "场馆主体完工率"]["outcome"].tolist()
    assert kept_one_off == ["library"]


def test_file_errors_set_the_workbook_aside_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    write_workbook(good, default_info(dept_code="201"), [core_row()], _project("甲"))
    wrong_year = tmp_path / "wrong_year.xlsx"
    write_workbook(wrong_year, default_info(year=2025, dept_code="202"), [core_row()], _project("乙"))
    bad_code = tmp_path / "bad_code.xlsx"
    write_workbook(bad_code, default_info(dept_code="20A"), [core_row()], [])
    no_name = tmp_path / "no_name.xlsx"
    write_workbook(no_name, {"year": 2026, "dept_code": "203"}, [core_row()], [])
    dup_a, dup_b = tmp_path / "dup_a.xlsx", tmp_path / "dup_b.xlsx"
    write_workbook(dup_a, default_info(dept_code="204"), [core_row()], [])
    write_workbook(dup_b, default_info(dept_code="204"), [core_row(), core_row(name="另一个")], [])
    result = _validate(good, wrong_year, bad_code, no_name, dup_a, dup_b)
    by_file = {s.file: s for s in result.files}
    assert not by_file["good.xlsx"].set_aside
    assert by_file["wrong_year.xlsx"].file_errors == ["F006"]
    assert "F008" in by_file["bad_code.xlsx"].file_errors
    assert "F005" in by_file["no_name.xlsx"].file_errors
    assert by_file["dup_a.xlsx"].file_errors == ["F007"] and by_file["dup_b.xlsx"].file_errors == ["F007"]
    f007 = _codes(result, "F007")[0]
    assert "dup_a.xlsx" in f007.message and "dup_b.xlsx" in f007.message
    rows = result.rows
    assert set(rows.loc[rows["source_file"] != "good.xlsx", "outcome"]) == {"rejected"}
    assert set(rows.loc[rows["source_file"] == "good.xlsx", "outcome"]) == {"library"}
    c = result.counts()
    assert c["read"] == c["library"] + c["rejected"] == 5 + 5 + 1 + 1 + 1 + 2


def test_common_indicators_only_from_the_finance_bureau(tmp_path: Path) -> None:
    common = [project_row(project="", function_code="", name="培训人次", unit="人次")]
    finance = tmp_path / "finance.xlsx"
    write_workbook(finance, default_info(dept_code="101"), [], [], common_rows=common)
    other = tmp_path / "other.xlsx"
    write_workbook(other, default_info(dept_code="305"), [], _project("丙"), common_rows=common)
    result = _validate(finance, other, finance="101")
    assert result.rows.loc[result.rows["source_file"] == "finance.xlsx", "outcome"].tolist() == ["library"]
    r113 = _codes(result, "R113")
    assert len(r113) == 1 and r113[0].file == "other.xlsx" and "305" in r113[0].message
    other_rows = result.rows[result.rows["source_file"] == "other.xlsx"]
    assert (other_rows["outcome"] == "library").sum() == 4  # its project rows still go through


def test_library_references_are_checked_against_the_published_library(tmp_path: Path) -> None:
    indicators = pd.DataFrame(
        {
            "indicator_id": ["ZB-X000001", "ZB-X000002", "ZB-G000001"],
            "scope": ["项目", "项目", "共性"],
            "departments": [["401"], ["999"], ["101"]],
        }
    )
    rows = _project("丁") + [
        project_row(
            project="丁", change_type="修改", library_id="ZB-X000001", change_reason="口径调整", name="自己的"
        ),
        project_row(
            project="丁", change_type="修改", library_id="ZB-X000002", change_reason="口径调整", name="别人的"
        ),
        project_row(
            project="丁", change_type="退出", library_id="ZB-G000001", change_reason="不用", name="共性的"
        ),
        project_row(project="丁", change_type="沿用", library_id="ZB-X000404", name="不存在"),
    ]
    path = tmp_path / "refs.xlsx"
    write_workbook(path, default_info(dept_code="401"), [], rows)
    result = _validate(path, indicators=indicators)
    assert [f.value for f in _codes(result, "R110")] == ["ZB-X000002"]
    assert "999" in _codes(result, "R110")[0].message
    assert [f.value for f in _codes(result, "R112")] == ["ZB-G000001"]
    assert [f.value for f in _codes(result, "R109")] == ["ZB-X000404"]
    ok = result.rows[result.rows["name"] == "自己的"]["outcome"].tolist()
    assert ok == ["library"]


def test_identical_problems_are_grouped(tmp_path: Path) -> None:
    rows = [project_row(project=f"项目{i // 5}", name=f"指标{i}", data_source="") for i in range(500)]
    path = tmp_path / "many.xlsx"
    write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    groups = [g for g in group_findings(result.findings) if g.code == "W208"]
    assert len(groups) == 1
    assert groups[0].count == 500 and len(groups[0].cells) == 5
    assert groups[0].cells_zh.endswith("等 500 处")


def test_traditional_and_fullwidth_workbook_is_understood(tmp_path: Path) -> None:
    rows = [
        project_row(
            project="圖書館運行",
            level1="產出指標",
            level2="質量指標",
            name="圖書借閱率",
            symbol="不低於",
            target="９０",
            unit="％",
        ),
        project_row(
            project="圖書館運行", level1="效益指標", level2="社會效益指標", name="讀者覆蓋率", target="≧85%"
        ),
    ]
    path = tmp_path / "trad.xlsx"
    write_workbook(path, default_info(), [], rows, sheet_names={"project": "項目支出指標"})
    result = _validate(path)
    assert result.counts()["library"] == 2, [f.message for f in result.findings if f.severity == "row_error"]
    rows = result.rows.set_index("name")
    assert rows.loc["图书借阅率", "level2"] == "质量指标"
    assert rows.loc["图书借阅率", "symbol"] == "≥"
    assert rows.loc["读者覆盖率", "symbol"] == "≥"


# --------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------


def test_cli_validate_folder_mixed_exits_1_and_names_cells(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_workbook(folder / "clean.xlsx", default_info(dept_code="501"), [core_row()], _project("戊"))
    bad_rows = _project("己") + [project_row(project="己", target="效果明显", name="目标非数字")]
    written = write_workbook(folder / "rows.xlsx", default_info(dept_code="502"), [core_row()], bad_rows)
    (folder / "broken.xlsx").write_bytes(b"this is not a workbook at all")
    code = main(["validate", str(folder), "--year", "2026", "--feedback", str(tmp_path / "fb")])
    out = capsys.readouterr().out
    assert code == 1
    row = written.data_rows["project"][4]
    letter = written.columns["project"]["target"]
    assert f"{letter}{row}" in out and "项目支出指标" in out and "[R107]" in out
    assert "broken.xlsx" in out and "[F001]" in out
    assert "clean.xlsx" in out
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == [
        "broken_反馈.xlsx",
        "clean_反馈.xlsx",
        "rows_反馈.xlsx",
    ]

    code = main(["validate", str(folder), "--year", "2026", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["exit_code"] == 1
    files = {f["file"]: f for f in data["files"]}
    assert files["broken.xlsx"]["readable"] is False
    cells = [
        (f["sheet"], f["row"], f["column"]) for f in files["rows.xlsx"]["findings"] if f["code"] == "R107"
    ]
    assert cells == [("项目支出指标", row, letter)]
    assert data["rows"]["read"] == data["rows"]["library"] + data["rows"]["rejected"]


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.xlsx"
    write_workbook(clean, default_info(), [core_row()], _project("庚"))
    assert main(["validate", str(clean), "--year", "2026"]) == 0
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 truncated")
    assert main(["validate", str(junk)]) == 2
    assert main(["validate", str(tmp_path / "missing.xlsx")]) == 2
    assert main(["validate"]) == 2
    capsys.readouterr()


# --------------------------------------------------------------------------------------------------
# Issue 11: inputs nobody here wrote
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout",
    [
        "core_only_project_header_only",
        "project_only",
        "core_minimal_columns",
        "common_only",
        "no_rows_at_all",
    ],
)
def test_any_valid_combination_of_sheets_and_columns_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], layout: str
) -> None:
    """Point 1: a department filing only 部门整体核心指标 (项目支出指标 present, header only) used to crash
    with KeyError 'project_category'; every valid combination must validate and account for its rows."""
    path = tmp_path / f"{layout}.xlsx"
    info = default_info(dept_code="101")
    minimal_core = ["name", "definition", "symbol", "target"]  # the required columns only
    if layout == "core_only_project_header_only":
        write_workbook(path, info, [core_row()], [])
    elif layout == "project_only":
        write_workbook(path, info, [], _project("档案数字化"))
    elif layout == "core_minimal_columns":
        write_workbook(
            path, info, [core_row(), core_row(name="政策知晓率")], [], columns={"core": minimal_core}
        )
    elif layout == "common_only":
        write_workbook(
            path, info, [], [], common_rows=[core_row(name="会议培训人次", unit="人次", target=300)]
        )
    else:
        write_workbook(path, info, [], [])
    code = main(["validate", str(path), "--year", "2026", "--finance-dept", "101", "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    rows = data["rows"]
    assert rows["read"] == rows["library"] + rows["noncore"] + rows["excluded"] + rows["rejected"]
    expected_rows = {"core_minimal_columns": 2, "project_only": 4, "no_rows_at_all": 0}.get(layout, 1)
    assert rows["read"] == expected_rows
    if layout != "no_rows_at_all":
        assert rows["library"] == expected_rows, data


def test_written_level1_outside_the_framework_is_never_overridden(tmp_path: Path) -> None:
    """Point 2: 投入指标/数量指标 is R102 (not re-filed under 产出指标 through a `*` alias row); an empty 一级
    filled from the 二级 is kept, with an I404 on that row; a short label is an I401 on its row."""
    rows = _project("道路养护") + [
        project_row(project="乙项目", level1="投入指标", level2="数量指标", name="投入人次", unit="人次"),
        project_row(project="丙项目", level1="", level2="数量指标", name="养护里程", unit="公里"),
        project_row(project="丁项目", level1="产出", level2="质量", name="养护合格率", unit="%", target=95),
    ]
    path = tmp_path / "levels.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    data_rows = written.data_rows["project"]
    r102 = _codes(result, "R102")
    assert [(f.row, f.value) for f in r102] == [(data_rows[4], "投入指标")]
    rejected = result.rows[result.rows["source_row"] == data_rows[4]].iloc[0]
    assert rejected["outcome"] == "rejected" and rejected["level1"] == "投入指标"
    inferred = [f for f in _codes(result, "I404") if f.row == data_rows[5]]
    assert len(inferred) == 1 and "产出指标" in inferred[0].message and "数量指标" in inferred[0].message
    assert result.rows.loc[result.rows["source_row"] == data_rows[5], "outcome"].tolist() == ["library"]
    short = [f for f in _codes(result, "I401") if f.row == data_rows[6]]
    assert short and "产出" in short[0].message and "质量指标" in short[0].message
    assert not [f for f in _codes(result, "I401") + _codes(result, "I404") if f.row in data_rows[:4]]


def test_real_label_variants_are_aliases_and_satisfaction_is_checked(tmp_path: Path) -> None:
    """Point 6: pre-2018 labels with their 指标 suffix and the MoF evaluation form's label are understood (with
    a note); a 满意度 filed under 产出 warns (W218); a 满意度 target of 950 % is a row error (R115), a growth
    rate of 150 % is not."""
    rows = [
        project_row(project="甲", level1="产出指标", level2="产出数量指标", name="培训人次", unit="人次"),
        project_row(
            project="甲", level1="产出指标", level2="产出质量指标", name="培训合格率", unit="%", target=95
        ),
        project_row(project="甲", level1="产出指标", level2="产出成本指标", name="人均培训成本", unit="元"),
        project_row(
            project="甲",
            level1="满意度指标",
            level2="社会公众或服务对象满意度指标",
            name="学员满意度",
            unit="%",
            target=90,
        ),
        project_row(
            project="甲", level1="产出指标", level2="质量指标", name="群众满意度", unit="%", target=90
        ),
        project_row(
            project="甲",
            level1="满意度指标",
            level2="服务对象满意度指标",
            name="服务满意度",
            unit="%",
            target=950,
        ),
        project_row(
            project="甲", level1="效益指标", level2="经济效益指标", name="收入增长率", unit="%", target=150
        ),
        project_row(
            project="甲", level1="产出指标", level2="质量指标", name="验收合格率", target="≥120%", unit=""
        ),
    ]
    path = tmp_path / "labels.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    at = dict(zip(written.data_rows["project"], range(len(rows)), strict=True))
    by_row = result.rows.set_index("source_row")
    assert not _codes(result, "R103") and not _codes(result, "R102")
    assert by_row.loc[written.data_rows["project"][0], "level2"] == "数量指标"
    assert by_row.loc[written.data_rows["project"][2], ["level1", "level2"]].tolist() == [
        "成本指标",
        "经济成本指标",
    ]
    assert by_row.loc[written.data_rows["project"][3], "level2"] == "服务对象满意度指标"
    noted = {at[f.row] for f in _codes(result, "I401")}
    assert {0, 1, 2, 3} <= noted
    assert [at[f.row] for f in _codes(result, "W218")] == [4]
    assert "群众满意度" in _codes(result, "W218")[0].message
    r115 = _codes(result, "R115")
    assert sorted(at[f.row] for f in r115) == [5, 7]
    assert "950" in r115[0].message and "满意度" in r115[0].message
    assert by_row.loc[written.data_rows["project"][6], "outcome"] == "library"  # 增长率 may exceed 100


def test_template_markers_are_stripped_and_shown(tmp_path: Path) -> None:
    """Point 5: ★, ** placeholders, (≥**%) tails and 指标1: prefixes leave the name before any key is made;
    the wording as written is kept (name_as_written) and the row's feedback shows original → cleaned."""
    rows = _project("扶贫") + [
        project_row(project="扶贫", name="★★★受益建档立卡贫困人口数≥**人", unit="人"),
        project_row(project="扶贫", level2="质量指标", name="指标1：补助发放率", unit="%", target=100),
        project_row(project="扶贫", level2="质量指标", name="种植作物成活率(≥**%)", unit="%", target=90),
    ]
    path = tmp_path / "markers.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    by_row = result.rows.set_index("source_row")
    data_rows = written.data_rows["project"]
    assert by_row.loc[data_rows[4:], "name"].tolist() == [
        "受益建档立卡贫困人口数",
        "补助发放率",
        "种植作物成活率",
    ]
    assert by_row.loc[data_rows[4:], "name_as_written"].tolist() == [
        "★★★受益建档立卡贫困人口数≥**人",
        "指标1:补助发放率",
        "种植作物成活率(≥**%)",
    ]
    assert (by_row.loc[data_rows[:4], "name_as_written"] == "").all()
    notes = {f.row: f for f in _codes(result, "I404")}
    assert set(notes) == set(data_rows[4:])
    assert "★★★受益建档立卡贫困人口数≥**人" in notes[data_rows[4]].message
    assert "“受益建档立卡贫困人口数”" in notes[data_rows[4]].message

    from pipelines.report.feedback import write_feedback

    wb = read_workbook(path)
    feedback = write_feedback(wb, result.findings, tmp_path / "fb")
    import openpyxl

    ws = openpyxl.load_workbook(feedback)["项目支出指标"]
    texts = [" ".join(str(c.value) for c in row if c.value is not None) for row in ws.iter_rows()]
    assert any("[I404]" in t and "种植作物成活率(≥**%)" in t and "“种植作物成活率”" in t for t in texts)


def test_a_placeholder_inside_a_name_is_a_warning_with_both_wordings(tmp_path: Path) -> None:
    """A ** (＊＊, ××) removed from inside a name is a part the department never filled in: W220 with the
    name as written, the name as read and the fix; a placeholder in a target at the end stays an I404."""
    rows = _project("宣传") + [
        project_row(project="宣传", level2="质量指标", name="提高**对**的重视程度", unit="%", target=90),
        project_row(project="宣传", name="将成果推广至＊＊国家或地区", unit="个", target=3),
        project_row(project="宣传", name="受益人口数≥**人", unit="人", target=100),
    ]
    path = tmp_path / "blanks.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    data_rows = written.data_rows["project"]
    warned = {f.row: f for f in _codes(result, "W220")}
    assert set(warned) == {data_rows[4], data_rows[5]}
    first = warned[data_rows[4]]
    assert first.severity == "warning" and first.sheet == "项目支出指标"
    assert "“提高**对**的重视程度”" in first.message and "“提高对的重视程度”" in first.message
    assert "请把占位符**替换为实际内容" in first.fix
    assert "“将成果推广至国家或地区”" in warned[data_rows[5]].message
    notes = {f.row for f in _codes(result, "I404")}
    assert data_rows[6] in notes and not notes & set(warned)  # one finding per marked name
    by_row = result.rows.set_index("source_row")
    assert by_row.loc[data_rows[4], "name_as_written"] == "提高**对**的重视程度"


def test_unknown_department_info_keys_are_noted_with_their_cell(tmp_path: Path) -> None:
    """Point 8 for 部门信息: a key the template does not know is not dropped unsaid (I405, naming the key,
    the sheet and the cell); a known key's alias (单位名称, 电话) and an unknown key left empty are not."""
    info = {
        "year": 2026,
        "dept_code": "101001",
        "单位名称": "市测试局",
        "电话": "0571-1234",
        "单位负责人": "张三",
        "统一社会信用代码": "11330100MB0000000X",
        "分管领导": None,
        "complexity": "复杂",
    }
    written = write_workbook(tmp_path / "info.xlsx", info, [core_row()], _project("甲"))
    result = _validate(written.path)
    notes = _codes(result, "I405")
    assert [(f.sheet, f.row, f.column, f.value, f.severity) for f in notes] == [
        ("部门信息", written.info_rows["单位负责人"], "A", "单位负责人", "info"),
        ("部门信息", written.info_rows["统一社会信用代码"], "A", "统一社会信用代码", "info"),
    ]
    assert f"A{written.info_rows['单位负责人']} 单元格" in notes[0].message
    assert result.exit_code == 0
    assert {s.dept_name for s in result.files} == {"市测试局"}


def test_grouped_messages_name_the_right_project(tmp_path: Path) -> None:
    """Point 7: J2、J13、J24 must not share 项目甲's message when J24 is 项目丙 lacking 数量."""
    quality_only = [
        project_row(project="项目甲", level2="数量指标", name="甲人次", unit="人次"),
        project_row(project="项目甲", level1="效益指标", level2="社会效益指标", name="甲效益", unit="人"),
    ]
    also_甲 = [
        project_row(project="项目乙", level2="数量指标", name="乙人次", unit="人次"),
        project_row(project="项目乙", level1="效益指标", level2="社会效益指标", name="乙效益", unit="人"),
    ]
    lacks_quantity = [
        project_row(project="项目丙", level2="质量指标", name="丙合格率", unit="%", target=95),
        project_row(project="项目丙", level1="效益指标", level2="社会效益指标", name="丙效益", unit="人"),
    ]
    path = tmp_path / "groups.xlsx"
    write_workbook(path, default_info(), [], quality_only + also_甲 + lacks_quantity)
    result = _validate(path)
    groups = [g for g in group_findings(result.findings) if g.code == "W204"]
    assert len(groups) == 3  # three projects, three different messages
    for g in groups:
        assert g.count == 1
        project = next(f for f in result.findings if f.code == "W204" and f.cell == g.cells[0]).value
        assert f"“{project}”" in g.message
    assert "数量指标" in next(g for g in groups if "项目丙" in g.message).message


def test_set_aside_reason_is_in_words(tmp_path: Path) -> None:
    """Point 9: a set-aside workbook's rows say why in Chinese words, not a bare code."""
    path = tmp_path / "wrong_year.xlsx"
    write_workbook(path, default_info(year=2025), [core_row()], _project("辛"))
    result = _validate(path, year=2026)
    reasons = set(result.rows["reasons"])
    assert len(reasons) == 1
    reason = reasons.pop()
    assert "填报年度" in reason and "2025" in reason and "2026" in reason
    assert "F006" not in reason
    assert set(result.rows["reason_codes"]) == {"F006"}


def test_function_codes_from_every_list_and_the_bureaus_own(tmp_path: Path) -> None:
    """Point 10: genuine codes of the older complete edition do not warn; the bureau's rules/ list adds codes."""
    rows = []
    for code, name in (
        ("2050305", "高职"),
        ("2130505", "生产发展"),
        ("2070205", "博物馆"),
        ("2089998", "新科目"),
    ):
        rows += _project(name, function_code=code)
    path = tmp_path / "codes.xlsx"
    write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    assert [f.value for f in _codes(result, "W211")] == ["2089998"] * 4  # only the code in no list
    rules = tmp_path / "repo" / "rules"
    rules.mkdir(parents=True)
    (rules / "function_classification.csv").write_text(
        "code,name,level,parent\n2089998,本市新增科目,项,20899\n", encoding="utf-8"
    )
    workbooks = [read_workbook(path)]
    result = validate_workbooks(workbooks, year=2026, rules_dir=rules)
    assert not _codes(result, "W211")
    # An unknown 类 stays a row error unless the bureau lists it.
    r105_path = tmp_path / "class.xlsx"
    write_workbook(r105_path, default_info(), [], _project("外星", function_code="9990101"))
    assert _codes(_validate(r105_path), "R105")
    (rules / "function_classification.csv").write_text("code,name\n999,试点类\n", encoding="utf-8")
    again = validate_workbooks([read_workbook(r105_path)], year=2026, rules_dir=rules)
    assert not _codes(again, "R105")


def test_kept_indicator_must_keep_its_wording(tmp_path: Path) -> None:
    """沿用 with a 库内编号 but another name is R116 naming both; another definition or unit is W219."""
    indicators = pd.DataFrame(
        {
            "indicator_id": ["ZB-X000001", "ZB-X000002", "ZB-X000003"],
            "scope": ["项目", "项目", "项目"],
            "name": ["日常维修维护次数", "大楼安检巡察次数", "设备完好率"],
            "definition": ["反映办公大楼全年维修维护情况", "反映大楼保卫巡检情况", "反映设备完好情况"],
            "unit": ["次", "次", "%"],
            "aliases": [["维修维护次数"], [], []],
            "departments": [["101001"], ["101001"], ["101001"]],
        }
    )
    rows = _project("大楼") + [
        project_row(project="大楼", change_type="沿用", library_id="ZB-X000001", name="日常維修維護次數"),
        project_row(project="大楼", change_type="沿用", library_id="ZB-X000001", name="维修维护次数"),
        project_row(project="大楼", change_type="沿用", library_id="ZB-X000002", name="大楼消防检查次数"),
        project_row(
            project="大楼",
            change_type="沿用",
            library_id="ZB-X000003",
            level2="质量指标",
            name="设备完好率",
            definition="反映设备完好的比例",
            unit="台",
            target=95,
        ),
    ]
    path = tmp_path / "kept.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path, indicators=indicators)
    data_rows = written.data_rows["project"]
    r116 = _codes(result, "R116")
    assert [f.row for f in r116] == [data_rows[6]]
    assert "大楼消防检查次数" in r116[0].message and "大楼安检巡察次数" in r116[0].message
    w219 = _codes(result, "W219")
    assert [f.row for f in w219] == [data_rows[7]]
    assert "反映设备完好的比例" in w219[0].message and "反映设备完好情况" in w219[0].message
    assert "“台”" in w219[0].message and "“%”" in w219[0].message
    outcomes = result.rows.set_index("source_row")["outcome"]
    assert (
        outcomes[data_rows[4]] == outcomes[data_rows[5]] == "library"
    )  # 繁体 and an alias are the same name
    assert outcomes[data_rows[6]] == "rejected" and outcomes[data_rows[7]] == "library"


def test_strict_target_against_history_and_folded_text_note(tmp_path: Path) -> None:
    """W215 (从严从高, narrow): a ≥ target below the row's latest 历史值 in the same unit. I402: one note per
    sheet for Traditional / full-width cells, never one per cell."""
    rows = _project("壬") + [
        project_row(project="壬", name="巡查次数", history="2024年:220次;2025年:240次", target=200),
        project_row(project="壬", name="巡查覆盖面积", history="2025年:3000平方米", target=200, unit="次"),
        project_row(project="壬", name="處理件數", history="2025年:150", target=200, unit="件"),
    ]
    path = tmp_path / "strict.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    w215 = _codes(result, "W215")
    assert [f.row for f in w215] == [written.data_rows["project"][4]]
    assert "240" in w215[0].message and "2025" in w215[0].message
    i402 = _codes(result, "I402")
    assert len(i402) == 1 and i402[0].row is None and "處理件數" in i402[0].message


def test_unit_read_from_the_end_of_a_name_is_shown(tmp_path: Path) -> None:
    """A unit in brackets at the end of a name becomes the unit (normalize): the row says so (I404)."""
    rows = _project("癸") + [project_row(project="癸", name="培训人次（人次）", unit="")]
    path = tmp_path / "unit.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = _validate(path)
    notes = [f for f in _codes(result, "I404") if f.row == written.data_rows["project"][4]]
    assert len(notes) == 1 and "“培训人次”" in notes[0].message and "“人次”" in notes[0].message
    assert not [f for f in _codes(result, "I404") if f.row in written.data_rows["project"][:4]]


_CORE_OPTIONAL = [c.column for c in reference().columns["core"] if not c.required]
_PROJECT_OPTIONAL = [c.column for c in reference().columns["project"] if not c.required]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    core_columns=st.lists(st.sampled_from(_CORE_OPTIONAL), unique=True, max_size=6),
    project_columns=st.lists(st.sampled_from(_PROJECT_OPTIONAL), unique=True, max_size=6),
    core_rows=st.integers(0, 2),
    project_rows=st.integers(0, 3),
    shuffle=st.randoms(use_true_random=False),
)
def test_optional_columns_and_sheets_in_any_combination_validate(
    tmp_path: Path, core_columns, project_columns, core_rows, project_rows, shuffle
) -> None:  # type: ignore[no-untyped-def]
    """Point 1 as a property: required columns plus any optional ones, in any order, sheets empty or not."""
    required = {k: [c.column for c in reference().columns[k] if c.required] for k in ("core", "project")}
    core = required["core"] + core_columns
    project = required["project"] + project_columns
    shuffle.shuffle(core)
    shuffle.shuffle(project)
    path = tmp_path / f"combo{shuffle.random()}.xlsx"
    write_workbook(
        path,
        default_info(),
        [core_row(name=f"核心{i}") for i in range(core_rows)],
        [project_row(name=f"项目指标{i}") for i in range(project_rows)],
        columns={"core": core, "project": project},
    )
    result = _validate(path)
    counts = result.counts()
    assert counts["read"] == core_rows + project_rows
    assert counts["read"] == sum(counts[o] for o in ("library", "noncore", "excluded", "rejected"))
    assert result.exit_code in (0, 1)


def test_cli_validate_uses_the_bureaus_function_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`validate --repo PATH` reads PATH/rules/function_classification.csv (the bureau's list of the year)."""
    path = tmp_path / "codes.xlsx"
    write_workbook(path, default_info(), [], _project("新科目项目", function_code="2089998"))
    assert main(["validate", str(path), "--year", "2026", "--format", "json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert "W211" in json.dumps(before, ensure_ascii=False)
    repo = tmp_path / "repo"
    (repo / "rules").mkdir(parents=True)
    (repo / "rules" / "function_classification.csv").write_text(
        "code,name,level,parent\n2089998,本市新增科目,项,20899\n", encoding="utf-8"
    )
    assert main(["validate", str(path), "--year", "2026", "--repo", str(repo), "--format", "json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert "W211" not in json.dumps(after, ensure_ascii=False)


def test_unknown_columns_keep_their_raw_text(tmp_path: Path) -> None:
    """An unknown column's values reach the validated rows as written (not folded to half width)."""
    cols = ["project", "function_code", "level1", "level2", "name", "definition", "symbol", "target", "评分"]
    path = tmp_path / "extra.xlsx"
    write_workbook(
        path,
        default_info(),
        [core_row()],
        [project_row(**{"评分": "完成得满分，未完成不得分"})],
        columns={"project": cols},
        header_overrides={"project": {"评分": "责任科室"}},
    )
    result = _validate(path)
    extras = [json.loads(x) for x in result.rows["extra_json"] if x]
    assert extras == [{"责任科室": "完成得满分，未完成不得分"}]


def test_a_deployments_reference_directory_is_what_the_rules_read(tmp_path: Path) -> None:
    """Issue 12, configuration at import: the rules read the reference data of the run, not a copy bound
    when a module was imported. A deployment's own edition (here: a core limit of 2) changes the outcome."""
    from schemas.vocab import REFERENCE_DIR

    own = tmp_path / "reference"  # a deployment's edition holds only the files it changes
    own.mkdir()
    shipped_limits = (REFERENCE_DIR / "limits.csv").read_text(encoding="utf-8")
    (own / "limits.csv").write_text(
        shipped_limits.replace("core_max_complex,10,", "core_max_complex,2,"), encoding="utf-8"
    )
    path = tmp_path / "three_core.xlsx"
    names = ["政策宣传覆盖率", "案件办结率", "培训合格率"]
    write_workbook(path, default_info(), [core_row(name=n) for n in names], _project("档案数字化"))
    workbooks = [read_workbook(path)]

    shipped = validate_workbooks(workbooks, year=2026)
    assert not _codes(shipped, "W206")
    own_limits = validate_workbooks(workbooks, year=2026, reference_dir=own)
    [w206] = _codes(own_limits, "W206")
    assert (w206.value, w206.row) == ("3", 4)  # the first core row over the limit, the count in the message
    assert "超过上限 2 个" in w206.message
    assert not _codes(validate_workbooks(workbooks, year=2026), "W206")  # the shipped edition is untouched


def test_a_deployment_may_require_more_columns(tmp_path: Path) -> None:
    """A deployment's columns.csv that makes 计量单位 required on the core sheet: R101 on an empty unit, with
    the shipped edition silent (the cell rules are built from the run's reference, not the models')."""
    from schemas.vocab import REFERENCE_DIR

    own = tmp_path / "reference"
    own.mkdir()
    shipped = (REFERENCE_DIR / "columns.csv").read_text(encoding="utf-8")
    assert "\ncore,unit,计量单位,度量单位|指标值度量单位|单位|计量单位名称,0," in shipped
    (own / "columns.csv").write_text(
        shipped.replace(
            "\ncore,unit,计量单位,度量单位|指标值度量单位|单位|计量单位名称,0,",
            "\ncore,unit,计量单位,度量单位|指标值度量单位|单位|计量单位名称,1,",
        ),
        encoding="utf-8",
    )
    path = tmp_path / "no_unit.xlsx"
    write_workbook(path, default_info(), [core_row(unit="", name="宣传活动场次")], _project("档案数字化"))
    workbooks = [read_workbook(path)]
    assert not _codes(validate_workbooks(workbooks, year=2026), "R101")
    [r101] = _codes(validate_workbooks(workbooks, year=2026, reference_dir=own), "R101")
    assert (r101.sheet, r101.row, r101.field) == ("部门整体核心指标", 2, "计量单位")
