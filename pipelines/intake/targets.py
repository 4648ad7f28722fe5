"""Targets and history as officials write them: "≥95%", "不低于 90 %", "3天以内", "2024年:95%;2025年:97%".

The cell text is kept whole (target_text); the symbol, number and unit found in it are added beside it
(target_symbol, target_value, target_unit), and the history as JSON by year (history_json).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from schemas.text import clean_text, compact
from schemas.vocab import reference


@dataclass(frozen=True)
class ParsedTarget:
    symbol: str  # canonical symbol (≥ ≤ = > < 定性) written in the target, "" when none
    value: float | None  # the number, None when the target is not a number (qualitative or garbled)
    unit: str  # unit written after the number (百分比 → %), else the unit hint
    text: str  # the whole target, cleaned (繁→简, half-width), nothing dropped


# A target cell that is a bare number (an optional %): the one case where its parsed symbol reads before it.
_BARE_NUMBER = re.compile(r"^\s*[+\-]?[0-9][0-9.,]*\s*%?\s*$")
_COMPARISONS = ("≥", "≤", "=", ">", "<", "＞", "＜")


def shown_target(symbol: str, target: str, unit: str = "") -> str:
    """The target as a reader should see it: the cell as the department wrote it (≥98%, 不低于 90%, 98%以上,
    明显提高), the parsed symbol before it only when the cell is a bare number (its unit apart) and the unit
    after it only where the cell lacks it — never ≥≥98%% or 定性明显提高."""
    bare = symbol in _COMPARISONS and _BARE_NUMBER.match(target.removesuffix(unit) if unit else target)
    return (symbol if bare else "") + target + (unit if unit and unit not in target else "")


_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
# Words written after the number that carry the comparison ("95%以上", "3天以内"); longest first.
_SUFFIX_SYMBOLS = (
    ("及以上", "≥"),
    ("及以下", "≤"),
    ("以上", "≥"),
    ("以下", "≤"),
    ("以内", "≤"),
    ("之内", "≤"),
    ("内", "≤"),
)
# Prefix words officials use that the vocabulary lacks (asked to be added to vocabularies.csv).
_UNIT_ALIASES = {"百分比": "%", "百分率": "%"}
# What cannot be a unit: another comparison, a range, or sentence words ("年底前完成", "95%左右").
_NOT_A_UNIT = re.compile(r"[≥≤<>=,;。]|^[\d.]|[-~～至到—]\d|前|后|底|完成|达到|确保|实现|左右|之间|以前")
_TRAILING_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")
_HISTORY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年度|年)?\s*(?::|(?<=年)|(?<=年度))\s*")
_HISTORY_TRIM = " ;,、。.:"


def parse_target(text: str, unit_hint: str = "") -> ParsedTarget:
    """Split a target cell into symbol, number and unit: "≥95%", "不低于 90 %", "3天以内", "1,000"…

    A trailing parenthetical note ("≥99%（另一处写作≤99%）") is ignored for parsing; qualitative targets
    ("效果明显", "是") keep value None. Symbol words come from the symbol vocabulary.
    """
    return _parse_target(text or "", unit_hint or "")


@lru_cache(maxsize=65536)
def _parse_target(text: str, unit_hint: str) -> ParsedTarget:
    cleaned = clean_text(text)
    hint = _normalize_unit(compact(unit_hint))
    if not cleaned:
        return ParsedTarget("", None, hint, "")
    core = cleaned
    note_unit = ""
    while (m := _TRAILING_NOTE.search(core)) and m.start() > 0:
        note = m.group(1).replace(" ", "")
        if note and len(note) <= 4 and not re.search(r"\d", note):
            note_unit = note_unit or note  # "100(人次)": a short note without digits is the unit
        core = core[: m.start()]
    rest = core.replace(" ", "")
    symbol, rest = _symbol_prefix(rest)
    m = _NUMBER.match(rest)
    if not m:
        return ParsedTarget(symbol, None, hint, cleaned)
    value = float(m.group(0).replace(",", "")) + 0.0  # + 0.0 turns "-0" into 0.0
    unit = rest[m.end() :]
    suffix_symbol = ""
    for word, sym in _SUFFIX_SYMBOLS:
        if unit.endswith(word) and (word != "内" or len(unit) > 1):
            unit, suffix_symbol = unit[: -len(word)], sym
            break
    if unit and (len(unit) > 8 or _NOT_A_UNIT.search(unit)):
        return ParsedTarget(symbol, None, hint, cleaned)
    unit = _normalize_unit(unit or note_unit) or hint
    return ParsedTarget(symbol or suffix_symbol, value, unit, cleaned)


def _normalize_unit(unit: str) -> str:
    return _UNIT_ALIASES.get(unit, unit)


@cache
def _symbol_words() -> tuple[tuple[str, str], ...]:
    words = reference().vocab_lookup["symbol"]
    return tuple(sorted(words.items(), key=lambda kv: (-len(kv[0]), kv[0])))


def _symbol_prefix(text: str) -> tuple[str, str]:
    for word, symbol in _symbol_words():
        if word and text.startswith(word):
            rest = text[len(word) :]
            # A one-character Chinese word ("为") is a symbol only before a number ("为100%"), not in a sentence.
            if len(word) == 1 and not word.isascii() and word not in "≥≤—" and not _NUMBER.match(rest):
                continue
            return symbol, rest
    return "", text


def parse_history(text: str) -> dict[str, str]:
    """Historical values by year: "2024年:95%;2025年:97%", "2023年95%，2024年96%", "2024：90".

    A value without any year is kept under the key ""; empty text gives {}.
    """
    return dict(_parse_history(text or ""))


@lru_cache(maxsize=16384)
def _parse_history(text: str) -> tuple[tuple[str, str], ...]:
    cleaned = clean_text(text)
    if not cleaned:
        return ()
    marks = list(_HISTORY_YEAR.finditer(cleaned))
    if not marks:
        return (("", cleaned),)
    values: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(cleaned)
        value = cleaned[m.end() : end].strip(_HISTORY_TRIM)
        values.setdefault(m.group(1), value)
    return tuple(values.items())


def history_json(text: str) -> str:
    """parse_history as sorted JSON, the form stored in the frame."""
    return _history_json(text or "")


@lru_cache(maxsize=16384)
def _history_json(text: str) -> str:
    return json.dumps(dict(sorted(_parse_history(text))), ensure_ascii=False)
