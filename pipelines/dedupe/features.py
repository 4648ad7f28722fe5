"""Features of a candidate pair: what the pair model (pipelines/dedupe/model.py) weighs.

Features compare the two names (edit and n-gram similarity, word order), the *kind* of difference between
them (a qualifier prefix added, one character changed, a known contrast such as 开工/完工 or 增/减, a
near-synonym such as 成本/费用), what the names measure (the metric suffix class), the 指标解释, the unit, and
the fields that file them (二级指标, scope, function class). Most are vectorized over all pairs; the kind of
difference is read per pair, and only for pairs that can still reach the listing threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq, Postfix, Prefix
from sklearn.feature_extraction.text import CountVectorizer

from pipelines.dedupe.patterns import diff_spans
from pipelines.dedupe.vocabulary import (
    NearSynonymForm,
    distinct_objects,
    generic_pair,
    measure_head,
    measure_stem,
)
from pipelines.normalize.suffixes import suffix_table
from schemas.text import clean_text

FEATURES = (
    "name_ratio",  # edit similarity of the matching forms, 0–1
    "order_ratio",  # the same, characters sorted: word order does not count
    "bigram_dice",  # character-bigram overlap
    "partial_ratio",  # best alignment of the shorter name inside the longer, 0–1
    "coverage",  # longest common subsequence / length of the shorter name: is one a specialisation
    "common_head",  # shared leading characters / length of the shorter name (same object)
    "common_tail",  # shared trailing characters / length of the shorter name (same measure)
    "identical",  # same matching form (filed differently: another 二级, scope, class or unit)
    "contained",  # one name inside the other
    "prefix_added",  # one insertion at the start: 奖补资金X及时率 / X及时率, 信息系统X / 系统X
    "inner_added",  # one insertion elsewhere: 资金拨付及时率 / 资金拨付率
    "one_char_sub",  # exactly one character replaced: 开工率 / 完工率, 湿地 / 耕地
    "head_sub",  # a replacement at the start of the name (another subject: 桃 / 苹果种植面积)
    "tail_sub",  # a replacement at the end (another measure: 教材 / 课程数量), unless a near-synonym
    "contrast",  # a difference that changes the measure (开工/完工, 增/减, 城市/农村 …)
    "measure_word",  # a difference names what is counted or how (及时, 足额, 合格, 平均 …): another measure
    "near_synonym",  # the same once near-synonyms are one word (成本/费用, 班次/期数 …)
    "number_diff",  # the difference holds a number or a numeral (7月 / 11月, 第一 / 第二季度)
    "diff_share",  # share of characters that differ
    "n_ops",  # differing segments (capped at 4) / 4
    "short",  # the shorter name has at most 4 characters (few words, easily ambiguous)
    "suffix_same",  # same metric suffix class (率, 人次 …)
    "suffix_conflict",  # incompatible suffix classes (人次 / 场次)
    "def_both",  # both have an 指标解释
    "def_sim",  # similarity of the 指标解释 when both have one, else 0
    "unit_equal",
    "unit_conflict",  # both units given and different
    "same_name_unit_conflict",  # the same name with two different units: usually two measures (万元/元 aside)
    "unit_missing",  # only one unit given
    "level2_equal",
    "scope_equal",
    "class_diff",  # two project indicators of different function classes
    "canon_ratio",  # edit similarity of the measure stems in canonical words (vocabulary.py)
    "canon_tail",  # shared trailing characters of the canonical stems / length of the shorter
    "head_same",  # same measure head (last two characters of the canonical stems: 意度, 成本, 行率)
    "generic_qualified",  # a generic name and a qualified one of one measure (服务对象满意度 / 受益单位满意度)
    "distinct_objects",  # one measure of two named objects (政府满意度 / 患者满意度): other indicators
)
COLUMN = {f: k for k, f in enumerate(FEATURES)}

# Features computed per pair in Python (the others are vectorized): what pruning does not know yet.
LOOP_FEATURES = (
    "contained",
    "prefix_added",
    "inner_added",
    "one_char_sub",
    "head_sub",
    "tail_sub",
    "measure_word",
    "number_diff",
    "diff_share",
    "n_ops",
)
_NUMERAL = re.compile(r"[0-9零一二三四五六七八九十百千两]")
_DEF_NOISE = re.compile(r"反映|情况|[,.;:，。；：、\s\"“”()（）]")


@dataclass(frozen=True)
class DifferenceWords:
    """The word lists the difference features read (stored with the model's coefficients)."""

    contrasts: tuple[tuple[str, str], ...]  # (word, word): one on each side changes the measure
    near_synonyms: tuple[tuple[str, str], ...]  # (word kept, variant): likely, never certainly, the same
    measure_words: tuple[str, ...] = ()  # words that say what is counted or how, not which object


@dataclass(frozen=True)
class Sides:
    """One side of a batch of pairs: object arrays of text, one entry per pair."""

    match: np.ndarray  # matching form of the name
    definition: np.ndarray
    unit: np.ndarray  # normalized unit
    level2: np.ndarray
    scope: np.ndarray
    fclass: np.ndarray  # function class ("" unless a 项目 indicator)


def definition_form(text: str) -> str:
    """An 指标解释 without the words and punctuation every explanation has (反映…情况)."""
    return _DEF_NOISE.sub("", clean_text(text)) if text else ""


def _bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1)} if len(text) > 1 else {text}


def _word_masks(forms: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """Bit k of a form's mask: words[k] occurs in it (up to 64 words)."""
    masks = np.zeros(len(forms), dtype=np.uint64)
    text = np.asarray(forms, dtype=str)
    for k, word in enumerate(words[:64]):
        masks[np.char.find(text, word) >= 0] |= np.uint64(1 << k)
    return masks


@dataclass(frozen=True)
class _Names:
    """The two names of every pair, and their distinct forms (per-name work is done once per form)."""

    a: list[str]
    b: list[str]
    forms: np.ndarray
    ia: np.ndarray  # form code of side A
    ib: np.ndarray

    @classmethod
    def of(cls, match_a: np.ndarray, match_b: np.ndarray) -> _Names:
        n = len(match_a)
        forms, codes = np.unique(np.concatenate([match_a, match_b]).astype(str), return_inverse=True)
        return cls(list(match_a), list(match_b), forms, codes[:n], codes[n:])


def _similarity_features(x: np.ndarray, names: _Names) -> None:
    """Edit, word-order, bigram, alignment and shared-ends similarity of the two names."""
    la, lb, ia, ib = names.a, names.b, names.ia, names.ib
    x[:, COLUMN["name_ratio"]] = process.cpdist(la, lb, scorer=fuzz.ratio, workers=1) / 100.0
    ordered = np.array(["".join(sorted(f)) for f in names.forms], dtype=object)
    x[:, COLUMN["order_ratio"]] = (
        process.cpdist(list(ordered[ia]), list(ordered[ib]), scorer=fuzz.ratio, workers=1) / 100.0
    )
    x[:, COLUMN["partial_ratio"]] = process.cpdist(la, lb, scorer=fuzz.partial_ratio, workers=1) / 100.0
    grams = CountVectorizer(analyzer=lambda f: sorted(_bigrams(f)), binary=True, dtype=np.float64)
    bigram_matrix = grams.fit_transform(names.forms).tocsr()
    shared = np.asarray(bigram_matrix[ia].multiply(bigram_matrix[ib]).sum(axis=1)).ravel()
    sizes = np.asarray(bigram_matrix.sum(axis=1)).ravel()
    x[:, COLUMN["bigram_dice"]] = 2 * shared / np.maximum(sizes[ia] + sizes[ib], 1)
    lengths = np.char.str_len(names.forms.astype(str))
    shorter = np.maximum(np.minimum(lengths[ia], lengths[ib]), 1)
    x[:, COLUMN["short"]] = shorter <= 4
    x[:, COLUMN["coverage"]] = process.cpdist(la, lb, scorer=LCSseq.similarity, workers=1) / shorter
    x[:, COLUMN["common_head"]] = process.cpdist(la, lb, scorer=Prefix.similarity, workers=1) / shorter
    x[:, COLUMN["common_tail"]] = process.cpdist(la, lb, scorer=Postfix.similarity, workers=1) / shorter
    x[:, COLUMN["identical"]] = ia == ib


def _word_features(x: np.ndarray, names: _Names, words: DifferenceWords, canonical: list[str]) -> None:
    """Near-synonyms, contrasts and the metric suffix class of the two names."""
    ia, ib = names.ia, names.ib
    canonical_code = np.unique(np.array(canonical, dtype=str), return_inverse=True)[1]
    x[:, COLUMN["near_synonym"]] = (canonical_code[ia] == canonical_code[ib]) & (ia != ib)
    first = _word_masks(names.forms, [p for p, _ in words.contrasts])
    second = _word_masks(names.forms, [q for _, q in words.contrasts])
    # A contrast: one word of a pair on one side only and the other word on the other side only.
    fa, fb, sa_, sb_ = first[ia], first[ib], second[ia], second[ib]
    x[:, COLUMN["contrast"]] = (((fa & sb_ & ~fb & ~sa_) | (sa_ & fb & ~sb_ & ~fa)) != 0) & (ia != ib)
    table = suffix_table()
    classes = np.array([table.classify(f) for f in names.forms], dtype=object)
    ca, cb = classes[ia], classes[ib]
    x[:, COLUMN["suffix_same"]] = (ca == cb) & (ca != "")
    x[:, COLUMN["suffix_conflict"]] = ~table.compatible_many(ca, cb)


def _canonical_features(x: np.ndarray, names: _Names, canonical: list[str]) -> None:
    """How alike the two names are once near-synonyms are one word and brackets are off (measure stems)."""
    stems = np.array([measure_stem(c) for c in canonical], dtype=object)
    sa, sb = list(stems[names.ia]), list(stems[names.ib])
    x[:, COLUMN["canon_ratio"]] = process.cpdist(sa, sb, scorer=fuzz.ratio, workers=1) / 100.0
    lengths = np.array([len(s) for s in stems])
    shorter = np.maximum(np.minimum(lengths[names.ia], lengths[names.ib]), 1)
    x[:, COLUMN["canon_tail"]] = process.cpdist(sa, sb, scorer=Postfix.similarity, workers=1) / shorter
    heads = np.array([measure_head(s, 2) for s in stems], dtype=object)
    x[:, COLUMN["head_same"]] = heads[names.ia] == heads[names.ib]
    # Once per distinct pair of forms: a crowded head block repeats the same generic name many times.
    pairs = list(zip(names.ia.tolist(), names.ib.tolist(), strict=True))
    kinds = {
        (i, j): (float(generic_pair(stems[i], stems[j])), float(distinct_objects(stems[i], stems[j])))
        for i, j in set(pairs)
    }
    x[:, [COLUMN["generic_qualified"], COLUMN["distinct_objects"]]] = np.array(
        [kinds[p] for p in pairs], dtype=float
    ).reshape(-1, 2)


def _field_features(x: np.ndarray, a: Sides, b: Sides) -> None:
    """指标解释, unit, 二级指标, scope and function class of the two sides."""
    n = len(a.match)
    texts, text_codes = np.unique(
        np.concatenate([a.definition, b.definition]).astype(str), return_inverse=True
    )
    cleaned = np.array([definition_form(t) for t in texts], dtype=object)
    da, db = cleaned[text_codes[:n]], cleaned[text_codes[n:]]
    both = (da != "") & (db != "")
    x[:, COLUMN["def_both"]] = both
    if both.any():
        x[both, COLUMN["def_sim"]] = (
            process.cpdist(list(da[both]), list(db[both]), scorer=fuzz.ratio, workers=1) / 100.0
        )
    ua, ub = a.unit.astype(str), b.unit.astype(str)
    x[:, COLUMN["unit_equal"]] = (ua == ub) & (ua != "")
    x[:, COLUMN["unit_conflict"]] = (ua != "") & (ub != "") & (ua != ub)
    x[:, COLUMN["unit_missing"]] = (ua == "") != (ub == "")
    x[:, COLUMN["same_name_unit_conflict"]] = x[:, COLUMN["unit_conflict"]] * x[:, COLUMN["identical"]]
    x[:, COLUMN["level2_equal"]] = a.level2.astype(str) == b.level2.astype(str)
    scope_a, scope_b = a.scope.astype(str), b.scope.astype(str)
    x[:, COLUMN["scope_equal"]] = scope_a == scope_b
    pa, pb = a.fclass.astype(str), b.fclass.astype(str)
    x[:, COLUMN["class_diff"]] = (
        (scope_a == "项目") & (scope_b == "项目") & (pa != "") & (pb != "") & (pa != pb)
    )


# Columns the per-pair loop fills, in the order _difference returns them (after "contained").
_LOOP_COLUMNS = [
    COLUMN[f]
    for f in (
        "contained",
        "n_ops",
        "diff_share",
        "prefix_added",
        "inner_added",
        "one_char_sub",
        "measure_word",
        "number_diff",
        "head_sub",
        "tail_sub",
    )
]
_SAME = (0.0,) * 9


def _difference(a2: str, b2: str, measure: re.Pattern[str] | None) -> tuple[float, ...]:
    """The kind of difference of a pair, read on its names after near-synonyms are one word: n_ops,
    diff_share, prefix_added, inner_added, one_char_sub, measure_word, number_diff, head_sub, tail_sub."""
    ops = diff_spans(b2, a2)
    changed = 0
    prefix = inner = one_char = measured = number = head = tail = 0.0
    for s, t, start, end in ops:
        changed += max(len(s), len(t))
        if measure is not None and (measure.search(s) or measure.search(t)):
            measured = 1.0
        if _NUMERAL.search(s) or _NUMERAL.search(t):
            number = 1.0
        if s and t:
            if start == 0:
                head = 1.0
            if end == len(b2):
                tail = 1.0
    if len(ops) == 1:
        s, t, start, _ = ops[0]
        if not s or not t:
            prefix, inner = (1.0, 0.0) if start == 0 else (0.0, 1.0)
        elif len(s) == 1 and len(t) == 1:
            one_char = 1.0
    share = changed / max(len(a2), len(b2), 1)
    return (min(len(ops), 4) / 4.0, share, prefix, inner, one_char, measured, number, head, tail)


def pair_features(
    words: DifferenceWords,
    a: Sides,
    b: Sides,
    alive: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The feature matrix (pairs × FEATURES) of pairs given side by side.

    alive(x), given the matrix with every vectorized feature, says which pairs can still reach the listing
    threshold; the per-pair features of the others are left NaN (not worth the Python loop).
    """
    n = len(a.match)
    x = np.zeros((n, len(FEATURES)), dtype=float)
    if not n:
        return x
    names = _Names.of(a.match, b.match)
    canon = NearSynonymForm(words.near_synonyms)
    canonical = [canon(f) for f in names.forms]
    _similarity_features(x, names)
    _word_features(x, names, words, canonical)
    _field_features(x, a, b)
    _canonical_features(x, names, canonical)
    keep = np.ones(n, dtype=bool)
    if alive is not None:
        keep = alive(x) | (names.ia == names.ib)
        x[np.ix_(~keep, [COLUMN[f] for f in LOOP_FEATURES])] = np.nan
    measure = re.compile("|".join(re.escape(w) for w in words.measure_words)) if words.measure_words else None
    ia, ib = names.ia.tolist(), names.ib.tolist()
    filled: list[int] = []
    values: list[tuple[float, ...]] = []
    for k in np.flatnonzero(keep).tolist():
        i, j = ia[k], ib[k]
        if i == j:
            continue
        contained = float(names.a[k] in names.b[k] or names.b[k] in names.a[k])
        # The kind of difference is read after near-synonyms are made one word: 会议成本 / 奖补会议费用 is
        # a prefix added, not a prefix plus another measure.
        a2, b2 = canonical[i], canonical[j]
        values.append((contained, *(_difference(a2, b2, measure) if a2 != b2 else _SAME)))
        filled.append(k)
    if filled:  # one assignment, not ten numpy item writes per pair
        x[np.ix_(filled, _LOOP_COLUMNS)] = np.array(values, dtype=float)
    return x
