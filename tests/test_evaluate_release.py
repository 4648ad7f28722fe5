"""The blocking checks before an evaluation is published (pipelines/evaluate/release.py): each catches what it
guards — a usage missing, twice, or not of the year; a department left out; a project's points not adding up
to 90, a score above its points, a total that is not indicators + 预算执行率 or above 100 — and the tables
the scorer produces pass both."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.evaluate.release import (
    CHECKS,
    blocking_checks,
    commit_message,
    coverage_problems,
    points_problems,
)
from pipelines.evaluate.tables import EvaluationTables
from tests.test_evaluate_report import _tables
from tests.test_evaluate_workbook import YEAR, _usage, department_rows


def _usages() -> pd.DataFrame:
    rows = [
        *department_rows(),
        _usage("ZB-X000007", "项目乙", "产出指标", "培训人次", "≥", "500", "人次", dept_code="205"),
        _usage("ZB-G000009", "会议培训类共性指标", "产出指标", "培训天数", "≥", "3", "天", scope="共性"),
    ]
    return pd.DataFrame(rows)


def _with(t: EvaluationTables, **frames: pd.DataFrame) -> EvaluationTables:
    return EvaluationTables(
        frames.get("usages", t.usages),
        frames.get("projects", t.projects),
        frames.get("departments", t.departments),
    )


def test_the_scorers_tables_pass(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    outcomes = blocking_checks(_usages(), YEAR, t)
    assert [o.name for o in outcomes] == list(CHECKS) and all(o.passed for o in outcomes), outcomes
    assert commit_message(YEAR, t).splitlines()[0] == (
        f"{YEAR}年度绩效自评结果：2 个部门（提交自评表 1 个），3 个项目，7 条指标；部门等级 优 1、良 0、中 0、差 1"
    )


def test_coverage_catches_missing_twice_foreign_and_departments(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    u = t.usages
    assert coverage_problems(_usages(), YEAR, _with(t, usages=u.iloc[1:])) == [
        "部门 201 项目“（部门整体）”指标 ZB-B000006 未出现在自评结果中"
    ]
    assert coverage_problems(_usages(), YEAR, _with(t, usages=pd.concat([u, u.iloc[:1]]))) == [
        "部门 201 项目“（部门整体）”指标 ZB-B000006 在自评结果中出现 2 次"
    ]
    foreign = u.iloc[:1].assign(indicator_id="ZB-X000099")
    assert coverage_problems(_usages(), YEAR, _with(t, usages=pd.concat([u, foreign]))) == [
        f"部门 201 项目“（部门整体）”指标 ZB-X000099 不是 {YEAR} 年度的指标"
    ]
    [problem] = coverage_problems(_usages(), YEAR, _with(t, departments=t.departments.iloc[:1]))
    assert "与本年度有指标的部门" in problem


def test_points_catch_sums_scores_and_totals(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    assert points_problems(t) == []
    u, p = t.usages.copy(), t.projects.copy()
    short = u.assign(points=u["points"].where(u["indicator_id"] != "ZB-B000006", 80.0))
    assert any("指标分值合计 80.00 分，应为 90 分" in m for m in points_problems(_with(t, usages=short)))
    over = u.assign(awarded=u["awarded"].where(u["indicator_id"] != "ZB-X000005", 11.0))
    assert any("ZB-X000005 得分超过分值" in m for m in points_problems(_with(t, usages=over)))
    wrong_total = p.assign(total=p["total"].where(p["project"] != "项目甲", 99.5))
    assert any("总分 99.50 不等于" in m for m in points_problems(_with(t, projects=wrong_total)))
