"""What a percentage measures (schemas/reference/rate_names.csv): R115 a 满意度 or part-of-a-whole rate
(合格率, 覆盖率 …) whose target is above 100 %, W218 a 满意度-like name filed under 产出 or 效益.

canonicalize_rows reads each name's rate ending once, vectorised (columns rate_ending, rate_kind).
Growth-like rates (增长率, 完成率 …) are declared unbounded in rate_names.csv and never judged."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule

PERCENT_UNITS = frozenset({"%", "百分比", "百分率"})


def percent_target_over_100(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    over = rows["target_value"].notna() & (rows["target_value"] > 100)
    candidates = rows.loc[over, ["unit", "target_unit", "rate_kind", "target", "rate_ending"]]
    if candidates.empty:
        return no_hits()
    unit = candidates["unit"].str.replace(" ", "", regex=False)
    percent = (
        unit.isin(PERCENT_UNITS)
        | (candidates["target_unit"] == "%")
        | ((unit == "") & (candidates["target_unit"] == ""))  # a rate with no unit is a percentage
    )
    hit = candidates[candidates["rate_kind"].isin(("satisfaction", "bounded")) & percent]
    return hits(hit.index, "R115", "target", hit["target"], hit["rate_ending"])


def satisfaction_filed_as_satisfaction(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = rows.loc[
        ~rows["rejected"] & rows["level1"].isin(("产出指标", "效益指标")), ["rate_kind", "name", "level1"]
    ]
    hit = kept[kept["rate_kind"] == "satisfaction"]
    return hits(hit.index, "W218", "name", hit["name"], hit["level1"])


PERCENT_BOUND = rule(
    "percent_bound", "R115", "row_error", "rows", "rate above 100 %", check=percent_target_over_100
)
SATISFACTION_LEVEL = rule(
    "satisfaction_level",
    "W218",
    "warning",
    "warnings",
    "满意度 under 满意度指标",
    check=satisfaction_filed_as_satisfaction,
)
