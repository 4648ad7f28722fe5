"""Template markers in indicator names: what a department copied from a form that is not part of the name.

Real goal tables carry the blank template's decorations into the name cell: "★★★受益建档立卡贫困人口数≥**人",
"指标1:补助发放率", "种植作物成活率(≥**%)", "将成果推广至**国家或地区". Left in, they become library names
and keys no other department will ever match. strip_markers removes them and says what it removed, so that
validation shows the change (I404) and keeps the wording as written (name_as_written) for consolidation.
A placeholder with name text after it ("提高**对**的重视程度", "将成果推广至**国家或地区") is a part of the name the
department did not fill in: it is removed too, but named in `blanks` so that validation warns (W220). A
placeholder in a target at the end ("≥**人", "(≥**%)") is only a note.

Input is a cell's text as read; the result is cleaned (schemas.text.clean_text: 繁→简, half-width), so the
patterns below see "：" as ":", "（" as "(", "≧" as "≥". Circled numbers (①) are taken off first, before
half-width folding turns them into plain digits glued to the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from schemas.text import TEXT_CACHE_SIZE, clean_text

# Decorations never part of a measure's name (star ratings, bullets, reference marks).
_SYMBOLS = re.compile(r"[★☆▲△▼▽●○◆◇■□※◎◉]+")
# "指标1:" / "三级指标2、" / "指标一:" — the form's own numbering of its indicator lines.
_INDICATOR_PREFIX = re.compile(r"^(?:[一二三]级)?指标\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[:.、)]\s*")
# "1、" "(1)" "一、" "①": list numbering (never "1.5米", the number goes on).
_ENUMERATION = re.compile(
    r"^(?:\(\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*\)|\d{1,2}\s*[、.)](?![\d.])|[一二三四五六七八九十]{1,3}\s*、"
    r")\s*"
)
_CIRCLED = re.compile(r"^\s*[\u2460-\u2473\u2776-\u277f\u2780-\u2793]\s*")
_SIGN = r"(?:[≥≤><]=?|=)"
_AMOUNT = r"(?:\*+|\d+(?:\.\d+)?)"
# "(≥**%)" / "(≥95%)" at the end: a target written into the name.
_TARGET_IN_BRACKETS = re.compile(rf"\(\s*{_SIGN}\s*{_AMOUNT}\s*[^()\d]{{0,6}}\)$")
# "≥**人" / "≥95%" at the end (a short unit at most after the amount).
_TARGET_TAIL = re.compile(rf"\s*{_SIGN}\s*{_AMOUNT}\s*[%‰a-zA-Z\u4e00-\u9fff/]{{0,4}}$")
# "**" or "××" left as a blank to fill in ("推广至**国家或地区").
_PLACEHOLDER = re.compile(r"\*{2,}|×{2,}")
_EDGES = " :;,.、-_*"
# A cheap test on the text as written: no marker can be present unless one of these is. Most names pass
# through untouched, and a national year has millions of them.
MARKER_HINT = (
    r"[★☆▲△▼▽●○◆◇■□※◎◉*＊×≥≤><=＞＜＝≧≦]"
    r"|^\s*(?:[(（]\s*[\d０-９一二三四五六七八九十]|[\d０-９]{1,2}\s*[、.．)）]|[一二三四五六七八九十]{1,3}\s*、"
    r"|(?:[一二三][级級])?指[标標]\s*[\d０-９一二三四五六七八九十]{1,3}\s*[:：.．、)）]|[\u2460-\u2473\u2776-\u277f\u2780-\u2793])"
)
_MAYBE = re.compile(MARKER_HINT)


def might_have_markers(text: str) -> bool:
    """False when `text` certainly holds no template marker (then strip_markers only cleans it)."""
    return bool(_MAYBE.search(text))


@dataclass(frozen=True)
class Stripped:
    name: str  # the cleaned name without markers (never emptied by stripping)
    removed: tuple[str, ...]  # what was taken out, in order, as it was written
    blanks: tuple[str, ...] = ()  # placeholders taken from before the end of the name: a part not filled in

    @property
    def changed(self) -> bool:
        return bool(self.removed)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def strip_markers(text: str) -> Stripped:
    """The cleaned name without template markers, and the pieces removed. A name that would become empty
    (a cell holding only "★★★") is only cleaned: an empty name is a different problem (R101)."""
    if not might_have_markers(text):
        return Stripped(clean_text(text), ())
    removed: list[str] = []
    circled = _CIRCLED.match(text)
    if circled:
        removed.append(circled.group(0).strip())
    name = clean_text(text[circled.end() :] if circled else text)

    def cut(pattern: re.Pattern[str], value: str) -> str:
        pieces = [m.group(0).strip() for m in pattern.finditer(value)]
        if not pieces:
            return value
        removed.extend(p for p in pieces if p)
        return pattern.sub("", value).strip(_EDGES) if pattern is not _SYMBOLS else pattern.sub("", value)

    name = cut(_SYMBOLS, name).strip()
    for pattern in (_INDICATOR_PREFIX, _ENUMERATION, _TARGET_IN_BRACKETS, _TARGET_TAIL):
        name = cut(pattern, name)
    blanks = tuple(m.group(0) for m in _PLACEHOLDER.finditer(name) if name[m.end() :].strip(_EDGES))
    name = cut(_PLACEHOLDER, name).strip(_EDGES)
    if not name or not removed:
        return Stripped(clean_text(text), ())
    return Stripped(name, tuple(removed), blanks)
