"""Two indicators of one department that come to share a wording without being certainly one: the department's
rows of that wording all go to one id and the other is retired — through real workbooks, rebuilds and git. Its
retire_reason says where its rows went, not "本年度无部门使用" (issue 11, "nothing is changed silently"); the pair is
still in merge_review.xlsx; an indicator nobody filed still reads 本年度无部门使用; and the department citing the
retired id the next year brings it back under that id."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import openpyxl
import pandas as pd

from pipelines.consolidate import reasons
from pipelines.consolidate.reasons import AUTO_RETIRE_REASON
from pipelines.defs.run import run_rebuild
from pipelines.store import publish
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

VISIT, CALL = "慰问困难群众户数", "走访困难群众户数"
DROPPED = "政策宣传覆盖率"  # filed in 2023 and 2024 only: genuinely not used in 2025


def _visit(project: str, name: str, definition: str, **more: object) -> dict[str, object]:
    return project_row(
        project=project,
        function_code="2080201",
        level2="数量指标",
        unit="户",
        target=300,
        history="",
        name=name,
        definition=definition,
        **more,
    )


def _submit(folder: Path, year: int, projects: list[dict[str, object]], dropped: bool) -> Path:
    inbox = folder / str(year)
    inbox.mkdir()
    core = [core_row(name="资金拨付及时率", level2="时效指标", target=100, history="")]
    if dropped:
        core.append(core_row(name=DROPPED, history=""))
    info = default_info(year=year, dept_code="201", dept_name="民政局")
    write_workbook(inbox / "201.xlsx", info, core, projects)
    return inbox


def _review_rows(path: Path) -> list[dict[str, object]]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row), strict=False)) for row in sheet.iter_rows(min_row=2)]


def test_an_indicator_whose_rows_went_to_its_twin_says_so_and_comes_back_when_cited(tmp_path: Path) -> None:
    repo, instance = tmp_path / "repo", dg.DagsterInstance.ephemeral()

    def rebuild(year: int, projects: list[dict[str, object]], dropped: bool = False) -> pd.DataFrame:
        result = run_rebuild(
            year, _submit(tmp_path, year, projects, dropped), repo, finance_dept="101", instance=instance
        )
        assert result.success
        return publish.read_table(repo / "library", "indicators").set_index("indicator_id")

    visit_def, call_def = "反映慰问的困难群众户数", "反映入户走访核实的困难群众户数"
    first = rebuild(2023, [_visit("慰问", VISIT, visit_def), _visit("走访", CALL, call_def)], dropped=True)
    (visit,) = first.index[first["name"] == VISIT]
    (call,) = first.index[first["name"] == CALL]
    (dropped,) = first.index[first["name"] == DROPPED]
    # 2024: the department renames 走访 to the same words with 修改 (its own explanation kept): one key, two ids.
    renamed = {"change_type": "修改", "library_id": call, "change_reason": "名称规范"}
    second = rebuild(
        2024, [_visit("慰问", VISIT, visit_def), _visit("走访", VISIT, call_def, **renamed)], dropped=True
    )
    assert second.at[call, "name"] == second.at[visit, "name"] == VISIT
    assert (second.loc[[visit, call, dropped], "status"] == "active").all()

    # 2025: both rows as before, no ids; 政策宣传覆盖率 no longer filed.
    unchanged = {"change_type": ""}
    third = rebuild(
        2025, [_visit("慰问", VISIT, visit_def, **unchanged), _visit("走访", VISIT, call_def, **unchanged)]
    )
    usages = publish.read_table(repo / "library", "usages")
    filed = set(usages.loc[(usages["year"] == 2025) & (usages["name"] == VISIT), "indicator_id"])
    assert len(filed) == 1  # the department's rows of the shared wording went to one id
    (kept,) = filed
    (idle,) = {visit, call} - filed
    assert third.at[idle, "status"] == "retired" and third.at[idle, "merged_into"] == ""
    reason = str(third.at[idle, "retire_reason"])
    assert reason != AUTO_RETIRE_REASON and kept in reason  # its rows went to `kept`: said, not "无部门使用"
    assert reason == reasons.collapsed_retire_reason([kept])
    assert third.at[idle, "last_change_type"] == "退出" and third.at[idle, "last_change_reason"] == reason
    # Genuine non-use keeps its own reason.
    assert (third.at[dropped, "status"], third.at[dropped, "retire_reason"]) == (
        "retired",
        AUTO_RETIRE_REASON,
    )

    # The pair is still listed for a person, saying why it was not merged.
    listed = [
        r
        for r in _review_rows(repo / "reports" / "2025" / "merge_review.xlsx")
        if {r["指标编号A"], r["指标编号B"]} == {kept, idle}
    ]
    assert len(listed) == 1
    assert "指标解释不一致" in str(listed[0]["理由"]) and "未自动合并" in str(listed[0]["理由"])
    # The published change set carries the reason (CHANGELOG).
    changelog = (repo / "reports" / "2025" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert reason in changelog and f"{idle}" in changelog

    # 2026: the department cites the retired id again: it comes back under that id, its reason cleared.
    rows = [
        _visit("慰问", VISIT, visit_def, change_type="沿用"),
        _visit("走访", VISIT, call_def, change_type="沿用"),
    ]
    rows[0]["library_id"], rows[1]["library_id"] = visit, call
    fourth = rebuild(2026, rows)
    assert (fourth.loc[[kept, idle], "status"] == "active").all()
    assert fourth.at[idle, "retire_reason"] == "" and fourth.at[idle, "last_change_type"] == "恢复"
    assert set(fourth.index) == set(third.index)  # no id issued, none lost
