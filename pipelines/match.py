"""Match: likely duplicates for a person to decide, and the rules their decisions become.

A wrong merge silently corrupts two departments' indicators, a missed one only leaves a duplicate, so only
key equality merges automatically (pipelines/normalize.py). Everything fuzzier is a candidate here:

1. Blocking. Rows are compared only within a block: scope + 二级指标 (+ the function class for 项目). A 共性
   indicator is compared with every row of its 二级指标, whatever the scope or class.
2. Generation, never all pairs. Names become TF-IDF vectors of character 2–3-grams; within a block every
   new row keeps its top-k most similar rows (a sparse product, in chunks). In a very large block the
   n-grams shared by more than `df_cap` names (率, 完成率 …) are not used to *find* pairs, which keeps the
   work linear in the number of rows.
3. An explainable score per pair: name similarity (edit distance on the matching form), explanation
   similarity, unit, metric suffix, numbers. Pairs whose metric suffixes are incompatible (人次/场次,
   人数/户数) are different measures and are not proposed; a unit difference or a differing number (7月/11月)
   lowers the score. Each pair gets a Chinese reason and its difference pattern ("湿→耕"), so that one
   decision on the review sheet can cover every pair with the same pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from pipelines.normalize import (
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
from pipelines.text import clean_text

REVIEW_COLUMNS = ("指标编号A", "指标名称A", "指标编号B", "指标名称B", "相似度", "理由", "决定")
REVIEW_EXTRA_COLUMNS = ("差异模式", "分组", "单位A", "单位B", "二级指标", "名称相似度", "说明相似度")
PATTERN_COLUMNS = ("分组", "差异模式", "对数", "示例", "决定")
DECISIONS = ("合并", "不合并")
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
]

_NUMERAL = re.compile(r"[0-9零一二三四五六七八九十百千两]")
_DEF_NOISE = re.compile(r"反映|情况|[,.;:，。；：、\s\"“”()（）]")
_FORMULA_PREFIX = ("=", "+", "-", "@")
_EMPTY = "∅"
SAME_NAME = "名称相同"  # the pattern of a pair whose names match and whose units differ


@dataclass(frozen=True)
class MatchConfig:
    """Candidate generation and scoring settings (tuned on the tune split of tests/data/labelled_pairs.csv)."""

    top_k: int = 8  # most similar rows kept per new row and block
    min_cosine: float = 0.1  # TF-IDF similarity below which a pair is not even scored (top_k bounds the work)
    ngram_range: tuple[int, int] = (2, 3)  # character n-grams of the TF-IDF vectors
    min_score: float = 65.0  # final score below which a pair is not proposed
    df_cap: int = 400  # in larger blocks, n-grams in more names than this are not used to find pairs
    chunk: int = 2048  # query rows per sparse product
    definition_weight: float = 0.2  # share of the explanation in the score when both rows have one
    unit_conflict_penalty: float = 25.0
    unit_missing_penalty: float = 5.0
    number_penalty: float = 40.0
    order_discount: float = 8.0  # a rearrangement of the same characters scores (100 - this) at most
    include_suffix_conflicts: bool = False  # True: keep 人次/场次-like pairs, scored at most 30


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


def _definition_form(text: str) -> str:
    return _DEF_NOISE.sub("", clean_text(text)) if text else ""


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


def generate_pairs(rows: pd.DataFrame, cfg: MatchConfig) -> pd.DataFrame:
    """Blocked top-k TF-IDF pairs over prepared rows: columns i, j (row positions, i < j), cosine."""
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
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=cfg.ngram_range, lowercase=False, sublinear_tf=True, dtype=np.float32
    )
    try:
        unique_x = vectorizer.fit_transform(forms)
    except ValueError:  # only one-character names: nothing to compare
        return empty
    x = unique_x[inverse].tocsr()

    scope = rows["scope"].to_numpy(dtype=str)
    level2 = rows["level2"].to_numpy(dtype=str)
    fclass = np.where(scope == "项目", rows["function_class"].to_numpy(dtype=str), "")
    is_new = (rows["origin"] == "new").to_numpy()
    is_common = scope == "共性"
    block = pd.Series(scope, dtype=str) + "|" + level2 + "|" + fclass

    by_block = {
        k: np.asarray(v, dtype=np.int64)
        for k, v in pd.Series(np.arange(len(rows))).groupby(block.to_numpy()).groups.items()
    }
    by_level2 = {
        k: np.asarray(v, dtype=np.int64)
        for k, v in pd.Series(np.arange(len(rows))).groupby(level2).groups.items()
    }
    common_by_level2 = {k: v[is_common[v]] for k, v in by_level2.items()}

    tasks: list[tuple[np.ndarray, np.ndarray]] = []
    for name in sorted(by_block):
        members = np.sort(by_block[name])
        queries = members[is_new[members] & ~is_common[members]]
        if not len(queries):
            continue
        corpus = np.union1d(members, common_by_level2.get(level2[members[0]], np.array([], dtype=np.int64)))
        tasks.append((queries, corpus))
    for name in sorted(by_level2):
        members = np.sort(by_level2[name])
        queries = members[is_new[members] & is_common[members]]
        if len(queries):
            tasks.append((queries, members))  # a new 共性 indicator against every row of its 二级指标

    qs, cs, ss = [], [], []
    for queries, corpus in tasks:
        xc = _capped(x[corpus], cfg.df_cap)
        q, c, s = _top_k_pairs(x[queries], xc, queries, corpus, cfg)
        qs.append(q)
        cs.append(c)
        ss.append(s)
    if not qs:
        return empty
    q = np.concatenate(qs)
    c = np.concatenate(cs)
    s = np.concatenate(ss)
    pairs = pd.DataFrame({"i": np.minimum(q, c), "j": np.maximum(q, c), "cosine": s})
    pairs = pairs.sort_values(["i", "j", "cosine"], ascending=[True, True, False], kind="stable")
    return pairs.drop_duplicates(["i", "j"]).reset_index(drop=True)


def diff_ops(b: str, a: str) -> list[tuple[str, str]]:
    """The differing segments from name B to name A: [("湿", "耕")] for 湿地执行率 → 耕地执行率."""
    ops: list[tuple[str, str]] = []
    last_end = (-1, -1)
    for op in Levenshtein.opcodes(b, a):
        if op.tag == "equal":
            continue
        segment = (b[op.src_start : op.src_end], a[op.dest_start : op.dest_end])
        # Adjacent edits read as one: 有害生物 → 禁止进境物, not 有害生 → 止进境 plus an inserted 禁.
        if ops and last_end == (op.src_start, op.dest_start):
            ops[-1] = (ops[-1][0] + segment[0], ops[-1][1] + segment[1])
        else:
            ops.append(segment)
        last_end = (op.src_end, op.dest_end)
    return ops


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


def _reason(
    pattern: str,
    ops: list[tuple[str, str]],
    name_score: float,
    def_score: float,
    unit_a: str,
    unit_b: str,
    suffix_a: str,
    suffix_b: str,
    compatible: bool,
    numbers: bool,
    scope_a: str,
    origin_a: str,
    reordered: bool = False,
) -> str:
    parts = []
    changed = sum(max(len(x), len(y)) for x, y in ops)
    if not ops:
        parts.append("规范化后名称相同")
    elif reordered:
        parts.append(f"名称用字相同，仅语序不同：{pattern}")
    elif changed == 1:
        parts.append(f"名称仅差一字：{pattern}")
    elif len(ops) == 1:
        parts.append(f"名称差异：{pattern}（相似度{name_score:.0f}）")
    else:
        parts.append(f"名称相似度{name_score:.0f}，差异：{pattern}")
    if np.isnan(def_score):
        parts.append("说明缺失，无法比较")
    else:
        parts.append(f"说明相似度{def_score:.0f}")
    if unit_a and unit_b:
        parts.append(
            f"单位相同（{unit_a}）"
            if unit_a == unit_b
            else f"单位不同：A为“{unit_a}”，B为“{unit_b}”，不能自动合并"
        )
    elif unit_a or unit_b:
        parts.append(f"{'B' if unit_a else 'A'}未填单位")
    else:
        parts.append("双方均未填单位")
    if suffix_a and suffix_a == suffix_b:
        parts.append(f"后缀同为“{suffix_a}”")
    elif not compatible:
        parts.append(f"后缀不同：“{suffix_a}”与“{suffix_b}”，是不同的计量对象")
    elif suffix_a or suffix_b:
        parts.append(f"后缀相容：“{suffix_a or '未识别'}”与“{suffix_b or '未识别'}”")
    if numbers:
        parts.append("差异含数字（期间、序号或数量不同），多为不同指标")
    if origin_a == "existing":
        parts.append("A为上一版指标库中的指标")
    if scope_a == "共性":
        parts.append("A为共性指标：若相同，B应作为该共性指标的使用")
    return "；".join(parts)


def find_candidates(
    new: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    rules: MatchRules | None = None,
    config: MatchConfig | None = None,
) -> pd.DataFrame:
    """Likely duplicates among new indicators and between new and last-release indicators.

    Input frames: one row per distinct indicator (cluster) with columns id, name, match_name, definition,
    unit_norm, scope, level1, level2, function_class (optional usage_count, name_norm). Pairs already
    identical (same match_name and unit) are certain merges, not candidates; pairs a reviewer refused (rules
    do-not-merge) are left out. Output: CANDIDATE_COLUMNS, A = the side to keep, sorted by pattern.
    """
    rules = rules or default_rules()
    cfg = config or MatchConfig()
    parts = [_prepare(new, "new", rules)]
    if existing is not None and len(existing):
        parts.append(_prepare(existing, "existing", rules))
    rows = pd.concat(parts, ignore_index=True)
    empty = pd.DataFrame(
        {
            c: pd.Series(dtype=float if c in ("score", "name_score", "definition_score", "cosine") else str)
            for c in CANDIDATE_COLUMNS
        }
    )
    pairs = generate_pairs(rows, cfg)
    if pairs.empty:
        return empty

    i = pairs["i"].to_numpy()
    j = pairs["j"].to_numpy()
    ids = _texts(rows["id"])
    match = _texts(rows["match_name"])
    unit = _texts(rows["unit_norm"])
    table = suffix_table()
    forms, form_codes = np.unique(match, return_inverse=True)
    suffix = np.array([table.classify(f) for f in forms], dtype=object)[form_codes] if len(forms) else match

    same_id = (ids[i] == ids[j]) & (ids[i] != "")
    identical = (match[i] == match[j]) & (unit[i] == unit[j])
    compatible = table.compatible_many(suffix[i], suffix[j])
    keep = ~same_id & ~identical
    if not cfg.include_suffix_conflicts:
        keep &= compatible
    i, j, compatible, cosine = i[keep], j[keep], compatible[keep], pairs["cosine"].to_numpy()[keep]
    if not len(i):
        return empty

    name_score = process.cpdist(list(match[i]), list(match[j]), scorer=fuzz.ratio, workers=1).astype(float)
    # Word order ("垃圾清运及时率" / "垃圾及时清运率"): the same characters rearranged score nearly as high.
    sorted_forms = np.array(["".join(sorted(f)) for f in forms], dtype=object)[form_codes]
    order_score = process.cpdist(
        list(sorted_forms[i]), list(sorted_forms[j]), scorer=fuzz.ratio, workers=1
    ).astype(float)
    name_score = np.maximum(name_score, order_score - cfg.order_discount)
    raw_definition = _texts(rows["definition"])
    definition = np.full(len(rows), "", dtype=object)
    involved = np.unique(np.concatenate([i, j]))
    definition[involved] = [_definition_form(d) for d in raw_definition[involved]]  # only rows in a pair
    has_def = (definition[i] != "") & (definition[j] != "")
    def_score = np.full(len(i), np.nan)
    if has_def.any():
        def_score[has_def] = process.cpdist(
            list(definition[i][has_def]), list(definition[j][has_def]), scorer=fuzz.ratio, workers=1
        )
    score = np.where(
        has_def,
        (1 - cfg.definition_weight) * name_score + cfg.definition_weight * np.nan_to_num(def_score),
        name_score,
    )
    unit_conflict = (unit[i] != "") & (unit[j] != "") & (unit[i] != unit[j])
    unit_missing = (unit[i] == "") != (unit[j] == "")
    score = score - cfg.unit_conflict_penalty * unit_conflict - cfg.unit_missing_penalty * unit_missing
    score = np.where(compatible, score, np.minimum(score, 30.0))
    keep = score >= cfg.min_score  # the number penalty below only lowers scores: prefilter first
    i, j, compatible, cosine, name_score, def_score, score = (
        v[keep] for v in (i, j, compatible, cosine, name_score, def_score, score)
    )
    unit_conflict, unit_missing = unit_conflict[keep], unit_missing[keep]

    rank = _rank(rows)
    a = np.where(rank[i] <= rank[j], i, j)
    b = np.where(rank[i] <= rank[j], j, i)
    names = _texts(rows["name"])
    scopes = _texts(rows["scope"])
    origins = _texts(rows["origin"])
    level2 = _texts(rows["level2"])

    # Column lists, not a dict per pair: a national year has hundreds of thousands of candidate pairs.
    kept: list[int] = []
    patterns: list[str] = []
    reasons: list[str] = []
    finals: list[float] = []
    flag_texts: list[str] = []
    for n in range(len(a)):
        ia, ib = int(a[n]), int(b[n])
        ops = diff_ops(match[ib], match[ia])
        pattern = "；".join(f"{x or _EMPTY}→{y or _EMPTY}" for x, y in ops) or SAME_NAME
        numbers = any(_NUMERAL.search(x + y) for x, y in ops)
        final = float(score[n]) - (cfg.number_penalty if numbers else 0.0)
        if final < cfg.min_score:
            continue
        if rules.has_do_not_merge and rules.blocked(ids[ia], match[ia], ids[ib], match[ib], pattern):
            continue
        flags = [
            f
            for f, on in (
                ("unit_conflict", unit_conflict[n]),
                ("unit_missing", unit_missing[n]),
                ("number", numbers),
                ("suffix_conflict", not compatible[n]),
            )
            if on
        ]
        kept.append(n)
        patterns.append(pattern)
        finals.append(round(max(0.0, min(100.0, final)), 1))
        flag_texts.append(";".join(flags))
        reasons.append(
            _reason(
                pattern,
                ops,
                name_score[n],
                def_score[n],
                unit[ia],
                unit[ib],
                suffix[ia],
                suffix[ib],
                bool(compatible[n]),
                numbers,
                scopes[ia],
                origins[ia],
                sorted_forms[ia] == sorted_forms[ib],
            )
        )
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
            "score": finals,
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
        },
        columns=CANDIDATE_COLUMNS,
        dtype=object,
    )
    for column in ("score", "name_score", "definition_score", "cosine"):
        out[column] = out[column].astype(float)
    return sort_candidates(out)


def sort_candidates(candidates: pd.DataFrame) -> pd.DataFrame:
    """Pairs with the same difference pattern together (largest groups first), best score first within."""
    if candidates.empty:
        return candidates.reset_index(drop=True)
    size = candidates.groupby("pattern_group")["pattern_group"].transform("size")
    keys = candidates.assign(_size=-size, _score=-candidates["score"])[
        ["_size", "pattern_group", "pattern", "_score", "id_a", "id_b", "name_a", "name_b"]
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
        "error_message": "请选择“合并”或“不合并”，未决定的留空",
    }

    ws = wb.add_worksheet(REVIEW_SHEET)
    headers = (*REVIEW_COLUMNS, *REVIEW_EXTRA_COLUMNS)
    widths = (16, 30, 16, 30, 8, 60, 8, 18, 8, 8, 8, 16, 10, 10)
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
        "在“决定”列选择“合并”（B并入A，今后B的名称作为A的别名自动合并）或“不合并”（今后不再提示这一对），拿不准的留空。",
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
    undecided: int = 0
    pattern_decisions: int = 0
    new_synonyms: list[str] = field(default_factory=list)  # rule ids added
    new_do_not_merge: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # earlier rule ids dropped because the decision changed
    merges: list[tuple[str, str]] = field(default_factory=list)  # (id_a kept, id_b merged) for consolidation
    warnings: list[str] = field(default_factory=list)

    def message_zh(self) -> str:
        text = (
            f"{self.file}：合并{self.merged}对，不合并{self.not_merged}对，未决定{self.undecided}对；"
            f"新增同义词规则{len(self.new_synonyms)}条，新增不合并规则{len(self.new_do_not_merge)}条"
        )
        if self.replaced:
            text += f"，改判并替换旧规则{len(self.replaced)}条（{'、'.join(self.replaced)}）"
        return text


def _decision(raw: object) -> str:
    text = clean_text("" if raw is None else str(raw)).replace(" ", "")
    return {
        "合并": "合并",
        "合併": "合并",
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
                    f"第{number}行“决定”填写为“{_cell_text(values[6])}”，无法识别：请填写“合并”或“不合并”，未决定的留空"
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
                            f"“{PATTERN_SHEET}”表第{number}行“决定”填写为“{_cell_text(values[dc])}”，无法识别：请填写“合并”或“不合并”，或留空"
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


def apply_review(review_xlsx: Path, rules_dir: Path, year: int) -> ReviewSummary:
    """Apply a filled-in merge_review.xlsx: 合并 → a phrase synonym rule (B → A, with both ids), 不合并 → a
    do-not-merge rule (the pair; a pattern-level 不合并 also the pattern), into rules_dir/synonyms.csv and
    rules_dir/do_not_merge.csv. Idempotent: applying the same file twice adds nothing. A decision that
    reverses an earlier one replaces that rule (git keeps the old one).
    """
    review_xlsx = Path(review_xlsx)
    rules_dir = Path(rules_dir)
    pairs, pattern_decisions = read_review(review_xlsx)
    summary = ReviewSummary(file=review_xlsx.name, pattern_decisions=len(pattern_decisions))
    syn_path, dnm_path = rules_dir / "synonyms.csv", rules_dir / "do_not_merge.csv"
    syn_rows = read_reference_csv(syn_path) if syn_path.exists() else []
    dnm_rows = read_reference_csv(dnm_path) if dnm_path.exists() else []
    # Word forms only (no phrase rules) so that a pair's identity does not depend on earlier merges.
    base_rules = default_rules()
    new_syn = _next_id("M", year, syn_rows)
    new_dnm = _next_id("N", year, dnm_rows)
    source = review_xlsx.name

    syn_index = {
        _pair_key(base_rules, r["pattern"], r["replacement"]): r
        for r in syn_rows
        if r.get("kind") == "phrase"
    }
    dnm_index = {
        _pair_key(base_rules, r["name_a"], r["name_b"]): r
        for r in dnm_rows
        if r.get("kind") == "pair" and r.get("name_a") and r.get("name_b")
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

    for pair in pairs:
        decision = pair["决定"] or pattern_decisions.get(pair["差异模式"], "")
        if not decision:
            summary.undecided += 1
            continue
        key = _pair_key(base_rules, pair["指标名称A"], pair["指标名称B"])
        if key[0] == key[1]:
            summary.warnings.append(f"第{pair['row']}行两个名称在规范化后已相同，无需决定")
            continue
        if decision == "合并":
            summary.merged += 1
            if pair["指标编号A"] and pair["指标编号B"]:
                summary.merges.append((pair["指标编号A"], pair["指标编号B"]))
            old = dnm_index.pop(key, None)
            if old is not None:
                dnm_rows.remove(old)
                summary.replaced.append(old["rule_id"])
            if key in syn_index:
                continue
            row = {
                "rule_id": new_syn(),
                "pattern": pair["指标名称B"],
                "replacement": pair["指标名称A"],
                "kind": "phrase",
                "note": f"合并审核（第{pair['row']}行）：{pair['指标名称B']} → {pair['指标名称A']}",
                "year": str(year),
                "source": source,
                "id_a": pair["指标编号A"],
                "id_b": pair["指标编号B"],
            }
            syn_rows.append(row)
            syn_index[key] = row
            summary.new_synonyms.append(row["rule_id"])
        else:
            summary.not_merged += 1
            old = syn_index.pop(key, None)
            if old is not None:
                syn_rows.remove(old)
                summary.replaced.append(old["rule_id"])
            if key in dnm_index:
                continue
            row = {
                "rule_id": new_dnm(),
                "kind": "pair",
                "id_a": pair["指标编号A"],
                "name_a": pair["指标名称A"],
                "id_b": pair["指标编号B"],
                "name_b": pair["指标名称B"],
                "pattern": pair["差异模式"],
                "year": str(year),
                "source": source,
                "note": f"合并审核（第{pair['row']}行）决定不合并",
            }
            dnm_rows.append(row)
            dnm_index[key] = row
            summary.new_do_not_merge.append(row["rule_id"])

    write_review_rules(rules_dir, syn_rows, dnm_rows)
    return summary


def write_review_rules(
    rules_dir: Path, synonyms: list[dict[str, str]], do_not_merge: list[dict[str, str]]
) -> None:
    """Write PATH/rules/synonyms.csv and do_not_merge.csv (sorted by rule id, fixed columns)."""
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
