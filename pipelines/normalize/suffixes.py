"""What a name measures (率 / 人次 / 天数 …), read from its ending: the measure families of
schemas/reference/metric_suffixes.csv, used to tell measures apart when pairs are proposed for review."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from pipelines.normalize.canonical import TRAILING_BRACKET
from schemas.vocab import REFERENCE_DIR, read_reference_csv

SUFFIXES_CSV = REFERENCE_DIR / "metric_suffixes.csv"


@dataclass(frozen=True)
class SuffixTable:
    suffixes: tuple[tuple[str, str], ...]  # (ending, class), longest ending first
    prefixes: tuple[tuple[str, str], ...]
    parent: dict[str, str]
    _by_ending: dict[str, str] = field(default_factory=dict, repr=False)
    _lengths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for suffix, cls in self.suffixes:
            self._by_ending.setdefault(suffix, cls)
        object.__setattr__(self, "_lengths", tuple(sorted({len(s) for s, _ in self.suffixes}, reverse=True)))

    def classify(self, match_name: str) -> str:
        """The measure family of a matching form, "" when its ending is not known."""
        for prefix, cls in self.prefixes:
            if match_name.startswith(prefix):
                return cls
        # "培训班次(会议次数)": the bracket explains, the word before it says what is measured.
        stem = TRAILING_BRACKET.sub("", match_name) if match_name.endswith(")") else match_name
        stem = stem or match_name
        for length in self._lengths:  # longest ending first
            found = self._by_ending.get(stem[-length:]) if len(stem) >= length else None
            if found is not None:
                return found
        return ""

    def ancestors(self, cls: str) -> tuple[str, ...]:
        chain = []
        seen = set()
        while cls and cls not in seen:
            seen.add(cls)
            chain.append(cls)
            cls = self.parent.get(cls, "")
        return tuple(chain)

    def compatible(self, a: str, b: str) -> bool:
        """Same family, or one more general than the other ("数" and "人数"), or either unknown."""
        if not a or not b or a == b:
            return True
        return a in self.ancestors(b) or b in self.ancestors(a)

    def compatible_many(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """compatible() over two arrays of classes, evaluated once per distinct pair of classes."""
        # Hashed, not sorted: a few dozen classes over millions of pairs (any numbering gives the same matrix).
        codes, uniques = pd.factorize(np.concatenate([a, b]).astype(object), use_na_sentinel=False)
        classes = [str(c) for c in uniques]
        matrix = np.array([[self.compatible(x, y) for y in classes] for x in classes], dtype=bool).reshape(
            len(classes), len(classes)
        )
        return matrix[codes[: len(a)], codes[len(a) :]]


@cache
def suffix_table() -> SuffixTable:
    rows = read_reference_csv(SUFFIXES_CSV)
    suffixes = sorted(
        ((r["text"], r["class"]) for r in rows if r["kind"] == "suffix"), key=lambda t: (-len(t[0]), t[0])
    )
    prefixes = sorted(
        ((r["text"], r["class"]) for r in rows if r["kind"] == "prefix"), key=lambda t: (-len(t[0]), t[0])
    )
    parent: dict[str, str] = {}
    for r in rows:
        if r["parent"]:
            parent.setdefault(r["class"], r["parent"])
    return SuffixTable(tuple(suffixes), tuple(prefixes), parent)
