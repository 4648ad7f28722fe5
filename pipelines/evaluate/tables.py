"""The evaluation tables of a year (schemas/evaluation.py): per usage, per project, per department, from the
release's usages and the departments' read workbooks. Every department with usages that year is in them:
one whose workbook is missing or set aside scores 0 on each indicator and 预算执行率, and says so
(submitted = False), so every usage of the year is either scored or visibly unscored. Rows are sorted by
department, project and 库内编号; the same inputs give the same frames."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from pipelines.common.findings import Finding, sort_findings
from pipelines.evaluate.bands import ScoringBands
from pipelines.evaluate.reader import PROJECT_RESULT_COLUMNS, RESULT_COLUMNS, SelfEvaluation, evaluation_items
from pipelines.evaluate.score import score_departments, score_projects, score_usages
from pipelines.evaluate.workbook import EVALUATED_SCOPES
from schemas.evaluation import DepartmentEvaluationTable, ProjectEvaluationTable, UsageEvaluationTable


@dataclass
class EvaluationTables:
    usages: pd.DataFrame
    projects: pd.DataFrame
    departments: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)


def _columns(model: type) -> list[str]:
    return list(model.to_schema().columns)  # type: ignore[attr-defined]


def _floats(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Nullable numbers as plain float64 with NaN (the tables' type)."""
    return frame.assign(**{c: pd.to_numeric(frame[c], errors="coerce").astype("float64") for c in columns})


def _usage_table(scored: pd.DataFrame, year: int) -> pd.DataFrame:
    out = scored.rename(columns={"invalid": "findings"}).assign(year=year)
    out = _floats(out, ("actual_value", "proposed", "rate", "points", "awarded"))
    out = out[_columns(UsageEvaluationTable)].sort_values(
        ["dept_code", "project", "indicator_id"], kind="stable"
    )
    return UsageEvaluationTable.validate(out.reset_index(drop=True))


def _project_table(project_scores: pd.DataFrame, year: int) -> pd.DataFrame:
    out = _floats(project_scores.assign(year=year), ("budget_rate", "budget_points", "total"))
    out = out.astype({"indicators": int})[_columns(ProjectEvaluationTable)]
    out = out.sort_values(["dept_code", "project"], kind="stable").reset_index(drop=True)
    return ProjectEvaluationTable.validate(out)


def _department_table(project_scores: pd.DataFrame, submitted: set[str], year: int) -> pd.DataFrame:
    out = score_departments(project_scores).assign(year=year)
    out["submitted"] = out["dept_code"].isin(submitted)
    missing = "未提交自评表或自评表被退回，各指标和预算执行率按 0 分计；"
    out["explanation"] = out["explanation"].where(out["submitted"], missing + out["explanation"])
    out = out.astype({"projects": int, "total": "float64"})[_columns(DepartmentEvaluationTable)]
    return DepartmentEvaluationTable.validate(out.reset_index(drop=True))


def evaluation_tables(
    usages: pd.DataFrame,
    year: int,
    submissions: Mapping[str, SelfEvaluation],
    bands: ScoringBands | None = None,
) -> EvaluationTables:
    """Score `year` for every department with 项目 or 部门整体 usages; `submissions` maps 部门编码 to its read
    workbook (read_self_evaluation)."""
    of_year = usages[(usages["year"] == year) & usages["scope"].isin(EVALUATED_SCOPES)]
    depts = sorted(set(of_year["dept_code"]))
    submitted = {d for d in depts if d in submissions and not submissions[d].set_aside}
    items, projects, findings = [], [], []
    for dept in depts:
        evaluation = submissions.get(dept)
        findings.extend(evaluation.findings if evaluation is not None else [])
        if evaluation is not None and dept in submitted:
            results, filled = evaluation.results, evaluation.projects
        else:
            results, filled = (
                pd.DataFrame(columns=RESULT_COLUMNS),
                pd.DataFrame(columns=PROJECT_RESULT_COLUMNS),
            )
        items.append(evaluation_items(usages, dept, year, results))
        projects.extend([filled] if not filled.empty else [])
    if not items:
        return EvaluationTables(
            pd.DataFrame(columns=_columns(UsageEvaluationTable)),
            pd.DataFrame(columns=_columns(ProjectEvaluationTable)),
            pd.DataFrame(columns=_columns(DepartmentEvaluationTable)),
        )
    scored = score_usages(pd.concat(items, ignore_index=True), bands)
    filled = [p for p in projects if not p.empty]
    project_frame = (
        pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=PROJECT_RESULT_COLUMNS)
    )
    project_scores = score_projects(scored, project_frame, bands)
    return EvaluationTables(
        _usage_table(scored, year),
        _project_table(project_scores, year),
        _department_table(project_scores, submitted, year),
        sort_findings(findings),
    )
