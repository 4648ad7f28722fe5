"""pandera models of the submission sheets (SPEC §2–§3): the one statement of what a valid row is.

Each check is named by the finding code it raises (schemas/reference/finding_codes.csv), so a failure
case maps straight to a located Chinese message. Vocabulary cells are canonicalised before these models
run (validate.canonicalize_rows), so membership is checked against the canonical values loaded once
from schemas/reference. Rules that span rows (project composition, counts, weights) are in rules.py.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.vocab import reference

_REF = reference()
FUNCTION_CODE = re.compile(r"^\d{3}(\d{2}){0,2}$")
# pandera reports a check under its method name (the name= given is not always kept): the finding code
# each check raises, and for row-wide checks the column its finding points at, so it names the cell.
CHECK_CODES: dict[str, tuple[str, str | None]] = {
    "required_filled": ("R101", None),
    "info_required_filled": ("F005", None),
    "level1_in_framework": ("R102", None),
    "symbol_known": ("R106", None),
    "function_code_format": ("R104", None),
    "function_class_known": ("R105", "function_code"),
    "dept_code_digits": ("F008", None),
    "level2_under_level1": ("R103", "level2"),
    "quantitative_target_is_number": ("R107", "target"),
    "change_needs_reason": ("R108", "change_reason"),
    "change_needs_library_id": ("R111", "library_id"),
}


def required_columns(sheet: str) -> list[str]:
    return [c.column for c in _REF.columns[sheet] if c.required]


def _filled(series: pd.Series) -> pd.Series:
    return series.astype(str).str.len() > 0


class DeptInfoModel(pa.DataFrameModel):
    """部门信息 as one row per workbook (English keys, canonicalised text)."""

    year: Series[str]
    dept_code: Series[str]
    dept_name: Series[str]

    @pa.check(*required_columns("info"), name="F005")
    @classmethod
    def info_required_filled(cls, s: Series[str]) -> Series[bool]:
        return _filled(s)

    @pa.check("dept_code", name="F008")
    @classmethod
    def dept_code_digits(cls, s: Series[str]) -> Series[bool]:
        return (s == "") | s.str.fullmatch(r"\d+").fillna(False)

    class Config:
        strict = False


class _IndicatorRows(pa.DataFrameModel):
    """Columns shared by the three indicator sheets; the subclasses only differ in what is required."""

    level1: Series[str]
    level2: Series[str]
    name: Series[str]
    definition: Series[str]
    symbol: Series[str]
    target: Series[str]
    nature: Series[str]
    change_type: Series[str]
    change_reason: Series[str]
    library_id: Series[str]
    target_value: Series[float] = pa.Field(nullable=True)

    @pa.check("level1", name="R102")
    @classmethod
    def level1_in_framework(cls, s: Series[str]) -> Series[bool]:
        return (s == "") | s.isin(_REF.level1_values)

    @pa.dataframe_check
    @classmethod
    def level2_under_level1(cls, df: pd.DataFrame) -> Series[bool]:
        level1_of = _REF.level1_of
        parent = df["level2"].map(level1_of)
        known_l1 = df["level1"].isin(_REF.level1_values)
        # Only judged when 二级 is filled and 一级 is valid (an invalid 一级 is already R102).
        return (df["level2"] == "") | ~known_l1 | (parent == df["level1"]).fillna(False)

    @pa.check("symbol", name="R106")
    @classmethod
    def symbol_known(cls, s: Series[str]) -> Series[bool]:
        return (s == "") | s.isin(_REF.vocab_values["symbol"])

    @pa.dataframe_check
    @classmethod
    def quantitative_target_is_number(cls, df: pd.DataFrame) -> Series[bool]:
        qualitative = (df["nature"] == "定性") | (df["symbol"] == "定性")
        return qualitative | (df["target"] == "") | df["target_value"].notna()

    @pa.dataframe_check
    @classmethod
    def change_needs_reason(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["change_type"].isin(("修改", "退出")) | (df["change_reason"] != "")

    @pa.dataframe_check
    @classmethod
    def change_needs_library_id(cls, df: pd.DataFrame) -> Series[bool]:
        return ~df["change_type"].isin(("修改", "退出")) | (df["library_id"] != "")

    class Config:
        strict = False


class CoreRowsModel(_IndicatorRows):
    """部门整体核心指标."""

    @pa.check(*required_columns("core"), name="R101")
    @classmethod
    def required_filled(cls, s: Series[str]) -> Series[bool]:
        return _filled(s)


class _ProjectLikeRows(_IndicatorRows):
    project: Series[str]
    function_code: Series[str]

    @pa.check("function_code", name="R104")
    @classmethod
    def function_code_format(cls, s: Series[str]) -> Series[bool]:
        return (s == "") | s.str.fullmatch(FUNCTION_CODE.pattern).fillna(False)

    @pa.dataframe_check
    @classmethod
    def function_class_known(cls, df: pd.DataFrame) -> Series[bool]:
        s = df["function_code"]
        malformed = ~s.str.fullmatch(FUNCTION_CODE.pattern).fillna(False)
        # validate.canonicalize_rows marks the 类 known in any list (shipped, older edition, the bureau's).
        if "function_class_listed" in df:
            known = df["function_class_listed"].astype(bool)
        else:
            known = s.str[:3].isin(_REF.function_codes.keys())
        return (s == "") | malformed | known


class ProjectRowsModel(_ProjectLikeRows):
    """项目支出指标."""

    @pa.check(*required_columns("project"), name="R101")
    @classmethod
    def required_filled(cls, s: Series[str]) -> Series[bool]:
        return _filled(s)


class CommonRowsModel(_ProjectLikeRows):
    """共性指标 (finance bureau only): project and function code optional."""

    @pa.check(*required_columns("common"), name="R101")
    @classmethod
    def required_filled(cls, s: Series[str]) -> Series[bool]:
        return _filled(s)


ROW_MODELS: dict[str, type[_IndicatorRows]] = {
    "core": CoreRowsModel,
    "project": ProjectRowsModel,
    "common": CommonRowsModel,
}
