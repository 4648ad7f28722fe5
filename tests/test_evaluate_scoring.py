"""Self-evaluation scoring (issue 14, SPEC §7): every rule at its band edges, for ≥ and ≤ targets, the
qualitative bands, 满意度, 预算执行率 and grades; weights; totals; and bounded properties (points never above
the indicator's, a project never above 100)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.evaluate.score import score_departments, score_projects, score_usages, scoring_method
from pipelines.evaluate.scoring import (
    budget_score,
    completion_rate,
    direct_score,
    grade_of,
    proportional_score,
    qualitative_range,
    qualitative_score,
    satisfaction_score,
    target_range,
)
from pipelines.evaluate.weights import allocate, usage_points

# completion rate (percent) → share of the points: 0 below 60 % and at 60 %, linear to 100 %, capped above
EDGES = [(59.99, 0.0), (60.0, 0.0), (80.0, 0.5), (90.0, 0.75), (100.0, 1.0), (120.0, 1.0)]


@pytest.mark.parametrize(("rate", "share"), EDGES)
def test_proportional_greater_target_at_band_edges(rate: float, share: float) -> None:
    score = proportional_score("≥", 200.0, 200.0 * rate / 100, 20.0)
    assert score.rule == "proportional"
    assert score.rate == pytest.approx(rate)
    assert score.points == pytest.approx(20.0 * share)
    assert "完成值 ÷ 目标值" in score.explanation and f"{score.points:g} 分" in score.explanation


@pytest.mark.parametrize(("rate", "share"), EDGES)
def test_proportional_less_target_at_band_edges(rate: float, share: float) -> None:
    # a ≤ target: rate = target ÷ actual, so a rate of 80 % is an actual of target ÷ 0.8
    score = proportional_score("≤", 90.0, 90.0 / (rate / 100), 10.0)
    assert score.rate == pytest.approx(rate)
    assert score.points == pytest.approx(10.0 * share)
    assert "目标值 ÷ 完成值" in score.explanation


def test_below_sixty_and_above_hundred_are_explained() -> None:
    low = proportional_score("≥", 100.0, 59.99, 10.0)
    assert low.points == 0.0 and "低于 60%，得 0 分" in low.explanation
    high = proportional_score("≥", 100.0, 130.0, 10.0)
    assert high.points == 10.0 and "超过 100% 按 100% 计" in high.explanation
    assert high.rate == pytest.approx(130.0)  # the rate is kept as computed; only the points are capped


def test_strict_symbols_read_like_their_inclusive_forms() -> None:
    assert (
        proportional_score(">", 100.0, 90.0, 10.0).points == proportional_score("≥", 100.0, 90.0, 10.0).points
    )
    assert (
        proportional_score("<", 100.0, 125.0, 10.0).points
        == proportional_score("≤", 100.0, 125.0, 10.0).points
    )
    assert proportional_score("", 100.0, 90.0, 10.0).points == 7.5  # no symbol: ≥


def test_equal_target_scores_a_miss_either_way() -> None:
    assert completion_rate("=", 12.0, 12.0)[0] == 100.0
    assert completion_rate("=", 100.0, 90.0)[0] == pytest.approx(90.0)  # below: actual ÷ target
    assert completion_rate("=", 100.0, 125.0)[0] == pytest.approx(80.0)  # above: target ÷ actual
    assert proportional_score("=", 100.0, 125.0, 10.0).points == 5.0


def test_range_targets() -> None:
    assert target_range("90-95") == (90.0, 95.0)
    assert target_range("90%～95%") == (90.0, 95.0)
    assert target_range("3至5天") == (3.0, 5.0)
    assert target_range("≥95") is None and target_range("95-90") is None
    span = (90.0, 95.0)
    assert completion_rate("≥", 90.0, 92.0, span)[0] == 100.0
    assert completion_rate("≥", 90.0, 95.0, span)[0] == 100.0  # ends included
    assert completion_rate("≥", 90.0, 72.0, span)[0] == pytest.approx(80.0)  # below: actual ÷ low
    assert completion_rate("≥", 90.0, 118.75, span)[0] == pytest.approx(80.0)  # above: high ÷ actual


def test_zero_targets_and_actuals() -> None:
    assert completion_rate("≤", 0.0, 0.0)[0] == 100.0  # 0 accidents against ≤ 0: met
    assert completion_rate("≤", 5.0, 0.0)[0] == 100.0
    assert completion_rate("≤", 0.0, 2.0)[0] == 0.0  # 2 accidents against ≤ 0
    assert completion_rate("=", 0.0, 1.0)[0] == 0.0
    assert completion_rate("≥", 0.0, 0.0)[0] == 100.0


def test_direct_scoring_is_all_or_nothing() -> None:
    assert direct_score("是", "是", 8.0).points == 8.0
    assert direct_score("是", "否", 8.0).points == 0.0
    met = direct_score("否", "否", 8.0)  # "是否发生安全事故：否" met by 否
    assert met.points == 8.0 and "达到目标" in met.explanation


@pytest.mark.parametrize(
    ("grade", "low", "high"),
    [("基本达成目标", 16.0, 20.0), ("部分实现目标", 12.0, 16.0), ("实现目标程度较低", 0.0, 12.0)],
)
def test_qualitative_bands_at_their_edges(grade: str, low: float, high: float) -> None:
    assert qualitative_range(grade, 20.0) == (low, high)
    for proposed in (low, high, (low + high) / 2):
        score = qualitative_score(grade, proposed, 20.0)
        assert score.points == proposed and grade in score.explanation
    for outside in (low - 0.01, high + 0.01):
        if 0 <= outside <= 20:
            with pytest.raises(ValueError):
                qualitative_score(grade, outside, 20.0)
    with pytest.raises(KeyError):
        qualitative_range("完全达成", 20.0)


@pytest.mark.parametrize(
    ("satisfaction", "share"),
    [(100.0, 1.0), (90.0, 1.0), (89.99, 0.8), (80.0, 0.8), (79.99, 0.5), (60.0, 0.5), (59.99, 0.0)],
)
def test_satisfaction_bands_scale_to_the_points(satisfaction: float, share: float) -> None:
    assert satisfaction_score(satisfaction, 10.0).points == pytest.approx(10.0 * share)
    assert satisfaction_score(satisfaction, 5.0).points == pytest.approx(5.0 * share)


@pytest.mark.parametrize(
    ("spent", "completed", "points"),
    [
        (100.0, True, 10.0),  # completed within budget
        (59.0, True, 10.0),
        (100.0, False, 7.0),  # not completed: by execution rate
        (80.0, False, 7.0),
        (79.99, False, 5.0),
        (60.0, False, 5.0),
        (59.99, False, 0.0),
        (130.0, True, 7.0),  # completed but over budget: judged by the rate (≥ 80 %)
    ],
)
def test_budget_execution_points(spent: float, completed: bool, points: float) -> None:
    score = budget_score(100.0, spent, completed)
    assert score.points == points and score.max_points == 10.0
    assert "全年执行数" in score.explanation


def test_budget_without_a_budget_scores_zero() -> None:
    assert budget_score(0.0, 10.0, True).points == 0.0


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        (100.0, "优"),
        (90.0, "优"),
        (89.99, "良"),
        (80.0, "良"),
        (79.99, "中"),
        (60.0, "中"),
        (59.99, "差"),
        (0, "差"),
    ],
)
def test_grades(total: float, grade: str) -> None:
    assert grade_of(total) == grade


# --- weights and totals over frames -------------------------------------------------------------------


def _usages(rows: list[tuple[str, str, str, float | None]], *, project: str = "项目甲") -> pd.DataFrame:
    """(level1, symbol, target, weight) rows of one project."""
    return pd.DataFrame(
        [
            {
                "indicator_id": f"ZB-X{i:06d}",
                "dept_code": "201",
                "dept_name": "示例局",
                "project": project,
                "level1": level1,
                "symbol": symbol,
                "target": target,
                "target_value": pd.to_numeric(target, errors="coerce"),
                "unit": "%",
                "weight": weight,
            }
            for i, (level1, symbol, target, weight) in enumerate(rows, 1)
        ]
    )


def test_filed_weights_are_the_points() -> None:
    usages = _usages(
        [("产出指标", "≥", "90", 50.0), ("效益指标", "≥", "90", 30.0), ("满意度指标", "≥", "90", 10.0)]
    )
    points = usage_points(usages)
    assert points["points"].tolist() == [50.0, 30.0, 10.0]
    assert set(points["weight_basis"]) == {"filed"}


def test_filed_weights_off_ninety_are_scaled() -> None:
    usages = _usages([("产出指标", "≥", "90", 60.0), ("效益指标", "≥", "90", 40.0)])
    points = usage_points(usages)
    assert points["points"].tolist() == [54.0, 36.0]
    assert set(points["weight_basis"]) == {"filed_scaled"} and "折算" in points["weight_note"].iloc[0]


def test_missing_weights_take_the_mof_split() -> None:
    with_cost = _usages(
        [
            ("成本指标", "≤", "5", None),
            ("产出指标", "≥", "9", None),
            ("产出指标", "≥", "9", 20.0),
            ("效益指标", "≥", "9", None),
            ("满意度指标", "≥", "90", None),
        ]
    )
    assert usage_points(with_cost)["points"].tolist() == [20.0, 20.0, 20.0, 20.0, 10.0]
    without = _usages(
        [("产出指标", "≥", "9", None)] * 3 + [("效益指标", "≥", "9", None)]
    )  # no 满意度: 效益 +10
    points = usage_points(without)["points"]
    assert points.tolist() == [16.67, 16.67, 16.66, 40.0] and round(points.sum(), 2) == 90.0
    assert "权重未填" in usage_points(without)["weight_note"].iloc[0]


def test_a_missing_level_is_scaled_up_to_ninety() -> None:
    only_output = _usages([("产出指标", "≥", "9", None), ("满意度指标", "≥", "90", None)])
    points = usage_points(only_output)
    assert points["points"].tolist() == [75.0, 15.0]  # 50 : 10 scaled to 90
    assert "缺少效益指标" in points["weight_note"].iloc[0]


def test_allocate_adds_up_exactly() -> None:
    assert allocate(90.0, [1.0] * 7) == [12.86, 12.86, 12.86, 12.86, 12.86, 12.85, 12.85]
    assert sum(allocate(90.0, [1.0] * 7)) == pytest.approx(90.0)
    assert allocate(10.0, [0.0, 0.0]) == [5.0, 5.0]


def test_scoring_methods() -> None:
    usages = _usages(
        [
            ("产出指标", "≥", "90", None),
            ("产出指标", "=", "是", None),
            ("效益指标", "定性", "明显提升", None),
            ("满意度指标", "≥", "90", None),
            ("满意度指标", "定性", "较高", None),
        ]
    )
    assert scoring_method(usages).tolist() == [
        "proportional",
        "direct",
        "qualitative",
        "satisfaction",
        "qualitative",
    ]


def _results(
    usages: pd.DataFrame, actual: list[object], grade: str = "", proposed: float | None = None
) -> pd.DataFrame:
    return usages.assign(
        actual=[str(a) for a in actual],
        actual_value=pd.to_numeric(pd.Series(actual), errors="coerce"),
        grade=grade,
        proposed=proposed,
        invalid="",
    )


def test_project_and_department_totals() -> None:
    first = _usages(
        [("产出指标", "≥", "100", 50.0), ("效益指标", "≥", "100", 30.0), ("满意度指标", "≥", "90", 10.0)]
    )
    second = _usages([("产出指标", "≥", "100", None), ("效益指标", "≥", "100", None)], project="项目乙")
    second["indicator_id"] = ["ZB-X000011", "ZB-X000012"]
    items = pd.concat([_results(first, [90, 100, 85]), _results(second, [100, 50])], ignore_index=True)
    scores = score_usages(items)
    assert scores["awarded"].tolist() == [37.5, 30.0, 8.0, 50.0, 0.0]
    projects = pd.DataFrame(
        [
            {
                "dept_code": "201",
                "project": "项目甲",
                "budget": 100.0,
                "spent": 100.0,
                "completed": True,
                "invalid": "",
            }
        ]
    )
    totals = score_projects(scores, projects).set_index("project")
    assert totals.loc["项目甲", "total"] == 85.5 and totals.loc["项目甲", "grade"] == "良"
    assert totals.loc["项目乙", "budget_points"] == 0.0  # no 项目情况 row
    assert "未填写预算执行情况" in totals.loc["项目乙", "budget_explanation"]
    assert totals.loc["项目乙", "total"] == 50.0 and totals.loc["项目乙", "grade"] == "差"
    dept = score_departments(totals.reset_index())
    assert dept["total"].tolist() == [67.75] and dept["grade"].tolist() == ["中"]
    assert "(50 + 85.5) ÷ 2" in dept["explanation"].iloc[0]


def test_rows_with_findings_score_zero_and_say_why() -> None:
    items = _results(_usages([("产出指标", "≥", "100", 90.0)]), [100]).assign(invalid="E504")
    scored = score_usages(items)
    assert scored["awarded"].tolist() == [0.0] and "E504" in scored["explanation"].iloc[0]


# --- properties (bounded) ---------------------------------------------------------------------------

LEVELS = ["成本指标", "产出指标", "效益指标", "满意度指标"]
indicator = st.tuples(
    st.sampled_from(LEVELS),
    st.sampled_from(["≥", "≤", "=", "定性", ">"]),
    st.floats(0, 1000, allow_nan=False),  # target
    st.one_of(st.none(), st.floats(0, 60, allow_nan=False)),  # weight
    st.floats(0, 2000, allow_nan=False),  # actual
    st.sampled_from(["基本达成目标", "部分实现目标", "实现目标程度较低"]),
    st.floats(0, 1, allow_nan=False),  # where in the band the proposal lies
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(indicator, min_size=1, max_size=8),
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 2e6, allow_nan=False),
    st.booleans(),
)
def test_points_never_exceed_the_indicator_and_projects_never_exceed_100(
    rows: list[tuple[str, str, float, float | None, float, str, float]],
    budget: float,
    spent: float,
    done: bool,
) -> None:
    usages = _usages([(lv, sym, "定性目标" if sym == "定性" else f"{t:g}", w) for lv, sym, t, w, *_ in rows])
    items = _results(usages, [a for *_, a, _, _ in rows])
    points = usage_points(usages)["points"]
    proposals = []
    for (*_, grade, where), p in zip(rows, points, strict=True):
        low, high = qualitative_range(grade, p)
        proposals.append(round(low + (high - low) * where, 2))
    items = items.assign(
        grade=[g for *_, g, _ in rows], proposed=[min(x, p) for x, p in zip(proposals, points, strict=True)]
    )
    scores = score_usages(items)
    assert (scores["awarded"] <= scores["points"] + 1e-9).all()
    assert (scores["awarded"] >= 0).all()
    assert round(float(scores["points"].sum()), 2) == 90.0
    projects = pd.DataFrame(
        [
            {
                "dept_code": "201",
                "project": "项目甲",
                "budget": budget,
                "spent": spent,
                "completed": done,
                "invalid": "",
            }
        ]
    )
    total = score_projects(scores, projects)["total"].iloc[0]
    assert 0 <= total <= 100 and not math.isnan(total)
