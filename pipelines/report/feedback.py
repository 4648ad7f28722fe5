"""Feedback: one workbook per submitted workbook, telling the department exactly what to fix and where.

Sheet 汇总 gives the verdict, the counts and every problem grouped (one rule broken 500 times is one line
with its first cells and a count). Then each indicator sheet comes back as it was read — the Excel row
number first, the columns in the department's own order — with the offending cells coloured (red: the
row or the file is rejected, yellow: a warning, grey: kept out of the library) and a last column that
explains the row's problems. Everything goes through pipelines.common.xlsx_out (neutralized, deterministic).

The rows come as plain column lists (`SheetValues`): from a workbook as read (`frame_values`, `indicators
validate --feedback`) or from the cells a validation kept (pipelines.validate.returned, the rebuild's
outbox). The workbook is written by pipelines.common.xlsx_direct (the package's XML written directly, the
house formats), its tables a column at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path

from pipelines.common.columns import first_col_index
from pipelines.common.findings import (
    SEVERITY_ORDER,
    SEVERITY_ZH,
    Finding,
    findings_by_file,
    group_findings,
    sort_findings,
)
from pipelines.common.gc_policy import collector_paused
from pipelines.common.xlsx_direct import DirectBook, DirectSheet
from pipelines.common.xlsx_out import SEVERITY_FORMAT, auto_width, shown_values
from pipelines.intake.workbook import SheetRows, Workbook
from pipelines.validate.returned import ShownCells
from pipelines.validate.runner import ValidationResult
from schemas.text import compact
from schemas.vocab import INDICATOR_SHEETS, reference

FEEDBACK_SUFFIX = "_反馈.xlsx"
SUMMARY_SHEET = "汇总"
SUMMARY_INFO_KEYS = ("year", "dept_code", "dept_name", "complexity")  # 部门信息 shown on 汇总
GROUP_TITLES = {
    "code": "代码",
    "severity": "类别",
    "sheet": "工作表",
    "field": "列",
    "message": "问题",
    "fix": "处理建议",
    "cells": "单元格",
    "count": "数量",
}
GROUP_WIDTHS = {
    "code": 8,
    "severity": 10,
    "sheet": 18,
    "field": 16,
    "message": 46,
    "fix": 46,
    "cells": 26,
    "count": 8,
}
# Extra columns of the returned sheets (English keys that columns.csv never uses).
ROW_COL, OUTCOME_COL, NOTES_COL = "__excel_row__", "__outcome__", "__notes__"
ROW_TITLE, OUTCOME_TITLE, NOTES_TITLE = "原行号", "审核结果", "问题说明"
# 审核结果 of a returned row, by the worst severity of its findings.
ROW_RESULT_ZH = {
    "file_error": "退回（文件错误）",
    "row_error": "退回",
    "excluded": "不入库",
    "warning": "受理（有提示）",
    None: "受理",
}
# One indicator sheet's rows as plain lists: English column → values in the order read; "source_row" holds
# the Excel row numbers (absent when the rows carry no provenance).
SheetValues = dict[str, list]
ValuesOf = Callable[[SheetRows], SheetValues]


def feedback_name(workbook_file: str) -> str:
    """'某局2026.xlsx' → '某局2026_反馈.xlsx' (only the file's own name, never a path)."""
    stem = Path(workbook_file.replace("\\", "/")).stem or "工作簿"
    return stem + FEEDBACK_SUFFIX


def own_findings(workbook: Workbook, findings: Iterable[Finding]) -> list[Finding]:
    """The findings about this workbook: those naming its file, plus the reader's own, once each."""
    names = {workbook.file, workbook.path.name, str(workbook.path)}
    chosen = dict.fromkeys(f for f in findings if f.file in names or not f.file)
    chosen.update(dict.fromkeys(workbook.findings))
    return sort_findings(chosen)


def _worst(findings: Iterable[Finding]) -> str | None:
    ranked = sorted((SEVERITY_ORDER.get(f.severity, 9), f.severity) for f in findings)
    return ranked[0][1] if ranked else None


def _sheet_findings(sheet: SheetRows, findings: list[Finding]) -> list[Finding]:
    """Findings located on this sheet: by its name as written, or by a name that resolves to its kind."""
    lookup = reference().sheet_lookup
    return [
        f
        for f in findings
        if f.sheet and (f.sheet == sheet.sheet_name or lookup.get(compact(f.sheet)) == sheet.kind)
    ]


@lru_cache(maxsize=4096)
def _letters(letters: str) -> tuple[str, ...]:
    """'C' → ('C',); 'C:D' / 'C,D' → ('C', 'D') (a header spanning merged cells). Cached: every finding's
    column is read through it, and a sheet's findings name a few dozen columns."""
    out, token = [], ""
    for ch in letters.upper() + " ":
        if ch.isalpha():
            token += ch
        elif token:
            out.append(token)
            token = ""
    return tuple(out)


def _note(f: Finding) -> str:
    where = f"{f.column}列：" if f.column else ""
    return f"[{f.code}] {where}{f.message}"


def _verdict(workbook: Workbook, findings: list[Finding], rejected_rows: int) -> tuple[str, str | None]:
    severities = {f.severity for f in findings}
    if not workbook.readable:
        return "文件无法读取，本次不予受理。请按下列问题处理后重新提交。", "error"
    if "file_error" in severities:
        return "存在文件错误，整个工作簿本次不予受理。请按下列问题修改后重新提交整个工作簿。", "error"
    if "row_error" in severities:
        return (
            f"有 {rejected_rows} 行被退回（行错误），其余行已受理。请修改被退回的行后重新提交整个工作簿。",
            "error",
        )
    warnings = sum(1 for f in findings if f.severity == "warning")
    if warnings:
        return f"审核通过，有 {warnings} 条提示，请尽量改正。", "warning"
    return "审核通过，未发现问题。", None


def frame_values(sheet: SheetRows) -> SheetValues:
    """A sheet's rows as read (its frame) as column lists: the columns the feedback can show."""
    frame = sheet.frame
    return {c: frame[c].tolist() for c in frame.columns if c in sheet.columns or c == "source_row"}


def _row_count(values: SheetValues) -> int:
    return len(next(iter(values.values()))) if values else 0


def _excel_rows(sheet: SheetRows, values: SheetValues) -> list[int]:
    """The Excel row number of each row (its position + header row when provenance is missing)."""
    if "source_row" in values:
        return [int(r) for r in values["source_row"]]
    return list(range(sheet.header_row + 1, sheet.header_row + 1 + _row_count(values)))


def _column_order(letters: str) -> int:
    try:
        return first_col_index(letters)
    except ValueError:
        return 1 << 20  # unknown position: after the known columns


def _row_outcomes(rows: list[int], findings: list[Finding], file_error: bool) -> dict[int, str | None]:
    """Excel row → the worst severity of its findings (file_error for every row of a rejected file)."""
    if file_error:
        return dict.fromkeys(rows, "file_error")
    worst: dict[int, tuple[int, str]] = {}  # row → (rank, severity), the least rank (then name) kept
    for f in findings:
        if f.row is not None:
            ranked = (SEVERITY_ORDER.get(f.severity, 9), f.severity)
            if f.row not in worst or ranked < worst[f.row]:
                worst[f.row] = ranked
    return {r: worst[r][1] if r in worst else None for r in rows}


def _sheet_counts(
    workbook: Workbook, values: Mapping[str, SheetValues], findings: list[Finding], file_error: bool
) -> list[tuple[object, ...]]:
    """Per indicator sheet: rows read, rejected, kept out, with warnings (CONTRACT §3's outcomes as far as
    validation knows them)."""
    counts: list[tuple[object, ...]] = []
    for kind in INDICATOR_SHEETS:
        sheet = workbook.sheets.get(kind)
        if sheet is None:
            continue
        rows = _excel_rows(sheet, values[kind])
        outcomes = list(_row_outcomes(rows, _sheet_findings(sheet, findings), file_error).values())
        counts.append(
            (
                sheet.sheet_name,
                len(outcomes),
                sum(1 for s in outcomes if s in ("file_error", "row_error")),
                sum(1 for s in outcomes if s == "excluded"),
                sum(1 for s in outcomes if s == "warning"),
            )
        )
    return counts


def _info_formats(workbook: Workbook, findings: list[Finding]) -> dict[str, str | None]:
    """部门信息 key → the highlight of the worst finding on its cell (by row) or on its field."""
    ref = reference()
    on_info = [
        f
        for f in findings
        if f.sheet and (f.sheet == workbook.info_sheet or ref.sheet_lookup.get(compact(f.sheet)) == "info")
    ]
    formats: dict[str, str | None] = {}
    for spec in ref.columns["info"]:
        cell_row = workbook.info_cells.get(spec.column, (None, ""))[0]
        worst = _worst(
            f for f in on_info if (cell_row is not None and f.row == cell_row) or f.field == spec.header_zh
        )
        formats[spec.column] = SEVERITY_FORMAT.get(worst) if worst else None
    return formats


def _summary_items(
    workbook: Workbook, findings: list[Finding], rejected_rows: int
) -> list[tuple[str, object, str | None]]:
    """The head of 汇总: file, department information, verdict, checksum — (label, value, highlight)."""
    ref = reference()
    info_fmt = _info_formats(workbook, findings)
    items: list[tuple[str, object, str | None]] = [("文件", workbook.file, None)]
    for key in SUMMARY_INFO_KEYS:
        spec = ref.column("info", key)
        value = workbook.info.get(key, "")
        # Required keys are always shown once the file was read: a missing one is the problem to see.
        if value or info_fmt.get(key) or (spec.required and workbook.readable):
            items.append((spec.header_zh, value, info_fmt.get(key)))
    verdict, verdict_fmt = _verdict(workbook, findings, rejected_rows)
    items.append(("审核结论", verdict, verdict_fmt))
    if workbook.sha256:
        items.append(("文件校验码", workbook.sha256, None))
    return items


def _write_row_counts(book: DirectBook, ws: DirectSheet, row: int, counts: list[tuple[object, ...]]) -> int:
    if not counts:
        return row
    row = book.write_row(ws, row + 1, ["数据行"], "section")
    row = book.write_row(ws, row, ["工作表", "读取行数", "退回行数", "不入库行数", "有提示的行数"], "header")
    for values in counts:
        row = book.write_row(ws, row, values)
    return row


def _write_severity_counts(book: DirectBook, ws: DirectSheet, row: int, findings: list[Finding]) -> int:
    row = book.write_row(ws, row + 1, ["问题统计"], "section")
    row = book.write_row(ws, row, ["类别", "问题数", "涉及行数"], "header")
    for severity in SEVERITY_ORDER:
        hits = [f for f in findings if f.severity == severity]
        rows_hit = {(f.sheet, f.row) for f in hits if f.row is not None}
        row = book.write_row(
            ws,
            row,
            [SEVERITY_ZH[severity], len(hits), len(rows_hit)],
            [SEVERITY_FORMAT.get(severity) if hits else None, None, None],
        )
    return row


def _write_problem_list(book: DirectBook, ws: DirectSheet, row: int, findings: list[Finding]) -> int:
    """问题清单: every problem grouped (one rule broken 500 times is one line with its first cells)."""
    row = book.write_row(ws, row + 1, ["问题清单"], "section")
    groups = group_findings(findings)
    columns: dict[str, Sequence[object]] = {
        "code": [g.code for g in groups],
        "severity": [SEVERITY_ZH.get(g.severity, g.severity) for g in groups],
        "sheet": [g.sheet for g in groups],
        "field": [g.field for g in groups],
        "message": [g.message for g in groups],
        "fix": [g.fix for g in groups],
        "cells": [g.cells_zh for g in groups],
        "count": [g.count for g in groups],
    }
    wrapped = ("message", "fix", "cells", "sheet", "field")
    formats = {"severity": [SEVERITY_FORMAT.get(g.severity) or "wrap" for g in groups]}
    formats |= {key: ["wrap"] * len(groups) for key in wrapped}
    table = Table(columns, GROUP_TITLES, GROUP_WIDTHS, formats=formats)
    write_columns(book, ws, table, start_row=row, freeze=False)
    row += len(groups) + 1
    return row if groups else book.write_row(ws, row, ["未发现问题"])


def _write_skipped(book: DirectBook, ws: DirectSheet, row: int, workbook: Workbook) -> int:
    """Rows of the indicator sheets not read as data (notes, blank separators) and why."""
    skipped = [
        (s.sheet_name, r, why)
        for kind in INDICATOR_SHEETS
        if (s := workbook.sheets.get(kind))
        for r, why in s.skipped_rows
    ]
    if not skipped:
        return row
    row = book.write_row(ws, row + 1, ["未作为数据读取的行"], "section")
    row = book.write_row(ws, row, ["工作表", "行号", "原因"], "header")
    for skipped_row in skipped:
        row = book.write_row(ws, row, skipped_row, [None, None, "wrap"])
    return row


def _write_summary(
    book: DirectBook, workbook: Workbook, values: Mapping[str, SheetValues], findings: list[Finding]
) -> None:
    ws = book.add_sheet(SUMMARY_SHEET)
    last_col = len(GROUP_TITLES) - 1
    for j, key in enumerate(GROUP_TITLES):
        ws.set_column(j, j, GROUP_WIDTHS[key])
    ws.set_column(0, 0, 14)
    file_error = any(f.severity == "file_error" for f in findings)
    counts = _sheet_counts(workbook, values, findings, file_error)
    rejected_rows = sum(int(c[2]) for c in counts)  # type: ignore[call-overload]

    row = book.write_row(ws, 0, ["预算绩效指标填报反馈"], "title") + 1
    for label, shown, fmt in _summary_items(workbook, findings, rejected_rows):
        book.write(ws, row, 0, label, "label")
        book.write_merged(ws, row, 1, last_col, shown, fmt or "wrap")
        row += 1
    row = _write_row_counts(book, ws, row, counts)
    row = _write_severity_counts(book, ws, row, findings)
    row = _write_problem_list(book, ws, row, findings)
    _write_skipped(book, ws, row, workbook)


def _cell_marks(
    findings: list[Finding], position: dict[int, int], letter_to_column: dict[str, str]
) -> tuple[dict[str, dict[int, str]], dict[int, list[Finding]]]:
    """column → {row position → highlight}: the most severe among the findings pointing at the cell (the
    row-number column when the finding names no known column); and each position's findings."""
    cell_rank: dict[tuple[int, str], int] = {}
    marks: dict[str, dict[int, str]] = defaultdict(dict)
    notes: dict[int, list[Finding]] = defaultdict(list)
    for f in sort_findings(findings):
        if f.row is None or f.row not in position:
            continue
        i = position[f.row]
        notes[i].append(f)
        fmt = SEVERITY_FORMAT.get(f.severity)
        if fmt is None:
            continue
        target = next((letter_to_column[x] for x in _letters(f.column) if x in letter_to_column), ROW_COL)
        rank = SEVERITY_ORDER.get(f.severity, 9)
        if rank < cell_rank.get((i, target), 99):
            cell_rank[(i, target)] = rank
            marks[target][i] = fmt
    return marks, notes


def _row_notes(found: list[Finding]) -> str:
    """问题说明 of one row: its findings, worst first."""
    ordered = sorted(found, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.column, f.code))
    return "；".join(_note(f) for f in ordered)


def _write_sheet(
    book: DirectBook, sheet: SheetRows, values: SheetValues, findings: list[Finding], file_error: bool
) -> None:
    """The sheet as read (Excel row first, the department's column order), problems coloured and explained."""
    specs = {s.column: s for s in reference().columns[sheet.kind]}
    present = [c for c in sheet.columns if c in specs and c in values]
    present.sort(key=lambda c: (_column_order(sheet.columns[c]), c))
    letter_to_column = {letter: c for c in present for letter in _letters(sheet.columns[c])}
    n = _row_count(values)
    shown_rows = [int(r) for r in values["source_row"]] if "source_row" in values else list(range(n))
    outcomes = _row_outcomes(_excel_rows(sheet, values), findings, file_error)
    marks, notes = _cell_marks(findings, {r: i for i, r in enumerate(shown_rows)}, letter_to_column)
    row_outcomes = [outcomes.get(r) for r in shown_rows]
    outcome_marks = [SEVERITY_FORMAT.get(o or "") for o in row_outcomes]
    formats = {c: _with_marks([None] * n, marks.get(c, {})) for c in (ROW_COL, *present)}
    formats[OUTCOME_COL] = outcome_marks
    formats[NOTES_COL] = _with_marks(["wrap"] * n, marks.get(NOTES_COL, {}))
    columns = {
        ROW_COL: shown_rows,
        **{c: values[c] for c in present},
        OUTCOME_COL: [ROW_RESULT_ZH.get(o, ROW_RESULT_ZH[None]) for o in row_outcomes],
        NOTES_COL: [_row_notes(notes[i]) if i in notes else "" for i in range(n)],
    }
    titles = {ROW_COL: ROW_TITLE, OUTCOME_COL: OUTCOME_TITLE, NOTES_COL: NOTES_TITLE}
    titles |= {c: specs[c].header_zh for c in present}
    widths = {ROW_COL: 8, OUTCOME_COL: 14, NOTES_COL: 60} | {c: specs[c].width for c in present}
    required = {c for c in present if specs[c].required}
    table = Table(columns, titles, widths, formats=formats, required=required)
    write_columns(book, book.add_sheet(sheet.sheet_name), table, freeze_cols=1)


def _with_marks(base: list[str | None], marks: dict[int, str]) -> list[str | None]:
    for i, fmt in marks.items():
        base[i] = fmt
    return base


# --- tables, a column at a time ------------------------------------------------------------------------


class Table:
    """Columns to write: values (lists of equal length), header titles, widths, per-cell format names."""

    def __init__(
        self,
        columns: Mapping[str, Sequence[object]],
        titles: Mapping[str, str],
        widths: Mapping[str, float],
        *,
        formats: Mapping[str, Sequence[str | None]] | None = None,
        required: Iterable[str] = (),
    ) -> None:
        self.columns, self.titles, self.widths = columns, titles, widths
        self.formats = formats or {}
        self.required = set(required)

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def write_columns(
    book: DirectBook,
    ws: DirectSheet,
    table: Table,
    *,
    start_row: int = 0,
    freeze: bool = True,
    freeze_cols: int = 0,
) -> None:
    """One header row, then each column in one call (XlsxBook.put_column: the cells write() would store,
    text kept literal); the text is neutralized first (shown_values)."""
    for j, (column, values) in enumerate(table.columns.items()):
        header = table.titles.get(column, column)
        ws.set_column(j, j, table.widths.get(column) or auto_width(header, values))
        book.write(ws, start_row, j, header, "header_required" if column in table.required else "header")
        cells = shown_values(values)
        book.put_column(ws, start_row + 1, j, cells, table.formats.get(column) or [None] * len(cells))
    if freeze:
        ws.freeze_panes(start_row + 1, freeze_cols)
    if table.columns:
        ws.autofilter(start_row, 0, start_row + max(table.rows, 1), len(table.columns) - 1)


def write_feedback(
    workbook: Workbook, findings: list[Finding], out_dir: Path, values: ValuesOf = frame_values
) -> Path:
    """Write '<原文件名>_反馈.xlsx' into `out_dir` for one submitted workbook; returns its path.

    `findings` may hold every file's findings: those naming this workbook's file are used (with the
    reader's own findings on `workbook`). `values` gives each indicator sheet's rows (default: the frames
    of the workbook as read). An unreadable workbook gets the 汇总 sheet only.
    """
    # A tuple per cell lives until the file is written: the collections those allocations trigger walked the
    # whole validation the caller holds, costing more than the writing itself.
    with collector_paused():
        return _write_feedback(workbook, own_findings(workbook, findings), Path(out_dir), values)


def _write_feedback(workbook: Workbook, mine: list[Finding], out_dir: Path, values: ValuesOf) -> Path:
    book = DirectBook(title=f"{workbook.file} 审核反馈", subject="预算绩效指标填报反馈")
    draw_feedback(book, workbook, mine, values)
    return book.save(out_dir / feedback_name(workbook.file))


def draw_feedback(book: DirectBook, workbook: Workbook, mine: list[Finding], values: ValuesOf) -> None:
    """The feedback's sheets into `book` (a DirectBook; an xlsx_out.XlsxBook takes the same calls, which
    tests/test_feedback_direct.py uses to compare both writers)."""
    file_error = any(f.severity == "file_error" for f in mine)
    sheets = {kind: workbook.sheets[kind] for kind in INDICATOR_SHEETS if kind in workbook.sheets}
    rows = {kind: values(sheet) for kind, sheet in sheets.items()}
    _write_summary(book, workbook, rows, mine)
    if workbook.readable:
        for kind, sheet in sheets.items():
            _write_sheet(book, sheet, rows[kind], _sheet_findings(sheet, mine), file_error)


def write_feedback_workbooks(folder: Path, validation: ValidationResult) -> list[Path]:
    """One feedback workbook per submitted file into `folder`, with the findings that name it: each
    workbook's layout with its rows' cells (validation keeps no workbook)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_file = findings_by_file(validation.findings)
    cells = ShownCells(validation.cells)
    written = []
    for wb in sorted(validation.layouts, key=lambda w: w.file):
        rows = partial(cells.values, wb.file)
        written.append(write_feedback(wb, by_file.get(wb.file, []), folder, rows))
    return written
