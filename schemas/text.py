"""Text normalization shared by every step: Traditional→Simplified, full-width→half-width, spaces.

Why here and not in normalize.py: the reader needs it for headers and sheet names, validation for
vocabularies and search for queries, long before the normalize step runs on whole tables.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import opencc

# Full-width punctuation that NFKC leaves alone or maps oddly; keep the Chinese sense.
_PUNCT = str.maketrans(
    {
        "，": ",",
        "；": ";",
        "：": ":",
        "（": "(",
        "）": ")",
        "【": "[",
        "】": "]",
        "〔": "[",
        "〕": "]",
        "“": '"',
        "”": '"',
        "‘": "'",
        "’": "'",
        "　": " ",
        "\u00a0": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
# NFKC would turn ≧/≦ into ≥/≤-less forms inconsistently; map the comparison signs we accept explicitly.
_SIGNS = str.maketrans({"≧": "≥", "≦": "≤", "＞": ">", "＜": "<", "＝": "=", "％": "%"})
_SPACES = re.compile(r"\s+")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (opencc t2s, offline dictionaries shipped with the wheel)."""
    return _t2s().convert(text) if text else text


# The characters each table maps: str.translate looks every character up (≈ 0.15 µs each), so a text
# is translated only when a regex scan (C speed) finds one of them; NFKC only when the text is not NFKC.
_SIGN_KEYS = re.compile("[" + re.escape("".join(map(chr, _SIGNS))) + "]")
_PUNCT_KEYS = re.compile("[" + re.escape("".join(map(chr, _PUNCT))) + "]")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation → half-width (NFKC), keeping ≥ ≤ and Chinese."""
    if _SIGN_KEYS.search(text):
        text = text.translate(_SIGNS)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_PUNCT) if _PUNCT_KEYS.search(text) else text


# Bounded: a national year has millions of distinct texts, and an unbounded cache keeps every one alive
# (≈ 300 MiB at 1M rows); repeated labels, the reason for caching, stay among the most recent.
TEXT_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def clean_text(text: str) -> str:
    """The canonical form of a cell's text: simplified, half-width, single spaces, trimmed.

    Cached because workbooks repeat the same labels thousands of times.
    """
    if not text:
        return ""
    return _SPACES.sub(" ", to_halfwidth(to_simplified(text))).strip()


# A character no cell holds (the reader drops control characters): texts joined by it are converted by
# opencc in one call, which matches them one by one because no dictionary phrase spans it.
_JOIN = "\x1f"


def clean_texts(texts: list[str]) -> list[str]:
    """clean_text of each text, the same strings, for many distinct texts at once: one opencc call for all
    (opencc's per-call cost dominates short cells), the rest per text; not cached."""
    plain = [t for t in texts if t and _JOIN not in t]
    simplified = to_simplified(_JOIN.join(plain)).split(_JOIN) if plain else []
    if len(simplified) != len(plain):
        simplified = [to_simplified(t) for t in plain]
    done = dict(zip(plain, simplified, strict=True))
    return [_SPACES.sub(" ", to_halfwidth(done[t])).strip() if t in done else clean_text(t) for t in texts]


def compact(text: str) -> str:
    """clean_text without any spaces: the form used to match headers, sheet names and vocabularies."""
    return clean_text(text).replace(" ", "")


def cell_to_text(value: object) -> str:
    """A cell value as the text an official sees: 95.0 → '95', True → '是', None → ''.

    Numbers stored as numbers and numbers stored as text end up the same string here.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # dates: rare in these sheets, keep unambiguous
    return str(value).strip()
