"""Rule hits and their findings: what a rule over rows returns, and how it becomes a located message.

A rule over rows returns "hits": a DataFrame with one row per problem — idx (the row's label), code, column
(the cell it names), value (what the message quotes; None or "" quotes the cell's own content) and detail.
hits_to_findings turns them into Findings located as Excel shows them (file, sheet, row, column letter).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence

import pandas as pd

from pipelines.common.findings import Finding, make_finding
from schemas.vocab import Reference

HIT_COLUMNS = ["idx", "code", "column", "value", "detail"]
# (file, sheet) → field → column letter, as the reader found the headers.
Letters = dict[tuple[str, str], dict[str, str]]


def no_hits() -> pd.DataFrame:
    return pd.DataFrame(columns=HIT_COLUMNS)


def hits(
    idx: Iterable[object], code: str, column: str, value: object = None, detail: object = ""
) -> pd.DataFrame:
    """Hits of one code at the rows `idx`; value and detail are one constant or one entry per row
    (a Series is taken in order, its index ignored)."""
    labels = list(idx)
    # One constructor call (every rule returns hits, most of them none): the columns as the constructor
    # and column assignment both infer them.
    columns: dict[str, object] = {"idx": labels, "code": code, "column": column}
    columns["value"] = _per_row(value, len(labels))
    columns["detail"] = _per_row(detail, len(labels))
    return pd.DataFrame(columns)


def _per_row(given: object, n: int) -> object:
    if isinstance(given, pd.Series):
        return given.to_numpy()
    if isinstance(given, list):
        return given
    return [given] * n


def hits_to_findings(
    rows: pd.DataFrame, found: pd.DataFrame, letters: Letters, ref: Reference
) -> list[Finding]:
    """Located findings for hits without a per-row lookup. A hit whose value is None or "" shows the
    cell's own content."""
    if found.empty:
        return []
    at = rows.loc[found["idx"].to_numpy(), ["source_file", "source_sheet", "source_row", "sheet_kind"]]
    headers = {(c.sheet, c.column): c.header_zh for specs in ref.columns.values() for c in specs}
    values = found["value"].astype(object).to_numpy(copy=True)
    missing = pd.isna(found["value"]).to_numpy() | (found["value"].astype(object) == "").to_numpy()
    for column in found.loc[missing, "column"].unique():
        if column in rows.columns:  # the cell's own content: one vectorised lookup per column
            pick = missing & (found["column"] == column).to_numpy()
            values[pick] = rows.loc[found["idx"].to_numpy()[pick], column].to_numpy()
    # A finding's texts depend only on its code, value, field and detail, which repeat across rows: each
    # text is filled in once (make_finding), every located finding takes it.
    texts: dict[tuple[object, ...], Finding] = {}
    filled: list[Finding] = []
    columns: list[str] = []
    fields: list[str] = []
    # Columns as Python lists first: iterating Arrow-backed text columns goes value by value through
    # pandas (≈ 20× slower than one tolist()).
    files, sheets = at["source_file"].tolist(), at["source_sheet"].tolist()
    for file, sheet, kind, code, column, value, detail in zip(
        files,
        sheets,
        at["sheet_kind"].tolist(),
        found["code"].tolist(),
        found["column"].tolist(),
        values.tolist(),
        found["detail"].tolist(),
        strict=True,
    ):
        field = headers.get((kind, column), "")
        value = "" if value is None or (isinstance(value, float) and value != value) else value
        filled.append(_texts(texts, code, field, value, detail))
        columns.append(letters.get((file, sheet), {}).get(column, ""))
        fields.append(field)
    rows_at = [int(r) for r in at["source_row"].tolist()]
    return _located(files, sheets, rows_at, columns, fields, filled)


_SETTERS = {name: getattr(Finding, name).__set__ for name in Finding.__slots__}


def _located(
    files: list[str],
    sheets: list[str],
    rows: list[int],
    columns: list[str],
    fields: list[str],
    filled: list[Finding],
) -> list[Finding]:
    """Finding(file, code, severity, sheet, row, column, field, value, message, fix) for each position,
    the texts taken from `filled`, slots set a field at a time: the frozen dataclass's __init__ sets each
    field through object.__setattr__, then __post_init__ (≈ 43 against ≈ 26 ms for a batch's ≈ 14,500).
    The file and sheet names interned, as __post_init__ does (they are exact str: tolist of text)."""
    by_field: dict[str, Sequence[object]] = {
        "file": [sys.intern(f) if type(f) is str else f for f in files],
        "sheet": [sys.intern(s) if type(s) is str else s for s in sheets],
        "row": rows,
        "column": columns,
        "field": fields,
    }
    for name in ("code", "severity", "value", "message", "fix"):
        by_field[name] = [getattr(text, name) for text in filled]
    new = object.__new__
    out = [new(Finding) for _ in range(len(filled))]
    for name in Finding.__slots__:
        setter = _SETTERS[name]
        for finding, value in zip(out, by_field[name], strict=True):
            setter(finding, value)
    return out


def _texts(
    known: dict[tuple[object, ...], Finding], code: str, field: str, value: object, detail: object
) -> Finding:
    """A finding with the texts of (code, field, value, detail), made once per distinct combination."""
    key = (code, field, type(value), value, type(detail), detail)
    try:
        text = known.get(key)
    except TypeError:  # a value that cannot be a key: fill it in each time
        return make_finding(code, "", field=field, value=value, detail=detail)
    if text is None:
        text = known[key] = make_finding(code, "", field=field, value=value, detail=detail)
    return text
