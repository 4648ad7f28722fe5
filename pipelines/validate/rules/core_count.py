"""W206: a department's core indicators over its limit — 6 when its duties are 单一, 10 when 复杂 (also when
unstated). core_limit is the one statement of that limit (the review report shows it too)."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule
from schemas.vocab import Reference, reference


def core_limit(complexity: str, ref: Reference | None = None) -> int:
    """How many core indicators a department of this 职责复杂程度 may file (schemas/reference/limits.csv)."""
    limits = (ref or reference()).limits
    return limits["core_max_single"] if complexity == "单一" else limits["core_max_complex"]


def core_count_limit(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = (rows["sheet_kind"] == "core") & ~rows["rejected"] & (rows["include"] != "否")
    core = rows.loc[kept, ["source_file", "complexity"]]
    if core.empty:
        return no_hits()
    position = core.groupby("source_file", sort=False).cumcount()
    size = core.groupby("source_file", sort=False)["source_file"].transform("size")
    limit = core["complexity"].map(lambda c: core_limit(c, ctx.ref))
    first = core[position == limit]  # point at the first row over the limit
    return hits(first.index, "W206", "name", size[first.index].astype(str), limit[first.index].astype(str))


CORE_COUNT = rule(
    "core_count", "W206", "warning", "warnings", "core indicators ≤ 6/10", check=core_count_limit
)
