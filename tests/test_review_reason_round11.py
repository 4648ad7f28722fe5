"""Round 11 (counted.py, pair_model.py) in the 理由 of merge_review.xlsx and in the matcher: counts of two things
sharing no character (counts_apart: 补贴渔船数量 / 培训学员数量), listed only when the model finds the pair likely;
and the categories of the performance-indicator framework as contrasts (完成数量 / 完成质量, 社会效益 / 经济效益)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from pipelines.dedupe import pair_model as pm
from pipelines.dedupe.counted import counted_thing, counts_apart
from pipelines.dedupe.model import load_model
from pipelines.dedupe.objects import LIKELY_ONLY_CONFLICTS
from pipelines.dedupe.reasons import CONFLICT_FLAGS
from pipelines.dedupe.scoring import ModelScoring
from tests.test_match import clusters
from tests.test_review_reason_objects import _reasons
from tests.test_review_reason_round7 import _expect, _oriented, every_pair, listed_pairs


def _apart(one: str, other: str) -> bool:
    stems = np.array([one, other], dtype=object)
    return bool(counts_apart(stems, np.array([0]), np.array([1]))[0])


def test_counts_apart_fires_on_counts_of_two_things() -> None:
    assert _apart("补贴渔船数量", "培训学员数量")
    assert _apart("基本医疗保险参保人数", "管理人员数量")  # two count endings, nothing in common
    assert _apart("综合宣传次数", "调度中心接警次数")
    assert _apart("稳定相关就业人数", "带动脱贫人数")
    assert _apart("培训学员数量", "补贴渔船数量")  # either order
    assert counted_thing("补贴渔船数量") == "补贴渔船" and counted_thing("综合宣传次数") == "综合宣传"
    assert "counts_apart" in LIKELY_ONLY_CONFLICTS and "counts_apart" in CONFLICT_FLAGS


def test_counts_apart_spares_one_thing_in_two_wordings() -> None:
    # Duplicates of the labelled sets: the two wordings keep a character.
    assert not _apart("新车采购数量", "公务用车购置数量")
    assert not _apart("派车次数", "救护车出车次数")
    assert not _apart("组织宣传活动次数", "开展宣传活动次数")
    assert not _apart("农村危房改造户数", "农村危房改造数量")
    # A thing of two characters is the act (发放人数 / 领取补助人数 is one count): left to the model.
    assert not _apart("发放人数", "领取补助人数")
    assert counted_thing("发放人数") == ""
    # Not two counts: a rate, an index, a count against a rate; the same name.
    assert not _apart("支持企业数量", "创业导师满意度")
    assert not _apart("居民消费价格指数", "工业生产者价格数量")
    assert counted_thing("居民消费价格指数") == ""
    assert not _apart("支持企业数量", "支持企业数量")
    # Things sharing a character are left to the model (入驻企业 / 支持企业: 企业; 创业导师: 业).
    assert not _apart("支持企业数量", "入驻企业数量")
    assert not _apart("支持企业数量", "创业导师数量")


def test_the_framework_categories_are_contrasts() -> None:
    assert set(pm.CATEGORY_CONTRASTS) <= set(pm.CONTRASTS) <= set(load_model().words.contrasts)
    frame = clusters(
        {"name": "完成数量", "unit": ""},
        {"name": "完成质量", "unit": ""},
        {"name": "社会效益(可选项)", "unit": ""},
        {"name": "经济效益(可选项)", "unit": ""},
        {"name": "可持续效益(可选项)", "unit": ""},
        {"name": "完成数量指标", "unit": ""},
    )
    _, flags = every_pair(frame)
    assert "contrast" in flags[frozenset(("完成数量", "完成质量"))], flags
    assert "contrast" in flags[frozenset(("社会效益(可选项)", "经济效益(可选项)"))], flags
    # The contrasts past the 64th (a mask holds 64 words; the features read them 64 at a time).
    assert pm.CONTRASTS.index(("可持续", "经济效益")) >= 64
    assert "contrast" in flags[frozenset(("可持续效益(可选项)", "经济效益(可选项)"))], flags
    # One category on both sides: no contrast.
    assert "contrast" not in flags.get(frozenset(("完成数量", "完成数量指标")), [])


def test_counts_apart_is_named_in_the_review_file(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "管理人员数量", "unit": "人"},
        {"name": "二等乙级以上伤残军人数量", "unit": "人"},
        {"name": "综合宣传次数", "unit": "次"},
        {"name": "调度中心接警次数", "unit": "次"},
        {"name": "派车次数", "unit": "次"},
        {"name": "救护车出车次数", "unit": "次"},
    )
    # The stems write 数量 as 数: 二等乙级以上伤残军人数 counts 二等乙级以上伤残军 by its 人数.
    firms, is_a = _oriented(reasons, "管理人员数量", "二等乙级以上伤残军人数量")
    head = "计数对象不同：A计“{a}”，B计“{b}”"
    assert (
        _expect(head, "管理人员", "二等乙级以上伤残军", is_a, "，两者没有共同的字，多为不同的指标") in firms
    ), firms
    # Said once: the general clause of count_conflict gives way to the quoted one.
    assert sum(c.startswith("计数对象不同") for c in firms) == 1, firms
    calls, is_a = _oriented(reasons, "综合宣传次数", "调度中心接警次数")
    assert _expect(head, "综合宣传", "调度中心接警", is_a, "，两者没有共同的字，多为不同的指标") in calls, (
        calls
    )
    # One thing in two wordings says nothing of it.
    cars, _ = _oriented(reasons, "派车次数", "救护车出车次数")
    assert not any("没有共同的字" in c for c in cars), cars


def test_flags_name_counts_apart_and_the_list_keeps_it_only_when_likely() -> None:
    frame = clusters(
        {"name": "管理人员数量", "unit": "人"},
        {"name": "二等乙级以上伤残军人数量", "unit": "人"},
        {"name": "带动脱贫人数", "unit": "人"},
        {"name": "派车次数", "unit": "次"},
        {"name": "救护车出车次数", "unit": "次"},
    )
    every, flags = every_pair(frame)
    pairs = (
        frozenset(("管理人员数量", "二等乙级以上伤残军人数量")),
        frozenset(("带动脱贫人数", "管理人员数量")),
    )
    assert all("counts_apart" in flags[p] for p in pairs), flags
    assert "counts_apart" not in flags[frozenset(("派车次数", "救护车出车次数"))]
    # With the threshold lowered under their score, they are listed only without the rule.
    lenient = replace(load_model(), threshold=0.0005)
    score = {frozenset(p): v for *p, v in zip(every["name_a"], every["name_b"], every["score"], strict=True)}
    assert all(0.05 <= score[p] < 100 * lenient.likely for p in pairs), score
    others = tuple(f for f in ModelScoring().likely_only if f != "counts_apart")
    shown = listed_pairs(frame, ModelScoring(model=lenient))
    unshown = listed_pairs(frame, ModelScoring(model=lenient, likely_only=others))
    assert not set(pairs) & shown and set(pairs) <= unshown, (shown, unshown)
