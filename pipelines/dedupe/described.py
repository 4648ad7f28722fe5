"""The pairs' descriptions (Described) and how a split list's parts join. The 理由 a forked half of the
descriptions sends back (candidates._describe) come compressed chunk by chunk (PackedReasons): the 1M
rows' 1.4M texts cross the pipe and wait in the parent packed, not as str (sent as str, the
consolidation's process tree peaked ≈ 170 MiB higher in that child)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np

from pipelines.common.packed_texts import NotPackable, TextChunks

NO_TEXTS = np.array([], dtype=object)


class PackedReasons:
    """The 理由 of a half's chunks, each chunk compressed (packed_texts.TextChunks) or, where a text cannot be
    packed, as it was; read back whole, in order (texts()): the same str values."""

    def __init__(self) -> None:
        self.parts: list[TextChunks | np.ndarray] = []

    def add(self, reasons: np.ndarray) -> None:
        try:
            self.parts.append(TextChunks(reasons, max(len(reasons), 1)))
        except (NotPackable, TypeError):  # a separator or lone surrogate in a text, a value not a str
            self.parts.append(reasons)

    def texts(self) -> np.ndarray:
        out = [
            p.texts(np.arange(p.count, dtype=np.int64)) if isinstance(p, TextChunks) else p
            for p in self.parts
        ]
        return np.concatenate(out) if out else NO_TEXTS


def texts_of(reasons: np.ndarray | PackedReasons) -> np.ndarray:
    return reasons.texts() if isinstance(reasons, PackedReasons) else reasons


@dataclass
class Described:
    """Each described pair's place in the list it was given (kept), its difference pattern, pattern group,
    理由 and flags."""

    kept: list[int]
    patterns: list[str]
    groups: list[str]  # pattern_key of each pattern (the sheet's pattern_group)
    reasons: np.ndarray | PackedReasons  # packed: a forked half's answer (_describe)
    flags: np.ndarray


def joined(parts: list[Described], offsets: list[int]) -> Described:
    """Consecutive chunks' descriptions as one (offsets: where each chunk starts)."""
    if len(parts) == 1:
        return parts[0]
    return Described(
        [k + off for part, off in zip(parts, offsets, strict=True) for k in part.kept],
        list(chain.from_iterable(part.patterns for part in parts)),
        list(chain.from_iterable(part.groups for part in parts)),
        np.concatenate([part.reasons for part in parts]),
        np.concatenate([part.flags for part in parts]),
    )


def join_described(first: Described, second: Described, h: int) -> Described:
    return Described(
        first.kept + [k + h for k in second.kept],
        first.patterns + second.patterns,
        first.groups + second.groups,
        np.concatenate([texts_of(first.reasons), texts_of(second.reasons)]),
        np.concatenate([first.flags, second.flags]),
    )
