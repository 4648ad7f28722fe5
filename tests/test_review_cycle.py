"""The merge review cycle: candidates listed → a person decides 合并 → `indicators review` records a rule
(committed under rules/) → the next rebuild merges the two indicators, keeping the old id as history."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import openpyxl

from pipelines.cli import main
from pipelines.defs.run import run_rebuild
from pipelines.normalize.canonical import load_rules
from pipelines.store import publish
from tests.git_env import git
from tests.xlsx_builders import default_info, project_row, write_workbook


def _row(dept_project: str, name: str) -> dict[str, object]:
    return project_row(
        project=dept_project,
        function_code="2050201",
        level1="效益指标",
        level2="社会效益指标",
        name=name,
        unit="%",
        definition="反映课后服务覆盖学生的比例",
    )


def test_review_decision_merges_on_the_next_rebuild(tmp_path: Path) -> None:
    inbox, repo = tmp_path / "2026", tmp_path / "repo"
    inbox.mkdir()
    write_workbook(
        inbox / "a.xlsx",
        default_info(dept_code="201", dept_name="教育局"),
        [],
        [_row("课后服务", "课后服务学生参与率")],
    )
    write_workbook(
        inbox / "b.xlsx",
        default_info(dept_code="202", dept_name="团市委"),
        [],
        [_row("青少年服务", "课后服务参与率")],
    )
    instance = dg.DagsterInstance.ephemeral()
    first = run_rebuild(2026, inbox, repo, finance_dept="101", instance=instance)
    assert first.success and first.published["tag"] == "v2026"

    review = repo / "reports" / "2026" / "merge_review.xlsx"
    wb = openpyxl.load_workbook(review)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:7] == ["指标编号A", "指标名称A", "指标编号B", "指标名称B", "相似度", "理由", "决定"]
    rows = list(ws.iter_rows(min_row=2))
    pair = next(r for r in rows if {r[1].value, r[3].value} == {"课后服务学生参与率", "课后服务参与率"})
    kept, absorbed = pair[0].value, pair[2].value
    pair[6].value = "合并"
    wb.save(review)
    git(repo, "checkout", "--", "reports")  # the bureau fills a copy
    filled = tmp_path / "merge_review_filled.xlsx"
    wb.save(filled)

    assert main(["review", str(filled), "--repo", str(repo), "--year", "2026"]) == 0
    log = git(repo, "log", "-1", "--name-only", "--format=%s")
    assert "疑似重复审核" in log and "rules/synonyms.csv" in log

    second = run_rebuild(2026, inbox, repo, finance_dept="101", instance=instance)
    assert second.success and second.published["tag"] == "v2026.1"
    ind = publish.read_table(repo / "library", "indicators").set_index("indicator_id")
    assert ind.loc[absorbed, "status"] == "merged" and ind.loc[absorbed, "merged_into"] == kept
    assert sorted(ind.loc[kept, "departments"]) == ["201", "202"]
    usages = publish.read_table(repo / "library", "usages")
    assert set(usages["indicator_id"]) == {kept}
    # a rerun after the merge is stable
    third = run_rebuild(2026, inbox, repo, finance_dept="101", instance=instance)
    assert third.success and third.published["committed"] is False


def test_same_indicator_in_three_function_classes_is_listed_and_can_be_made_common(tmp_path: Path) -> None:
    """Issue 11 point 12: 受益群众满意度 of three departments, each under its own function class, used to get
    three ids and no review line. Now each pair is listed, and 设为共性指标 is recorded as a rule."""
    inbox, repo = tmp_path / "2026", tmp_path / "repo"
    inbox.mkdir()
    departments = (
        ("201", "教育局", "2050201", "课后服务", "反映家长和学生对课后服务的满意程度"),
        ("202", "农业农村局", "2130505", "耕地地力补贴", "反映领取补贴农户对补贴发放工作的评价"),
        ("203", "民政局", "2080201", "社区养老服务", "反映入住老人及家属对养老服务质量的认可情况"),
    )
    for code, name, function_code, project, definition in departments:
        write_workbook(
            inbox / f"{code}.xlsx",
            default_info(dept_code=code, dept_name=name),
            [],
            [
                project_row(
                    project=project,
                    function_code=function_code,
                    level1="满意度指标",
                    level2="服务对象满意度指标",
                    name="受益群众满意度",
                    unit="%",
                    target=90,
                    definition=definition,
                )
            ],
        )
    result = run_rebuild(2026, inbox, repo, finance_dept="101", instance=dg.DagsterInstance.ephemeral())
    assert result.success
    ids = set(publish.read_table(repo / "library", "indicators")["indicator_id"])

    review = repo / "reports" / "2026" / "merge_review.xlsx"
    wb = openpyxl.load_workbook(review)
    ws = wb.worksheets[0]
    rows = [r for r in ws.iter_rows(min_row=2) if r[1].value == r[3].value == "受益群众满意度"]
    assert len(ids) == 3  # their 指标解释 differ: not near-identical, so never merged automatically
    assert len(rows) == len(ids) * (len(ids) - 1) // 2 and len(rows) >= 1
    assert all("功能分类不同" in r[5].value for r in rows)
    for r in rows:
        r[6].value = "设为共性指标"
    filled = tmp_path / "merge_review_filled.xlsx"
    wb.save(filled)
    assert main(["review", str(filled), "--repo", str(repo), "--year", "2026"]) == 0
    log = git(repo, "log", "-1", "--name-only", "--format=%s")
    assert "rules/common_promotions.csv" in log and "rules/synonyms.csv" in log
    assert f"设为共性指标 {len(rows)}" in log

    promotions = load_rules(repo / "rules").promotions
    assert len(promotions) == len(rows)
    assert {a for _, a, _ in promotions} <= ids and {b for _, _, b in promotions} <= ids

    # The next rebuild follows the decision: one 共性 indicator, used by the three departments.
    again = run_rebuild(2026, inbox, repo, finance_dept="101", instance=dg.DagsterInstance.ephemeral())
    assert again.success
    after = publish.read_table(repo / "library", "indicators")
    active = after[(after["name"] == "受益群众满意度") & (after["status"] == "active")]
    assert len(active) == 1 and active["scope"].iloc[0] == "共性"
    assert active["indicator_id"].iloc[0] in ids  # the id is kept
    usages = publish.read_table(repo / "library", "usages")
    assert set(usages.loc[usages["indicator_id"] == active["indicator_id"].iloc[0], "dept_code"]) == {
        code for code, *_ in departments
    }


def test_a_year_with_nothing_to_review_still_gets_its_review_workbook(tmp_path) -> None:
    """A year without candidates hands on a frame that may have no columns at all: the review workbook is
    written with its headers and no pair (found by the multi-year test after the column-list rewrite)."""
    import openpyxl
    import pandas as pd

    from pipelines.dedupe.review import REVIEW_SHEET, write_merge_review

    path = write_merge_review(pd.DataFrame(), tmp_path / "merge_review.xlsx")
    sheet = openpyxl.load_workbook(path)[REVIEW_SHEET]
    assert sheet.max_row == 1 and sheet.cell(1, 1).value
