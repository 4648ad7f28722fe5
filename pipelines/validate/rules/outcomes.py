"""Rows kept out of the library though valid (CONTRACT §3): X301 纳入指标库=否 (noncore), X302 a phase-bound
indicator of a project that is not one-off (excluded). A rejected row is never also one of these."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import RuleContext, rule


def _noncore(rows: pd.DataFrame) -> pd.Series:
    return ~rows["rejected"] & (rows["include"] == "否")


def noncore(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    return hits(rows.index[_noncore(rows)], "X301", "include")


def phase_bound(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    phase = (
        ~rows["rejected"] & ~_noncore(rows) & (rows["phased"] == "是") & (rows["project_nature"] != "一次性")
    )
    return hits(rows.index[phase], "X302", "phased")


NONCORE = rule("noncore", "X301", "excluded", "outcome", "纳入指标库=否", check=noncore, outcome="noncore")
PHASE = rule("phase", "X302", "excluded", "outcome", "phase-bound row", check=phase_bound, outcome="excluded")
