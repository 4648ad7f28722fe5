"""R113: 共性指标 rows come only from the finance bureau's workbook (CONTRACT §2); the message names the department."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.rules.base import CellCheck, RuleContext, rule


def common_sheet_owner(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    return df["dept_code"] == ctx.finance_dept


COMMON_SHEET_OWNER = rule(
    "common_sheet_owner",
    "R113",
    "row_error",
    "cells",
    "共性 by 财政局",
    check=common_sheet_owner,
    cell=CellCheck(("common",), points_at="name", quote="dept_code"),
)
