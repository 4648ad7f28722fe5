"""The self-evaluation's tables (绩效自评, SPEC §7; pipelines/evaluate/tables.py): one row per usage scored, per
project and per department of a year. Every score carries its rule and a Chinese explanation of the figures.
Published as library/evaluations/<year>/{usages,projects,departments}.parquet (pipelines/store/evaluations.py)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.library import ID_PATTERN

RULES = ("direct", "proportional", "qualitative", "satisfaction", "unscored")
METHODS = ("direct", "proportional", "qualitative", "satisfaction")
WEIGHT_BASES = ("filed", "filed_scaled", "mof_split")
GRADES = ("优", "良", "中", "差")


class UsageEvaluationTable(pa.DataFrameModel):
    """One row per usage of the year a department evaluates (项目 and 部门整体 scopes)."""

    year: Series[int]
    dept_code: Series[str] = pa.Field(str_matches=r"^\d+$")
    dept_name: Series[str]
    project: Series[str]  # "" for 部门整体
    indicator_id: Series[str] = pa.Field(str_matches=ID_PATTERN)
    level1: Series[str]
    level2: Series[str]
    name: Series[str]
    symbol: Series[str]
    target: Series[str]
    unit: Series[str]
    points: Series[float] = pa.Field(ge=0)  # the indicator's points out of the project's 90
    weight_basis: Series[str] = pa.Field(isin=WEIGHT_BASES)
    method: Series[str] = pa.Field(isin=METHODS)
    actual: Series[str]  # as filled ("" when not)
    actual_value: Series[float] = pa.Field(nullable=True)
    grade: Series[str]  # 评判等级 of a qualitative row
    proposed: Series[float] = pa.Field(nullable=True)
    rate: Series[float] = pa.Field(nullable=True)  # completion rate in percent, before the cap
    awarded: Series[float] = pa.Field(ge=0)
    rule: Series[str] = pa.Field(isin=RULES)
    explanation: Series[str]
    deviation_reason: Series[str]
    evidence: Series[str]
    findings: Series[str]  # codes of the row's findings, "E503;E504"

    @pa.dataframe_check
    @classmethod
    def awarded_within_points(cls, df: pd.DataFrame) -> pd.Series:
        return df["awarded"] <= df["points"] + 1e-9

    class Config:
        strict = True
        coerce = False


class ProjectEvaluationTable(pa.DataFrameModel):
    year: Series[int]
    dept_code: Series[str] = pa.Field(str_matches=r"^\d+$")
    dept_name: Series[str]
    project: Series[str]
    indicators: Series[int] = pa.Field(ge=1)
    indicator_points: Series[float] = pa.Field(ge=0)
    indicator_max: Series[float] = pa.Field(ge=0)
    budget_rate: Series[float] = pa.Field(nullable=True)  # 执行率 in percent
    budget_points: Series[float] = pa.Field(ge=0, le=10)
    budget_explanation: Series[str]
    total: Series[float] = pa.Field(ge=0, le=100)
    grade: Series[str] = pa.Field(isin=GRADES)
    explanation: Series[str]

    class Config:
        strict = True
        coerce = False


class DepartmentEvaluationTable(pa.DataFrameModel):
    year: Series[int]
    dept_code: Series[str] = pa.Field(unique=True, str_matches=r"^\d+$")
    dept_name: Series[str]
    projects: Series[int] = pa.Field(ge=1)
    submitted: Series[bool]  # a self-evaluation workbook was read (not set aside)
    total: Series[float] = pa.Field(ge=0, le=100)
    grade: Series[str] = pa.Field(isin=GRADES)
    explanation: Series[str]

    class Config:
        strict = True
        coerce = False


TITLES_ZH = {
    "year": "年度",
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "project": "项目名称",
    "indicator_id": "库内编号",
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "指标名称",
    "symbol": "计算符号",
    "target": "目标值",
    "unit": "计量单位",
    "points": "分值",
    "weight_basis": "分值依据",
    "method": "评分方式",
    "actual": "完成值",
    "actual_value": "完成值(数值)",
    "grade": "评判等级/等级",
    "proposed": "自评分值",
    "rate": "完成率(%)",
    "awarded": "得分",
    "rule": "适用规则",
    "explanation": "评分说明",
    "deviation_reason": "偏差原因",
    "evidence": "佐证资料",
    "findings": "问题代码",
    "indicators": "指标个数",
    "indicator_points": "指标得分",
    "indicator_max": "指标满分",
    "budget_rate": "预算执行率(%)",
    "budget_points": "预算执行率得分",
    "budget_explanation": "预算执行率说明",
    "total": "总分",
    "projects": "项目个数",
    "submitted": "已提交自评表",
}
