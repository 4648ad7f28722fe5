"""Run the registry's `cells` rules with pandera, on top of the sheet shapes of schemas/submission.py.

Each cell rule becomes a pandera Check named by its finding code: a column check on each column it
names, or a whole-row check. pandera reports every failing cell at once (lazy validation); a failure
whose check is not a finding code (a missing column, a wrong dtype) is the product's bug and is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine

from pipelines.validate.hits import HIT_COLUMNS, no_hits
from pipelines.validate.rules.base import Rule, RuleContext
from schemas.submission import SHEET_SHAPES


def sheet_schema(kind: str, rules: Sequence[Rule], ctx: RuleContext) -> pa.DataFrameSchema:
    """The sheet's shape with the checks of every cell rule that applies to it, in registry order."""
    schema = SHEET_SHAPES[kind].to_schema()
    column_checks: dict[str, list[pa.Check]] = {}
    frame_checks: list[pa.Check] = []
    for rule in rules:
        assert rule.cell is not None and rule.check is not None
        if kind not in rule.cell.sheets:
            continue
        check = pa.Check(partial(rule.check, ctx=ctx), name=rule.codes[0])
        if rule.cell.columns is None:
            frame_checks.append(check)
            continue
        for column in rule.cell.columns_for(ctx.ref, kind):
            column_checks.setdefault(column, []).append(check)
    # A column the shape does not name (a deployment's columns.csv may require more) is checked as text.
    extra = {
        c: pa.Column(str, checks=checks) for c, checks in column_checks.items() if c not in schema.columns
    }
    updates = {
        c: {"checks": [*schema.columns[c].checks, *checks]}
        for c, checks in column_checks.items()
        if c not in extra
    }
    schema = schema.update_columns(updates) if updates else schema
    schema = schema.add_columns(extra) if extra else schema
    schema.checks = [*schema.checks, *frame_checks]
    return schema


def cell_failures(frame: pd.DataFrame, kind: str, rules: Sequence[Rule], ctx: RuleContext) -> pd.DataFrame:
    """idx, code, column of every failing cell (a whole-row failure names the rule's `points_at` cell),
    in pandera's order: whole-row checks first, then column by column."""
    schema = sheet_schema(kind, rules, ctx)
    by_code = {r.codes[0]: r for r in rules}
    points_at = {code: r.cell.points_at for code, r in by_code.items() if r.cell and r.cell.points_at}
    # pandera names every cell of a row failing a whole-row check; points_at makes that one cell per row.
    pointed = all(r.cell is not None and r.cell.points_at for r in rules if r.cell and r.cell.columns is None)
    failed = direct_failures(frame, schema, set(by_code)) if pointed else None
    if failed is None:
        failed = _pandera_failures(frame, schema, set(by_code))
    if not failed:
        return pd.DataFrame(columns=["idx", "code", "column"])
    idx, codes, columns = zip(*failed, strict=True)
    out = pd.DataFrame(
        {
            "idx": np.asarray(idx, dtype=int),
            "code": list(codes),
            "column": [points_at.get(str(k), c) for k, c in zip(codes, columns, strict=True)],
        }
    )
    return out.drop_duplicates(["code", "column", "idx"]).reset_index(drop=True)


Failed = list[tuple[int, str, str]]  # (row label, code, column) of each failing cell, in pandera's order


def _pandera_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema, codes: set[str]) -> Failed:
    """pandera's own lazy validation: every failure case with a row (a check that failed as a whole, or
    raised, has none and is dropped)."""
    try:
        schema.validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        if not cases["check"].isin(codes).all():
            raise err  # a dtype or missing-column failure is our bug, not the department's
        return list(
            zip(
                cases["index"].astype(int).tolist(),
                cases["check"].astype(str).tolist(),
                cases["column"].tolist(),
                strict=True,
            )
        )
    return []


def direct_failures(frame: pd.DataFrame, schema: pa.DataFrameSchema, codes: set[str]) -> Failed | None:
    """What pandera's lazy validation finds (_pandera_failures), from the same Check objects called the way
    pandera calls them — without its per-call bookkeeping (≈ 35 ms per sheet kind and call, ≈ 10× the checks
    themselves: it matters for validation in batches). None when the frame is not of the schema's shape
    or a check does anything unusual (raises, returns a table): pandera then runs and decides."""
    if not _plain_shape(frame, schema, codes):
        return None
    try:
        frame_level = [(check.name, _failing(frame, check, table=True)) for check in schema.checks]
        column_level = [
            (check.name, name, _failing(frame[name], check, table=False))
            for name, column in schema.columns.items()
            for check in column.checks
        ]
    except _Unusual:
        return None
    # pandera sorts its failure cases whole-row checks first (stable), each check's rows in order; a
    # whole-row failure names every cell of the row, of which the caller keeps one (points_at).
    out: Failed = [(i, str(code), str(schema.name)) for code, rows in frame_level for i in rows]
    out += [(i, str(code), str(name)) for code, name, rows in column_level for i in rows]
    return out


class _Unusual(Exception):
    """A check pandera would handle in a way the direct run does not copy: let pandera run."""


def _failing(data: pd.DataFrame | pd.Series, check: pa.Check, table: bool) -> list[int]:
    """The row labels where a check fails, as pandera's check backend decides them (ignore_na: a column's
    missing values are not checked, a row missing every value passes)."""
    if not table and data.hasnans:
        data = data.dropna()
    try:
        output = check._check_fn(data)  # the rule's check with its context (sheet_schema's partial)
    except Exception as err:  # pandera records it without a row: let it decide
        raise _Unusual from err
    if not isinstance(output, pd.Series):
        if isinstance(output, (bool, np.bool_)):
            return []  # a verdict on the whole sheet names no row (pandera's case has no index)
        raise _Unusual
    if output.empty and output.dtype != bool:
        output = output.astype(bool)
    if not data.index.equals(output.index):
        return []
    if table and _any_row_all_missing(data):
        output = output | data.isna().all(axis="columns")
    if output.all():
        return []
    if output.dtype != bool:
        output = output.astype(bool)
    return [int(i) for i in data.index[~output.to_numpy()]]


def _any_row_all_missing(frame: pd.DataFrame) -> bool:
    """Whether any row is missing in every column; one column with no missing value rules it out."""
    first = frame.columns[0] if len(frame.columns) else None
    return first is None or bool(frame[first].isna().any())


_SHAPES_SEEN: set[tuple[object, ...]] = set()


def _plain_shape(frame: pd.DataFrame, schema: pa.DataFrameSchema, codes: set[str]) -> bool:
    """The frame passes the schema's shape (columns present with their dtypes, no missing value where
    none is allowed) and the schema holds only the rules' checks, with pandera's defaults."""
    columns = schema.columns
    if any(c not in frame.columns for c in columns):
        return False
    checks = [*schema.checks, *(c for column in columns.values() for c in column.checks)]
    if any(c.name not in codes or not _default_check(c) for c in checks):
        return False
    if schema.unique or schema.coerce or schema.dtype is not None or schema.parsers:
        return False
    if any(c.unique or c.coerce or c.regex or c.parsers or not c.required for c in columns.values()):
        return False
    if any(not c.nullable and frame[name].hasnans for name, c in columns.items()):
        return False
    typed = [name for name in columns if frame[name].dtype != object]
    for name in (n for n in columns if n not in typed):
        # pandera accepts text held as objects when every value is a str (or missing), value by value.
        if not isinstance(columns[name].dtype, pandas_engine.STRING):
            return False
        if pd.api.types.infer_dtype(frame[name], skipna=True) not in ("string", "empty"):
            return False
    # Any other dtype passes or fails whatever the values: pandera decides once per process and shape.
    key = (repr(schema.name), *((name, repr(columns[name].dtype), frame[name].dtype) for name in typed))
    if key not in _SHAPES_SEEN:
        try:
            _bare(schema, typed).validate(frame.loc[:, typed].iloc[:0], lazy=True)
        except (pa.errors.SchemaErrors, pa.errors.SchemaError):
            return False
        _SHAPES_SEEN.add(key)
    return True


def _bare(schema: pa.DataFrameSchema, names: list[str]) -> pa.DataFrameSchema:
    """The schema's shape of these columns (dtype, nullable; no check), built afresh: pandera's
    remove_columns / update_columns deep-copy the whole schema, every check's partial with its RuleContext
    and reference data (≈ 0.3–1 s CPU, once per process and shape). _plain_shape has ruled out every
    other column or schema option."""
    columns = schema.columns
    return pa.DataFrameSchema(
        {name: pa.Column(columns[name].dtype, nullable=columns[name].nullable, name=name) for name in names},
        index=schema.index,
        name=schema.name,
        strict=schema.strict,
        ordered=schema.ordered,
    )


def _default_check(check: pa.Check) -> bool:
    return (
        check.ignore_na
        and not check.element_wise
        and check.groupby is None
        and check.n_failure_cases is None
        and not check.raise_warning
        and callable(getattr(check, "_check_fn", None))
        and not getattr(check, "_check_kwargs", None)
    )


def cell_hits(
    rows: pd.DataFrame, kinds: Sequence[str], rules: Sequence[Rule], ctx: RuleContext
) -> pd.DataFrame:
    """Hits of the cell rules over the rows of each indicator sheet kind (one pandera run per kind)."""
    by_code = {r.codes[0]: r for r in rules}
    found = []
    for kind in kinds:
        part = rows[rows["sheet_kind"] == kind]
        if part.empty:
            continue
        failures = cell_failures(part, kind, rules, ctx)
        if failures.empty:
            continue
        values = pd.Series(None, index=failures.index, dtype=object)
        details = pd.Series("", index=failures.index, dtype=object)
        for code, group in failures.groupby("code", sort=False):
            cell = by_code[str(code)].cell
            assert cell is not None
            at = group["idx"].to_numpy()
            if cell.quote:
                values.loc[group.index] = rows.loc[at, cell.quote].to_numpy()
            if cell.detail is not None:
                details.loc[group.index] = cell.detail(rows.loc[at]).to_numpy()
        found.append(failures.assign(value=values, detail=details)[HIT_COLUMNS])
    return pd.concat(found, ignore_index=True) if found else no_hits()
