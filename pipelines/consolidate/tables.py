"""The release's usage, department and set-aside tables: this year's rows added to the earlier years'
(a rebuild of a year replaces that year's rows). The indicator table is made in records.indicator_table."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipelines.common.frames import map_distinct
from schemas.library import DepartmentTable, LibraryTables, SetAsideTable, UsageTable

# Usage columns (minor 1) copied from the row as it was read and cleaned: the row's own wording of the
# indicator's shared fields and everything else the department wrote on it.
AS_WRITTEN = (
    "definition", "formula", "nature", "keywords", "national_standard", "industry_standard", "standard_source",
    "indicator_source", "value_basis", "value_method", "scoring_rule", "project_goal", "project_nature", "sector",
    "industry", "fund_use", "strategic_goal", "phased",
)  # fmt: skip


def extra_object(text: str) -> str:
    """The cells under headers the template does not know ({header: value} JSON from intake) as one
    deterministic JSON object: sorted keys, non-ASCII kept; "" when there is none."""
    if not text:
        return ""
    record = json.loads(text)
    return json.dumps(record, ensure_ascii=False, sort_keys=True) if record else ""


def as_str(series: pd.Series) -> pd.Series:
    """series.astype(str); a categorical without missing values by its categories (one conversion per
    distinct value, not per row: pandas converts every row of a categorical)."""
    if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(
        series.cat.categories.dtype
    ):
        codes = series.cat.codes.to_numpy()
        if (codes >= 0).all():
            return pd.Series(
                series.cat.categories.astype(str).take(codes), index=series.index, name=series.name
            )
    return series.astype(str)


def _text(norm: pd.DataFrame, column: str) -> pd.Series:
    """A text column of the rows; "" when the rows do not have it (rows made before the column existed)."""
    if column not in norm:
        return pd.Series("", index=norm.index, dtype=str)
    return as_str(norm[column]).fillna("")


def usages_table(norm: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    """One row per accepted row: which indicator it used, with the department's target, everything else it
    wrote on the row, and provenance."""
    columns = list(UsageTable.to_schema().columns)
    current = pd.DataFrame(
        {
            "indicator_id": as_str(norm["indicator_id"]),
            "year": year,
            "dept_code": as_str(norm["dept_code"]),
            "dept_name": as_str(norm["dept_name"]),
            "scope": as_str(norm["scope"]),
            "project": as_str(norm["project"]),
            "project_category": as_str(norm["project_category"]),
            "function_code": as_str(norm["function_code"]),
            "level1": as_str(norm["level1"]),
            "level2": as_str(norm["level2"]),
            "name": as_str(norm["name_norm"]),
            "symbol": as_str(norm["symbol"]),
            "target": as_str(norm["target"]),
            "target_value": pd.to_numeric(norm["target_value"], errors="coerce").astype("float64"),
            "unit": as_str(norm["unit_norm"]),
            "weight": pd.to_numeric(norm["weight_value"], errors="coerce").astype("float64"),
            "history": as_str(norm["history_json"]).replace("", "{}"),
            "change_type": as_str(norm["change_type"]),
            "change_reason": as_str(norm["change_reason"]),
            "data_source": as_str(norm["data_source"]),
            "source_file": as_str(norm["source_file"]),
            "source_sheet": as_str(norm["source_sheet"]),
            "source_row": norm["source_row"].astype("int64"),
            **{c: _text(norm, c) for c in AS_WRITTEN},
            "extra": map_distinct(_text(norm, "extra_json"), extra_object).astype(str),
        },
        columns=columns,
    )
    if previous is not None and len(previous.usages):
        kept = previous.usages[previous.usages["year"] != year]
        current = pd.concat([kept[columns], current], ignore_index=True)
    return current.reset_index(drop=True)


def departments_table(info: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    """Every department ever seen, with this year's 部门信息 over the earlier one."""
    columns = list(DepartmentTable.to_schema().columns)
    prev = (
        previous.departments.set_index("dept_code")
        if previous is not None and len(previous.departments)
        else None
    )
    records: dict[str, dict[str, Any]] = {}
    if prev is not None:
        for code, rec in prev.iterrows():
            records[str(code)] = {"dept_code": str(code), **rec.to_dict()}
    for rec in info.sort_values("source_file").to_dict("records"):
        code = str(rec["dept_code"])
        old = records.get(code)
        records[code] = {
            "dept_code": code,
            "dept_name": rec.get("dept_name", ""),
            "parent_dept": rec.get("parent_dept", ""),
            "complexity": rec.get("complexity", ""),
            "functions": rec.get("functions", ""),
            "strategic_goals": rec.get("strategic_goals", ""),
            "function_basis": rec.get("function_basis", ""),
            "first_year": min(int(old["first_year"]), year) if old else year,
            "last_year": max(int(old["last_year"]), year) if old else year,
        }
    frame = pd.DataFrame([records[c] for c in sorted(records)], columns=columns)
    for c in ("first_year", "last_year"):
        frame[c] = frame[c].astype("int64")
    for c in columns:
        if c not in ("first_year", "last_year"):
            frame[c] = frame[c].fillna("").astype(str)
    return frame


def set_aside_table(rows: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    """The rows not bound for the library (noncore, excluded, rejected) with their reasons."""
    columns = list(SetAsideTable.to_schema().columns)
    out = rows[rows["outcome"] != "library"]
    # as_str: a categorical column converted once per category, not once per row.
    current = pd.DataFrame(
        {c: (as_str(out[c]) if c in out else pd.Series("", index=out.index, dtype=str)) for c in columns}
    )
    current["year"] = year
    current["source_row"] = (
        pd.array(pd.to_numeric(out["source_row"], errors="coerce"), dtype="Int64")
        if len(out)
        else pd.array([], dtype="Int64")
    )
    if not len(out):
        current["target"] = ""
    if previous is not None and len(previous.set_aside):
        kept = previous.set_aside[previous.set_aside["year"] != year]
        current = pd.concat([kept[columns], current[columns]], ignore_index=True)
    current["year"] = current["year"].astype("int64")
    return current[columns].reset_index(drop=True)
