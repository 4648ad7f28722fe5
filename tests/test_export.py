"""indicators export (issue 7, item 2): the library as a workbook an official can filter, or one CSV.

The library is published with pipelines.store.publish into tmp_path (and committed + tagged with
pipelines.store.repo for the release name); the workbook is read back with openpyxl, the CSV with pandas.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.store.export import (
    ABOUT_SHEET,
    REFERENCE_SHEET,
    RETIRED_SHEET,
    SCOPE_SHEETS,
    USAGE_SHEET,
    ExportError,
    export_library,
)
from pipelines.store.publish import LIBRARY_DIR
from pipelines.store.shape import read_release_table
from schemas.library import TITLES_ZH
from tests.git_env import git, isolate_git, publish_tables
from tests.library_fixtures import indicator, make_id, small_rows, tables_from_rows, usage
from tests.reference_library import (
    COUNT,
    EFFECT,
    EXTRA_HEADER,
    RATE,
    STANDARD_SOURCE,
    ReferenceRepo,
    reference_repo,
)

__all__ = ["reference_repo"]  # the session fixture, imported for pytest
BUNDLE = Path(__file__).parent / "data" / "releases" / "library-1.0.bundle"

YEAR = 2026
EVIL = "=cmd|' /C calc'!A0"
EVIL_ID = make_id("项目", 70)
MERGED_ID = make_id("项目", 71)
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    inds, uses, depts, sets = small_rows(YEAR)
    evil = indicator(EVIL_ID, EVIL, function_code="2010101", departments=["101"], aliases=["+同义", "别名二"])
    merged = indicator(
        MERGED_ID,
        "培训人数",
        function_code="2010101",
        status="merged",
        merged_into=evil["indicator_id"],
        retired_year=YEAR,
        retire_reason="同义指标合并",
    )
    inds += [evil, merged]
    uses.append(usage(evil, dept_code="101", year=YEAR, source_row=90))
    tables = tables_from_rows(inds, uses, depts, sets)
    root = tmp_path / "city"
    assert publish_tables(root, tables, YEAR).tag == f"v{YEAR}"
    return root


def sheet_rows(ws) -> list[dict[str, object]]:
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def test_workbook_holds_every_active_indicator_once(repo):
    out = export_library(repo)
    assert out == repo / f"指标库导出_{YEAR}.xlsx"
    ind = read_release_table(repo / LIBRARY_DIR, "indicators")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [*SCOPE_SHEETS.values(), RETIRED_SHEET, USAGE_SHEET, REFERENCE_SHEET, ABOUT_SHEET]

    id_title = TITLES_ZH["indicator_id"]
    seen: list[str] = []
    for scope, name in SCOPE_SHEETS.items():
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header[0] == id_title and all(CJK.search(h) for h in header)  # Chinese titles
        assert ws.freeze_panes == "B2" and ws.auto_filter.ref  # header (and id) stay in view; filterable
        rows = sheet_rows(ws)
        expected = ind[(ind["status"] == "active") & (ind["scope"] == scope)]["indicator_id"]
        assert sorted(r[id_title] for r in rows) == sorted(expected)
        seen += [r[id_title] for r in rows]
    active = ind.loc[ind["status"] == "active", "indicator_id"]
    assert sorted(seen) == sorted(active) and len(seen) == len(set(seen))
    assert "功能分类科目编码" in [c.value for c in wb[SCOPE_SHEETS["项目"]][1]]
    assert "功能分类科目编码" not in [c.value for c in wb[SCOPE_SHEETS["共性"]][1]]

    gone = sheet_rows(wb[RETIRED_SHEET])
    assert sorted(r[id_title] for r in gone) == sorted(ind.loc[ind["status"] != "active", "indicator_id"])
    merged = next(r for r in gone if r[id_title] == MERGED_ID)
    assert (
        merged["状态"] == "已合并" and merged["并入指标"] == EVIL_ID and merged["并入指标名称"] == "'" + EVIL
    )


def test_cells_are_neutralized_and_lists_joined(repo):
    wb = openpyxl.load_workbook(export_library(repo))
    rows = {r["指标编号"]: r for r in sheet_rows(wb[SCOPE_SHEETS["项目"]])}
    evil = rows[EVIL_ID]
    assert evil["指标名称"] == "'" + EVIL  # text, never a formula
    assert evil["曾用名/同义名称"] == "'+同义、别名二"
    assert evil["使用部门"] == "101" and evil["使用部门名称"] == "部门101" and evil["使用部门数"] == 1
    assert evil["功能分类名称（类）"] == "一般公共服务支出"
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                assert not (isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"))


def test_about_sheet_names_the_release(repo):
    wb = openpyxl.load_workbook(export_library(repo))
    about = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    ind = read_release_table(repo / LIBRARY_DIR, "indicators")
    assert about["发布版本"] == f"v{YEAR}" and about["发布年度"] == YEAR
    assert about["在用指标"] == int((ind["status"] == "active").sum())
    assert about["已合并指标"] == 1 and about["已退出指标"] == int((ind["status"] == "retired").sum())
    assert about["指标总数"] == len(ind)


def test_export_is_deterministic(repo, tmp_path):
    a = export_library(repo, "xlsx", tmp_path / "a.xlsx").read_bytes()
    b = export_library(repo, "xlsx", tmp_path / "b.xlsx").read_bytes()
    assert a == b
    c = export_library(repo, "csv", tmp_path / "a.csv").read_bytes()
    d = export_library(repo, "csv", tmp_path / "b.csv").read_bytes()
    assert c == d


def test_csv_has_every_indicator_with_its_scope(repo):
    out = export_library(repo, "csv")
    assert out == repo / f"指标库导出_{YEAR}.csv"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    ind = read_release_table(repo / LIBRARY_DIR, "indicators")
    assert sorted(frame["指标编号"]) == sorted(ind["indicator_id"])
    assert set(frame["指标范围"]) == {"共性", "部门整体", "项目"}
    assert set(frame["状态"]) == {"在用", "已退出", "已合并"}
    assert frame.set_index("指标编号").loc[EVIL_ID, "指标名称"] == "'" + EVIL


def test_no_library_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="manifest.json"):
        export_library(tmp_path)
    with pytest.raises(ExportError, match="格式"):
        export_library(tmp_path, "pdf")


# --- the library as a reference (issue 13): new columns, 使用情况, 参考值 -------------------------------


@pytest.fixture(scope="module")
def reference_book(reference_repo: ReferenceRepo, tmp_path_factory: pytest.TempPathFactory):
    return openpyxl.load_workbook(
        export_library(reference_repo.root, "xlsx", tmp_path_factory.mktemp("x") / "a.xlsx")
    )


def test_every_sheet_has_chinese_titles(reference_book) -> None:
    for ws in reference_book.worksheets:
        header = [c.value for c in ws[1]]
        assert header and all(isinstance(h, str) and CJK.search(h) for h in header), ws.title


def test_indicator_sheets_carry_the_new_indicator_columns(
    reference_repo: ReferenceRepo, reference_book
) -> None:
    rows = {r["指标编号"]: r for r in sheet_rows(reference_book[SCOPE_SHEETS["项目"]])}
    count = rows[reference_repo.ids[COUNT]]
    assert {"国家标准", "行业标准", TITLES_ZH["standard_source"], TITLES_ZH["indicator_source"]} <= set(count)
    gone = {r["指标编号"]: r for r in sheet_rows(reference_book[RETIRED_SHEET])}
    assert gone[reference_repo.ids[RATE]]["状态"] == "已退出"  # unused since 2025; its standards: 参考值


def test_usage_sheet_holds_the_latest_years_usages_with_every_usage_column(
    reference_repo: ReferenceRepo, reference_book
) -> None:
    rows = sheet_rows(reference_book[USAGE_SHEET])
    count, effect = reference_repo.ids[COUNT], reference_repo.ids[EFFECT]
    # 2026: 201 uses 培训人次 in two projects and 培训效果 once, 202 uses 培训人次 once; workbook row order
    assert [(r["部门编码"], r["指标编号"], r["项目名称"]) for r in rows] == [
        ("201", count, "教师培训"),
        ("201", count, "校长培训"),
        ("201", effect, "教师培训"),
        ("202", count, "医生培训"),
    ]
    first = rows[0]
    assert first["年度"] == 2026 and first["库内指标名称"] == COUNT and first["目标值(数值)"] == 150
    assert first["历史值"] == "2025年：140人次"  # the stored JSON as a clerk reads it
    assert first["数据来源"] == "培训签到表"
    assert (first[TITLES_ZH["value_basis"]], first[TITLES_ZH["value_method"]]) == ("历史标准", "情况统计法")
    assert first[TITLES_ZH["scoring_rule"]] == "全部完成得满分"
    assert first[TITLES_ZH["project_goal"]] == "完成教师培训任务"
    assert first[TITLES_ZH["extra"]] == f"{EXTRA_HEADER}：教师培训备注"  # a header the template does not know
    header = [c.value for c in reference_book[USAGE_SHEET][1]]
    usage_columns = read_release_table(reference_repo.root / LIBRARY_DIR, "usages").columns
    assert {TITLES_ZH[c] for c in usage_columns} <= set(header)  # every usage column is carried


def test_reference_sheet_holds_the_spread_and_the_standards(
    reference_repo: ReferenceRepo, reference_book
) -> None:
    rows = sheet_rows(reference_book[REFERENCE_SHEET])
    figures = (
        "年度",
        "计量单位",
        "目标值个数",
        "设定目标的部门数",
        "目标值最小值",
        "目标值中位数",
        "目标值最大值",
    )
    count = [tuple(r[k] for k in figures) for r in rows if r["指标编号"] == reference_repo.ids[COUNT]]
    assert count == [
        (2024, "人次", 3, 3, 100, 200, 300),
        (2025, "人次", 4, 4, 90, 185, 310),
        (2026, "人次", 3, 2, 50, 150, 320),
    ]
    (rate,) = [r for r in rows if r["指标编号"] == reference_repo.ids[RATE]]
    assert tuple(rate[k] for k in figures) == (2024, "%", 2, 2, 90, 92.5, 95) and rate["状态"] == "已退出"
    assert (rate["国家标准"], rate["行业标准"], rate[TITLES_ZH["standard_source"]]) == (
        "≥90%",
        "≥92%",
        STANDARD_SOURCE,
    )
    assert reference_repo.ids[EFFECT] not in {r["指标编号"] for r in rows}  # qualitative, no standard


def test_reference_export_is_deterministic_and_csv_carries_the_indicator_columns(
    reference_repo: ReferenceRepo, tmp_path
) -> None:
    a = export_library(reference_repo.root, "xlsx", tmp_path / "a.xlsx").read_bytes()
    assert a == export_library(reference_repo.root, "xlsx", tmp_path / "b.xlsx").read_bytes()
    frame = pd.read_csv(
        export_library(reference_repo.root, "csv", tmp_path / "a.csv"), encoding="utf-8-sig", dtype=str
    )
    assert {TITLES_ZH["standard_source"], TITLES_ZH["indicator_source"]} <= set(frame.columns)
    rate = frame.set_index("指标编号").loc[reference_repo.ids[RATE]]
    assert rate[TITLES_ZH["standard_source"]] == STANDARD_SOURCE


def test_a_release_written_by_version_1_0_still_exports(tmp_path, monkeypatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    root = tmp_path / "city"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(root)], check=True)
    git(root, "checkout", "-q", "v2025")
    wb = openpyxl.load_workbook(export_library(root, "xlsx", tmp_path / "old.xlsx"))
    assert wb.sheetnames == [*SCOPE_SHEETS.values(), RETIRED_SHEET, USAGE_SHEET, REFERENCE_SHEET, ABOUT_SHEET]
    about = {r[0]: r[1] for r in wb[ABOUT_SHEET].iter_rows(min_row=2, values_only=True)}
    assert about["数据格式版本"] == "1.0"
    usages = sheet_rows(wb[USAGE_SHEET])
    assert usages and {r["年度"] for r in usages} == {2025}
    assert all(r[TITLES_ZH["value_method"]] is None for r in usages)  # a column 1.0 did not have: blank
    assert sheet_rows(wb[REFERENCE_SHEET])  # its numeric targets are summed up
    csv_out = export_library(root, "csv", tmp_path / "old.csv")
    frame = pd.read_csv(csv_out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert set(frame[TITLES_ZH["standard_source"]]) == {""}
