"""xlsxwriter, faster for tables: a worksheet that stores a column of cells in one call and writes its
cells' XML in one pass, and a shared-strings writer that writes plain text in one pass.

xlsxwriter spends most of a table's time per cell: write() dispatches on the value's type, checks the
dimensions and builds a named tuple; at close, _write_rows() looks every cell up in a 16k-column range and
builds an attribute list for it. `FastSheet` does the same two jobs for whole columns and rows of plain
cells (text, numbers, formatted blanks) and produces exactly xlsxwriter's bytes: the same cell table,
shared strings in the same order, the same <row>/<c> XML (tests/test_xlsx_sheet.py compares both on
every kind of cell). Anything else — another cell type, row settings, comments, a default row height,
the constant-memory mode, the string-conversion options — goes through xlsxwriter's own code.
`FastWorkbook` uses both through xlsxwriter's own extension points (Workbook.worksheet_class and
Workbook._get_packager), and its shared strings (sharedStrings.xml, often the largest part) are written
one pass for text that needs no escaping, xlsxwriter's per-string code for the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

Cell = str | int | float | None
_INT_LIMIT = 1 << 63  # ints beyond this take xlsxwriter's own path (its float checks may overflow)


class FastSheet(Worksheet):
    """xlsxwriter's Worksheet with `put_column` (a bulk write_column) and a one-pass `_write_rows`."""

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

        Text, finite numbers and blanks are stored directly (a blank without a format is skipped, as
        write() skips it); any other value, and text long enough to need xlsxwriter's UTF-16 length check,
        goes through write() itself."""
        if not cells:
            return
        if not self._plain_mode() or row < 0 or not 0 <= col < self.xls_colmax:
            self._write_each(row, col, cells, formats)
            return
        if row + len(cells) > self.xls_rowmax:
            self._write_each(row, col, cells, formats)
            return
        first, last = self._store(row, col, cells, formats)
        if first >= 0:
            self._check_dimensions(first, col)
            self._check_dimensions(last, col)

    def _store(
        self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]
    ) -> tuple[int, int]:
        """put_column's loop: the cells into the table (tuples made as their classes would make them);
        returns the first and last row stored (-1: none)."""
        table, half, strings = self.table, self.xls_strmax // 2, self.str_table
        known, index_of, new = strings.string_table, strings._get_shared_string_index, tuple.__new__
        first = last = -1
        repeats = 0  # shared-string uses of known text, counted as _get_shared_string_index counts them
        for i, value in enumerate(cells):
            kind, fmt, r = type(value), formats[i], row + i
            if kind is str and value and len(value) <= half:  # type: ignore[arg-type]
                index = known.get(value)
                if index is None:
                    index = index_of(value)
                else:
                    repeats += 1
                table[r][col] = new(CellStringTuple, (index, fmt))
            elif value is None or (kind is str and not value):
                if fmt is None:
                    continue
                table[r][col] = new(CellBlankTuple, (fmt,))
            elif _plain_number(value):
                table[r][col] = new(CellNumberTuple, (value, fmt))
            else:
                self._write(r, col, value, fmt)
                continue
            last = r
            if first < 0:
                first = r
        strings.count += repeats
        return first, last

    def _write_each(
        self, row: int, col: int, cells: Sequence[object], formats: Sequence[Format | None]
    ) -> None:
        for i, value in enumerate(cells):
            self._write(row + i, col, value, formats[i])

    def _fast_rows_apply(self) -> bool:
        """The sheet's rows need nothing but their cells: no row settings, comments or changed heights."""
        return not (
            self.row_info
            or self.comments
            or self.excel_version == 2010
            or self.default_row_height != self.original_row_height
        )

    def _write_rows(self) -> None:
        """xlsxwriter's _write_rows (spans per block of 16 rows, cells by column) in one pass."""
        if not self._fast_rows_apply():
            super()._write_rows()
            return
        xml = self._rows_xml()
        if xml is None:  # a cell type this writer does not know
            super()._write_rows()
            return
        self.fh.write(xml)

    def _rows_xml(self) -> str | None:
        rowmin, rowmax, colmin, colmax = self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax
        rows = sorted(r for r, cells in self.table.items() if cells and rowmin <= r <= rowmax)
        if not rows:
            self.row_spans = {}
            return ""
        found = _spans(self.table, rows, colmin, colmax)
        if found is None:
            return None
        spans, ordered = found
        self.row_spans = spans
        letters, column_styles = _Lazy(xl_col_to_name), _Lazy(self._column_style)  # per column used
        styles: dict[int, str] = {}  # id(format) → its s="…" attribute, asked once per format
        parts: list[str] = []
        for r, cols in zip(rows, ordered, strict=True):
            line, number = self.table[r], str(r + 1)
            parts.append(f'<row r="{number}" spans="{spans[r // 16]}">')
            for c in cols:
                cell = line[c]
                fmt = cell.format
                if fmt is None:
                    style = column_styles[c]
                else:
                    style = styles.get(id(fmt)) or styles.setdefault(id(fmt), self._style(fmt))
                kind = type(cell)
                if kind is CellStringTuple:
                    parts.append(f'<c r="{letters[c]}{number}"{style} t="s"><v>{cell.string}</v></c>')
                elif kind is CellNumberTuple:
                    parts.append(f'<c r="{letters[c]}{number}"{style}><v>{cell.number:.16G}</v></c>')
                elif kind is CellBlankTuple:
                    parts.append(f'<c r="{letters[c]}{number}"{style}/>')
                else:
                    return None
            parts.append("</row>")
        return "".join(parts)

    def _style(self, fmt: Format) -> str:
        return f' s="{fmt._get_xf_index()}"'

    def _column_style(self, col: int) -> str:
        """A cell without a format takes its column's format, if any (there are no row formats here)."""
        info = self.col_info.get(col)
        column_format = info.column_format if info is not None else None
        return "" if column_format is None else self._style(column_format)


class _Lazy(dict[int, str]):
    """column → make(column), made on first use."""

    def __init__(self, make: Callable[[int], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, column: int) -> str:
        made = self[column] = self.make(column)
        return made


def _plain_number(value: object) -> bool:
    """A finite float or an int within 64 bits (what write_number stores as it is)."""
    if type(value) is float:
        return value - value == 0  # False for NaN and the infinities
    return type(value) is int and -_INT_LIMIT < value < _INT_LIMIT


def _spans(
    table: dict[int, dict[int, object]], rows: list[int], colmin: int, colmax: int
) -> tuple[dict[int, str], list[list[int]]] | None:
    """Each block of 16 rows → "first:last" column (1-based) of its cells; each row's columns in order.
    None when a row has no cell inside the dimensions (xlsxwriter writes such a row without spans)."""
    spans: dict[int, str] = {}
    ordered: list[list[int]] = []
    lows: dict[int, int] = {}
    highs: dict[int, int] = {}
    for r in rows:
        cols = sorted(table[r])  # written a column at a time: already in order, so sorting is cheap
        if not cols or cols[0] < colmin or cols[-1] > colmax:
            return None  # a cell outside the dimensions: xlsxwriter's own loop decides
        ordered.append(cols)
        block = r // 16
        lows[block] = min(lows.get(block, cols[0]), cols[0])
        highs[block] = max(highs.get(block, cols[-1]), cols[-1])
    for block, low in lows.items():
        spans[block] = f"{low + 1}:{highs[block] + 1}"
    return spans, ordered


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
