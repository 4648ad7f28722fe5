"""The rule registry: every rule of validation declared once, with the finding codes it can raise.

REGISTRY lists the rules in the order they run and are reported; validate_workbooks takes each stage's
rules from here (rules_at). To add a rule: write its check in the module of its family (or a new module),
declare it there with rule(...), add it below at its stage, and add its code's texts to
schemas/reference/finding_codes.csv; then regenerate docs/FINDINGS.md (python -m
pipelines.validate.catalogue) — tests/test_catalogue.py fails until the three agree.

Within `cells`, whole-row checks are reported before column checks, each group in the order below: a row
with several errors lists its reasons in that order.
"""

from __future__ import annotations

from pipelines.validate.rules import (
    baseline,
    change,
    common_sheet,
    core_count,
    data_source,
    dept_info,
    duplicate_sheet,
    folded_text,
    framework,
    function_code,
    info_keys,
    intake,
    kept_wording,
    library_refs,
    outcomes,
    phase,
    projects,
    quantitative,
    rates,
    reinterpretation,
    required,
    soft_vocab,
    symbol,
    value_name,
)
from pipelines.validate.rules.base import Rule

REGISTRY: tuple[Rule, ...] = (
    *intake.RAISED_IN_INTAKE,
    duplicate_sheet.DUPLICATE_SHEET,
    info_keys.UNKNOWN_INFO_KEY,
    # cells: 部门信息, then the indicator sheets (whole-row checks first, then cell by cell)
    dept_info.INFO_REQUIRED,
    dept_info.DEPT_CODE_DIGITS,
    common_sheet.COMMON_SHEET_OWNER,
    function_code.FUNCTION_CLASS_KNOWN,
    framework.LEVEL2_FITS,
    quantitative.QUANTITATIVE_TARGET,
    change.CHANGE_REASON,
    change.CHANGE_LIBRARY_ID,
    required.REQUIRED_FILLED,
    framework.LEVEL1_KNOWN,
    symbol.SYMBOL_KNOWN,
    function_code.FUNCTION_CODE_FORMAT,
    dept_info.INFO_YEAR,
    dept_info.ONE_WORKBOOK_PER_DEPT,
    # rows: against the published library, then over the row's values
    library_refs.LIBRARY_REFERENCE,
    kept_wording.KEPT_WORDING,
    kept_wording.KEPT_DETAILS,
    rates.PERCENT_BOUND,
    outcomes.NONCORE,
    outcomes.PHASE,
    # warnings: projects and departments as a whole, then row by row, then the notes
    projects.PROJECT_COUNT,
    projects.PROJECT_COMPOSITION,
    projects.CONSTRUCTION_COST,
    core_count.CORE_COUNT,
    projects.WEIGHT_SPLIT,
    data_source.DATA_SOURCE,
    baseline.BASELINE,
    value_name.VALUE_NAME,
    phase.PHASE_NAME_MARKED,
    function_code.FUNCTION_CODE_LISTED,
    symbol.SYMBOL_CONSISTENT,
    quantitative.UNIT_GIVEN,
    rates.SATISFACTION_LEVEL,
    baseline.STRICT_TARGET,
    soft_vocab.SOFT_VOCABULARY,
    reinterpretation.PLACEHOLDER_LEFT,
    reinterpretation.FRAMEWORK_LABEL,
    reinterpretation.REINTERPRETED,
    folded_text.TEXT_FOLDED,
)


def rules_at(stage: str, sheet: str | None = None) -> tuple[Rule, ...]:
    """The rules of one stage in registry order; for `cells`, those that check `sheet` when given."""
    return tuple(
        r
        for r in REGISTRY
        if r.stage == stage and (sheet is None or (r.cell is not None and sheet in r.cell.sheets))
    )


def declared_codes() -> dict[str, Rule]:
    """code → the rule that raises it (each code is declared by exactly one rule)."""
    out: dict[str, Rule] = {}
    for rule in REGISTRY:
        for code in rule.codes:
            if code in out:
                raise ValueError(f"{code} declared by {out[code].name} and {rule.name}")
            out[code] = rule
    return out
