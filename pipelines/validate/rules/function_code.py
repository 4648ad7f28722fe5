"""功能分类科目编码 (CONTRACT §3): R104 not 3/5/7 digits, R105 a 类 no list knows, W211 a 款/项 no list knows.

Known means in any list: the shipped current list ∪ the older complete edition ∪ the bureau's own
(rules/function_classification.csv in its repo). canonicalize_rows marks each code once
(function_class_listed, function_code_listed, function_code_parent); these rules read the marks."""

from __future__ import annotations

import re

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import CellCheck, RuleContext, rule

FUNCTION_CODE = re.compile(r"^\d{3}(\d{2}){0,2}$")
PROJECT_SHEETS = ("project", "common")


def function_code_format(s: pd.Series, ctx: RuleContext) -> pd.Series:
    return (s == "") | s.str.fullmatch(FUNCTION_CODE.pattern).fillna(False)


def function_class_known(df: pd.DataFrame, ctx: RuleContext) -> pd.Series:
    s = df["function_code"]
    malformed = ~s.str.fullmatch(FUNCTION_CODE.pattern).fillna(False)
    return (s == "") | malformed | df["function_class_listed"].astype(bool)


def _function_class(rows: pd.DataFrame) -> pd.Series:
    return rows["function_code"].str[:3]


def function_code_listed(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """W211: a 款/项 code missing from every list whose 类 is known (the lists change every year)."""
    mask = ~rows["rejected"] & (rows["function_code"].str.len() > 3) & ~rows["function_code_listed"]
    hit = rows.loc[mask, ["function_code", "function_code_parent"]]
    return hits(hit.index, "W211", "function_code", hit["function_code"], hit["function_code_parent"])


FUNCTION_CODE_FORMAT = rule(
    "function_code_format",
    "R104",
    "row_error",
    "cells",
    "3/5/7 digits",
    check=function_code_format,
    cell=CellCheck(PROJECT_SHEETS, columns=("function_code",)),
)
FUNCTION_CLASS_KNOWN = rule(
    "function_class_known",
    "R105",
    "row_error",
    "cells",
    "类 known",
    check=function_class_known,
    cell=CellCheck(PROJECT_SHEETS, points_at="function_code", detail=_function_class),
)
FUNCTION_CODE_LISTED = rule(
    "function_code_listed", "W211", "warning", "warnings", "款/项 known", check=function_code_listed
)
