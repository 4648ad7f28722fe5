"""Measure vocabulary: near-synonyms of name words (schemas/reference/measure_synonyms.csv) and the
canonical form and measure head they give a name.

Two wordings of one measure often share few characters (群众满意度 / 市民满意率, 培训成本 / 培训费用, 完成时间 /
竣工时限). Written in canonical words, they share their ending, the measure head (满意度, 成本, 时间): blocking
compares names within a head, and the pair model reads whether two names are one once near-synonyms are one
word. The list is data, read once; the pair model stores the list it was trained with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from schemas.vocab import REFERENCE_DIR, read_reference_csv

MEASURE_SYNONYMS_CSV = REFERENCE_DIR / "measure_synonyms.csv"
# Taken off before the head is read: a trailing bracket (a unit, a target, an explanation) and list markers.
_TRAILING_BRACKETS = re.compile(r"(?:\([^()]*\))+$")
_LEADING_MARKS = re.compile(r"^(?:其中[:：]?|[一二三]级)")


@cache
def measure_synonyms(path: Path = MEASURE_SYNONYMS_CSV) -> tuple[tuple[str, str], ...]:
    """(canonical word, variant) pairs of the vocabulary file, in file order."""
    return tuple(
        (r["canonical"], r["variant"]) for r in read_reference_csv(path) if r["canonical"] and r["variant"]
    )


class NearSynonymForm:
    """Near-synonyms rewritten to one word, only to compare names: every variant becomes its canonical word
    (followed through chains: 市民 → 群众 → 居民); canonical words are matched as whole words first, so that
    the 人 of 人员 is not rewritten inside it. Longest word first."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        variants: dict[str, str] = {}
        for canonical, variant in pairs:
            variants.setdefault(variant, canonical)
        self.map: dict[str, str] = {}
        for word in {*variants, *variants.values()}:
            self.map[word] = self._resolve(word, variants)
        self.words = sorted(self.map, key=lambda w: (-len(w), w))
        self.pattern = re.compile("|".join(re.escape(w) for w in self.words)) if self.words else None

    @staticmethod
    def _resolve(word: str, variants: dict[str, str]) -> str:
        seen = {word}
        while word in variants and variants[word] not in seen:
            word = variants[word]
            seen.add(word)
        return word

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.map[m.group(0)], text)


def measure_stem(match_name: str) -> str:
    """The part of a matching form that names the measure: without a trailing bracket or a 其中 mark."""
    stem = _LEADING_MARKS.sub("", _TRAILING_BRACKETS.sub("", match_name))
    return stem or match_name


def measure_head(canonical: str, chars: int) -> str:
    """The measure head: the last `chars` characters of a canonical stem (满意度 → 意度, 项目总成本 → 成本)."""
    return canonical[-chars:]
