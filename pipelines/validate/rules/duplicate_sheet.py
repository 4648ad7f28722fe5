"""W216: a second sheet of a kind already found (e.g. two 项目支出指标 sheets); the reader kept the first."""

from __future__ import annotations

from pipelines.common.findings import Finding, make_finding
from pipelines.intake.workbook import Workbook
from pipelines.validate.rules.base import RuleContext, rule


def ignored_sheets(wb: Workbook, ctx: RuleContext) -> list[Finding]:
    return [
        make_finding("W216", wb.file, sheet=name, value=name, detail=ctx.ref.sheets[kind].name_zh)
        for name, kind in sorted(wb.ignored_sheets.items())
    ]


DUPLICATE_SHEET = rule(
    "duplicate_sheet", "W216", "warning", "workbook", "a second sheet", check=ignored_sheets
)
