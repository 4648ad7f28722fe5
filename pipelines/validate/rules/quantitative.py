"""定量指标: R107 a quantitative target that is not a number, W214 no unit anywhere (column, name or target)."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from schemas.vocab import INDICATOR_SHEETS


def quantitative_target_is_number(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    qualitative = (df["nature"] == "定性") | (df["symbol"] == "定性")
    return qualitative | (df["target"] == "") | df["target_value"].notna()


def quantitative_has_unit(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = ~rows["rejected"] & (rows["nature"] == "定量") & (rows["unit"] == "") & (rows["target_unit"] == "")
    return hits(rows.index[kept.to_numpy()], "W214", "unit")


QUANTITATIVE_TARGET = rule(
    "quantitative_target",
    "R107",
    "row_error",
    "cells",
    "定量 target is a number",
    check=quantitative_target_is_number,
    cell=CellCheck(INDICATOR_SHEETS, points_at="target"),
)
UNIT_GIVEN = rule("unit_given", "W214", "warning", "warnings", "定量 has a unit", check=quantitative_has_unit)
