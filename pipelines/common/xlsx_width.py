"""A text's width on screen, for a sheet's column widths (xlsx_out.auto_width): Chinese (wide) characters
count twice. Told by one character class of every wide character, built once, not by a lookup of each
character (review.xlsx's widths read 500 cells of each of its ≈ 110 columns)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache


def display_width(text: str) -> int:
    """Columns a text occupies on screen: a character whose east_asian_width is W or F counts twice."""
    return len(text) if text.isascii() else len(text) + len(_wide().findall(text))


@cache
def _wide() -> re.Pattern[str]:
    """Every character whose east_asian_width is W or F, as runs of code points (built once: ≈ 0.1 s)."""
    runs: list[str] = []
    start = None
    for point in range(0x110001):
        wide = point < 0x110000 and unicodedata.east_asian_width(chr(point)) in "WF"
        if wide and start is None:
            start = point
        elif not wide and start is not None:
            runs.append(f"{re.escape(chr(start))}-{re.escape(chr(point - 1))}")
            start = None
    return re.compile(f"[{''.join(runs)}]")
