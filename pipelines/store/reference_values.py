"""Reference values per indicator (issue 13): what someone choosing next year's target looks at.

From one release's tables (the indicators and the usages of every year, read in today's shape through
pipelines.store.shape, so a 1.0 release gives "" for the standards' source):

- spread: for quantitative usages (a numeric target_value), the targets departments set, per
  indicator × year × unit: count (targets), departments (distinct), min, median, max. Units are never
  mixed: 万元 and 元 are two rows. The median of an even count is the mean of the two middle targets.
- series: each department's own targets, one row per usage (a department using an indicator in two
  projects has two rows that year), with the target as written and, once self-evaluation exists
  (issue 14, library/evaluations/), the actual value of that usage (actual_value; null until then).
- standards: 国家标准, 行业标准 and their source (指标标准来源) from the indicator row, for indicators
  that have any of them.

API (plain functions over DataFrames; every output sorted, so the same release gives the same frames):
    reference_values(indicators, usages, actuals=None) -> ReferenceValues      the three frames
    read_reference_values(library_dir, actuals=None) -> ReferenceValues        from a library/ folder
    target_spread(usages) -> DataFrame[SPREAD_COLUMNS]
    department_series(usages, actuals=None) -> DataFrame[SERIES_COLUMNS]
    standards(indicators) -> DataFrame[STANDARD_COLUMNS]
    ReferenceValues.of(indicator_id) -> IndicatorReference                     one indicator, typed
    ReferenceValues.by_indicator() -> dict[str, IndicatorReference]            all of them in one pass
Merged indicators keep their own usages: the figures of an indicator are those of its own id only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.store.shape import read_release_table

SPREAD_COLUMNS = ("indicator_id", "year", "unit", "count", "departments", "min", "median", "max")
SERIES_COLUMNS = (
    "indicator_id",
    "dept_code",
    "dept_name",
    "year",
    "project",
    "symbol",
    "target",
    "target_value",
    "unit",
    "actual_value",
)
_SPREAD_TYPES = {
    c: (
        "object"
        if c in ("indicator_id", "unit")
        else "int64"
        if c in ("year", "count", "departments")
        else "float64"
    )
    for c in SPREAD_COLUMNS
}
STANDARD_COLUMNS = ("indicator_id", "national_standard", "industry_standard", "standard_source")
# The shape issue 14's evaluations hand in: the actual value of one usage (its key columns). The rows of
# schemas.evaluation.UsageEvaluationTable (library/evaluations/<year>/usages) fit as they are.
ACTUAL_KEYS = ("indicator_id", "year", "dept_code", "project")
ACTUAL_COLUMNS = (*ACTUAL_KEYS, "actual_value")


@dataclass(frozen=True)
class YearSpread:
    """The numeric targets departments set for one indicator in one year, in one unit."""

    year: int
    unit: str
    count: int
    departments: int
    min: float
    median: float
    max: float


@dataclass(frozen=True)
class SeriesPoint:
    """One usage's target (and, once self-evaluation exists, its actual value)."""

    year: int
    project: str
    symbol: str
    target: str  # as written
    target_value: float | None
    unit: str
    actual_value: float | None = None


@dataclass(frozen=True)
class DepartmentSeries:
    """One department's targets for one indicator, oldest year first."""

    dept_code: str
    dept_name: str  # the name of its latest usage
    points: tuple[SeriesPoint, ...]

    def latest(self) -> tuple[SeriesPoint, ...]:
        """The points of the department's last year using the indicator (its 'last targets')."""
        last = max(p.year for p in self.points)
        return tuple(p for p in self.points if p.year == last)


@dataclass(frozen=True)
class Standards:
    national_standard: str = ""
    industry_standard: str = ""
    standard_source: str = ""

    def __bool__(self) -> bool:
        return bool(self.national_standard or self.industry_standard or self.standard_source)


@dataclass(frozen=True)
class IndicatorReference:
    """Everything reference about one indicator; empty parts when it has no numeric target or standard."""

    indicator_id: str
    spread: tuple[YearSpread, ...] = ()
    departments: tuple[DepartmentSeries, ...] = ()
    standards: Standards = field(default_factory=Standards)

    @property
    def quantitative(self) -> bool:
        return bool(self.spread)


@dataclass(frozen=True)
class ReferenceValues:
    """The three frames of one release (columns SPREAD_COLUMNS, SERIES_COLUMNS, STANDARD_COLUMNS)."""

    spread: pd.DataFrame
    series: pd.DataFrame
    standards: pd.DataFrame

    def of(self, indicator_id: str) -> IndicatorReference:
        """One indicator's reference values (empty parts for an id with none)."""
        mine = [f[f["indicator_id"] == indicator_id] for f in (self.spread, self.series, self.standards)]
        return _references(*mine).get(indicator_id, IndicatorReference(indicator_id))

    def by_indicator(self) -> dict[str, IndicatorReference]:
        """Every indicator with any reference value, by id, in one pass over plain lists (some seconds
        at 30,000 indicators × 3 years: bulk writers such as a page's data are cheaper off the frames)."""
        return _references(self.spread, self.series, self.standards)


def _number(value: object) -> float | None:
    return None if value is None or value != value else float(value)  # type: ignore[arg-type]


def _spreads(frame: pd.DataFrame) -> dict[str, list[YearSpread]]:
    out: dict[str, list[YearSpread]] = {}
    for iid, y, u, c, d, lo, me, hi in zip(*(frame[c].tolist() for c in SPREAD_COLUMNS), strict=True):
        out.setdefault(iid, []).append(
            YearSpread(int(y), str(u), int(c), int(d), float(lo), float(me), float(hi))
        )
    return out


def _series(frame: pd.DataFrame) -> dict[str, tuple[DepartmentSeries, ...]]:
    """Per indicator, per department (by code), the points in the frame's order (year first)."""
    found: dict[str, dict[str, list[tuple[str, SeriesPoint]]]] = {}
    for iid, code, name, y, p, s, t, v, u, a in zip(
        *(frame[c].tolist() for c in SERIES_COLUMNS), strict=True
    ):
        point = SeriesPoint(int(y), str(p), str(s), str(t), _number(v), str(u), _number(a))
        found.setdefault(iid, {}).setdefault(str(code), []).append((str(name), point))
    return {
        iid: tuple(
            DepartmentSeries(code, rows[-1][0], tuple(p for _n, p in rows))
            for code, rows in sorted(depts.items())
        )
        for iid, depts in found.items()
    }


def _references(
    spread: pd.DataFrame, series: pd.DataFrame, std: pd.DataFrame
) -> dict[str, IndicatorReference]:
    spreads, depts = _spreads(spread), _series(series)
    standard = {
        iid: Standards(str(n), str(i), str(s))
        for iid, n, i, s in zip(*(std[c].tolist() for c in STANDARD_COLUMNS), strict=True)
    }
    return {
        iid: IndicatorReference(
            iid, tuple(spreads.get(iid, ())), depts.get(iid, ()), standard.get(iid, Standards())
        )
        for iid in sorted(set(spreads) | set(depts) | set(standard))
    }


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column, "" when the frame has none (a table read before its column existed)."""
    if column in frame.columns:
        return frame[column].fillna("").astype(str)
    return pd.Series("", index=frame.index, dtype=object)


def target_spread(usages: pd.DataFrame) -> pd.DataFrame:
    """Count, distinct departments, min, median and max of the numeric targets per indicator × year × unit."""
    numeric = usages.loc[usages["target_value"].notna(), ["indicator_id", "year", "unit", "dept_code"]]
    numeric = numeric.assign(value=usages.loc[numeric.index, "target_value"].astype("float64"))
    if numeric.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _SPREAD_TYPES.items()})
    grouped = numeric.groupby(["indicator_id", "year", "unit"], sort=True)
    out = grouped["value"].agg(["count", "min", "median", "max"])
    out["departments"] = grouped["dept_code"].nunique()
    out = out.reset_index()
    out["year"] = out["year"].astype("int64")
    out[["count", "departments"]] = out[["count", "departments"]].astype("int64")
    out[["min", "median", "max"]] = out[["min", "median", "max"]].astype("float64")
    return out.loc[:, list(SPREAD_COLUMNS)].reset_index(drop=True)


def department_series(usages: pd.DataFrame, actuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each department's targets per indicator and year, one row per usage, with the usage's actual value
    when `actuals` (columns ACTUAL_COLUMNS, one row per usage) is given; actual_value is null otherwise."""
    frame = usages.loc[:, [c for c in SERIES_COLUMNS if c != "actual_value"]].copy()
    frame["year"] = frame["year"].astype("int64")
    frame["target_value"] = frame["target_value"].astype("float64")
    if actuals is not None and len(actuals):
        keys = list(ACTUAL_KEYS)
        found = actuals.loc[:, list(ACTUAL_COLUMNS)].drop_duplicates(keys, keep="last")
        found = found.assign(year=found["year"].astype("int64"))
        frame = frame.merge(found, on=keys, how="left", validate="many_to_one")
        frame["actual_value"] = frame["actual_value"].astype("float64")
    else:
        frame["actual_value"] = np.nan
    order = ["indicator_id", "dept_code", "year", "project", "unit", "target", "symbol"]
    return frame.sort_values(order, kind="mergesort").loc[:, list(SERIES_COLUMNS)].reset_index(drop=True)


def standards(indicators: pd.DataFrame) -> pd.DataFrame:
    """国家标准, 行业标准 and their source of every indicator that has any of them, by id."""
    frame = pd.DataFrame({c: _text(indicators, c) for c in STANDARD_COLUMNS})
    given = (frame.loc[:, list(STANDARD_COLUMNS[1:])] != "").any(axis=1)
    return frame[given].sort_values("indicator_id", kind="mergesort").reset_index(drop=True)


def reference_values(
    indicators: pd.DataFrame, usages: pd.DataFrame, actuals: pd.DataFrame | None = None
) -> ReferenceValues:
    """The reference values of one release: its indicators and the usages of all its years."""
    return ReferenceValues(target_spread(usages), department_series(usages, actuals), standards(indicators))


def read_reference_values(library_dir: Path, actuals: pd.DataFrame | None = None) -> ReferenceValues:
    """The reference values of the release in library_dir, whatever 1.x version wrote it."""
    return reference_values(
        read_release_table(library_dir, "indicators"), read_release_table(library_dir, "usages"), actuals
    )
