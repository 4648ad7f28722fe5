"""Two departments' indicators that come to share a wording, through real workbooks, rebuilds and git: each
keeps its id and the pair is in the published merge_review.xlsx with its reason (issue 11, "One identity per
indicator across scopes and years"); nothing is recorded as a reviewer's merge."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd

from pipelines.consolidate.reasons import REVIEW_MERGE_REASON
from pipelines.defs.run import run_rebuild
from pipelines.store import publish
from tests.xlsx_builders import core_row, default_info, write_workbook

OLD, NEW = "资金拨付及时率", "补助资金拨付及时率"


def _submit(folder: Path, year: int, rows: dict[str, dict[str, object]]) -> Path:
    inbox = folder / str(year)
    inbox.mkdir()
    for dept, row in rows.items():
        name = {"201": "教育局", "202": "财政补助办"}[dept]
        own = core_row(
            level1="产出指标",
            level2="时效指标",
            unit="%",
            target=100,
            history="",
            definition=f"反映本部门（{dept}）资金按时拨付的比例",
            **row,
        )
        write_workbook(
            inbox / f"{dept}.xlsx", default_info(year=year, dept_code=dept, dept_name=name), [own], []
        )
    return inbox


def test_two_departments_one_new_wording_listed_in_merge_review_and_ids_kept(tmp_path: Path) -> None:
    repo, instance = tmp_path / "repo", dg.DagsterInstance.ephemeral()

    def rebuild(year: int, rows: dict[str, dict[str, object]]) -> pd.DataFrame:
        result = run_rebuild(year, _submit(tmp_path, year, rows), repo, finance_dept="101", instance=instance)
        assert result.success
        return publish.read_table(repo / "library", "indicators").set_index("indicator_id")

    first = rebuild(2024, {"201": {"name": OLD}, "202": {"name": OLD}})
    (shared,) = first.index  # one key: one indicator for both departments
    renamed = {"name": NEW, "change_type": "修改", "library_id": shared, "change_reason": "名称规范"}
    second = rebuild(2025, {"201": {"name": NEW}, "202": renamed})  # 201 rewords without saying so
    (own_201,) = set(second.index) - {shared}
    assert second.at[shared, "name"] == second.at[own_201, "name"] == NEW
    third = rebuild(2026, {"201": {"name": NEW, "change_type": ""}, "202": {"name": NEW, "change_type": ""}})

    assert (third.loc[[shared, own_201], "status"] == "active").all()
    assert not (
        (third["retire_reason"] == REVIEW_MERGE_REASON) | (third["last_change_reason"] == REVIEW_MERGE_REASON)
    ).any()
    usages = publish.read_table(repo / "library", "usages")
    usages = usages[usages["year"] == 2026].set_index("dept_code")
    assert usages.at["201", "indicator_id"] == own_201 and usages.at["202", "indicator_id"] == shared

    sheet = openpyxl.load_workbook(repo / "reports" / "2026" / "merge_review.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    listed = [
        dict(zip(header, (c.value for c in row), strict=False))
        for row in sheet.iter_rows(min_row=2)
        if {row[0].value, row[2].value} == {shared, own_201}
    ]
    assert len(listed) == 1
    assert "分属不同部门" in str(listed[0]["理由"]) and "未自动合并" in str(listed[0]["理由"])
