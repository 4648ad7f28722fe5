"""merge_review.xlsx's 理由 numbered and written without holding them all: the review list keeps them packed
(pipelines.common.packed_texts), and the direct writer reads them a chunk at a time, three times — to number
them (scan), to check that texts numbered alike are alike (scan), and to write the shared strings
(StreamedTexts.__iter__) — instead of holding 1.4M str from the pairs' coding to the end of the file (1M
rows' saved inputs: merge_review's peak 2,839 -> 2,621 MiB, for ≈ 1.4 s more CPU; so only where memory is
short: report.build._prepared_beside). The file's bytes are those of the texts held
(tests/test_review_reasons.py).

The texts are numbered by Python's hash: the sorted pairs' 理由 (neutralized as written) in order of first
appearance, each hash once. Texts of one hash are then compared (a second read), so two different texts are
never numbered alike; a collision, a missing value or a text too long leaves the column to the ordinary path
(scan returns None). A 理由 equal to a text of another column would share its number in xlsxwriter's table:
xlsx_numbering.StringTable.finish looks for one and raises NotStreamed, and the writer numbers again with the
texts held (StreamedTexts.held).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipelines.common import xlsx_numbering, xlsx_table
from pipelines.common.packed_texts import PackedTextArray, TextChunks
from pipelines.common.xlsx_numbering import NotStreamed

__all__ = ["NotStreamed", "StreamedTexts", "scan"]

ROWS = 65_536  # rows read at a time (a chunk's worth)
CACHED = 3  # decoded chunks kept: the sorted pairs read their 理由 in runs from a few chunks at a time
MAX_OPEN = 200_000  # texts held at once while texts of one hash are compared (more: the ordinary path)


class _Reader:
    """Texts of `positions` (rows in order) a block at a time, from the few chunks a block touches."""

    def __init__(self, chunks: TextChunks, positions: np.ndarray, neutralize: object) -> None:
        self.chunks, self.positions, self.neutralize = chunks, positions, neutralize
        self.cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def forget(self) -> None:
        """Let the decoded chunks go until the texts are read again (≈ 20 MB each at 1M rows)."""
        self.cache.clear()
        self.chunks.forget()

    def chunk(self, k: int) -> np.ndarray:
        texts = self.cache.get(k)
        if texts is None:
            texts = self.chunks.decoded(k)  # never written: shared with decoded's own last chunk
            self.cache[k] = texts
            if len(self.cache) > CACHED:
                self.cache.popitem(last=False)
        else:
            self.cache.move_to_end(k)
        return texts

    def block(self, rows: np.ndarray) -> np.ndarray:
        """The texts (as shown) of `rows`, an object array."""
        positions = self.positions[rows]
        out = np.empty(len(rows), dtype=object)
        step = self.chunks.chunk
        which = positions // step
        for k in pd.unique(which):
            at = which == k
            out[at] = self.chunk(int(k))[positions[at] - k * step]
        shown = self.neutralize(out)  # type: ignore[operator]
        if isinstance(shown, np.ndarray):
            return shown
        out[:] = shown  # a few texts come back as a list
        return out


class StreamedTexts(Sequence[str]):
    """The distinct texts of a packed column, as shown, in order of first appearance (as xlsx_table numbers
    them): iterated a chunk at a time from the packed chunks, never all held."""

    def __init__(self, reader: _Reader, firsts: np.ndarray, hashes: np.ndarray) -> None:
        self.reader, self.firsts, self.hashes = reader, firsts, hashes
        self.streamed = True

    def __len__(self) -> int:
        return len(self.firsts)

    def __iter__(self) -> Iterator[str]:
        for a in range(0, len(self.firsts), ROWS):
            yield from self.reader.block(self.firsts[a : a + ROWS]).tolist()
        self.reader.forget()

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return self.reader.block(self.firsts[k]).tolist()
        return self.reader.block(self.firsts[[k]])[0]

    def held(self) -> np.ndarray:
        """Every text, held (the ordinary path's values)."""
        out = np.empty(len(self.firsts), dtype=object)
        for a in range(0, len(self.firsts), ROWS):
            out[a : a + ROWS] = self.reader.block(self.firsts[a : a + ROWS])
        return out


def scan(series: pd.Series, neutralize: object) -> tuple[np.ndarray, StreamedTexts] | None:
    """(codes, distinct texts as StreamedTexts) of a packed column of texts as shown (`neutralize`: the
    writer's _neutralized); None where the ordinary path is needed: not packed, a missing value, a text
    write_string would cut, two different texts of one hash, too many texts to compare at once."""
    array = series.array
    if not isinstance(array, PackedTextArray) or not len(array):
        return None
    positions = np.asarray(array._positions, dtype=np.int64)
    if (positions < 0).any():
        return None
    reader = _Reader(array._chunks, positions, neutralize)
    n = len(positions)
    hashes = np.empty(n, dtype=np.int64)
    for a in range(0, n, ROWS):
        rows = np.arange(a, min(a + ROWS, n))
        texts = reader.block(rows)
        if not xlsx_table.fits(texts):
            return None
        hashes[a : a + len(rows)] = np.fromiter(map(hash, texts), np.int64, len(rows))
    codes, distinct = pd.factorize(hashes)
    codes = np.asarray(codes, dtype=np.int32)
    firsts = xlsx_numbering._first_rows(codes)
    alike = len(firsts) == n or _alike(reader, codes, firsts)
    reader.forget()
    if not alike:
        return None
    return codes, StreamedTexts(reader, firsts, np.asarray(distinct, dtype=np.int64))


def _alike(reader: _Reader, codes: np.ndarray, firsts: np.ndarray) -> bool:
    """Whether every text equals the first text of its hash: the rows of a repeated hash read again, each
    first text held from its first row to its hash's last."""
    counts = np.bincount(codes)
    repeated = counts[codes] > 1
    last = np.zeros(len(counts), dtype=np.int64)
    np.maximum.at(last, codes, np.arange(len(codes)))  # each code's last row
    rows = np.flatnonzero(repeated)
    held: dict[int, str] = {}
    for a in range(0, len(rows), ROWS):
        part = rows[a : a + ROWS]
        texts = reader.block(part).tolist()
        for row, text in zip(part.tolist(), texts, strict=True):
            code = int(codes[row])
            if firsts[code] == row:
                held[code] = text
                if len(held) > MAX_OPEN:
                    return False
            elif held[code] != text:
                return False
            if last[code] == row:
                del held[code]
    return True
