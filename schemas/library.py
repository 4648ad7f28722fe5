"""The published library's tables (CONTRACT §5): the one statement of their shape.

Column names are fixed for readers (county bureaus read them with pandas/duckdb); Chinese titles for
exports live in TITLES_ZH. Files: library/indicators/*.parquet, library/usages/<year>/*.parquet,
library/departments.parquet, library/set_aside/<year>.parquet, library/manifest.json.

Versions (docs/SCHEMA_VERSIONS.md): a column added to a table is a minor change — declare it with
`added_in(minor, default)` and raise SCHEMA_MINOR to that minor; releases written before it read it as
its default. Removing, renaming or retyping a column is a major change (SCHEMA_VERSION + 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

# manifest.json "schema_version": the major version; a reader refuses a release of another major.
SCHEMA_VERSION = 1
# manifest.json "schema_minor": columns added since minor 0 (each declared with added_in). Written only
# from minor 1 on, so a release without the key is minor 0 (every release made before minors existed).
# 1.2 adds no column: usages files are named <part>.us.parquet (docs/SCHEMA_VERSIONS.md says why a
# minor: this code reads both names, and a 1.1 program refuses the new ones rather than misreading them).
SCHEMA_MINOR = 2
SINCE = "since"  # Field metadata key: the minor version that added the column (absent: minor 0)
SCOPES = ("共性", "部门整体", "项目")
STATUSES = ("active", "retired", "merged")
OUTCOMES = ("library", "noncore", "excluded", "rejected")
# indicator_id: <namespace>-<scope letter><6 digits>; G 共性, B 部门整体, X 项目. Never reused.
ID_PATTERN = r"^[A-Z][A-Z0-9]{0,15}-[GBX]\d{6}$"
SCOPE_LETTER = {"共性": "G", "部门整体": "B", "项目": "X"}


def added_in(minor: int, default: object, **checks: object) -> Any:
    """A column added in `minor` (> 0): a release written before it reads it as `default`, which must be
    the empty value of its type ("" for text, [] for a list, None for a nullable number)."""
    return pa.Field(default=default, metadata={SINCE: minor}, **checks)  # type: ignore[arg-type]


def manifest_version() -> dict[str, int]:
    """The version keys a release written by this code carries in manifest.json."""
    return {"schema_version": SCHEMA_VERSION} | ({"schema_minor": SCHEMA_MINOR} if SCHEMA_MINOR else {})


class IndicatorTable(pa.DataFrameModel):
    """One row per canonical indicator, active or not; rows are never deleted."""

    indicator_id: Series[str] = pa.Field(unique=True, str_matches=ID_PATTERN)
    scope: Series[str] = pa.Field(isin=SCOPES)
    level1: Series[str]
    level2: Series[str]
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    definition: Series[str]
    formula: Series[str]
    symbol: Series[str]
    unit: Series[str]
    nature: Series[str]
    function_code: Series[str]
    function_class: Series[str]  # 3-digit 类, "" for 共性 and 部门整体: the partition key
    keywords: Series[str]
    national_standard: Series[str]
    industry_standard: Series[str]
    aliases: Series[object]  # list[str]: other names it was submitted or known under
    departments: Series[object]  # list[str]: dept codes using it in its last active year
    first_year: Series[int]
    last_year: Series[int]
    status: Series[str] = pa.Field(isin=STATUSES)
    retired_year: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    retire_reason: Series[str]
    merged_into: Series[str]
    last_change_year: Series[int]
    last_change_type: Series[str]
    last_change_reason: Series[str]
    origin: Series[str]  # 本级 | 上级 (county overlays)
    # 1.1: where the indicator's standard comes from (指标标准来源/指标出处) and where the indicator itself
    # comes from (指标来源): the value most departments wrote when it was created, changed only by 修改.
    standard_source: Series[str] = added_in(1, "")
    indicator_source: Series[str] = added_in(1, "")

    class Config:
        strict = True
        coerce = False


class UsageTable(pa.DataFrameModel):
    """One row per accepted submitted row: which department used which indicator in which year, how."""

    indicator_id: Series[str] = pa.Field(str_matches=ID_PATTERN)
    year: Series[int]
    dept_code: Series[str] = pa.Field(str_matches=r"^\d+$")
    dept_name: Series[str]
    scope: Series[str] = pa.Field(isin=SCOPES)
    project: Series[str]
    project_category: Series[str]
    function_code: Series[str]
    level1: Series[str]
    level2: Series[str]
    name: Series[str]  # as submitted (normalized text)
    symbol: Series[str]
    target: Series[str]  # as submitted
    target_value: Series[float] = pa.Field(nullable=True)
    unit: Series[str]
    weight: Series[float] = pa.Field(nullable=True)
    history: Series[str]  # JSON object year → value
    change_type: Series[str]
    change_reason: Series[str]
    data_source: Series[str]
    source_file: Series[str]
    source_sheet: Series[str]
    source_row: Series[int]
    # 1.1: everything else the department wrote on the row. The row's own wording of the indicator's shared
    # fields (the indicator holds the most common one; the variants stay here)...
    definition: Series[str] = added_in(1, "")
    formula: Series[str] = added_in(1, "")
    nature: Series[str] = added_in(1, "")
    keywords: Series[str] = added_in(1, "")
    national_standard: Series[str] = added_in(1, "")
    industry_standard: Series[str] = added_in(1, "")
    standard_source: Series[str] = added_in(1, "")
    indicator_source: Series[str] = added_in(1, "")
    # ...the department's own settings for this use...
    value_basis: Series[str] = added_in(1, "")
    value_method: Series[str] = added_in(1, "")
    scoring_rule: Series[str] = added_in(1, "")
    # ...the project's (or, on the core sheet, the strategy's) description...
    project_goal: Series[str] = added_in(1, "")
    project_nature: Series[str] = added_in(1, "")
    sector: Series[str] = added_in(1, "")
    industry: Series[str] = added_in(1, "")
    fund_use: Series[str] = added_in(1, "")
    strategic_goal: Series[str] = added_in(1, "")
    phased: Series[str] = added_in(1, "")
    # ...and the cells under headers the template does not know: a JSON object {header: value} with sorted
    # keys ("" when none), so nothing a department wrote is dropped.
    extra: Series[str] = added_in(1, "")

    class Config:
        strict = True


class DepartmentTable(pa.DataFrameModel):
    dept_code: Series[str] = pa.Field(unique=True, str_matches=r"^\d+$")
    dept_name: Series[str]
    parent_dept: Series[str]
    complexity: Series[str]
    functions: Series[str]
    strategic_goals: Series[str]
    first_year: Series[int]
    last_year: Series[int]
    # 1.1: 职能依据 (the “三定” document). 绩效联系人 and 联系电话 are not published: a person's contact
    # details have no place in a library every county and department reads.
    function_basis: Series[str] = added_in(1, "")

    class Config:
        strict = True


class SetAsideTable(pa.DataFrameModel):
    """Rows kept out of the library: non-core, excluded (phase) and rejected, each with its reasons."""

    year: Series[int]
    outcome: Series[str] = pa.Field(isin=("noncore", "excluded", "rejected"))
    reason_codes: Series[str]  # "R101;R107"
    reasons: Series[str]  # Chinese messages joined by "；"
    dept_code: Series[str]
    scope: Series[str]
    project: Series[str]
    level1: Series[str]
    level2: Series[str]
    name: Series[str]
    target: Series[str]
    unit: Series[str]
    source_file: Series[str]
    source_sheet: Series[str]
    source_row: Series[int] = pa.Field(nullable=True)

    class Config:
        strict = True


TITLES_ZH = {
    "indicator_id": "指标编号",
    "scope": "指标范围",
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "指标名称",
    "definition": "指标解释",
    "formula": "计算公式",
    "symbol": "计算符号",
    "unit": "计量单位",
    "nature": "指标性质",
    "function_code": "功能分类科目编码",
    "function_class": "功能分类（类）",
    "keywords": "关键词",
    "national_standard": "国家标准",
    "industry_standard": "行业标准",
    "aliases": "曾用名/同义名称",
    "departments": "使用部门",
    "first_year": "首次入库年度",
    "last_year": "最近使用年度",
    "status": "状态",
    "retired_year": "退出年度",
    "retire_reason": "退出原因",
    "merged_into": "并入指标",
    "last_change_year": "最近变更年度",
    "last_change_type": "最近变更类型",
    "last_change_reason": "最近变更理由",
    "origin": "来源层级",
    "standard_source": "指标标准来源",
    "indicator_source": "指标来源",
    "value_basis": "指标值设定依据",
    "value_method": "取值方式",
    "scoring_rule": "评（扣）分标准",
    "project_goal": "绩效目标",
    "project_nature": "项目性质",
    "sector": "行业领域",
    "industry": "行业类别",
    "fund_use": "资金用途",
    "strategic_goal": "战略目标",
    "phased": "是否阶段性",
    "extra": "其他填报内容",
    "function_basis": "职能依据",
    "year": "年度",
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "project": "项目名称",
    "project_category": "项目类别",
    "target": "目标值",
    "target_value": "目标值(数值)",
    "weight": "权重",
    "history": "历史值",
    "change_type": "变更类型",
    "change_reason": "变更理由",
    "data_source": "数据来源",
    "source_file": "来源文件",
    "source_sheet": "来源工作表",
    "source_row": "来源行号",
}
STATUS_ZH = {"active": "在用", "retired": "已退出", "merged": "已合并"}


@dataclass
class LibraryTables:
    """One release of the library in memory: what consolidate produces and publish writes."""

    indicators: pd.DataFrame
    usages: pd.DataFrame
    departments: pd.DataFrame
    set_aside: pd.DataFrame
