"""Each usage's points (分值) out of a project's 90 indicator points (the other 10 are 预算执行率).

A project is a department's project name in one year (部门整体 usages, with no project name, form one more).
  filed         every indicator of the project has a 权重 and they add up to 90: the points are the weights
  filed_scaled  every indicator has a 权重 but they add up to something else (W207 warned at filing): each is
                scaled in proportion so that they add up to 90 (a project's total then never exceeds 100)
  mof_split     a 权重 is missing: the MoF split (schemas/reference/weight_split.csv, by whether the project
                has 成本 and 满意度 indicators) shared equally among the indicators of each 一级; a project
                lacking an 一级 of the split has the others scaled up in proportion to 90
Points are allocated in hundredths by largest remainder, so the points shown add up to exactly 90.00.
"""

from __future__ import annotations

import math

import pandas as pd

from pipelines.evaluate.bands import ScoringBands, scoring_bands
from pipelines.evaluate.scoring import fmt
from schemas.vocab import reference

PROJECT_KEY = ["dept_code", "project"]
WEIGHT_TOLERANCE = 0.01


def allocate(total: float, shares: list[float]) -> list[float]:
    """`total` split in proportion to `shares`, in hundredths, the remainders going to the largest fractions
    (ties to the earlier row); equal shares when every share is 0."""
    cents = round(total * 100)
    weights = shares if sum(shares) > 0 else [1.0] * len(shares)
    exact = [cents * w / sum(weights) for w in weights]
    floors = [math.floor(e) for e in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[: cents - sum(floors)]:
        floors[i] += 1
    return [f / 100 for f in floors]


def _filed(weights: pd.Series, total: float) -> tuple[list[float], str, list[str]]:
    filed = float(weights.sum())
    if abs(filed - total) <= WEIGHT_TOLERANCE:
        points = [round(float(w), 2) for w in weights]
        return points, "filed", [f"按填报权重 {fmt(p)} 分" for p in points]
    points = allocate(total, [float(w) for w in weights])
    notes = [
        f"填报权重合计 {fmt(filed)} 分，按比例折算为 {fmt(total)} 分：{fmt(float(w))} → {fmt(p)} 分"
        for w, p in zip(weights, points, strict=True)
    ]
    return points, "filed_scaled", notes


def _mof_split(level1: pd.Series, total: float, partial: bool) -> tuple[list[float], str, list[str]]:
    levels = level1.tolist()
    split = reference().weight_split[("成本指标" in levels, "满意度指标" in levels)]
    counts = {lv: levels.count(lv) for lv in levels}
    raw = [split.get(lv, 0) / counts[lv] for lv in levels]
    points = allocate(total, raw)
    covered = sum(w for lv, w in split.items() if lv in counts)
    scaled = (
        f"；该项目缺少{'、'.join(lv for lv in split if lv not in counts)}，已按比例折算至 {fmt(total)} 分"
    )
    notes = [
        f"权重未填{'全' if partial else ''}，按财政部分配：{lv} {split.get(lv, 0)} 分由 {counts[lv]} 个指标平分"
        + (scaled if covered != total else "")
        + f"，本指标 {fmt(p)} 分"
        for lv, p in zip(levels, points, strict=True)
    ]
    return points, "mof_split", notes


def usage_points(usages: pd.DataFrame, bands: ScoringBands | None = None) -> pd.DataFrame:
    """points, weight_basis and weight_note for each usage (same index), per project as the module says."""
    b = bands or scoring_bands()
    total = b.project_points - b.budget_points
    out = pd.DataFrame(
        {"points": 0.0, "weight_basis": "", "weight_note": ""}, index=usages.index, dtype=object
    )
    for _, group in usages.groupby(PROJECT_KEY, sort=True):
        weights = pd.to_numeric(group["weight"], errors="coerce")
        if weights.notna().all() and float(weights.sum()) > 0:
            points, basis, notes = _filed(weights, total)
        else:
            points, basis, notes = _mof_split(group["level1"], total, bool(weights.notna().any()))
        out.loc[group.index, "points"] = points
        out.loc[group.index, "weight_basis"] = basis
        out.loc[group.index, "weight_note"] = notes
    return out.astype({"points": float, "weight_basis": str, "weight_note": str})
