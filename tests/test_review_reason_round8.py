"""The 理由 of merge_review.xlsx names round 8's conflicts (objects.py): one measure at two periods (periods_apart,
预算执行进度(7月) / 预算执行进度(11月)) quoting each side's period in place of the general 差异含数字 clause; money per
something against a total (per_unit_apart, 单位口径不同 in place of 单位不同); an addition against a stock (new_apart,
增量与总量不同). Round 7's measure words made by a near-synonym rewrite (使用率 is read as 执行率) are quoted from the
canonical stems instead of the general sentence. The candidate list's flags name the conflicts of objects.py
(merge_review.xlsx has no flags column: the flags stay in the matcher's candidate frame)."""

from __future__ import annotations

from pathlib import Path

from pipelines.dedupe.reasons import MEASURE_SWAP
from tests.test_match import clusters
from tests.test_review_reason_objects import _reasons
from tests.test_review_reason_round7 import _expect, _oriented, every_pair

NUMBERS = (
    "差异含数字（期间、序号或数量不同），多为不同指标"  # the general clause for a number in the difference
)


def test_two_periods_of_one_measure_are_named_in_the_review_file(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "预算执行进度(7月)", "unit": "%"},
        {"name": "预算执行进度（11月）", "unit": "%"},
        {"name": "第一季度档案基础工作完成进度", "unit": "%"},
        {"name": "第二季度档案基础工作完成进度", "unit": "%"},
        {"name": "上半年项目开工率", "unit": "%"},
        {"name": "项目开工率", "unit": "%"},
        {"name": "12月底前完成项目验收", "unit": ""},
        {"name": "10月底前完成项目验收", "unit": ""},
    )
    months, is_a = _oriented(reasons, "预算执行进度(7月)", "预算执行进度（11月）")
    assert _expect("期间不同：A为“{a}”，B为“{b}”", "7月", "11月", is_a) in months, months
    assert NUMBERS not in months, months  # one clause per difference
    quarters, is_a = _oriented(reasons, "第一季度档案基础工作完成进度", "第二季度档案基础工作完成进度")
    assert _expect("期间不同：A为“{a}”，B为“{b}”", "第一季度", "第二季度", is_a) in quarters, quarters
    # A period on one side only is no conflict (the name may carry its year's checkpoint or not).
    one, _ = _oriented(reasons, "上半年项目开工率", "项目开工率")
    assert not any(c.startswith("期间不同") for c in one), one
    # A deadline is a target written into the name, not a period: two filings of one measure may differ in it.
    deadline, _ = _oriented(reasons, "12月底前完成项目验收", "10月底前完成项目验收")
    assert not any(c.startswith("期间不同") for c in deadline), deadline


def test_money_per_something_against_a_total_is_named(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "场地租赁费", "unit": "万元"},
        {"name": "场地租赁费支出标准", "unit": "元/天"},
        {"name": "人均补助标准", "unit": "元/生"},
        {"name": "配套资金每人每年", "unit": "元"},
    )
    rent, is_a = _oriented(reasons, "场地租赁费", "场地租赁费支出标准")
    total, rate = "“万元”（总额）", "“元/天”（单价或标准）"
    a, b = (total, rate) if is_a else (rate, total)
    assert f"单位口径不同：A为{a}，B为{b}，多为不同的指标" in rent, rent
    assert not any(c.startswith("单位不同") for c in rent), rent  # one unit clause
    # A name that says per what (每人每年) in a plain money unit is no conflict: 单位不同 as before.
    per_person, _ = _oriented(reasons, "人均补助标准", "配套资金每人每年")
    assert not any(c.startswith("单位口径不同") for c in per_person), per_person
    assert any(c.startswith("单位不同") for c in per_person), per_person


def test_an_addition_against_a_stock_is_named(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "新增绿化面积", "unit": "平方米"},
        {"name": "绿化面积", "unit": "平方米"},
        {"name": "新增就业岗位数", "unit": "个"},
        {"name": "新建就业岗位数", "unit": "个"},
    )
    green, is_a = _oriented(reasons, "新增绿化面积", "绿化面积")
    said = "A为新增量（含“新增”），B为总量" if is_a else "A为总量，B为新增量（含“新增”）"
    assert f"增量与总量不同：{said}，多为不同的指标" in green, green
    # 新建 names an addition too: no stock on either side.
    built, _ = _oriented(reasons, "新增就业岗位数", "新建就业岗位数")
    assert not any(c.startswith("增量与总量") for c in built), built


def test_measure_words_of_a_near_synonym_rewrite_are_quoted(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "实验室大型仪器设备使用率", "unit": "%"},
        {"name": "实验室大型仪器设备平均利用率", "unit": "%"},
    )
    swap, is_a = _oriented(reasons, "实验室大型仪器设备使用率", "实验室大型仪器设备平均利用率")
    head = "衡量内容不同（按近义词归一后）：A含“{a}”，B含“{b}”"
    assert _expect(head, "执行", "平均", is_a) in swap, swap
    assert MEASURE_SWAP not in swap, swap


def test_flags_name_the_conflicts() -> None:
    frame = clusters(
        {"name": "预算执行进度(7月)", "unit": "%"},
        {"name": "预算执行进度(11月)", "unit": "%"},
        {"name": "早孕建册率", "unit": "%"},
        {"name": "早孕建册数", "unit": "%"},
        {"name": "劳务费", "unit": "万元"},
        {"name": "劳务费支出标准", "unit": "元/人天"},
        {"name": "新增档案整理移库", "unit": "标箱"},
        {"name": "档案整理移库", "unit": "标箱"},
    )
    _, flags = every_pair(frame)
    assert "periods_apart" in flags[frozenset(("预算执行进度(7月)", "预算执行进度(11月)"))]
    assert "kind_conflict" in flags[frozenset(("早孕建册率", "早孕建册数"))]
    assert "per_unit_apart" in flags[frozenset(("劳务费", "劳务费支出标准"))]
    assert "new_apart" in flags[frozenset(("新增档案整理移库", "档案整理移库"))]
