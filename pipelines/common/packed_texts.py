"""Texts held compressed until they are read: a pandas column whose values are kept as zstd-compressed UTF-8
chunks (pyarrow's codec) instead of one Python str each.

Why: the review list's 理由 are nearly all distinct and formulaic (1M rows: 1.39M texts of ≈ 125 characters,
≈ 440 MiB as str objects) and are read once, by merge_review.xlsx, at the end of the report. Held from the
consolidation to the report as str they kept the 1M report's start above the memory under which its library
page may be written in a second process (report.build._page_forked); compressed they take ≈ 1/20 of that.

The column behaves as an object column of str to its readers: selecting, taking, sorting by other columns and
copying rows only compose an index into the chunks (nothing is decompressed); the texts come back as Python
str when values are read (to_numpy, a cell, iteration, astype). Missing values (NaN) are allowed; anything
else that is not a str is refused (pack returns None, the caller keeps its column as it was).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray, ExtensionDtype, register_extension_dtype, take

CHUNK = 65_536  # texts per compressed chunk: a cell read decompresses one chunk (≈ 8 MB of UTF-8 at most)
CODEC, LEVEL = "zstd", 1  # level 1: the 理由's ≈ 20x ratio at the codec's fastest


@register_extension_dtype
class PackedTextDtype(ExtensionDtype):
    """The dtype of a PackedTextArray (values are str; missing is NaN, as in an object column)."""

    name = "packed_text"
    type = str
    kind = "O"

    @classmethod
    def construct_array_type(cls) -> builtins.type[PackedTextArray]:
        return PackedTextArray


SEPARATOR = "\x00"  # between a chunk's texts (a chunk with a text holding it is not packed: NotPackable)


ENCODING = "utf-16-le"  # CJK text: 2 bytes a character, and 2.5x faster both ways than UTF-8 (1.4M 理由)


class NotPackable(ValueError):
    """A text holds the separator or a lone surrogate (which UTF-16 cannot keep apart from a pair): the
    column is left as it is."""


class TextChunks:
    """Texts in order, CHUNK at a time, each chunk one compressed UTF-16 text with SEPARATOR between them.

    Joined and encoded whole, not text by text: pyarrow's conversion of each str would leave its UTF-8
    cached inside it (CPython's), doubling what the texts held while they live. Measured on 1.42M 理由
    (CPU): packed in 0.5 s, read back in 0.65 s, 22 MiB."""

    def __init__(self, texts: Sequence[str] | np.ndarray, chunk: int = CHUNK) -> None:
        self.chunk, self.count = chunk, len(texts)
        self.data: list[bytes] = []
        self.sizes: list[int] = []
        codec = pa.Codec(CODEC, compression_level=LEVEL)
        for start in range(0, len(texts), chunk):
            part = texts[start : start + chunk]
            joined = SEPARATOR.join(part)
            if joined.count(SEPARATOR) != len(part) - 1:
                raise NotPackable("a text holds the separator")
            try:
                raw = joined.encode(ENCODING)
            except UnicodeEncodeError as error:
                raise NotPackable("a lone surrogate") from error
            self.sizes.append(len(raw))
            self.data.append(codec.compress(raw, asbytes=True) if raw else b"")
        self._last: tuple[int, np.ndarray] | None = None  # the last chunk read (cells read one by one)

    @property
    def nbytes(self) -> int:
        return sum(len(d) for d in self.data)

    def decoded(self, k: int) -> np.ndarray:
        """Chunk k as an object array of str."""
        last = self._last
        if last is not None and last[0] == k:
            return last[1]
        size = self.sizes[k]
        codec = pa.Codec(CODEC, compression_level=LEVEL)
        raw = codec.decompress(self.data[k], decompressed_size=size, asbytes=True) if size else b""
        texts = np.empty(min(self.chunk, self.count - k * self.chunk), dtype=object)
        texts[:] = raw.decode(ENCODING).split(SEPARATOR)
        self._last = (k, texts)
        return texts

    def forget(self) -> None:
        """Let the last chunk read go (a reader done with the texts for now)."""
        self._last = None

    def texts(self, positions: np.ndarray) -> np.ndarray:
        """The texts at `positions` (-1: NaN), as an object array; only the chunks they fall in are read."""
        out = np.empty(len(positions), dtype=object)
        valid = positions >= 0
        out[~valid] = np.nan
        if not valid.any():
            return out
        wanted = positions[valid]
        every = np.empty(self.count, dtype=object)
        for k in np.unique(wanted // self.chunk):
            start = int(k) * self.chunk
            part = self.decoded(int(k))
            every[start : start + len(part)] = part
        out[valid] = every[wanted]
        return out


class PackedTextArray(ExtensionArray):
    """A column of str (and NaN) held as TextChunks plus each row's position in them."""

    def __init__(self, chunks: TextChunks, positions: np.ndarray) -> None:
        self._chunks = chunks
        self._positions = np.asarray(positions, dtype=np.int64)

    @classmethod
    def pack(cls, values: Sequence[Any] | np.ndarray, chunk: int = CHUNK) -> PackedTextArray | None:
        """values as a PackedTextArray; None when one of them is neither a str nor missing."""
        array = np.asarray(values, dtype=object)
        if array.ndim != 1:
            return None
        missing = pd.isna(array)
        texts = array[~missing]
        if not all(type(t) is str for t in texts):
            return None
        try:
            chunks = TextChunks(texts, chunk)
        except NotPackable:
            return None
        positions = np.full(len(array), -1, dtype=np.int64)
        positions[~missing] = np.arange(len(texts), dtype=np.int64)
        return cls(chunks, positions)

    # --- the ExtensionArray interface -------------------------------------------------------------------

    @classmethod
    def _from_sequence(cls, scalars: Any, *, dtype: Any = None, copy: bool = False) -> PackedTextArray:
        packed = cls.pack(scalars if hasattr(scalars, "__len__") else list(scalars))
        if packed is None:
            raise TypeError("packed_text holds only str and missing values")
        return packed

    @classmethod
    def _from_factorized(cls, values: np.ndarray, original: PackedTextArray) -> PackedTextArray:
        return cls._from_sequence(values)

    @classmethod
    def _concat_same_type(cls, to_concat: Sequence[PackedTextArray]) -> PackedTextArray:
        first = to_concat[0]._chunks
        if all(a._chunks is first for a in to_concat):
            return cls(first, np.concatenate([a._positions for a in to_concat]))
        return cls._from_sequence(np.concatenate([a.to_numpy() for a in to_concat]))

    @property
    def dtype(self) -> PackedTextDtype:
        return PackedTextDtype()

    @property
    def nbytes(self) -> int:
        return self._chunks.nbytes + self._positions.nbytes

    def __len__(self) -> int:
        return len(self._positions)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, np.integer)):
            position = int(self._positions[item])
            if position < 0:
                return np.nan
            k, at = divmod(position, self._chunks.chunk)
            return self._chunks.decoded(k)[at]
        if isinstance(item, tuple) and len(item) == 1:
            item = item[0]
        if not isinstance(item, slice):
            item = pd.api.indexers.check_array_indexer(self, item)
        return type(self)(self._chunks, self._positions[item])

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("packed_text columns are read-only")

    def __iter__(self) -> Iterator[Any]:
        step = self._chunks.chunk
        for start in range(0, len(self), step):
            yield from self._chunks.texts(self._positions[start : start + step])

    def isna(self) -> np.ndarray:
        return self._positions < 0

    def take(
        self, indices: Sequence[int] | np.ndarray, *, allow_fill: bool = False, fill_value: Any = None
    ) -> PackedTextArray:
        if allow_fill and fill_value is not None and not pd.isna(fill_value):
            return type(self)._from_sequence(
                take(self.to_numpy(), indices, allow_fill=True, fill_value=fill_value)
            )
        positions = take(self._positions, indices, allow_fill=allow_fill, fill_value=-1)
        return type(self)(self._chunks, positions)

    def copy(self) -> PackedTextArray:
        return type(self)(self._chunks, self._positions.copy())  # the chunks are never written

    def to_numpy(
        self, dtype: Any = None, copy: bool = False, na_value: Any = pd.api.extensions.no_default
    ) -> np.ndarray:
        texts = self._chunks.texts(self._positions)
        if na_value is not pd.api.extensions.no_default:
            texts[self.isna()] = na_value
        return texts if dtype in (None, object, np.dtype(object)) else texts.astype(dtype)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.to_numpy(dtype=dtype)

    def astype(self, dtype: Any, copy: bool = True) -> Any:
        if isinstance(dtype, PackedTextDtype):
            return self.copy() if copy else self
        return super().astype(dtype, copy=copy)

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, (pd.Series, pd.Index, pd.DataFrame)):
            return NotImplemented
        right = other.to_numpy() if isinstance(other, PackedTextArray) else other
        return self.to_numpy() == right

    def _values_for_factorize(self) -> tuple[np.ndarray, Any]:
        return self.to_numpy(), np.nan

    def _values_for_argsort(self) -> np.ndarray:
        return self.to_numpy()


def unpacked(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """frame with its packed_text columns (or those of `columns`) as object columns of str."""
    names = [
        c
        for c in (frame.columns if columns is None else columns)
        if c in frame.columns and isinstance(frame[c].dtype, PackedTextDtype)
    ]
    if not names:
        return frame
    # dtype=object kept: pandas would read an array of str as its own string dtype
    return frame.assign(
        **{c: pd.Series(frame[c].to_numpy(dtype=object), index=frame.index, dtype=object) for c in names}
    )
