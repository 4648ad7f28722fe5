"""I405: a 部门信息 key the template does not know ("单位负责人 | 张三") is not read; the note names it and its
cell, so that nothing the department wrote is dropped unsaid (as I403 does for an unknown column). The reader
keeps such labels in info_cells (pipelines/intake/department_info.py); keys left empty are not kept."""

from __future__ import annotations

from pipelines.common.findings import Finding, make_finding
from pipelines.intake.workbook import Workbook
from pipelines.validate.rules.base import RuleContext, rule


def unknown_info_keys(wb: Workbook, ctx: RuleContext) -> list[Finding]:
    known = {spec.column for spec in ctx.ref.columns["info"]}
    return [
        make_finding(
            "I405",
            wb.file,
            sheet=wb.info_sheet,
            row=row,
            column=letter,
            value=label,
            detail=f"{letter}{row} 单元格",
        )
        for label, (row, letter) in wb.info_cells.items()
        if label not in known
    ]


UNKNOWN_INFO_KEY = rule(
    "unknown_info_key", "I405", "info", "workbook", "unknown 部门信息 key", check=unknown_info_keys
)
