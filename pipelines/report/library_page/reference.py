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
from pipelines.store.reference_values import target_spread

SERIES_COLUMNS = ["indicator_id", "dept_code", "year", "target"]


def _shown(series: pd.DataFrame) -> pd.Series:
    """A usage's target as the department wrote it (intake.targets.shown_target), with its actual value once
    evaluated; worked out once per distinct (symbol, target, unit)."""
    codes, triples = _distinct_triples(series[["symbol", "target", "unit"]].astype(str))
    texts = np.asarray([shown_target(*triple) for triple in triples], dtype=object)
    actual_values = series["actual_value"]
    if actual_values.dtype == np.float64 and not actual_values.notna().any():  # none evaluated yet
        return pd.Series(texts[codes], index=series.index, dtype=object)
    actual = actual_values.tolist()
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
    if series[keys].isna().any(axis=None):  # groupby leaves out a missing key: its own rules
        u = series[keys].assign(target=_shown(series)).drop_duplicates().sort_values(keys, kind="stable")
        several = u.duplicated(keys, keep=False)
        joined = u[several].groupby(keys, sort=True)["target"].agg("、".join).reset_index()
        out = pd.concat([u[~several], joined], ignore_index=True).sort_values(keys, kind="stable")
        return out[SERIES_COLUMNS]
    return _collapsed(series, keys)


def _collapsed(series: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """dept_series where no key is missing: the rows in a stable order by `keys` (each key ranked by
    pd.factorize(sort=True), as sort_values ranks it), a (keys, target) seen before dropped, each run of
    equal keys one row, its targets joined in order — integer codes, not the frame sorted, deduplicated
    and grouped (1M rows' ≈ 750k usages: 0.64 -> 0.2 s CPU)."""
    coded = [pd.factorize(series[name], sort=True) for name in keys]
    shown = _shown(series)
    targets, distinct = pd.factorize(shown)
    sizes = [max(len(uniques), 1) for _, uniques in coded]
    if float(np.prod(sizes, dtype=np.float64)) * max(len(distinct), 1) >= 2**62:  # would overflow
        return _frame_way(series, keys, shown)
    key = np.zeros(len(series), dtype=np.int64)
    for (codes, _), size in zip(coded, sizes, strict=True):
        key = key * size + codes
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    kept = order[~pd.Series(ranked * max(len(distinct), 1) + targets[order]).duplicated().to_numpy()]
    ranked = key[kept]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    texts = shown.to_numpy()[kept].tolist()
    ends = [*starts[1:].tolist(), len(texts)]
    joined = [
        texts[a] if z - a == 1 else "、".join(texts[a:z]) for a, z in zip(starts.tolist(), ends, strict=True)
    ]
    single = np.diff(np.r_[starts, len(texts)]) == 1
    # the index the frame way leaves: the single rows numbered first, then the joined ones
    index = np.where(single, np.cumsum(single) - 1, int(single.sum()) + np.cumsum(~single) - 1)
    first = series[keys].take(kept[starts]).set_axis(pd.Index(index, dtype="int64"))
    return first.assign(target=pd.Series(joined, index=first.index, dtype=object))[SERIES_COLUMNS]


def _frame_way(series: pd.DataFrame, keys: list[str], shown: pd.Series) -> pd.DataFrame:
    u = series[keys].assign(target=shown).drop_duplicates().sort_values(keys, kind="stable")
    several = u.duplicated(keys, keep=False)
    out = pd.concat([u[~several], _joined(u[several], keys)], ignore_index=True).sort_values(
        keys, kind="stable"
    )
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
    if actuals is None or not len(actuals):
        direct = _direct_series(usages)
        if direct is not None:
            return target_spread(usages), direct
    values = library_reference(indicators, usages, actuals)
    return values.spread, dept_series(values.series)


# department_series' sort (pipelines.store.reference_values), by which a key's targets are joined
_SORT = ("indicator_id", "dept_code", "year", "project", "unit", "target", "symbol")


def _direct_series(usages: pd.DataFrame) -> pd.DataFrame | None:
    """dept_series(department_series(usages)) where no actual is given and none of the sort's columns
    holds a missing value (None otherwise: the frame way), from the usages' codes: the rows' order is
    np.lexsort of each column's sorted codes (as sort_values ranks them), so the sorted frame is never
    made (1M rows' 885k usages: ≈ 0.7 s of copy, sort and take), and the three keys' codes are those of
    _collapsed. In that order the keys never decrease, so _collapsed's stable order is the identity."""
    if not len(usages):
        return None
    columns = [usages[c].astype("int64") if c == "year" else usages[c] for c in _SORT]
    coded = [pd.factorize(column, sort=True) for column in columns]
    if any((np.asarray(codes) < 0).any() for codes, _ in coded):
        return None
    order = np.lexsort([np.asarray(codes) for codes, _ in reversed(coded)])
    keys = coded[:3]
    triples, distinct_triples = _distinct_triples(usages[["symbol", "target", "unit"]].astype(str))
    texts = np.asarray([shown_target(*triple) for triple in distinct_triples], dtype=object)
    shown = texts[triples][order]
    targets, distinct = pd.factorize(shown)
    sizes = [max(len(uniques), 1) for _, uniques in keys]
    if float(np.prod(sizes, dtype=np.float64)) * max(len(distinct), 1) >= 2**62:  # would overflow
        return None
    key = np.zeros(len(usages), dtype=np.int64)
    for (codes, _), size in zip(keys, sizes, strict=True):
        key = key * size + np.asarray(codes)[order]
    kept = np.flatnonzero(~pd.Series(key * max(len(distinct), 1) + targets).duplicated().to_numpy())
    ranked = key[kept]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    kept_texts = shown[kept].tolist()
    ends = [*starts[1:].tolist(), len(kept_texts)]
    joined = [
        kept_texts[a] if z - a == 1 else "、".join(kept_texts[a:z])
        for a, z in zip(starts.tolist(), ends, strict=True)
    ]
    single = np.diff(np.r_[starts, len(kept_texts)]) == 1
    index = np.where(single, np.cumsum(single) - 1, int(single.sum()) + np.cumsum(~single) - 1)
    first = usages[list(_SORT[:3])].take(order[kept[starts]])
    first = first.assign(year=first["year"].astype("int64")).set_axis(pd.Index(index, dtype="int64"))
    return first.assign(target=pd.Series(joined, index=first.index, dtype=object))[SERIES_COLUMNS]
