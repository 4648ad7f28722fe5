"""W208: no 数据来源 (the evaluation needs to know where the actual value will come from)."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import hits
from pipelines.validate.rules.base import RuleContext, rule


def data_source_present(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = ~rows["rejected"] & (rows["data_source"] == "")
    return hits(rows.index[kept.to_numpy()], "W208", "data_source")


DATA_SOURCE = rule("data_source", "W208", "warning", "warnings", "数据来源 given", check=data_source_present)
