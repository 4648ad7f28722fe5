"""W213: a closed vocabulary whose unknown value only warns — the row can still be used (drop-down lists
a clerk may have typed over). canonicalize_rows resolves these columns (SOFT_VOCABS) and marks unknown
values."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.canonicalize import SOFT_VOCABS, VOCAB_OF
from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule


def unknown_values(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = ~rows["rejected"]
    found = []
    for column in SOFT_VOCABS:
        unknown = rows.loc[kept & rows[f"{column}_unknown"], f"{column}_raw"]  # one column, not the rows
        if unknown.empty:
            continue
        allowed = "、".join(ctx.ref.vocab_values[VOCAB_OF.get(column, column)])
        found.append(hits(unknown.index, "W213", column, unknown, allowed))
    return pd.concat(found, ignore_index=True) if found else no_hits()


SOFT_VOCABULARY = rule(
    "soft_vocabulary", "W213", "warning", "warnings", "drop-down values", check=unknown_values
)
