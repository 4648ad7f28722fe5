"""Run the registry's `cells` rules with pandera, on top of the sheet shapes of schemas/submission.py.

Each cell rule becomes a pandera Check named by its finding code: a column check on each column it
names, or a whole-row check. pandera reports every failing cell at once (lazy validation); a failure
whose check is not a finding code (a missing column, a wrong dtype) is the product's bug and is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import pandas as pd
import pandera.pandas as pa

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
    try:
        sheet_schema(kind, rules, ctx).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        by_code = {r.codes[0]: r for r in rules}
        if not cases["check"].isin(by_code.keys()).all():
            raise err  # a dtype or missing-column failure is our bug, not the department's
        points_at = {code: r.cell.points_at for code, r in by_code.items() if r.cell and r.cell.points_at}
        out = pd.DataFrame(
            {
                "idx": cases["index"].astype(int).to_numpy(),
                "code": cases["check"].astype(str).to_numpy(),
                "column": [
                    points_at.get(str(k), c) for k, c in zip(cases["check"], cases["column"], strict=True)
                ],
            }
        )
        return out.drop_duplicates(["code", "column", "idx"])
    return pd.DataFrame(columns=["idx", "code", "column"])


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
