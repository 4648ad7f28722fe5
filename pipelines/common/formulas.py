"""Formula triggers: text a spreadsheet tool could run as a formula (CSV/Excel injection), how the product
neutralizes it in every file it writes, and how it reads its own neutralized text back. No spreadsheet
library here: the reader (intake) and the writers (xlsx_out) share it."""

from __future__ import annotations

import unicodedata

# Characters that make Excel, WPS, LibreOffice or a CSV importer treat a cell as a formula (or DDE).
FORMULA_TRIGGERS = frozenset("=+-@")
# Control characters that some importers strip before looking for a trigger (OWASP lists tab and CR).
_LEADING_CONTROLS = frozenset("\t\r\n")
NEUTRAL_PREFIX = "'"


def is_dangerous(text: str) -> bool:
    """True when a spreadsheet tool could read `text` as a formula."""
    if not text:
        return False
    if text[0] in _LEADING_CONTROLS:
        return True
    stripped = text.lstrip()  # str.lstrip also removes the ideographic space U+3000
    if not stripped:
        return False
    # NFKC folds ＝＋－＠ and the small forms ﹦﹢﹣ to ASCII, as some tools do on import.
    return unicodedata.normalize("NFKC", stripped[0])[:1] in FORMULA_TRIGGERS


def restore_neutralized(text: str) -> str:
    """neutralize's inverse for text read back from a workbook this product wrote (a feedback, a pre-filled
    workbook, a merge review): "'-5%" is the department's -5% behind the product's own quote."""
    return text[1:] if text.startswith(NEUTRAL_PREFIX) and is_dangerous(text[1:]) else text


def neutralize(value: object) -> object:
    """Text that could start a formula gets a leading "'"; every other value is returned unchanged.

    Idempotent: a neutralized text begins with "'" and is therefore no longer dangerous.
    """
    if isinstance(value, str) and is_dangerous(value):
        return NEUTRAL_PREFIX + value
    return value
