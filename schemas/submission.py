"""The shape of the submission sheets (CONTRACT §2–§3): which columns a validated frame carries and their types.

These pandera models state table shape only, and need no reference data. What a valid row is — each
rule with the finding code it raises — lives in the rule registry (pipelines/validate/rules/), whose cell
rules pandera runs on top of these shapes (pipelines/validate/cells.py). A shape failure (a column
missing, a wrong dtype) is a bug of the product, never a department's error.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series


class DeptInfoModel(pa.DataFrameModel):
    """部门信息 as one row per workbook (English keys, canonicalised text)."""

    year: Series[str]
    dept_code: Series[str]
    dept_name: Series[str]

    class Config:
        strict = False


class CoreRowsModel(pa.DataFrameModel):
    """部门整体核心指标: the columns every indicator sheet shares, in the order cells are checked."""

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

    class Config:
        strict = False


class ProjectRowsModel(CoreRowsModel):
    """项目支出指标, and 共性指标 (the same columns; what is required differs, see columns.csv)."""

    project: Series[str]
    function_code: Series[str]


SHEET_SHAPES: dict[str, type[pa.DataFrameModel]] = {
    "info": DeptInfoModel,
    "core": CoreRowsModel,
    "project": ProjectRowsModel,
    "common": ProjectRowsModel,
}
