"""A worksheet that takes a whole table of cells in one call and writes its rows' XML a chunk at a time.

xlsxwriter spends a big table's time per cell: write_string() checks the dimensions and stores a named
tuple, and at close _write_rows() builds an attribute list and an XML element per cell. `RowBlockSheet`
takes the table's columns once (`write_block`), numbers its texts in the shared-string table in the order
the cell-by-cell writes would (row by row, left to right: each column factorized, the new texts ordered
by their first cell), keeps compact columns (no tuple per cell), and at close writes each row from one
format template per pattern of cell kinds. `fast_shared_strings` writes sharedStrings.xml with one join
for plain texts. The bytes are those of writing the same cells one by one with write_string /
write_number / write_blank (tests/test_xlsx_rows.py compares both). Anything it does not know — row
settings, comments, a changed default row height, constant-memory mode, cells of the block's rows written
the ordinary way — makes it hand the block to xlsxwriter's own table and writer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast

import numpy as np
import pandas as pd
from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

from pipelines.common import xlsx_out
from pipelines.common.xlsx_table import plain_chunk

Cell = str | int | float | None
ABSENT, TEXT, NUMBER, BLANK = 0, 1, 2, 3  # a block cell's kind
_CHUNK = 2048  # rows rendered per join: bounds the transient strings
_SST_CHUNK = 16384  # shared strings written per join (a province has ≈ 1M: ≈ 0.3 GiB as one join)


@dataclass
class _Block:
    """Cells of rows row .. row+n-1, columns col .. col+len(kinds)-1: per column its kinds, its values (a
    shared-string index, a number or None), its format and the rows whose format differs."""

    row: int
    col: int
    n: int
    kinds: list[bytearray] = field(default_factory=list)
    values: list[list[Any] | np.ndarray] = field(default_factory=list)  # a text column: an int64 array
    styles: list[Format | None] = field(default_factory=list)
    overrides: list[dict[int, Format]] = field(default_factory=list)
    last: int = -2  # the last row written so far (0-based in the block): compact's next row goes bare

    def present(self) -> np.ndarray:
        """columns × rows: True where a cell is written."""
        if not self.kinds:
            return np.zeros((0, self.n), dtype=bool)
        return np.stack([np.frombuffer(bytes(k), dtype=np.uint8) for k in self.kinds]) != ABSENT


class RowBlockSheet(Worksheet):
    """xlsxwriter's Worksheet with `write_block` (a table at once) and a chunked `_write_rows`."""

    def __init__(self) -> None:
        super().__init__()
        self._blocks: list[_Block] = []
        # compact: block rows carry no spans, a row its number only where it does not follow the row
        # written before it in the block, a cell its reference only where it does not follow the previous
        # one (ECMA-376 makes all three optional; Excel, LibreOffice, openpyxl and calamine read a row or
        # cell without "r" as the next one). A big sheet's XML is then ≈ 20 % smaller, ≈ 35 % deflated.
        self.compact = False

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
        if row + n > xlsx_out.SHEET_ROWS:  # xlsxwriter would drop the rows below without a word
            raise ValueError(
                f"write_block: rows {row + 1}–{row + n} go past the sheet's {xlsx_out.SHEET_ROWS:,} rows:"
                " split the table over sheets (xlsx_out.sheet_spans)"
            )
        if self.constant_memory or row + n > self.xls_rowmax or col + len(columns) > self.xls_colmax:
            self._write_cells(row, col, columns, styles, overrides)
            return
        columns = [_exact(cells) for cells in columns]
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
        """Each cell's kind (the columns hold exact str, int, float or None: _exact); numbers checked as
        write_number checks them."""
        for j, cells in enumerate(columns):
            kinds = bytearray([_KIND[type(v)] for v in cells])
            floats = [v for v in cells if type(v) is float] if NUMBER in kinds else []
            if floats and not np.isfinite(np.asarray(floats, dtype=np.float64)).all():
                raise TypeError("NAN/INF not supported in write_number()")
            style, special = block.styles[j], block.overrides[j]
            if ABSENT in kinds:  # a None is written as a blank when it has a format
                if style is not None:
                    kinds = bytearray(kinds.replace(bytes([ABSENT]), bytes([BLANK])))
                for i, fmt in special.items():
                    if cells[i] is None:
                        kinds[i] = ABSENT if fmt is None else BLANK
            block.kinds.append(kinds)

    def _shared_strings(self, block: _Block, columns: Sequence[Sequence[Cell]]) -> None:
        """Texts numbered row by row, left to right — the shared-string order of the one-by-one writes:
        a text new to the table takes the next number at its first cell in that order."""
        table = self.str_table
        known = table.string_table
        m = len(columns)
        keys: list[np.ndarray] = []
        texts: list[str] = []
        coded: list[tuple[np.ndarray, list[object]]] = []
        for j, (cells, kinds) in enumerate(zip(columns, block.kinds, strict=True)):
            codes, uniques, firsts = _factorize(cells, self.xls_strmax)
            fresh = [k for k, u in enumerate(uniques) if type(u) is str and u not in known]
            keys.append(firsts[fresh] * m + j)
            texts += [uniques[k] for k in fresh]  # type: ignore[misc]
            table.count += kinds.count(TEXT)
            coded.append((codes, uniques))
        order = np.argsort(np.concatenate(keys), kind="stable") if keys else np.zeros(0, dtype=np.int64)
        for k in order.tolist():
            text = texts[k]
            if text not in known:
                known[text] = table.unique_count
                table.unique_count += 1
        for (codes, uniques), kinds, cells in zip(coded, block.kinds, columns, strict=True):
            shown = [known[u] if type(u) is str else -1 for u in uniques]
            if kinds.count(TEXT) == len(kinds):
                # an array, not a list: 8 bytes a cell, not an int object each (≈ 0.5 GiB at 300k rows)
                block.values.append(np.asarray(shown, dtype=np.int64)[codes] if shown else [])
            else:  # numbers as given (factorize would take 0.0 for -0.0)
                pairs = zip(codes.tolist(), kinds, cells, strict=True)
                block.values.append([shown[c] if k == TEXT else v for c, k, v in pairs])

    def _extend_dimensions(self, block: _Block) -> None:
        present = block.present()
        rows = np.flatnonzero(present.any(axis=0))
        cols = np.flatnonzero(present.any(axis=1))
        if len(rows) and len(cols):
            self._check_dimensions(block.row + int(rows[0]), block.col + int(cols[0]))
            self._check_dimensions(block.row + int(rows[-1]), block.col + int(cols[-1]))

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
            for j, (kinds, values) in enumerate(zip(b.kinds, map(_listed, b.values), strict=True)):
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
        spans = self._spans()
        self.row_spans = spans
        fh = cast(IO[str], self.fh)
        table_rows = sorted(r for r, cells in self.table.items() if cells)
        pieces: list[tuple[int, int, _Block | None]] = [(r, 1, None) for r in table_rows]
        pieces += [(b.row, b.n, b) for b in self._blocks]
        for start, _, block in sorted(pieces, key=lambda p: p[0]):
            if block is None:
                self._write_table_row(start, spans)
            else:
                block.last = -2
                for a in range(0, block.n, _CHUNK):
                    fh.write(self._block_xml(block, a, min(a + _CHUNK, block.n), spans))

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

    def _spans(self) -> dict[int, str]:
        """Each block of 16 rows → "first:last" column (1-based) of its cells (xlsxwriter's spans)."""
        lows: dict[int, int] = {}
        highs: dict[int, int] = {}
        for r, cells in self.table.items():
            if cells:
                lows[r // 16] = min(lows.get(r // 16, min(cells)), min(cells))
                highs[r // 16] = max(highs.get(r // 16, max(cells)), max(cells))
        for b in self._blocks:
            present = b.present()
            written = np.flatnonzero(present.any(axis=0))
            if not len(written):
                continue
            sub = present[:, written]
            low = sub.argmax(axis=0) + b.col
            high = len(sub) - 1 - sub[::-1].argmax(axis=0) + b.col
            groups = (written + b.row) // 16
            starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
            group_low = np.minimum.reduceat(low, starts).tolist()
            group_high = np.maximum.reduceat(high, starts).tolist()
            for g, lo, hi in zip(groups[starts].tolist(), group_low, group_high, strict=True):
                lows[g] = min(lows.get(g, lo), lo)
                highs[g] = max(highs.get(g, hi), hi)
        return {g: f"{low + 1}:{highs[g] + 1}" for g, low in lows.items()}

    def _block_xml(self, b: _Block, a: int, z: int, spans: dict[int, str]) -> str:
        """Rows a..z-1 of a block. A row's XML follows from its cells' kinds: one format template per
        pattern of kinds, filled with the row's number, span and values; a row with a cell format of its
        own is written cell by cell (_row_xml)."""
        m = len(b.kinds)
        if not m:
            return ""
        kinds = np.stack([np.frombuffer(bytes(k[a:z]), dtype=np.uint8) for k in b.kinds], axis=1)
        raw = (kinds + 1).tobytes()  # a row's kinds as a bytes key (no NUL)
        special = {i for o in b.overrides for i in o if a <= i < z}
        styles = [
            _style_attr(f) if f is not None else self._column_style(b.col + j) for j, f in enumerate(b.styles)
        ]
        refs = [f'<c r="{xl_col_to_name(b.col + j)}{{0}}"' for j in range(m)]
        # compact: {1} is the whole opening tag, "<row>" right after the row written before it
        head = "{1}" if self.compact else '<row r="{0}" spans="{1}">'
        templates: dict[bytes, str] = {}
        out: list[str] = []
        for k, values in enumerate(zip(*(_listed(v[a:z]) for v in b.values), strict=True)):
            i, r = a + k, b.row + a + k
            if i in special:
                out.append(self._row_xml(b, i, spans, styles))
                continue
            key = raw[k * m : (k + 1) * m]
            template = templates.get(key)
            if template is None:
                template = templates[key] = _row_template(
                    key, styles, refs, head, b.col if self.compact else -1
                )
            if not template:
                continue
            if self.compact:
                tag = "<row>" if b.last == i - 1 else f'<row r="{r + 1}">'
                out.append(template.format(r + 1, tag, *values))
            else:
                out.append(template.format(r + 1, spans[r // 16], *values))
            b.last = i
        return "".join(out)

    def _row_xml(self, b: _Block, i: int, spans: dict[int, str], styles: list[str]) -> str:
        """One block row whose cells may carry formats of their own."""
        r = b.row + i
        cells: list[str] = []
        follows = self.compact and b.col == 0  # compact: the next cell needs no reference
        for j, kinds in enumerate(b.kinds):
            kind, ref = kinds[i], f"{xl_col_to_name(b.col + j)}{r + 1}"
            if kind == ABSENT:
                follows = False
                continue
            at = "<c" if follows else f'<c r="{ref}"'
            follows = self.compact
            s = styles[j]
            if i in b.overrides[j]:
                fmt = b.overrides[j][i]
                s = _style_attr(fmt) if fmt is not None else self._column_style(b.col + j)
            value = _listed(b.values[j][i : i + 1])[0]
            if kind == TEXT:
                cells.append(f'{at}{s} t="s"><v>{value}</v></c>')
            elif kind == NUMBER:
                cells.append(f"{at}{s}><v>{value:.16G}</v></c>")
            else:
                cells.append(f"{at}{s}/>")
        if not cells:
            return ""
        if self.compact:
            head = "<row>" if b.last == i - 1 else f'<row r="{r + 1}">'
        else:
            head = f'<row r="{r + 1}" spans="{spans[r // 16]}">'
        b.last = i
        return head + "".join(cells) + "</row>"

    def _column_format(self, col: int) -> Format | None:
        """A cell without a format takes its column's format, if any (no row formats: see _fast_rows_apply)."""
        info = self.col_info.get(col)
        return info.column_format if info is not None else None

    def _column_style(self, col: int) -> str:
        column_format = self._column_format(col)
        return "" if column_format is None else _style_attr(column_format)


class _SharedStrings(SharedStrings):
    """sharedStrings.xml as xlsxwriter writes it, a plain text (no edge space, control character, XML
    special or _xHHHH_ look-alike) joined at once, any other through xlsxwriter's own _write_si."""

    def _write_sst_strings(self) -> None:
        fh = cast(IO[str], self.fh)
        texts = self.string_table.string_array
        for a in range(0, len(texts), _SST_CHUNK):  # bounded: not every text's XML at once
            chunk = texts[a : a + _SST_CHUNK]
            ends = list(chunk)  # the outer tags on the end texts: one join, no copy of the whole to add them
            ends[0] = "<si><t>" + ends[0]
            ends[-1] += "</t></si>"
            joined = "</t></si><si><t>".join(ends)
            # A chunk told plain from its bytes at once (1M rows' review.xlsx: ≈ 1M texts, each looked
            # at by a regex and two isspace before); surrogatepass: a lone surrogate fails where it did.
            if plain_chunk(joined.encode("utf-8", "surrogatepass"), len(chunk)):
                fh.write(joined)
                continue
            plain: list[str] = []
            for text in chunk:
                if _CAREFUL.search(text) or text[:1].isspace() or text[-1:].isspace():
                    fh.write("".join(plain))
                    plain = []
                    self._write_si(text)
                else:
                    plain.append(f"<si><t>{text}</t></si>")
            fh.write("".join(plain))


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


def fast_shared_strings(workbook: Workbook) -> Workbook:
    """Have `workbook` write its shared strings with _SharedStrings (same bytes): xlsxwriter asks the
    workbook for its packager, so this one workbook gets ours."""
    workbook._get_packager = _Packager
    return workbook


def add_block_sheet(workbook: Workbook, name: str) -> RowBlockSheet:
    """A RowBlockSheet added to `workbook` under `name`."""
    return cast(RowBlockSheet, workbook.add_worksheet(name, worksheet_class=RowBlockSheet))


_CAREFUL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")  # what _write_si escapes
_KIND: dict[type, int] = {str: TEXT, int: NUMBER, float: NUMBER, type(None): ABSENT}


def _listed(values: list[Any] | np.ndarray) -> list[Any]:
    return values.tolist() if isinstance(values, np.ndarray) else values


def _exact(cells: Sequence[object]) -> Sequence[Cell]:
    """A column whose cells are exactly str, int, float or None (a subclass, e.g. numpy's, converted —
    the same text or number); bool and anything else refused, as write_block writes no other cell."""
    if set(map(type, cells)) <= _KIND.keys():
        return cast(Sequence[Cell], cells)
    out: list[Cell] = []
    for v in cells:
        if v is None or isinstance(v, str):
            out.append(None if v is None else str(v))
        elif isinstance(v, (bool, np.bool_)):
            raise TypeError("write_block: a bool is not a cell (write 是/否)")
        elif isinstance(v, (int, np.integer)):
            out.append(int(v))
        elif isinstance(v, (float, np.floating)):
            out.append(float(v))
        else:
            raise TypeError(f"write_block: unsupported cell type {type(v)}")
    return out


def _factorize(cells: Sequence[Cell], limit: int) -> tuple[np.ndarray, list[object], np.ndarray]:
    """Each cell's code into the column's distinct values (texts cut as write_string cuts them; -1 for
    None), those values in order of first appearance, and the row where each first appears."""
    values = np.empty(len(cells), dtype=object)
    values[:] = cells
    codes, uniques = pd.factorize(values)
    distinct = list(uniques)
    if (
        max(map(len, [u for u in distinct if type(u) is str]), default=0) > limit // 2
    ):  # rare: cut, code again
        values[:] = [_fit(v, limit) if type(v) is str else v for v in cells]
        codes, uniques = pd.factorize(values)
        distinct = list(uniques)
    seen = np.maximum.accumulate(np.r_[-1, codes])
    firsts = np.flatnonzero(seen[1:] > seen[:-1])
    return codes, distinct, firsts


def _row_template(key: bytes, styles: list[str], refs: list[str], head: str, col: int = -1) -> str:
    """The str.format template of a row whose cells have the kinds in `key` (each + 1): {0} the row
    number, {1} its span (compact: the row's opening tag), {j + 2} column j's value; "" when the row writes
    nothing. head: the row's opening tag; col >= 0 (compact, the block's first column): a cell right after the previous one (or
    the first in column A) is written without its reference."""
    cells: list[str] = []
    follows = col == 0
    for j, code in enumerate(key):
        kind = code - 1
        ref = "<c" if follows else refs[j]
        follows = col >= 0 and kind != ABSENT
        if kind == TEXT:
            cells.append(f'{ref}{styles[j]} t="s"><v>{{{j + 2}}}</v></c>')
        elif kind == NUMBER:
            cells.append(f"{ref}{styles[j]}><v>{{{j + 2}:.16G}}</v></c>")
        elif kind == BLANK:
            cells.append(f"{ref}{styles[j]}/>")
    return head + "".join(cells) + "</row>" if cells else ""


def _fit(text: str, limit: int) -> str:
    """write_string's cut: at most `limit` UTF-16 units."""
    return _utf16_truncate(text, limit) if _utf16_len(text) > limit else text


def _style_attr(fmt: Format) -> str:
    return f' s="{fmt._get_xf_index()}"'
