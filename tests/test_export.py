"""indicators export (issue 7, item 2): the library as a workbook an official can filter, or one CSV.

The library is published with pipelines.store.publish into tmp_path (and committed + tagged with
pipelines.store.repo for the release name); the workbook is read back with openpyxl, the CSV with pandas.
"""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest

from pipelines.store.export import (
    ABOUT_SHEET,
    RETIRED_SHEET,
    SCOPE_SHEETS,
    ExportError,
    export_library,
)
from pipelines.store.publish import LIBRARY_DIR
from pipelines.store.shape import read_release_table
from schemas.library import TITLES_ZH
from tests.git_env import publish_tables
from tests.library_fixtures import indicator, make_id, small_rows, tables_from_rows, usage

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
    assert wb.sheetnames == [*SCOPE_SHEETS.values(), RETIRED_SHEET, ABOUT_SHEET]

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
