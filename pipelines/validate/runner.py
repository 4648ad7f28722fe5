"""Validate: read workbooks → located findings and one outcome per row (CONTRACT §3).

Every data row ends in exactly one outcome: library, noncore, excluded or rejected. Problems are
collected lazily (all at once), each as a Finding naming file, sheet, Excel row and column letter. The
rules are those of the registry (pipelines/validate/rules/), run stage by stage: each workbook's files
and 部门信息, then the rows (canonicalised first: pipelines/validate/canonicalize.py), their outcome, the
warnings and notes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.common.findings import Finding
from pipelines.common.frames import compact_text_columns, release_free_memory
from pipelines.intake.workbook import Workbook
from pipelines.validate.canonicalize import (
    PROVENANCE,
    canonical_info,
    canonicalize_rows,
    stack_rows,
    workbook_rows,
)
from pipelines.validate.cells import cell_failures, cell_hits
from pipelines.validate.hits import Letters, hits_to_findings
from pipelines.validate.returned import layout, shown_cells
from pipelines.validate.rules import rules_at
from pipelines.validate.rules.base import Rule, RuleContext
from pipelines.validate.rules.dept_info import ONE_WORKBOOK_PER_DEPT, info_finding
from schemas.vocab import INDICATOR_SHEETS, reference

# What can become of a data row: the library, kept out as noncore or phase-bound (excluded), or rejected.
ROW_OUTCOMES = ("library", "noncore", "excluded", "rejected")
# The only rules whose findings depend on other workbooks than the one they name (stage "departments"):
# a run validated in batches (pipelines.fanout) decides them over every workbook and passes them in.
ACROSS_WORKBOOKS: tuple[Rule, ...] = (ONE_WORKBOOK_PER_DEPT,)
InfoEntries = Sequence[tuple[Workbook, dict[str, str]]]


@dataclass
class FileStatus:
    """One input file's fate, for the accounting and the per-department review."""

    file: str
    sha256: str
    readable: bool
    dept_code: str = ""
    dept_name: str = ""
    file_errors: list[str] = field(default_factory=list)  # finding codes
    rows_read: int = 0

    @property
    def set_aside(self) -> bool:
        return not self.readable or bool(self.file_errors)


@dataclass
class ValidationResult:
    rows: pd.DataFrame  # every data row read, canonicalised, with outcome / reason_codes / reasons
    findings: list[Finding]
    files: list[FileStatus]
    departments: pd.DataFrame  # 部门信息 of the workbooks not set aside
    # What the feedback shows, without any whole workbook (pipelines/validate/returned.py): each
    # workbook's layout (no rows) and the cells as typed of every row read.
    layouts: list[Workbook] = field(default_factory=list)
    cells: pd.DataFrame = field(default_factory=pd.DataFrame)
    # A run validated in batches has written the feedback already, into this staging folder beside the
    # outbox (pipelines.fanout); write_outbox swaps it in. None: the feedback is written from layouts/cells.
    feedback_staged: Path | None = None

    def counts(self) -> dict[str, int]:
        out = {"read": len(self.rows)}
        vc = self.rows["outcome"].value_counts() if len(self.rows) else pd.Series(dtype=int)
        out.update({o: int(vc.get(o, 0)) for o in ROW_OUTCOMES})
        return out

    @property
    def has_errors(self) -> bool:
        return any(f.severity in ("file_error", "row_error") for f in self.findings)

    @property
    def exit_code(self) -> int:
        """CONTRACT §4: 0 ok, 1 errors in the input, 2 when no input was a readable workbook at all."""
        if self.files and not any(f.readable for f in self.files):
            return 2
        return 1 if self.has_errors else 0


# --------------------------------------------------------------------------------------------------
# Files: what the reader found, each workbook's sheets, 部门信息 of all workbooks together
# --------------------------------------------------------------------------------------------------


def _info_findings(
    entries: InfoEntries, ctx: RuleContext, across: Sequence[Finding] | None = None
) -> list[Finding]:
    """File errors of 部门信息 for every readable workbook at once: the cell rules (one pandera validation
    over one row per workbook), then the rules across workbooks — or, when `across` is given, the findings
    those rules made over a larger set of workbooks, in their place."""
    if not entries:
        return []
    keys = [c.column for c in ctx.ref.columns["info"]]
    frame = pd.DataFrame([{k: info.get(k, "") for k in keys} for _, info in entries])
    failures = cell_failures(frame, "info", rules_at("cells", "info"), ctx)
    found = []
    for code, column, position in zip(failures["code"], failures["column"], failures["idx"], strict=True):
        wb, info = entries[int(position)]
        found.append(info_finding(str(code), wb, str(column), info.get(str(column), ""), ctx.ref))
    files = {wb.file for wb, _ in entries}
    for rule in rules_at("departments"):
        if across is not None and rule in ACROSS_WORKBOOKS:
            found += [f for f in across if f.file in files and f.code in rule.codes]
        else:
            found += rule.run(entries, ctx)
    return found


def across_workbook_findings(entries: InfoEntries, ctx: RuleContext) -> list[Finding]:
    """The findings of the rules across workbooks (F007) over `entries`: each readable workbook with its
    canonical 部门信息 (its layout is enough: the findings name 部门信息 cells)."""
    found: list[Finding] = []
    for rule in ACROSS_WORKBOOKS:
        found += rule.run(entries, ctx)
    return found


def file_major(findings: list[Finding], files: Sequence[str]) -> list[Finding]:
    """Findings ordered by the position of the file they name in `files` (stable: within a file, the
    order validation found them in). The same list however the files were split into batches."""
    position = {file: i for i, file in enumerate(files)}
    return sorted(findings, key=lambda f: position.get(f.file, len(position)))


def check_files(
    workbooks: Sequence[Workbook],
    ctx: RuleContext,
    directory: str | None = None,
    across: Sequence[Finding] | None = None,
) -> tuple[list[FileStatus], dict[str, dict[str, str]], list[Finding]]:
    """Each file's status and 部门信息 (canonical), and the findings about whole workbooks. A workbook with
    a file error is set aside: its rows are read and rejected whole."""
    findings: list[Finding] = []
    statuses: list[FileStatus] = []
    infos: dict[str, dict[str, str]] = {}
    for wb in workbooks:
        status = FileStatus(wb.file, wb.sha256, wb.readable)
        mine = list(wb.findings)
        for rule in rules_at("workbook"):
            mine += rule.run(wb, ctx)
        findings += mine
        status.file_errors = [f.code for f in mine if f.severity == "file_error"]
        if wb.readable:
            infos[wb.file] = canonical_info(wb.info, directory)
            status.dept_code = infos[wb.file].get("dept_code", "")
            status.dept_name = infos[wb.file].get("dept_name", "")
        statuses.append(status)
    by_file = {s.file: s for s in statuses}
    for finding in _info_findings([(wb, infos[wb.file]) for wb in workbooks if wb.readable], ctx, across):
        findings.append(finding)
        by_file[finding.file].file_errors.append(finding.code)
    return statuses, infos, findings


# --------------------------------------------------------------------------------------------------
# Rows: stacked, canonicalised, judged
# --------------------------------------------------------------------------------------------------


def _stacked_rows(
    workbooks: Sequence[Workbook],
    statuses: list[FileStatus],
    infos: dict[str, dict[str, str]],
    directory: str | None,
) -> tuple[list[tuple[pd.DataFrame, dict[str, str]]], Letters]:
    """Every readable workbook's sheet rows with their constant columns (a set-aside workbook's file
    errors in file_error), and where each field's column is in each sheet."""
    frames = []
    letters: Letters = {}
    for wb, status in zip(workbooks, statuses, strict=True):
        if not wb.readable:
            continue
        for sheet in wb.sheets.values():
            letters[(wb.file, sheet.sheet_name)] = sheet.columns
        parts = workbook_rows(wb, infos[wb.file], directory)
        status.rows_read = sum(len(frame) for frame, _ in parts)
        file_error = ";".join(dict.fromkeys(status.file_errors))
        frames += [(frame, {**const, "file_error": file_error}) for frame, const in parts]
    return frames, letters


def row_error_findings(rows: pd.DataFrame, letters: Letters, ctx: RuleContext) -> list[Finding]:
    """The cell rules (pandera, per sheet kind) and the row rules over the rows not set aside."""
    checkable = rows[~rows["rejected"]]
    found = [cell_hits(checkable, INDICATOR_SHEETS, rules_at("cells"), ctx)]
    found += [rule.run(checkable, ctx) for rule in rules_at("rows")]
    found = [h for h in found if not h.empty]
    return hits_to_findings(checkable, pd.concat(found, ignore_index=True), letters, ctx.ref) if found else []


def _with_reasons(
    rows: pd.DataFrame, row_findings: list[Finding], file_findings: list[Finding]
) -> pd.DataFrame:
    """reason_codes and reasons of every rejected row: its row errors in the order found, or for a
    workbook set aside the file errors, in words."""
    # Each erring row's codes and messages in order, by a dict over the findings (a batch has ≈ 1,000
    # erring rows: a groupby with two Python aggregations per row was ≈ 10 ms a batch, 7 of it set-up).
    errors: dict[tuple[str, str, int], tuple[dict[str, None], dict[str, None]]] = {}
    for f in row_findings:
        if f.severity == "row_error" and f.row is not None:  # no row: the groupby's NaN key, dropped
            codes, messages = errors.setdefault((f.file, f.sheet, f.row), ({}, {}))
            codes[f.code] = messages[f.message] = None
    keys = zip(
        rows["source_file"].tolist(), rows["source_sheet"].tolist(), rows["source_row"].tolist(), strict=True
    )
    found = [errors.get(key) for key in keys] if errors else [None] * len(rows)
    # The dtypes the groupby's join gave: str when some row erred, object (all "") when none did.
    dtype = pd.StringDtype("pyarrow", np.nan) if errors else object
    rows["reason_codes"] = pd.Series(
        [";".join(e[0]) if e else "" for e in found], index=rows.index, dtype=dtype
    )
    rows["reasons"] = pd.Series(["；".join(e[1]) if e else "" for e in found], index=rows.index, dtype=dtype)
    file_reject = rows["file_error"] != ""
    rows.loc[file_reject, "reason_codes"] = rows.loc[file_reject, "file_error"]
    rows.loc[file_reject, "reasons"] = (
        rows.loc[file_reject, "source_file"]
        .map(set_aside_reasons(file_findings))
        .fillna("整个工作簿未通过文件检查")
    )
    rows["rejected"] = rows["reason_codes"] != ""
    return rows


def _apply_outcomes(rows: pd.DataFrame, letters: Letters, ctx: RuleContext) -> list[Finding]:
    """Each row's outcome: rejected (any row error) > the outcome rules' (noncore, excluded) > library."""
    rows["outcome"] = "library"
    rows.loc[rows["rejected"], "outcome"] = "rejected"
    found = []
    for rule in rules_at("outcome"):
        hit = rule.run(rows, ctx)
        at = hit["idx"].to_numpy()
        rows.loc[at, "outcome"] = rule.outcome
        rows.loc[at, "reason_codes"] = rule.codes[0]
        rows.loc[at, "reasons"] = ctx.ref.findings[rule.codes[0]].rule_zh
        found.append(hit)
    return hits_to_findings(rows, pd.concat(found, ignore_index=True), letters, ctx.ref)


def warning_findings(rows: pd.DataFrame, letters: Letters, ctx: RuleContext) -> list[Finding]:
    """Warnings and notes over every row (each rule chooses the rows it judges)."""
    found = [rule.run(rows, ctx) for rule in rules_at("warnings")]
    found = [h for h in found if not h.empty]
    return hits_to_findings(rows, pd.concat(found, ignore_index=True), letters, ctx.ref) if found else []


# --------------------------------------------------------------------------------------------------
# The whole step
# --------------------------------------------------------------------------------------------------


def validate_workbooks(
    workbooks: Sequence[Workbook],
    *,
    year: int | None = None,
    finance_dept: str | None = None,
    indicators: pd.DataFrame | None = None,
    rules_dir: str | Path | None = None,
    reference_dir: str | Path | None = None,
    actuals: pd.DataFrame | None = None,
    across: Sequence[Finding] | None = None,
) -> ValidationResult:
    """Validate a set of workbooks together (duplicate departments are only visible together). The
    findings come file by file, in the order of `workbooks`.

    `rules_dir` is the deployment repo's rules/ folder: its function_classification.csv (the bureau's own
    list of the year) adds to and overrides the shipped lists of function codes. `reference_dir` is a
    deployment's own edition of schemas/reference (framework, vocabularies, limits …) for the rules.
    `actuals`: the last evaluated year's actual values (pipelines.store.evaluations.last_actuals), for W215.
    `across`: the findings of the rules across workbooks (ACROSS_WORKBOOKS), decided over a larger set of
    workbooks than these (a run in batches); given, those rules are not run here.
    """
    directory = str(reference_dir) if reference_dir else None
    ctx = RuleContext(
        reference(directory),
        year=year,
        finance_dept=finance_dept or "",
        indicators=indicators,
        actuals=actuals,
    )
    statuses, infos, findings = check_files(workbooks, ctx, directory, across)
    order = [wb.file for wb in workbooks]
    frames, letters = _stacked_rows(workbooks, statuses, infos, directory)
    layouts = [layout(wb) for wb in workbooks]
    if not frames:
        empty = empty_rows()
        findings = file_major(findings, order)
        return ValidationResult(empty, findings, statuses, _departments(statuses, infos, ctx), layouts)
    stacked = stack_rows(frames)
    del frames
    cells = shown_cells(stacked)
    rows = canonicalize_rows(stacked, rules_dir, directory)
    del stacked
    rows["rejected"] = rows["file_error"] != ""
    row_findings = row_error_findings(rows, letters, ctx)
    rows = _with_reasons(rows, row_findings, findings)
    findings += row_findings + _apply_outcomes(rows, letters, ctx) + warning_findings(rows, letters, ctx)
    for rule in rules_at("sheets"):
        findings += rule.run(rows, workbooks, ctx)
    findings = file_major(findings, order)
    # Downstream steps only read the rows: keep them compact (a 1M-row year: ≈ 1 GiB of text → ≈ 100 MiB)
    result = ValidationResult(
        compact_text_columns(rows), findings, statuses, _departments(statuses, infos, ctx), layouts, cells
    )
    del rows
    release_free_memory()  # the checks' working copies are gone: give their pages to the next step
    return result


def empty_rows() -> pd.DataFrame:
    """The rows of a validation that read none."""
    return pd.DataFrame(columns=["outcome", "reason_codes", "reasons", *PROVENANCE])


def set_aside_reasons(findings: Iterable[Finding]) -> dict[str, str]:
    """file → why the whole workbook was set aside, in words (the rules broken), for its rows' reasons."""
    texts: dict[str, dict[str, None]] = {}
    for f in findings:
        if f.severity == "file_error":
            texts.setdefault(f.file, {})[f.message] = None
    return {file: "整个工作簿未通过文件检查：" + "；".join(messages) for file, messages in texts.items()}


def _departments(
    statuses: Iterable[FileStatus], infos: dict[str, dict[str, str]], ctx: RuleContext
) -> pd.DataFrame:
    records = [
        {**infos[s.file], "source_file": s.file}
        for s in statuses
        if s.readable and not s.set_aside and s.file in infos
    ]
    columns = [c.column for c in ctx.ref.columns["info"]] + ["source_file"]
    return pd.DataFrame(records, columns=columns).fillna("")
