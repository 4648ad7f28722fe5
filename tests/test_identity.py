"""One identity per indicator across scopes, years, units and function classes (issue 11, points 3, 12, 15).

Real workbooks (openpyxl) read and validated by the real steps, consolidated year after year with each
year's tables as the next year's previous release (the Dagster job does the same; tests/test_library_years.py
runs a case of each point through it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from pipelines.common import halves
from pipelines.common.background import fork_supported
from pipelines.consolidate import build
from pipelines.consolidate.build import Consolidation, consolidate
from pipelines.consolidate.changes import diff_indicators
from pipelines.consolidate.reasons import AUTO_RETIRE_REASON, COMMON_COVERS_REASON, RENAME_REASON
from pipelines.consolidate.review_pairs import name_similarity
from pipelines.dedupe.review import read_review, write_merge_review
from pipelines.intake.read import read_workbook
from pipelines.normalize.canonical import MatchRules, default_rules, definition_form
from pipelines.validate.runner import validate_workbooks
from schemas.library import LibraryTables
from tests.xlsx_builders import default_info, project_row, write_workbook

FIN = "101"
MEETING = dict(
    name="会议次数", level1="产出指标", level2="数量指标", unit="次", definition="反映组织会议的次数"
)

Files = list[tuple[str, str, list[dict[str, object]], list[dict[str, object]] | None]]


def _year(
    tmp: Path,
    year: int,
    files: Files,
    previous: LibraryTables | None,
    rules: MatchRules | None = None,
) -> Consolidation:
    """files: (file name, dept code, project rows, common rows or None)."""
    folder = tmp / f"{year}-{len(list(tmp.iterdir()))}"
    folder.mkdir()
    for name, dept, projects, common in files:
        write_workbook(
            folder / name, default_info(year, dept, f"部门{dept}"), [], projects, common_rows=common
        )
    workbooks = [read_workbook(folder / name) for name, *_ in files]  # the order files are read in
    validation = validate_workbooks(
        workbooks,
        year=year,
        finance_dept=FIN,
        indicators=previous.indicators if previous is not None else None,
    )
    assert (validation.rows["outcome"] == "library").all(), validation.rows["reasons"].tolist()
    return consolidate(validation.rows, validation.departments, year=year, previous=previous, rules=rules)


def _dept_meeting(dept_project: str = "医生培训", code: str = "2100401") -> list[dict[str, object]]:
    return [project_row(project=dept_project, function_code=code, **MEETING)]


def _common_meeting() -> list[dict[str, object]]:
    return [project_row(project="", function_code="", **MEETING)]


def _usage_ids(result: Consolidation, year: int) -> dict[str, str]:
    u = result.tables.usages
    u = u[u["year"] == year]
    return dict(zip(u["dept_code"], u["indicator_id"], strict=True))


def _indicators(result: Consolidation) -> pd.DataFrame:
    return result.tables.indicators.set_index("indicator_id")


# --------------------------------------------------------------------------------------------------
# Point 3: a department's row equal to a 共性 indicator is its usage, in every year and file order
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dept_first", [True, False])  # the department's workbook read before the bureau's
def test_common_indicator_keeps_one_id_whatever_the_file_order(tmp_path: Path, dept_first: bool) -> None:
    files: Files = [("m.xlsx", FIN, [], _common_meeting()), ("a.xlsx", "202", _dept_meeting(), None)]
    files = files[::-1] if dept_first else files
    r1 = _year(tmp_path, 2024, files, None)
    ind1 = _indicators(r1)
    assert (
        len(ind1) == 1 and ind1.iloc[0]["scope"] == "共性"
    )  # was 项目 when the department's file came first
    only = ind1.index[0]
    r2 = _year(tmp_path, 2025, files, r1.tables)
    assert _usage_ids(r2, 2025) == {FIN: only, "202": only}
    assert r2.new_ids == [] and len(r2.tables.indicators) == 1  # no second 共性 id, no usage moved


def test_department_indicator_becomes_the_common_one_keeping_its_id(tmp_path: Path) -> None:
    r1 = _year(tmp_path, 2024, [("h.xlsx", "202", _dept_meeting(), None)], None)
    dept_id = r1.tables.indicators["indicator_id"].item()
    files: Files = [("fin.xlsx", FIN, [], _common_meeting()), ("h.xlsx", "202", _dept_meeting(), None)]
    r2 = _year(tmp_path, 2025, files, r1.tables)
    assert _usage_ids(r2, 2025) == {FIN: dept_id, "202": dept_id}  # the department's id is kept
    ind = _indicators(r2)
    assert len(ind) == 1 and ind.loc[dept_id, "scope"] == "共性" and ind.loc[dept_id, "function_class"] == ""
    changes = diff_indicators(r1.tables.indicators, r2.tables.indicators)
    assert set(changes.modified["field"]) >= {"scope", "function_code"}  # recorded, visible in diff
    r3 = _year(tmp_path, 2026, list(reversed(files)), r2.tables)
    assert _usage_ids(r3, 2026) == {FIN: dept_id, "202": dept_id} and r3.new_ids == []


def test_common_indicator_first_then_department_row(tmp_path: Path) -> None:
    r1 = _year(tmp_path, 2024, [("fin.xlsx", FIN, [], _common_meeting())], None)
    common_id = r1.tables.indicators["indicator_id"].item()
    r2 = _year(tmp_path, 2025, [("a.xlsx", "202", _dept_meeting(), None)], r1.tables)
    assert _usage_ids(r2, 2025) == {"202": common_id}


def test_a_library_built_before_the_rule_is_repaired_by_a_recorded_merge(tmp_path: Path) -> None:
    """Old releases hold a department's indicator and the 共性 one side by side: it merges into the 共性 one."""
    r1 = _year(tmp_path, 2024, [("h.xlsx", "202", _dept_meeting(), None)], None)
    legacy = r1.tables.indicators
    common = legacy.assign(indicator_id="ZB-G000001", scope="共性", function_code="", function_class="")
    common["departments"] = [[FIN]]
    previous = LibraryTables(pd.concat([legacy, common], ignore_index=True), *[r1.tables.usages.iloc[0:0]] * 1,
                             r1.tables.departments, r1.tables.set_aside)  # fmt: skip
    files: Files = [("fin.xlsx", FIN, [], _common_meeting()), ("h.xlsx", "202", _dept_meeting(), None)]
    r2 = _year(tmp_path, 2025, files, previous)
    assert _usage_ids(r2, 2025) == {FIN: "ZB-G000001", "202": "ZB-G000001"}
    ind = _indicators(r2)
    dept_id = legacy["indicator_id"].item()
    assert ind.loc[dept_id, "status"] == "merged" and ind.loc[dept_id, "merged_into"] == "ZB-G000001"
    assert ind.loc[dept_id, "retire_reason"] == COMMON_COVERS_REASON


# --------------------------------------------------------------------------------------------------
# Point 15: name and department unchanged → id kept; silent renames listed
# --------------------------------------------------------------------------------------------------
def _budget(target: object, unit: str, symbol: str, nature: str) -> list[dict[str, object]]:
    return [
        project_row(
            project="道路保洁",
            function_code="2120501",
            name="控制在预算成本内",
            level1="成本指标",
            level2="经济成本指标",
            definition="反映项目成本控制情况",
            target=target,
            unit=unit,
            symbol=symbol,
            nature=nature,
        )
    ]


def test_a_unit_and_value_format_change_keeps_the_id(tmp_path: Path) -> None:
    r1 = _year(tmp_path, 2023, [("a.xlsx", "301", _budget(250, "万元", "≤", "定量"), None)], None)
    iid = r1.tables.indicators["indicator_id"].item()
    r2 = _year(
        tmp_path, 2024, [("a.xlsx", "301", _budget("控制在预算内", "", "定性", "定性"), None)], r1.tables
    )
    assert _usage_ids(r2, 2024) == {"301": iid} and r2.new_ids == []
    ind = _indicators(r2)
    assert ind.loc[iid, "status"] == "active" and ind.loc[iid, "retire_reason"] != AUTO_RETIRE_REASON
    assert (ind.loc[iid, "unit"], ind.loc[iid, "nature"]) == ("", "定性")
    changes = diff_indicators(r1.tables.indicators, r2.tables.indicators)
    fields = changes.modified.set_index("field")
    assert fields.loc["unit", "old"] == "万元" and fields.loc["unit", "new"] == ""
    assert "编号保留" in fields.loc["unit", "reason"] and changes.retired.empty
    usage = r2.tables.usages.set_index("year")
    assert (usage.loc[2023, "unit"], usage.loc[2024, "unit"]) == ("万元", "")  # each year's usage as written
    r3 = _year(tmp_path, 2025, [("a.xlsx", "301", _budget(260, "万元", "≤", "定量"), None)], r2.tables)
    assert _usage_ids(r3, 2025) == {"301": iid}  # and back


def test_a_unit_change_that_equals_another_indicator_keeps_both_and_lists_them(tmp_path: Path) -> None:
    files: Files = [
        ("a.xlsx", "301", _budget(250, "万元", "≤", "定量"), None),
        ("b.xlsx", "302", _budget("控制在预算内", "", "定性", "定性"), None),
    ]
    r1 = _year(tmp_path, 2023, files, None)
    ids1 = _usage_ids(r1, 2023)
    assert ids1["301"] != ids1["302"]  # units not comparable: two indicators
    files[0] = ("a.xlsx", "301", _budget("控制在预算内", "", "定性", "定性"), None)
    r2 = _year(tmp_path, 2024, files, r1.tables)
    assert _usage_ids(r2, 2024) == ids1  # neither department's id changes
    pairs = {(a, b) for a, b in zip(r2.candidates["id_a"], r2.candidates["id_b"], strict=True)}
    assert (ids1["302"], ids1["301"]) in pairs or (ids1["301"], ids1["302"]) in pairs


def _dust(name: str, satisfaction: str, cleaning: tuple[str, str]) -> list[dict[str, object]]:
    def row(n: str, l1: str, l2: str, unit: str, target: object) -> dict[str, object]:
        return project_row(
            project="大气污染防治",
            function_code="2110301",
            name=n,
            level1=l1,
            level2=l2,
            unit=unit,
            target=target,
        )

    return [
        row(name, "产出指标", "数量指标", "天", 200),
        row(satisfaction, "满意度指标", "服务对象满意度指标", "%", 90),
        row(cleaning[0], "产出指标", "数量指标", cleaning[1], 100),
    ]


def test_silent_renames_of_one_department_and_project_are_listed_as_likely_renames(tmp_path: Path) -> None:
    r1 = _year(
        tmp_path,
        2023,
        [("a.xlsx", "301", _dust("雾炮车降尘抑尘作业天数", "市民满意度", ("道路清扫面积", "平方米")), None)],
        None,
    )
    ids = dict(zip(r1.tables.indicators["name"], r1.tables.indicators["indicator_id"], strict=True))
    r2 = _year(
        tmp_path,
        2024,
        [("a.xlsx", "301", _dust("雾炮车抑尘降尘作业天数", "满意度", ("道路清扫次数", "次")), None)],
        r1.tables,
    )
    cands = r2.candidates
    renames = cands[cands["reason"] == RENAME_REASON]
    listed = set(zip(renames["name_a"], renames["name_b"], strict=True))
    assert listed == {("雾炮车降尘抑尘作业天数", "雾炮车抑尘降尘作业天数"), ("市民满意度", "满意度")}
    assert set(renames["id_a"]) == {ids["雾炮车降尘抑尘作业天数"], ids["市民满意度"]}  # A: the old id to keep
    # 面积 → 次数 measures something else: not proposed as a rename
    # They reach merge_review.xlsx like every candidate.
    review = write_merge_review(cands, tmp_path / "merge_review.xlsx")
    rows, _ = read_review(review)
    assert {r["指标编号A"] for r in rows} >= set(renames["id_a"])


def test_name_similarity_of_renames() -> None:
    assert name_similarity("雾炮车降尘抑尘作业天数", "雾炮车抑尘降尘作业天数") >= 90
    assert name_similarity("市民满意度", "满意度") >= 60
    assert name_similarity("培训人次", "设备验收合格率") < 60


# --------------------------------------------------------------------------------------------------
# Point 12: function class is a property of the usage
# --------------------------------------------------------------------------------------------------
def _satisfaction(code: str, definition: str, project: str = "项目") -> list[dict[str, object]]:
    return [
        project_row(
            project=project,
            function_code=code,
            name="受益群众满意度",
            level1="满意度指标",
            level2="服务对象满意度指标",
            unit="%",
            target=90,
            definition=definition,
        )
    ]


def test_same_indicator_in_two_function_classes_merges_when_explanations_agree(tmp_path: Path) -> None:
    files: Files = [
        ("a.xlsx", "301", _satisfaction("2120501", "反映受益群众的满意程度"), None),
        ("b.xlsx", "302", _satisfaction("2130101", "反映受益群众的满意程度。"), None),  # the same, punctuated
        ("c.xlsx", "303", _satisfaction("2050201", "反映学生家长对课后服务的满意程度"), None),
    ]
    r1 = _year(tmp_path, 2024, files, None)
    ids = _usage_ids(r1, 2024)
    assert ids["301"] == ids["302"] != ids["303"]
    ind = _indicators(r1)
    assert (
        ind.loc[ids["301"], "function_class"] == "212"
    )  # a deterministic class: the most used, then smallest
    cands = r1.candidates
    pair = cands[cands["id_a"].isin([ids["301"], ids["303"]]) & cands["id_b"].isin([ids["301"], ids["303"]])]
    assert len(pair) == 1  # not merged (explanations differ): listed for review
    # A later year: a fourth class with the same explanation joins the indicator; ids stay.
    files.append(("d.xlsx", "304", _satisfaction("2080101", "反映受益群眾的滿意程度"), None))
    r2 = _year(tmp_path, 2025, files, r1.tables)
    ids2 = _usage_ids(r2, 2025)
    assert ids2 == ids | {"304": ids["301"]} and r2.new_ids == []
    # the file order changes nothing
    r2b = _year(tmp_path, 2025, list(reversed(files)), r1.tables)
    assert _usage_ids(r2b, 2025) == ids2
    pd.testing.assert_frame_equal(r2.tables.indicators, r2b.tables.indicators)


def test_empty_or_different_explanations_never_merge() -> None:
    assert definition_form("反映受益群众的满意程度。") == definition_form("受益群眾的滿意程度")
    assert definition_form("") == ""  # an empty explanation is not "near-identical" to anything


def test_review_decision_to_make_a_pair_common(tmp_path: Path) -> None:
    files: Files = [
        ("a.xlsx", "301", _satisfaction("2120501", "反映受益群众的满意程度"), None),
        ("c.xlsx", "303", _satisfaction("2050201", "反映学生家长对课后服务的满意程度"), None),
    ]
    r1 = _year(tmp_path, 2024, files, None)
    ids = _usage_ids(r1, 2024)
    base = default_rules()
    rules = MatchRules(
        version="t",
        synonyms=base.synonyms,
        promotions=(("P1", ids["301"], ids["303"]),),
    )
    r2 = _year(
        tmp_path, 2025, files + [("e.xlsx", "305", _satisfaction("2010101", "其他"), None)], r1.tables, rules
    )
    ind = _indicators(r2)
    assert ind.loc[ids["301"], "scope"] == "共性"
    used = _usage_ids(r2, 2025)
    assert used["301"] == ids["301"] and used["305"] == ids["301"]  # any class's equal row is its usage


# --------------------------------------------------------------------------------------------------
# Point 4 of the brief: the wording as written is kept among the aliases
# --------------------------------------------------------------------------------------------------
def test_name_as_written_is_kept_as_an_alias(tmp_path: Path) -> None:
    rows = [
        project_row(
            project="精准扶贫",
            function_code="2130505",
            name="★★★受益建档立卡贫困人口数≥**人",
            unit="人",
            target=500,
        )
    ]
    r1 = _year(tmp_path, 2024, [("a.xlsx", "301", rows, None)], None)
    ind = r1.tables.indicators
    assert ind["name"].item() == "受益建档立卡贫困人口数"
    assert "★★★受益建档立卡贫困人口数≥**人" in list(ind["aliases"].item())


@pytest.mark.skipif(not fork_supported(), reason="no fork here: the identity pairs are found in turn")
def test_identity_pairs_found_beside_the_matcher_give_the_same_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r1 = _year(
        tmp_path,
        2023,
        [("a.xlsx", "301", _dust("雾炮车降尘抑尘作业天数", "市民满意度", ("道路清扫面积", "平方米")), None)],
        None,
    )
    renamed = [("a.xlsx", "301", _dust("雾炮车抑尘降尘作业天数", "满意度", ("道路清扫次数", "次")), None)]
    where = tmp_path / "identity_pairs_pids.txt"
    plain = build.identity_pairs

    def spied(*args):  # type: ignore[no-untyped-def]
        with where.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return plain(*args)

    monkeypatch.setattr(build, "identity_pairs", spied)
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)  # a city's few indicators taken as a province's
    monkeypatch.setenv("INDICATORS_FORK", "1")
    beside = _year(tmp_path, 2024, renamed, r1.tables)
    assert where.read_text().split() != [str(os.getpid())]  # found in a child
    monkeypatch.setenv("INDICATORS_FORK", "0")
    in_turn = _year(tmp_path, 2024, renamed, r1.tables)
    assert where.read_text().split()[-1] == str(os.getpid())
    assert (beside.candidates["reason"] == RENAME_REASON).sum() == 2
    pd.testing.assert_frame_equal(beside.candidates, in_turn.candidates, check_exact=True)
    pd.testing.assert_frame_equal(beside.tables.indicators, in_turn.tables.indicators, check_exact=True)
