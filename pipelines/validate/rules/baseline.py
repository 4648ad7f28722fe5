"""What a target is measured against: W209 no baseline at all (历史值, 国家标准, 行业标准 all empty), W215
a target looser than the latest 历史值 (从严从高: a ≥ target below it, a ≤ target above it, same unit)."""

from __future__ import annotations

import json
import re

import pandas as pd

from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule

_HISTORY_NUMBER = re.compile(r"^(?:[≥≤><]=?|=)?\s*(-?\d+(?:\.\d+)?)\s*(\S{0,6})$")


def baseline_present(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = rows[
        ~rows["rejected"]
        & (rows["history"] == "")
        & (rows["national_standard"] == "")
        & (rows["industry_standard"] == "")
    ]
    return hits(kept.index, "W209", "history")


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
    return hits(kept.index[worse], "W215", "target", kept.loc[worse, "target"], detail)


BASELINE = rule("baseline", "W209", "warning", "warnings", "a baseline given", check=baseline_present)
STRICT_TARGET = rule(
    "strict_target", "W215", "warning", "warnings", "从严从高", check=target_not_below_history
)
