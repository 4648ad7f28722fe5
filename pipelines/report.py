"""Report: the year's review files under reports/<Y>/ (SPEC §6).

CHANGELOG.md comes from the same ChangeSet as `indicators diff`; merge_review.xlsx lists likely
duplicates for a person; feedback/ holds one workbook per submitted file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.changes import ChangeSet, changes_markdown
from pipelines.read import Workbook
from pipelines.validate import ValidationResult


@dataclass
class ReportInputs:
    year: int
    changes: ChangeSet
    validation: ValidationResult
    workbooks: list[Workbook]
    candidates: pd.DataFrame
    tables: object  # LibraryTables of the new release
    previous: object = None  # LibraryTables of the last release, or None
    history: list[dict] = field(default_factory=list)  # per-release counts for the trend


def write_changelog(out_dir: Path, inputs: ReportInputs) -> Path:
    path = out_dir / "CHANGELOG.md"
    path.write_text(changes_markdown(inputs.changes, f"{inputs.year} 年度指标库变更记录"), encoding="utf-8")
    return path


def write_feedback_workbooks(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    from pipelines.feedback import write_feedback

    folder = out_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_feedback(wb, [f for f in inputs.validation.findings if f.file == wb.file], folder)
        for wb in inputs.workbooks
    ]


def write_merge_review_file(out_dir: Path, inputs: ReportInputs) -> Path:
    from pipelines.match import write_merge_review

    path = out_dir / "merge_review.xlsx"
    write_merge_review(inputs.candidates, path)
    return path


def write_annual_report(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """Every report file of the year; deterministic, so an unchanged year makes no git change."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [write_changelog(out_dir, inputs), write_merge_review_file(out_dir, inputs)]
    files += write_feedback_workbooks(out_dir, inputs)
    return files
