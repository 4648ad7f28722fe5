"""The submission workbook (CONTRACT §2) that `indicators template` writes: blank, or pre-filled for one
department from the published library (pipelines/store/prefill.py builds the content, TemplateFill).

Everything shown comes from schemas/reference/*.csv: the headers, which are required, the drop-down lists
and the 填报说明 sheet (pipelines/intake/template_instructions.py). A bureau that edits a reference file gets
a matching template on the next run. A pre-filled workbook is the same workbook with cells filled in: the
same sheets, columns, drop-downs and 填报说明, so the reader and validation treat it like any submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.common.columns import col_letter
from pipelines.common.formulas import is_dangerous
from pipelines.common.xlsx_out import FILL_WARNING, XlsxBook, write_table, xlsx_book
from pipelines.intake.template_instructions import instruction_blocks, vocab_label, vocab_order
from schemas.text import compact
from schemas.vocab import INDICATOR_SHEETS, ColumnSpec, Reference, reference

TEMPLATE_NAME = "预算绩效指标填报模板.xlsx"
INSTRUCTIONS_SHEET = "填报说明"
LISTS_SHEET = "下拉选项"  # hidden; list validations point here because inline lists are capped at 255 chars
TEMPLATE_ROWS = 2000  # drop-downs and input messages cover Excel rows 2..TEMPLATE_ROWS
INFO_HEADERS = ("项目", "内容")
# Columns typed as text in the template so codes keep their digits exactly (no 2.08E+06, no lost zeros).
TEXT_COLUMNS = frozenset({"function_code", "library_id", "seq"})
TO_FILL_NOTE = "请填写"  # the comment on a cell a pre-filled workbook leaves to the department
EXTRA = "extra"  # SheetFill row key: {header: value} of columns the template does not know


@dataclass(frozen=True)
class SheetFill:
    """The rows of one indicator sheet: {column: value} in the sheet's columns (missing = empty), and the
    cells the department must still fill, as (row position, column). A row's EXTRA key holds its cells
    under headers the template does not know ({header: value}): written in columns after the template's,
    so what a department wrote there comes back as it was read."""

    rows: Sequence[Mapping[str, object]] = ()
    to_fill: Sequence[tuple[int, str]] = ()


@dataclass(frozen=True)
class TemplateFill:
    """What a pre-filled workbook holds beyond the blank one: 部门信息 values by info column, the rows of
    each indicator sheet by kind ("core", "project", "common"), info columns left to fill, the file name."""

    info: Mapping[str, object] = field(default_factory=dict)
    sheets: Mapping[str, SheetFill] = field(default_factory=dict)
    info_to_fill: Sequence[str] = ()
    file_name: str = TEMPLATE_NAME


def shown_value(ref: Reference, vocab: str, value: str) -> str:
    """A vocabulary value as the drop-down offers it ("=" as 等于, see dropdown_values)."""
    values = list(ref.vocab_values.get(vocab, ()))
    return dropdown_values(ref, vocab)[values.index(value)] if value in values else value


# --- writing -----------------------------------------------------------------------------------------

_INSTRUCTION_WIDTHS = (22, 26, 40, 40, 56, 12)


def _write_instructions(book: XlsxBook, ref: Reference) -> None:
    ws = book.add_sheet(INSTRUCTIONS_SHEET)
    for j, width in enumerate(_INSTRUCTION_WIDTHS):
        ws.set_column(j, j, width)
    row = book.write_row(ws, 0, ["预算绩效指标填报说明"], "title")
    row = book.write_row(
        ws, row, ["红色加粗的列名（或项目）为必填；带下拉列表的单元格请从列表中选择，也可填写常见同义写法。"]
    )
    for block in instruction_blocks(ref):
        row += 1
        row = book.write_row(ws, row, [block.title], "section")
        row = book.write_row(ws, row, block.header, "header")
        for values in block.rows:
            row = book.write_row(ws, row, values, "wrap")


def dropdown_values(ref: Reference, vocab: str) -> list[str]:
    """The values offered in a drop-down: the vocabulary, except that a value a spreadsheet would take
    for a formula ("=") is offered as its first recognised alias that is plain text ("等于").

    Picking from a list is parsed like typing, so "=" would start a formula (and a neutralized "'=" would
    show its quote); the validator maps the alias back to the canonical value.
    """
    out = []
    for value in ref.vocab_values.get(vocab, ()):
        if is_dangerous(value):
            aliases = [
                k for k, v in ref.vocab_lookup.get(vocab, {}).items() if v == value and k != compact(value)
            ]
            value = next((a for a in aliases if not is_dangerous(a)), value)
        out.append(value)
    return out


def list_sources(ref: Reference) -> dict[str, str]:
    """vocab → the range of its values on the hidden lists sheet (column per vocab, values from row 2)."""
    sources = {}
    for j, vocab in enumerate(vocab_order(ref)):
        letter = col_letter(j)
        sources[vocab] = f"='{LISTS_SHEET}'!${letter}$2:${letter}${len(dropdown_values(ref, vocab)) + 1}"
    return sources


def _write_lists(book: XlsxBook, ref: Reference) -> None:
    """The hidden sheet of drop-down values, laid out as list_sources() says."""
    ws = book.add_sheet(LISTS_SHEET)
    for j, vocab in enumerate(vocab_order(ref)):
        ws.set_column(j, j, 18)
        book.write(ws, 0, j, vocab_label(ref, vocab), "label")
        for i, value in enumerate(dropdown_values(ref, vocab), 1):
            book.write(ws, i, j, value)
    ws.hide()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _validation(spec: ColumnSpec, sources: dict[str, str], ref: Reference) -> dict[str, object]:
    """A drop-down (vocab columns) or an input message (other columns) explaining the column."""
    title = _clip(spec.header_zh + ("（必填）" if spec.required else ""), 32)
    options: dict[str, object] = {
        "input_title": title,
        "input_message": _clip(spec.description_zh or spec.header_zh, 255),
    }
    if spec.vocab and spec.vocab in sources:
        values = "、".join(dropdown_values(ref, spec.vocab))
        options.update(
            {
                "validate": "list",
                "source": sources[spec.vocab],
                "error_type": "warning",  # officials may still type an alias; the validator resolves it
                "error_title": _clip(f"{spec.header_zh}：请从列表中选择", 32),
                "error_message": _clip(
                    f"建议从下拉列表中选择：{values}。如填写的是同义写法，可点“是”保留，系统会自动识别。", 255
                ),
            }
        )
    else:
        options["validate"] = "any"
    return options


def _to_fill_format(book: XlsxBook, text: bool) -> Format:
    """A highlighted empty cell the department must fill (text-typed in the code columns)."""
    return book.workbook.add_format(
        {"font_name": "宋体", "font_size": 11, "valign": "top", "bg_color": FILL_WARNING, "border": 1}
        | ({"num_format": "@"} if text else {})
    )


def _mark_to_fill(ws: Worksheet, row: int, col: int, header: str, style: Format) -> None:
    ws.write_blank(row, col, None, style)
    ws.write_comment(row, col, f"{TO_FILL_NOTE}：{header}", {"author": "指标库"})


def _write_info(
    book: XlsxBook, ref: Reference, sources: dict[str, str], year: int | None, fill: TemplateFill
) -> None:
    ws = book.add_sheet(ref.sheets["info"].name_zh)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 48, book.fmt("text"))  # text cells: 部门编码 keeps leading zeros
    book.write_row(ws, 0, INFO_HEADERS, "header")
    values = {"year": str(year)} if year is not None else {}
    values |= {k: str(v) for k, v in fill.info.items() if v not in (None, "")}
    style = _to_fill_format(book, text=True) if fill.info_to_fill else None
    for i, spec in enumerate(ref.columns["info"], 1):
        book.write(ws, i, 0, spec.header_zh, "label_required" if spec.required else "label")
        if spec.column in values:
            book.write(ws, i, 1, values[spec.column], "text")
        elif spec.column in fill.info_to_fill and style is not None:
            _mark_to_fill(ws, i, 1, spec.header_zh, style)
        ws.data_validation(i, 1, i, 1, _validation(spec, sources, ref))
    ws.freeze_panes(1, 0)


def _extra_headers(ref: Reference, kind: str, rows: Sequence[Mapping[str, object]]) -> list[str]:
    """The headers of the rows' extra cells, in first-seen order; one that would read as a template
    column (a second 目标值 column kept by the reader) is left out: it would be read as that column."""
    known = ref.header_lookup.get(kind, {})
    seen: dict[str, None] = {}
    for row in rows:
        extra = row.get(EXTRA)
        for header in extra if isinstance(extra, Mapping) else ():
            if compact(str(header)) not in known:
                seen.setdefault(str(header), None)
    return list(seen)


def _write_indicator_sheet(
    book: XlsxBook, ref: Reference, kind: str, sources: dict[str, str], fill: SheetFill
) -> Worksheet:
    specs = ref.columns[kind]
    columns = {s.column: pd.Series([row.get(s.column) for row in fill.rows], dtype=object) for s in specs}
    extra = _extra_headers(ref, kind, fill.rows)
    for k, header in enumerate(extra):
        cells = [row.get(EXTRA) for row in fill.rows]
        columns[f"{EXTRA}{k}"] = pd.Series(
            [c.get(header) if isinstance(c, Mapping) else None for c in cells], dtype=object
        )
    frame = pd.DataFrame(columns)
    ws = write_table(
        book,
        ref.sheets[kind].name_zh,
        frame,
        {s.column: s.header_zh for s in specs} | {f"{EXTRA}{k}": h for k, h in enumerate(extra)},
        widths={s.column: s.width for s in specs},
        required=[s.column for s in specs if s.required],
        column_formats={s.column: "text" for s in specs if s.column in TEXT_COLUMNS},
        autofilter=False,
    )
    last = max(TEMPLATE_ROWS, len(frame) + 1)  # a long pre-filled sheet keeps its drop-downs below
    ws.autofilter(0, 0, last - 1, len(specs) - 1)
    for j, spec in enumerate(specs):
        ws.data_validation(1, j, last - 1, j, _validation(spec, sources, ref))
    position = {s.column: j for j, s in enumerate(specs)}
    styles = {text: _to_fill_format(book, text) for text in (False, True)} if fill.to_fill else {}
    for i, column in fill.to_fill:
        j = position[column]
        _mark_to_fill(ws, i + 1, j, specs[j].header_zh, styles[column in TEXT_COLUMNS])
    return ws


def write_template(out_dir: Path, *, year: int | None = None, fill: TemplateFill | None = None) -> Path:
    """Write the workbook into `out_dir` (created if needed) and return its path: blank (预算绩效指标填报模板
    .xlsx), or with `fill`'s 部门信息 and rows, its cells to fill highlighted with a note, under its name.

    `year` pre-fills 填报年度. The file is byte-identical for the same reference data, year and fill.
    """
    ref = reference()
    fill = fill or TemplateFill()
    path = Path(out_dir) / fill.file_name
    with xlsx_book(path, title="预算绩效指标填报模板", subject="预算绩效指标库") as book:
        _write_instructions(book, ref)
        # xlsxwriter keeps sheets in creation order: the hidden lists sheet goes last, so its ranges are
        # computed up front (validations are plain range formulas, resolved when Excel opens the file).
        sources = list_sources(ref)
        _write_info(book, ref, sources, year, fill)
        for kind in INDICATOR_SHEETS:
            if kind in ref.sheets and kind in ref.columns:
                _write_indicator_sheet(book, ref, kind, sources, fill.sheets.get(kind, SheetFill()))
        _write_lists(book, ref)
    return path
