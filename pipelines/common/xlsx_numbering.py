"""Texts numbered as xlsxwriter numbers its shared strings, for pipelines.common.xlsx_table's big tables.

A table body comes as columns (CodedColumn: each row's code into the column's distinct values; BlankColumn).
StringTable numbers the texts in the order xlsxwriter's cell-by-cell writes would number them — row by row,
left to right, sheet after sheet — without a cell-by-cell dictionary: every column's distinct values are
factorized once together (factorize_texts: Python's hash and equality, as xlsxwriter's dict tells texts
apart), and the cells, kept as integers, are numbered by their first use. One column's texts may be
streamed (never all held: review_reasons.StreamedTexts); a streamed text equal to a held one raises
NotStreamed, for the caller to number them held.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import hashtable, lib


@dataclass
class CodedColumn:
    """A column of cells: each row's code into `values` (its distinct values as shown: a text, a shared
    string; a finite number), and the cells' style attribute (' s="N"' or "")."""

    codes: np.ndarray
    values: Sequence[str | float | int]
    style: str = ""
    texts: bool = False  # every value a text (else told value by value)


@dataclass
class BlankColumn:
    """A column of formatted blanks."""

    style: str


Column = CodedColumn | BlankColumn


def number_codes(values: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Codes into the distinct values of a float column, told apart by their bits (-0.0 is not 0.0)."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    codes, distinct = pd.factorize(bits)  # in order of first appearance (number_block's fast case)
    return np.asarray(codes, dtype=np.intp), np.asarray(distinct, dtype=np.int64).view(np.float64).tolist()


def factorize_texts(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize (int32 codes) of an object array of texts by Python's own hash and equality, as
    xlsxwriter's dict of shared strings tells texts apart. pd.factorize sends an array of only str to its
    StringHashTable, which keeps each non-ASCII text's UTF-8 in the str (PyUnicode_AsUTF8: ≈ 400 MB more
    resident at 1M rows, for as long as the texts live). Objects told apart by address first (integers, no
    object read: a pair's name is one object repeated), then the distinct ones by hash, texts of one hash
    compared; a chunk of integers at a time (PyObjectHashTable reads an object at each probe: 3x slower)."""
    texts = np.ascontiguousarray(texts, dtype=object)
    if len(texts) < _KEYS_CHUNK:
        codes, distinct = _object_factorize(texts)
        return codes.astype(np.int32), distinct
    # addresses times an odd constant (a bijection): spread over the table, as aligned addresses are not
    addresses = np.ctypeslib.as_array((ctypes.c_uint64 * len(texts)).from_address(texts.ctypes.data))
    codes = _int_codes(lambda a, z: (addresses[a:z] * _SPREAD).view(np.int64), len(texts))
    objects = texts[_first_rows(codes)]
    found = _hash_factorize(objects) if lib.is_string_array(objects) else None
    by_value, distinct = found or _object_factorize(objects)
    return by_value.astype(np.int32, copy=False)[codes], distinct


_KEYS_CHUNK = 1 << 16
_SPREAD = np.uint64(0x9E3779B97F4A7C15)


def _object_factorize(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    table = hashtable.PyObjectHashTable(len(texts))
    distinct, codes = table.factorize(texts, na_sentinel=-1)
    return np.asarray(codes, dtype=np.intp), distinct


def _int_codes(keys: Any, n: int) -> np.ndarray:
    """int32 codes of n int64 keys (keys(a, z): those of rows a..z-1) in order of first appearance."""
    table = hashtable.Int64HashTable(n)
    codes = np.empty(n, dtype=np.int32)
    known = 0
    for a in range(0, n, _KEYS_CHUNK):
        new = hashtable.Int64Vector()  # one a chunk: a vector once read cannot grow
        codes[a : a + _KEYS_CHUNK] = table.get_labels(keys(a, min(a + _KEYS_CHUNK, n)), new, known)
        known += len(new)
    return codes


def _hash_factorize(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct str objects factorized by their hash (None: two texts of one hash differ, which is rare)."""
    codes = _int_codes(lambda a, z: np.fromiter(map(hash, texts[a:z]), np.int64, z - a), len(texts))
    firsts = _first_rows(codes)
    if len(firsts) < len(texts):
        again = np.ones(len(texts), dtype=bool)
        again[firsts] = False
        rows = np.flatnonzero(again)  # a text whose hash an earlier one has: the same text?
        if not (texts[rows] == texts[firsts[codes[rows]]]).all():
            return None
    return codes, texts[firsts]


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The row where each code first appears, codes numbered in order of first appearance from 0."""
    first = np.empty(len(codes), dtype=bool)
    first[:1] = True
    np.greater(codes[1:], np.maximum.accumulate(codes)[:-1], out=first[1:])
    return np.flatnonzero(first)


class StringTable:
    """The shared strings in order of first use, and the number of text cells that use them.

    Texts are given in the order they are written (add: one cell; number_block: a block of rows), then
    numbered at once (finish). A block's cells are kept as integers — each into the distinct values of its
    column, every column's values registered once (_Source) — so the texts themselves are factorized once
    per column, not once per block, and no object is read again until finish: one factorization of every
    column's values (≈ 3.3M texts at 1M rows' 1.4M pairs), then the cells numbered by first use over
    integers (1M rows' saved inputs, streamed 理由: merge_review.xlsx's numbering 3.46 s before, 2.55 with
    _member, 1.97 s so; its peak over its start +547 -> +388 MiB; no ≈ 5M-object array concatenated)."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: list[Any] = []  # after finish: the table (None: a streamed text, in `slots`)
        self.index: dict[str, int] = {}  # after finish: the number of each text given by add
        # each block's cells in order: a held text's place in the union (>= 0), or -1 - k (streamed value k)
        self._parts: list[np.ndarray] = []
        self._added: list[tuple[int, str]] = []
        self._blocks: list[BlockNumbers] = []
        self._size = 0
        self._union: list[np.ndarray] = []  # every column's text values, each column once
        self._union_size = 0
        self._sources: dict[int, _Source] = {}
        self.streamed: Any = None  # a streamed column's values (review_reasons.StreamedTexts): not held
        self.slots = np.zeros(0, dtype=np.int64)  # after finish: the streamed texts' places in the table

    def add(self, text: str) -> None:
        """One text cell written the ordinary way (write_string)."""
        self.count += 1
        self._added.append((self._size, text))
        self._parts.append(np.array([self._held(_objects([text]))], dtype=np.int64))
        self._size += 1

    def _held(self, values: np.ndarray) -> int:
        """Texts put in the union: the place of the first."""
        at = self._union_size
        self._union.append(values)
        self._union_size += len(values)
        return at

    def _source(self, column: CodedColumn) -> _Source:
        """A column's values, registered at their first block: where its texts are in the union."""
        values = column.values
        source = self._sources.get(id(values))
        if source is not None:
            return source
        if getattr(values, "streamed", False):
            if self.streamed is not None and self.streamed is not values:
                raise ValueError("one streamed column at most")
            self.streamed = values
            source = _Source(values, None, 0, streamed=True)
        else:
            objects = _objects(values)
            texts_only = column.texts or all(type(v) is str for v in objects)  # looked at once per column
            is_text = None if texts_only else np.array([type(v) is str for v in objects], dtype=bool)
            if is_text is None:
                source = _Source(values, None, self._held(objects))
            else:
                at = np.full(len(objects), -1, dtype=np.int64)
                at[is_text] = self._held(objects[is_text]) + np.arange(int(is_text.sum()))
                source = _Source(values, is_text, at)
        self._sources[id(values)] = source
        return source

    def number_block(self, columns: Sequence[Column], a: int, z: int) -> BlockNumbers:
        """Rows a..z-1 of `columns` written as cells row by row, left to right: a text new to the table
        takes the next number at its first cell in that order (numbered by finish, for body_xml)."""
        m = len(columns)
        keys: list[np.ndarray] = []
        cells: list[np.ndarray] = []
        block = BlockNumbers(m, self._size)
        for j, column in enumerate(columns):
            if not isinstance(column, CodedColumn):
                continue
            source = self._source(column)
            is_text = source.is_text
            if is_text is not None and not is_text.any():
                continue
            codes = column.codes[a:z]
            present, firsts = _firsts(codes)
            if is_text is not None:
                self.count += int(np.count_nonzero(is_text[codes]))
                keep = is_text[present]
                present, firsts = present[keep], firsts[keep]
            else:
                self.count += len(codes)
            keys.append(firsts * m + j)
            present = np.asarray(present, dtype=np.int64)
            if source.streamed:
                cells.append(-1 - present)
            elif isinstance(source.at, np.ndarray):
                cells.append(source.at[present])
            else:
                cells.append(source.at + present)
            block.parts.append((j, len(column.values), present))
        if cells:
            block.order = np.argsort(np.concatenate(keys), kind="stable")
            self._parts.append(np.concatenate(cells)[block.order])
            self._size += len(block.order)
        self._blocks.append(block)
        return block

    def finish(self) -> None:
        """Number every text given: the table is the distinct texts in the order first given."""
        union = np.concatenate(self._union) if self._union else np.zeros(0, dtype=object)
        self._union, self._sources = [], {}
        union_codes, distinct = factorize_texts(union) if len(union) else (np.zeros(0, np.int32), union)
        del union
        cells = np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=np.int64)
        self._parts = []
        held = len(distinct)
        if self.streamed is not None:
            _no_clash(distinct, self.streamed)
        # each cell's text as an integer: a distinct held text, or held + k for the streamed column's k-th
        ids = np.where(cells >= 0, union_codes[np.maximum(cells, 0)].astype(np.int64), held - 1 - cells)
        del cells, union_codes
        codes, order = _first_use(ids, held + (len(self.streamed) if self.streamed is not None else 0))
        table = np.full(len(order), None, dtype=object)
        kept = order < held
        table[kept] = distinct[order[kept]]
        self.texts = table.tolist()
        if self.streamed is not None:
            self.slots = np.flatnonzero(~kept)  # read in order by shared_strings_xml: k-th text, k-th slot
            if not np.array_equal(order[self.slots] - held, np.arange(len(self.slots))):
                raise NotStreamed  # not first used in their order (scan numbers them so: never seen)
        self.index = {text: int(codes[at]) for at, text in self._added}
        for block in self._blocks:
            block.resolve(codes)


@dataclass
class _Source:
    """A column's values in a StringTable: `at` the union's place of its first text (every value a text)
    or of each value (-1: not a text, told by is_text); a streamed column is not in the union."""

    values: Any  # kept: the table's sources are keyed by the values' identity
    is_text: np.ndarray | None
    at: int | np.ndarray
    streamed: bool = False


def _first_use(ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Numbers for integer ids in 0..size-1 in order of first use: each cell's number, and the ids by
    number (no hash table, no sort: the first cell of each id by one scatter, the ids put at their first
    cells by another, read in cell order)."""
    n = len(ids)
    first = np.full(size, n, dtype=np.int64)
    first[ids[::-1]] = np.arange(n - 1, -1, -1)  # repeated ids: the last write, the first cell, wins
    used = np.flatnonzero(first < n)
    at_cell = np.full(n, -1, dtype=np.int64)
    at_cell[first[used]] = used  # first cells are distinct
    order = at_cell[at_cell >= 0]
    number = np.full(size, -1, dtype=np.int64)
    number[order] = np.arange(len(order))
    return number[ids], order


class NotStreamed(Exception):
    """A streamed text equals a text held: number the streamed column's texts held instead."""


def _no_clash(held: np.ndarray, streamed: Any) -> None:
    """NotStreamed where a streamed text equals one of the distinct texts held (it would share its number):
    their hashes compared first, a text of a hash both have compared."""
    hashes = np.fromiter(map(hash, held), np.int64, len(held))
    clash = _member(hashes, streamed.hashes)
    if clash.any():  # a hash of both kinds: the same text? (compared, rare)
        mine = set(held[clash].tolist())
        for k in np.flatnonzero(_member(streamed.hashes, hashes[clash])).tolist():
            if streamed[k] in mine:
                raise NotStreamed


def _member(values: np.ndarray, of: np.ndarray) -> np.ndarray:
    """np.isin(values, of) for int64 keys by a hash table: numpy's sorts both (1M rows' 1.9M distinct held
    texts' hashes against 1.36M 理由's: 1.23 s, this ≈ 0.08 s)."""
    table = hashtable.Int64HashTable(max(len(of), 1))
    table.map_locations(np.ascontiguousarray(of, dtype=np.int64))
    return np.asarray(table.lookup(np.ascontiguousarray(values, dtype=np.int64))) >= 0


class BlockNumbers:
    """number_block's numbers: for each column with texts, its distinct values' shared-string numbers
    (-1 for a value not in the block's rows, or not a text); None for a column without texts."""

    def __init__(self, m: int, start: int) -> None:
        self.start = start
        self.parts: list[tuple[int, int, np.ndarray]] = []  # column, its distinct values, those present
        self.order = np.zeros(0, dtype=np.intp)
        self.numbers: list[np.ndarray | None] = [None] * m

    def resolve(self, codes: np.ndarray) -> None:
        given = np.empty(len(self.order), dtype=np.int64)
        given[self.order] = codes[self.start : self.start + len(self.order)]
        at = 0
        for j, size, present in self.parts:
            full = np.full(size, -1, dtype=np.int64)
            full[present] = given[at : at + len(present)]
            at += len(present)
            self.numbers[j] = full


def _objects(values: Sequence[object]) -> np.ndarray:
    """An object array of the values as they are (np.asarray would make a list of texts a str array)."""
    if isinstance(values, np.ndarray) and values.dtype == object:
        return values
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _firsts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes of `codes` and the position of each one's first appearance (the positions in
    increasing order). Codes from pd.factorize of exactly these rows appear in order 0, 1, 2, …: then
    one pass; else (a later sheet's rows) a factorization of the integers, no sort."""
    if not len(codes):
        return codes, codes
    if codes[0] == 0 and (np.diff(np.maximum.accumulate(codes)) <= 1).all():
        firsts = _first_rows(codes)
        return np.arange(len(firsts)), firsts
    again, present = pd.factorize(codes)
    return np.asarray(present), _first_rows(np.asarray(again))
