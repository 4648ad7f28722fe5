"""A worksheet that takes a whole table of cells in one call and writes its rows' XML a chunk at a time.

xlsxwriter spends a big table's time per cell: write_string() checks the dimensions and stores a named
tuple, and at close _write_rows() builds an attribute list and an XML element per cell. `RowBlockSheet`
takes the table's columns once (`write_block`), numbers its texts in the shared-string table in the order
the cell-by-cell writes would (row by row, left to right), keeps compact columns (no tuple per cell), and
at close writes each row with string joins. The bytes are those of writing the same cells one by one with
write_string / write_number / write_blank (tests/test_xlsx_rows.py compares both). Anything it does not
know — row settings, comments, a changed default row height, constant-memory mode, cells of the block's
rows written the ordinary way — makes it hand the block to xlsxwriter's own table and writer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, cast

import pandas as pd
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

from pipelines.common.xlsx_out import XlsxBook, auto_width, column_cells, safe_sheet_name

Cell = str | int | float | None
ABSENT, TEXT, NUMBER, BLANK = 0, 1, 2, 3  # a block cell's kind
_CHUNK = 2048  # rows rendered per join: bounds the transient strings


@dataclass
class _Block:
    """Cells of rows row .. row+n-1, columns col .. col+len(kinds)-1: per column its kinds, its values (a
    shared-string index, a number or None), its format and the rows whose format differs."""

    row: int
    col: int
    n: int
    kinds: list[bytearray] = field(default_factory=list)
    values: list[list[int | float | None]] = field(default_factory=list)
    styles: list[Format | None] = field(default_factory=list)
    overrides: list[dict[int, Format]] = field(default_factory=list)


class RowBlockSheet(Worksheet):
    """xlsxwriter's Worksheet with `write_block` (a table at once) and a chunked `_write_rows`."""

    def __init__(self) -> None:
        super().__init__()
        self._blocks: list[_Block] = []

    # --- storing ---------------------------------------------------------------------------------------

    def write_block(
        self,
        row: int,
        col: int,
        columns: Sequence[Sequence[Cell]],
        styles: Sequence[Format | None],
        overrides: Mapping[tuple[int, int], Format] | None = None,
    ) -> None:
        """What writing every cell one by one, row by row and left to right, does: cell (i, j) is
        columns[j][i] at (row + i, col + j) with format overrides[(i, j)] or styles[j]; text through
        write_string, a number through write_number, None as write_blank (kept only with a format)."""
        n = len(columns[0]) if columns else 0
        if any(len(c) != n for c in columns) or len(styles) != len(columns):
            raise ValueError("write_block: every column needs one value per row and a format entry")
        overrides = overrides or {}
        if self.constant_memory or row + n > self.xls_rowmax or col + len(columns) > self.xls_colmax:
            self._write_cells(row, col, columns, styles, overrides)
            return
        block = _Block(row, col, n, styles=list(styles))
        block.overrides = [{} for _ in columns]
        for (i, j), fmt in overrides.items():
            block.overrides[j][i] = fmt
        self._classify(block, columns)
        self._shared_strings(block, columns)
        self._extend_dimensions(block)
        self._blocks.append(block)

    def _write_cells(
        self,
        row: int,
        col: int,
        columns: Sequence[Sequence[Cell]],
        styles: Sequence[Format | None],
        overrides: Mapping[tuple[int, int], Format],
    ) -> None:
        """The cell-by-cell writes write_block stands for (constant-memory mode, or beyond the sheet)."""
        for i, cells in enumerate(zip(*columns, strict=True)):
            for j, value in enumerate(cells):
                fmt = overrides.get((i, j), styles[j])
                if isinstance(value, str):
                    self._write_string(row + i, col + j, value, fmt)
                elif value is None:
                    self._write_blank(row + i, col + j, None, fmt)
                else:
                    self._write_number(row + i, col + j, value, fmt)

    def _classify(self, block: _Block, columns: Sequence[Sequence[Cell]]) -> None:
        """Each cell's kind; numbers checked as write_number checks them."""
        for j, cells in enumerate(columns):
            kinds = bytearray(block.n)
            values: list[int | float | None] = [None] * block.n
            style, special = block.styles[j], block.overrides[j]
            for i, value in enumerate(cells):
                if isinstance(value, str):
                    kinds[i] = TEXT
                elif value is None:
                    kinds[i] = BLANK if (special.get(i, style) is not None) else ABSENT
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    if not math.isfinite(value):
                        raise TypeError("NAN/INF not supported in write_number()")
                    kinds[i], values[i] = NUMBER, value
                else:
                    raise TypeError(f"write_block: unsupported cell type {type(value)}")
            block.kinds.append(kinds)
            block.values.append(values)

    def _shared_strings(self, block: _Block, columns: Sequence[Sequence[Cell]]) -> None:
        """Texts numbered row by row, left to right — the shared-string order of the one-by-one writes."""
        index_of = self.str_table._get_shared_string_index
        limit, half = self.xls_strmax, self.xls_strmax // 2
        kinds, values = block.kinds, block.values
        for i, cells in enumerate(zip(*columns, strict=True)):
            for j, value in enumerate(cells):
                if kinds[j][i] == TEXT:
                    text = cast(str, value)
                    if len(text) > half and _utf16_len(text) > limit:
                        text = _utf16_truncate(text, limit)
                    values[j][i] = index_of(text)

    def _extend_dimensions(self, block: _Block) -> None:
        present = [bytes(k).translate(_PRESENT) for k in block.kinds]
        rows = [i for i in range(block.n) if any(p[i] for p in present)] if block.n else []
        cols = [j for j, p in enumerate(present) if any(p)]
        if rows and cols:
            self._check_dimensions(block.row + rows[0], block.col + cols[0])
            self._check_dimensions(block.row + rows[-1], block.col + cols[-1])

    # --- writing -----------------------------------------------------------------------------------------

    def _fast_rows_apply(self) -> bool:
        """Rows need nothing but their cells, and no ordinary cell shares a row with a block."""
        if self.row_info or self.comments or self.excel_version == 2010:
            return False
        if self.default_row_height != self.original_row_height:
            return False
        taken = {r for r, cells in self.table.items() if cells}
        for b in self._blocks:
            rows = range(b.row, b.row + b.n)
            if any(r in taken for r in rows):
                return False
            taken.update(rows)
        return True

    def _write_rows(self) -> None:
        if not self._blocks:
            super()._write_rows()
            return
        if not self._fast_rows_apply():
            self._materialize()
            super()._write_rows()
            return
        self._write_rows_fast()

    def _materialize(self) -> None:
        """Put every block cell into xlsxwriter's own table (its writer then does the rest)."""
        for b in self._blocks:
            for j, (kinds, values) in enumerate(zip(b.kinds, b.values, strict=True)):
                style, special, c = b.styles[j], b.overrides[j], b.col + j
                for i, kind in enumerate(kinds):
                    fmt = special.get(i, style)
                    if kind == TEXT:
                        self.table[b.row + i][c] = CellStringTuple(values[i], fmt)
                    elif kind == NUMBER:
                        self.table[b.row + i][c] = CellNumberTuple(values[i], fmt)
                    elif kind == BLANK:
                        self.table[b.row + i][c] = CellBlankTuple(fmt)
        self._blocks = []

    def _write_rows_fast(self) -> None:
        self._number_formats()
        spans, ranges = self._spans()
        self.row_spans = spans
        fh = cast(IO[str], self.fh)
        table_rows = sorted(r for r, cells in self.table.items() if cells)
        pieces: list[tuple[int, int, _Block | None]] = [(r, 1, None) for r in table_rows]
        pieces += [(b.row, b.n, b) for b in self._blocks]
        for start, _, block in sorted(pieces, key=lambda p: p[0]):
            if block is None:
                self._write_table_row(start, spans)
            else:
                for a in range(0, block.n, _CHUNK):
                    fh.write(self._block_xml(block, a, min(a + _CHUNK, block.n), spans, ranges))

    def _number_formats(self) -> None:
        """Formats get their style number when first written (xlsxwriter numbers them lazily, row by row,
        left to right); the block's columns are rendered one at a time, so number them first, in that order."""
        first: list[tuple[int, int, Format]] = []
        for r, cells in self.table.items():
            first += [(r, c, cell.format or self._column_format(c)) for c, cell in cells.items()]
        for b in self._blocks:
            for j, kinds in enumerate(b.kinds):
                fmt = b.styles[j] or self._column_format(b.col + j)
                rows = (i for i, k in enumerate(kinds) if k != ABSENT and i not in b.overrides[j])
                start = next(rows, None)
                if fmt is not None and start is not None:
                    first.append((b.row + start, b.col + j, fmt))
                first += [(b.row + i, b.col + j, f) for i, f in b.overrides[j].items() if kinds[i] != ABSENT]
        for _, _, fmt in sorted(first, key=lambda t: (t[0], t[1])):
            if fmt is not None:
                fmt._get_xf_index()

    def _write_table_row(self, r: int, spans: dict[int, str]) -> None:
        """An ordinary row (e.g. the header), as xlsxwriter writes it."""
        self._write_row(r, spans.get(r // 16))
        line = self.table[r]
        for c in sorted(line):
            self._write_cell(r, c, line[c])
        self._xml_end_tag("row")

    def _spans(self) -> tuple[dict[int, str], dict[int, tuple[int, int]]]:
        """Each block of 16 rows → "first:last" column (1-based); each block row → its first/last column."""
        lows: dict[int, int] = {}
        highs: dict[int, int] = {}
        ranges: dict[int, tuple[int, int]] = {}

        def note(r: int, low: int, high: int) -> None:
            g = r // 16
            lows[g] = min(lows.get(g, low), low)
            highs[g] = max(highs.get(g, high), high)

        for r, cells in self.table.items():
            if cells:
                note(r, min(cells), max(cells))
        for b in self._blocks:
            present = [bytes(k).translate(_PRESENT) for k in b.kinds]
            for i, row in enumerate(zip(*present, strict=True)):
                if any(row):
                    low, high = row.index(1), len(row) - 1 - row[::-1].index(1)
                    ranges[b.row + i] = (b.col + low, b.col + high)
                    note(b.row + i, b.col + low, b.col + high)
        return {g: f"{low + 1}:{highs[g] + 1}" for g, low in lows.items()}, ranges

    def _block_xml(
        self, b: _Block, a: int, z: int, spans: dict[int, str], ranges: Mapping[int, tuple[int, int]]
    ) -> str:
        """Rows a..z-1 of a block: each column's cells as text, then joined row by row."""
        numbers = [str(b.row + i + 1) for i in range(a, z)]
        columns = [self._column_xml(b, j, a, z, numbers) for j in range(len(b.kinds))]
        out: list[str] = []
        for k, cells in enumerate(zip(*columns, strict=True)):
            r = b.row + a + k
            if r in ranges:
                out.append(f'<row r="{numbers[k]}" spans="{spans[r // 16]}">{"".join(cells)}</row>')
        return "".join(out)

    def _column_xml(self, b: _Block, j: int, a: int, z: int, numbers: list[str]) -> list[str]:
        letter = xl_col_to_name(b.col + j)
        style, special = b.styles[j], b.overrides[j]
        plain = _style_attr(style) if style is not None else self._column_style(b.col + j)
        kinds, values = b.kinds[j], b.values[j]
        out: list[str] = []
        for i in range(a, z):
            kind = kinds[i]
            if kind == ABSENT:
                out.append("")
                continue
            s = _style_attr(special[i]) if i in special else plain
            ref = letter + numbers[i - a]
            if kind == TEXT:
                out.append(f'<c r="{ref}"{s} t="s"><v>{values[i]}</v></c>')
            elif kind == NUMBER:
                out.append(f'<c r="{ref}"{s}><v>{values[i]:.16G}</v></c>')
            else:
                out.append(f'<c r="{ref}"{s}/>')
        return out

    def _column_format(self, col: int) -> Format | None:
        """A cell without a format takes its column's format, if any (no row formats: see _fast_rows_apply)."""
        info = self.col_info.get(col)
        return info.column_format if info is not None else None

    def _column_style(self, col: int) -> str:
        column_format = self._column_format(col)
        return "" if column_format is None else _style_attr(column_format)


def add_block_sheet(workbook: Workbook, name: str) -> RowBlockSheet:
    """A RowBlockSheet added to `workbook` under `name`."""
    return cast(RowBlockSheet, workbook.add_worksheet(name, worksheet_class=RowBlockSheet))


_PRESENT = bytes([0, 1, 1, 1]) + bytes(252)  # kind → 1 when the cell is written


def _style_attr(fmt: Format) -> str:
    return f' s="{fmt._get_xf_index()}"'


def write_table_block(
    book: XlsxBook,
    sheet: str,
    frame: pd.DataFrame,
    titles: Mapping[str, str],
    *,
    cell_formats: Mapping[tuple[int, str], str] | None = None,
) -> RowBlockSheet:
    """xlsx_out.write_table (header row, auto widths, frozen header, autofilter; no start row, required
    columns or column formats) with the body written as one block: the same bytes."""
    safe = safe_sheet_name(sheet, book.sheet_names)
    book.sheet_names.append(safe)
    ws = add_block_sheet(book.workbook, safe)
    columns = list(frame.columns)
    for j, column in enumerate(columns):
        header = titles.get(column, str(column))
        ws.set_column(j, j, auto_width(header, frame[column].tolist()), None)
        book.write(ws, 0, j, header, "header")
    positions = {c: j for j, c in enumerate(columns)}
    # Formats made in the order the cell-by-cell writes first use them (their style numbers follow it).
    placed = sorted(((i, positions[c]), name) for (i, c), name in (cell_formats or {}).items())
    overrides = {at: book.fmt(name) for at, name in placed}
    cells = [column_cells(frame[c]) for c in columns]
    ws.write_block(1, 0, cells, [None] * len(columns), cast(dict[tuple[int, int], Format], overrides))
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)
    return ws
