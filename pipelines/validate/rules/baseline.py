"""What a target is measured against: W209 no baseline at all (历史值, 国家标准, 行业标准 all empty), W215
a target looser than the latest 历史值 or than last evaluated year's published actual value (从严从高: a ≥
target below it, a ≤ target above it, same unit)."""

from __future__ import annotations

import json
import re

import pandas as pd

from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule

_HISTORY_NUMBER = re.compile(r"^(?:[≥≤><]=?|=)?\s*(-?\d+(?:\.\d+)?)\s*(\S{0,6})$")


def baseline_present(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = (
        ~rows["rejected"]
        & (rows["history"] == "")
        & (rows["national_standard"] == "")
        & (rows["industry_standard"] == "")
    )
    return hits(rows.index[kept.to_numpy()], "W209", "history")


def _last_history(history_json: str) -> tuple[str, float, str] | None:
    """(year, value, unit) of the latest year of a 历史值 cell when it is a plain number, else None."""
    try:
        history = json.loads(history_json) if history_json else {}
    except ValueError:
        return None
    years = sorted(y for y in history if y)
    if not years:
        return None
    match = _HISTORY_NUMBER.match(str(history[years[-1]]).replace(" ", ""))
    if not match:
        return None
    return years[-1], float(match.group(1)), match.group(2)


def target_not_below_history(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    mask = (
        ~rows["rejected"]
        & rows["target_value"].notna()
        & rows["symbol"].isin(("≥", ">", "≤", "<"))
        & ~rows["history_json"].isin(("", "{}"))
    )
    kept = rows.loc[mask, ["target", "target_value", "symbol", "unit", "target_unit", "history_json"]]
    parsed = {u: p for u in pd.unique(kept["history_json"]).tolist() if (p := _last_history(u)) is not None}
    kept = kept[kept["history_json"].isin(parsed.keys())]
    if kept.empty:
        return no_hits()
    year = kept["history_json"].map({u: p[0] for u, p in parsed.items()})
    value = kept["history_json"].map({u: p[1] for u, p in parsed.items()}).astype(float)
    past_unit = kept["history_json"].map({u: p[2] for u, p in parsed.items()})
    same_unit = (
        (past_unit == "")
        | (past_unit == kept["unit"].str.replace(" ", "", regex=False))
        | (past_unit == kept["target_unit"])
    )
    looser = kept["symbol"].isin(("≥", ">"))
    worse = same_unit & (
        (looser & (kept["target_value"] < value)) | (~looser & (kept["target_value"] > value))
    )
    detail = [f"{y}年 {v:g}{u}" for y, v, u in zip(year[worse], value[worse], past_unit[worse], strict=True)]
    found = hits(kept.index[worse], "W215", "target", kept.loc[worse, "target"], detail)
    if ctx.actuals is None or ctx.actuals.empty:
        return found  # nothing to compare with (and the rows are wide: no copy of them for nothing)
    against_actual = target_not_below_actual(rows[~rows.index.isin(found["idx"])], ctx)
    return pd.concat([found, against_actual], ignore_index=True) if len(against_actual) else found


def target_not_below_actual(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """The same rule against the published self-evaluation: a row citing its 库内编号 whose ≥ target is
    below what the department achieved last evaluated year in that project (≤: above it), same unit."""
    actuals = ctx.actuals
    if actuals is None or actuals.empty or "library_id" not in rows:
        return no_hits()
    mask = ~rows["rejected"] & rows["target_value"].notna() & rows["symbol"].isin(("≥", ">", "≤", "<"))
    kept = rows.loc[mask & (rows["library_id"] != ""), ["library_id", "dept_code", "project", "target"]]
    kept = kept.assign(
        target_value=rows.loc[kept.index, "target_value"].astype(float),
        symbol=rows.loc[kept.index, "symbol"],
        unit=rows.loc[kept.index, "unit"].str.replace(" ", "", regex=False),
    )
    last = actuals.rename(columns={"indicator_id": "library_id", "unit": "past_unit"})
    joined = kept.reset_index().merge(last, on=["library_id", "dept_code", "project"], how="inner")
    if joined.empty:
        return no_hits()
    same_unit = (joined["past_unit"] == "") | (joined["past_unit"] == joined["unit"])
    looser = joined["symbol"].isin(("≥", ">"))
    value = joined["actual_value"].astype(float)
    worse = same_unit & (
        (looser & (joined["target_value"] < value)) | (~looser & (joined["target_value"] > value))
    )
    bad = joined[worse]
    detail = [
        f"{y}年完成值 {v:g}{u}"
        for y, v, u in zip(bad["year"], bad["actual_value"], bad["past_unit"], strict=True)
    ]
    return hits(bad["index"], "W215", "target", bad["target"], detail)


BASELINE = rule("baseline", "W209", "warning", "warnings", "a baseline given", check=baseline_present)
STRICT_TARGET = rule(
    "strict_target", "W215", "warning", "warnings", "从严从高", check=target_not_below_history
)
