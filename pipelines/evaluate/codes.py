"""The self-evaluation's findings (E5xx): texts in schemas/reference/self_eval_codes.csv, in the same shape and
with the same severities as the filing catalogue, raised as pipelines.common.findings.Finding so feedback and
grouping treat them like any other finding. Each code is written only in the module that raises it
(tests/test_evaluate_workbook.py holds the codes raised here to the file)."""

from __future__ import annotations

from functools import cache

from pipelines.common.findings import Finding
from schemas.vocab import REFERENCE_DIR, FindingSpec, read_reference_csv

CODES_FILE = "self_eval_codes.csv"


@cache
def self_eval_codes() -> dict[str, FindingSpec]:
    """code → its severity and texts."""
    return {
        r["code"]: FindingSpec(r["code"], r["severity"], r["rule_zh"], r["fix_zh"])
        for r in read_reference_csv(REFERENCE_DIR / CODES_FILE)
    }


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
