"""The self-evaluation's findings (E5xx): the E rows of the one finding catalogue
(schemas/reference/finding_codes.csv), with the same severities as the filing codes, raised as
pipelines.common.findings.Finding so feedback and grouping treat them like any other finding. No filing rule
declares them (docs/FINDINGS.md shows "self-evaluation · pipelines.evaluate.reader"). Each code is written only
in the module that raises it (tests/test_evaluate_workbook.py holds the codes raised to the catalogue)."""

from __future__ import annotations

from functools import cache

from pipelines.common.findings import Finding
from schemas.vocab import FindingSpec, reference

PREFIX = "E"  # the self-evaluation's range of the catalogue


@cache
def self_eval_codes() -> dict[str, FindingSpec]:
    """code → its severity and texts, in the catalogue's order."""
    return {code: spec for code, spec in reference().findings.items() if code.startswith(PREFIX)}


def eval_finding(
    code: str,
    file: str,
    *,
    sheet: str = "",
    row: int | None = None,
    column: str = "",
    field: str = "",
    value: object = "",
    detail: object = "",
) -> Finding:
    """A located Finding whose message and fix come from the self-evaluation catalogue."""
    spec = self_eval_codes()[code]
    value_text = "" if value is None else str(value)
    shown = value_text if len(value_text) <= 60 else value_text[:57] + "…"
    message = spec.rule_zh.format(value=shown, column=field, detail=detail)
    fix = spec.fix_zh.format(value=shown, column=field, detail=detail)
    return Finding(file, code, spec.severity, sheet, row, column, field, value_text, message, fix)
