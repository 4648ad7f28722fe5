"""计算符号: R106 a sign no one can read, W212 a sign in the target cell that contradicts the 计算符号 column."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import CellCheck, RuleContext, rule
from schemas.vocab import INDICATOR_SHEETS


def symbol_known(s: pd.Series, ctx: RuleContext) -> pd.Series:
    return (s == "") | s.isin(ctx.ref.vocab_values["symbol"])


def symbol_matches_target(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = rows.loc[~rows["rejected"], ["target_symbol", "symbol_given"]]
    clash = (
        (kept["target_symbol"] != "")
        & (kept["symbol_given"] != "")
        & (kept["target_symbol"] != kept["symbol_given"])
    )
    hit = kept[clash]
    return hits(hit.index, "W212", "target", hit["target_symbol"], hit["symbol_given"])


SYMBOL_KNOWN = rule(
    "symbol_known",
    "R106",
    "row_error",
    "cells",
    "计算符号 known",
    check=symbol_known,
    cell=CellCheck(INDICATOR_SHEETS, columns=("symbol",)),
)
SYMBOL_CONSISTENT = rule(
    "symbol_consistent", "W212", "warning", "warnings", "one sign", check=symbol_matches_target
)
