"""Pair model: is a candidate pair of indicators one measure worded twice? (record linkage, issue 11)

A logistic regression over features of the pair, the usual tool of record linkage besides Fellegi–Sunter
(whose agreement weights are a special case: one indicator per field, no interactions). Features compare the
two names (edit and n-gram similarity, word order), the *kind* of difference between them (a qualifier
prefix added, one character changed, a known contrast such as 开工/完工 or 增/减, a near-synonym such as
成本/费用), what the names measure (the metric suffix class), the 指标解释, the unit, and the fields that
file them (二级指标, scope, function class).

The coefficients are data, not code: schemas/reference/pair_model.json, written by
`python -m pipelines.dedupe.pair_model train` from the tune split of the labelled pairs only (the holdout is never
read by training). Scoring at run time is a dot product in numpy: deterministic and fast. The JSON also holds
the word lists the difference-pattern features use, so that a bureau can read and review them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq, Levenshtein, Postfix, Prefix
from sklearn.feature_extraction.text import CountVectorizer

from pipelines.normalize.canonical import suffix_table
from schemas.text import clean_text
from schemas.vocab import REFERENCE_DIR

if TYPE_CHECKING:
    import pandas as pd

MODEL_JSON = REFERENCE_DIR / "pair_model.json"

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
)

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
class PairModel:
    """Logistic coefficients over FEATURES (standardized with mean/scale), a listing threshold, word lists."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # probability from which a pair is listed for review
    likely: float  # probability from which a listed pair is marked likely (可能性较高)
    contrasts: tuple[tuple[str, str], ...]
    near_synonyms: tuple[tuple[str, str], ...]
    measure_words: tuple[str, ...] = ()
    trained_on: str = ""

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def upper_bound(self, x: np.ndarray, unknown: Sequence[str]) -> np.ndarray:
        """The highest probability each pair can reach whatever the values (0–1) of the unknown features."""
        known = np.array([f not in unknown for f in self.features])
        z = ((x[:, known] - self.mean[known]) / self.scale[known]) @ self.coef[known] + self.intercept
        ends = np.stack(
            [(0.0 - self.mean) / self.scale * self.coef, (1.0 - self.mean) / self.scale * self.coef]
        )
        z = z + ends.max(axis=0)[~known].sum()
        return 1.0 / (1.0 + np.exp(-z))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of the log-odds (the reason text names the largest ones)."""
        return ((x - self.mean) / self.scale) * self.coef


def _pairs(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in rows)


def model_from_dict(data: dict) -> PairModel:
    features = tuple(data["features"])
    if features != FEATURES:
        raise ValueError(f"{MODEL_JSON.name}: features {features} differ from the code's {FEATURES}; retrain")
    return PairModel(
        features=features,
        mean=np.asarray(data["mean"], dtype=float),
        scale=np.asarray(data["scale"], dtype=float),
        coef=np.asarray(data["coef"], dtype=float),
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        likely=float(data.get("likely", data["threshold"])),
        contrasts=_pairs(data["contrasts"]),
        near_synonyms=_pairs(data["near_synonyms"]),
        measure_words=tuple(data.get("measure_words", ())),
        trained_on=str(data.get("trained_on", "")),
    )


@cache
def load_model(path: Path = MODEL_JSON) -> PairModel:
    return model_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# --------------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------------
def diff_ops(b: str, a: str) -> list[tuple[str, str, int, int]]:
    """Differing segments from B to A with their positions in B: [("湿", "耕", 0, 1)]; adjacent edits joined."""
    ops: list[tuple[str, str, int, int]] = []
    last_end = (-1, -1)
    for op in Levenshtein.opcodes(b, a):
        if op.tag == "equal":
            continue
        seg_b, seg_a = b[op.src_start : op.src_end], a[op.dest_start : op.dest_end]
        if ops and last_end == (op.src_start, op.dest_start):
            x, y, start, _ = ops[-1]
            ops[-1] = (x + seg_b, y + seg_a, start, op.src_end)
        else:
            ops.append((seg_b, seg_a, op.src_start, op.src_end))
        last_end = (op.src_end, op.dest_end)
    return ops


def _bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1)} if len(text) > 1 else {text}


def definition_form(text: str) -> str:
    return _DEF_NOISE.sub("", clean_text(text)) if text else ""


def _word_masks(forms: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """Bit k of a form's mask: words[k] occurs in it (up to 64 words)."""
    masks = np.zeros(len(forms), dtype=np.uint64)
    text = np.asarray(forms, dtype=str)
    for k, word in enumerate(words[:64]):
        masks[np.char.find(text, word) >= 0] |= np.uint64(1 << k)
    return masks


class _Canon:
    """Near-synonyms rewritten to one word (longest first), only to compare two names."""

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self.map: dict[str, str] = {}
        for a, b in pairs:
            self.map.setdefault(b, a)
        self.words = sorted(self.map, key=lambda w: (-len(w), w))
        self.pattern = re.compile("|".join(re.escape(w) for w in self.words)) if self.words else None

    def __call__(self, text: str) -> str:
        if self.pattern is None:
            return text
        return self.pattern.sub(lambda m: self.map[m.group(0)], text)


def pair_features(
    model: PairModel,
    match_a: np.ndarray,
    match_b: np.ndarray,
    def_a: np.ndarray,
    def_b: np.ndarray,
    unit_a: np.ndarray,
    unit_b: np.ndarray,
    level2_a: np.ndarray,
    level2_b: np.ndarray,
    scope_a: np.ndarray,
    scope_b: np.ndarray,
    class_a: np.ndarray,
    class_b: np.ndarray,
    min_probability: float | None = None,
) -> np.ndarray:
    """The feature matrix (pairs × FEATURES) of pairs given as object arrays of text (matching forms etc.)."""
    n = len(match_a)
    x = np.zeros((n, len(FEATURES)), dtype=float)
    if not n:
        return x
    col = {f: k for k, f in enumerate(FEATURES)}
    la, lb = list(match_a), list(match_b)
    # Per distinct name, once: sorted characters, suffix class, bigrams, contrast words, near-synonym form.
    forms, codes = np.unique(np.concatenate([match_a, match_b]).astype(str), return_inverse=True)
    ia, ib = codes[:n], codes[n:]
    x[:, col["name_ratio"]] = process.cpdist(la, lb, scorer=fuzz.ratio, workers=1) / 100.0
    ordered = np.array(["".join(sorted(f)) for f in forms], dtype=object)
    x[:, col["order_ratio"]] = (
        process.cpdist(list(ordered[ia]), list(ordered[ib]), scorer=fuzz.ratio, workers=1) / 100.0
    )
    x[:, col["partial_ratio"]] = process.cpdist(la, lb, scorer=fuzz.partial_ratio, workers=1) / 100.0
    table = suffix_table()
    classes = np.array([table.classify(f) for f in forms], dtype=object)
    canon = _Canon(model.near_synonyms)
    canonical = [canon(f) for f in forms]
    canonical_code = np.unique(np.array(canonical, dtype=str), return_inverse=True)[1]
    x[:, col["near_synonym"]] = (canonical_code[ia] == canonical_code[ib]) & (ia != ib)
    grams = CountVectorizer(analyzer=lambda f: sorted(_bigrams(f)), binary=True, dtype=np.float64)
    bigram_matrix = grams.fit_transform(forms).tocsr()
    shared = np.asarray(bigram_matrix[ia].multiply(bigram_matrix[ib]).sum(axis=1)).ravel()
    sizes = np.asarray(bigram_matrix.sum(axis=1)).ravel()
    x[:, col["bigram_dice"]] = 2 * shared / np.maximum(sizes[ia] + sizes[ib], 1)
    first = _word_masks(forms, [p for p, _ in model.contrasts])
    second = _word_masks(forms, [q for _, q in model.contrasts])
    # A contrast: one word of a pair on one side only and the other word on the other side only.
    fa, fb, sa_, sb_ = first[ia], first[ib], second[ia], second[ib]
    x[:, col["contrast"]] = (((fa & sb_ & ~fb & ~sa_) | (sa_ & fb & ~sb_ & ~fa)) != 0) & (ia != ib)
    shorter = np.maximum(
        np.minimum(np.char.str_len(forms.astype(str))[ia], np.char.str_len(forms.astype(str))[ib]), 1
    )
    x[:, col["short"]] = shorter <= 4
    x[:, col["coverage"]] = process.cpdist(la, lb, scorer=LCSseq.similarity, workers=1) / shorter
    x[:, col["common_head"]] = process.cpdist(la, lb, scorer=Prefix.similarity, workers=1) / shorter
    x[:, col["common_tail"]] = process.cpdist(la, lb, scorer=Postfix.similarity, workers=1) / shorter
    x[:, col["identical"]] = ia == ib
    ca, cb = classes[ia], classes[ib]
    x[:, col["suffix_same"]] = (ca == cb) & (ca != "")
    x[:, col["suffix_conflict"]] = ~table.compatible_many(ca, cb)
    measure = re.compile("|".join(re.escape(w) for w in model.measure_words)) if model.measure_words else None

    texts, text_codes = np.unique(np.concatenate([def_a, def_b]).astype(str), return_inverse=True)
    cleaned = np.array([definition_form(t) for t in texts], dtype=object)
    da, db = cleaned[text_codes[:n]], cleaned[text_codes[n:]]
    both = (da != "") & (db != "")
    x[:, col["def_both"]] = both
    if both.any():
        x[both, col["def_sim"]] = (
            process.cpdist(list(da[both]), list(db[both]), scorer=fuzz.ratio, workers=1) / 100.0
        )
    ua, ub = unit_a.astype(str), unit_b.astype(str)
    x[:, col["unit_equal"]] = (ua == ub) & (ua != "")
    x[:, col["unit_conflict"]] = (ua != "") & (ub != "") & (ua != ub)
    x[:, col["unit_missing"]] = (ua == "") != (ub == "")
    x[:, col["same_name_unit_conflict"]] = x[:, col["unit_conflict"]] * x[:, col["identical"]]
    x[:, col["level2_equal"]] = level2_a.astype(str) == level2_b.astype(str)
    x[:, col["scope_equal"]] = scope_a.astype(str) == scope_b.astype(str)
    pa, pb = class_a.astype(str), class_b.astype(str)
    x[:, col["class_diff"]] = (
        (scope_a.astype(str) == "项目")
        & (scope_b.astype(str) == "项目")
        & (pa != "")
        & (pb != "")
        & (pa != pb)
    )
    # Pairs that cannot reach min_probability whatever the per-pair features below: not worth the loop.
    alive = np.ones(n, dtype=bool)
    if min_probability is not None:
        alive = (model.upper_bound(x, LOOP_FEATURES) >= min_probability) | (ia == ib)
        x[np.ix_(~alive, [col[f] for f in LOOP_FEATURES])] = np.nan

    for k in np.flatnonzero(alive):
        a, b = la[k], lb[k]
        if ia[k] == ib[k]:
            continue
        x[k, col["contained"]] = float(a in b or b in a)
        # The kind of difference is read after near-synonyms are made one word: 会议成本 / 奖补会议费用 is
        # a prefix added, not a prefix plus another measure.
        a2, b2 = canonical[ia[k]], canonical[ib[k]]
        if a2 == b2:
            continue
        ops = diff_ops(b2, a2)
        x[k, col["n_ops"]] = min(len(ops), 4) / 4.0
        changed = sum(max(len(s), len(t)) for s, t, _, _ in ops)
        x[k, col["diff_share"]] = changed / max(len(a2), len(b2), 1)
        if len(ops) == 1:
            s, t, start, _ = ops[0]
            if not s or not t:
                x[k, col["prefix_added" if start == 0 else "inner_added"]] = 1.0
            elif len(s) == 1 and len(t) == 1:
                x[k, col["one_char_sub"]] = 1.0
        for s, t, start, end in ops:
            if measure is not None and (measure.search(s) or measure.search(t)):
                x[k, col["measure_word"]] = 1.0
            if _NUMERAL.search(s) or _NUMERAL.search(t):
                x[k, col["number_diff"]] = 1.0
            if s and t:
                if start == 0:
                    x[k, col["head_sub"]] = 1.0
                if end == len(b2):
                    x[k, col["tail_sub"]] = 1.0

    return x


# --------------------------------------------------------------------------------------------------
# Word lists (written into the JSON with the coefficients; edit here and retrain)
# --------------------------------------------------------------------------------------------------
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("开工", "完工"),
    ("开工", "竣工"),
    ("增", "减"),
    ("增加", "减少"),
    ("上升", "下降"),
    ("提高", "降低"),
    ("新增", "累计"),
    ("新增", "总"),
    ("新建", "改造"),
    ("新建", "维修"),
    ("购置", "维修"),
    ("购置", "运行"),
    ("城市", "农村"),
    ("城镇", "农村"),
    ("城镇", "乡村"),
    ("进口", "出口"),
    ("入境", "出境"),
    ("进境", "出境"),
    ("国家级", "省级"),
    ("省级", "市级"),
    ("市级", "县级"),
    ("博士", "硕士"),
    ("本科", "专科"),
    ("职工", "居民"),
    ("男", "女"),
    ("申请", "授权"),
    ("申请", "获得"),
    ("计划", "实际"),
    ("上半年", "下半年"),
    ("准确", "及时"),
    ("合格", "覆盖"),
    ("合格", "达标"),
    ("覆盖", "完成"),
    ("知晓", "满意"),
    ("参保", "赔付"),
    ("入学", "巩固"),
    ("教材", "课程"),
)
MEASURE_WORDS: tuple[str, ...] = (  # words that say what is counted or how, not which object
    "及时",
    "按时",
    "足额",
    "准确",
    "合格",
    "达标",
    "完成",
    "覆盖",
    "到位",
    "成功",
    "平均",
    "人均",
    "累计",
    "增长",
    "变动",
    "下降",
    "减少",
    "节约",
    "控制",
    "投诉",
    "举报",
    "执行",
    "验收",
    "交付",
    "后",
)
NEAR_SYNONYMS: tuple[tuple[str, str], ...] = (  # (word kept, variant): likely, never certainly, the same
    ("成本", "费用"),
    ("成本", "经费"),
    ("班次", "期数"),
    ("班次", "期次"),
    ("班次", "场次"),
    ("满意度", "满意率"),
    ("满意度", "满意程度"),
    ("按时", "及时"),
    ("使用", "利用"),
    ("受益群众", "受益人"),
    ("巡查", "巡察"),
    ("医保", "医疗保险"),
    ("人数", "人口数"),
    ("再犯罪", "重新犯罪"),
    ("时间", "时限"),
    ("时间", "时长"),
    ("次数", "频次"),
    ("人员", "人"),
    ("完成率", "完成比例"),
    ("运行", "运转"),
    ("居民", "群众"),
    ("数", "数量"),
    ("率", "比例"),
    ("率", "比率"),
    ("率", "占比"),
)


# --------------------------------------------------------------------------------------------------
# Training (offline: python -m pipelines.dedupe.pair_model train)
# --------------------------------------------------------------------------------------------------
PAIR_FILES = ("tests/data/real_pairs.csv", "tests/data/labelled_pairs.csv")
SIDE_FIELDS = ("name", "definition", "unit", "level2", "scope", "function_code")
# labelled_pairs.csv has names only: its pairs are filed alike (one 二级, one scope, one class).
DEFAULT_SIDE = {"level2": "数量指标", "scope": "项目", "function_code": "2010101"}


def read_pairs(path: Path) -> pd.DataFrame:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    for side in ("a", "b"):
        for field_name in SIDE_FIELDS:
            column = f"{field_name}_{side}"
            if column not in frame.columns:
                frame[column] = DEFAULT_SIDE.get(field_name, "")
            else:
                default = DEFAULT_SIDE.get(field_name, "")
                if default and field_name != "function_code":
                    frame[column] = frame[column].where(frame[column] != "", default)
    frame["source_file"] = Path(path).name
    return frame


def normalized_sides(pairs: pd.DataFrame, rules=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Side A and side B of labelled pairs as normalized indicator rows (match_name, unit_norm, key …)."""
    import pandas as pd

    from pipelines.normalize.canonical import normalize_rows

    out = []
    for side in ("a", "b"):
        frame = pd.DataFrame({f: pairs[f"{f}_{side}"].to_numpy() for f in SIDE_FIELDS})
        frame["level1"] = ""
        out.append(normalize_rows(frame, rules).reset_index(drop=True))
    return out[0], out[1]


def features_of_sides(model: PairModel, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    def arr(frame, column: str) -> np.ndarray:
        return frame[column].fillna("").astype(str).to_numpy(dtype=object)

    return pair_features(
        model,
        arr(a, "match_name"),
        arr(b, "match_name"),
        arr(a, "definition"),
        arr(b, "definition"),
        arr(a, "unit_norm"),
        arr(b, "unit_norm"),
        arr(a, "level2"),
        arr(b, "level2"),
        arr(a, "scope"),
        arr(b, "scope"),
        arr(a, "function_class"),
        arr(b, "function_class"),
    )


def _untrained() -> PairModel:
    k = len(FEATURES)
    return PairModel(
        FEATURES, np.zeros(k), np.ones(k), np.zeros(k), 0.0, 0.5, 0.5, CONTRASTS, NEAR_SYNONYMS, MEASURE_WORDS
    )


def training_set(root: Path, split: str = "tune") -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Features and labels of the labelled pairs of one split whose keys differ (what the model will see)."""
    import pandas as pd

    frames = [read_pairs(root / f) for f in PAIR_FILES if (root / f).exists()]
    pairs = pd.concat(frames, ignore_index=True)
    pairs = pairs[pairs["split"] == split].reset_index(drop=True)
    a, b = normalized_sides(pairs)
    keep = (a["key"] != b["key"]).to_numpy()
    x = features_of_sides(_untrained(), a[keep].reset_index(drop=True), b[keep].reset_index(drop=True))
    y = (pairs.loc[keep, "label"] == "1").to_numpy().astype(int)
    return x, y, pairs[keep].reset_index(drop=True)


def generated_negatives(root: Path, split: str = "tune") -> np.ndarray:
    """Features of the candidate pairs generation proposes among one split's names that nobody labelled.

    The labelled pairs were chosen because they look alike; at run time most candidates are less alike. These
    unlabelled pairs (almost all different measures) teach the model what a dissimilar candidate is, so it
    does not extrapolate; they get a small weight in training, because a few may be unlabelled duplicates.
    """
    import pandas as pd

    from pipelines.dedupe.candidates import MatchConfig, find_candidates
    from pipelines.normalize.canonical import normalize_rows

    out = []
    for name in PAIR_FILES:
        if not (root / name).exists():
            continue
        pairs = read_pairs(root / name)
        pairs = pairs[pairs["split"] == split].reset_index(drop=True)
        sides = pd.concat(
            [pairs[[f"{f}_{s}" for f in SIDE_FIELDS]].set_axis(list(SIDE_FIELDS), axis=1) for s in ("a", "b")]
        ).drop_duplicates(["name", "unit", "level2", "scope", "function_code"])
        sides = sides.assign(level1="", id=[f"T{k:05d}" for k in range(len(sides))]).reset_index(drop=True)
        normalized = normalize_rows(sides)
        form = dict(
            zip(normalized["id"], normalized["match_name"] + "|" + normalized["unit_norm"], strict=True)
        )
        a_side, b_side = normalized_sides(pairs)
        labelled = {
            frozenset((f"{fa}|{ua}", f"{fb}|{ub}"))
            for fa, ua, fb, ub in zip(
                a_side["match_name"],
                a_side["unit_norm"],
                b_side["match_name"],
                b_side["unit_norm"],
                strict=True,
            )
        }
        candidates = find_candidates(normalized, None, config=MatchConfig(min_score=0))
        keep = [
            frozenset((form[a], form[b])) not in labelled
            for a, b in zip(candidates["id_a"], candidates["id_b"], strict=True)
        ]
        candidates = candidates[keep]
        by_id = normalized.set_index("id")
        out.append(
            features_of_sides(
                _untrained(),
                by_id.loc[candidates["id_a"]].reset_index(),
                by_id.loc[candidates["id_b"]].reset_index(),
            )
        )
    return np.concatenate(out) if out else np.zeros((0, len(FEATURES)))


def _fit(
    x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    clf.fit((x - mean) / scale, y, sample_weight=weight)
    return mean, scale, clf.coef_[0], float(clf.intercept_[0])


def _probability(x: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float):
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + intercept)))


def train(
    root: Path,
    recall_target: float = 0.98,
    c: float = 1.0,
    folds: int = 5,
    likely_precision: float = 0.5,
    unlabelled_weight: float = 0.2,
) -> dict:
    """Fit the logistic regression on the tune split.

    The likely mark (可能性较高) starts where half of the out-of-fold pairs above it are duplicates.
    The listing threshold is read from out-of-fold probabilities (5-fold cross-validation within tune, fixed
    folds): the probability that keeps recall_target of the tune positives when each is scored by a model that
    never saw it. In-sample probabilities would be too confident and the threshold too high for new names.
    """
    from sklearn.model_selection import StratifiedKFold

    x, y, pairs = training_set(root, "tune")
    xu = generated_negatives(root, "tune")
    wu = np.full(len(xu), unlabelled_weight)

    def fit(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        xs = np.concatenate([x[idx], xu])
        ys = np.concatenate([y[idx], np.zeros(len(xu), dtype=int)])
        return _fit(xs, ys, c, np.concatenate([np.ones(len(idx)), wu]))

    oof = np.zeros(len(y))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        oof[test_idx] = _probability(x[test_idx], *fit(train_idx))
    positives = np.sort(oof[y == 1])
    cut = positives[int(np.floor((1.0 - recall_target) * len(positives)))] if len(positives) else 0.5
    threshold = float(np.floor(cut * 1000) / 1000)
    # Likely: the lowest probability from which at least half of the out-of-fold listed pairs are duplicates.
    order = np.argsort(-oof, kind="stable")
    precision = np.cumsum(y[order]) / np.arange(1, len(y) + 1)
    ok = np.flatnonzero(precision >= likely_precision)
    likely = float(np.floor(oof[order][ok[-1]] * 1000) / 1000) if len(ok) else 0.5
    mean, scale, coef, intercept = fit(np.arange(len(y)))
    listed = oof >= threshold
    counts = pairs.groupby("source_file").size().to_dict()
    return {
        "about": "Pair model of pipelines/dedupe/pair_model.py: logistic regression over FEATURES, written by "
        "`python -m pipelines.dedupe.pair_model train` from the tune split only. p = 1/(1+exp(-(((x-mean)/scale)·coef"
        "+intercept))); a pair is listed for review when p >= threshold (chosen on out-of-fold probabilities).",
        "trained_on": "; ".join(f"{k}: {v} tune pairs with different keys" for k, v in sorted(counts.items()))
        + f"; {len(xu)} unlabelled candidate pairs among the tune names as negatives, weight {unlabelled_weight}",
        "recall_target": recall_target,
        "C": c,
        "cross_validated": {
            "pairs": int(len(y)),
            "positives": int(y.sum()),
            "recall": round(float((listed & (y == 1)).sum() / max(y.sum(), 1)), 3),
            "precision": round(float((listed & (y == 1)).sum() / max(listed.sum(), 1)), 3),
        },
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in coef],
        "intercept": round(intercept, 6),
        "threshold": threshold,
        "likely": max(likely, threshold),
        "likely_precision": likely_precision,
        "contrasts": [list(p) for p in CONTRASTS],
        "near_synonyms": [list(p) for p in NEAR_SYNONYMS],
        "measure_words": list(MEASURE_WORDS),
    }


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        description="Train the pair model on the tune split of the labelled pairs"
    )
    parser.add_argument("command", choices=("train",))
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--recall", type=float, default=0.98)
    parser.add_argument("--C", dest="c", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=MODEL_JSON)
    args = parser.parse_args(argv)
    data = train(args.root, args.recall, args.c)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, coef in sorted(zip(FEATURES, data["coef"], strict=True), key=lambda t: -abs(t[1])):
        print(f"{name:16s} {coef:+.3f}")
    print(f"threshold {data['threshold']}  cross-validated {data['cross_validated']}  ({data['trained_on']})")
    load_model.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
