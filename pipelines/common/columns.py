"""Excel column letters, one way for the reader, the writers and the messages (A = column 0).

Pure arithmetic on purpose: the reader meets letters of any length in hostile XML ("AAAAA"), which a
spreadsheet library's own helpers would reject or cap.
"""

from __future__ import annotations

import re

_FIRST_LETTERS = re.compile(r"[A-Za-z]+")


def col_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 25 → Z, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """Excel letters → 0-based column index, any number of letters, either case (A → 0, ab → 27)."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return index - 1


def first_col_index(reference: str) -> int:
    """The column of a reference's first letters group: 'C' / 'C:D' / 'c5' → 2."""
    match = _FIRST_LETTERS.search(reference)
    if not match:
        raise ValueError(f"not a column letter: {reference!r}")
    return col_index(match.group(0))
