"""The 理由 of merge_review.xlsx names round 7's conflicts (objects.py: kind_conflict, measure_swap, items_apart;
groups_apart through the 对象不同 clause), quoting what each side has: a clerk sees why a listed pair may be two
indicators. One clause per conflict: the 后缀 clause and the general measure-word clause give way to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.dedupe.blocking import BlockingConfig
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.features import COLUMN, FEATURES
from pipelines.dedupe.scoring import ModelScoring
from tests.test_review_reason_objects import _reasons

MEASURE_WORD = "差异词说明计量方式或口径（如及时、足额、合格、平均），可能是不同的指标"  # the general clause


def _oriented(reasons: dict[tuple[str, str], list[str]], first: str, second: str) -> tuple[list[str], bool]:
    """The clauses of the pair and whether `first` is its A (the review orders a pair by rank, not by us)."""
    found = [(v, a == first) for (a, b), v in reasons.items() if {a, b} == {first, second}]
    assert len(found) == 1, sorted(reasons)
    return found[0]


UNBOUNDED = BlockingConfig(min_cosine=0.0)  # every pair of a small frame generated


def every_pair(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[frozenset[str], list[str]]]:
    """Every pair the matcher generates in `frame`, listed or not (no score floor, no cap per name), and each
    pair's flags by its two names (later rounds' tests read their conflicts there)."""
    every = find_candidates(frame, None, config=UNBOUNDED, scoring=ModelScoring(min_score=0, per_name=0))
    flags = {
        frozenset((a, b)): f.split(";")
        for a, b, f in zip(every["name_a"], every["name_b"], every["flags"], strict=True)
    }
    return every, flags


def listed_pairs(frame: pd.DataFrame, scoring: ModelScoring) -> set[frozenset[str]]:
    """The pairs of `frame` the review list holds under `scoring`, by their two names."""
    listed = find_candidates(frame, None, config=UNBOUNDED, scoring=scoring)
    return {frozenset(p) for p in zip(listed["name_a"], listed["name_b"], strict=True)}


def _expect(head: str, first: str, second: str, is_a: bool, tail: str = "，多为不同的指标") -> str:
    a, b = (first, second) if is_a else (second, first)
    return head.format(a=a, b=b) + tail


def test_round7_conflicts_are_named_in_the_review_file(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "早孕建册率", "unit": "%"},
        {"name": "早孕建册数", "unit": "%"},
        {"name": "验收合格率", "unit": "%"},
        {"name": "设备验收及时率", "unit": "%"},
        {"name": "人均培训成本", "unit": "元"},
        {"name": "人均会议成本", "unit": "元"},
        {"name": "患者满意度", "unit": "分"},
        {"name": "学校满意度", "unit": "分"},
    )
    kinds, is_a = _oriented(reasons, "早孕建册率", "早孕建册数")
    assert _expect("计量类型不同：A为{a}，B为{b}", "比率", "数量", is_a) in kinds, kinds
    assert not any(c.startswith("后缀") for c in kinds), kinds  # the kind clause says it, once

    swap, is_a = _oriented(reasons, "验收合格率", "设备验收及时率")
    assert _expect("衡量内容不同：A含“{a}”，B含“{b}”", "合格", "及时", is_a) in swap, swap
    assert MEASURE_WORD not in swap, swap

    items, is_a = _oriented(reasons, "人均培训成本", "人均会议成本")
    assert _expect("费用项目不同：A为“{a}”，B为“{b}”", "培训", "会议", is_a) in items, items

    # groups_apart holds only where group_conflict does: its pairs get the one 对象不同 clause.
    groups, is_a = _oriented(reasons, "患者满意度", "学校满意度")
    assert [c for c in groups if c.startswith("对象")] == [
        _expect("对象不同：A为“{a}”，B为“{b}”", "患者", "学校", is_a)
    ], groups
    assert not any(c.startswith(("计量类型", "衡量内容", "费用项目")) for c in groups), groups


def test_visits_and_rates_of_change_are_named(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "培训人次", "unit": "人次"},
        {"name": "培训人数", "unit": "人次"},
        {"name": "结转结余变动率", "unit": "%"},
        {"name": "结转结余率", "unit": "%"},
        {"name": "完成时限", "unit": ""},
        {"name": "完成及时率", "unit": ""},
    )
    visits, is_a = _oriented(reasons, "培训人次", "培训人数")
    assert _expect("计量类型不同：A为{a}，B为{b}", "人次", "人数", is_a) in visits, visits
    assert not any(c.startswith("后缀") for c in visits), visits
    change, is_a = _oriented(reasons, "结转结余变动率", "结转结余率")
    assert _expect("计量类型不同：A为{a}，B为{b}", "变化率", "比率", is_a) in change, change
    assert MEASURE_WORD not in change, change  # 变动 is quoted as the rate of change it makes
    time, is_a = _oriented(reasons, "完成时限", "完成及时率")
    assert _expect("计量类型不同：A为{a}，B为{b}", "时间", "比率", is_a) in time, time


def test_a_pair_without_round7_conflicts_keeps_its_clauses(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "预算执行率", "unit": "%"},
        {"name": "预算完成率", "unit": "%"},
        {"name": "数据备份及时率", "unit": "%"},
        {"name": "数据备份及时足额率", "unit": "%"},
    )
    alike, _ = _oriented(reasons, "预算执行率", "预算完成率")  # 执行 and 完成: one measure (MEASURE_ALIKE)
    assert not any(c.startswith(("计量类型", "衡量内容", "费用项目")) for c in alike), alike
    assert "后缀同为“率”" in alike
    more, _ = _oriented(reasons, "数据备份及时率", "数据备份及时足额率")  # one side's word more: not a swap
    assert MEASURE_WORD in more and not any(c.startswith("衡量内容") for c in more), more


def test_conflicts_whose_words_are_not_shown_keep_the_general_clause() -> None:
    from pipelines.dedupe.reasons import ITEMS_APART, KIND_CONFLICT, MEASURE_SWAP, Difference, Side, _round7

    n = 4
    x = np.zeros((n, len(FEATURES)))
    x[:3, COLUMN["measure_swap"]] = 1
    x[:3, COLUMN["kind_conflict"]] = 1
    x[:3, COLUMN["items_apart"]] = 1
    empty = np.array([""] * n, dtype=object)

    def side(suffix: list[str]) -> Side:
        return Side(empty, np.array(suffix, dtype=object), empty, empty, empty, empty, empty)

    # Row 0 shows its words; row 1's segments cut them ("及→准" of 及时 / 准时); row 2's names are alike.
    patterns = np.array(["会议及时→培训合格", "及→准", "名称相同", "甲→乙"], dtype=object)
    d = Difference(
        patterns, np.array([1, 1, 0, 1]), np.array([4, 1, 0, 1]), np.array(["会议及时", "及", "", "甲"])
    )
    measure, kind, items = _round7(d, x, side(["率", "", "率", ""]), side(["数", "", "率", ""]))
    assert list(measure) == [
        "衡量内容不同：A含“合格”，B含“及时”，多为不同的指标",
        MEASURE_SWAP,
        MEASURE_SWAP,
        "",
    ]
    assert list(kind) == ["计量类型不同：A为比率，B为数量，多为不同的指标", KIND_CONFLICT, KIND_CONFLICT, ""]
    assert list(items) == ["费用项目不同：A为“培训”，B为“会议”，多为不同的指标", ITEMS_APART, ITEMS_APART, ""]
