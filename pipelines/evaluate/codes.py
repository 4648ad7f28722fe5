"""The self-evaluation's findings (E5xx): the E rows of the one finding catalogue
(schemas/reference/finding_codes.csv), with the same severities as the filing codes, raised with
pipelines.common.findings.make_finding (the catalogue's one message builder) so feedback and grouping treat them like any other finding. No filing rule
declares them (docs/FINDINGS.md shows "self-evaluation · pipelines.evaluate.reader"). Each code is written only
in the module that raises it (tests/test_evaluate_workbook.py holds the codes raised to the catalogue)."""

from __future__ import annotations

from functools import cache

from schemas.vocab import FindingSpec, reference

PREFIX = "E"  # the self-evaluation's range of the catalogue


@cache
def self_eval_codes() -> dict[str, FindingSpec]:
    """code → its severity and texts, in the catalogue's order."""
    return {code: spec for code, spec in reference().findings.items() if code.startswith(PREFIX)}
