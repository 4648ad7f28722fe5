"""Reference values per indicator for the page: the targets' spread by year and each department's series.

pipelines.store.reference_values (the library's own reference values) computes these once it exists;
until then, and for a library without it, the same figures are computed here from the usages.
"""

from __future__ import annotations

import pandas as pd

SPREAD_COLUMNS = ["indicator_id", "year", "unit", "count", "min", "median", "max"]
SERIES_COLUMNS = ["indicator_id", "dept_code", "year", "target"]


def target_spread(usages: pd.DataFrame) -> pd.DataFrame:
    """Quantitative targets (target_value set) by indicator, year and unit: count, min, median, max."""
    if not len(usages):
        return pd.DataFrame(columns=SPREAD_COLUMNS)
    q = usages[usages["target_value"].notna()]
    if not len(q):
        return pd.DataFrame(columns=SPREAD_COLUMNS)
    g = q.groupby(["indicator_id", "year", "unit"], sort=True)["target_value"]
    out = g.agg(["count", "min", "median", "max"]).reset_index()
    return out[SPREAD_COLUMNS]


def dept_series(usages: pd.DataFrame) -> pd.DataFrame:
    """Each department's targets for an indicator, one row per year (several projects of one year are
    joined with 、), as written: symbol, target, unit."""
    if not len(usages):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    keys = ["indicator_id", "dept_code", "year"]
    shown = usages["symbol"].astype(str) + usages["target"].astype(str) + usages["unit"].astype(str)
    u = usages[keys].assign(target=shown).drop_duplicates().sort_values(keys, kind="stable")
    several = u.duplicated(keys, keep=False)  # rare: one department, several projects, one year
    joined = u[several].groupby(keys, sort=True)["target"].agg("、".join).reset_index()
    out = pd.concat([u[~several], joined], ignore_index=True).sort_values(keys, kind="stable")
    return out[SERIES_COLUMNS]


def reference_values(usages: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spread, series) for every indicator with usages."""
    return target_spread(usages), dept_series(usages)
