"""One object measured two ways, and a judgement against a counted quantity (issue 11, round 10): two conflicts
read from the canonical stems of a pair's names, each a pair-model feature listed only when likely
(objects.LIKELY_ONLY_CONFLICTS; objects.periods_and_new computes them with the others). Kept apart from objects.py,
which stays under its size bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.normalize.suffixes import suffix_table

# Measure words that name one way of measuring (预算完成率 / 预算执行率, 人均资助 / 平均每生): one word for
# objects.measure_swap and measure_replaced.
MEASURE_ALIKE = {"执行": "完成", "平均": "人均"}

# Round 10: one object measured two ways (投诉办结率 / 投诉回访率, 路灯亮灯率 / 路灯完好率, 管理制度健全性 / 有效性,
# guideline rule 4 of tests/data/REAL_PAIRS.md): the canonical stems agree up to a measure word right before the
# same last character (率, 性 or 度) and the two words differ at both ends and share no character. The object is at
# least OBJECT_MIN characters and each word at most WORD_MAX: a longer difference names another object
# (进出口商品检验批次 / 货值增长率), which the other features read. MEASURE_ALIKE's words are one (预算完成率 /
# 预算执行率), near-synonyms are one already in the stems (使用 / 执行, 及时 / 按时), and a word of the model's
# measure-word list is left to measure_swap (which reads those).
_MEASURED_ENDS = "率性度"
OBJECT_MIN, WORD_MAX = 2, 3


def _measure_cut(text: str) -> list[tuple[str, str]]:
    """Each (object, measure word + ending) a stem may be read as: the ending one of _MEASURED_ENDS, the word
    1..WORD_MAX characters, the object at least OBJECT_MIN; [] for a stem with no such ending."""
    if len(text) < OBJECT_MIN + 2 or text[-1] not in _MEASURED_ENDS:
        return []
    return [(text[: len(text) - 1 - k], text[len(text) - 1 - k :]) for k in range(1, WORD_MAX + 1)
            if len(text) - 1 - k >= OBJECT_MIN]  # fmt: skip


def replaced_measure(a: str, b: str, known: frozenset[str] = frozenset()) -> tuple[str, str]:
    """The measure words (with the ending) by which two stems of one object differ (完好率, 使用率), or ("", "")
    when they do not so differ: measure_replaced of one pair, as the 理由 quotes it (known: see _words_apart)."""
    for object_a, word_a in _measure_cut(a):
        for object_b, word_b in _measure_cut(b):
            if object_a == object_b and _words_apart(word_a, word_b, known):
                return word_a, word_b
    return "", ""


def _words_apart(word_a: str, word_b: str, known: frozenset[str]) -> bool:
    """Two measure words (each with the ending) of one object that name two measures: the same ending, the
    words differing at both ends (else the object or the ending would be longer), sharing no character (办结 /
    结案 say one thing), not one word (MEASURE_ALIKE), and neither a word of known (the model's measure words,
    which measure_swap and measure_word read: 预算控制率 / 预算调整率 is one measure to a reader of its formula)."""
    wa, wb = word_a[:-1], word_b[:-1]
    return (
        word_a[-1] == word_b[-1]
        and wa[0] != wb[0]
        and wa[-1] != wb[-1]
        and MEASURE_ALIKE.get(wa, wa) != MEASURE_ALIKE.get(wb, wb)
        and not set(wa) & set(wb)
        and wa not in known
        and wb not in known
    )


def measure_replaced(
    stems: np.ndarray, i: np.ndarray, j: np.ndarray, known: tuple[str, ...] = ()
) -> np.ndarray:
    """The two names measure one object two ways (投诉办结率 / 投诉回访率): replaced_measure of each pair, read as
    codes. Per distinct stem, the codes of its objects at each word length (-1: none); a pair is looked at in
    Python only where one object of each side is the same (a few pairs among many)."""
    texts = [str(s) for s in stems]
    words = frozenset(known)
    cuts = [_measure_cut(t) for t in texts]
    objects = [o for cut in cuts for o, _ in cut]
    codes = pd.factorize(np.array(objects, dtype=object))[0] if objects else np.zeros(0, dtype=np.int64)
    table = np.full((len(texts), WORD_MAX), -1, dtype=np.int64)
    at = 0
    for n, cut in enumerate(cuts):
        table[n, : len(cut)] = codes[at : at + len(cut)]
        at += len(cut)
    same = np.zeros(len(i), dtype=bool)
    for ka in range(WORD_MAX):
        for kb in range(WORD_MAX):
            ca, cb = table[i, ka], table[j, kb]
            same |= (ca >= 0) & (ca == cb)
    out = np.zeros(len(i), dtype=bool)
    for n in np.flatnonzero(same & (i != j)).tolist():
        out[n] = replaced_measure(texts[int(i[n])], texts[int(j[n])], words) != ("", "")
    return out


# A judgement (…性: 及时性, 合规性, 健全性) or a degree (…完成度) is asked of a thing; a time, a count or an amount
# (the suffix table's classes other than 率 and 满意度) is counted: 项目完成及时性 / 项目完成时间 and 任务终期完成度 /
# 任务完成时间 are two kinds of quantity the suffix table does not tell apart (it has no class for 性). No labelled
# pair of the tuning sets with it is a duplicate.
JUDGED_ENDINGS = ("性", "完成度")
# Classes a judgement is not told apart from (补助发放及时性 / 补贴发放及时率 is one measure; "": no known ending).
_COUNTED_KINDS = ("", "率", "满意度")


def judged(text: str) -> bool:
    """The name is a judgement or a degree (JUDGED_ENDINGS)."""
    return text.endswith(JUDGED_ENDINGS)


def judged_apart(stems: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """One name is a judgement or a degree (项目完成及时性), the other a time, a count or an amount by its
    ending (项目完成时间); the suffix table read only on the other sides of pairs with one judged name."""
    texts = [str(s) for s in stems]
    asked = np.array([judged(t) for t in texts], dtype=bool)
    one = asked[i] != asked[j]  # judged names are few: only the other sides of these pairs are classified
    others = np.unique(np.where(asked[i], j, i)[one])
    table = suffix_table()
    counted = np.zeros(len(texts), dtype=bool)
    counted[others] = [table.classify(texts[n]) not in _COUNTED_KINDS for n in others.tolist()]
    return one & (counted[i] | counted[j])
