"""The indicator framework (CONTRACT §3): R102 a 一级 not in the framework, R103 a 二级 not under its 一级.

Labels were resolved to the current framework before (old editions, short forms: canonicalize_rows); what
is judged here is what remains unknown. A written 一级 is never overridden by its 二级."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from schemas.vocab import INDICATOR_SHEETS


def level1_in_framework(s: pd.Series, ctx: RuleContext) -> pd.Series:
    return (s == "") | s.isin(ctx.ref.level1_values)


def level2_under_level1(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    parent = df["level2"].map(ctx.ref.level1_of)
    known_l1 = df["level1"].isin(ctx.ref.level1_values)
    # Only judged when 二级 is filled and 一级 is valid (an invalid 一级 is already R102).
    return (df["level2"] == "") | ~known_l1 | (parent == df["level1"]).fillna(False)


def _written_level1(rows: pd.DataFrame) -> pd.Series:
    return rows["level1"]


LEVEL1_KNOWN = rule(
    "level1_in_framework",
    "R102",
    "row_error",
    "cells",
    "一级 known",
    check=level1_in_framework,
    cell=CellCheck(INDICATOR_SHEETS, columns=("level1",)),
)
LEVEL2_FITS = rule(
    "level2_under_level1",
    "R103",
    "row_error",
    "cells",
    "二级 fits",
    check=level2_under_level1,
    cell=CellCheck(INDICATOR_SHEETS, points_at="level2", detail=_written_level1),
)
