"""Every table of the review, in page order (also the sheet order of review.xlsx), and the year's overview
that heads them. Each table is computed once here; review.html and review.xlsx both render these."""

from __future__ import annotations

import pandas as pd

from pipelines.consolidate.changes import EVENT_ZH
from pipelines.report.change_tables import candidates_review, change_reviews
from pipelines.report.coverage import coverage_reviews
from pipelines.report.departments import NOT_SUBMITTED, department_review
from pipelines.report.finding_tally import FindingTally
from pipelines.report.model import OUTCOME_ZH, ROW_OUTCOMES, ReportInputs, ReviewTable, file_statuses
from pipelines.report.target_review import target_reviews
from pipelines.report.trend import trend_review
from pipelines.report.upstream import upstream_reviews
from pipelines.report.violations import violation_reviews
from schemas.library import SCOPES

OVERVIEW_TITLES = {"item": "项目", "value": "数值"}


def overview_table(
    inputs: ReportInputs, departments: pd.DataFrame, findings: FindingTally | None = None
) -> pd.DataFrame:
    """年度概况: files, departments, rows and their outcomes, indicators, changes, pending duplicates."""
    counts = inputs.validation.counts()
    statuses = file_statuses(inputs)
    indicators = inputs.tables.indicators
    active = indicators[["scope"]][indicators["status"] == "active"]  # one column, not the wide table
    change_counts = inputs.changes.counts()
    if findings is None:
        findings = FindingTally(inputs.validation.findings)
    warnings = findings.total("warning")
    items = [
        ("报送工作簿", len(statuses)),
        ("其中整本退回", sum(s.set_aside for s in statuses)),
        ("报送部门", len({s.dept_code for s in statuses if s.dept_code})),
        ("本年度未报送的部门", int((departments["verdict"] == NOT_SUBMITTED).sum())),
        ("读取行数", counts["read"]),
        *((OUTCOME_ZH[o], counts[o]) for o in ROW_OUTCOMES),
        ("提示（行保留）", warnings),
        ("在用指标", len(active)),
        *((f"在用指标：{scope}", int((active["scope"] == scope).sum())) for scope in SCOPES),
        *((f"{EVENT_ZH[k]}指标", change_counts[k]) for k in ("added", "modified", "retired", "merged")),
        ("恢复使用指标", change_counts["reactivated"]),
        ("待人工审核的疑似重复（对）", len(inputs.candidates)),
    ]
    return pd.DataFrame(items, columns=list(OVERVIEW_TITLES))


def review_tables(inputs: ReportInputs) -> dict[str, ReviewTable]:
    """Every table of the review, in page order; the HTML page and review.xlsx both come from these."""
    findings = FindingTally(inputs.validation.findings)  # read once for every table that counts them
    departments = department_review(inputs, findings)
    overview = ReviewTable(
        "overview",
        "概况",
        "年度概况",
        overview_table(inputs, departments.frame, findings),
        OVERVIEW_TITLES,
        ("value",),
    )
    tables = [
        overview,
        departments,
        *change_reviews(inputs.changes),
        candidates_review(inputs.candidates),
        *violation_reviews(inputs, findings),
        *coverage_reviews(inputs),
        trend_review(inputs),
        *target_reviews(inputs),
    ]
    if inputs.overlay is not None:
        tables += upstream_reviews(inputs.overlay)
    return {t.key: t for t in tables}
