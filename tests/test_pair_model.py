"""The pair model (pipelines/dedupe/pair_model.py): features of a pair, its trained parameters and its figures on
the labelled real-name pairs (tests/data/real_pairs.csv, tests/data/labelled_pairs.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.eval_match import DATA, label_pairs, load_pairs, metrics
from pipelines.dedupe import pair_model as pm
from pipelines.dedupe.features import FEATURES, Sides, pair_features
from pipelines.dedupe.model import MODEL_JSON, load_model
from pipelines.dedupe.scoring import HandScoring
from pipelines.dedupe.vocabulary import distinct_objects, generic_pair, measure_stem

ROOT = Path(__file__).resolve().parents[1]


def features(**pairs: tuple[str, str]) -> dict[str, dict[str, float]]:
    """Features of named pairs of names, filed alike (same unit, 二级, scope and class) unless given."""
    names = list(pairs)
    a = np.array([pairs[n][0] for n in names], dtype=object)
    b = np.array([pairs[n][1] for n in names], dtype=object)
    same = np.array(["x"] * len(names), dtype=object)
    x = pair_features(
        load_model().words, Sides(a, same, same, same, same, same), Sides(b, same, same, same, same, same)
    )
    return {n: dict(zip(FEATURES, row, strict=True)) for n, row in zip(names, x, strict=True)}


def test_difference_pattern_features() -> None:
    f = features(
        prefix=("奖补资金发放及时率", "发放及时率"),
        system=("信息系统运行维护率", "系统运行维护率"),
        cost=("会议成本", "会议费用"),
        classes=("培训班次", "培训期数"),
        satisfied=("群众满意度", "群众满意率"),
        work=("项目开工率", "项目完工率"),
        wetland=("湿地执行率", "耕地执行率"),
        fruit=("桃种植面积", "苹果种植面积"),
        material=("国家级教材", "国家级课程数量"),
        quarter=("第一季度完成进度", "第二季度完成进度"),
        timely=("资金拨付率", "资金拨付及时率"),
        order=("垃圾清运及时率", "垃圾及时清运率"),
        same=("受益群众满意度", "受益群众满意度"),
    )
    assert f["prefix"]["prefix_added"] == 1 and f["prefix"]["coverage"] == 1
    assert f["system"]["prefix_added"] == 1
    for near in ("cost", "classes", "satisfied"):
        assert f[near]["near_synonym"] == 1, near
    assert f["work"]["contrast"] == 1 and f["work"]["one_char_sub"] == 1
    assert (
        f["wetland"]["one_char_sub"] == 1 and f["wetland"]["head_sub"] == 1 and not f["wetland"]["contrast"]
    )
    assert f["fruit"]["head_sub"] == 1 and f["fruit"]["common_tail"] == pytest.approx(0.8)  # 种植面积 of 5
    assert f["material"]["tail_sub"] == 1 and f["material"]["contrast"] == 1
    assert f["quarter"]["number_diff"] == 1
    assert f["timely"]["inner_added"] == 1 and f["timely"]["measure_word"] == 1
    assert f["order"]["order_ratio"] == 1 and f["order"]["name_ratio"] < 1
    assert f["same"]["identical"] == 1 and f["same"]["name_ratio"] == 1


def test_filing_features() -> None:
    def arr(*values: str) -> np.ndarray:
        return np.array(values, dtype=object)

    names = arr("受益群众满意度", "项目总投资", "成本控制率")
    a = Sides(
        names,
        arr("反映受益群众满意情况", "", "反映成本控制情况"),
        arr("%", "万元", "%"),
        arr("满意度指标", "数量指标", "成本指标"),
        arr("项目", "项目", "共性"),
        arr("205", "205", ""),
    )
    b = Sides(
        names,
        arr("反映受益群众的满意情况", "", ""),
        arr("%", "元", ""),
        arr("满意度指标", "数量指标", "质量指标"),
        arr("项目", "项目", "项目"),
        arr("208", "205", "213"),
    )
    x = pair_features(load_model().words, a, b)
    f = [dict(zip(FEATURES, row, strict=True)) for row in x]
    assert f[0]["class_diff"] == 1 and f[0]["level2_equal"] == 1 and f[0]["unit_equal"] == 1
    assert f[0]["def_both"] == 1 and f[0]["def_sim"] > 0.8
    assert f[1]["unit_conflict"] == 1 and f[1]["same_name_unit_conflict"] == 1 and f[1]["class_diff"] == 0
    assert f[2]["level2_equal"] == 0 and f[2]["scope_equal"] == 0 and f[2]["unit_missing"] == 1
    assert f[2]["class_diff"] == 0  # a 共性 indicator has no class to differ


def test_model_parameters_are_data_trained_on_the_fixed_training_parts() -> None:
    data = json.loads(MODEL_JSON.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES)
    assert len(data["coef"]) == len(data["mean"]) == len(data["scale"]) == len(FEATURES)
    assert 0 < data["threshold"] < 1
    # Training reads its fixed parts: every labelled set of eval_match, each evaluated once as a holdout before it
    # was trained on; the settings are chosen by leave-one-set-out cross-validation (benchmarks/cv_match.py).
    x, y, pairs = pm.training_set(ROOT)
    assert set(zip(pairs["source_file"], pairs["split"], strict=True)) == {
        ("real_pairs.csv", "tune"),
        ("real_pairs.csv", "holdout"),
        ("labelled_pairs.csv", "tune"),
        ("labelled_pairs.csv", "holdout"),
        *((f"{d}_pairs.csv", d) for d in ("fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6")),
    }
    assert {Path(f).name for f, _ in pm.TRAIN_PARTS} <= {p.name for p in DATA.values()}
    assert len(y) == len(x) > 100
    assert 0 < data["threshold"] <= data["likely"] < 1


def test_generic_and_qualified_names_and_two_named_objects() -> None:
    """A generic name against a qualified one of the same measure is one indicator more often than two named
    objects' measures are; a target written into a name is not part of its measure."""
    assert measure_stem("辖区企业满意率达95%以上") == "辖区企业满意率"
    assert measure_stem("满意度≥90%") == "满意度" and measure_stem("PM2.5") == "PM2.5"
    assert generic_pair("服务对象满意度", "受益单位满意度") and generic_pair("接种率", "适龄儿童疫苗接种率")
    assert not generic_pair("政府满意度", "患者满意度") and not generic_pair("满意度", "满意度")
    assert distinct_objects("政府满意度", "患者满意度") and distinct_objects("预算完成率", "按时完成率")
    assert not distinct_objects("服务对象满意度", "患者满意度")
    assert not distinct_objects("满意度", "学生满意度")
    model = load_model()
    f = features(generic=("服务对象满意度", "受益单位满意度"), named=("政府满意度", "患者满意度"))
    assert f["generic"]["generic_qualified"] == 1 and f["named"]["distinct_objects"] == 1
    p = {k: float(model.probability(np.array([[v[n] for n in FEATURES]]))[0]) for k, v in f.items()}
    assert p["generic"] >= model.threshold and p["named"] < model.likely, p


def test_model_scores_the_issue_examples() -> None:
    """Duplicates the first version missed are likely; the noise it listed is not."""
    model = load_model()
    f = features(
        prefix=("奖补资金发放及时率", "资金发放及时率"),
        system=("信息系统运行维护率", "系统运行维护率"),
        qualifier=("受益群众满意度", "群众满意度"),
        satisfied=("群众满意度", "群众满意率"),
        cost=("会议成本", "会议费用"),
        work=("项目开工率", "项目完工率"),
        fruit=("桃种植面积", "苹果种植面积"),
        material=("国家级教材", "国家级课程数量"),
    )
    p = {k: float(model.probability(np.array([[v[n] for n in FEATURES]]))[0]) for k, v in f.items()}
    for duplicate in ("prefix", "system", "qualifier", "satisfied"):
        assert p[duplicate] >= model.likely, (duplicate, p)
    assert p["cost"] >= model.threshold, p
    for noise in ("work", "fruit", "material"):
        assert p[noise] < model.likely, (noise, p)
    # 开工/完工 is a known contrast: below the likely mark it is not listed at all (tests/test_match.py).


def test_committed_model_is_the_one_training_gives() -> None:
    """Training is deterministic and the committed JSON is up to date with the labelled data (after a change
    of tests/data/*pairs.csv or of the features, run: python -m pipelines.dedupe.pair_model train)."""
    trained = pm.train(ROOT)
    committed = json.loads(MODEL_JSON.read_text(encoding="utf-8"))
    assert trained["features"] == committed["features"] and trained["trained_on"] == committed["trained_on"]
    assert trained["threshold"] == pytest.approx(committed["threshold"], abs=0.002)
    assert np.allclose(trained["coef"], committed["coef"], atol=0.05)


@pytest.mark.parametrize("data", ["real", "old", "fresh"])
def test_holdout_targets(data: str) -> None:
    """The figures of benchmarks/RESULTS.md ("Dedupe on real names", in-sample since 2026-12-04): a regression
    fails here."""
    pairs = load_pairs(DATA[data])
    holdout = pairs[pairs["split"] != "tune"].reset_index(drop=True)
    m = metrics(label_pairs(holdout))
    assert m["auto_fp"] == 0  # automatic merges: precision 1.000
    floors = HOLDOUT_FLOORS[data]
    assert m["flagged_r"] >= floors["flagged_r"], m
    assert m["listed_p"] >= floors["listed_p"], m
    assert m["likely_p"] >= floors["likely_p"], m


# Measured on the committed data and model (benchmarks/eval_match.py, RESULTS.md), a little below. Since the
# model is trained on every labelled set (2026-12-04) these are in-sample guards: real holdout 0.956 / 0.343 /
# 可能性较高 0.710; old holdout 1.000 / 0.200 / 0.647; fresh 0.976 / 0.360 / 0.875. The figures of a set no model saw
# are the cross-validated ones (tests/test_cv_match.py).
HOLDOUT_FLOORS = {
    "real": {"flagged_r": 0.95, "listed_p": 0.33, "likely_p": 0.55},
    "old": {"flagged_r": 0.97, "listed_p": 0.2, "likely_p": 0.5},
    "fresh": {"flagged_r": 0.95, "listed_p": 0.36, "likely_p": 0.78},
}


def test_model_beats_hand_weights_on_tune() -> None:
    pairs = load_pairs(DATA["real"])
    tune = pairs[pairs["split"] == "tune"].reset_index(drop=True)
    model = metrics(label_pairs(tune))
    hand = metrics(label_pairs(tune, HandScoring()))
    assert model["flagged_r"] >= hand["flagged_r"]
    assert isinstance(pd.isna(model["listed_p"]), bool)


def test_eval_match_takes_the_final_holdout_whole() -> None:
    """`python -m benchmarks.eval_match --data fresh2` evaluates tests/data/fresh2_pairs.csv whole and lists
    fresh2_names.csv as one library (since round 2 a training part: see pair_model.TRAIN_PARTS)."""
    from benchmarks.eval_match import DATA, NAMES, _parts

    assert DATA["fresh2"].name == "fresh2_pairs.csv" and NAMES["fresh2"].name == "fresh2_names.csv"
    expected = [("fresh2", "all")] if DATA["fresh2"].exists() else []
    assert _parts("fresh2", "all") == expected and _parts("fresh", "holdout") == [("fresh", "all")]
