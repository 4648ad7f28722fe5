"""部门信息 (CONTRACT §2): the department's own entries. Any problem sets the whole workbook aside (file errors):
without a valid department and year no row can be attributed.

F005 and F008 are cell checks (pandera, one row per workbook); F006 and F007 look at all workbooks of the
run together (one workbook per 部门编码 is only visible together)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from pipelines.common.findings import Finding, make_finding
from pipelines.intake.workbook import Workbook
from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from schemas.vocab import Reference

InfoEntries = Sequence[tuple[Workbook, dict[str, str]]]


def info_finding(
    code: str, wb: Workbook, key: str, value: object, ref: Reference, detail: object = ""
) -> Finding:
    """A finding about one 部门信息 entry, located at the cell holding its value."""
    row, letter = wb.info_cells.get(key, (None, ""))
    return make_finding(
        code,
        wb.file,
        sheet=wb.info_sheet,
        row=row,
        column=letter,
        field=ref.header_zh("info", key),
        value=value,
        detail=detail,
    )


def required_info(ref: Reference, sheet: str) -> tuple[str, ...]:
    return tuple(c.column for c in ref.columns[sheet] if c.required)


def info_filled(s: pd.Series, ctx: RuleContext) -> pd.Series:
    """F005: a required 部门信息 entry is empty."""
    return s.astype(str).str.len() > 0


def dept_code_digits(s: pd.Series, ctx: RuleContext) -> pd.Series:
    """F008: 部门编码 holds something other than digits."""
    return (s == "") | s.str.fullmatch(r"\d+").fillna(False)


def info_year(entries: InfoEntries, ctx: RuleContext) -> list[Finding]:
    """F006: 填报年度 is not the year of the run."""
    if ctx.year is None:
        return []
    return [
        info_finding("F006", wb, "year", info["year"], ctx.ref, detail=ctx.year)
        for wb, info in entries
        if info.get("year") and info["year"] != str(ctx.year)
    ]


def one_workbook_per_dept(entries: InfoEntries, ctx: RuleContext) -> list[Finding]:
    """F007: two workbooks for one 部门编码 — both set aside, each error names every file of the code."""
    by_code: dict[str, list[Workbook]] = {}
    for wb, info in entries:
        if info.get("dept_code"):
            by_code.setdefault(info["dept_code"], []).append(wb)
    found = []
    for code, group in by_code.items():
        if len(group) > 1:
            names = "、".join(wb.file for wb in group)
            found += [info_finding("F007", wb, "dept_code", code, ctx.ref, detail=names) for wb in group]
    return found


INFO_REQUIRED = rule(
    "info_required",
    "F005",
    "file_error",
    "cells",
    "部门信息 filled",
    check=info_filled,
    cell=CellCheck(("info",), columns=required_info),
)
DEPT_CODE_DIGITS = rule(
    "dept_code_digits",
    "F008",
    "file_error",
    "cells",
    "部门编码 digits",
    check=dept_code_digits,
    cell=CellCheck(("info",), columns=("dept_code",)),
)
INFO_YEAR = rule(
    "info_year", "F006", "file_error", "departments", "填报年度 = the run's year", check=info_year
)
ONE_WORKBOOK_PER_DEPT = rule(
    "one_workbook_per_dept", "F007", "file_error", "departments", "one per 部门", check=one_workbook_per_dept
)
