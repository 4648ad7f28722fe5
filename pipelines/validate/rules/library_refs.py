"""库内编号 against the published library (CONTRACT §3): R109 no such indicator; a 修改/退出 of an indicator the
department may not change — R114 its city's (上级), R112 a 共性 one, R110 another department's."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule


def referencing_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows that cite a 库内编号 (a 新增 row's number means nothing yet)."""
    return rows[(rows["library_id"] != "") & (rows["change_type"] != "新增")]


def library_reference(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    indicators = ctx.indicators
    if indicators is None:
        return no_hits()
    referencing = referencing_rows(rows)
    known = referencing["library_id"].isin(indicators["indicator_id"])
    found = [hits(referencing.index[~known], "R109", "library_id")]
    changing = referencing[
        known
        & referencing["change_type"].isin(("修改", "退出"))
        & (referencing["dept_code"] != ctx.finance_dept)
    ]
    by_id = indicators.set_index("indicator_id")
    for idx, lib_id, dept in zip(changing.index, changing["library_id"], changing["dept_code"], strict=True):
        if "origin" in by_id.columns and by_id.at[lib_id, "origin"] == "上级":
            found.append(hits([idx], "R114", "library_id"))
        elif by_id.at[lib_id, "scope"] == "共性":
            found.append(hits([idx], "R112", "library_id"))
        elif dept not in list(by_id.at[lib_id, "departments"]):
            owners = "、".join(by_id.at[lib_id, "departments"]) or "无"
            found.append(hits([idx], "R110", "library_id", detail=owners))
    return pd.concat(found, ignore_index=True)


LIBRARY_REFERENCE = rule(
    "library_reference",
    "R109 R110 R112 R114",
    "row_error",
    "rows",
    "库内编号 exists and may be changed by this department",
    check=library_reference,
)
