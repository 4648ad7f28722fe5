"""变更类型 (CONTRACT §3): 修改 and 退出 need a reason (R108) and the 库内编号 they change (R111)."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from schemas.vocab import INDICATOR_SHEETS

CHANGING = ("修改", "退出")


def change_needs_reason(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    return ~df["change_type"].isin(CHANGING) | (df["change_reason"] != "")


def change_needs_library_id(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    return ~df["change_type"].isin(CHANGING) | (df["library_id"] != "")


# The messages quote the change type: "变更类型为“修改”但未填写变更理由".
CHANGE_REASON = rule(
    "change_reason",
    "R108",
    "row_error",
    "cells",
    "修改/退出 reason",
    check=change_needs_reason,
    cell=CellCheck(INDICATOR_SHEETS, points_at="change_reason", quote="change_type"),
)
CHANGE_LIBRARY_ID = rule(
    "change_library_id",
    "R111",
    "row_error",
    "cells",
    "库内编号",
    check=change_needs_library_id,
    cell=CellCheck(INDICATOR_SHEETS, points_at="library_id", quote="change_type"),
)
