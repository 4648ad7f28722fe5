"""Features of a candidate pair: what the pair model (pipelines/dedupe/model.py) weighs.

Features compare the two names (edit and n-gram similarity, word order), the *kind* of difference between
them (a qualifier prefix added, one character changed, a known contrast such as 开工/完工 or 增/减, a
near-synonym such as 成本/费用), what the names measure (the metric suffix class), the 指标解释, the unit, and
the fields that file them (二级指标, scope, function class). All are vectorized over the pairs (per-name work
once per distinct name); only the alignment of the two names (Levenshtein opcodes) is read per pair, and only
for pairs that can still reach the listing threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq, Postfix, Prefix

from pipelines.common import halves
from pipelines.dedupe.bigrams import bigram_dice
from pipelines.dedupe.known_forms import FormCodes as FormCodes
from pipelines.dedupe.known_forms import narrowed
from pipelines.dedupe.objects import (
    count_conflict,
    group_conflict,
    groups_apart,
    items_apart,
    kind_conflict,
    measure_swap,
    per_unit_apart,
    periods_and_new,
    unit_family_conflict,
)
from pipelines.dedupe.patterns import Span, spans_of
from pipelines.dedupe.spans import PairSpans as PairSpans
from pipelines.dedupe.vocabulary import (
    NearSynonymForm,
    distinct_objects_many,
    generic_pairs,
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
    "group_conflict",  # two groups of people named (学生满意度 / 学生家长满意度): objects.py
    "count_conflict",  # counts of two things (保障村干部人数 / 保障遗属人数): objects.py
    "unit_family_conflict",  # units of two kinds of quantity (人 / 个, % / 万元), not two scales: objects.py
    "kind_conflict",  # two kinds of quantity by the canonical endings (早孕建册率 / 早孕建册数): objects.py
    "groups_apart",  # groups of people with none in common (患者 / 学校满意度): objects.py
    "measure_swap",  # each name a measure word the other lacks (验收合格率 / 设备验收及时率): objects.py
    "items_apart",  # costs of two items (人均培训成本 / 人均会议成本): objects.py
    "periods_apart",  # two periods of one measure (预算执行进度(7月) / (11月)): objects.py
    "per_unit_apart",  # money per something against a total (场地租赁费 万元 / …支出标准 元/天): objects.py
    "new_apart",  # an addition against a stock (新增绿化面积 / 绿化面积): objects.py
    "things_apart",  # crops, livestock or diseases with none in common (桃 / 梨种植面积): objects.py
    "qualifier_apart",  # a qualifier on one side (免费开放率 / 开放率, 规范管理率): objects.py
    "measure_replaced",  # one object, its measure word replaced (投诉办结率 / 投诉回访率): objects.py
    "judged_apart",  # a judgement (…性) against a time, count or amount (项目完成及时性 / 项目完成时间): objects.py
    "counts_apart",  # counts of two things sharing no character (支持企业数量 / 创业导师数量): counted.py
)
COLUMN = {f: k for k, f in enumerate(FEATURES)}
APART = (
    "periods_apart",
    "new_apart",
    "things_apart",
    "qualifier_apart",
    "measure_replaced",
    "judged_apart",
    "counts_apart",
)  # objects.periods_and_new's columns

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
# Pairs whose segments are read at a time (pair_feature_matrix).
SPAN_ROWS = 65_536
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


def _word_masks(forms: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """Bit k % 64 of a form's mask k // 64 (a row per form): words[k] occurs in it (any number of words)."""
    masks = np.zeros((len(forms), max(1, -(-len(words) // 64))), dtype=np.uint64)
    text = np.asarray(forms, dtype=str)
    for k, word in enumerate(words):
        masks[np.char.find(text, word) >= 0, k // 64] |= np.uint64(1 << (k % 64))
    return masks


@dataclass(frozen=True)
class _Names:
    """The two names of every pair, and their distinct forms (per-name work is done once per form)."""

    a: list[str]
    b: list[str]
    forms: np.ndarray
    ia: np.ndarray  # form code of side A
    ib: np.ndarray
    known: FormCodes | None = None

    @classmethod
    def of(cls, match_a: np.ndarray, match_b: np.ndarray, known: FormCodes | None = None) -> _Names:
        if known is not None:
            return cls(list(match_a), list(match_b), known.forms, known.code_a, known.code_b, known)
        n = len(match_a)
        # Hashing, not sorting: the order of the distinct forms does not enter any feature.
        codes, forms = pd.factorize(np.concatenate([match_a, match_b]).astype(object))
        return cls(list(match_a), list(match_b), np.asarray(forms, dtype=object), codes[:n], codes[n:])

    def ratios(self) -> tuple[np.ndarray, np.ndarray]:
        """fuzz.ratio (0–100) of the two forms as written and with their characters sorted."""
        known = self.known
        if known is not None and known.ratio is not None and known.order is not None:
            return known.ratio, known.order
        ordered = np.array(["".join(sorted(f)) for f in self.forms], dtype=object)
        return (
            process.cpdist(self.a, self.b, scorer=fuzz.ratio, workers=1),
            process.cpdist(list(ordered[self.ia]), list(ordered[self.ib]), scorer=fuzz.ratio, workers=1),
        )


def _similarity_features(x: np.ndarray, names: _Names) -> np.ndarray:
    """Edit, word-order, bigram, alignment and shared-ends similarity of the two names; the length of their
    longest common subsequence (contained reads it)."""
    la, lb, ia, ib = names.a, names.b, names.ia, names.ib
    ratio, order = names.ratios()
    x[:, COLUMN["name_ratio"]] = ratio / 100.0
    x[:, COLUMN["order_ratio"]] = order / 100.0
    x[:, COLUMN["partial_ratio"]] = process.cpdist(la, lb, scorer=fuzz.partial_ratio, workers=1) / 100.0
    x[:, COLUMN["bigram_dice"]] = bigram_dice(names.forms, ia, ib)
    lengths = np.char.str_len(names.forms.astype(str))
    shorter = np.maximum(np.minimum(lengths[ia], lengths[ib]), 1)
    x[:, COLUMN["short"]] = shorter <= 4
    common = process.cpdist(la, lb, scorer=LCSseq.similarity, workers=1)
    x[:, COLUMN["coverage"]] = common / shorter
    x[:, COLUMN["common_head"]] = process.cpdist(la, lb, scorer=Prefix.similarity, workers=1) / shorter
    x[:, COLUMN["common_tail"]] = process.cpdist(la, lb, scorer=Postfix.similarity, workers=1) / shorter
    x[:, COLUMN["identical"]] = ia == ib
    return common


def _word_features(x: np.ndarray, names: _Names, words: DifferenceWords, canonical: list[str]) -> None:
    """Near-synonyms, contrasts and the metric suffix class of the two names."""
    ia, ib = names.ia, names.ib
    canonical_code = pd.factorize(np.array(canonical, dtype=object))[0]  # equal codes: equal forms
    x[:, COLUMN["near_synonym"]] = (canonical_code[ia] == canonical_code[ib]) & (ia != ib)
    first = _word_masks(names.forms, [p for p, _ in words.contrasts])
    second = _word_masks(names.forms, [q for _, q in words.contrasts])
    # A contrast: one word of a pair on one side only and the other word on the other side only.
    fa, fb, sa_, sb_ = first[ia], first[ib], second[ia], second[ib]
    either = ((fa & sb_ & ~fb & ~sa_) | (sa_ & fb & ~sb_ & ~fa)) != 0
    x[:, COLUMN["contrast"]] = either.any(axis=1) & (ia != ib)
    table = suffix_table()
    known = names.known
    if known is not None and known.suffix_classes is not None:
        classes = known.suffix_classes
    else:
        classes = np.array([table.classify(f) for f in names.forms], dtype=object)
    ca, cb = classes[ia], classes[ib]
    x[:, COLUMN["suffix_same"]] = (ca == cb) & (ca != "")
    x[:, COLUMN["suffix_conflict"]] = ~table.compatible_many(ca, cb)


def _canonical_features(x: np.ndarray, names: _Names, canonical: list[str], measure: tuple[str, ...]) -> None:
    """How alike the two names are once near-synonyms are one word and brackets are off (measure stems)."""
    stems = np.array([measure_stem(c) for c in canonical], dtype=object)
    sa, sb = list(stems[names.ia]), list(stems[names.ib])
    x[:, COLUMN["canon_ratio"]] = process.cpdist(sa, sb, scorer=fuzz.ratio, workers=1) / 100.0
    lengths = np.array([len(s) for s in stems])
    shorter = np.maximum(np.minimum(lengths[names.ia], lengths[names.ib]), 1)
    tail = process.cpdist(sa, sb, scorer=Postfix.similarity, workers=1)  # common ending, in characters
    x[:, COLUMN["canon_tail"]] = tail / shorter
    heads = np.array([measure_head(s, 2) for s in stems], dtype=object)
    x[:, COLUMN["head_same"]] = heads[names.ia] == heads[names.ib]
    x[:, COLUMN["generic_qualified"]] = generic_pairs(stems, names.ia, names.ib)
    x[:, COLUMN["distinct_objects"]] = distinct_objects_many(stems, names.ia, names.ib, tail)
    x[:, COLUMN["group_conflict"]] = group_conflict(stems, names.ia, names.ib)
    x[:, COLUMN["count_conflict"]] = count_conflict(stems, names.ia, names.ib)
    x[:, COLUMN["kind_conflict"]] = kind_conflict(stems, names.forms, names.ia, names.ib)
    x[:, COLUMN["groups_apart"]] = groups_apart(stems, names.ia, names.ib)
    x[:, COLUMN["measure_swap"]] = measure_swap(stems, names.ia, names.ib, measure)
    x[:, COLUMN["items_apart"]] = items_apart(stems, names.ia, names.ib)
    x[:, [COLUMN[f] for f in APART]] = periods_and_new(names.forms, stems, names, measure)


def _definition_forms(a: Sides, b: Sides, known: FormCodes | None) -> tuple[np.ndarray, np.ndarray]:
    """Each side's 指标解释 in definition_form, computed once per distinct text (or known already)."""
    if known is not None and known.definitions is not None:
        texts, code_a, code_b = known.definitions
        if known.definition_forms is not None:
            return known.definition_forms[code_a], known.definition_forms[code_b]
    else:
        n = len(a.definition)
        codes, texts = pd.factorize(np.concatenate([a.definition, b.definition]).astype(object))
        code_a, code_b = codes[:n], codes[n:]
    cleaned = definition_forms(texts)
    return cleaned[code_a], cleaned[code_b]


def definition_forms(texts: Sequence[object] | np.ndarray, in_halves: bool = False) -> np.ndarray:
    """definition_form of each text, in order (an object array); in_halves: made by halves.mapped (the second
    half in a forked child from SPLIT_MIN texts) — for a caller outside the features' own halves."""
    written = [str(text) for text in texts]
    made = halves.mapped(definition_form, written) if in_halves else [definition_form(t) for t in written]
    return np.array(made, dtype=object)


def _text(values: np.ndarray) -> np.ndarray:
    """Text values to compare: an object array of str as it is (elementwise ==), else as str."""
    return values if values.dtype == object else values.astype(str)


def _field_features(x: np.ndarray, a: Sides, b: Sides, known: FormCodes | None = None) -> None:
    """指标解释, unit, 二级指标, scope and function class of the two sides."""
    da, db = _definition_forms(a, b, known)
    both = (da != "") & (db != "")
    x[:, COLUMN["def_both"]] = both
    if both.any():
        x[both, COLUMN["def_sim"]] = (
            process.cpdist(list(da[both]), list(db[both]), scorer=fuzz.ratio, workers=1) / 100.0
        )
    ua, ub = _text(a.unit), _text(b.unit)
    x[:, COLUMN["unit_equal"]] = (ua == ub) & (ua != "")
    x[:, COLUMN["unit_conflict"]] = (ua != "") & (ub != "") & (ua != ub)
    x[:, COLUMN["unit_missing"]] = (ua == "") != (ub == "")
    x[:, COLUMN["unit_family_conflict"]] = unit_family_conflict(ua, ub)
    x[:, COLUMN["per_unit_apart"]] = per_unit_apart(_text(a.match), _text(b.match), ua, ub)
    x[:, COLUMN["same_name_unit_conflict"]] = x[:, COLUMN["unit_conflict"]] * x[:, COLUMN["identical"]]
    x[:, COLUMN["level2_equal"]] = _text(a.level2) == _text(b.level2)
    scope_a, scope_b = _text(a.scope), _text(b.scope)
    x[:, COLUMN["scope_equal"]] = scope_a == scope_b
    pa, pb = _text(a.fclass), _text(b.fclass)
    x[:, COLUMN["class_diff"]] = (
        (scope_a == "项目") & (scope_b == "项目") & (pa != "") & (pb != "") & (pa != pb)
    )


@dataclass(frozen=True)
class _Segments:
    """The differing segments of a batch of pairs, flattened: segment m belongs to pair owner[m]."""

    owner: np.ndarray
    count: np.ndarray  # segments per pair
    len_b: np.ndarray
    len_a: np.ndarray
    start: np.ndarray  # position in B
    end: np.ndarray
    code_b: np.ndarray  # the segments' texts as codes into distinct
    code_a: np.ndarray
    distinct: np.ndarray  # distinct segment texts

    @classmethod
    def of(cls, spans: list[tuple[Span, ...]]) -> _Segments:
        count = np.fromiter(map(len, spans), dtype=np.int64, count=len(spans))
        flat = np.array(list(chain.from_iterable(spans)) or np.empty((0, 4)), dtype=object).reshape(-1, 4)
        m = len(flat)
        codes, distinct = pd.factorize(np.concatenate([flat[:, 0], flat[:, 1]]))
        lengths = np.fromiter(map(len, distinct), dtype=np.int64, count=len(distinct))[codes]
        return cls(
            owner=np.repeat(np.arange(len(spans)), count),
            count=count,
            len_b=lengths[:m],
            len_a=lengths[m:],
            start=flat[:, 2].astype(np.int64),
            end=flat[:, 3].astype(np.int64),
            code_b=codes[:m],
            code_a=codes[m:],
            distinct=np.asarray(distinct, dtype=object),
        )

    def any(self, flag: np.ndarray) -> np.ndarray:
        """Per pair: flag holds for one of its segments."""
        return np.bincount(self.owner, weights=flag, minlength=len(self.count)) > 0

    def matches(self, pattern: re.Pattern[str] | None) -> np.ndarray:
        """Per segment: pattern occurs in its B or its A text (searched once per distinct text)."""
        if pattern is None or not len(self.owner):
            return np.zeros(len(self.owner), dtype=bool)
        found = np.array([pattern.search(t) is not None for t in self.distinct], dtype=bool)
        return found[self.code_b] | found[self.code_a]


def _difference(
    x: np.ndarray,
    rows: np.ndarray,
    spans: list[tuple[Span, ...]],
    longer: np.ndarray,
    b_len: np.ndarray,
    measure: re.Pattern[str] | None,
) -> None:
    """The kind of difference of pairs `rows`, read on the differing segments of their names after
    near-synonyms are one word (longer, b_len: per pair, the longer name's and B's length): n_ops, diff_share,
    prefix_added, inner_added, one_char_sub, measure_word, number_diff, head_sub, tail_sub."""
    seg = _Segments.of(spans)
    both = (seg.len_b > 0) & (seg.len_a > 0)
    changed = np.bincount(seg.owner, weights=np.maximum(seg.len_b, seg.len_a), minlength=len(spans))
    x[rows, COLUMN["n_ops"]] = np.minimum(seg.count, 4) / 4.0
    x[rows, COLUMN["diff_share"]] = changed / np.maximum(longer, 1)
    x[rows, COLUMN["measure_word"]] = seg.any(seg.matches(measure))
    x[rows, COLUMN["number_diff"]] = seg.any(seg.matches(_NUMERAL))
    x[rows, COLUMN["head_sub"]] = seg.any(both & (seg.start == 0))
    x[rows, COLUMN["tail_sub"]] = seg.any(both & (seg.end == b_len[seg.owner]))
    # One segment: an insertion at the start (a qualifier prefix), elsewhere, or one character for one.
    single = np.flatnonzero(seg.count == 1)
    first = (np.cumsum(seg.count) - seg.count)[single]
    added = ~both[first]
    x[rows[single], COLUMN["prefix_added"]] = added & (seg.start[first] == 0)
    x[rows[single], COLUMN["inner_added"]] = added & (seg.start[first] != 0)
    x[rows[single], COLUMN["one_char_sub"]] = both[first] & (seg.len_b[first] == 1) & (seg.len_a[first] == 1)


@dataclass(frozen=True)
class PairFeatures:
    """The feature matrix, and per pair the differing segments of its two names as written where known on the
    way (None otherwise, the review computes them): () for the pairs of one name. The segments features read
    for other pairs are not held: holding them (PairSpans.put) and reading them back cost more than the
    review's spans_of of the listed pairs (300k rows: 2.6 s against 1.3 s CPU), and a forked half would send
    them back pickled."""

    x: np.ndarray
    name_spans: PairSpans


def pair_features(
    words: DifferenceWords,
    a: Sides,
    b: Sides,
    alive: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The feature matrix (pairs × FEATURES) of pairs given side by side.

    alive(x), given the matrix with every vectorized feature, says which pairs can still reach the listing
    threshold; the per-pair features of the others are left NaN (not worth the alignment).
    """
    return pair_feature_matrix(words, a, b, alive).x


def pair_feature_matrix(
    words: DifferenceWords,
    a: Sides,
    b: Sides,
    alive: Callable[[np.ndarray], np.ndarray] | None = None,
    known: FormCodes | None = None,
    out: np.ndarray | None = None,
) -> PairFeatures:
    """pair_features, with the segments known on the way (PairFeatures); known: what the caller computed
    already of these pairs' names (FormCodes; the forms must be distinct); out: an (n, FEATURES) float
    array to fill (the caller's rows of a larger matrix: no second copy), else a new one."""
    n = len(a.match)
    x = halves.columns(n, len(FEATURES)) if out is None else out
    if out is not None:
        x.fill(0.0)
    name_spans = PairSpans(n)
    if not n:
        return PairFeatures(x, name_spans)
    known = narrowed(known) if known is not None else None
    names = _Names.of(a.match, b.match, known)
    canon = NearSynonymForm(words.near_synonyms)
    canonical = [canon(str(f)) for f in names.forms]
    common = _similarity_features(x, names)
    _word_features(x, names, words, canonical)
    _field_features(x, a, b, known)
    _canonical_features(x, names, canonical, words.measure_words)
    keep = np.ones(n, dtype=bool)
    if alive is not None:
        keep = alive(x) | (names.ia == names.ib)
        x[np.ix_(~keep, [COLUMN[f] for f in LOOP_FEATURES])] = np.nan
    rows = np.flatnonzero(keep & (names.ia != names.ib))
    same = np.flatnonzero(names.ia == names.ib)
    name_spans.put(same, [()] * len(same))
    if not len(rows):
        return PairFeatures(x, name_spans)
    _contained(x, names, rows, common)
    # The kind of difference is read after near-synonyms are made one word: 会议成本 / 奖补会议费用 is a prefix
    # added, not a prefix plus another measure.
    forms = np.array(canonical, dtype=object)
    length = np.array([len(f) for f in canonical], dtype=np.int64)
    measure = re.compile("|".join(re.escape(w) for w in words.measure_words)) if words.measure_words else None
    # In blocks of SPAN_ROWS pairs: every pair's segments as tuples at once were the step's memory peak
    # (each pair's features are its own: the same values).
    for lo in range(0, len(rows), SPAN_ROWS):
        part = rows[lo : lo + SPAN_ROWS]
        ia, ib = names.ia[part], names.ib[part]
        ca, cb = forms[ia].tolist(), forms[ib].tolist()
        spans = [spans_of(b2, a2) if a2 != b2 else () for a2, b2 in zip(ca, cb, strict=True)]
        la_, lb_ = length[ia], length[ib]
        _difference(x, part, spans, np.maximum(la_, lb_), lb_, measure)
    return PairFeatures(x, name_spans)


def _contained(x: np.ndarray, names: _Names, rows: np.ndarray, common: np.ndarray) -> None:
    """contained of pairs `rows` (one name inside the other: rows are 0 there until then), looked for only
    where the shorter name is a subsequence of the longer — their longest common subsequence (`common`, per
    pair) as long as it: 4 % of a 300k corpus's pairs."""
    lengths = np.fromiter(map(len, names.forms.tolist()), dtype=np.int64, count=len(names.forms))
    shorter = np.minimum(lengths[names.ia[rows]], lengths[names.ib[rows]])
    la, lb = names.a, names.b
    look = rows[common[rows] == shorter].tolist()
    x[look, COLUMN["contained"]] = [la[k] in lb[k] or lb[k] in la[k] for k in look]
