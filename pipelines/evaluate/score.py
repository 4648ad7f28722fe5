"""Scores over DataFrames: each usage by its rule, each project out of 100 (90 indicator points + 10 for
预算执行率), each department, and the grade of every total. Every score keeps its rule and explanation.

The scoring method of a usage (scoring_method):
  direct        a 是/否 target (the target is 是 or 否 and has no number)
  qualitative   a 定性 symbol, or any other target without a number: the department's 评判等级 and points
  satisfaction  a quantitative 满意度指标: the surveyed satisfaction scores by its band
  proportional  every other quantitative target: 按完成比例赋分
A department's total is the plain average of its projects' totals (each project counts once, whatever its
budget), graded like a project.
"""

from __future__ import annotations

import pandas as pd

from pipelines.evaluate.bands import ScoringBands, scoring_bands
from pipelines.evaluate.scoring import (
    RULE_ZH,
    Score,
    budget_score,
    direct_score,
    fmt,
    grade_of,
    proportional_score,
    qualitative_score,
    satisfaction_score,
    target_range,
    unscored,
)
from pipelines.evaluate.weights import PROJECT_KEY, usage_points
from schemas.vocab import resolve_vocab

METHOD_ZH = {
    "direct": "直接赋分（是/否）",
    "qualitative": "按评判等级赋分（定性）",
    "satisfaction": "满意度赋分",
    "proportional": "按完成比例赋分",
}
SATISFACTION = "满意度指标"
SCORE_COLUMNS = ["points", "weight_basis", "weight_note", "method", "rule", "rule_zh", "rate", "awarded"]


def yes_no(text: object) -> str:
    """是 / 否 for any accepted spelling (Y, √, 1…), else ""."""
    return resolve_vocab("yes_no", str(text or "")) or ""


def scoring_method(usages: pd.DataFrame) -> pd.Series:
    """The method each usage is scored by (see the module docstring)."""
    numeric = pd.to_numeric(usages["target_value"], errors="coerce").notna()
    yes_no_target = ~numeric & usages["target"].map(yes_no).ne("")
    method = pd.Series("proportional", index=usages.index, dtype=object)
    method = method.mask(usages["level1"].eq(SATISFACTION) & numeric, "satisfaction")
    method = method.mask(usages["symbol"].eq("定性") | ~numeric, "qualitative")
    return method.mask(yes_no_target, "direct").astype(str)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value == ""


def score_one(row: pd.Series, bands: ScoringBands) -> Score:
    """One usage's score from its method, points and the filled results (actual, actual_value, grade,
    proposed, invalid)."""
    points = float(row["points"])
    if row["invalid"]:
        return unscored(points, f"自评表该行有误（{row['invalid']}），请按反馈更正")
    method = row["method"]
    if method == "direct":
        actual = yes_no(row["actual"])
        if not actual:
            return unscored(points, "完成值未填写")
        return direct_score(yes_no(row["target"]), actual, points)
    if method == "qualitative":
        if not row["grade"] or _blank(row["proposed"]):
            return unscored(points, "评判等级或自评分值未填写")
        return qualitative_score(str(row["grade"]), float(row["proposed"]), points, bands)
    if _blank(row["actual_value"]):
        return unscored(points, "完成值未填写")
    actual_value = float(row["actual_value"])
    if method == "satisfaction":
        return satisfaction_score(actual_value, points, bands)
    return proportional_score(
        str(row["symbol"]),
        float(row["target_value"]),
        actual_value,
        points,
        span=target_range(str(row["target"])),
        bands=bands,
    )


def score_usages(items: pd.DataFrame, bands: ScoringBands | None = None) -> pd.DataFrame:
    """`items` (usages of a year with the results columns actual, actual_value, grade, proposed and invalid —
    codes joined by ";", "" when the row is fine) with SCORE_COLUMNS and explanation added."""
    b = bands or scoring_bands()
    base = items.drop(columns=[c for c in (*SCORE_COLUMNS, "explanation", "method_zh") if c in items])
    out = base.join(usage_points(base, b))
    out["method"] = scoring_method(out)
    scores = [score_one(row, b) for _, row in out.iterrows()]
    out["rule"] = [s.rule for s in scores]
    out["rule_zh"] = out["rule"].map(RULE_ZH)
    out["rate"] = pd.Series([s.rate for s in scores], index=out.index, dtype="Float64")
    out["awarded"] = [s.points for s in scores]
    out["explanation"] = [
        f"{s.explanation}（分值：{note}）" for s, note in zip(scores, out["weight_note"], strict=True)
    ]
    return out


def _budget(project: pd.Series | None, bands: ScoringBands) -> Score:
    if project is None:
        return Score("budget", 0.0, bands.budget_points, None, "预算执行率：项目未填写预算执行情况，得 0 分")
    if project["invalid"]:
        reason = f"项目情况有误（{project['invalid']}）"
        return Score("budget", 0.0, bands.budget_points, None, f"预算执行率：{reason}，得 0 分")
    return budget_score(float(project["budget"]), float(project["spent"]), bool(project["completed"]), bands)


def score_projects(
    usage_scores: pd.DataFrame, projects: pd.DataFrame, bands: ScoringBands | None = None
) -> pd.DataFrame:
    """One row per project of `usage_scores`: its indicator points, 预算执行率 points (from `projects`:
    dept_code, project, budget, spent, completed, invalid), total out of 100 and grade."""
    b = bands or scoring_bands()
    filled = {(r["dept_code"], r["project"]): r for _, r in projects.iterrows()}
    rows = []
    for (dept, project), group in usage_scores.groupby(PROJECT_KEY, sort=True):
        budget = _budget(filled.get((dept, project)), b)
        indicator = round(float(group["awarded"].sum()), 2)
        total = round(indicator + budget.points, 2)
        grade = grade_of(total, b)
        rows.append(
            {
                "dept_code": dept,
                "dept_name": group["dept_name"].iloc[0],
                "project": project,
                "indicators": len(group),
                "indicator_points": indicator,
                "indicator_max": round(float(group["points"].sum()), 2),
                "budget_rate": budget.rate,
                "budget_points": budget.points,
                "budget_explanation": budget.explanation,
                "total": total,
                "grade": grade,
                "explanation": f"指标得分 {fmt(indicator)} 分 + 预算执行率 {fmt(budget.points)} 分 = "
                f"{fmt(total)} 分（满分 {fmt(b.project_points)}），等级“{grade}”",
            }
        )
    return pd.DataFrame(rows).astype({"budget_rate": "Float64"}) if rows else pd.DataFrame(rows)


def score_departments(project_scores: pd.DataFrame, bands: ScoringBands | None = None) -> pd.DataFrame:
    """One row per department: the plain average of its projects' totals, and its grade."""
    b = bands or scoring_bands()
    rows = []
    for dept, group in project_scores.groupby("dept_code", sort=True):
        totals = [float(t) for t in group["total"]]
        total = round(sum(totals) / len(totals), 2)
        grade = grade_of(total, b)
        rows.append(
            {
                "dept_code": dept,
                "dept_name": group["dept_name"].iloc[0],
                "projects": len(group),
                "total": total,
                "grade": grade,
                "explanation": f"{len(totals)} 个项目得分的平均：({' + '.join(fmt(t) for t in totals)}) ÷ "
                f"{len(totals)} = {fmt(total)} 分，等级“{grade}”",
            }
        )
    return pd.DataFrame(rows)
