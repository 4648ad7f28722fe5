"""One indicator's points by the MoF rules (SPEC §7), pure and explained: every Score carries the rule applied
and the figures as a Chinese sentence, so a clerk can check the arithmetic by hand.

Completion rate r (percent), by the target's symbol:
  ≥, >     r = 完成值 ÷ 目标值 (a target of 0 or less is met by any actual reaching it: r = 100 %)
  ≤, <     r = 目标值 ÷ 完成值 (an actual of 0 or less meets it: r = 100 %; a target of 0 exceeded: r = 0)
  =        exactly the target: 100 %; below it, scored as ≥ (完成值 ÷ 目标值); above it, as ≤ (目标值 ÷ 完成值),
           so missing a fixed figure either way costs points
  a range  (目标值 written "90-95", "90%～95%", "3至5"): inside it (ends included) 100 %; below it, 完成值 ÷ 下限;
           above it, 上限 ÷ 完成值
  no symbol is read as ≥.
按完成比例赋分: r capped at 100 %; r < 60 % scores 0, else (r − 60 %) ÷ (100 % − 60 %) × points (so exactly
60 % also scores 0, 80 % half the points, 100 % or more all of them). The 60 % and 100 % come from the bands
file (schemas/reference/self_eval_bands.csv), as do the satisfaction, qualitative, 预算执行率 and grade bands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.evaluate.bands import Band, ScoringBands, scoring_bands, threshold
from schemas.text import clean_text

RULE_ZH = {
    "direct": "直接赋分",
    "proportional": "按完成比例赋分",
    "qualitative": "按评判等级赋分",
    "satisfaction": "满意度赋分",
    "budget": "预算执行率赋分",
    "unscored": "未评分",
}
GREATER = frozenset({"≥", ">", ""})
LESS = frozenset({"≤", "<"})
_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\s*%?\s*(?:-|~|～|至|到|—|–)\s*(-?\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Score:
    rule: str  # a key of RULE_ZH
    points: float  # awarded, 2 decimals, never above max_points
    max_points: float
    rate: float | None  # the completion (or execution) rate in percent, before any cap; None when none
    explanation: str  # the rule and the figures, in Chinese


def fmt(value: float) -> str:
    """A figure as a clerk writes it: at most 2 decimals, no trailing zeros (94.7368 → 94.74, 10.0 → 10)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _points(share: float, points: float) -> float:
    """share (0–1) of the points, rounded to 2 decimals and never above the points."""
    return min(round(share * points, 2), points)


def target_range(text: str) -> tuple[float, float] | None:
    """(low, high) when the target is written as a range ("90-95", "90%～95%", "3至5"), else None."""
    match = _RANGE.search(clean_text(text or ""))
    if not match:
        return None
    low, high = float(match.group(1)), float(match.group(2))
    return (low, high) if low < high else None


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator * 100, 6)  # 6 decimals: 59.99 stays below 60, 60 is exactly 60


def completion_rate(
    symbol: str, target: float, actual: float, span: tuple[float, float] | None = None
) -> tuple[float, str]:
    """The completion rate in percent (uncapped) and how it was computed, in Chinese."""
    if span is not None:
        low, high = span
        if low <= actual <= high:
            return 100.0, f"完成值 {fmt(actual)} 在目标区间 {fmt(low)}–{fmt(high)} 内，完成率 100%"
        if actual < low:
            return _greater(low, actual, "区间下限")
        return _less(high, actual, "区间上限")
    if symbol == "=":
        if actual == target:
            return 100.0, f"完成值 {fmt(actual)} 等于目标值 {fmt(target)}，完成率 100%"
        return (_greater if actual < target else _less)(target, actual, "目标值")
    if symbol in LESS:
        return _less(target, actual, "目标值")
    return _greater(target, actual, "目标值")


def _greater(target: float, actual: float, named: str) -> tuple[float, str]:
    if target <= 0:
        rate = 100.0 if actual >= target else 0.0
        return rate, f"{named} {fmt(target)} 不大于 0，完成值 {fmt(actual)}，完成率按 {fmt(rate)}% 计"
    rate = _ratio(actual, target)
    return rate, f"完成率 = 完成值 ÷ {named} = {fmt(actual)} ÷ {fmt(target)} = {fmt(rate)}%"


def _less(target: float, actual: float, named: str) -> tuple[float, str]:
    if actual <= 0:
        return 100.0, f"完成值 {fmt(actual)} 不超过{named} {fmt(target)}，完成率按 100% 计"
    if target <= 0:
        return 0.0, f"{named} 为 0，完成值 {fmt(actual)} 超出，完成率按 0% 计"
    rate = _ratio(target, actual)
    return rate, f"完成率 = {named} ÷ 完成值 = {fmt(target)} ÷ {fmt(actual)} = {fmt(rate)}%"


def proportional_score(
    symbol: str,
    target: float,
    actual: float,
    points: float,
    *,
    span: tuple[float, float] | None = None,
    bands: ScoringBands | None = None,
) -> Score:
    """按完成比例赋分 of a quantitative indicator (see the module docstring for the rate)."""
    b = bands or scoring_bands()
    rate, how = completion_rate(symbol, target, actual, span)
    goal = f"目标区间 {fmt(span[0])}–{fmt(span[1])}" if span else f"目标 {symbol}{fmt(target)}"
    shown = f"按完成比例赋分：{goal}，{how}；"
    if rate < b.proportional_pass:
        return Score("proportional", 0.0, points, rate, shown + f"低于 {fmt(b.proportional_pass)}%，得 0 分")
    capped = min(rate, b.proportional_cap)
    share = (capped - b.proportional_pass) / (b.proportional_cap - b.proportional_pass)
    awarded = _points(share, points)
    cap_note = f"超过 {fmt(b.proportional_cap)}% 按 {fmt(b.proportional_cap)}% 计，" if rate > capped else ""
    return Score(
        "proportional",
        awarded,
        points,
        rate,
        shown
        + f"{cap_note}得分 = ({fmt(capped)}% − {fmt(b.proportional_pass)}%) ÷ "
        + f"({fmt(b.proportional_cap)}% − {fmt(b.proportional_pass)}%) × {fmt(points)} = {fmt(awarded)} 分",
    )


def direct_score(target: str, actual: str, points: float) -> Score:
    """直接赋分 of a 是/否 indicator: all the points when the actual is the target (是 or 否), else 0."""
    met = actual == target
    awarded = points if met else 0.0
    verdict = "达到目标，得满分" if met else "未达到目标，得"
    return Score(
        "direct",
        awarded,
        points,
        100.0 if met else 0.0,
        f"直接赋分：目标“{target}”，完成值“{actual}”，{verdict} {fmt(awarded)} 分",
    )


def qualitative_range(grade: str, points: float, bands: ScoringBands | None = None) -> tuple[float, float]:
    """The points a department may propose for `grade` (both ends included); KeyError for an unknown grade."""
    band = (bands or scoring_bands()).qualitative_band(grade)
    if band is None:
        raise KeyError(grade)
    return round(band.low / 100 * points, 2), round(band.high / 100 * points, 2)


def qualitative_score(grade: str, proposed: float, points: float, bands: ScoringBands | None = None) -> Score:
    """按评判等级赋分: the department's proposed points, which must lie in its grade's band."""
    low, high = qualitative_range(grade, points, bands)
    if not low <= proposed <= high:
        raise ValueError(f"{proposed} outside {grade} [{low}, {high}]")
    band = (bands or scoring_bands()).qualitative_band(grade)
    assert band is not None  # qualitative_range found it
    return Score(
        "qualitative",
        float(round(proposed, 2)),
        points,
        None,
        f"按评判等级赋分：评判等级“{grade}”（{fmt(band.low)}%–{fmt(band.high)}% 的分值，"
        f"即 {fmt(low)}–{fmt(high)} 分），部门自评 {fmt(proposed)} 分",
    )


def satisfaction_score(actual: float, points: float, bands: ScoringBands | None = None) -> Score:
    """满意度赋分 on the surveyed satisfaction (percent): the band's share of the indicator's points."""
    band = threshold((bands or scoring_bands()).satisfaction, round(actual, 6))
    awarded = _points(band.share / 100, points)
    return Score(
        "satisfaction",
        awarded,
        points,
        actual,
        f"满意度赋分：满意度 {fmt(actual)}%，属“{band.label}”档，得该指标分值的 {fmt(band.share)}%，"
        f"即 {fmt(points)} × {fmt(band.share)}% = {fmt(awarded)} 分",
    )


def budget_score(budget: float, spent: float, completed: bool, bands: ScoringBands | None = None) -> Score:
    """预算执行率 (10 points): completed within budget scores all; otherwise by execution rate = 执行数 ÷ 预算数
    (completed but over budget is judged by that rate too)."""
    b = bands or scoring_bands()
    if budget <= 0:
        return Score("budget", 0.0, b.budget_points, None, "预算执行率：全年预算数缺失或为 0，得 0 分")
    rate = _ratio(spent, budget)
    figures = f"全年执行数 {fmt(spent)} ÷ 全年预算数 {fmt(budget)} = {fmt(rate)}%"
    if completed and spent <= budget:
        awarded = _points(b.budget_completed.share / 100, b.budget_points)
        return Score(
            "budget",
            awarded,
            b.budget_points,
            rate,
            f"预算执行率：项目已完成且未超预算（{figures}），得 {fmt(awarded)} 分",
        )
    state = "项目已完成但超预算执行" if completed else "项目未完成"
    band: Band = threshold(b.budget, rate)
    awarded = _points(band.share / 100, b.budget_points)
    return Score(
        "budget",
        awarded,
        b.budget_points,
        rate,
        f"预算执行率：{state}，执行率 = {figures}，属“{band.label}”档，得 {fmt(awarded)} 分",
    )


def unscored(points: float, reason: str) -> Score:
    """0 points with the reason (a row not filled or filled wrongly: the finding says how to fix it)."""
    return Score("unscored", 0.0, points, None, f"未评分：{reason}，得 0 分")


def grade_of(total: float, bands: ScoringBands | None = None) -> str:
    """优 / 良 / 中 / 差 from a total out of 100 (优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差)."""
    return threshold((bands or scoring_bands()).grades, round(total, 6)).label
