"""The indicator table while consolidation edits it: one record (a dict of IndicatorTable's columns) per
indicator_id, and the record-level events every step uses (a merge, resolving a merged id)."""

from __future__ import annotations

import pandas as pd

from schemas.library import IndicatorTable

INDICATOR_COLUMNS = list(IndicatorTable.to_schema().columns)
Records = dict[str, dict[str, object]]


def empty_indicators() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in INDICATOR_COLUMNS})


def as_list(value: object) -> list[str]:
    """A list cell (aliases, departments) as a list of str; missing → []."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in list(value)]  # type: ignore[call-overload]


def records_of(indicators: pd.DataFrame) -> Records:
    """The released indicators as editable records, list cells as lists."""
    records: Records = {r["indicator_id"]: dict(r) for r in indicators.to_dict("records")}
    for r in records.values():
        r["aliases"] = as_list(r["aliases"])
        r["departments"] = as_list(r["departments"])
    return records


def resolve_merged(iid: str, merged_into: dict[str, str]) -> str:
    """The indicator an id stands for now: merged ids followed to the one they were merged into."""
    seen = set()
    while iid in merged_into and merged_into[iid] and iid not in seen:
        seen.add(iid)
        iid = merged_into[iid]
    return iid


def merge_into(
    records: Records,
    absorbed: str,
    keep: str,
    year: int,
    merged_into: dict[str, str],
    reason: str,
) -> None:
    """B merged into A: B's row stays (status merged, merged_into A); A keeps B's names as aliases. The reason
    is always the caller's: only a reviewer's 合并 may say it was reviewed (REVIEW_MERGE_REASON)."""
    rec = records[absorbed]
    rec.update(status="merged", merged_into=keep, retired_year=year, retire_reason=reason)
    rec.update(last_change_year=year, last_change_type="合并", last_change_reason=reason)
    target = records[keep]
    target["aliases"] = sorted(
        set(as_list(target["aliases"])) | {str(rec["name"])} | set(as_list(rec["aliases"]))
    )
    target["departments"] = sorted(set(as_list(target["departments"])) | set(as_list(rec["departments"])))
    merged_into[absorbed] = keep


def indicator_table(records: Records) -> pd.DataFrame:
    """The records as the typed indicator table, sorted by id."""
    frame = pd.DataFrame([records[i] for i in sorted(records)], columns=INDICATOR_COLUMNS)
    text = [
        c
        for c in INDICATOR_COLUMNS
        if c not in ("aliases", "departments", "first_year", "last_year", "retired_year", "last_change_year")
    ]
    frame = frame.copy()
    for c in text:
        frame[c] = frame[c].fillna("").astype(str)
    for c in ("first_year", "last_year", "last_change_year"):
        frame[c] = frame[c].astype("int64")
    frame["retired_year"] = pd.array(frame["retired_year"].tolist(), dtype="Int64")
    for column in ("aliases", "departments"):  # list cells; object dtype even when the table is empty
        frame[column] = pd.Series(
            [sorted(as_list(v)) for v in frame[column]], index=frame.index, dtype=object
        )
    return frame.reset_index(drop=True)
