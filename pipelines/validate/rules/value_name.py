"""W221: a name that is only a value ("15万元。", "100万", "2020年全年") — the target written where the name belongs.

Conservative on purpose: after dropping punctuation, the whole name must be one number (an optional comparison
sign, an optional 万/亿/千/百 and a unit of units.csv, or none) or one date/period phrase with a digit
("2020年全年", "12月底之前完成"). A name with any word of its own ("2020年完成造林面积", "围墙300米") is a name."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from pipelines.common.frames import map_distinct
from pipelines.normalize.canonical import unit_table
from pipelines.validate.hits import hits
from pipelines.validate.rules.base import RuleContext, rule
from schemas.text import TEXT_CACHE_SIZE, compact

# Punctuation a clerk ends or wraps a value with; "." only at the end (it is a decimal point inside).
_PUNCT = re.compile(r"[。，,；;：:、！!？?\"'“”‘’()（）\[\]【】《》]+|\.+$")
_NUMBER = re.compile(r"[≥≤<>=]{0,2}\d+(?:\.\d+)?(?:[-~]\d+(?:\.\d+)?)?(?:万|亿|千|百)?(?P<unit>.*)")
_PERIOD = re.compile(
    r"(?:(?:19|20)\d{2}(?:[-~至](?:19|20)\d{2})?年度?)?"
    r"(?:全年|年初|年中|年底|年末|上半年|下半年|第?[一二三四1-4]季度|\d{1,2}月(?:份|底|末|\d{1,2}日)?)?"
    r"(?:底|末)?(?:之前|以前|前)?(?:完成)?"
)
# Only names opening with one of these can be a value (a cheap filter before the per-name test).
_OPENS = r"^\s*[\d≥≤<>=＞＜＝０-９]"


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def value_only(name: str) -> bool:
    """True when the name says nothing but a number (with its unit) or a time."""
    text = _PUNCT.sub("", compact(name))
    if not text:
        return False
    number = _NUMBER.fullmatch(text)
    if number and (not number["unit"] or number["unit"].lower() in unit_table()):
        return True
    return bool(re.search(r"\d", text)) and _PERIOD.fullmatch(text) is not None


def value_name(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    names = rows.loc[~rows["rejected"], "name"]
    opening = names[names.str.contains(_OPENS, na=False)]
    hit = opening[map_distinct(opening, value_only).astype(bool)]
    return hits(hit.index, "W221", "name", hit)


VALUE_NAME = rule("value_name", "W221", "warning", "warnings", "name that is only a value", check=value_name)
