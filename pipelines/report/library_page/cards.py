"""The card document: what an indicator's card shows beyond its list row, aligned with the list's rows.

Per row: descriptive fields and standards, the targets' spread by year and unit, each department's
target series and the change history. A row without any of the last three holds 0 there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import pandas as pd

from pipelines.report.library_page.data import text

CARD_FIELDS = {
    "formula": "formula",
    "nature": "nature",
    "fcode": "function_code",
    "nat": "national_standard",
    "indstd": "industry_standard",
    "ssrc": "standard_source",
    "isrc": "indicator_source",
    "rr": "retire_reason",
    "into": "merged_into",
    "lct": "last_change_type",
    "lcr": "last_change_reason",
}


def _years(frame: pd.DataFrame, name: str) -> list[int]:
    if name not in frame.columns:
        return [0] * len(frame)
    return [0 if pd.isna(v) else int(v) for v in frame[name]]


def _aligned(ids: Sequence[str], by_id: dict[str, list[object]]) -> list[object]:
    return [by_id.get(i) or 0 for i in ids]


def _numbers(column: pd.Series) -> list[float | int]:
    """Figures as short as they read (95.0 → 95, six decimals at most), vectorised."""
    values = column.astype("float64").round(6)
    whole = (values == values.round(0)) & (values.abs() < 1e15)
    return [int(v) if w else float(v) for v, w in zip(values.tolist(), whole.tolist(), strict=True)]


def spread_rows(spread: pd.DataFrame, units: dict[str, int], ids: Sequence[str]) -> list[object]:
    """[[year, unit index, targets, departments, min, median, max], …] per row, oldest year first."""
    by_id: dict[str, list[object]] = defaultdict(list)
    unit_idx = [units.setdefault(str(u), len(units)) for u in spread["unit"].tolist()]
    cols = (
        spread["indicator_id"].tolist(),
        spread["year"].astype("int64").tolist(),
        unit_idx,
        spread["count"].astype("int64").tolist(),
        spread["departments"].astype("int64").tolist(),
        *(_numbers(spread[c]) for c in ("min", "median", "max")),
    )
    for iid, *rest in zip(*cols, strict=True):
        by_id[iid].append(rest)
    return _aligned(ids, by_id)


def series_rows(series: pd.DataFrame, depts: dict[str, int], ids: Sequence[str]) -> list[object]:
    """[[dept index, year, target, year, target, …], …] per row: each department's own targets, by
    year (series is sorted by indicator, department and year: one pass)."""
    by_id: dict[str, list[object]] = defaultdict(list)
    last: tuple[str, str] = ("", "")
    current: list[object] = []
    cols = (series[c].tolist() for c in ("indicator_id", "dept_code", "year", "target"))
    for iid, dept, year, target in zip(*cols, strict=True):
        if (iid, dept) != last:
            last = (iid, dept)
            current = [depts.setdefault(str(dept), len(depts))]
            by_id[iid].append(current)
        current += [int(year), str(target)]
    return _aligned(ids, by_id)


def event_rows(events: pd.DataFrame, ids: Sequence[str]) -> list[object]:
    """[[year, tag, type, reason, detail], …] per row, in release order."""
    by_id: dict[str, list[object]] = defaultdict(list)
    cols = (events[c].tolist() for c in ("indicator_id", "year", "tag", "type", "reason", "detail"))
    for iid, year, tag, kind, reason, detail in zip(*cols, strict=True):
        by_id[str(iid)].append([int(year), str(tag), str(kind), str(reason), str(detail)])
    return _aligned(ids, by_id)


def card_document(
    ind: pd.DataFrame,
    spread: pd.DataFrame,
    series: pd.DataFrame,
    events: pd.DataFrame,
    labels: dict[str, list],
) -> dict[str, object]:
    """Card data for the rows of `ind` (already in page order). Units and departments met only here
    are appended to the list document's labels, whose indexes the card refers to."""
    ids = text(ind, "indicator_id")
    units = {u: i for i, u in enumerate(labels["unit"])}
    depts = {d[0]: i for i, d in enumerate(labels["dept"])}
    doc: dict[str, object] = {k: text(ind, col) for k, col in CARD_FIELDS.items()}
    doc |= {
        "fy": _years(ind, "first_year"),
        "ly": _years(ind, "last_year"),
        "ry": _years(ind, "retired_year"),
        "lcy": _years(ind, "last_change_year"),
        "sp": spread_rows(spread, units, ids),
        "se": series_rows(series, depts, ids),
        "ev": event_rows(events, ids),
    }
    labels["unit"][:] = list(units)
    known = {d[0] for d in labels["dept"]}
    labels["dept"] += [[code, ""] for code in depts if code not in known]
    return doc
