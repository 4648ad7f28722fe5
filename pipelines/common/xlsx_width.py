"""A text's width on screen, for a sheet's column widths (xlsx_out.auto_width): Chinese (wide) characters
count twice. Told by str.translate through a table each character's verdict is kept in once looked up
(a wide one becomes two characters), not by a Python call per character (review.xlsx's widths read 500
cells of each of its ≈ 110 columns)."""

from __future__ import annotations

import unicodedata


class _Widths(dict[int, str]):
    """Code point → the character itself (narrow) or two characters (east_asian_width W or F), filled as
    characters are met."""

    def __missing__(self, point: int) -> str:
        char = chr(point)
        shown = self[point] = char * 2 if unicodedata.east_asian_width(char) in "WF" else char
        return shown


_WIDTHS = _Widths()


def display_width(text: str) -> int:
    """Columns a text occupies on screen: a character whose east_asian_width is W or F counts twice."""
    return len(text) if text.isascii() else len(text.translate(_WIDTHS))
