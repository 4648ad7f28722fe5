"""What an indicator's card shows beyond its list row.

The card document, aligned with the list's rows: descriptive fields and standards. The year documents,
one per year: that year's targets' spread by unit, each department's target, the changes of the year's
releases — per indicator id, with the year's own unit and department labels, so a past year's document
is byte for byte the same in every later page (its usages and releases never change) and git stores a
release's page as a delta against the last one: only the current state and the new year are new bytes.
A row or id without data holds 0 there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from pipelines.common.xlsx_numbering import factorize_texts
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
    column = frame[name]
    if pd.api.types.is_integer_dtype(column.dtype):  # int64, or Int64 with missing years: whole columns
        return column.fillna(0).astype("int64").tolist() if column.hasnans else column.tolist()
    return [0 if pd.isna(v) else int(v) for v in column]


def _numbers(column: pd.Series) -> list[float | int]:
    """Figures as short as they read (95.0 → 95, six decimals at most), vectorised."""
    values = column.astype("float64").round(6)
    whole = (values == values.round(0)) & (values.abs() < 1e15)
    return [int(v) if w else float(v) for v, w in zip(values.tolist(), whole.tolist(), strict=True)]


def _by_id(rows: dict[str, list[object]], ids: list[str]) -> list[object]:
    return [rows.get(i) or 0 for i in ids]


_TAIL = re.compile(r"\d{1,15}$")  # at most 15 digits: the page counts in doubles


def id_runs(ids: list[str]) -> list[object]:
    """Sorted ids as runs of consecutive numbers: prefix, digits, first number, count, … (an id
    without a trailing number: itself, 0, 0, 1). A year's ids are most of the library's, mostly in
    sequence: ≈ 5 KB deflated instead of 55 at 23,000 ids."""
    out: list[object] = []
    for iid in ids:
        m = _TAIL.search(iid)
        prefix, width, number = (iid[: m.start()], len(m.group()), int(m.group())) if m else (iid, 0, 0)
        if width and out and out[-4:-1] == [prefix, width, number - out[-1]]:  # type: ignore[operator]
            out[-1] += 1  # type: ignore[operator]
        else:
            out += [prefix, width, number, 1]
    return out


def year_document(
    year: int,
    spread: pd.DataFrame,
    series: pd.DataFrame,
    events: pd.DataFrame,
    known: set[str],
    before: dict[tuple[str, str], str] | None = None,
) -> dict[str, object]:
    """One year of every indicator in `known` (frames already cut to the year): per id
    sp [[unit, targets, departments, min, median, max], …], se [[department, target], …] and
    ev [[tag, type, reason, detail], …] in release order; unit and department as indexes into the
    document's own labels; ids as id_runs. A department's target written as the year before (`before`: the previous
    document's (id, department) → target) is [department] alone: most targets repeat, and a year's
    document is new bytes in the release that adds it (deflated, git cannot delta it)."""
    units: dict[str, int] = {}
    cols = (
        [units.setdefault(str(u), len(units)) for u in spread["unit"].tolist()],
        spread["count"].astype("int64").tolist(),
        spread["departments"].astype("int64").tolist(),
        *(_numbers(spread[c]) for c in ("min", "median", "max")),
    )
    sp = _grouped(spread["indicator_id"].astype(str).tolist(), list(map(list, zip(*cols, strict=True))))
    iids, dept_codes, targets = (
        series[c].astype(str).tolist() for c in ("indicator_id", "dept_code", "target")
    )
    codes, distinct = _factorized(dept_codes)  # numbered as first met
    depts = {d: k for k, d in enumerate(distinct)}
    cells: list[list[object]] = list(map(list, zip(codes.tolist(), targets, strict=True)))
    if before:  # a target as the year before: the department alone (no year before: none is)
        for cell, i, d in zip(cells, iids, dept_codes, strict=True):
            if before.get((i, d)) == cell[1]:
                del cell[1]
    se = _grouped(iids, cells)
    del iids, dept_codes, targets, cells  # 1M rows: ≈ 750k texts each, let go before the events are read
    event_cols = [events[c].astype(str).tolist() for c in ("indicator_id", "tag", "type", "reason", "detail")]
    ev = _grouped(event_cols[0], list(map(list, zip(*event_cols[1:], strict=True))))
    # in first-met order, then sorted: the spread and the series come sorted by id, so the sort finds runs
    # (1M rows' ≈ 207k ids: 0.19 -> 0.07 s against sets sorted from scratch)
    ids = sorted(i for i in dict.fromkeys(chain(sp, se, ev)) if i in known)
    return {
        "year": year,
        "ids": id_runs(ids),
        "unit": list(units),
        "dept": list(depts),
        "sp": _by_id(sp, ids),
        "se": _by_id(se, ids),
        "ev": _by_id(ev, ids),
    }


def _grouped(ids: list[str], rows: list[Any]) -> dict[str, list[Any]]:
    """Each id's rows in their order (a dict of lists appended row by row, made by slicing runs of a
    stable order by id: the year's ≈ 850k targets at 1M rows)."""
    if not ids:
        return {}
    codes, names = _factorized(ids)
    order = np.argsort(codes, kind="stable")
    ranked = codes[order]
    starts = [0, *(np.flatnonzero(ranked[1:] != ranked[:-1]) + 1).tolist()]
    if (order[1:] < order[:-1]).any():  # an id's rows apart: taken in the stable order first
        rows = [rows[i] for i in order.tolist()]
    ends = [*starts[1:], len(ids)]
    return {names[k]: rows[a:z] for k, (a, z) in enumerate(zip(starts, ends, strict=True))}


def _factorized(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes into the distinct texts, numbered in order of first appearance (Python's hash and equality,
    as a dict tells them apart: xlsx_numbering.factorize_texts)."""
    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    codes, distinct = factorize_texts(values)
    return codes, list(distinct)


def year_documents(
    ids: Sequence[str],
    spread: pd.DataFrame,
    series: pd.DataFrame,
    events: pd.DataFrame,
    labels: dict[str, list],
) -> list[dict[str, object]]:
    """One document per year with any target or change, oldest first. Units and departments met only
    here are appended to the list document's labels (the page maps a year's labels onto them)."""
    known = set(ids)
    frames = (spread, series, events)
    years = sorted({int(y) for f in frames for y in f["year"].dropna().tolist()})
    docs = []
    before: dict[tuple[str, str], str] = {}
    for y in years:
        sp, se, ev = (_of_year(f, y) for f in frames)
        docs.append(year_document(y, sp, se, ev, known, before))
        if y == years[-1]:  # no year after it to read it (1M rows' one year: ≈ 750k keys, 0.5 s)
            break
        keys = zip(se["indicator_id"].astype(str).tolist(), se["dept_code"].astype(str).tolist(), strict=True)
        before = dict(zip(keys, se["target"].astype(str).tolist(), strict=True))
    units = labels["unit"]
    units += [u for u in dict.fromkeys(u for d in docs for u in d["unit"]) if u not in set(units)]  # type: ignore[attr-defined]
    listed = {d[0] for d in labels["dept"]}
    new = dict.fromkeys(c for d in docs for c in d["dept"] if c not in listed)  # type: ignore[attr-defined]
    labels["dept"] += [[code, ""] for code in new]
    return docs


def _of_year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of one year; the frame itself when every row is of that year (a library's first year:
    1M rows' ≈ 750k targets not copied)."""
    mask = frame["year"].astype("int64") == year
    return frame if bool(mask.all()) else frame[mask]


def card_document(ind: pd.DataFrame) -> dict[str, object]:
    """Card data for the rows of `ind` (already in page order): descriptive fields and years."""
    doc: dict[str, object] = {k: text(ind, col) for k, col in CARD_FIELDS.items()}
    return doc | {
        "fy": _years(ind, "first_year"),
        "ly": _years(ind, "last_year"),
        "ry": _years(ind, "retired_year"),
        "lcy": _years(ind, "last_change_year"),
    }
