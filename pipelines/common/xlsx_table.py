"""Big tables written straight into an xlsx package, for a workbook whose layout xlsxwriter draws.

xlsxwriter writes the workbook around the tables — header rows, widths, formats, panes, filters, data
validation, other sheets — with no table body (a "skeleton": a few KB, made in memory). The bodies are then
rendered here a column at a time: each column comes as codes into its distinct values; the texts are
numbered in the shared-string table in the order xlsxwriter's cell-by-cell writes would number them (row by
row, left to right, sheet after sheet: xlsx_numbering.StringTable — every column's values factorized once
together, the cells numbered as integers by their first use); a chunk of rows is one byte matrix
(each cell's XML taken from its value's row of a table by code) read row by row (body_xml); the shared
strings are joined a chunk at a time, as pipelines.common.xlsx_rows._SharedStrings writes them; everything
is deflated as it comes, by other threads (xlsx_package.write_package), into zip entries carrying what xlsxwriter's
file-based packaging gives them. No cell is stored twice and no temporary file read back. The same cells
give the same bytes as xlsxwriter with RowBlockSheet (compact rows) — but for U+FFFE/U+FFFF, escaped here as
xlsxwriter's own writer escapes them (fast_shared_strings writes them raw, which no reader accepts).

A body here is every cell present (no absent cell: a cell never needs its reference, a row after the
first never its number), texts shared strings, numbers finite, blanks formatted: merge_review.xlsx's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from xlsxwriter.sharedstrings import SharedStrings

from pipelines.common.xlsx_numbering import BlankColumn, Column, StringTable
from pipelines.common.xlsx_package import write_package  # noqa: F401 - merge_review calls it here
from pipelines.common.xlsx_parts import HEAD, MAIN

ROW_CHUNK = 16384  # rows rendered per join: bounds the transient strings (≈ 6 MB of sheet XML)
SST_CHUNK = 16384  # shared strings written per join
# xlsxwriter's packaging from temporary files: each entry dated as the file it set to 1980-01-31 00:00
# (local time, read back as local time), with the mode of a tempfile.mkstemp file (0600).
# What goes through xlsxwriter's _write_si (with an edge space): what xlsx_rows._SharedStrings sends
# there, and the non-characters U+FFFE/U+FFFF, which _write_si escapes as _xFFFE_/_xFFFF_ (written raw, as
# _SharedStrings writes them, they make the file unreadable: XML forbids them).
_CAREFUL = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_STRMAX_SAFE = 32767 // 2  # a text no longer than this is never cut by write_string


def fits(texts: Iterable[str]) -> bool:
    """No text long enough for xlsxwriter's write_string to cut (the direct path does not cut)."""
    return max(map(len, texts), default=0) <= _STRMAX_SAFE


@dataclass
class _Table:
    """A segment of each row: the bytes of row i are table[codes[i]] but its NULs (no NUL is ever in a
    sheet's XML: its texts are in the shared strings, its markup is ASCII)."""

    codes: np.ndarray
    table: np.ndarray  # distinct values × widest, uint8


def _pieces_table(pieces: list[bytes], codes: np.ndarray) -> _Table:
    widest = max(map(len, pieces), default=0)
    table = np.frombuffer(b"".join(p.ljust(widest, b"\0") for p in pieces), dtype=np.uint8)
    return _Table(codes, table.reshape(len(pieces), widest))


def _numbers_table(prefix: bytes, numbers: np.ndarray, suffix: bytes, codes: np.ndarray) -> _Table:
    """prefix + each number (≥ 0; below 0 as 0) in decimal + suffix, by code (a shared-string cell, its
    number known). The digits right-aligned, NUL before them; made a digit place at a time, in place."""
    width = len(str(int(numbers.max(initial=0))))
    table = np.empty((len(numbers), len(prefix) + width + len(suffix)), dtype=np.uint8)
    table[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    table[:, len(prefix) + width :] = np.frombuffer(suffix, dtype=np.uint8)
    rest = np.maximum(numbers, 0).astype(np.uint32)  # shared-string numbers: below 2**31
    digit = np.empty(len(numbers), dtype=np.uint32)
    units = len(prefix) + width - 1
    for place in range(units, len(prefix) - 1, -1):
        left = rest > 0  # the number reaches this place (the units place always shown)
        np.divmod(rest, 10, rest, digit)
        table[:, place] = np.where(left | (place == units), digit + 48, 0)
    return _Table(codes, table)


def _segments(
    columns: Sequence[Column], numbers: Sequence[np.ndarray | None], strings: StringTable
) -> list[Any]:
    """A row's XML as segments (constant bytes, a value from a table) for all rows at once: <row>, then
    each cell without its reference (each follows the previous one, from A)."""
    out: list[Any] = [b"<row>"]
    for column, shared in zip(columns, numbers, strict=True):
        if isinstance(column, BlankColumn):
            out.append(f"<c{column.style}/>".encode())
            continue
        s, texts = column.style, column.texts or all(type(v) is str for v in column.values)
        if shared is not None and len(shared) and texts:
            out.append(_numbers_table(f'<c{s} t="s"><v>'.encode(), shared, b"</v></c>", column.codes))
            continue
        pieces = [  # numbers (and a few texts): each distinct value's cell
            (
                f'<c{s} t="s"><v>{shared[k] if shared is not None else -1}</v></c>'
                if type(v) is str
                else f"<c{s}><v>{v:.16G}</v></c>"
            ).encode()
            for k, v in enumerate(column.values)
        ]
        out.append(_pieces_table(pieces, column.codes))
    out.append(b"</row>")
    return out  # constants written once (_layout): adjacent ones left apart


def _layout(segments: list[Any], n: int) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray, slice]]]:
    """A byte matrix for n rows with the constant segments written once (every chunk reuses it), and
    each table segment as a gather: its codes, its rows as single values (void), its place in a row."""
    widths = [len(p) if isinstance(p, bytes) else p.table.shape[1] for p in segments]
    buf = np.empty((n, sum(widths)), dtype=np.uint8)
    gathers = []
    at = 0
    for piece, width in zip(segments, widths, strict=True):
        place = slice(at, at + width)
        at += width
        if isinstance(piece, bytes):
            buf[:, place] = np.frombuffer(piece, dtype=np.uint8)
        else:
            table = np.ascontiguousarray(piece.table).view(np.dtype((np.void, width)))[:, 0]
            gathers.append((piece.codes, table, place))
    return buf, gathers


def _render(buf: np.ndarray, gathers: list[tuple[np.ndarray, np.ndarray, slice]], a: int, z: int) -> bytes:
    """Rows a..z-1: each table segment's values put in place (a row's bytes of a table taken as one value:
    one copy, not a byte at a time), the NULs (leading zeros, a table value's padding) dropped, the rest
    read row by row."""
    rows = buf[: z - a]
    for codes, table, place in gathers:
        rows[:, place].view(table.dtype)[:, 0] = table[codes[a:z]]
    # bytes.translate deleting NUL: one C loop (1M rows' saved inputs: 0.52 -> 0.40 s against rows[rows != 0])
    return rows.tobytes().translate(None, b"\0")


def body_xml(
    columns: Sequence[Column],
    numbers: Sequence[np.ndarray | None],
    a: int,
    z: int,
    first_row: int,
    strings: StringTable,
) -> Iterator[bytes]:
    """The <row> elements of rows a..z-1 of `columns` (the first is row `first_row`, 1-based), a chunk of
    ROW_CHUNK rows at a time; `numbers`: StringTable.number_block's for these rows. As RowBlockSheet's
    compact rows: the first row numbered, every other one bare (it follows the row before), cells
    without references (each follows the previous, from column A)."""
    if z <= a or not columns:
        return
    buf, gathers = _layout(_segments(columns, numbers, strings), min(ROW_CHUNK, z - a))
    for start in range(a, z, ROW_CHUNK):
        xml = _render(buf, gathers, start, min(start + ROW_CHUNK, z))
        yield b'<row r="%d">' % first_row + xml[5:] if start == a else xml


def shared_strings_xml(strings: StringTable) -> Iterator[bytes]:
    """sharedStrings.xml as xlsx_rows._SharedStrings writes it (a careful text through xlsxwriter's own
    _write_si), encoded, a chunk at a time. A chunk of plain texts is one join (plain_chunk); any other
    chunk goes text by text."""
    texts = strings.texts
    yield f'{HEAD}<sst xmlns="{MAIN}" count="{strings.count}" uniqueCount="{len(texts)}">'.encode()
    slots = strings.slots  # a streamed column's texts: read in order, into their places (None)
    streamed = iter(strings.streamed) if len(slots) else iter(())
    for a in range(0, len(texts), SST_CHUNK):
        chunk = texts[a : a + SST_CHUNK]
        lo, hi = np.searchsorted(slots, (a, a + SST_CHUNK))
        for at in (slots[lo:hi] - a).tolist():
            chunk[at] = next(streamed)
        ends = list(chunk)  # the outer tags on the end texts: one join, no copy of the whole to add them
        ends[0] = "<si><t>" + ends[0]
        ends[-1] += "</t></si>"
        joined = "</t></si><si><t>".join(ends)
        # U+FFFE/U+FFFF looked for in the str: one code unit, ≈ 15x faster than their 3 bytes in UTF-8
        if "\ufffe" not in joined and "\uffff" not in joined:
            data = joined.encode()
            if plain_chunk(data, len(chunk)):
                yield data
                continue
        out: list[str] = []
        for text in chunk:
            if _CAREFUL.search(text) or text[:1].isspace() or text[-1:].isspace():
                out.append(_careful_si(text))
            else:
                out.append(f"<si><t>{text}</t></si>")
        yield "".join(out).encode()
    yield b"</sst>"


def plain_chunk(data: bytes, n: int) -> bool:
    """Whether n texts joined as <si><t>…</t></si> (UTF-8: no multi-byte character holds an ASCII byte)
    need no escaping: no & or _x, every < and > a tag's, no control character, no white space
    (str.isspace) right after <t> or right before </t>. U+FFFE/U+FFFF are the caller's to rule out. The
    first test keeps &, <, >, the control characters and "_" at once: a chunk without "_" (nearly all)
    needs no search for "_x". Then every > is a tag's, four a text: each text's first and last character
    read beside the second and third, all at once."""
    kept = data.translate(None, _NOT_SPECIAL)
    if kept != _TAGS * n and (kept.replace(b"_", b"") != _TAGS * n or b"_x" in data):
        return False
    data_bytes = np.frombuffer(data, dtype=np.uint8)
    tags = np.flatnonzero(data_bytes == ord(">"))
    return not (_space(data_bytes, tags[1::4] + 1, 1) | _space(data_bytes, tags[2::4] - 4, -1)).any()


def _space(data: np.ndarray, at: np.ndarray, step: int) -> np.ndarray:
    """Whether the character beginning (step 1) or ending (step -1) at each of `at` is white space. A
    lead byte tells a character's length, so bytes read past it (into a tag: ASCII) match nothing."""
    b = [data[at + k * step].astype(np.uint32) for k in range(3)]
    if step < 0:
        b.reverse()  # in the text's order, the character ending at b[2]
    one, two = (b[0], (b[0] << 8) | b[1]) if step > 0 else (b[2], (b[1] << 8) | b[2])
    three = (b[0] << 16) | (b[1] << 8) | b[2]
    return np.isin(one, _SPACE_BYTES[1]) | np.isin(two, _SPACE_BYTES[2]) | np.isin(three, _SPACE_BYTES[3])


# Bytes that are none of & < > _ and the control characters _write_si escapes (UTF-8 never has them in a
# multi-byte character); <si><t>…</t></si> leaves "<><><><>" behind.
_NOT_SPECIAL = bytes(b for b in range(256) if b not in b"&<>_" and not (b < 0x20 and b not in (9, 10)))
_TAGS = b"<><><><>"
# The characters str.isspace() holds true (tests/test_merge_review_direct.py checks), UTF-8 ints by length.
SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
SPACES += "\u2028\u2029\u202f\u205f\u3000"
_SPACE_BYTES = {
    k: np.array([int.from_bytes(c.encode(), "big") for c in SPACES if len(c.encode()) == k], dtype=np.uint32)
    for k in (1, 2, 3)
}


def _careful_si(text: str) -> str:
    writer = SharedStrings()
    writer.fh = io.StringIO()
    writer._write_si(text)
    return writer.fh.getvalue()
