"""Search folding shared by the page's index (built here, in Python) and its queries (folded in the browser).

The index text is the project's normalization (schemas.text.clean_text: opencc t2s, full → half width,
spaces) followed by a per-character 繁→简 map and lower case. The browser cannot run opencc, so the page
embeds the same per-character map (char_map), derived from opencc at build time, and folds a query with
it and String.normalize("NFKC"). Folding the index text with the per-character map as well keeps both
sides equal where opencc's phrase conversion keeps a character its single-character conversion changes.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from schemas.text import clean_text, to_halfwidth, to_simplified

# CJK Unified Ideographs, Extension A and the compatibility block: where Traditional characters live.
_CJK_RANGES = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
# Punctuation and symbol blocks where the project's half-width folding differs from plain NFKC.
_PUNCT_RANGES = ((0x00A0, 0x0100), (0x2000, 0x2070), (0x2200, 0x2300), (0x3000, 0x3040), (0xFE00, 0x10000))


@cache
def char_map() -> dict[str, str]:
    """Every character whose folded form differs from its NFKC form: 繁→简 and the project's own
    punctuation and sign folding (schemas.text). The browser applies it, then NFKC, then it again."""
    out: dict[str, str] = {}
    for start, stop in _CJK_RANGES + _PUNCT_RANGES:
        for cp in range(start, stop):
            ch = chr(cp)
            folded = to_halfwidth(to_simplified(ch)).lower()
            if folded != unicodedata.normalize("NFKC", ch).lower() and folded.strip():
                out[ch] = folded
    return out


@cache
def _cjk_table() -> dict[int, str]:
    return {ord(k): v for k, v in char_map().items() if len(k) == 1}


def fold(text: str) -> str:
    """The searchable form of a text: clean_text, the per-character map again, lower case."""
    return clean_text(text).translate(_cjk_table()).lower() if text else ""


@cache
def _odd() -> frozenset[str]:
    """The characters the browser's own folding (NFKC, lower case) would not fold as fold() does, and
    the spaces clean_text collapses."""
    return frozenset(char_map()) | frozenset("\t\n\r\f\v\u3000\u00a0\u200b\ufeff")


def odd_characters() -> frozenset[str]:
    """The characters needs_fold looks for (_odd)."""
    return _odd()


def browser_fold(text: str) -> str:
    """What the page derives itself from a text: NFKC and lower case (String.normalize, toLowerCase)."""
    return unicodedata.normalize("NFKC", text).lower()


def needs_fold(text: str) -> bool:
    """False when fold(text) == browser_fold(text) for sure: no character of the 繁→简/punctuation map
    and no irregular space (the phrase-level conversion of opencc only changes mapped characters)."""
    if not text:
        return False
    return not _odd().isdisjoint(text) or "  " in text or text[0] == " " or text[-1] == " "
