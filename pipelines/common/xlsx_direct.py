"""A small xlsx writer that writes the package's XML itself: for the many small workbooks of a rebuild
(one feedback workbook per submitted file), where xlsxwriter's per-workbook packaging and per-cell
bookkeeping cost more than the cells.

It writes what the feedback needs and nothing else: text, numbers and formatted blanks in the house
formats (xlsx_out.FORMATS, by name), column widths, merged cells, a frozen pane and an autofilter. The
parts that never change — styles.xml (the house formats, made once per process by xlsxwriter itself, so
a format looks exactly as in every other workbook) and the theme — are built and deflated once per
process; a sheet's cells are rendered a column at a time into XML strings (without the references a
reader implies) and joined row by row. The text is neutralized on the way in (xlsx_out.shown_values,
cell_value's fast path) and written literally into a shared-strings table (control characters escaped as
_xHHHH_, as Excel and xlsxwriter do); nothing is ever a formula. The same cells give the same bytes (fixed zip timestamps and
properties, no time or author from the machine). `DirectBook` has the XlsxBook calls feedback uses
(add_sheet, write, write_row, write_merged, put_column; set_column / freeze_panes / autofilter on the
sheet), so the same drawing code writes either way.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_col_to_name, xl_rowcol_to_cell

from pipelines.common.xlsx_out import (
    _BASE,
    FORMATS,
    WORKBOOK_OPTIONS,
    atomic_write_bytes,
    safe_sheet_name,
    shown_values,
)
from pipelines.common.xlsx_parts import (
    HEAD,
    MAIN,
    REL,
    ROOT_RELS,
    app_xml,
    content_types,
    core_xml,
    shared_strings_xml,
    workbook_rels,
)
from pipelines.common.xlsx_zip import Packed, packed_constant, zip_bytes

_MAX_DIGIT, _PADDING, _DEFAULT_PIXELS = 7, 5, 64  # Calibri 11, as xlsxwriter converts widths


@cache
def house_styles() -> tuple[bytes, bytes, dict[str, str]]:
    """styles.xml and theme1.xml of a workbook holding every house format (xlsxwriter's own output), and
    each format name → its cell style attribute (' s="N"'). Made once per process."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    ws = workbook.add_worksheet()
    attrs: dict[str, str] = {}
    formats = [(name, workbook.add_format({**_BASE, **spec})) for name, spec in FORMATS.items()]
    for j, (_, fmt) in enumerate(formats):
        ws.write_blank(0, j, None, fmt)
    workbook.close()
    for name, fmt in formats:
        attrs[name] = f' s="{fmt.xf_index}"'
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as package:
        return package.read("xl/styles.xml"), package.read("xl/theme/theme1.xml"), attrs


def _width_xml(width: float) -> tuple[str, bool]:
    """A column width as xlsxwriter stores it (pixels, then characters) and whether it is custom."""
    if width == 0:
        pixels = 0
    elif width < 1:
        pixels = int(width * (_MAX_DIGIT + _PADDING) + 0.5)
    else:
        pixels = int(width * _MAX_DIGIT + 0.5) + _PADDING
    return f"{pixels * 256 // _MAX_DIGIT / 256.0:.16g}", pixels != _DEFAULT_PIXELS


_BLANK = "/>"  # a blank cell's XML after its style (written only with a style)


@dataclass
class _Column:
    """A column of shown cells from `row` down, each with its style, and each distinct value's XML."""

    row: int
    col: int
    cells: Sequence[object]
    styles: Sequence[str]
    tails: dict[object, str]


def _render_block(columns: list[_Column]) -> list[list[str]]:
    """Each column's cell XML (columns of the same rows, left to right; "" where nothing is written).
    A cell right after the row's previous cell (or first in column A) carries no reference: ECMA-376
    makes it optional, and Excel, LibreOffice, openpyxl and calamine read it as the next column (as
    RowBlockSheet.compact does): less XML to join and deflate (the files ≈ 16 % smaller)."""
    out: list[list[str]] = []
    previous: tuple[int, list[str]] | None = None
    for c in columns:
        n = len(c.cells)
        if previous is not None and previous[0] == c.col - 1:
            follows: Sequence[object] = previous[1]  # a cell follows where the previous column wrote one
        else:
            follows = [c.col == 0] * n
        at, tails = f'<c r="{_letter(c.col)}', c.tails
        cells = [
            "" if (tail := tails[v]) is _BLANK and not s else f"<c{s}{tail}" if p else f'{at}{r}"{s}{tail}'
            for r, v, s, p in zip(range(c.row + 1, c.row + 1 + n), c.cells, c.styles, follows, strict=True)
        ]
        out.append(cells)
        previous = (c.col, cells)
    return out


class DirectSheet:
    """One worksheet's cells as XML strings: single cells by row, tables as columns (put_column)."""

    def __init__(self, book: DirectBook, name: str, index: int) -> None:
        self.book, self.name, self.index = book, name, index
        self._rows: dict[int, dict[int, str]] = {}  # row → col → cell XML (put_row)
        self._columns: list[_Column] = []
        self._widths: dict[int, float] = {}
        self._merged: list[str] = []
        self._freeze: tuple[int, int] | None = None
        self._filter: tuple[int, int, int, int] | None = None

    def set_column(self, first: int, last: int, width: float) -> None:
        for col in range(first, last + 1):
            self._widths[col] = width

    def freeze_panes(self, row: int, col: int = 0) -> None:
        self._freeze = (row, col)

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        self._filter = (first_row, first_col, last_row, last_col)

    def merge(self, row: int, first_col: int, last_col: int) -> None:
        self._merged.append(f"{xl_rowcol_to_cell(row, first_col)}:{xl_rowcol_to_cell(row, last_col)}")

    def put_row(self, row: int, col: int, cells: Sequence[object], styles: Sequence[str]) -> None:
        """Shown cells (text, numbers, None) left to right from (row, col), each with its style attribute;
        a later write to a cell replaces it."""
        line = self._rows.setdefault(row, {})
        number = row + 1
        strings = self.book.strings
        for j, value in enumerate(cells):
            c = col + j
            xml = _cell(f"{_letter(c)}{number}", value, styles[j], strings)
            if xml:
                line[c] = xml
            else:
                line.pop(c, None)

    def put_column(self, row: int, col: int, cells: Sequence[object], styles: Sequence[str]) -> None:
        """Shown cells down from (row, col), each with its style attribute; each distinct value's XML made
        now, once (a column repeats its values), the cells at the end (_render_block). A column must land on no cell written otherwise
        (_sheet_data refuses it)."""
        if len(styles) != len(cells):
            raise ValueError("put_column: one style per cell")
        strings = self.book.strings
        tails: dict[object, str] = {}  # value → the cell's XML after its style
        for value in dict.fromkeys(cells):
            if type(value) is str and value:
                i = strings.get(value)
                if i is None:
                    i = strings[value] = len(strings)
                tails[value] = f' t="s"><v>{i}</v></c>'
            elif value is None or type(value) is str:
                tails[value] = _BLANK
            elif type(value) is int or type(value) is float:
                tails[value] = f"><v>{value:.16G}</v></c>"
            else:
                raise TypeError(f"not a shown cell: {type(value)}")
        self._columns.append(_Column(row, col, cells, styles, tails))

    # --- XML -----------------------------------------------------------------------------------------

    def xml(self, selected: bool) -> str:
        rows, (first, last, low, high) = self._sheet_data()
        dimension = "A1" if first < 0 else f"{xl_rowcol_to_cell(first, low)}:{xl_rowcol_to_cell(last, high)}"
        parts = [
            f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}"><dimension ref="{dimension}"/>',
            self._views(selected),
            '<sheetFormatPr defaultRowHeight="15"/>',
            self._cols(),
            f"<sheetData>{rows}</sheetData>" if rows else "<sheetData/>",
        ]
        if self._filter is not None:
            parts.append(f'<autoFilter ref="{self.filter_range()}"/>')
        if self._merged:
            refs = "".join(f'<mergeCell ref="{m}"/>' for m in self._merged)
            parts.append(f'<mergeCells count="{len(self._merged)}">{refs}</mergeCells>')
        parts.append(
            '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
        )
        return "".join(parts)

    def filter_range(self, absolute: bool = False) -> str:
        assert self._filter is not None
        r1, c1, r2, c2 = self._filter
        if absolute:
            return f"${xl_col_to_name(c1)}${r1 + 1}:${xl_col_to_name(c2)}${r2 + 1}"
        return f"{xl_rowcol_to_cell(r1, c1)}:{xl_rowcol_to_cell(r2, c2)}"

    @property
    def has_filter(self) -> bool:
        return self._filter is not None

    def _sheet_data(self) -> tuple[str, tuple[int, int, int, int]]:
        """The <row> elements and the extent of the cells written (first, last row; first, last column)."""
        pieces: list[tuple[int, str]] = []
        cols: set[int] = set()
        taken = {r for r, line in self._rows.items() if line}
        for r in taken:
            line = self._rows[r]
            cols.update(line)
            pieces.append((r, f'<row r="{r + 1}">{"".join(line[c] for c in sorted(line))}</row>'))
        groups: dict[tuple[int, int], list[_Column]] = {}
        for column in self._columns:
            groups.setdefault((column.row, len(column.cells)), []).append(column)
        for (row, n), members in sorted(groups.items()):
            if taken.intersection(range(row, row + n)) or len({c.col for c in members}) < len(members):
                raise ValueError("put_column: a column lands on cells written otherwise")
            taken.update(range(row, row + n))
            members.sort(key=lambda c: c.col)
            rendered = _render_block(members)
            cols.update(c.col for c, cells in zip(members, rendered, strict=True) if any(cells))
            for i, cells_of_row in enumerate(zip(*rendered, strict=True)):
                joined = "".join(cells_of_row)
                if joined:
                    pieces.append((row + i, f'<row r="{row + i + 1}">{joined}</row>'))
        if not pieces:
            return "", (-1, -1, 0, 0)
        pieces.sort(key=lambda p: p[0])
        return "".join(p[1] for p in pieces), (pieces[0][0], pieces[-1][0], min(cols), max(cols))

    def _views(self, selected: bool) -> str:
        tab = ' tabSelected="1"' if selected else ""
        if self._freeze is None or self._freeze == (0, 0):
            return f'<sheetViews><sheetView{tab} workbookViewId="0"/></sheetViews>'
        row, col = self._freeze
        split = (f' xSplit="{col}"' if col else "") + (f' ySplit="{row}"' if row else "")
        if row and col:
            pane = "bottomRight"
            top, left = xl_rowcol_to_cell(0, col), xl_rowcol_to_cell(row, 0)
            selection = (
                f'<selection pane="topRight" activeCell="{top}" sqref="{top}"/>'
                f'<selection pane="bottomLeft" activeCell="{left}" sqref="{left}"/>'
                '<selection pane="bottomRight"/>'
            )
        else:
            pane = "topRight" if col else "bottomLeft"
            selection = f'<selection pane="{pane}"/>'
        return (
            f'<sheetViews><sheetView{tab} workbookViewId="0"><pane{split} topLeftCell='
            f'"{xl_rowcol_to_cell(row, col)}" activePane="{pane}" state="frozen"/>{selection}'
            "</sheetView></sheetViews>"
        )

    def _cols(self) -> str:
        """<cols>: adjacent columns of the same width in one <col>, as xlsxwriter groups them."""
        if not self._widths:
            return ""
        out: list[str] = []
        ordered = sorted(self._widths)
        start = ordered[0]
        for k, col in enumerate(ordered):
            following = ordered[k + 1] if k + 1 < len(ordered) else None
            width = self._widths[col]
            if following == col + 1 and self._widths[following] == width:
                continue
            shown, custom = _width_xml(width)
            flag = ' customWidth="1"' if custom else ""
            out.append(f'<col min="{start + 1}" max="{col + 1}" width="{shown}"{flag}/>')
            start = following if following is not None else start
        return f"<cols>{''.join(out)}</cols>"


@cache
def _letter(col: int) -> str:
    return xl_col_to_name(col)


def _cell(ref: str, value: object, style: str, strings: dict[str, int]) -> str:
    """One shown cell's XML ("" for a blank without a format: nothing is written)."""
    if type(value) is str and value:
        i = strings.get(value)
        if i is None:
            i = strings[value] = len(strings)
        return f'<c r="{ref}"{style} t="s"><v>{i}</v></c>'
    if value is None or type(value) is str:
        return f'<c r="{ref}"{style}/>' if style else ""
    if type(value) is int or type(value) is float:
        return f'<c r="{ref}"{style}><v>{value:.16G}</v></c>'
    raise TypeError(f"not a shown cell: {type(value)}")


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


class DirectBook:
    """A workbook of DirectSheets, written by `bytes()` (the XlsxBook calls feedback uses)."""

    def __init__(self, title: str = "", subject: str = "") -> None:
        self.title, self.subject = title, subject
        self.sheets: list[DirectSheet] = []
        self.strings: dict[str, int] = {}  # shared string → its index, in order of first use
        self.styles = house_styles()[2]

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def style(self, name: str | None) -> str:
        return "" if name is None else self.styles[name]

    def add_sheet(self, name: str) -> DirectSheet:
        sheet = DirectSheet(self, safe_sheet_name(name, self.sheet_names), len(self.sheets))
        self.sheets.append(sheet)
        return sheet

    def write(self, ws: DirectSheet, row: int, col: int, value: object, fmt: str | None = None) -> None:
        """One cell (0-based) through shown_values (cell_value): text is neutralized, never a formula."""
        ws.put_row(row, col, shown_values([value]), [self.style(fmt)])

    def write_row(
        self,
        ws: DirectSheet,
        row: int,
        values: Sequence[object],
        fmt: str | Sequence[str | None] | None = None,
        col: int = 0,
    ) -> int:
        """Values left to right from (row, col) through shown_values; returns the next row."""
        names = [fmt] * len(values) if fmt is None or isinstance(fmt, str) else fmt
        ws.put_row(row, col, shown_values(values), [self.style(n) for n in names[: len(values)]])
        return row + 1

    def write_merged(
        self, ws: DirectSheet, row: int, first_col: int, last_col: int, value: object, fmt: str | None = None
    ) -> None:
        """One value across merged cells (the others formatted blanks, as xlsxwriter's merge_range)."""
        style = self.style(fmt or "default")
        ws.put_row(
            row,
            first_col,
            [*shown_values([value]), *[None] * (last_col - first_col)],
            [style] * (last_col - first_col + 1),
        )
        if last_col > first_col:
            ws.merge(row, first_col, last_col)

    def put_column(
        self, ws: DirectSheet, row: int, col: int, cells: Sequence[object], formats: Sequence[str | None]
    ) -> None:
        """Cells already shown (xlsx_out.shown_values) down from (row, col), each with its named format."""
        styles = {name: self.style(name) for name in set(formats)}
        ws.put_column(row, col, cells, [styles[name] for name in formats])

    def bytes(self) -> bytes:
        if not self.sheets:
            self.add_sheet("Sheet1")
        styles, theme, _ = house_styles()
        sheets = [s.xml(selected=s.index == 0) for s in self.sheets]
        references = sum(x.count('t="s"') for x in sheets)
        parts: list[tuple[str, bytes | Packed]] = [
            ("[Content_Types].xml", content_types(len(self.sheets), bool(self.strings)).encode()),
            ("_rels/.rels", packed_constant(ROOT_RELS)),
            ("xl/_rels/workbook.xml.rels", workbook_rels(len(self.sheets), bool(self.strings)).encode()),
        ]
        parts += [(f"xl/worksheets/sheet{k + 1}.xml", x.encode()) for k, x in enumerate(sheets)]
        parts.append(("xl/workbook.xml", self._workbook_xml().encode()))
        if self.strings:
            parts.append(
                ("xl/sharedStrings.xml", shared_strings_xml(list(self.strings), references).encode())
            )
        parts += [
            ("xl/styles.xml", packed_constant(styles)),
            ("xl/theme/theme1.xml", packed_constant(theme)),
            ("docProps/core.xml", core_xml(self.title, self.subject).encode()),
            ("docProps/app.xml", app_xml(self.sheet_names).encode()),
        ]
        return zip_bytes(parts)

    def save(self, path: Path) -> Path:
        return atomic_write_bytes(Path(path), self.bytes())

    def _workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name="{_attr(s.name)}" sheetId="{s.index + 1}" r:id="rId{s.index + 1}"/>'
            for s in self.sheets
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{s.index}" hidden="1">'
            f"{escape(quote_sheetname(s.name))}!{s.filter_range(absolute=True)}</definedName>"
            for s in self.sheets
            if s.has_filter
        )
        return (
            f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><fileVersion appName="xl" lastEdited="4" '
            'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews>'
            '<workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )
