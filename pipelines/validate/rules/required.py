"""R101: a required cell is empty (which columns are required per sheet: schemas/reference/columns.csv)."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from pipelines.validate.rules.dept_info import required_info
from schemas.vocab import INDICATOR_SHEETS


def filled(s: pd.Series, ctx: RuleContext) -> pd.Series:
    return s.astype(str).str.len() > 0


REQUIRED_FILLED = rule(
    "required_filled",
    "R101",
    "row_error",
    "cells",
    "required cells",
    check=filled,
    cell=CellCheck(INDICATOR_SHEETS, columns=required_info),
)
