"""Compact text columns: a province's or a country's rows repeat the same few values millions of times.

pandas keeps each text cell as its own string (≈ 8 bytes of offset + the UTF-8 bytes, per column); a
categorical keeps each distinct value once and a small integer per row. The validated rows of a 1M-row
year shrink from ≈ 1 GiB to ≈ 100 MiB. Categories are sorted, so sorting by a compacted column gives the
same order as sorting the text (ids are issued in that order).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


def is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype)


def compact_text_columns(frame: pd.DataFrame, max_share: float = 0.5) -> pd.DataFrame:
    """The frame with each text column whose distinct values are at most `max_share` of its rows as a
    categorical (sorted categories); other columns as they were."""
    out = frame.copy(deep=False)
    for column in frame.columns:
        series = frame[column]
        if is_categorical(series) or not pd.api.types.is_string_dtype(series.dtype) or series.empty:
            continue
        if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) != "string":
            continue  # lists, numbers, mixed objects: leave as they are
        compact = pd.Categorical(series)
        if len(compact.categories) <= max_share * len(series):
            out[column] = _without_lookup_table(compact)
    return out


def _without_lookup_table(values: pd.Categorical) -> pd.Categorical:
    """pandas keeps a hash table of a categorical's categories once built (checking they are unique), with
    a Python string per category: ≈ 110 bytes × 200,000 names per column at 1M rows. It is a cache, built
    again when a lookup needs it; most of these columns are only sorted, grouped and written."""
    cached = getattr(values.categories, "_cache", None)  # pandas' cache_readonly store
    if isinstance(cached, dict):
        cached.pop("_engine", None)
    return values


def categorical_take(distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """`distinct.take(codes)` as a categorical with sorted categories: one string per distinct value."""
    value_codes, uniques = pd.factorize(distinct, sort=True)
    compact = pd.Categorical.from_codes(value_codes[codes], categories=uniques)
    return pd.Series(_without_lookup_table(compact), index=index)


def text_or_empty(series: pd.Series) -> pd.Series:
    """Missing cells as "" — a categorical stays categorical (with "" among its categories)."""
    if is_categorical(series):
        if series.isna().any():
            if "" not in series.cat.categories:
                series = series.cat.add_categories([""])
            series = series.fillna("")
        return series
    return series.fillna("").astype(str)


def map_values(
    series: pd.Series, mapping: Mapping[object, object] | pd.Series, default: object = ""
) -> pd.Series:
    """series.map(mapping) with `default` for values not mapped, as an object Series.

    On a categorical the mapping is looked up once per category, not once per row.
    """
    if is_categorical(series):
        categories = pd.Series(series.cat.categories)
        looked_up = categories.map(mapping).astype(object)
        looked_up = looked_up.where(looked_up.notna(), default).to_numpy(dtype=object)
        codes = series.cat.codes.to_numpy()
        values = np.full(len(codes), default, dtype=object)
        present = codes >= 0
        values[present] = looked_up[codes[present]]
        return pd.Series(values, index=series.index, dtype=object)
    mapped = series.map(mapping).astype(object)
    return mapped.where(mapped.notna(), default)


def text_array(values: pd.Series | np.ndarray) -> np.ndarray:
    """A text column as an object array of str ("" for missing); a categorical is read once per category."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if is_categorical(series):
        categories = np.asarray(series.cat.categories.astype(str), dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.where(codes >= 0, categories[np.maximum(codes, 0)] if len(categories) else "", "")
        return out.astype(object)
    return series.fillna("").astype(str).to_numpy(dtype=object)


def _apply_distinct(series: pd.Series, func: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's value, func of each distinct value as an object array)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    for i, value in enumerate(uniques):
        results[i] = func(value)
    return codes, results


def map_distinct(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """func applied once per distinct value and mapped back to every row (an object Series, same index):
    libraries repeat the same names thousands of times."""
    codes, results = _apply_distinct(series, func)
    return pd.Series(results[codes], index=series.index, dtype=object)


def map_distinct_pair(
    series: pd.Series, func: Callable[[Any], tuple[Any, Any]]
) -> tuple[pd.Series, pd.Series]:
    """map_distinct for a func returning a pair: one object Series per element."""
    codes, results = _apply_distinct(series, func)
    first = np.empty(len(results), dtype=object)
    second = np.empty(len(results), dtype=object)
    for i, (a, b) in enumerate(results):
        first[i], second[i] = a, b
    return (
        pd.Series(first[codes], index=series.index, dtype=object),
        pd.Series(second[codes], index=series.index, dtype=object),
    )


def combination_codes(columns: Sequence[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's combination of the columns' values, position of each combination's first row).

    Codes number the combinations in order of first appearance; integer work, no joined strings."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        combined, _ = pd.factorize(combined * max(len(uniques), 1) + codes, use_na_sentinel=False)
    _, first = np.unique(combined, return_index=True)
    return combined, first


def join_rows(columns: Sequence[np.ndarray], sep: str) -> np.ndarray:
    """Row-wise `sep` join of object arrays of text, built once per distinct combination."""
    if not len(columns[0]):
        return np.empty(0, dtype=object)
    combined, first = combination_codes([pd.Series(c) for c in columns])
    texts = pd.Series(columns[0][first], dtype=object).astype(str)
    for column in columns[1:]:
        texts = texts + sep + pd.Series(column[first], dtype=object).astype(str)
    return texts.to_numpy(dtype=object)[combined]


@cache
def _libc_trim() -> object | None:
    """glibc's malloc_trim, or None (another C library, another system)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system.

    Parsing a workbook leaves freed blocks between the small objects that stay alive (its frames); glibc
    keeps them, and Arrow's own allocator cannot reuse them. Measured on 1,000 workbooks (100,000 rows):
    the reader's resident memory +459 MiB without this, +205 MiB when called every 50 workbooks, same time.
    """
    trim = _libc_trim()
    if trim is not None:
        trim(0)  # type: ignore[operator]


def give_back_memory() -> None:
    """Arrow's pool first (it keeps what freed Arrow tables held, and pandas/Python objects cannot reuse
    it), then the C heap's free pages (release_free_memory): what a step freed goes back to the system."""
    pa.default_memory_pool().release_unused()
    release_free_memory()


def distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_counts=True) of integers by one sort: numpy 2's np.unique hashes integers
    when asked for the values alone, 20x slower than a sort at a million and growing faster than them."""
    ordered = np.sort(values)
    if not len(ordered):
        return ordered, np.zeros(0, dtype=np.int64)
    start = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[start], np.diff(np.r_[start, len(ordered)])
