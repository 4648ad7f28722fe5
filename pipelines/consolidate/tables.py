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


def _text(norm: pd.DataFrame, column: str) -> pd.Series:
    """A text column of the rows; "" when the rows do not have it (rows made before the column existed)."""
    if column not in norm:
        return pd.Series("", index=norm.index, dtype=str)
    return norm[column].astype(str).fillna("")


def usages_table(norm: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    """One row per accepted row: which indicator it used, with the department's target, everything else it
    wrote on the row, and provenance."""
    columns = list(UsageTable.to_schema().columns)
    current = pd.DataFrame(
        {
            "indicator_id": norm["indicator_id"].astype(str),
            "year": year,
            "dept_code": norm["dept_code"].astype(str),
            "dept_name": norm["dept_name"].astype(str),
            "scope": norm["scope"].astype(str),
            "project": norm["project"].astype(str),
            "project_category": norm["project_category"].astype(str),
            "function_code": norm["function_code"].astype(str),
            "level1": norm["level1"].astype(str),
            "level2": norm["level2"].astype(str),
            "name": norm["name_norm"].astype(str),
            "symbol": norm["symbol"].astype(str),
            "target": norm["target"].astype(str),
            "target_value": pd.to_numeric(norm["target_value"], errors="coerce").astype("float64"),
            "unit": norm["unit_norm"].astype(str),
            "weight": pd.to_numeric(norm["weight_value"], errors="coerce").astype("float64"),
            "history": norm["history_json"].astype(str).replace("", "{}"),
            "change_type": norm["change_type"].astype(str),
            "change_reason": norm["change_reason"].astype(str),
            "data_source": norm["data_source"].astype(str),
            "source_file": norm["source_file"].astype(str),
            "source_sheet": norm["source_sheet"].astype(str),
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
    current = pd.DataFrame(
        {c: (out[c].astype(str) if c in out else pd.Series("", index=out.index, dtype=str)) for c in columns}
    )
    current["year"] = year
    current["source_row"] = (
        pd.array(pd.to_numeric(out["source_row"], errors="coerce"), dtype="Int64")
        if len(out)
        else pd.array([], dtype="Int64")
    )
    current["target"] = out["target"].astype(str) if len(out) else ""
    if previous is not None and len(previous.set_aside):
        kept = previous.set_aside[previous.set_aside["year"] != year]
        current = pd.concat([kept[columns], current[columns]], ignore_index=True)
    current["year"] = current["year"].astype("int64")
    return current[columns].reset_index(drop=True)
