"""W210: a name that looks phase-bound (a year, 季度, 阶段) not marked 是否阶段性=是."""

from __future__ import annotations

import re

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import RuleContext, rule

PHASE_NAME = re.compile(
    r"(?:19|20)\d{2}\s*年|[一二三四1-4]\s*季度|第[一二三四五六七八九十\d]+\s*(?:阶段|期)|阶段性|上半年|下半年"
)


def phase_name_marked(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    names = rows.loc[~rows["rejected"] & (rows["phased"] != "是"), "name"]
    hit = names[names.str.contains(PHASE_NAME, na=False)]
    return hits(hit.index, "W210", "name", hit)


PHASE_NAME_MARKED = rule(
    "phase_name", "W210", "warning", "warnings", "phase-like name marked", check=phase_name_marked
)
