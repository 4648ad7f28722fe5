"""Measure vocabulary: near-synonyms of name words (schemas/reference/measure_synonyms.csv) and the
canonical form and measure head they give a name.

Two wordings of one measure often share few characters (群众满意度 / 市民满意率, 培训成本 / 培训费用, 完成时间 /
竣工时限). Written in canonical words, they share their ending, the measure head (满意度, 成本, 时间): blocking
compares names within a head, and the pair model reads whether two names are one once near-synonyms are one
word. The list is data, read once; the pair model stores the list it was trained with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Postfix

from schemas.vocab import REFERENCE_DIR, read_reference_csv

MEASURE_SYNONYMS_CSV = REFERENCE_DIR / "measure_synonyms.csv"
# Taken off before the head is read: a trailing bracket (a unit, a target, an explanation) and list markers.
_TRAILING_BRACKETS = re.compile(r"(?:\([^()]*\))+$")
_LEADING_MARKS = re.compile(r"^(?:其中[:：]?|[一二三]级)")
# A target written into the name (辖区企业满意率达95%以上, 满意度≥90%): the value, not the measure.
_TRAILING_TARGET = re.compile(
    r"(?:达到?|不低于|不少于|高于|大于|≥|>=|>)[0-9.]+%?(?:及?以上)?$|[0-9.]+%(?:及?以上)?$|%$"
)
# Qualifiers that name no particular object: 服务对象满意度 is the generic form of 受益单位满意度,
# 辖区企业满意度 … (a generic name against a qualified one of the same measure).
GENERIC_OBJECTS = ("服务对象", "受益对象", "受助对象", "受益人群", "受益群众", "受益人", "服务群众")


@cache
def measure_synonyms(path: Path = MEASURE_SYNONYMS_CSV) -> tuple[tuple[str, str], ...]:
    """(canonical word, variant) pairs of the vocabulary file, in file order."""
    return tuple(
        (r["canonical"], r["variant"]) for r in read_reference_csv(path) if r["canonical"] and r["variant"]
    )


class NearSynonymForm:
    """Near-synonyms rewritten to one word, only to compare names: every variant becomes its canonical word
    (followed through chains: 市民 → 群众 → 居民); canonical words are matched as whole words first, so that
    the 人 of 人员 is not rewritten inside it. Longest word first."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        variants: dict[str, str] = {}
        for canonical, variant in pairs:
            variants.setdefault(variant, canonical)
        self.map: dict[str, str] = {}
        for word in {*variants, *variants.values()}:
            self.map[word] = self._resolve(word, variants)
        self.words = sorted(self.map, key=lambda w: (-len(w), w))
        self.pattern = re.compile("|".join(re.escape(w) for w in self.words)) if self.words else None

    @staticmethod
    def _resolve(word: str, variants: dict[str, str]) -> str:
        seen = {word}
        while word in variants and variants[word] not in seen:
            word = variants[word]
            seen.add(word)
        return word

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.map[m.group(0)], text)


def measure_stem(match_name: str) -> str:
    """The part of a matching form that names the measure: without a trailing bracket, a target written
    into the name (达95%以上) or a 其中 mark."""
    stem = _LEADING_MARKS.sub("", _TRAILING_TARGET.sub("", _TRAILING_BRACKETS.sub("", match_name)))
    return stem or match_name


def generic_form(stem: str) -> tuple[str, bool]:
    """A canonical stem without a leading generic qualifier (服务对象满意度 → 满意度), and whether one was off."""
    for word in GENERIC_OBJECTS:
        if stem.startswith(word) and len(stem) > len(word) + 1:
            return stem[len(word) :], True
    return stem, False


def generic_pair(a: str, b: str) -> bool:
    """A generic name and a qualified one of the same measure: the shorter stem, without a generic
    qualifier, ends the longer one (服务对象满意度 / 尘肺病康复患者满意度, 接种率 / 适龄儿童…接种率)."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if short == long_:
        return False
    core, stripped = generic_form(short)
    return len(core) >= 2 and long_.endswith(core) and (stripped or len(short) <= 4)


def generic_pairs(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """generic_pair(stems[i[n]], stems[j[n]]) for every n, per-stem work done once per distinct stem."""
    forms = [str(s) for s in stems]
    lengths = np.array([len(s) for s in forms], dtype=np.int64)
    cut = [generic_form(s) for s in forms]
    core = np.array([c for c, _ in cut], dtype=object)
    core_len = np.array([len(c) for c, _ in cut], dtype=np.int64)
    stripped = np.array([s for _, s in cut], dtype=bool)
    # Equal codes for equal stems (hashed: sorting 200k texts at 1M rows cost more than the rest).
    code = pd.factorize(np.array(forms, dtype=object))[0] if forms else lengths
    first_short = lengths[i] <= lengths[j]  # the shorter side; A on a tie, as generic_pair reads it
    short, long_ = np.where(first_short, i, j), np.where(first_short, j, i)
    out = (
        (code[short] != code[long_])
        & (core_len[short] >= 2)
        & (stripped[short] | (lengths[short] <= 4))
        & (core_len[short] <= lengths[long_])
    )
    if out.any():  # the long stem ends with the short one's core: their common ending is the whole core
        k = np.flatnonzero(out)
        shared = process.cpdist(
            list(core[short[k]]), [forms[m] for m in long_[k]], scorer=Postfix.similarity, workers=1
        )
        out[k] = shared == core_len[short[k]]
    return out


def distinct_objects_many(stems: np.ndarray, i: np.ndarray, j: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """distinct_objects(stems[i[n]], stems[j[n]]) for every n, given each pair's common ending length."""
    lengths = np.array([len(s) for s in stems], dtype=np.int64)
    # A qualifier starts with a generic word when its stem does and the qualifier is at least that long:
    # the shortest generic word the stem starts with decides.
    big = np.iinfo(np.int64).max
    generic = np.array(
        [min((len(w) for w in GENERIC_OBJECTS if str(s).startswith(w)), default=big) for s in stems],
        dtype=np.int64,
    )
    qa, qb = lengths[i] - shared, lengths[j] - shared
    return (shared >= 2) & (qa > 0) & (qb > 0) & (generic[i] > qa) & (generic[j] > qb)


# Cost rows (issue 11, the misses never generated): a project's whole cost is written 项目总成本, 预算控制数,
# 市民中心运行维护费 or only its value (15万元。) — few shared characters, so the similarity passes never pair them.
# Their cost words are written as one mark, COST_MARK, for the cost pass of blocking.py (only to find pairs).
_COST_WORDS = re.compile(r"成本|费用|经费|开支|费|控制数|概算|预算|资金|投入|投资")
_VALUE_ONLY = re.compile(r"^[≥≤<>＜＞约共计合为:：]*[0-9.,，]+\s*[万亿千]?元[/／]?\S{0,3}[。.]?$")
COST_MARK = "¥"


def cost_text(stem: str, unit: str, level2: str) -> str:
    """A cost row's stem with its cost words as COST_MARK ("" when the row is not a cost row): a unit in
    money and a cost word in the stem, a value-only name (15万元。) or a 成本 二级."""
    if "元" not in unit and not _VALUE_ONLY.match(stem):
        return ""
    if _VALUE_ONLY.match(stem):
        return COST_MARK
    text = _COST_WORDS.sub(COST_MARK, stem)
    return text if COST_MARK in text or "成本" in level2 else ""


def measure_head(canonical: str, chars: int) -> str:
    """The measure head: the last `chars` characters of a canonical stem (满意度 → 意度, 项目总成本 → 成本)."""
    return canonical[-chars:]


def distinct_objects(a: str, b: str) -> bool:
    """The same measure of two named objects: the stems share an ending of at least two characters and each
    puts its own qualifier before it, neither of them generic (政府满意度 / 患者满意度, 预算完成率 / 按时完成率)."""
    shared = 0
    while shared < min(len(a), len(b)) and a[-1 - shared] == b[-1 - shared]:
        shared += 1
    qa, qb = a[: len(a) - shared], b[: len(b) - shared]
    if shared < 2 or not qa or not qb:
        return False
    return not any(q.startswith(word) for q in (qa, qb) for word in GENERIC_OBJECTS)
