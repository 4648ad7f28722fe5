"""The one place that writes spreadsheets for people: xlsx workbooks and CSV files.

Three promises hold for every file written here (template, feedback, review report, merge review, export;
the feedback workbooks are packaged by pipelines.common.xlsx_direct, which takes its cells, formats and
file writing from here and keeps the same promises):

1. Nothing in a cell is ever evaluated. Submitted text is untrusted (it comes from 85 departments'
   workbooks), so a cell that begins with a formula trigger is *neutralized* (OWASP "CSV injection"):
   text beginning with = + - @ (also after leading whitespace, also the full-width/compatibility forms
   such as ＝＋－＠ that spreadsheet tools fold to ASCII) or with a tab / carriage return gets a leading
   single quote "'". The quote is the OWASP-recommended prefix: it survives every hop (xlsx → openpyxl →
   CSV → LibreOffice/WPS import), where a style attribute such as xlsx "quotePrefix" would be lost, and a
   reader sees at once that the text was not meant as a formula. On top of that, xlsx text is written
   with ``write_string`` only (never ``write()``/``write_formula``) and the workbook is opened with
   ``strings_to_formulas=False`` / ``strings_to_urls=False``, so xlsxwriter itself never turns text into
   a formula or a hyperlink. Numbers stay numbers (a negative number is a number, not text).
2. Deterministic bytes: the same content gives a byte-identical file (fixed document properties, no
   author or time from the environment, zip entries with a fixed timestamp), so a rebuild whose content
   did not change makes no git change.
3. Atomic: a file is written to a temporary name beside its target and renamed over it, so a reader
   never sees half a workbook.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.common.formulas import is_dangerous, neutralize
from pipelines.common.xlsx_sheet import FastSheet, FastWorkbook
from pipelines.common.xlsx_width import display_width

# --- neutralization (pipelines.common.formulas) --------------------------------------------------------

MAX_CELL_CHARS = 32767  # Excel's limit per cell; longer text is cut with an ellipsis
# Excel's rows per sheet, header included. xlsxwriter drops a cell below it without a word (and with it a
# range's drop-down or filter), so a longer table goes on over further sheets (sheet_spans). Every writer
# reads it at call time: tests patch it small.
SHEET_ROWS = 1_048_576


def is_blank(value: object) -> bool:
    """None, NaN, NaT, pd.NA and the empty string are all shown as an empty cell."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (list, tuple, dict, set, np.ndarray)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cell_value(value: object) -> str | int | float | None:
    """The value a cell holds: None (blank), a finite number, or neutralized text.

    bool → 是/否 (people read these files); lists → joined with 、; dicts → sorted JSON; dates → ISO text
    (a date number would depend on the reader's locale and format); numbers beyond 15 significant digits
    and infinities → text, because Excel would silently round or reject them.
    """
    if is_blank(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, (int, np.integer)):
        number = int(value)
        return number if abs(number) < 10**15 else str(number)
    if isinstance(value, (float, np.floating)):
        real = float(value)
        if not math.isfinite(real):
            return str(real)
        if real.is_integer() and abs(real) < 1e15:
            return int(real)
        return real
    if isinstance(value, (datetime, date, pd.Timestamp)):
        text = value.isoformat()
    elif isinstance(value, (list, tuple, set, np.ndarray)):
        items = sorted(value) if isinstance(value, set) else list(value)
        text = "、".join("" if is_blank(v) else str(v) for v in items)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return neutralize(text)  # type: ignore[return-value]


# First character → whether text starting with it is shown as it is. For any character but a space that
# is a property of the character alone (is_dangerous looks at the first character after the leading
# spaces, through NFKC), so it is decided once per character: printable ASCII but the triggers and CJK
# ideographs up front, any other (≥ ％ ２ …) on first sight by is_dangerous itself.
_FIRST_PLAIN: dict[str, bool] = {chr(i): chr(i) not in "=+-@ " for i in range(32, 127)}


def _plain_first(c: str) -> bool:
    """A first character that no tool folds into a formula trigger or strips as space (so the text needs
    no quote); spaces and control characters, full-width and small forms, superscript and subscript plus
    signs ⁺ ₊, ﹫… are decided by is_dangerous (NFKC), once per character."""
    plain = _FIRST_PLAIN.get(c)
    if plain is None:
        plain = _FIRST_PLAIN[c] = not c.isspace() and not is_dangerous(c)
    return plain


class Shown(list):
    """A column already through shown_values (shown_values returns it as it is)."""


def shown_values(values: Iterable[object]) -> list[str | int | float | None]:
    """cell_value over plain Python values (a column as a list): text that starts plainly, ints and None
    need no more than a type and first-character look; anything else takes cell_value. Returns a Shown
    list; a Shown list given comes back as it is (shown_values is idempotent)."""
    if type(values) is Shown:
        return values
    out: list[str | int | float | None] = Shown()
    append = out.append
    for v in values:
        if type(v) is str:
            if not v:
                append(None)
            elif (_FIRST_PLAIN.get(v[0]) or _plain_first(v[0])) and len(v) <= MAX_CELL_CHARS:
                append(v)
            else:
                append(cell_value(v))
        elif v is None:
            append(None)
        elif type(v) is int and -(10**15) < v < 10**15:
            append(v)
        else:
            append(cell_value(v))
    return out


def column_cells(series: pd.Series) -> list[str | int | float | None]:
    """cell_value for a whole column: shown_values over its values (text that starts plainly, ints and
    None at a type and first-character look; anything else through cell_value). Object columns took
    cell_value cell by cell before: review.xlsx's 2.4M cells at 1M rows."""
    return shown_values(series.tolist())


# --- formats -----------------------------------------------------------------------------------------

# Fill colours (Excel's own "bad / neutral" palette, so officials recognise them).
FILL_ERROR = "#FFC7CE"
FILL_WARNING = "#FFEB9C"
FILL_EXCLUDED = "#D9D9D9"
FILL_HEADER = "#DDEBF7"
FONT_REQUIRED = "#C00000"

_BASE = {"font_name": "宋体", "font_size": 11, "valign": "top"}
FORMATS: dict[str, dict[str, object]] = {
    "default": {},
    "wrap": {"text_wrap": True},
    "text": {"num_format": "@"},  # cells typed as text: codes keep leading zeros
    "title": {"bold": True, "font_size": 14},
    "section": {"bold": True, "font_size": 12, "bottom": 1},
    "label": {"bold": True},
    "header": {"bold": True, "text_wrap": True, "bg_color": FILL_HEADER, "border": 1},
    "header_required": {
        "bold": True,
        "text_wrap": True,
        "bg_color": FILL_HEADER,
        "border": 1,
        "font_color": FONT_REQUIRED,
    },
    "label_required": {"bold": True, "font_color": FONT_REQUIRED},
    "error": {"bg_color": FILL_ERROR, "font_color": "#9C0006", "text_wrap": True},
    "warning": {"bg_color": FILL_WARNING, "font_color": "#9C5700", "text_wrap": True},
    "excluded": {"bg_color": FILL_EXCLUDED, "text_wrap": True},
}
# Which highlight a finding's severity gets; info findings are not highlighted.
SEVERITY_FORMAT = {"file_error": "error", "row_error": "error", "warning": "warning", "excluded": "excluded"}

# Fixed document properties: no author, company or time taken from the machine that wrote the file.
FIXED_CREATED = datetime(2000, 1, 1)
WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,  # in-memory zip entries carry a fixed 1980-01-01 timestamp, independent of TZ
}

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_spans(n: int, head: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of the share of n table rows on each sheet, `head` rows above the table on each
    (SHEET_ROWS a sheet): one span when they fit, (0, 0) when there are none."""
    room = SHEET_ROWS - head
    if room < 1:
        raise ValueError(f"no room for a table row below {head} header rows")
    return [(a, min(a + room, n)) for a in range(0, max(n, 1), room)]


def continued_name(sheet: str, k: int) -> str:
    """The name of a table's k-th sheet when one cannot hold it: the first keeps `sheet`, then 合并审核(2), …
    (31 characters at most, the number kept)."""
    if k == 1:
        return sheet
    suffix = f"({k})"
    return sheet[: 31 - len(suffix)] + suffix


def safe_sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique Excel sheet name: no []:*?/\\, no edge quotes, at most 31 characters."""
    base = _SHEET_NAME_BAD.sub("_", name).strip().strip("'") or "Sheet"
    base = base[:31]
    lowered = {t.lower() for t in taken}
    candidate, n = base, 2
    while candidate.lower() in lowered or candidate.lower() == "history":
        suffix = f"_{n}"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    return candidate


class XlsxBook:
    """An xlsxwriter Workbook with the house formats, sheet-name hygiene and safe cell writing."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.workbook = workbook
        self._formats: dict[str, Format] = {}
        self.sheet_names: list[str] = []

    def fmt(self, name: str | None) -> Format | None:
        """The named format (see FORMATS), created once per workbook."""
        if name is None:
            return None
        if name not in self._formats:
            self._formats[name] = self.workbook.add_format({**_BASE, **FORMATS[name]})
        return self._formats[name]

    def add_sheet(self, name: str) -> Worksheet:
        safe = safe_sheet_name(name, self.sheet_names)
        self.sheet_names.append(safe)
        return self.workbook.add_worksheet(safe)

    def write(self, ws: Worksheet, row: int, col: int, value: object, fmt: str | None = None) -> None:
        """Write one cell (0-based row/col) through cell_value: text only ever via write_string."""
        shown = cell_value(value)
        style = self.fmt(fmt)
        if isinstance(ws, FastSheet):  # the same cell stored without xlsxwriter's per-call checks
            ws.put_row(row, col, [shown], [style])
        elif shown is None:
            if style is not None:
                ws.write_blank(row, col, None, style)
        elif isinstance(shown, str):
            ws.write_string(row, col, shown, style)
        else:
            ws.write_number(row, col, shown, style)

    def put_column(
        self, ws: Worksheet, row: int, col: int, cells: Sequence[object], formats: Sequence[str | None]
    ) -> None:
        """Cells already shown (cell_value: text, numbers, None) down from (row, col), each with its named
        format: the cells write() would store, in one call (xlsxwriter's write per cell elsewhere)."""
        named = {name: self.fmt(name) for name in set(formats)}
        styles = [named[name] for name in formats]
        if isinstance(ws, FastSheet):
            ws.put_column(row, col, cells, styles)
            return
        for i, shown in enumerate(cells):
            ws.write(row + i, col, shown, styles[i])

    def write_merged(
        self, ws: Worksheet, row: int, first_col: int, last_col: int, value: object, fmt: str | None = None
    ) -> None:
        """One value across merged cells (merge_range would route text through write(); this does not)."""
        if last_col > first_col:
            ws.merge_range(row, first_col, row, last_col, None, self.fmt(fmt or "default"))
        self.write(ws, row, first_col, value, fmt or "default")

    def write_row(
        self,
        ws: Worksheet,
        row: int,
        values: Sequence[object],
        fmt: str | Sequence[str | None] | None = None,
        col: int = 0,
    ) -> int:
        """Write values left to right from (row, col); returns the next row."""
        names = [fmt] * len(values) if fmt is None or isinstance(fmt, str) else fmt
        if isinstance(ws, FastSheet):  # one call for the row: the cells write() would store
            ws.put_row(row, col, [cell_value(v) for v in values], [self.fmt(n) for n in names[: len(values)]])
            return row + 1
        for i, value in enumerate(values):
            self.write(ws, row, col + i, value, names[i])
        return row + 1


@contextmanager
def xlsx_book(path: Path, *, title: str = "", subject: str = "") -> Iterator[XlsxBook]:
    """Open a deterministic workbook; on a clean exit it is written atomically to `path`.

    with xlsx_book(out / "x.xlsx", title="…") as book:
        ws = write_table(book, "汇总", frame, titles={...})
    """
    buffer = io.BytesIO()
    workbook = FastWorkbook(buffer, WORKBOOK_OPTIONS)  # xlsxwriter's, with faster table writing
    workbook.set_properties(
        {"title": title, "subject": subject, "author": "", "company": "", "created": FIXED_CREATED}
    )
    book = XlsxBook(workbook)
    yield book
    if not book.sheet_names:
        book.add_sheet("Sheet1")  # xlsxwriter would add one anyway; keep the name list true
    workbook.close()
    atomic_write_bytes(Path(path), buffer.getvalue())


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write to a temporary file beside `path`, then rename it over `path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` for the caller to write; renamed over `path` on a clean exit, removed
    in any case (nothing half-written is left)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- tables ------------------------------------------------------------------------------------------


def auto_width(
    header: str, values: Iterable[object], *, minimum: int = 6, maximum: int = 60, sample: int = 500
) -> int:
    """A column width from the header and the first `sample` values (deterministic)."""
    widest = display_width(header)
    for i, value in enumerate(values):
        if i >= sample:
            break
        shown = cell_value(value)
        if shown is not None:
            widest = max(widest, display_width(str(shown)))
    return max(minimum, min(maximum, widest + 2))


def write_table(
    book: XlsxBook,
    sheet: str | Worksheet,
    frame: pd.DataFrame,
    titles: Mapping[str, str] | None = None,
    *,
    widths: Mapping[str, float] | None = None,
    start_row: int = 0,
    required: Iterable[str] = (),
    column_formats: Mapping[str, str] | None = None,
    cell_formats: Mapping[tuple[int, str], str] | None = None,
    freeze: bool = True,
    freeze_cols: int = 0,
    autofilter: bool = True,
) -> Worksheet:
    """Write `frame` as a table: one header row (Chinese titles) and one row per frame row.

    titles: English column → header text (missing → the column name). widths: column → width (missing →
    auto from content). required: columns whose header is shown red bold. column_formats: column → format
    name for its data cells (and the column's default, e.g. "text"). cell_formats: (row position in
    frame, column) → format name, e.g. a highlight; it wins over column_formats. NaN/None → blank. freeze: the header (and freeze_cols columns) in view.
    Returns the worksheet (the first, when a table longer than SHEET_ROWS goes on over "name(2)", … each
    with the header, widths, frozen pane and filter) so callers can add validations or notes."""
    titles, widths = titles or {}, widths or {}
    column_formats, cell_formats = column_formats or {}, cell_formats or {}
    spans = sheet_spans(len(frame), start_row + 1)
    if len(spans) > 1:
        if not isinstance(sheet, str):
            raise ValueError(f"write_table: {len(frame):,} rows do not fit one sheet; pass a sheet name")
        return _write_over_sheets(
            book,
            sheet,
            frame,
            spans,
            dict(
                titles=titles,
                start_row=start_row,
                required=required,
                column_formats=column_formats,
                freeze=freeze,
                freeze_cols=freeze_cols,
                autofilter=autofilter,
            ),
            widths,
            cell_formats,
        )
    ws = sheet if isinstance(sheet, Worksheet) else book.add_sheet(sheet)
    required_set = set(required)
    columns = list(frame.columns)
    for j, column in enumerate(columns):
        header = titles.get(column, str(column))
        width = widths.get(column) or auto_width(header, frame[column].tolist())
        ws.set_column(j, j, width, book.fmt(column_formats.get(column)))
        book.write(ws, start_row, j, header, "header_required" if column in required_set else "header")
    _write_cells(book, ws, frame, start_row + 1, column_formats, cell_formats)
    if freeze:
        ws.freeze_panes(start_row + 1, freeze_cols)
    if autofilter and columns:
        ws.autofilter(start_row, 0, start_row + max(len(frame), 1), len(columns) - 1)
    return ws


def _write_cells(
    book: XlsxBook,
    ws: Worksheet,
    frame: pd.DataFrame,
    first_row: int,
    column_formats: Mapping[str, str],
    cell_formats: Mapping[tuple[int, str], str],
) -> None:
    """write_table's body: cells converted a column at a time, then written straight to xlsxwriter (text via
    write_string only); a cell format wins over its column's."""
    columns = list(frame.columns)
    cells = [column_cells(frame[c]) for c in columns]
    styles = [book.fmt(column_formats.get(c)) for c in columns]
    for i in range(len(frame)):
        r = first_row + i
        for j, column in enumerate(columns):
            shown = cells[j][i]
            special = cell_formats.get((i, column)) if cell_formats else None
            style = book.fmt(special) if special else styles[j]
            if shown is None:
                if style is not None:
                    ws.write_blank(r, j, None, style)
            elif isinstance(shown, str):
                ws.write_string(r, j, shown, style)
            else:
                ws.write_number(r, j, shown, style)


def _write_over_sheets(
    book: XlsxBook,
    sheet: str,
    frame: pd.DataFrame,
    spans: list[tuple[int, int]],
    options: dict[str, Any],
    widths: Mapping[str, float],
    cell_formats: Mapping[tuple[int, str], str],
) -> Worksheet:
    """write_table over several sheets: each its span of rows, all with the first sheet's widths."""
    titles = options["titles"]
    shared = {
        c: widths.get(c) or auto_width(titles.get(c, str(c)), frame[c].iloc[:500].tolist()) for c in frame
    }
    first: Worksheet | None = None
    for k, (a, z) in enumerate(spans, start=1):
        part = {(i - a, c): f for (i, c), f in cell_formats.items() if a <= i < z}
        name = continued_name(sheet, k)
        ws = write_table(book, name, frame.iloc[a:z], widths=shared, cell_formats=part, **options)
        first = first or ws
    assert first is not None
    return first
