"""What a rule is: a name, the finding codes it can raise, their severity, the stage it runs at, and its check.

In the spirit of frictionless' checks (each check declares the errors it can produce), every rule module
declares its Rule objects; rules/__init__.py lists them in the order they run and are reported. The texts
of the codes live in schemas/reference/finding_codes.csv; tests/test_catalogue.py keeps the three in step.

Stages, in the order validate_workbooks runs them, and what a check of that stage is called with:
  intake       raised while reading a workbook (pipelines/intake); declared here, `raised_in` says where
  workbook     check(wb, ctx) -> list[Finding]                       one workbook's sheets
  cells        a pandera check (see CellCheck), run with the sheet's shape from schemas/submission.py
  departments  check(entries, ctx) -> list[Finding]                  部门信息 of all workbooks at once
  rows         check(rows, ctx) -> hits                              row errors over the rows still kept
  outcome      check(rows, ctx) -> hits                              rows kept out of the library
  warnings     check(rows, ctx) -> hits                              warnings and notes over every row
  sheets       check(rows, workbooks, ctx) -> list[Finding]          one note per sheet
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from schemas.vocab import Reference

STAGES = ("intake", "workbook", "cells", "departments", "rows", "outcome", "warnings", "sheets")


@dataclass
class RuleContext:
    """What every check may read besides the rows: the reference data of this run (a deployment's own
    directory when it has one) and the run's settings. `cache` holds work several rules share in one run."""

    ref: Reference
    year: int | None = None
    # The bureau's 部门编码; "" when not configured, and then no workbook may file 共性指标.
    finance_dept: str = ""
    indicators: pd.DataFrame | None = None  # the published library, for rules on 库内编号
    # Last evaluated year's actual values (indicator_id, dept_code, project, year, actual_value, unit):
    # a target looser than what the department achieved is W215, whatever its 历史值 cell says.
    actuals: pd.DataFrame | None = None
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CellCheck:
    """How a `cells` rule runs inside a sheet's pandera schema.

    columns: the columns checked cell by cell (check gets one column as a Series), or a function of
    (reference, sheet kind) for lists that come from the reference (required columns); None for a check
    over whole rows (check gets the sheet's frame). points_at: the cell a whole-row finding names.
    quote: the column whose content the message quotes (default: the cell named). detail: the detail of
    each failing row, from the rows."""

    sheets: tuple[str, ...]
    columns: tuple[str, ...] | Callable[[Reference, str], tuple[str, ...]] | None = None
    points_at: str = ""
    quote: str = ""
    detail: Callable[[pd.DataFrame], pd.Series] | None = None

    def columns_for(self, ref: Reference, sheet: str) -> tuple[str, ...]:
        if callable(self.columns):
            return self.columns(ref, sheet)
        return self.columns or ()


@dataclass(frozen=True)
class Rule:
    name: str
    codes: tuple[str, ...]
    severity: (
        str  # every code of one rule has this severity: file_error | row_error | warning | excluded | info
    )
    stage: str
    summary: str  # what the rule checks, in one line (English, for maintainers)
    check: Callable[..., Any] | None = None
    raised_in: str = ""  # `intake` rules: the module that raises the code
    cell: CellCheck | None = None  # `cells` rules: how pandera runs the check
    outcome: str = ""  # `outcome` rules: the outcome of the rows it hits

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"{self.name}: unknown stage {self.stage}")
        if (self.check is None) != (self.stage == "intake"):
            raise ValueError(f"{self.name}: a check is required except for intake declarations")
        if (self.cell is None) != (self.stage != "cells"):
            raise ValueError(f"{self.name}: cells rules, and only they, say how pandera runs them")

    def run(self, *args: Any) -> Any:
        """The check, called with its stage's arguments (see the module docstring)."""
        if self.check is None:
            raise TypeError(f"{self.name} is raised while reading ({self.raised_in}), not by the runner")
        return self.check(*args)

    @property
    def raised_by(self) -> str:
        """Where the code is written: "module:function" of the check, or the intake module."""
        if self.check is None:
            return self.raised_in
        return f"{self.check.__module__}:{self.check.__name__}"


def rule(name: str, codes: str, severity: str, stage: str, summary: str, **kw: Any) -> Rule:
    """A Rule with its codes written as one space-separated string ("W202 W203 W204")."""
    return Rule(name, tuple(codes.split()), severity, stage, summary, **kw)


def shared(ctx: RuleContext, key: str, rows: pd.DataFrame, compute: Callable[[], Any]) -> Any:
    """Work several rules of one run need over the same rows (a project's composition, the 沿用 rows):
    computed by the first rule that asks, kept in the run's context."""
    cached = ctx.cache.get(key)
    if cached is None or cached[0] is not rows:
        cached = ctx.cache[key] = (rows, compute())
    return cached[1]
