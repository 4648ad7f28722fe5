"""Report: the year's review files under reports/<Y>/ (CONTRACT §6), written by `write_annual_report`.

review.html and review.xlsx carry the same tables, computed once (tables.review_tables) and rendered by
review_html / review_xlsx. CHANGELOG.md comes from the same ChangeSet as `indicators diff`;
merge_review.xlsx lists likely duplicates for a person (written by pipelines.dedupe); feedback/ holds one
workbook per submitted file (feedback.py).

Everything is deterministic (sorted, no clock), so rebuilding an unchanged year makes no git change.
Submitted text reaches the page only through Jinja2 autoescaping or charts.esc, and the workbooks only
through pipelines.common.xlsx_out (formula triggers neutralized).
"""

from __future__ import annotations

from pathlib import Path

from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.consolidate.changes import changes_markdown
from pipelines.dedupe.review import write_merge_review
from pipelines.report.feedback import write_feedback
from pipelines.report.model import ReportInputs, findings_by_file
from pipelines.report.review_html import write_review_html
from pipelines.report.review_xlsx import write_review_xlsx
from pipelines.report.tables import review_tables


def write_changelog(out_dir: Path, inputs: ReportInputs) -> Path:
    path = out_dir / "CHANGELOG.md"
    text = changes_markdown(inputs.changes, f"{inputs.year} 年度指标库变更记录")
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_merge_review_file(out_dir: Path, inputs: ReportInputs) -> Path:
    path = out_dir / "merge_review.xlsx"
    write_merge_review(inputs.candidates, path)
    return path


def write_feedback_workbooks(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """One feedback workbook per submitted file, with the findings that name it."""
    folder = out_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    by_file = findings_by_file(inputs.validation.findings)
    return [
        write_feedback(wb, by_file.get(wb.file, []), folder)
        for wb in sorted(inputs.workbooks, key=lambda w: w.file)
    ]


def write_annual_report(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """Every report file of the year; deterministic, so an unchanged year makes no git change."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = review_tables(inputs)
    files = [
        write_review_html(out_dir, inputs, tables),
        write_review_xlsx(out_dir, inputs, tables),
        write_changelog(out_dir, inputs),
        write_merge_review_file(out_dir, inputs),
    ]
    files += write_feedback_workbooks(out_dir, inputs)
    return files
