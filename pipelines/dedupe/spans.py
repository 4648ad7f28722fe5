"""Per pair, the differing segments of its two names as written, held flat (pipelines/dedupe/features.py says
() for the pairs of one name; the review's pattern column reads them back, and computes the others)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import overload

import numpy as np

from pipelines.dedupe.patterns import Span


class PairSpans(Sequence[tuple[Span, ...] | None]):
    """Per pair, the differing segments of its two names as written (a tuple of Span), () when none differ,
    None when they were not read. Held flat — each distinct segment text once, positions in lists — and made
    into tuples when a pair is asked for: the review describes the ≈ 55 % of scored pairs it lists, and a
    tuple per segment for 2M pairs (at 1M rows) held ≈ 0.5 GiB until the scores were known."""

    def __init__(self, n: int) -> None:
        self._first = np.full(n, -1, dtype=np.int64)  # position of the pair's first segment; -1: None
        self._count = np.zeros(n, dtype=np.int64)
        self._b: list[str] = []
        self._a: list[str] = []
        self._start: list[int] = []
        self._end: list[int] = []
        self._texts: dict[str, str] = {}  # each distinct segment text once

    def put(self, pairs: np.ndarray, spans: Sequence[tuple[Span, ...]]) -> None:
        """The segments of `pairs` (pair numbers, in any order)."""
        count = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
        self._first[pairs] = len(self._b) + np.cumsum(count) - count
        self._count[pairs] = count
        flat = list(chain.from_iterable(spans))
        if not flat:
            return
        b, a, start, end = zip(*flat, strict=True)
        intern = self._texts.setdefault
        self._b.extend(map(intern, b, b))
        self._a.extend(map(intern, a, a))
        self._start.extend(start)
        self._end.extend(end)

    def __len__(self) -> int:
        return len(self._first)

    @overload
    def __getitem__(self, k: int) -> tuple[Span, ...] | None: ...
    @overload
    def __getitem__(self, k: slice) -> list[tuple[Span, ...] | None]: ...
    def __getitem__(self, k: int | slice) -> tuple[Span, ...] | None | list[tuple[Span, ...] | None]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        first = self._first.item(k)
        if first < 0:
            return None
        end = first + self._count.item(k)
        return tuple(
            zip(
                self._b[first:end],
                self._a[first:end],
                self._start[first:end],
                self._end[first:end],
                strict=True,
            )
        )

    def taken(self, pairs: np.ndarray) -> list[tuple[Span, ...] | None]:
        """[self[k] for k in pairs], the pairs never read (None) without a call each (1M rows: 1.4M pairs)."""
        out: list[tuple[Span, ...] | None] = [None] * len(pairs)
        for at in np.flatnonzero(self._first[pairs] >= 0).tolist():
            out[at] = self[int(pairs[at])]
        return out

    def __add__(self, other: PairSpans) -> PairSpans:
        """The pairs of self, then those of other (the two halves of one batch)."""
        both = PairSpans(0)
        both._first = np.concatenate(
            [self._first, np.where(other._first < 0, -1, other._first + len(self._b))]
        )
        both._count = np.concatenate([self._count, other._count])
        both._b, both._a = self._b + other._b, self._a + other._a
        both._start, both._end = self._start + other._start, self._end + other._end
        return both

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]
