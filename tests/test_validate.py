"""Validation (SPEC §3): the four outcomes, located Chinese findings, grouping, accounting, CLI exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.findings import group_findings
from pipelines.read import read_workbook
from pipelines.validate import validate_workbooks
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
