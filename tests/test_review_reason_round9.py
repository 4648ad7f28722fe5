"""Round 9's conflicts (objects.py) in the 理由 of merge_review.xlsx and in the matcher: things with none in common
(things_apart: 其中桃树种植面积 / 梨树种植面积, 高血压 / 糖尿病患者规范管理率), a qualifier on one side only
(qualifier_apart: 公共文化场馆免费开放率 / 开放率, 按时足额发放率 / 按时发放率) and the contrasts added to
pair_model.CONTRASTS (国内 / 国际), each listed only when the model finds the pair likely."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.dedupe.objects import LIKELY_ONLY_CONFLICTS, qualifier_apart, things_apart
from pipelines.dedupe.scoring import ModelScoring
from tests.test_match import clusters
from tests.test_review_reason_objects import _reasons
from tests.test_review_reason_round7 import _expect, _oriented, every_pair, listed_pairs


def _apart(read: object, one: str, other: str) -> bool:
    texts = np.array([one, other], dtype=object)
    return bool(read(texts, np.array([0]), np.array([1]))[0])  # type: ignore[operator]


def test_things_and_qualifiers_read_from_names() -> None:
    assert _apart(things_apart, "其中桃树种植面积", "梨树种植面积")
    assert _apart(things_apart, "核桃种植面积", "桃种植面积")  # 核桃 is read before 桃
    assert _apart(things_apart, "高血压患者管理人数", "2型糖尿病患者管理人数")
    # One thing on both sides, or a thing on one side only: no conflict (其中羊养殖数量 / 羊养殖数量 is one).
    assert not _apart(things_apart, "其中羊养殖数量", "羊养殖数量")
    assert not _apart(things_apart, "猪牛羊养殖数量", "牛养殖数量")
    assert not _apart(things_apart, "稻谷种植面积", "水稻种植面积")  # one thing in two words
    assert not _apart(things_apart, "苹果种植面积", "种植面积")
    assert _apart(qualifier_apart, "最低生活保障金按时足额发放率", "最低生活保障金按时发放率")
    assert _apart(qualifier_apart, "公共文化场馆免费开放率", "公共文化场馆开放率")
    assert _apart(qualifier_apart, "高血压患者规范管理率", "高血压患者健康管理率")
    assert _apart(qualifier_apart, "居民电子健康档案建档率", "居民健康档案建档率")
    assert not _apart(qualifier_apart, "公共文化场馆免费开放率", "博物馆免费开放率")
    # Timeliness is no qualifier here (duplicates say it in other words: 按计划, 在规定时间).
    assert not _apart(qualifier_apart, "资金拨付率", "资金拨付及时率")
    assert {"things_apart", "qualifier_apart"} <= set(LIKELY_ONLY_CONFLICTS)


def test_round9_conflicts_are_named_in_the_review_file(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "其中桃树种植面积", "unit": "亩"},
        {"name": "梨树种植面积", "unit": "亩"},
        {"name": "高血压患者规范管理率", "unit": "%"},
        {"name": "糖尿病患者规范管理率", "unit": "%"},
        {"name": "公共文化场馆免费开放率", "unit": "%"},
        {"name": "公共文化场馆开放率", "unit": "%"},
        {"name": "最低生活保障金按时足额发放率", "unit": "%"},
        {"name": "最低生活保障金按时发放率", "unit": "%"},
        {"name": "国内专利申请", "unit": "项"},
        {"name": "国际专利申请", "unit": "项"},
    )
    fruit, is_a = _oriented(reasons, "其中桃树种植面积", "梨树种植面积")
    assert _expect("所指事物不同：A为“{a}”，B为“{b}”", "桃", "梨", is_a) in fruit, fruit
    disease, is_a = _oriented(reasons, "高血压患者规范管理率", "糖尿病患者规范管理率")
    assert _expect("所指事物不同：A为“{a}”，B为“{b}”", "高血压", "糖尿病", is_a) in disease, disease
    free, is_a = _oriented(reasons, "公共文化场馆免费开放率", "公共文化场馆开放率")
    said = "A含“免费”，B无此限定" if is_a else "A无此限定，B含“免费”"
    assert f"限定条件不同：{said}，多为不同的指标" in free, free
    full, is_a = _oriented(reasons, "最低生活保障金按时足额发放率", "最低生活保障金按时发放率")
    said = "A含“足额”，B无此限定" if is_a else "A无此限定，B含“足额”"
    assert f"限定条件不同：{said}，多为不同的指标" in full, full
    patents, _ = _oriented(reasons, "国内专利申请", "国际专利申请")
    assert any(c.startswith("差异词常表示不同的计量内容") for c in patents), patents


def test_flags_name_round9_and_the_list_keeps_them_only_when_likely() -> None:
    frame = clusters(
        {"name": "其中桃树种植面积", "unit": "亩"},
        {"name": "梨树种植面积", "unit": "亩"},
        {"name": "一次性验收合格率", "unit": "%"},
        {"name": "验收合格率", "unit": "%"},
        {"name": "国内专利申请", "unit": "项"},
        {"name": "国际专利申请", "unit": "项"},
    )
    _, flags = every_pair(frame)
    assert "things_apart" in flags[frozenset(("其中桃树种植面积", "梨树种植面积"))]
    assert "qualifier_apart" in flags[frozenset(("一次性验收合格率", "验收合格率"))]
    assert "contrast" in flags[frozenset(("国内专利申请", "国际专利申请"))]
    # 一次性验收合格率 / 验收合格率 scores over the listing threshold but not likely: listed only without the rule.
    pair = frozenset(("一次性验收合格率", "验收合格率"))
    assert pair not in listed_pairs(frame, ModelScoring())
    assert pair in listed_pairs(frame, ModelScoring(likely_only=("contrast",)))
