"""Match: likely duplicates for a person to decide, and the rules their decisions become.

A wrong merge silently corrupts two departments' indicators, a missed one only leaves a duplicate, so only
key equality merges automatically (pipelines/normalize/canonical.py). Everything fuzzier is a candidate here:

1. Generation, never all pairs, and no walls. Candidates are generated between distinct names (matching
   forms), in three passes whose union is kept: the same name filed differently (another 二级指标, scope,
   function class or unit: every pair of a small group, else a star around its best-ranked indicator);
   within each 二级指标, whatever the scope or function class, every new name's top_k most similar names
   (TF-IDF of character 2–3-grams, a sparse product in chunks); across the whole library, every new name's
   top_k_global most similar names (the same measure filed under another 二级指标). In a very large block
   the n-grams shared by more than `df_cap` names (率, 完成率 …) are not used to *find* pairs, which keeps
   the work linear in the number of rows. Function class and scope are properties of the usage, not walls.
2. Scoring by record linkage: a logistic pair model (pipelines/dedupe/pair_model.py) over name similarity, the
   kind of difference (a qualifier prefix, one character, a contrast such as 开工/完工, a near-synonym such
   as 成本/费用, numbers), metric suffix, 指标解释, unit, 二级指标, scope and function class, trained offline on
   the tune split of the labelled real-name pairs; its coefficients are data (schemas/reference/
   pair_model.json). 相似度 = the estimated probability (0–100) that the two are one measure; a pair is
   listed from the model's threshold, and the same wording filed differently is always listed. The first
   version's hand weights remain as MatchConfig(scorer="hand"), to measure against.
3. Each pair gets a Chinese reason (what differs, what agrees, what to check) and its difference pattern
   ("湿→耕"), so that one decision on the review sheet can cover every pair with the same pattern. The sheet
   offers 合并 / 不合并 / 设为共性指标 (the bureau turns a cross-cutting indicator into a 共性 one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from pipelines.dedupe import pair_model
from pipelines.normalize.canonical import (
    REPO_DNM_COLUMNS,
    REPO_SYNONYM_COLUMNS,
    MatchRules,
    default_rules,
    normalize_name,
    normalize_unit,
    pattern_key,
    read_reference_csv,
    suffix_table,
    write_rules_csv,
)
from schemas.text import clean_text

REVIEW_COLUMNS = ("指标编号A", "指标名称A", "指标编号B", "指标名称B", "相似度", "理由", "决定")
REVIEW_EXTRA_COLUMNS = (
    "差异模式",
    "分组",
    "单位A",
    "单位B",
    "二级指标",
    "名称相似度",
    "说明相似度",
    "可能性",
)
LIKELY, POSSIBLE = "较高", "较低"  # the 可能性 column: from the model's likely mark, or below it
PATTERN_COLUMNS = ("分组", "差异模式", "对数", "示例", "决定")
PROMOTE = "设为共性指标"  # a bureau decision: the pair is one cross-cutting measure, to be a 共性 indicator
DECISIONS = ("合并", "不合并", PROMOTE)
REPO_PROMOTION_COLUMNS = ("rule_id", "id_a", "name_a", "id_b", "name_b", "year", "source", "note")
REVIEW_SHEET = "合并审核"
PATTERN_SHEET = "差异模式"
GUIDE_SHEET = "填写说明"

CANDIDATE_COLUMNS = [
    "id_a",
    "name_a",
    "id_b",
    "name_b",
    "score",
    "reason",
    "pattern",
    "pattern_group",
    "name_score",
    "definition_score",
    "cosine",
    "unit_a",
    "unit_b",
    "suffix_a",
    "suffix_b",
    "flags",
    "scope_a",
    "scope_b",
    "level2",
    "origin_a",
    "origin_b",
    "level2_b",
    "class_a",
    "class_b",
    "likely",
]

_FORMULA_PREFIX = ("=", "+", "-", "@")
_EMPTY = "∅"
SAME_NAME = "名称相同"  # the pattern of a pair whose names match and whose units differ


@dataclass(frozen=True)
class MatchConfig:
    """Candidate generation and scoring settings (tuned on the tune splits of the labelled pairs only)."""

    top_k: int = 8  # most similar names kept per new name within its 二级指标
    top_k_global: int = 6  # most similar names kept per new name across the library (another 二级指标)
    exact_all: int = 4  # the same name in up to this many indicators: every pair listed, else a star
    min_cosine: float = (
        0.03  # TF-IDF similarity below which a pair is not even scored (top_k bounds the work)
    )
    ngram_range: tuple[int, int] = (1, 3)  # character n-grams of the TF-IDF vectors (single characters too)
    min_name_score: float = 25.0  # edit similarity (plain or word order) below which a pair is not scored
    min_score: float | None = (
        None  # listing threshold on the 0–100 score; None: the model's (or hand) default
    )
    scorer: str = (
        "model"  # model (pipelines/dedupe/pair_model.py) | hand (the first version's weights, to compare)
    )
    df_cap: int = 400  # in larger blocks, n-grams in more names than this are not used to find pairs
    chunk: int = 2048  # query rows per sparse product
    # Hand weights (scorer="hand"):
    hand_min_score: float = 65.0
    definition_weight: float = 0.2  # share of the explanation in the score when both rows have one
    unit_conflict_penalty: float = 25.0
    unit_missing_penalty: float = 5.0
    number_penalty: float = 40.0
    order_discount: float = 8.0  # a rearrangement of the same characters scores (100 - this) at most
    per_name: int = (
        0  # model: list each indicator's 较低 pairs only among its m best (0: all above the threshold)
    )
    include_suffix_conflicts: bool = False  # hand: True keeps 人次/场次-like pairs, scored at most 30


# --------------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------------
def _prepare(frame: pd.DataFrame, origin: str, rules: MatchRules) -> pd.DataFrame:
    out = pd.DataFrame(index=range(len(frame)))
    src = frame.reset_index(drop=True)

    def col(name: str) -> pd.Series:
        if name in src.columns:
            return src[name].fillna("").astype(str)
        return pd.Series("", index=out.index, dtype=str)

    out["id"] = col("id")
    out["name"] = col("name")
    names = (
        col("name_norm") if "name_norm" in src.columns else out["name"].map(lambda n: normalize_name(n)[0])
    )
    out["match_name"] = (
        col("match_name") if "match_name" in src.columns else names.map(lambda n: rules.match_form(n)[0])
    )
    out["definition"] = col("definition")
    out["unit_norm"] = col("unit_norm") if "unit_norm" in src.columns else col("unit").map(normalize_unit)
    out["scope"] = col("scope")
    out["level1"] = col("level1")
    out["level2"] = col("level2")
    out["function_class"] = col("function_class")
    out["usage_count"] = (
        pd.to_numeric(src["usage_count"], errors="coerce").fillna(0).to_numpy()
        if "usage_count" in src.columns
        else 0
    )
    out["origin"] = origin
    return out


def _texts(series: pd.Series) -> np.ndarray:
    """A text column as an object array (numpy's fixed-width unicode would cost 4 bytes x the longest value)."""
    return series.fillna("").astype(str).to_numpy(dtype=object)


def _top_k_pairs(
    xq: sparse.csr_matrix, xc: sparse.csr_matrix, q_idx: np.ndarray, c_idx: np.ndarray, cfg: MatchConfig
):
    """(query global index, corpus global index, cosine) of each query's top-k corpus rows."""
    out_q, out_c, out_s = [], [], []
    xc_t = xc.T.tocsr()
    for start in range(0, xq.shape[0], cfg.chunk):
        sims = (xq[start : start + cfg.chunk] @ xc_t).tocsr()
        counts = np.diff(sims.indptr)
        rows = np.repeat(np.arange(sims.shape[0]), counts)
        cols = sims.indices
        data = sims.data
        qg = q_idx[start + rows]
        cg = c_idx[cols]
        keep = (data >= cfg.min_cosine) & (qg != cg)
        qg, cg, data = qg[keep], cg[keep], data[keep]
        if not len(data):
            continue
        # One float key (query, then descending similarity) sorts faster than a three-key lexsort; ties keep
        # the product's own order, which depends only on the inputs.
        order = np.argsort(qg.astype(np.float64) + (1.0 - data.astype(np.float64)) * 0.5, kind="stable")
        qg, cg, data = qg[order], cg[order], data[order]
        first = np.searchsorted(qg, qg, side="left")
        rank = np.arange(len(qg)) - first
        keep = rank < cfg.top_k
        out_q.append(qg[keep])
        out_c.append(cg[keep])
        out_s.append(data[keep])
    if not out_q:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float32)
    return np.concatenate(out_q), np.concatenate(out_c), np.concatenate(out_s)


def _capped(x: sparse.csr_matrix, df_cap: int) -> sparse.csr_matrix:
    """Zero the n-grams shared by more than df_cap rows (only matters in very large blocks)."""
    if x.shape[0] <= df_cap:
        return x
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    keep = (df <= df_cap).astype(x.dtype)
    return (x @ sparse.diags(keep)).tocsr()


def _units(
    block: np.ndarray, form: np.ndarray, n_forms: int, rank: np.ndarray, is_new: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (block, form) units: (representative row = best ranked, form, block, has a new row).

    Candidates are generated between distinct names, not rows: a name used under forty function classes is
    one unit, so its copies never crowd the top-k slots of another name.
    """
    combo = block.astype(np.int64) * n_forms + form
    order = np.lexsort((rank, combo))
    sorted_combo = combo[order]
    first = np.r_[True, sorted_combo[1:] != sorted_combo[:-1]] if len(order) else np.array([], dtype=bool)
    starts = np.flatnonzero(first)
    reps = order[starts]
    has_new = (
        np.maximum.reduceat(is_new[order].astype(np.int8), starts).astype(bool) if len(starts) else first
    )
    unit_combo = sorted_combo[starts]
    return reps, unit_combo % n_forms, unit_combo // n_forms, has_new


def _exact_pairs(form: np.ndarray, rank: np.ndarray, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Rows with the same matching form filed differently (another 二级, scope, function class or unit):
    every pair in a small group, else each row with the group's best-ranked row (linear in the group)."""
    order = np.lexsort((rank, form))
    sorted_form = form[order]
    if not len(order):
        empty = np.array([], dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.r_[True, sorted_form[1:] != sorted_form[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    center = np.repeat(order[starts], sizes)
    star = center != order
    qi, qj = [center[star]], [order[star]]
    for start, size in zip(
        starts[(sizes > 2) & (sizes <= cfg.exact_all)],
        sizes[(sizes > 2) & (sizes <= cfg.exact_all)],
        strict=True,
    ):
        members = order[start + 1 : start + size]
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                qi.append(members[x : x + 1])
                qj.append(members[y : y + 1])
    return np.concatenate(qi), np.concatenate(qj)


def generate_pairs(rows: pd.DataFrame, cfg: MatchConfig) -> pd.DataFrame:
    """Candidate row pairs over prepared rows: columns i, j (row positions, i < j), cosine.

    Three passes, each linear in the rows, their union kept: (1) the same matching form filed differently;
    (2) within each 二级指标 (whatever the scope or function class), every new name's top_k most similar
    names (TF-IDF of character n-grams); (3) across the whole library, every new name's top_k_global most
    similar names (the same measure filed under another 二级指标). Function class and scope are features
    of a pair, never walls between indicators. Pairs of two last-release indicators are not generated.
    """
    empty = pd.DataFrame(
        {
            "i": np.array([], dtype=np.int64),
            "j": np.array([], dtype=np.int64),
            "cosine": np.array([], dtype=np.float32),
        }
    )
    if rows.empty or not (rows["origin"] == "new").any():
        return empty
    forms, inverse = np.unique(rows["match_name"].to_numpy(dtype=str), return_inverse=True)
    is_new = (rows["origin"] == "new").to_numpy()
    rank = _rank(rows)

    qs: list[np.ndarray] = []
    cs: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    ei, ej = _exact_pairs(inverse, rank, cfg)
    qs.append(ei)
    cs.append(ej)
    ss.append(np.ones(len(ei), dtype=np.float32))

    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=cfg.ngram_range, lowercase=False, sublinear_tf=True, dtype=np.float32
    )
    try:
        x = vectorizer.fit_transform(forms).tocsr()
    except ValueError:  # only one-character names: nothing more to compare
        x = None
    if x is not None:
        level2_codes = pd.factorize(rows["level2"].to_numpy(dtype=str))[0]
        passes = [(level2_codes, cfg.top_k)]
        if cfg.top_k_global:
            passes.append((np.zeros(len(rows), dtype=np.int64), cfg.top_k_global))
        for block, k in passes:
            reps, unit_form, unit_block, has_new = _units(block, inverse, len(forms), rank, is_new)
            bounds = np.flatnonzero(np.r_[True, unit_block[1:] != unit_block[:-1], True])
            pass_cfg = replace(cfg, top_k=k)
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                corpus = np.arange(lo, hi)
                queries = corpus[has_new[lo:hi]]
                if not len(queries) or len(corpus) < 2:
                    continue
                xc = _capped(x[unit_form[corpus]], cfg.df_cap)
                q, c, s = _top_k_pairs(x[unit_form[queries]], xc, queries, corpus, pass_cfg)
                qs.append(reps[q])
                cs.append(reps[c])
                ss.append(s)
    q = np.concatenate(qs)
    c = np.concatenate(cs)
    s = np.concatenate(ss)
    keep = (q != c) & (is_new[q] | is_new[c])
    q, c, s = q[keep], c[keep], s[keep]
    if not len(q):
        return empty
    pairs = pd.DataFrame({"i": np.minimum(q, c), "j": np.maximum(q, c), "cosine": s})
    pairs = pairs.sort_values(["i", "j", "cosine"], ascending=[True, True, False], kind="stable")
    return pairs.drop_duplicates(["i", "j"]).reset_index(drop=True)


def diff_ops(b: str, a: str) -> list[tuple[str, str]]:
    """The differing segments from name B to name A: [("湿", "耕")] for 湿地执行率 → 耕地执行率."""
    return [(x, y) for x, y, _, _ in pair_model.diff_ops(b, a)]


def diff_pattern(b: str, a: str) -> str:
    """The difference pattern shown and grouped on the review sheet: "湿→耕", "∅→新增", "参→培；率→度"."""
    return "；".join(f"{x or _EMPTY}→{y or _EMPTY}" for x, y in diff_ops(b, a))


def _rank(rows: pd.DataFrame) -> np.ndarray:
    """Which side of a pair is A (kept): the last release's indicator, then 共性, then the most used, then id."""
    origin_rank = np.where(
        rows["origin"].to_numpy() == "existing", 0, np.where(rows["scope"].to_numpy() == "共性", 1, 2)
    )
    order = np.lexsort(
        (rows["id"].to_numpy(dtype=str), -np.asarray(rows["usage_count"], dtype=float), origin_rank)
    )
    rank = np.empty(len(rows), dtype=np.int64)
    rank[order] = np.arange(len(rows))
    return rank


@dataclass(frozen=True)
class _Side:
    unit: str
    suffix: str
    scope: str
    level2: str
    fclass: str
    origin: str


def _reason(
    pattern: str, ops: list[tuple[str, str]], f: dict[str, float], a: _Side, b: _Side, score: float
) -> str:
    """The 理由 of a pair in words a finance clerk reads: what differs, what agrees, and what to check."""
    parts = []
    changed = sum(max(len(x), len(y)) for x, y in ops)
    if not ops:
        parts.append("规范化后名称相同")
    elif f["order_ratio"] == 1.0:
        parts.append(f"名称用字相同，仅语序不同：{pattern}")
    elif f["near_synonym"]:
        parts.append(f"名称仅近义词不同：{pattern}")
    elif f["prefix_added"] or f["inner_added"]:
        added = next(x or y for x, y in ops)
        parts.append(f"名称仅多一个限定词“{added}”：{pattern}")
    elif changed == 1:
        parts.append(f"名称仅差一字：{pattern}")
    else:
        parts.append(f"名称相似度{100 * f['name_ratio']:.0f}，差异：{pattern}")
    if f["measure_word"] and ops:
        parts.append("差异词说明计量方式或口径（如及时、足额、合格、平均），可能是不同的指标")
    if f["contrast"]:
        parts.append("差异词常表示不同的计量内容（如开工/完工、增/减、城市/农村），请核对")
    if f["number_diff"]:
        parts.append("差异含数字（期间、序号或数量不同），多为不同指标")
    if f["def_both"]:
        parts.append(f"指标解释相似度{100 * f['def_sim']:.0f}")
    else:
        parts.append("指标解释缺失，无法比较")
    if a.unit and b.unit:
        parts.append(
            f"单位相同（{a.unit}）"
            if a.unit == b.unit
            else f"单位不同：A为“{a.unit}”，B为“{b.unit}”，不能自动合并"
        )
    elif a.unit or b.unit:
        parts.append(f"{'B' if a.unit else 'A'}未填单位")
    else:
        parts.append("双方均未填单位")
    if a.suffix and a.suffix == b.suffix:
        parts.append(f"后缀同为“{a.suffix}”")
    elif f["suffix_conflict"]:
        parts.append(f"后缀不同：“{a.suffix}”与“{b.suffix}”，多为不同的计量对象")
    elif a.suffix or b.suffix:
        parts.append(f"后缀相容：“{a.suffix or '未识别'}”与“{b.suffix or '未识别'}”")
    if a.level2 != b.level2:
        parts.append(f"二级指标不同：A在“{a.level2 or '未填'}”，B在“{b.level2 or '未填'}”")
    if a.scope != b.scope:
        parts.append(f"范围不同：A为{a.scope or '未填'}指标，B为{b.scope or '未填'}指标")
    elif f["class_diff"]:
        parts.append(
            f"功能分类不同（{a.fclass}类、{b.fclass}类）：若为同一指标，可合并，或设为共性指标供各部门使用"
        )
    if a.origin == "existing":
        parts.append("A为上一版指标库中的指标")
    if a.scope == "共性":
        parts.append("A为共性指标：若相同，B应作为该共性指标的使用")
    parts.append(f"估计为同一指标的可能性{score:.0f}%")
    return "；".join(parts)


def _hand_score(
    name_score: np.ndarray,
    def_score: np.ndarray,
    has_def: np.ndarray,
    unit_conflict: np.ndarray,
    unit_missing: np.ndarray,
    compatible: np.ndarray,
    cfg: MatchConfig,
) -> np.ndarray:
    """The hand-weighted score of the first version (kept to measure the model against it)."""
    score = np.where(
        has_def,
        (1 - cfg.definition_weight) * name_score + cfg.definition_weight * np.nan_to_num(def_score),
        name_score,
    )
    score = score - cfg.unit_conflict_penalty * unit_conflict - cfg.unit_missing_penalty * unit_missing
    return np.where(compatible, score, np.minimum(score, 30.0))


def _best_per_name(
    a: np.ndarray, b: np.ndarray, score: np.ndarray, eligible: np.ndarray, m: int
) -> np.ndarray:
    """Pairs among the m best-scored eligible pairs of either of their two indicators.

    A review queue lists, per indicator, its few likeliest duplicates rather than every similar name: the
    true one is nearly always among them, and the list stays readable at a national library's size.
    """
    keep = np.zeros(len(a), dtype=bool)
    idx = np.flatnonzero(eligible)
    if not len(idx):
        return keep
    for side in (a, b):
        order = idx[np.lexsort((-score[idx], side[idx]))]
        members = side[order]
        first = np.searchsorted(members, members, side="left")
        keep[order[np.arange(len(order)) - first < m]] = True
    return keep


def find_candidates(
    new: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    rules: MatchRules | None = None,
    config: MatchConfig | None = None,
) -> pd.DataFrame:
    """Likely duplicates among new indicators and between new and last-release indicators.

    Input frames: one row per distinct indicator (cluster) with columns id, name, match_name, definition,
    unit_norm, scope, level1, level2, function_class (optional usage_count, name_norm). Pairs with the same
    key (same matching form, unit, scope, 二级 and, for 项目, class) are certain merges, not candidates; the
    same name filed under another 二级, scope or class is listed. Pairs a reviewer refused (rules
    do-not-merge) are left out. Each pair is scored by the pair model (pipelines/dedupe/pair_model.py): score = the
    estimated probability (0–100) that the two are one measure; listed from the model's threshold, and
    marked likely (column likely, 可能性较高) from its likely mark. Output: CANDIDATE_COLUMNS, A = the side to
    keep, likeliest first with pairs of one difference pattern together (sort_candidates).
    """
    rules = rules or default_rules()
    cfg = config or MatchConfig()
    model = pair_model.load_model()
    parts = [_prepare(new, "new", rules)]
    if existing is not None and len(existing):
        parts.append(_prepare(existing, "existing", rules))
    rows = pd.concat(parts, ignore_index=True)
    empty = pd.DataFrame(
        {
            c: pd.Series(
                dtype=float
                if c in ("score", "name_score", "definition_score", "cosine")
                else bool
                if c == "likely"
                else str
            )
            for c in CANDIDATE_COLUMNS
        }
    )
    pairs = generate_pairs(rows, cfg)
    if pairs.empty:
        return empty

    rank = _rank(rows)
    i0 = pairs["i"].to_numpy()
    j0 = pairs["j"].to_numpy()
    a = np.where(rank[i0] <= rank[j0], i0, j0)
    b = np.where(rank[i0] <= rank[j0], j0, i0)
    cosine = pairs["cosine"].to_numpy()
    ids = _texts(rows["id"])
    match = _texts(rows["match_name"])
    unit = _texts(rows["unit_norm"])
    scopes = _texts(rows["scope"])
    level2 = _texts(rows["level2"])
    fclass = np.where(scopes == "项目", _texts(rows["function_class"]), "")
    table = suffix_table()
    forms, form_codes = np.unique(match, return_inverse=True)
    suffix = np.array([table.classify(f) for f in forms], dtype=object)[form_codes] if len(forms) else match

    same_id = (ids[a] == ids[b]) & (ids[a] != "")
    certain = (
        (match[a] == match[b])
        & (unit[a] == unit[b])
        & (scopes[a] == scopes[b])
        & (level2[a] == level2[b])
        & (fclass[a] == fclass[b])
    )
    keep = ~same_id & ~certain
    # A cheap bound first: pairs sharing too little of their names are not scored further.
    name_score = np.zeros(len(a))
    order_score = np.zeros(len(a))
    if keep.any():
        ordered = np.array(["".join(sorted(f)) for f in forms], dtype=object)[form_codes]
        ka, kb = a[keep], b[keep]
        name_score[keep] = process.cpdist(list(match[ka]), list(match[kb]), scorer=fuzz.ratio, workers=1)
        order_score[keep] = process.cpdist(list(ordered[ka]), list(ordered[kb]), scorer=fuzz.ratio, workers=1)
    keep &= np.maximum(name_score, order_score) >= cfg.min_name_score
    a, b, cosine = a[keep], b[keep], cosine[keep]
    if not len(a):
        return empty

    raw_definition = _texts(rows["definition"])
    x = pair_model.pair_features(
        model,
        match[a],
        match[b],
        raw_definition[a],
        raw_definition[b],
        unit[a],
        unit[b],
        level2[a],
        level2[b],
        scopes[a],
        scopes[b],
        fclass[a],
        fclass[b],
        min_probability=None
        if cfg.scorer == "hand"
        else (cfg.min_score / 100 if cfg.min_score is not None else model.threshold),
    )
    col = {f: k for k, f in enumerate(pair_model.FEATURES)}
    name_score = 100 * np.maximum(
        x[:, col["name_ratio"]], x[:, col["order_ratio"]] - cfg.order_discount / 100
    )
    def_score = np.where(x[:, col["def_both"]] > 0, 100 * x[:, col["def_sim"]], np.nan)
    compatible = x[:, col["suffix_conflict"]] == 0
    if cfg.scorer == "hand":
        score = _hand_score(
            name_score,
            def_score,
            x[:, col["def_both"]] > 0,
            x[:, col["unit_conflict"]] > 0,
            x[:, col["unit_missing"]] > 0,
            compatible,
            cfg,
        )
        score = score - cfg.number_penalty * (x[:, col["number_diff"]] > 0)
        threshold = cfg.min_score if cfg.min_score is not None else cfg.hand_min_score
        likely = cfg.hand_min_score
        if not cfg.include_suffix_conflicts:
            score = np.where(compatible, score, -1.0)
    else:
        # NaN: pruned in pair_features, the pair cannot reach the threshold.
        score = np.nan_to_num(100.0 * model.probability(x), nan=-1.0)
        threshold = cfg.min_score if cfg.min_score is not None else 100.0 * model.threshold
        likely = 100.0 * model.likely
    keep = score >= threshold
    if cfg.scorer != "hand" and cfg.min_score is None:
        # The same wording filed under another 二级, scope or function class is always worth a look.
        keep |= (x[:, col["identical"]] > 0) & (x[:, col["unit_conflict"]] == 0)
    if not cfg.include_suffix_conflicts:
        keep &= compatible | (cfg.scorer != "hand")
    if cfg.per_name and cfg.min_score is None:
        # Likely pairs and the same wording filed differently are always kept; the rest only among the best.
        keep &= (
            _best_per_name(a, b, score, keep, cfg.per_name)
            | (x[:, col["identical"]] > 0)
            | (score >= 100.0 * model.likely)
        )
    a, b, cosine, x, score, name_score, def_score = (
        v[keep] for v in (a, b, cosine, x, score, name_score, def_score)
    )
    if not len(a):
        return empty

    names = _texts(rows["name"])
    origins = _texts(rows["origin"])
    rows_x = x.tolist()  # Python floats: a dict per pair from a list is far cheaper than from numpy scalars
    kept: list[int] = []
    patterns: list[str] = []
    reasons: list[str] = []
    flag_texts: list[str] = []
    for n in range(len(a)):
        ia, ib = int(a[n]), int(b[n])
        ops = diff_ops(match[ib], match[ia])
        pattern = "；".join(f"{p or _EMPTY}→{q or _EMPTY}" for p, q in ops) or SAME_NAME
        if rules.has_do_not_merge and rules.blocked(ids[ia], match[ia], ids[ib], match[ib], pattern):
            continue
        f = dict(zip(pair_model.FEATURES, rows_x[n], strict=True))
        flags = [
            name
            for name, on in (
                ("unit_conflict", f["unit_conflict"]),
                ("unit_missing", f["unit_missing"]),
                ("number", f["number_diff"]),
                ("suffix_conflict", f["suffix_conflict"]),
                ("contrast", f["contrast"]),
                ("level2_diff", level2[ia] != level2[ib]),
                ("scope_diff", scopes[ia] != scopes[ib]),
                ("class_diff", f["class_diff"]),
            )
            if on
        ]
        kept.append(n)
        patterns.append(pattern)
        flag_texts.append(";".join(flags))
        side_a = _Side(unit[ia], suffix[ia], scopes[ia], level2[ia], fclass[ia], origins[ia])
        side_b = _Side(unit[ib], suffix[ib], scopes[ib], level2[ib], fclass[ib], origins[ib])
        reasons.append(_reason(pattern, ops, f, side_a, side_b, max(0.0, min(100.0, float(score[n])))))
    if not kept:
        return empty
    sel = np.asarray(kept, dtype=np.int64)
    a, b = a[sel], b[sel]
    # Text columns stay Python objects: they point at the strings above instead of copying each pair's text
    # (hundreds of thousands of pairs at national scale).
    out = pd.DataFrame(
        {
            "id_a": ids[a],
            "name_a": names[a],
            "id_b": ids[b],
            "name_b": names[b],
            "score": np.round(np.clip(score[sel], 0.0, 100.0), 1),
            "reason": reasons,
            "pattern": patterns,
            "pattern_group": [pattern_key(p) for p in patterns],
            "name_score": np.round(name_score[sel].astype(float), 1),
            "definition_score": np.round(def_score[sel].astype(float), 1),
            "cosine": np.round(cosine[sel].astype(float), 3),
            "unit_a": unit[a],
            "unit_b": unit[b],
            "suffix_a": suffix[a],
            "suffix_b": suffix[b],
            "flags": flag_texts,
            "scope_a": scopes[a],
            "scope_b": scopes[b],
            "level2": level2[a],
            "origin_a": origins[a],
            "origin_b": origins[b],
            "level2_b": level2[b],
            "class_a": fclass[a],
            "class_b": fclass[b],
            # A differing number (7月/11月, 第一/第二季度) is a different period or item: never marked likely.
            "likely": (score[sel] >= likely) & (x[sel, col["number_diff"]] != 1),
        },
        columns=CANDIDATE_COLUMNS,
        dtype=object,
    )
    for column in ("score", "name_score", "definition_score", "cosine"):
        out[column] = out[column].astype(float)
    out["likely"] = out["likely"].astype(bool)
    return sort_candidates(out)


def sort_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Likeliest first, pairs with the same difference pattern together: patterns ordered by their best
    score, then by size; best score first within a pattern."""
    if candidates.empty:
        return candidates.reset_index(drop=True)
    groups = candidates.groupby("pattern_group")
    size = groups["pattern_group"].transform("size")
    best = groups["score"].transform("max")
    keys = candidates.assign(_best=-best, _size=-size, _score=-candidates["score"])[
        ["_best", "_size", "pattern_group", "pattern", "_score", "id_a", "id_b", "name_a", "name_b"]
    ]
    order = keys.reset_index(drop=True).sort_values(list(keys.columns), kind="stable").index.to_numpy()
    return candidates.iloc[order].reset_index(drop=True)  # one take of the wide frame, not three copies


# --------------------------------------------------------------------------------------------------
# merge_review.xlsx
# --------------------------------------------------------------------------------------------------
_FIXED_TIME = datetime(2000, 1, 1)


def _safe(value: object) -> object:
    """Neutralize text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIX):
        return "'" + value
    return value


def _unsafe(text: str) -> str:
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_PREFIX:
        return text[1:]
    return text


def write_merge_review(candidates: pd.DataFrame, path: Path) -> Path:
    """Write reports/Y/merge_review.xlsx: pairs (first sheet, SPEC §5 columns first), patterns, guide.

    Deterministic bytes: fixed workbook properties, rows sorted by pattern. The 决定 cells carry a drop-down
    list 合并/不合并; a decision on the 差异模式 sheet applies to every pair of that pattern left blank.
    """
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cands = sort_candidates(candidates.copy()) if len(candidates) else candidates
    groups: dict[str, str] = {}
    for group in cands["pattern_group"] if len(cands) else []:
        groups.setdefault(group, f"G{len(groups) + 1:04d}")

    tmp = path.with_suffix(".tmp.xlsx")
    wb = xlsxwriter.Workbook(
        str(tmp), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    wb.set_properties({"title": "指标合并审核", "author": "indicators", "created": _FIXED_TIME})
    head = wb.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    )
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    decide = wb.add_format({"bg_color": "#FFF2CC", "valign": "top"})
    validation = {
        "validate": "list",
        "source": list(DECISIONS),
        "error_title": "决定",
        "error_message": "请选择“合并”“不合并”或“设为共性指标”，未决定的留空",
    }

    ws = wb.add_worksheet(REVIEW_SHEET)
    headers = (*REVIEW_COLUMNS, *REVIEW_EXTRA_COLUMNS)
    widths = (16, 30, 16, 30, 8, 60, 8, 18, 8, 8, 8, 16, 10, 10, 8)
    for col, (title, width) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(0, col, title, head)
        ws.set_column(col, col, width, wrap if title == "理由" else None)
    for r, row in enumerate(cands.itertuples(index=False), start=1):
        values = (
            row.id_a,
            row.name_a,
            row.id_b,
            row.name_b,
            int(round(row.score)),
            row.reason,
            "",
            row.pattern,
            groups[row.pattern_group],
            row.unit_a,
            row.unit_b,
            row.level2,
            row.name_score,
            "" if pd.isna(row.definition_score) else row.definition_score,
            LIKELY if getattr(row, "likely", True) else POSSIBLE,
        )
        for col, value in enumerate(values):
            if col == 6:
                ws.write_blank(r, col, None, decide)
            elif isinstance(value, str):
                ws.write_string(r, col, _safe(value))
            else:
                ws.write_number(r, col, float(value))
    last = max(len(cands), 1)
    ws.data_validation(1, 6, max(last, 1000), 6, validation)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, last, len(headers) - 1)

    ps = wb.add_worksheet(PATTERN_SHEET)
    for col, (title, width) in enumerate(zip(PATTERN_COLUMNS, (8, 24, 8, 50, 8), strict=True)):
        ps.write_string(0, col, title, head)
        ps.set_column(col, col, width)
    if len(cands):
        summary = cands.groupby("pattern", sort=False).agg(
            group=("pattern_group", "first"),
            count=("pattern", "size"),
            example_a=("name_a", "first"),
            example_b=("name_b", "first"),
        )
        for r, (pattern, item) in enumerate(summary.iterrows(), start=1):
            ps.write_string(r, 0, groups[item["group"]])
            ps.write_string(r, 1, _safe(str(pattern)))
            ps.write_number(r, 2, int(item["count"]))
            ps.write_string(r, 3, _safe(f"{item['example_b']} → {item['example_a']}"))
            ps.write_blank(r, 4, None, decide)
        ps.data_validation(1, 4, max(len(summary), 1000), 4, validation)
    ps.freeze_panes(1, 0)

    gs = wb.add_worksheet(GUIDE_SHEET)
    gs.set_column(0, 0, 100)
    guide = (
        "合并审核：每行是一对可能重复的指标，A为保留的指标（上一版库内指标、共性指标或使用最多的），B为可能与之相同的指标。",
        "在“决定”列选择“合并”（B并入A，今后B的名称作为A的别名自动合并）、“不合并”（今后不再提示这一对）"
        "或“设为共性指标”（B并入A，A改为财政部门的共性指标，各部门、各功能分类今后填报同名指标时都作为该共性指标的使用），拿不准的留空。",
        "名称相同但二级指标、范围或功能分类不同的指标也会列出：同一计量内容被多个部门使用时，宜“设为共性指标”。",
        "“相似度”是估计两者为同一指标的可能性（0–100），按可能性从高到低排列；“可能性”为“较高”的行大多确为重复，请先审核；"
        "“较低”的行排在后面，多为不同指标，时间允许时再看。",
        "“差异模式”是两者名称不同的字（如“湿→耕”）。相同模式的行排在一起，分组号相同。",
        "在“差异模式”表的“决定”列填写，可一次决定该模式下所有未填写的行；“不合并”还会让今后同一模式的配对不再提示。",
        "单位不同或后缀不同（如“人次”与“场次”）的指标从不自动合并；名称相同、单位不同的请核对单位是否填错。",
        "填好后运行：indicators review 本文件 --repo 指标库目录。决定会写入 rules/ 目录，随指标库一起纳入版本管理。",
    )
    for r, text in enumerate(guide):
        gs.write_string(r, 0, text, wrap)
    wb.close()
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------------------------------
# indicators review FILE: decisions → rules
# --------------------------------------------------------------------------------------------------
class ReviewError(ValueError):
    """A filled-in review that cannot be applied; the message is Chinese and lists every problem."""


@dataclass
class ReviewSummary:
    file: str
    merged: int = 0  # pairs decided 合并
    not_merged: int = 0  # pairs decided 不合并
    promoted: int = 0  # pairs decided 设为共性指标
    undecided: int = 0
    pattern_decisions: int = 0
    new_synonyms: list[str] = field(default_factory=list)  # rule ids added
    new_do_not_merge: list[str] = field(default_factory=list)
    new_promotions: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # earlier rule ids dropped because the decision changed
    merges: list[tuple[str, str]] = field(default_factory=list)  # (id_a kept, id_b merged) for consolidation
    promotions: list[tuple[str, str]] = field(default_factory=list)  # (id_a made 共性, id_b merged into it)
    warnings: list[str] = field(default_factory=list)

    def message_zh(self) -> str:
        text = (
            f"{self.file}：合并{self.merged}对，不合并{self.not_merged}对，设为共性指标{self.promoted}对，"
            f"未决定{self.undecided}对；新增同义词规则{len(self.new_synonyms)}条，"
            f"新增不合并规则{len(self.new_do_not_merge)}条，新增设为共性指标规则{len(self.new_promotions)}条"
        )
        if self.replaced:
            text += f"，改判并替换旧规则{len(self.replaced)}条（{'、'.join(self.replaced)}）"
        return text


def _decision(raw: object) -> str:
    text = clean_text("" if raw is None else str(raw)).replace(" ", "")
    return {
        "合并": "合并",
        "合併": "合并",
        "设为共性指标": PROMOTE,
        "設為共性指標": PROMOTE,
        "共性": PROMOTE,
        "共性指标": PROMOTE,
        "是": "合并",
        "不合并": "不合并",
        "不合併": "不合并",
        "否": "不合并",
    }.get(text, "?" if text else "")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _unsafe(str(value).strip())


def _read_sheet(ws) -> tuple[list[str], list[tuple[int, list[object]]]]:
    rows = ws.iter_rows(values_only=True)
    try:
        header = [clean_text(_cell_text(v)).replace(" ", "") for v in next(rows)]
    except StopIteration:
        return [], []
    body = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        body.append((number, list(values)))
    return header, body


def read_review(review_xlsx: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The pair rows (with decision) and the pattern-level decisions of a filled-in merge_review.xlsx."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(review_xlsx, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise ReviewError(f"{Path(review_xlsx).name}：无法读取（不是有效的 xlsx 文件）：{exc}") from exc
    problems: list[str] = []
    try:
        header, body = _read_sheet(wb.worksheets[0])
        expected = list(REVIEW_COLUMNS)
        if header[: len(expected)] != expected:
            missing = [c for c in expected if c not in header]
            detail = (
                f"缺少列：{'、'.join(missing)}"
                if missing
                else f"前{len(expected)}列的顺序应为：{'、'.join(expected)}"
            )
            raise ReviewError(
                f"{Path(review_xlsx).name}：第一个工作表“{wb.worksheets[0].title}”的表头不对，{detail}。请使用 indicators rebuild 生成的 merge_review.xlsx 填写"
            )
        pattern_col = header.index("差异模式") if "差异模式" in header else None
        pairs = []
        for number, values in body:
            values = values + [None] * (len(header) - len(values))
            record = {name: _cell_text(values[k]) for k, name in enumerate(expected)}
            decision = _decision(values[6])
            if decision == "?":
                problems.append(
                    f"第{number}行“决定”填写为“{_cell_text(values[6])}”，无法识别：请填写“合并”“不合并”或“设为共性指标”，未决定的留空"
                )
                continue
            if not record["指标名称A"] or not record["指标名称B"]:
                problems.append(f"第{number}行缺少指标名称A或指标名称B")
                continue
            record["决定"] = decision
            record["差异模式"] = _cell_text(values[pattern_col]) if pattern_col is not None else ""
            record["row"] = str(number)
            pairs.append(record)
        pattern_decisions: dict[str, str] = {}
        if PATTERN_SHEET in wb.sheetnames:
            p_header, p_body = _read_sheet(wb[PATTERN_SHEET])
            if "差异模式" in p_header and "决定" in p_header:
                pc, dc = p_header.index("差异模式"), p_header.index("决定")
                for number, values in p_body:
                    values = values + [None] * (len(p_header) - len(values))
                    decision = _decision(values[dc])
                    if decision == "?":
                        problems.append(
                            f"“{PATTERN_SHEET}”表第{number}行“决定”填写为“{_cell_text(values[dc])}”，无法识别：请填写“合并”“不合并”或“设为共性指标”，或留空"
                        )
                    elif decision:
                        pattern_decisions[_cell_text(values[pc])] = decision
            if pattern_decisions and pattern_col is None:
                problems.append(f"“{PATTERN_SHEET}”表有决定，但第一个工作表缺少“差异模式”列，无法对应到各行")
    finally:
        wb.close()
    if problems:
        raise ReviewError(f"{Path(review_xlsx).name}：" + "；".join(problems))
    return pairs, pattern_decisions


def _next_id(prefix: str, year: int, existing: list[dict[str, str]]) -> Callable[[], str]:
    """A generator of fresh rule ids for a year: M2025-0001, M2025-0002 … after the ones already used."""
    stem = f"{prefix}{year}-"
    used = [
        int(r["rule_id"][len(stem) :])
        for r in existing
        if r["rule_id"].startswith(stem) and r["rule_id"][len(stem) :].isdigit()
    ]
    counter = [max(used, default=0)]

    def next_id() -> str:
        counter[0] += 1
        return f"{stem}{counter[0]:04d}"

    return next_id


def _pair_key(rules: MatchRules, name_a: str, name_b: str) -> tuple[str, str]:
    a = rules.match_form(normalize_name(name_a)[0])[0]
    b = rules.match_form(normalize_name(name_b)[0])[0]
    return (a, b) if a <= b else (b, a)


def _decision_key(rules: MatchRules, name_a: str, name_b: str, id_a: str, id_b: str) -> tuple[str, str]:
    """What a decision is about: the two names, or the two ids when the names are the same (one name filed
    under two 二级指标, scopes or function classes)."""
    key = _pair_key(rules, name_a, name_b)
    if key[0] != key[1]:
        return key
    return ("#" + min(id_a, id_b), "#" + max(id_a, id_b))


@dataclass(frozen=True)
class CommonPromotion:
    """A 设为共性指标 decision: id_a becomes a 共性 indicator and id_b is merged into it."""

    rule_id: str
    id_a: str
    name_a: str
    id_b: str
    name_b: str
    year: str = ""
    source: str = ""


def common_promotions(rules_dir: Path | None) -> list[CommonPromotion]:
    """The 设为共性指标 decisions of a deployment (PATH/rules/common_promotions.csv), in rule-id order.

    What consolidation does with each (helper of pipelines/consolidate/build.py): the pair's merge (B into A) is
    already a review merge (a phrase rule with both ids in rules/synonyms.csv, so MatchRules.merges has it);
    on top of it, the indicator kept (id_a, through earlier merges) gets scope 共性 and no function class,
    keeping its id. From then on every department's row whose common_key equals its own, or one of its
    aliases', is a usage of that 共性 indicator, whatever its scope or function class.
    """
    if rules_dir is None:
        return []
    path = Path(rules_dir) / "common_promotions.csv"
    if not path.exists():
        return []
    rows = read_reference_csv(path)
    return sorted(
        (
            CommonPromotion(
                **{c: r.get(c, "") or "" for c in REPO_PROMOTION_COLUMNS[:5]}
                | {"year": r.get("year", "") or "", "source": r.get("source", "") or ""}
            )
            for r in rows
        ),
        key=lambda p: p.rule_id,
    )


def promoted_ids(promotions: list[CommonPromotion], merged_into: dict[str, str]) -> dict[str, str]:
    """The indicators to make 共性: {kept id → the rule ids deciding it, joined by ";"}.

    Each decision names the pair as it was listed; A may have been merged into another indicator since, so
    A is followed through merged_into (id → the id it was merged into) to the indicator that now stands
    for it. Consolidation sets scope 共性 (and no function class) on each key of the result, keeping its id.
    """
    out: dict[str, str] = {}
    for promotion in promotions:
        iid, seen = promotion.id_a, set()
        while merged_into.get(iid) and iid not in seen:
            seen.add(iid)
            iid = merged_into[iid]
        if iid:
            out[iid] = f"{out[iid]};{promotion.rule_id}" if iid in out else promotion.rule_id
    return out


def apply_review(review_xlsx: Path, rules_dir: Path, year: int) -> ReviewSummary:
    """Apply a filled-in merge_review.xlsx: 合并 → a phrase synonym rule (B → A, with both ids), 不合并 → a
    do-not-merge rule (the pair; a pattern-level 不合并 also the pattern), 设为共性指标 → the 合并 rule plus a
    row of rules_dir/common_promotions.csv (A becomes a 共性 indicator), into rules_dir/synonyms.csv,
    do_not_merge.csv and common_promotions.csv. Idempotent: applying the same file twice adds nothing. A
    decision that reverses an earlier one replaces that rule (git keeps the old one).
    """
    review_xlsx = Path(review_xlsx)
    rules_dir = Path(rules_dir)
    pairs, pattern_decisions = read_review(review_xlsx)
    summary = ReviewSummary(file=review_xlsx.name, pattern_decisions=len(pattern_decisions))
    syn_path, dnm_path = rules_dir / "synonyms.csv", rules_dir / "do_not_merge.csv"
    promo_path = rules_dir / "common_promotions.csv"
    syn_rows = read_reference_csv(syn_path) if syn_path.exists() else []
    dnm_rows = read_reference_csv(dnm_path) if dnm_path.exists() else []
    promo_rows = read_reference_csv(promo_path) if promo_path.exists() else []
    # Word forms only (no phrase rules) so that a pair's identity does not depend on earlier merges.
    base_rules = default_rules()
    new_syn = _next_id("M", year, syn_rows)
    new_dnm = _next_id("N", year, dnm_rows)
    new_promo = _next_id("P", year, promo_rows)
    source = review_xlsx.name

    syn_index = {
        _decision_key(base_rules, r["pattern"], r["replacement"], r.get("id_a", ""), r.get("id_b", "")): r
        for r in syn_rows
        if r.get("kind") == "phrase"
    }
    dnm_index = {}
    for r in dnm_rows:
        if r.get("kind") != "pair":
            continue
        if r.get("name_a") and r.get("name_b"):
            dnm_index[_decision_key(base_rules, r["name_a"], r["name_b"], r["id_a"], r["id_b"])] = r
        elif r.get("id_a") and r.get("id_b"):
            dnm_index[("#" + min(r["id_a"], r["id_b"]), "#" + max(r["id_a"], r["id_b"]))] = r
    promo_index = {
        _decision_key(base_rules, r["name_a"], r["name_b"], r.get("id_a", ""), r.get("id_b", "")): r
        for r in promo_rows
    }
    dnm_patterns = {pattern_key(r["pattern"]): r for r in dnm_rows if r.get("kind") == "pattern"}

    for pattern, decision in sorted(pattern_decisions.items()):
        if decision == "不合并" and pattern_key(pattern) not in dnm_patterns:
            row = {
                "rule_id": new_dnm(),
                "kind": "pattern",
                "pattern": pattern,
                "year": str(year),
                "source": source,
                "note": "按差异模式决定不合并",
            }
            dnm_rows.append(row)
            dnm_patterns[pattern_key(pattern)] = row
            summary.new_do_not_merge.append(row["rule_id"])

    def drop(index: dict, rows: list[dict[str, str]], key: tuple[str, str]) -> None:
        old = index.pop(key, None)
        if old is not None:
            rows.remove(old)
            summary.replaced.append(old["rule_id"])

    for pair in pairs:
        decision = pair["决定"] or pattern_decisions.get(pair["差异模式"], "")
        if not decision:
            summary.undecided += 1
            continue
        id_a, id_b = pair["指标编号A"], pair["指标编号B"]
        name_a, name_b = pair["指标名称A"], pair["指标名称B"]
        key = _decision_key(base_rules, name_a, name_b, id_a, id_b)
        if key[0] == key[1] or (key[0].startswith("#") and not (id_a and id_b)):
            summary.warnings.append(f"第{pair['row']}行两个名称在规范化后已相同，无需决定")
            continue
        same_name = key[0].startswith("#")
        if decision in ("合并", PROMOTE):
            if decision == PROMOTE:
                summary.promoted += 1
                if id_a and id_b:
                    summary.promotions.append((id_a, id_b))
            else:
                summary.merged += 1
                drop(promo_index, promo_rows, key)  # 合并 after 设为共性指标: A keeps its scope
            if id_a and id_b:
                summary.merges.append((id_a, id_b))
            drop(dnm_index, dnm_rows, key)
            if key not in syn_index:
                row = {
                    "rule_id": new_syn(),
                    "pattern": name_b,
                    "replacement": name_a,
                    "kind": "phrase",
                    "note": f"合并审核（第{pair['row']}行，{decision}）：{name_b} → {name_a}"
                    + ("（名称相同，按编号合并）" if same_name else ""),
                    "year": str(year),
                    "source": source,
                    "id_a": id_a,
                    "id_b": id_b,
                }
                syn_rows.append(row)
                syn_index[key] = row
                summary.new_synonyms.append(row["rule_id"])
            if decision == PROMOTE and key not in promo_index:
                row = {
                    "rule_id": new_promo(),
                    "id_a": id_a,
                    "name_a": name_a,
                    "id_b": id_b,
                    "name_b": name_b,
                    "year": str(year),
                    "source": source,
                    "note": f"合并审核（第{pair['row']}行）决定设为共性指标：{name_b} 并入 {name_a}，{name_a} 改为共性指标",
                }
                promo_rows.append(row)
                promo_index[key] = row
                summary.new_promotions.append(row["rule_id"])
        else:
            summary.not_merged += 1
            drop(syn_index, syn_rows, key)
            drop(promo_index, promo_rows, key)
            if key in dnm_index:
                continue
            row = {
                "rule_id": new_dnm(),
                "kind": "pair",
                "id_a": id_a,
                # The same name under two ids is refused by ids only: by name it would refuse every copy.
                "name_a": "" if same_name else name_a,
                "id_b": id_b,
                "name_b": "" if same_name else name_b,
                "pattern": pair["差异模式"],
                "year": str(year),
                "source": source,
                "note": f"合并审核（第{pair['row']}行）决定不合并"
                + (f"：{name_a}（名称相同）" if same_name else ""),
            }
            dnm_rows.append(row)
            dnm_index[key] = row
            summary.new_do_not_merge.append(row["rule_id"])

    write_review_rules(rules_dir, syn_rows, dnm_rows, promo_rows)
    return summary


def write_review_rules(
    rules_dir: Path,
    synonyms: list[dict[str, str]],
    do_not_merge: list[dict[str, str]],
    promotions: list[dict[str, str]] | None = None,
) -> None:
    """Write PATH/rules/synonyms.csv, do_not_merge.csv and (when any) common_promotions.csv (sorted by rule
    id, fixed columns)."""
    write_rules_csv(
        Path(rules_dir) / "synonyms.csv",
        REPO_SYNONYM_COLUMNS,
        synonyms,
        "同义词规则（合并审核的决定，indicators review 写入）：pattern 的名称按 replacement 的名称合并。每次重建都会使用。",
    )
    write_rules_csv(
        Path(rules_dir) / "do_not_merge.csv",
        REPO_DNM_COLUMNS,
        do_not_merge,
        "不合并规则（合并审核的决定，indicators review 写入）：pair 为一对指标，pattern 为一种名称差异。每次重建都会使用。",
    )
    promo_path = Path(rules_dir) / "common_promotions.csv"
    if promotions or promo_path.exists():
        write_rules_csv(
            promo_path,
            REPO_PROMOTION_COLUMNS,
            promotions or [],
            "设为共性指标（合并审核的决定，indicators review 写入）：id_b 并入 id_a，id_a 改为共性指标，编号不变。每次重建都会使用。",
        )
