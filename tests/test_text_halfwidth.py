"""to_halfwidth skips the work a text does not need (translate only when a mapped character is there, NFKC
only when the text is not NFKC already): the same strings as the plain composition, whatever the text."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.text import _PUNCT, _SIGNS, clean_text, clean_texts, to_halfwidth

# Mapped signs and punctuation, full-width forms, combining marks (NFKC composes them), Hangul jamo,
# ligatures and compatibility characters (NFKC decomposes them), Traditional characters, spaces of all kinds.
ALPHABET = (
    "".join(map(chr, _SIGNS))
    + "".join(map(chr, _PUNCT))
    + "aA1 ,.%<>=≥≤ＡＺａ０９！＃ｶﾞ\u0301\u0323\u0308e\u1100\u1161\u11a8가ﬁ①㎡Ⅻ™½臺灣體發\t\x1f\u2028"
)


def _plain(text: str) -> str:
    """to_halfwidth as it was written before the shortcuts."""
    return unicodedata.normalize("NFKC", text.translate(_SIGNS)).translate(_PUNCT)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=16))
def test_to_halfwidth_is_the_plain_composition(text: str) -> None:
    assert to_halfwidth(text) == _plain(text)


def test_to_halfwidth_examples() -> None:
    assert to_halfwidth("满意度≧９５％（含）") == "满意度≥95%(含)"
    assert to_halfwidth("plain text") == "plain text"
    assert to_halfwidth("e\u0301") == "\u00e9"  # composed although nothing is mapped by the tables
    assert to_halfwidth("“引号”\u3000") == '"引号" '


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=10), max_size=20))
def test_clean_texts_still_clean_text_of_each(texts: list[str]) -> None:
    assert clean_texts(texts) == [clean_text(t) for t in texts]
