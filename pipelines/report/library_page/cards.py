"""What an indicator's card shows beyond its list row.

The card document, aligned with the list's rows: descriptive fields and standards. The year documents,
one per year: that year's targets' spread by unit, each department's target, the changes of the year's
releases — per indicator id, with the year's own unit and department labels, so a past year's document
is byte for byte the same in every later page (its usages and releases never change) and git stores a
release's page as a delta against the last one: only the current state and the new year are new bytes.
A row or id without data holds 0 there. A year's document is deflated, so git cannot delta it against
the year before; most of its targets are last year's (a department keeps its target), so those are sent
as a reference instead (carried_over): a 100k-row release's new year document 515 → 360 KiB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

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


def _numbers(column: pd.Series) -> list[float | int]:
    """Figures as short as they read (95.0 → 95, six decimals at most), vectorised."""
    values = column.astype("float64").round(6)
    whole = (values == values.round(0)) & (values.abs() < 1e15)
    return [int(v) if w else float(v) for v, w in zip(values.tolist(), whole.tolist(), strict=True)]


def _by_id(rows: dict[str, list[object]], ids: list[str]) -> list[object]:
    return [rows.get(i) or 0 for i in ids]


def year_document(
    year: int,
    spread: pd.DataFrame,
    series: pd.DataFrame,
    events: pd.DataFrame,
    known: set[str],
    carried: Carried | None = None,
) -> dict[str, object]:
    """One year of every indicator in `known` (frames already cut to the year): per id
    sp [[unit, targets, departments, min, median, max], …], se [[department, target], …] and
    ev [[tag, type, reason, detail], …] in release order; unit and department as indexes into the
    document's own labels. With `carried` (the year before has a document): same and gone, and se
    without the targets carried over (see carried_over)."""
    units: dict[str, int] = {}
    depts: dict[str, int] = {}
    sp: dict[str, list[object]] = defaultdict(list)
    se: dict[str, list[object]] = defaultdict(list)
    ev: dict[str, list[object]] = defaultdict(list)
    cols = (
        spread["indicator_id"].astype(str).tolist(),
        [units.setdefault(str(u), len(units)) for u in spread["unit"].tolist()],
        spread["count"].astype("int64").tolist(),
        spread["departments"].astype("int64").tolist(),
        *(_numbers(spread[c]) for c in ("min", "median", "max")),
    )
    for iid, *rest in zip(*cols, strict=True):
        sp[iid].append(rest)
    rows = (series[c].astype(str).tolist() for c in ("indicator_id", "dept_code", "target"))
    repeat = carried.rows if carried is not None else [False] * len(series)
    for iid, dept, target, same in zip(*rows, repeat, strict=True):
        d = depts.setdefault(dept, len(depts))  # every department, carried or not: the same labels
        if not same:
            se[iid].append([d, target])
    event_cols = (events[c].astype(str).tolist() for c in ("indicator_id", "tag", "type", "reason", "detail"))
    for iid, *event in zip(*event_cols, strict=True):
        ev[iid].append(event)
    taken = carried.ids if carried is not None else set()
    ids = sorted((set(sp) | set(se) | set(ev) | taken) & known)
    doc: dict[str, object] = {"year": year, "ids": ids, "unit": list(units), "dept": list(depts)}
    doc |= {"sp": _by_id(sp, ids), "se": _by_id(se, ids), "ev": _by_id(ev, ids)}
    if carried is not None:
        doc["same"] = [1 if i in taken else 0 for i in ids]
        doc["gone"] = [(carried.gone.get(i) or 0) if i in taken else 0 for i in ids]
    return doc


@dataclass
class Carried:
    """A year's targets that repeat the year before's: per row of the year's series whether it does,
    the ids with any such row, and per such id the departments of the year before that no longer use it."""

    rows: list[bool]
    ids: set[str]
    gone: dict[str, list[str]]


def carried_over(year: int, now: pd.DataFrame, before: pd.DataFrame) -> Carried:
    """Which of the year's targets (now: its series rows) equal the year before's (before: year − 1's
    rows), by indicator, department and text. The page takes those from the year before (same[k] = 1:
    every department of the year before but those se lists — a new or changed target — and those in
    gone[k]), so only new bytes are deflated again; a document depends on its year and the one before
    only, so a past year's stays the same bytes in every later page."""
    keys = ["indicator_id", "dept_code"]
    cur = now[[*keys, "target"]].astype(str)
    old = before[[*keys, "target"]].astype(str)
    joined = cur.merge(old, on=keys, how="left", suffixes=("", "_before"))  # (id, dept) unique per year
    rows = (joined["target"] == joined["target_before"]).tolist()
    ids = set(cur["indicator_id"][rows])
    left = old[old["indicator_id"].isin(ids)].merge(cur[keys], on=keys, how="left", indicator=True)
    left = left[left["_merge"] == "left_only"].sort_values(keys, kind="stable")
    gone: dict[str, list[str]] = {}
    for iid, dept in zip(left["indicator_id"].tolist(), left["dept_code"].tolist(), strict=True):
        gone.setdefault(iid, []).append(dept)  # a plain loop: groupby(…).agg(list) is 60× slower here
    return Carried(rows, ids, gone)


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
    by_year = {y: series[series["year"].astype("int64") == y] for y in years}
    for y in years:
        sp, ev = (f[f["year"].astype("int64") == y] for f in (spread, events))
        carried = carried_over(y, by_year[y], by_year[y - 1]) if y - 1 in by_year else None
        docs.append(year_document(y, sp, by_year[y], ev, known, carried))
    units = labels["unit"]
    units += [u for u in dict.fromkeys(u for d in docs for u in d["unit"]) if u not in set(units)]  # type: ignore[attr-defined]
    listed = {d[0] for d in labels["dept"]}
    new = dict.fromkeys(c for d in docs for c in d["dept"] if c not in listed)  # type: ignore[attr-defined]
    labels["dept"] += [[code, ""] for code in new]
    return docs


def card_document(ind: pd.DataFrame) -> dict[str, object]:
    """Card data for the rows of `ind` (already in page order): descriptive fields and years."""
    doc: dict[str, object] = {k: text(ind, col) for k, col in CARD_FIELDS.items()}
    return doc | {
        "fy": _years(ind, "first_year"),
        "ly": _years(ind, "last_year"),
        "ry": _years(ind, "retired_year"),
        "lcy": _years(ind, "last_change_year"),
    }
