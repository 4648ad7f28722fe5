"""Released indicators that come to share a key (a 修改, a synonym rule, a reviewer's wording) are merged only
when certainly one — the same departments and the same explanation — or when a reviewer decided it; the
others keep their ids and are listed in merge_review with a reason that says what keeps them apart. A merge
nobody reviewed is never recorded as 经人工审核 (issue 11, "One identity per indicator across scopes and years").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.consolidate.build import Consolidation, consolidate
from pipelines.consolidate.merges import certain_groups
from pipelines.consolidate.reasons import (
    CROSS_CLASS_KEPT_REASON,
    REVIEW_MERGE_REASON,
    SHARED_KEY_MERGE_REASON,
)
from pipelines.normalize.canonical import DoNotMergeRule, MatchRules, SynonymRule, default_rules
from schemas.library import LibraryTables

RATE = ("产出指标", "时效指标", "%")
HOUSEHOLDS = ("产出指标", "数量指标", "户")


def _row(
    dept: str,
    name: str,
    definition: str,
    *,
    scope: str = "部门整体",
    project: str = "",
    levels: tuple[str, str, str] = RATE,
    change_type: str = "",
    library_id: str = "",
    function_code: str = "2050201",
) -> dict[str, object]:
    level1, level2, unit = levels
    return {
        "outcome": "library",
        "scope": scope,
        "sheet_kind": "core" if scope == "部门整体" else "project",
        "level1": level1,
        "level2": level2,
        "name": name,
        "definition": definition,
        "formula": "",
        "symbol": "≥",
        "target": "100",
        "target_value": 100.0,
        "target_unit": "",
        "unit": unit,
        "nature": "定量",
        **dict.fromkeys(
            ("national_standard", "industry_standard", "history_json", "data_source", "keywords"), ""
        ),
        "change_type": change_type,
        "change_reason": "表述调整" if change_type else "",
        "library_id": library_id,
        "project": project,
        "project_category": "其他" if project else "",
        "function_code": function_code if scope == "项目" else "",
        "weight_value": np.nan,
        "dept_code": dept,
        "dept_name": f"部门{dept}",
        "source_file": f"{dept}.xlsx",
        "source_sheet": "项目支出指标" if project else "部门整体核心指标",
        "source_row": 10,
    }


def _year(
    rows: list[dict[str, object]], year: int, previous: LibraryTables | None, rules: MatchRules | None = None
) -> Consolidation:
    frame = pd.DataFrame(rows)
    frame["source_row"] = range(10, 10 + len(frame))
    depts = sorted({str(r["dept_code"]) for r in rows})
    departments = pd.DataFrame(
        {
            "dept_code": depts,
            "dept_name": [f"部门{d}" for d in depts],
            "source_file": [f"{d}.xlsx" for d in depts],
        }
    )
    return consolidate(frame, departments, year=year, previous=previous, rules=rules)


def _pairs(result: Consolidation) -> dict[frozenset[str], str]:
    """Each listed pair (either order) → its reason."""
    c = result.candidates
    return {frozenset((a, b)): r for a, b, r in zip(c["id_a"], c["id_b"], c["reason"], strict=True)}


def _reviewed(result: Consolidation) -> set[str]:
    ind = result.tables.indicators
    said = (ind["retire_reason"] == REVIEW_MERGE_REASON) | (ind["last_change_reason"] == REVIEW_MERGE_REASON)
    return set(ind.loc[said, "indicator_id"])


def _two_departments_one_wording() -> list[Consolidation]:
    """201 and 202 share 资金拨付及时率 (one key: one id); 202 renames it with 修改 and 201 rewords its own row
    to the same words unannounced (a second id); then three years with nothing changed."""
    own = "反映资金按时拨付的比例（{}口径）"
    first = [_row("202", "资金拨付及时率", own.format(202)), _row("201", "资金拨付及时率", own.format(201))]
    results = [_year(first, 2021, None)]
    shared = results[0].row_ids.iloc[0]
    second = [
        _row("202", "补助资金拨付及时率", own.format(202), change_type="修改", library_id=shared),
        _row("201", "补助资金拨付及时率", own.format(201)),
    ]
    results.append(_year(second, 2022, results[-1].tables))
    same = [
        _row("202", "补助资金拨付及时率", own.format(202)),
        _row("201", "补助资金拨付及时率", own.format(201)),
    ]
    for year in (2023, 2024, 2025):
        results.append(_year(same, year, results[-1].tables))
    return results


def test_two_departments_sharing_a_key_keep_their_ids_and_are_listed_every_year() -> None:
    results = _two_departments_one_wording()
    kept_by_202, new_for_201 = results[1].row_ids.tolist()
    assert kept_by_202 == results[0].row_ids.iloc[0] and new_for_201 != kept_by_202
    for result in results[1:]:
        assert result.row_ids.tolist() == [kept_by_202, new_for_201]  # each department keeps its own id
        ind = result.tables.indicators.set_index("indicator_id")
        assert (ind.loc[[kept_by_202, new_for_201], "status"] == "active").all()
        assert not _reviewed(result)  # nobody reviewed anything
        reason = _pairs(result)[frozenset((kept_by_202, new_for_201))]
        assert "分属不同部门" in reason and "指标解释不一致" in reason and "未自动合并" in reason
        assert result.candidates.set_index(["id_a", "id_b"]).at[(kept_by_202, new_for_201), "flags"] == (
            "shared_key"
        )
    # A rerun of a year on its own release lists the same pair.
    rerun = _year(
        [
            _row("202", "补助资金拨付及时率", "反映资金按时拨付的比例（202口径）"),
            _row("201", "补助资金拨付及时率", "反映资金按时拨付的比例（201口径）"),
        ],
        2025,
        results[-1].tables,
    )
    assert _pairs(rerun) == _pairs(results[-1])


def test_a_not_merged_decision_stops_the_listing() -> None:
    results = _two_departments_one_wording()
    a, b = results[1].row_ids.tolist()
    refused = DoNotMergeRule(rule_id="N001", kind="pair", id_a=a, id_b=b)
    rules = MatchRules(version="t", synonyms=default_rules().synonyms, do_not_merge=(refused,))
    rows = [
        _row("202", "补助资金拨付及时率", "反映资金按时拨付的比例（202口径）"),
        _row("201", "补助资金拨付及时率", "反映资金按时拨付的比例（201口径）"),
    ]
    result = _year(rows, 2024, results[2].tables, rules)
    assert result.row_ids.tolist() == [a, b] and frozenset((a, b)) not in _pairs(result)


def _one_department_two_projects(definition_b: str, rule: SynonymRule) -> tuple[Consolidation, Consolidation]:
    """Department 201 files 慰问困难群众户数 and 走访困难群众户数 in two projects of one function class (two ids);
    the next year the bureau's synonym rule makes the two wordings one."""
    definition_a = "反映慰问走访的困难群众户数"
    rows = [
        _row("201", "慰问困难群众户数", definition_a, scope="项目", project="甲", levels=HOUSEHOLDS),
        _row("201", "走访困难群众户数", definition_b, scope="项目", project="乙", levels=HOUSEHOLDS),
    ]
    first = _year(rows, 2021, None)
    assert first.row_ids.nunique() == 2
    rules = MatchRules(version="t+bureau", synonyms=(*default_rules().synonyms, rule))
    return first, _year(rows, 2022, first.tables, rules)


BUREAU_WORD = SynonymRule(rule_id="B001", pattern="走访", replacement="慰问", kind="word")


def test_a_synonym_rule_merges_one_departments_indicators_with_the_same_explanation_honestly() -> None:
    first, second = _one_department_two_projects("反映慰问走访的困难群众户数", BUREAU_WORD)
    kept, absorbed = sorted(first.row_ids)
    ind = second.tables.indicators.set_index("indicator_id")
    assert ind.at[absorbed, "status"] == "merged" and ind.at[absorbed, "merged_into"] == kept
    assert ind.at[absorbed, "retire_reason"] == SHARED_KEY_MERGE_REASON  # certain, and said so
    assert ind.at[absorbed, "last_change_type"] == "合并" and not _reviewed(second)
    assert set(second.row_ids) == {kept} and not len(second.candidates)


def test_a_synonym_rule_never_merges_one_departments_indicators_whose_explanations_differ() -> None:
    """Not certainly one: no merge. The department's rows of that key now all go to one id (continuity by
    department and key), so the other is retired for want of use — the two are listed together, saying so."""
    first, second = _one_department_two_projects("反映入户走访核实的困难群众户数", BUREAU_WORD)
    a, b = sorted(first.row_ids)
    ind = second.tables.indicators.set_index("indicator_id")
    assert ind.at[b, "status"] == "retired" and ind.at[b, "merged_into"] == "" and not _reviewed(second)
    assert set(second.row_ids) == {a}
    reason = _pairs(second)[frozenset((a, b))]
    assert "指标解释不一致" in reason and "因无使用而停用" in reason and "部门" in reason
    assert second.candidates.set_index(["id_a", "id_b"]).at[(a, b), "flags"] == "collapsed"


def test_a_reviewers_merge_is_recorded_as_reviewed_and_a_third_department_twin_is_listed() -> None:
    """201's 资金拨付及时率 (a), 202's 补助资金拨付及时率 (b), 203's 专项资金拨付及时率 (c), which 203 renames with
    修改 to 202's wording. A reviewer merges b into a (a phrase rule with both ids): that merge is 经人工审核.
    c now shares a's key as well: nobody decided about it, so it keeps its id and is listed with a."""
    rows = [
        _row("201", "资金拨付及时率", "反映资金按时拨付的比例"),
        _row("202", "补助资金拨付及时率", "反映补助资金按时拨付的比例"),
        _row("203", "专项资金拨付及时率", "反映补助资金按时拨付的比例"),
    ]
    first = _year(rows, 2021, None)
    a, b, c = first.row_ids.tolist()
    assert len({a, b, c}) == 3
    renamed = {**rows[2], "name": "补助资金拨付及时率", "change_type": "修改", "change_reason": "表述调整"}
    second = _year([rows[0], rows[1], {**renamed, "library_id": c}], 2022, first.tables)
    assert second.row_ids.tolist() == [a, b, c]
    # one wording, two departments' ids: listed at once
    assert "分属不同部门" in _pairs(second)[frozenset((b, c))]

    reviewed = SynonymRule("R001", "补助资金拨付及时率", "资金拨付及时率", "phrase", id_a=a, id_b=b)
    rules = MatchRules(version="t+review", synonyms=(*default_rules().synonyms, reviewed))
    third = _year([rows[0], rows[1], {**rows[2], "name": "补助资金拨付及时率"}], 2023, second.tables, rules)
    ind = third.tables.indicators.set_index("indicator_id")
    assert ind.at[b, "merged_into"] == a and ind.at[b, "retire_reason"] == REVIEW_MERGE_REASON
    assert _reviewed(third) == {b}  # the reviewer's merge only
    assert ind.at[c, "status"] == "active" and third.row_ids.tolist() == [a, a, c]
    assert "分属不同部门" in _pairs(third)[frozenset((a, c))]


def _project_twins(code_201: str) -> list[Consolidation]:
    """201 and 202 share 项目 资金拨付及时率 with the same explanation (one id); 202 renames it with 修改 and 201
    rewords its row to the same words unannounced (a second id); then a year with nothing changed."""

    def rows(name: str, change: str = "", cited: str = "") -> list[dict[str, object]]:
        explained = "反映资金按时拨付的比例"
        return [
            _row("202", name, explained, scope="项目", project="乙", change_type=change, library_id=cited),
            _row("201", name, explained, scope="项目", project="甲", function_code=code_201),
        ]

    results = [_year(rows("资金拨付及时率"), 2021, None)]
    shared = results[0].row_ids.iloc[0]
    assert results[0].row_ids.nunique() == 1
    results.append(_year(rows("补助资金拨付及时率", "修改", shared), 2022, results[-1].tables))
    results.append(_year(rows("补助资金拨付及时率"), 2023, results[-1].tables))
    return results


def test_project_twins_of_one_function_class_stay_apart_even_with_one_explanation() -> None:
    """The cross-class healing used to merge them (same class-free key, same explanation) once
    _merge_shared_keys left them apart: indicators with one key are only merged when certainly one."""
    results = _project_twins("2050201")
    kept, new = results[1].row_ids.tolist()
    assert kept != new and results[2].row_ids.tolist() == [kept, new]
    ind = results[2].tables.indicators.set_index("indicator_id")
    assert (ind.loc[[kept, new], "status"] == "active").all()
    assert "分属不同部门" in _pairs(results[2])[frozenset((kept, new))]


def test_project_twins_of_two_function_classes_keep_their_ids_and_are_listed() -> None:
    """Different classes, the same name, unit, 二级 and explanation: one id when first filed (issue 11 point 12);
    once the silent reword has given 201's row an id of its own, neither id moves (ids never change for an
    indicator whose name and department did not) — the pair is listed every year for a person to decide
    (合并 / 不合并 / 设为共性指标), never merged or recorded as reviewed without one."""
    results = _project_twins("2130505")
    kept, new = results[1].row_ids.tolist()
    assert kept != new and results[2].row_ids.tolist() == [kept, new]
    ind = results[2].tables.indicators.set_index("indicator_id")
    assert (ind.loc[[kept, new], "status"] == "active").all()
    assert (ind.loc[[kept, new], "merged_into"].fillna("") == "").all()
    for result in results[1:]:
        assert _pairs(result)[frozenset((kept, new))] == CROSS_CLASS_KEPT_REASON
    assert not _reviewed(results[2])


def test_certain_groups_need_the_same_departments_and_one_written_explanation() -> None:
    def rec(departments: list[str], definition: str) -> dict[str, object]:
        return {"departments": departments, "definition": definition, "status": "active"}

    records = {
        "ZB-B000004": rec(["201"], "反映 资金按时拨付的比例。"),
        "ZB-B000001": rec(["201"], "反映资金按时拨付的比例"),
        "ZB-B000002": rec(["202"], "反映资金按时拨付的比例"),  # another department
        "ZB-B000003": rec(["201"], ""),  # no explanation
        "ZB-B000005": rec(["201"], "反映补助资金按时拨付的比例"),  # another explanation
        "ZB-B000006": rec([], "反映资金按时拨付的比例"),  # no department known
    }
    assert certain_groups(records, sorted(records)) == [["ZB-B000001", "ZB-B000004"]]
    assert certain_groups(records, ["ZB-B000001", "ZB-B000002", "ZB-B000003", "ZB-B000006"]) == []
