"""Reference values per indicator for the page, from pipelines.store.reference_values (the library's own
reference values, shared with the pre-filled workbooks): the targets' spread by year and unit as it is,
and each department's series folded to one text per department and year, as the card's table shows it.
"""

from __future__ import annotations

import re

import pandas as pd

from pipelines.report.library_page.data import short_number
from pipelines.store.reference_values import reference_values as library_reference

SERIES_COLUMNS = ["indicator_id", "dept_code", "year", "target"]
COMPARISONS = ("≥", "≤", "=", ">", "<", "＞", "＜")  # symbols that read before a number
NUMBER = re.compile(r"^\s*[+\-]?[0-9][0-9.,]*\s*%?\s*$")  # a bare number (an optional %)


def _shown(series: pd.DataFrame) -> pd.Series:
    """A usage's target as the department wrote it, with its actual value once evaluated. The target cell is
    kept as written (≥98%, 不低于 90%, 98%以上, 明显提高), so the parsed symbol is put before it only when it
    is a bare number (its unit apart), and the unit after it only when it does not already hold it (not
    ≥≥98%%). Worked out once per distinct (symbol, target, unit)."""
    parts = series[["symbol", "target", "unit"]].astype(str)
    codes, distinct = pd.factorize(pd.MultiIndex.from_frame(parts))
    texts = [_written(symbol, target, unit) for symbol, target, unit in distinct]
    text = pd.Series(pd.Index(texts, dtype=object).take(codes), index=series.index, dtype=object)
    actual = series["actual_value"]
    done = [f"（完成 {short_number(a)}）" if a == a and a is not None else "" for a in actual.tolist()]
    return text + pd.Series(done, index=series.index, dtype=object)


def _written(symbol: str, target: str, unit: str) -> str:
    bare = symbol in COMPARISONS and NUMBER.match(target.removesuffix(unit) if unit else target) is not None
    return (symbol if bare else "") + target + (unit if unit and unit not in target else "")


def dept_series(series: pd.DataFrame) -> pd.DataFrame:
    """One text per indicator × department × year: several projects of one year joined with 、."""
    keys = ["indicator_id", "dept_code", "year"]
    if not len(series):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    u = series[keys].assign(target=_shown(series)).drop_duplicates().sort_values(keys, kind="stable")
    several = u.duplicated(keys, keep=False)  # rare: one department, several projects, one year
    joined = u[several].groupby(keys, sort=True)["target"].agg("、".join).reset_index()
    out = pd.concat([u[~several], joined], ignore_index=True).sort_values(keys, kind="stable")
    return out[SERIES_COLUMNS]


def reference_values(
    indicators: pd.DataFrame, usages: pd.DataFrame, actuals: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(spread, series) for every indicator with usages; actuals as pipelines.store.reference_values."""
    values = library_reference(indicators, usages, actuals)
    return values.spread, dept_series(values.series)
