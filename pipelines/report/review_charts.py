"""The charts of review.html: which figures each chart shows, taken from the review's tables (the drawing
itself is charts.py). Rankings show the top CHART_TOP bars; ties are broken by code so a chart is stable."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from pipelines.consolidate.changes import EVENT_ZH
from pipelines.report import charts
from pipelines.report.charts import PALETTE, Series
from pipelines.report.model import OUTCOME_ZH, ROW_OUTCOMES, ReportInputs, ReviewTable
from schemas.library import SCOPES

CHART_TOP = 20  # bars per ranking chart (departments, rules)
CHANGE_KEYS = ("added", "modified", "retired", "merged", "reactivated")


def _file_labels(frame: pd.DataFrame) -> list[str]:
    """'<code> <name>' per file row, the file name when the department is unknown."""
    rows = zip(frame["dept_code"], frame["dept_name"], frame["file"], strict=True)
    return [f"{c} {n}".strip() or f for c, n, f in rows]


def _row_series(frame: pd.DataFrame) -> list[Series]:
    """Where rows went, as stacked series (same colours in the department and trend charts)."""
    return [
        Series("入库", frame["library"].tolist(), PALETTE[0]),
        Series("非核心", frame["noncore"].tolist(), PALETTE[1]),
        Series("阶段性不入库", frame["excluded"].tolist(), PALETTE[5]),
        Series("退回", frame["rejected"].tolist(), PALETTE[3]),
    ]


def _year_charts(inputs: ReportInputs, tables: dict[str, ReviewTable]) -> dict[str, Markup]:
    """The year's rows by outcome, per department, and the library's changes."""
    counts = inputs.validation.counts()
    deps = tables["departments"].frame
    deps = deps[deps["file"] != ""].sort_values(["read", "dept_code", "file"], ascending=[False, True, True])
    changed = inputs.changes.counts()
    return {
        "outcomes": charts.share_bar(
            "chart-outcomes",
            f"{inputs.year} 年度报送行的去向（共 {charts.fmt_num(counts['read'])} 行）",
            [(OUTCOME_ZH[o], counts[o]) for o in ROW_OUTCOMES],
            unit=" 行",
        ),
        "departments": charts.hbar_chart(
            "chart-departments",
            "各部门报送行的去向（按读取行数排序）",
            _file_labels(deps),
            _row_series(deps),
            unit=" 行",
        ),
        "changes": charts.hbar_chart(
            "chart-changes",
            "本年度指标变更",
            [EVENT_ZH[k] for k in CHANGE_KEYS],
            [Series("指标数", [changed[k] for k in CHANGE_KEYS], PALETTE[0])],
            label_width=80,
            unit=" 个",
        ),
    }


def _violation_charts(tables: dict[str, ReviewTable]) -> dict[str, Markup]:
    """The departments with most problems and the most frequent rules."""
    viol = tables["violations"].frame.sort_values(
        ["total", "dept_code", "file"], ascending=[False, True, True]
    )
    viol = viol.head(CHART_TOP)
    rules = tables["rules"].frame.sort_values(["count", "code"], ascending=[False, True]).head(CHART_TOP)
    return {
        "violations": charts.hbar_chart(
            "chart-violations",
            f"问题最多的部门（前 {CHART_TOP} 个）",
            _file_labels(viol),
            [
                Series("文件错误", viol["file_error"].tolist(), PALETTE[4]),
                Series("行错误", viol["row_error"].tolist(), PALETTE[3]),
                Series("提示", viol["warning"].tolist(), PALETTE[1]),
            ],
            unit=" 处",
        ),
        "rules": charts.hbar_chart(
            "chart-rules",
            f"最常见的问题（前 {CHART_TOP} 条规则）",
            [f"{c} {r}" for c, r in zip(rules["code"], rules["rule"], strict=True)],
            [Series("次数", rules["count"].tolist(), PALETTE[3])],
            label_width=320,
            unit=" 处",
        ),
    }


def _coverage_charts(tables: dict[str, ReviewTable]) -> dict[str, Markup]:
    by_class = tables["coverage_class"].frame
    by_level = tables["coverage_level"].frame
    return {
        "coverage_class": charts.hbar_chart(
            "chart-coverage-class",
            "在用项目指标按支出功能分类（类）",
            [f"{c} {n}" for c, n in zip(by_class["function_class"], by_class["class_name"], strict=True)],
            [Series("在用项目指标", by_class["active"].tolist(), PALETTE[0])],
            unit=" 个",
        ),
        "coverage_level": charts.hbar_chart(
            "chart-coverage-level",
            "在用指标按二级指标与范围",
            by_level["level2"].tolist(),
            [Series(s, by_level[s].tolist(), PALETTE[i]) for i, s in enumerate(SCOPES)],
            unit=" 个",
        ),
    }


def _trend_charts(tables: dict[str, ReviewTable]) -> dict[str, Markup]:
    trend = tables["trend"].frame
    years = trend["year"].tolist()
    return {
        "trend_changes": charts.column_chart(
            "chart-trend-changes",
            "历年新增与退出指标",
            years,
            [
                Series("新增", trend["added"].tolist(), PALETTE[2]),
                Series("退出", trend["retired"].tolist(), PALETTE[3]),
                Series("合并", trend["merged"].tolist(), PALETTE[5]),
            ],
            unit=" 个",
        ),
        "trend_rows": charts.column_chart(
            "chart-trend-rows", "历年报送行的去向", years, _row_series(trend), unit=" 行"
        ),
        "trend_active": charts.line_chart(
            "chart-trend-active",
            "历年年末在用指标",
            years,
            [Series("年末在用指标", trend["active"].tolist(), PALETTE[0])],
            unit=" 个",
        ),
    }


def review_charts(inputs: ReportInputs, tables: dict[str, ReviewTable]) -> dict[str, Markup]:
    """Every chart of the page by name (the template places them)."""
    return {
        **_year_charts(inputs, tables),
        **_violation_charts(tables),
        **_coverage_charts(tables),
        **_trend_charts(tables),
    }
