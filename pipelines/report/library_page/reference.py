"""Reference values per indicator for the page, from pipelines.store.reference_values (the library's own
reference values, shared with the pre-filled workbooks): the targets' spread by year and unit as it is,
and each department's series folded to one text per department and year, as the card's table shows it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.intake.targets import shown_target
from pipelines.report.library_page.data import short_number
from pipelines.store.reference_values import reference_values as library_reference

SERIES_COLUMNS = ["indicator_id", "dept_code", "year", "target"]


def _shown(series: pd.DataFrame) -> pd.Series:
    """A usage's target as the department wrote it (intake.targets.shown_target), with its actual value once
    evaluated; worked out once per distinct (symbol, target, unit)."""
    parts = series[["symbol", "target", "unit"]].astype(str)
    codes, distinct = pd.factorize(pd.MultiIndex.from_frame(parts))
    texts = [shown_target(symbol, target, unit) for symbol, target, unit in distinct]
    text = pd.Series(pd.Index(texts, dtype=object).take(codes), index=series.index, dtype=object)
    actual = series["actual_value"]
    done = [f"（完成 {short_number(a)}）" if a == a and a is not None else "" for a in actual.tolist()]
    return text + pd.Series(done, index=series.index, dtype=object)


def dept_series(series: pd.DataFrame) -> pd.DataFrame:
    """One text per indicator × department × year: several projects of one year joined with 、."""
    keys = ["indicator_id", "dept_code", "year"]
    if not len(series):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    u = series[keys].assign(target=_shown(series)).drop_duplicates().sort_values(keys, kind="stable")
    several = u.duplicated(keys, keep=False)  # one department, several projects, one year
    if u[keys].isna().any(axis=None):  # groupby leaves out a missing key: its own rules
        joined = u[several].groupby(keys, sort=True)["target"].agg("、".join).reset_index()
    else:
        joined = _joined(u[several], keys)
    out = pd.concat([u[~several], joined], ignore_index=True).sort_values(keys, kind="stable")
    return out[SERIES_COLUMNS]


def _joined(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """groupby(keys, sort=True)["target"].agg("、".join).reset_index() of rows already sorted by `keys`
    (no key missing): each run of equal keys one row, its targets joined in order — one slice per run,
    not a Python call per group through pandas (1M rows: ≈ 75k runs)."""
    if not len(rows):
        return rows.groupby(keys, sort=True)["target"].agg("、".join).reset_index()
    frame = rows[keys].reset_index(drop=True)
    starts = np.flatnonzero(frame.ne(frame.shift()).any(axis=1).to_numpy())
    targets = rows["target"].tolist()
    ends = [*starts[1:].tolist(), len(targets)]
    texts = ["、".join(targets[a:z]) for a, z in zip(starts.tolist(), ends, strict=True)]
    first = frame.iloc[starts].reset_index(drop=True)
    return first.assign(target=pd.Series(texts, dtype=object))


def reference_values(
    indicators: pd.DataFrame, usages: pd.DataFrame, actuals: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spread, series) for every indicator with usages; actuals as pipelines.store.reference_values."""
    values = library_reference(indicators, usages, actuals)
    return values.spread, dept_series(values.series)
