"""xlsxwriter, faster for tables: a worksheet that takes a column of cells in one call and writes its
cells' XML a column at a time, and a shared-strings writer that writes plain text in one pass.

xlsxwriter spends most of a table's time per cell: write() dispatches on the value's type, checks the
dimensions and stores a named tuple in a dict per row; at close, _write_rows() looks every cell up in a
16k-column range and builds an attribute list for it. `FastSheet.put_column` keeps a column as compact
lists (a kind, a shared-string index or number, a format per cell; the shared strings numbered in the
order write() would number them) and, at close, renders each column's cells with one comprehension and
joins them row by row. The bytes are exactly xlsxwriter's (tests/test_xlsx_sheet.py writes the same cells
both ways). Whatever it does not know — a column over cells already written, columns of different row
ranges that overlap, another cell type, row settings, comments, a changed default row height, the
constant-memory mode, the string-conversion options — it hands to xlsxwriter's own table and writer.
`FastWorkbook` uses both through xlsxwriter's own extension points (Workbook.worksheet_class and
Workbook._get_packager), and its shared strings (sharedStrings.xml, often the largest part) are written
one pass for text that needs no escaping, xlsxwriter's per-string code for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeGuard

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

Cell = str | int | float | None
ABSENT, TEXT, NUMBER, BLANK = 0, 1, 2, 3  # a kept cell's kind (ABSENT: a blank write() would skip)
_INT_LIMIT = 1 << 63  # ints beyond this take xlsxwriter's own path (its float checks may overflow)


@dataclass
class _Column:
    """Cells row .. row+len(kinds)-1 of one column: per cell its kind, its value (a shared-string index,
    a number or None) and its format."""

    row: int
    col: int
    kinds: bytearray
    values: list[int | float | None]
    formats: list[Format | None]

    @property
    def stop(self) -> int:
        return self.row + len(self.kinds)

    def first_last(self) -> tuple[int, int]:
        """The first and last row holding a cell (-1, -1: none)."""
        present = bytes(self.kinds).translate(_PRESENT)
        first = present.find(1)
        return (-1, -1) if first < 0 else (self.row + first, self.row + present.rfind(1))


_PRESENT = bytes([0, 1, 1, 1]) + bytes(252)  # kind → 1 where a cell is written


class FastSheet(Worksheet):
    """xlsxwriter's Worksheet with `put_column` (a bulk write_column) and a column-wise `_write_rows`."""

    def __init__(self) -> None:
        super().__init__()
        self._columns: list[_Column] = []
        self._kept_rows: dict[int, list[tuple[int, int]]] = {}  # column → row ranges of its kept columns

    def _plain_mode(self) -> bool:
        """write() would store text as shared strings untouched (the house options; no write handlers)."""
        return not (
            self.constant_memory
            or self.write_handlers
            or self.strings_to_formulas
            or self.strings_to_urls
            or self.strings_to_numbers
        )

    def put_column(
        self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]
    ) -> None:
        """What `write(row + i, col, cells[i], formats[i])` does for every i, as one call.

        Text, finite numbers and blanks are kept as a column (a blank without a format is skipped, as
        write() skips it). A column holding any other value, or text long enough to need xlsxwriter's
        UTF-16 length check, or landing on cells already written, goes cell by cell into xlsxwriter's
        table (other values through write() itself)."""
        n = len(cells)
        if not n:
            return
        if not self._plain_mode() or row < 0 or not 0 <= col < self.xls_colmax or row + n > self.xls_rowmax:
            for i, value in enumerate(cells):
                self._write(row + i, col, value, formats[i])
            return
        kept = None if self._covered(row, col, n) else self._column(row, col, cells, formats)
        if kept is None:
            first, last = self._store(row, col, cells, formats)
        else:
            self._columns.append(kept)
            self._kept_rows.setdefault(col, []).append((row, row + n))
            first, last = kept.first_last()
        if first >= 0:
            self._check_dimensions(first, col)
            self._check_dimensions(last, col)

    def _covered(self, row: int, col: int, n: int) -> bool:
        """A cell of rows row .. row+n-1 in `col` was written already (write() or an earlier column)."""
        if any(start < row + n and row < stop for start, stop in self._kept_rows.get(col, ())):
            return True
        table = self.table
        if len(table) < n:
            return any(row <= r < row + n and col in cells for r, cells in table.items())
        return any(col in table[r] for r in range(row, row + n) if r in table)

    def _column(
        self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]
    ) -> _Column | None:
        """The cells as a kept column, their texts numbered in the shared strings as write() would; None
        when a cell needs xlsxwriter's own write (the shared strings' count then as it was: the texts
        numbered so far are numbered again, to the same indices, by the cell-by-cell path)."""
        half, strings = self.xls_strmax // 2, self.str_table
        known, index_of = strings.string_table, strings._get_shared_string_index
        kinds = bytearray(len(cells))
        values: list[int | float | None] = [None] * len(cells)
        repeats = added = 0
        for i, value in enumerate(cells):
            if type(value) is str and value:
                if len(value) > half:
                    strings.count -= added
                    return None
                index = known.get(value)
                if index is None:
                    index, added = index_of(value), added + 1
                else:
                    repeats += 1
                kinds[i], values[i] = TEXT, index
            elif value is None or type(value) is str:
                if formats[i] is not None:
                    kinds[i] = BLANK
            elif _plain_number(value):
                kinds[i], values[i] = NUMBER, value
            else:
                strings.count -= added
                return None
        strings.count += repeats
        return _Column(row, col, kinds, values, list(formats))

    def _store(
        self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]
    ) -> tuple[int, int]:
        """The cells into xlsxwriter's table as write() stores them; the first and last row stored (-1:
        none)."""
        table, half, strings = self.table, self.xls_strmax // 2, self.str_table
        first = last = -1
        for i, value in enumerate(cells):
            fmt, r = formats[i], row + i
            if type(value) is str and value and len(value) <= half:
                table[r][col] = CellStringTuple(strings._get_shared_string_index(value), fmt)
            elif value is None or (type(value) is str and not value):
                if fmt is None:
                    continue
                table[r][col] = CellBlankTuple(fmt)
            elif _plain_number(value):
                table[r][col] = CellNumberTuple(value, fmt)
            else:
                self._write(r, col, value, fmt)
                continue
            last = r
            if first < 0:
                first = r
        return first, last

    def put_row(self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]) -> None:
        """What `write(row, col + j, cells[j], formats[j])` does for every j, as one call (into the table:
        a row's few cells, written after any column they land on, win over it as write() would)."""
        n = len(cells)
        if not n:
            return
        if not self._plain_mode() or not 0 <= row < self.xls_rowmax or col < 0 or col + n > self.xls_colmax:
            for j, value in enumerate(cells):
                self._write(row, col + j, value, formats[j])
            return
        line, half, strings = self.table[row], self.xls_strmax // 2, self.str_table
        first = last = -1
        for j, value in enumerate(cells):
            fmt, c = formats[j], col + j
            if type(value) is str and value and len(value) <= half:
                line[c] = CellStringTuple(strings._get_shared_string_index(value), fmt)
            elif value is None or (type(value) is str and not value):
                if fmt is None:
                    continue
                line[c] = CellBlankTuple(fmt)
            elif _plain_number(value):
                line[c] = CellNumberTuple(value, fmt)
            else:
                self._write(row, c, value, fmt)
                continue
            last = c
            if first < 0:
                first = c
        if first >= 0:
            self._check_dimensions(row, first)
            self._check_dimensions(row, last)

    def _materialize(self) -> None:
        """The kept columns into xlsxwriter's table, under any cell written there after them."""
        table = self.table
        for c in self._columns:
            for i, kind in enumerate(c.kinds):
                line, fmt = table[c.row + i], c.formats[i]
                if kind == ABSENT or c.col in line:
                    continue
                if kind == TEXT:
                    line[c.col] = CellStringTuple(c.values[i], fmt)
                elif kind == NUMBER:
                    line[c.col] = CellNumberTuple(c.values[i], fmt)
                else:
                    line[c.col] = CellBlankTuple(fmt)
        self._columns = []
        self._kept_rows = {}

    def autofit(self, *args, **kwargs):
        self._materialize()  # autofit reads the table
        return super().autofit(*args, **kwargs)

    def _get_range_data(self, *args, **kwargs):
        self._materialize()  # charts read their data from the table
        return super()._get_range_data(*args, **kwargs)

    def _fast_rows_apply(self) -> bool:
        """The sheet's rows need nothing but their cells: no row settings, comments or changed heights."""
        return not (
            self.row_info
            or self.comments
            or self.excel_version == 2010
            or self.default_row_height != self.original_row_height
        )

    def _write_rows(self) -> None:
        """xlsxwriter's _write_rows (spans per block of 16 rows, cells by column), columns at a time."""
        xml = self._rows_xml() if self._fast_rows_apply() else None
        if xml is None:
            self._materialize()
            super()._write_rows()
            return
        self.fh.write(xml)

    def _rows_xml(self) -> str | None:
        """The <row> elements, or None when xlsxwriter's own loop must decide (a cell outside the
        dimensions or of another type, a row with cells both in the table and in kept columns, kept
        columns of different rows that overlap)."""
        rowmin, rowmax, colmin, colmax = self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax
        lines = {r: sorted(cells) for r, cells in self.table.items() if cells and rowmin <= r <= rowmax}
        if any(cols[0] < colmin or cols[-1] > colmax for cols in lines.values()):
            return None
        blocks = _blocks(self._columns)
        if blocks is None or any(r in lines for b in blocks for r in range(b[0].row, b[0].stop)):
            return None
        extents = {r: (cols[0], cols[-1]) for r, cols in lines.items()}
        present = [_block_extents(b, extents) for b in blocks]
        spans = _spans(extents)
        self.row_spans = spans
        self._number_formats(lines, blocks)
        pieces: list[tuple[int, str]] = []
        styles = _Styles(self)
        for r in sorted(lines):
            xml = self._table_row_xml(r, lines[r], spans[r // 16], styles)
            if xml is None:
                return None
            pieces.append((r, xml))
        for b, shown in zip(blocks, present, strict=True):
            pieces.append((b[0].row, _block_xml(b, shown, spans, styles)))
        pieces.sort(key=lambda piece: piece[0])
        return "".join(xml for _, xml in pieces)

    def _number_formats(self, lines: dict[int, list[int]], blocks: list[list[_Column]]) -> None:
        """Formats get their index (s="…") on first use, in the order xlsxwriter's writer meets them: row
        by row, left to right. Rendering a column at a time would meet them in another order, so the
        formats still without an index are numbered first, by the cell where each appears first."""
        first: dict[int, tuple[int, int, Format]] = {}  # id(format) → (row, col, format) of its first cell

        def meet(fmt: Format, r: int, c: int) -> None:
            if id(fmt) not in first or (r, c) < first[id(fmt)][:2]:
                first[id(fmt)] = (r, c, fmt)

        for r, cols in lines.items():
            for c in cols:
                fmt = self.table[r][c].format
                if fmt is not None and fmt.xf_index is None:
                    meet(fmt, r, c)
        for block in blocks:
            for column in block:
                for fmt in set(column.formats):
                    if fmt is not None and fmt.xf_index is None:  # a formatted cell is always written
                        meet(fmt, column.row + column.formats.index(fmt), column.col)
        for _, _, fmt in sorted(first.values(), key=lambda found: found[:2]):
            fmt._get_xf_index()

    def _table_row_xml(self, r: int, cols: list[int], span: str, styles: _Styles) -> str | None:
        line, number = self.table[r], str(r + 1)
        parts = [f'<row r="{number}" spans="{span}">']
        for c in cols:
            cell = line[c]
            style, kind = styles.of(cell.format, c), type(cell)
            if kind is CellStringTuple:
                parts.append(f'<c r="{styles.letter(c)}{number}"{style} t="s"><v>{cell.string}</v></c>')
            elif kind is CellNumberTuple:
                parts.append(f'<c r="{styles.letter(c)}{number}"{style}><v>{cell.number:.16G}</v></c>')
            elif kind is CellBlankTuple:
                parts.append(f'<c r="{styles.letter(c)}{number}"{style}/>')
            else:
                return None
        parts.append("</row>")
        return "".join(parts)

    def _column_style(self, col: int) -> str:
        """A cell without a format takes its column's format, if any (there are no row formats here)."""
        info = self.col_info.get(col)
        column_format = info.column_format if info is not None else None
        return "" if column_format is None else _style(column_format)


def _style(fmt: Format) -> str:
    return f' s="{fmt._get_xf_index()}"'


class _Styles:
    """A cell's s="…" attribute (its format's, else its column's) and column letters, each found once."""

    def __init__(self, sheet: FastSheet) -> None:
        self._sheet = sheet
        self._formats: dict[int, str] = {}
        self._columns: dict[int, str] = {}
        self._letters: dict[int, str] = {}

    def of(self, fmt: Format | None, col: int) -> str:
        if fmt is None:
            found = self._columns.get(col)
            if found is None:
                found = self._columns[col] = self._sheet._column_style(col)
            return found
        found = self._formats.get(id(fmt))
        if found is None:
            found = self._formats[id(fmt)] = _style(fmt)
        return found

    def letter(self, col: int) -> str:
        found = self._letters.get(col)
        if found is None:
            found = self._letters[col] = xl_col_to_name(col)
        return found


def _blocks(columns: list[_Column]) -> list[list[_Column]] | None:
    """Kept columns grouped by their rows (same first row, same length), ordered by column; None when two
    groups share a row (their rows would interleave)."""
    groups: dict[tuple[int, int], list[_Column]] = {}
    for c in columns:
        groups.setdefault((c.row, c.stop), []).append(c)
    blocks = [sorted(g, key=lambda c: c.col) for _, g in sorted(groups.items())]
    if any(a[0].stop > b[0].row for a, b in pairwise(blocks)):
        return None
    return blocks


def _block_extents(block: list[_Column], extents: dict[int, tuple[int, int]]) -> np.ndarray:
    """Which rows of the block hold a cell; their first and last column go into `extents`."""
    present = np.stack([np.frombuffer(bytes(c.kinds).translate(_PRESENT), dtype=np.uint8) for c in block])
    shown = np.asarray(present.any(axis=0))
    cols = np.array([c.col for c in block])
    lows = cols[present.argmax(axis=0)]
    highs = cols[len(block) - 1 - present[::-1].argmax(axis=0)]
    row = block[0].row
    for i in np.flatnonzero(shown).tolist():
        extents[row + i] = (int(lows[i]), int(highs[i]))
    return shown


def _spans(extents: dict[int, tuple[int, int]]) -> dict[int, str]:
    """Each block of 16 rows → "first:last" column (1-based) of its cells."""
    lows: dict[int, int] = {}
    highs: dict[int, int] = {}
    for r, (low, high) in extents.items():
        group = r // 16
        lows[group] = min(lows.get(group, low), low)
        highs[group] = max(highs.get(group, high), high)
    return {group: f"{low + 1}:{highs[group] + 1}" for group, low in lows.items()}


def _block_xml(block: list[_Column], shown: np.ndarray, spans: dict[int, str], styles: _Styles) -> str:
    """The rows of a block: each column's cells rendered in one comprehension, then joined row by row."""
    row = block[0].row
    numbers = [str(r + 1) for r in range(row, block[0].stop)]
    cells = [_column_cells(c, numbers, styles) for c in block]
    return "".join(
        f'<row r="{numbers[i]}" spans="{spans[(row + i) // 16]}">{"".join(line)}</row>'
        for i, line in enumerate(zip(*cells, strict=True))
        if shown[i]
    )


def _column_cells(c: _Column, numbers: list[str], styles: _Styles) -> list[str]:
    letter = styles.letter(c.col)
    style_of = {fmt: styles.of(fmt, c.col) for fmt in set(c.formats)}
    shown = [style_of[fmt] for fmt in c.formats]
    return [
        f'<c r="{letter}{n}"{s} t="s"><v>{v}</v></c>'
        if k == TEXT
        else f'<c r="{letter}{n}"{s}><v>{v:.16G}</v></c>'
        if k == NUMBER
        else f'<c r="{letter}{n}"{s}/>'
        if k == BLANK
        else ""
        for n, k, v, s in zip(numbers, c.kinds, c.values, shown, strict=True)
    ]


def _plain_number(value: object) -> TypeGuard[int | float]:
    """A finite float or an int within 64 bits (what write_number stores as it is)."""
    if type(value) is float:
        return value - value == 0  # False for NaN and the infinities
    return type(value) is int and -_INT_LIMIT < value < _INT_LIMIT


# Text xlsxwriter's _write_si would change or mark: control characters (escaped as _xHHHH_, and a literal
# "_x" may start one), XML specials, the two non-characters, leading or trailing space (xml:space), and
# a rich string's "<r>" (caught by "<").
_SST_CAREFUL = re.compile(r'[\x00-\x1f&<>"\ufffe\uffff]|_x|^\s|\s$')


class FastSharedStrings(SharedStrings):
    """sharedStrings.xml: plain text written as it is in one pass; other text through _write_si."""

    def _write_sst_strings(self) -> None:
        careful, plain = _SST_CAREFUL.search, []
        for string in self.string_table.string_array:
            if careful(string) is None:
                plain.append(f"<si><t>{string}</t></si>")
                continue
            self.fh.write("".join(plain))
            plain.clear()
            self._write_si(string)
        self.fh.write("".join(plain))


class FastPackager(Packager):
    """xlsxwriter's Packager, writing the shared strings with FastSharedStrings."""

    def _write_shared_strings_file(self) -> None:
        sst = FastSharedStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


class FastWorkbook(Workbook):
    """xlsxwriter's Workbook with FastSheet worksheets and FastSharedStrings: the same bytes, faster."""

    worksheet_class = FastSheet

    def _get_packager(self) -> Packager:
        return FastPackager()
