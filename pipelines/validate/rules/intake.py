"""File errors and notes raised while a workbook is read (pipelines/intake), declared here so that the
registry holds every code the product can raise. The checks themselves stay where the bytes are read:
a workbook that cannot be read safely never reaches a rule over rows. `raised_in` names the function that
writes the code (F001 and F002 are also written by the bounds checks of each sheet)."""

from __future__ import annotations

from pipelines.validate.rules.base import rule

RAISED_IN_INTAKE = (
    rule(
        "container_readable",
        "F001",
        "file_error",
        "intake",
        "a readable xlsx zip",
        raised_in="pipelines.intake.container:check_container",
    ),
    rule(
        "container_bounded",
        "F002",
        "file_error",
        "intake",
        "sizes within limits",
        raised_in="pipelines.intake.container:check_container",
    ),
    rule(
        "required_sheets",
        "F003",
        "file_error",
        "intake",
        "required sheets present",
        raised_in="pipelines.intake.sheets:read_sheets",
    ),
    rule(
        "required_columns",
        "F004",
        "file_error",
        "intake",
        "required headers",
        raised_in="pipelines.intake.headers:missing_column_findings",
    ),
    rule(
        "header_row_found",
        "F010",
        "file_error",
        "intake",
        "a header row",
        raised_in="pipelines.intake.headers:no_header_finding",
    ),
    rule(
        "parse_isolated",
        "F012",
        "file_error",
        "intake",
        "parser died or timed out",
        raised_in="pipelines.intake.safe_parse:set_aside",
    ),
    rule(
        "unknown_header",
        "I403",
        "info",
        "intake",
        "unknown column kept",
        raised_in="pipelines.intake.headers:unknown_header_findings",
    ),
    rule(
        "duplicate_header",
        "W217",
        "warning",
        "intake",
        "two headers, one field",
        raised_in="pipelines.intake.headers:duplicate_header_findings",
    ),
)
