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
    codes, triples = _distinct_triples(series[["symbol", "target", "unit"]].astype(str))
    texts = np.asarray([shown_target(*triple) for triple in triples], dtype=object)
    actual = series["actual_value"].tolist()
    shown = [
        t + f"（完成 {short_number(a)}）" if a == a and a is not None else t
        for t, a in zip(texts[codes].tolist(), actual, strict=True)
    ]
    return pd.Series(shown, index=series.index, dtype=object)


def _distinct_triples(parts: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each row's code into the distinct rows of `parts` (texts): each column factorized and the codes
    combined into one number, not a tuple per row (a MultiIndex's values: 1M rows' ≈ 850k usages)."""
    coded = [pd.factorize(parts[c]) for c in parts.columns]
    sizes = [max(len(uniques), 1) for _, uniques in coded]
    if float(np.prod(sizes, dtype=np.float64)) >= 2**62:  # the combined number would overflow
        codes, distinct = pd.factorize(pd.MultiIndex.from_frame(parts))
        return np.asarray(codes), list(distinct)
    key = np.zeros(len(parts), dtype=np.int64)
    for (column, _), size in zip(coded, sizes, strict=True):
        key = key * size + column
    firsts, codes = np.unique(key, return_index=True, return_inverse=True)[1:]
    columns = [np.asarray(uniques, dtype=object)[column[firsts]].tolist() for column, uniques in coded]
    return np.asarray(codes).reshape(-1), list(zip(*columns, strict=True))


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
