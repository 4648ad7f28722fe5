"""review.html: one self-contained page (inline CSS and SVG charts, no script, a Content-Security-Policy
that forbids every network request) rendered from the review's tables by templates/review.html.j2.

Submitted text reaches the page only through Jinja2 autoescaping or charts.esc.
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path
from typing import cast

from jinja2 import Environment

from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.report import charts
from pipelines.report.html_page import page_environment
from pipelines.report.model import HTML_ROW_LIMIT, OUTCOME_ZH, ROW_OUTCOMES, ReportInputs, ReviewTable
from pipelines.report.review_charts import review_charts
from pipelines.report.tables import review_tables

# Columns shown without line breaks (codes, ids, file names): breaking them mid-token misleads.
CODE_COLUMNS = frozenset(
    {"dept_code", "indicator_id", "into_id", "id_a", "id_b", "file", "code", "function_class", "year"}
    | {"sheet", "severity", "field", "scope", "level1", "level2"}
)


def _environment() -> Environment:
    env = page_environment()  # every submitted text is escaped; charts arrive as Markup built by charts.py
    # cast: mypy has no numeric tower, so a numbers.Real is not a float to it
    env.filters["num"] = lambda v: (
        charts.fmt_num(cast(float, v)) if isinstance(v, Real) and not isinstance(v, bool) else v
    )
    return env


def render_review_html(inputs: ReportInputs, tables: dict[str, ReviewTable] | None = None) -> str:
    tables = tables or review_tables(inputs)
    counts = inputs.validation.counts()
    template = _environment().get_template("review.html.j2")
    return template.render(
        year=inputs.year,
        ref_a=inputs.changes.ref_a or "（无上一版本）",
        ref_b=inputs.changes.ref_b or f"{inputs.year} 年度版本",
        counts=counts,
        balanced=counts["read"] == sum(counts[o] for o in ROW_OUTCOMES),
        t=tables,
        charts=review_charts(inputs, tables),
        row_limit=HTML_ROW_LIMIT,
        code_columns=CODE_COLUMNS,
        bad_items=("其中整本退回", OUTCOME_ZH["rejected"]),
        good_items=(OUTCOME_ZH["library"],),
    )


def write_review_html(out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable]) -> Path:
    return atomic_write_bytes(out_dir / "review.html", render_review_html(inputs, tables).encode("utf-8"))
