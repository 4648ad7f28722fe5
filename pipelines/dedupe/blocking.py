"""Candidate generation (blocking): which pairs of indicators are worth scoring at all.

Never all pairs, and no walls. Candidates are generated between distinct names (matching forms), in passes
whose union is kept, each linear in the rows. Similarity is measured on canonical stems (vocabulary.py:
near-synonyms written as one word, a trailing bracket off), so that 经费使用率 and 预算执行率 can meet:
1. the same name filed differently (another 二级指标, scope, function class or unit), and the same name in
   canonical words: every pair of a small group, else a star around its best-ranked indicator;
2. within each 二级指标, whatever the scope or function class, every new name's top_k most similar names
   (TF-IDF of character 1–3-grams, a sparse product in chunks);
3. across the whole library, every new name's top_k_global most similar names (the same measure filed
   under another 二级指标);
4. among the names of its measure head (the stem's last head_chars characters: 意度, 成本, 行率), every new
   name's top_k_head most similar names, whatever the 二级: two groups' 满意度, a generic name and a
   qualified one, which share too little of their names to meet in pass 3;
5. for a pair of two units, the copy of one name in the other's unit (unit_copies): passes 2–4 compare one
   row per name, and a name filed in 个 and in 篇 would otherwise meet a 篇 name only in 个;
6. every new name's top_k_common most similar 共性 names (a bureau-wide indicator against a project's own
   wording: 培训(参会)人次 / 完成护工培训任务), the 共性 names being few;
7. among cost rows (a unit in money and a cost word, or a value-only name: vocabulary.cost_text), every new
   name's top_k_cost most similar, cost words written as one mark (项目总成本 / 预算控制数 / 运行维护费).
In a very large block the n-grams shared by more than `df_cap` names (率, 完成率 …) are not used to *find*
pairs, which keeps the work linear. Function class and scope are properties of the usage, not walls.
Pairs of two last-release indicators are not generated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from pipelines.common import halves
from pipelines.dedupe.vocabulary import NearSynonymForm, cost_text, measure_head, measure_stem
from pipelines.normalize.canonical import MatchRules, normalize_name, normalize_unit


@dataclass(frozen=True)
class BlockingConfig:
    """Candidate generation settings. top_k 7 and top_k_global 4 (6 and 3 before) and unit_copies, with the pair
    model's listing threshold at recall_target 0.965 (0.98 before): leave-one-set-out cross-validation found two
    more duplicates and listed fewer non-duplicates than before (benchmarks/cv_match.py, "shipped" against
    "before h3"); a wider pass alone found one more and listed more non-duplicates. The 共性 and cost passes
    (top_k_common, top_k_cost) are off: each found no duplicate more and listed more pairs (cv_match, round 6);
    the cost rows are found through the cost near-synonyms instead (pair_model.COST_SYNONYMS)."""

    top_k: int = 7  # most similar names kept per new name within its 二级指标
    top_k_global: int = 4  # most similar names kept per new name across the library (another 二级指标)
    top_k_head: int = 10  # most similar names kept per new name among the names of its measure head
    head_chars: int = 2  # the measure head: this many last characters of the canonical stem
    exact_all: int = 4  # the same name in up to this many indicators: every pair listed, else a star
    min_cosine: float = (
        0.03  # TF-IDF similarity below which a pair is not even scored (top_k bounds the work)
    )
    ngram_range: tuple[int, int] = (1, 3)  # character n-grams of the TF-IDF vectors (single characters too)
    min_name_score: float = 25.0  # edit similarity (plain or word order) below which a pair is not scored
    df_cap: int = 400  # in larger blocks, n-grams in more names than this are not used to find pairs
    chunk: int = 2048  # query rows per sparse product
    unit_copies: bool = True  # a similar pair is also scored with the copy of a name in the other's unit
    top_k_common: int = 0  # most similar 共性 names kept per new name (0: no such pass)
    top_k_cost: int = 0  # most similar cost rows kept per new cost row, cost words as one mark (0: no pass)


def prepare_rows(frame: pd.DataFrame, origin: str, rules: MatchRules) -> pd.DataFrame:
    """Indicators as the matcher reads them: id, name, match_name, definition, unit_norm, scope, level1,
    level2, function_class, usage_count, origin ("new" or "existing"); missing columns are derived or empty."""
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
    for name in ("scope", "level1", "level2", "function_class"):
        out[name] = col(name)
    out["usage_count"] = (
        pd.to_numeric(src["usage_count"], errors="coerce").fillna(0).to_numpy()
        if "usage_count" in src.columns
        else 0
    )
    out["origin"] = origin
    return out


def texts(series: pd.Series) -> np.ndarray:
    """A text column as an object array (numpy's fixed-width unicode would cost 4 bytes x the longest value)."""
    return series.fillna("").astype(str).to_numpy(dtype=object)


def rank_rows(rows: pd.DataFrame) -> np.ndarray:
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


def _top_k_pairs(
    xq: sparse.csr_matrix, xc: sparse.csr_matrix, q_idx: np.ndarray, c_idx: np.ndarray, cfg: BlockingConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query global index, corpus global index, cosine) of each query's top-k corpus rows other than
    itself: most similar first, ties in the product's own order (which depends only on the inputs)."""
    out_q, out_c, out_s = [], [], []
    xc_t = xc.T.tocsr()
    own = _own_column(q_idx, c_idx)
    for start in range(0, xq.shape[0], cfg.chunk):
        sims = (xq[start : start + cfg.chunk] @ xc_t).tocsr()
        n = sims.shape[0]
        if not sims.nnz:
            continue
        # The top k of a row without the query itself and the entries under min_cosine are the first k of
        # its top k + 1 once those are taken out (taking out entries keeps the others' order): the filter
        # reads k + 1 entries per row instead of every product entry.
        rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(sims.indptr))
        chosen = row_top_k(rows, sims.data, n, cfg.top_k + 1)
        rows, cols, data = rows[chosen], sims.indices[chosen], sims.data[chosen]
        keep = (data >= cfg.min_cosine) & (cols != own[start : start + n][rows])
        rows, cols, data = rows[keep], cols[keep], data[keep]
        first = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") < cfg.top_k
        out_q.append(q_idx[start + rows[first]])
        out_c.append(c_idx[cols[first]])
        out_s.append(data[first])
    if not out_q:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float32)
    return np.concatenate(out_q), np.concatenate(out_c), np.concatenate(out_s)


def _own_column(q_idx: np.ndarray, c_idx: np.ndarray) -> np.ndarray:
    """Per query, the corpus column that is the query itself (-1: none); corpus indices are distinct."""
    order = np.argsort(c_idx, kind="stable")
    at = np.minimum(np.searchsorted(c_idx[order], q_idx), max(len(c_idx) - 1, 0))
    found = (c_idx[order][at] == q_idx) if len(c_idx) else np.zeros(len(q_idx), dtype=bool)
    return np.where(found, order[at] if len(c_idx) else -1, -1)


# Distinct names from which the first similarity pass runs in a forked child (≈ 0.4 s at 22k names; a
# city's 3k take ≈ 0.05 s, less than the fork and the answer cost).
PASSES_SPLIT_MIN = 10_000
# Distinct names up to which the first pass runs beside the others above background's fork gate (halves.split_of:
# 300k rows, 66k names; 1M rows, 207k, keep one thread: there its leftovers kept the process larger).
PASSES_THREAD_MAX = 150_000
RUNS_PER_K = 4  # row_top_k's bound: the k-th largest of 4k run maxima (tighter than the least of k)


def row_top_k(rows: np.ndarray, data: np.ndarray, n: int, k: int) -> np.ndarray:
    """Positions of each row's k largest values, entries grouped by row (rows non-decreasing, < n): ordered
    by row, then value descending, ties by position — a stable sort of all entries, cut at k per row.

    Only a few entries per row are sorted: split a row's entries into k runs; the least of their k maxima
    is k entries' lower bound, so nothing below it is among the row's k largest."""
    counts = np.bincount(rows, minlength=n)
    survivors = np.flatnonzero(data >= np.repeat(_run_bound(counts, data, k), counts))
    r, d = rows[survivors], data[survivors]
    # One float key (row, then descending value) sorts faster than a lexsort; stable: ties keep positions.
    order = np.argsort(r.astype(np.float64) + (1.0 - d.astype(np.float64)) * 0.5, kind="stable")
    r = r[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    return survivors[order[rank < k]]


def _run_bound(counts: np.ndarray, data: np.ndarray, k: int, runs_per_k: int = RUNS_PER_K) -> np.ndarray:
    """Per row (entries grouped by row, counts per row): a value at least k of its entries reach — the k-th
    largest of the maxima of m = k x runs_per_k consecutive runs of its entries (one entry of each run) —,
    -inf for a row of at most m entries (all kept). One reduceat over the run bounds, no scatter."""
    m = k * runs_per_k
    bound = np.full(len(counts), -np.inf, dtype=data.dtype)
    long = np.flatnonzero(counts > m)
    if not len(long):
        return bound
    starts, sizes = (np.cumsum(counts) - counts)[long], counts[long]
    # m runs and the row's end per row; the segment from the end to the next row's first run is not read.
    edges = starts[:, None] + (np.arange(m + 1) * sizes[:, None]) // m
    padded = np.append(data, data[:1])  # reduceat needs every start inside the array
    maxima = np.maximum.reduceat(padded, edges.ravel()).reshape(len(long), m + 1)[:, :m]
    bound[long] = -np.partition(-maxima, k - 1, axis=1)[:, k - 1]
    return bound


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


def _exact_pairs(form: np.ndarray, rank: np.ndarray, cfg: BlockingConfig) -> tuple[np.ndarray, np.ndarray]:
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
    small = (sizes > 2) & (sizes <= cfg.exact_all)
    for start, size in zip(starts[small], sizes[small], strict=True):
        members = order[start + 1 : start + size]
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                qi.append(members[x : x + 1])
                qj.append(members[y : y + 1])
    return np.concatenate(qi), np.concatenate(qj)


def _similar_pairs(
    x: sparse.csr_matrix,
    block: np.ndarray,
    k: int,
    inverse: np.ndarray,
    rank: np.ndarray,
    is_new: np.ndarray,
    cfg: BlockingConfig,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Within each block, every new name's k most similar names: (rows, rows, cosine) per block."""
    qs: list[np.ndarray] = []
    cs: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    reps, unit_form, unit_block, has_new = _units(block, inverse, x.shape[0], rank, is_new)
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
    return qs, cs, ss


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.array([], dtype=np.int64),
            "j": np.array([], dtype=np.int64),
            "cosine": np.array([], dtype=np.float32),
        }
    )


def canonical_stems(forms: np.ndarray, near_synonyms: Sequence[tuple[str, str]]) -> np.ndarray:
    """Per distinct matching form, its measure stem in canonical words (vocabulary.py)."""
    canon = NearSynonymForm(near_synonyms)
    return np.array([canon(measure_stem(f)) for f in forms], dtype=object)


def _tfidf(texts_: np.ndarray, cfg: BlockingConfig) -> sparse.csr_matrix | None:
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=cfg.ngram_range, lowercase=False, sublinear_tf=True, dtype=np.float32
    )
    try:
        return vectorizer.fit_transform(texts_).tocsr()
    except ValueError:  # only one-character names: nothing more to compare
        return None


def _passes(
    x: sparse.csr_matrix,
    passes: list[tuple[np.ndarray, int]],
    inverse: np.ndarray,
    rank: np.ndarray,
    is_new: np.ndarray,
    cfg: BlockingConfig,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The similarity passes' (rows, rows, cosine), pass after pass; with many names the first pass runs
    beside the others (halves.split_of: in a forked child under background's gate, else a thread — its
    sparse products hold the GIL ≈ 1/5 of their time): the same pairs in the same order."""

    def run(
        chosen: list[tuple[np.ndarray, int]],
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        out: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
        for block, k in chosen:
            for found, part in zip(out, _similar_pairs(x, block, k, inverse, rank, is_new, cfg), strict=True):
                found.extend(part)
        return out

    # Sparse products and numpy sorts release the GIL: above background's gate a thread overlaps them as well
    # as a child would (300k rows, 1.8 s either way).
    split = halves.split_of(
        x.shape[0], threads=True, child=False, least=PASSES_SPLIT_MIN, most=PASSES_THREAD_MAX
    )
    if not split and x.shape[0] > PASSES_THREAD_MAX:  # 1M rows: a child, whose leftovers leave with it
        split = halves.child_beside(
            x.shape[0], halves.PASSES_CHILD_ADDS_MIB, halves.PASSES_CHILD_MAX_NAMES, least=PASSES_SPLIT_MIN
        )
    if len(passes) < 2 or not split:
        return run(passes)
    first, rest = halves.beside(lambda: run(passes[:1]), lambda: run(passes[1:]), split)
    return first[0] + rest[0], first[1] + rest[1], first[2] + rest[2]


def _with_unit_copies(
    q: np.ndarray, c: np.ndarray, s: np.ndarray, form: np.ndarray, unit: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs and, for each pair of two units, the pairs of the copy of one name in the other's unit.

    The similarity passes pair one row per name (its best ranked, _units); a name filed in two units
    (完成调研报告数量 in 个 and in 篇) meets another (调研报告完成数量, 篇) only through the copy in the wrong
    unit, which the model scores as two measures. The copy in the other side's unit is the pair to look at:
    at most two more pairs per generated pair, found by one sorted look-up."""
    unit_code = pd.factorize(unit)[0]  # only equality is read: hashed, not sorted
    n_units = int(unit_code.max()) + 1 if len(unit_code) else 1
    key = form.astype(np.int64) * n_units + unit_code
    order = np.lexsort((rank, key))  # per (name, unit): its best-ranked row first
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]] if len(order) else np.array([], dtype=bool)
    keys, best = sorted_key[first], order[first]
    differ = np.flatnonzero(unit_code[q] != unit_code[c])
    if not len(differ) or not len(keys):
        return q, c, s
    extra_q, extra_c, extra_s = [q], [c], [s]
    for this, other in ((q, c), (c, q)):  # this side's name in the other side's unit
        wanted = form[this[differ]].astype(np.int64) * n_units + unit_code[other[differ]]
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[at] == wanted
        extra_q.append(best[at[found]])
        extra_c.append(other[differ[found]])
        extra_s.append(s[differ[found]])
    return np.concatenate(extra_q), np.concatenate(extra_c), np.concatenate(extra_s)


def _common_pairs(
    x: sparse.csr_matrix, rows: pd.DataFrame, inverse: np.ndarray, rank: np.ndarray, cfg: BlockingConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every new name's top_k_common most similar 共性 names (rows, rows, cosine): one query per name (its
    best-ranked row), one corpus entry per 共性 name (its best-ranked 共性 row); a name never meets itself."""
    empty = np.array([], dtype=np.int64)
    common = np.flatnonzero(rows["scope"].to_numpy() == "共性") if cfg.top_k_common else empty
    if not len(common):
        return empty, empty, np.array([], dtype=np.float32)
    is_new = (rows["origin"] == "new").to_numpy()
    zeros = np.zeros(len(rows), dtype=np.int64)
    reps, form, _, has_new = _units(zeros, inverse, x.shape[0], rank, is_new)
    c_reps, c_form, _, _ = _units(zeros[common], inverse[common], x.shape[0], rank[common], is_new[common])
    row_of = np.full(x.shape[0], -1, dtype=np.int64)
    row_of[form] = reps
    common_row_of = np.full(x.shape[0], -1, dtype=np.int64)
    common_row_of[c_form] = common[c_reps]
    q_form = form[has_new]
    xc = _capped(x[c_form], cfg.df_cap)
    q, c, s = _top_k_pairs(x[q_form], xc, q_form, c_form, replace(cfg, top_k=cfg.top_k_common))
    return row_of[q], common_row_of[c], s


def _cost_pairs(
    rows: pd.DataFrame, stems: np.ndarray, inverse: np.ndarray, rank: np.ndarray, cfg: BlockingConfig
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Among cost rows, every new name's top_k_cost most similar, cost words as one mark (rows, rows, cosine)."""
    if not cfg.top_k_cost:
        return [], [], []
    # One reading per distinct (name, unit, 二级): a Python call per row would cost seconds at 1M rows.
    unit_code, units = pd.factorize(texts(rows["unit_norm"]))
    level2_code, level2s = pd.factorize(texts(rows["level2"]))
    key = (inverse.astype(np.int64) * len(units) + unit_code) * max(len(level2s), 1) + level2_code
    distinct, at = np.unique(key, return_inverse=True)
    level2_of, rest = distinct % max(len(level2s), 1), distinct // max(len(level2s), 1)
    read = [
        cost_text(stems[f], units[u], level2s[v])
        for f, u, v in zip(rest // len(units), rest % len(units), level2_of, strict=True)
    ]
    marked = np.array(read, dtype=object)[at] if read else np.array([], dtype=object)
    cost = np.flatnonzero(marked != "")
    if len(cost) < 2:
        return [], [], []
    forms, inv = np.unique(marked[cost].astype(str), return_inverse=True)
    x = _tfidf(forms, cfg)
    if x is None:
        return [], [], []
    is_new = (rows["origin"] == "new").to_numpy()[cost]
    zeros = np.zeros(len(cost), dtype=np.int64)
    q, c, s = _similar_pairs(x, zeros, cfg.top_k_cost, inv, rank[cost], is_new, cfg)
    return [cost[p] for p in q], [cost[p] for p in c], s


def generate_pairs(
    rows: pd.DataFrame, cfg: BlockingConfig, near_synonyms: Sequence[tuple[str, str]] = ()
) -> pd.DataFrame:
    """Candidate row pairs over prepared rows (prepare_rows): columns i, j (row positions, i < j), cosine
    (1 for the same name filed differently). The passes of the module docstring, their union kept; the
    similarity passes compare canonical stems (near-synonyms written alike)."""
    if rows.empty or not (rows["origin"] == "new").any():
        return _empty_pairs()
    forms, inverse = np.unique(rows["match_name"].to_numpy(dtype=str), return_inverse=True)
    stems = canonical_stems(forms, near_synonyms)  # one per matching form: units stay distinct names
    stem = np.unique(stems.astype(str), return_inverse=True)[1][inverse]
    is_new = (rows["origin"] == "new").to_numpy()
    rank = rank_rows(rows)
    qs, cs, ss = [], [], []
    for codes in (inverse, stem):  # the same name, then the same name in canonical words
        ei, ej = _exact_pairs(codes, rank, cfg)
        qs.append(ei)
        cs.append(ej)
        ss.append(np.ones(len(ei), dtype=np.float32))
    x = _tfidf(stems, cfg)
    if x is not None:
        passes = [(pd.factorize(rows["level2"].to_numpy(dtype=str))[0], cfg.top_k)]
        if cfg.top_k_global:
            passes.append((np.zeros(len(rows), dtype=np.int64), cfg.top_k_global))
        if cfg.top_k_head:
            heads = pd.factorize(np.array([measure_head(s, cfg.head_chars) for s in stems], dtype=object))[0]
            passes.append((heads[inverse], cfg.top_k_head))
        q, c, s = _passes(x, passes, inverse, rank, is_new, cfg)
        qs.extend(q)
        cs.extend(c)
        ss.extend(s)
        q0, c0, s0 = _common_pairs(x, rows, inverse, rank, cfg)
        qs.append(q0)
        cs.append(c0)
        ss.append(s0)
    for found, part in zip((qs, cs, ss), _cost_pairs(rows, stems, inverse, rank, cfg), strict=True):
        found.extend(part)
    qa, ca, sa = np.concatenate(qs), np.concatenate(cs), np.concatenate(ss)
    if cfg.unit_copies:
        qa, ca, sa = _with_unit_copies(qa, ca, sa, inverse, texts(rows["unit_norm"]), rank)
    keep = (qa != ca) & (is_new[qa] | is_new[ca])
    q, c, s = qa[keep], ca[keep], sa[keep]
    if not len(q):
        return _empty_pairs()
    i, j = np.minimum(q, c), np.maximum(q, c)
    first = _first_of_pairs(i, j, s)
    return pd.DataFrame({"i": i[first], "j": j[first], "cosine": s[first]})


def _first_of_pairs(i: np.ndarray, j: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """Positions of the distinct pairs (i, j) in order, each with its highest cosine (ties: the first found):
    pandas' stable sort by i, j, -cosine and drop_duplicates(keep first), by one integer key (4.3M found
    pairs at 1M rows: 1.8 s of pandas' multi-key sort and hashing). One stable sort by the key, then per pair
    the first of its highest cosine: lexsort's second sort, by cosine, cost as much as the first (1.9 s
    against 1.1)."""
    key = i.astype(np.int64) * (int(j.max(initial=0)) + 1) + j
    order = np.argsort(key, kind="stable")  # stable: a pair's rows keep their found order
    if not len(order):
        return order
    sorted_key = key[order]
    starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group = np.cumsum(starts) - 1
    found = cosine[order]
    best = np.maximum.reduceat(found, np.flatnonzero(starts))
    top = np.flatnonzero(found == best[group])  # each pair's rows of its highest cosine, in found order
    return order[top[np.r_[True, group[top][1:] != group[top][:-1]]]]
