"""Candidates: likely duplicates for a person to decide (merge_review.xlsx).

A wrong merge silently corrupts two departments' indicators, a missed one only leaves a duplicate, so only
key equality merges automatically (pipelines/normalize/keys.py). Everything fuzzier is a candidate:
1. generation (pipelines/dedupe/blocking.py): never all pairs, no walls between scopes or classes, names
   compared in canonical words (vocabulary.py, schemas/reference/measure_synonyms.csv);
2. scoring (pipelines/dedupe/scoring.py): by default the logistic pair model (model.py over features.py),
   whose coefficients are data (schemas/reference/pair_model.json);
3. each listed pair gets a Chinese reason (reasons.py) and its difference pattern ("湿→耕", patterns.py),
   so that one decision on the review sheet can cover every pair with the same pattern. The sheet
   (review.py) offers 合并 / 不合并 / 设为共性指标.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from pipelines.common import halves
from pipelines.common.frames import combination_codes
from pipelines.common.gc_policy import collector_paused
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs, prepare_rows, rank_rows
from pipelines.dedupe.described import NO_TEXTS, Described, PackedReasons, join_described, joined, texts_of
from pipelines.dedupe.features import COLUMN, FEATURES, PairFeatures, definition_forms, pair_feature_matrix
from pipelines.dedupe.ordering import _sort_order as _sort_order
from pipelines.dedupe.ordering import _sort_order_pandas as _sort_order_pandas
from pipelines.dedupe.ordering import sort_candidates
from pipelines.dedupe.patterns import EMPTY, SAME_NAME, Span, spans_of
from pipelines.dedupe.reasons import Difference, flags, reasons
from pipelines.dedupe.scoring import ModelScoring, Scoring, definition_score, name_score
from pipelines.dedupe.table import RowTable
from pipelines.dedupe.vocabulary import generic_pairs
from pipelines.normalize.canonical import MatchRules, default_rules, pattern_key

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
_NUMERIC = ("score", "name_score", "definition_score", "cosine")
# Pairs described at a time (_describe): bounds the per-segment lists; the descriptions are per pair.
DESCRIBE_CHUNK = 65_536
# The forked child's share of the pairs described: its 理由 are packed, pickled and read back by the parent,
# so with half it ended last (1M rows, 1.4M pairs: the parent's half 8.1 s, the child's 9.9 s and ≈ 1 s more
# until its answer was read).
DESCRIBE_CHILD_SHARE = 0.44


def empty_candidates() -> pd.DataFrame:
    """No candidates, with CANDIDATE_COLUMNS and their dtypes."""
    return pd.DataFrame(
        {
            c: pd.Series(dtype=float if c in _NUMERIC else bool if c == "likely" else str)
            for c in CANDIDATE_COLUMNS
        }
    )


def _oriented(rows: pd.DataFrame, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, B, cosine) of each generated pair, A = the side to keep (rank_rows)."""
    rank = rank_rows(rows)
    i0 = pairs["i"].to_numpy()
    j0 = pairs["j"].to_numpy()
    first = rank[i0] <= rank[j0]
    return np.where(first, i0, j0), np.where(first, j0, i0), pairs["cosine"].to_numpy()


@dataclass(frozen=True)
class _Worth:
    """The pairs worth scoring, and fuzz.ratio of their names as written and in sorted characters."""

    keep: np.ndarray
    ratio: np.ndarray
    order: np.ndarray


def _worth_scoring(t: RowTable, a: np.ndarray, b: np.ndarray, cfg: BlockingConfig) -> _Worth:
    """Pairs that are neither one indicator nor a certain (same-key) merge, and share enough of their names
    (as written, in another order, or in canonical words), or are a generic and a qualified name: a cheap bound
    before the features."""
    # Equal texts as equal integer codes (one per row): object comparisons of 2.3M pairs (1M rows) cost 1.4 s.
    ids, blank = pd.factorize(t.ids)[0], t.ids == ""
    key = combination_codes([pd.Series(c) for c in (t.form, t.unit, t.scope, t.level2, t.fclass)])[0]
    same_id = (ids[a] == ids[b]) & ~blank[a]
    certain = key[a] == key[b]
    keep = ~same_id & ~certain
    ka, kb = a[keep], b[keep]
    ordered = np.array(["".join(sorted(f)) for f in t.forms], dtype=object)[t.form]
    ratios = [_ratios(text, ka, kb) for text in (t.match, ordered)]
    enough = np.zeros(len(a), dtype=bool)
    enough[keep] = np.maximum(ratios[0], ratios[1]) >= cfg.min_name_score
    # The canonical words only for the pairs the written names did not pass: nearly none of the blocks'
    # pairs (1M rows: 2.3M pairs, ≈ 1 s of the matcher's cores saved).
    rest = np.flatnonzero(keep & ~enough)
    if len(rest):
        enough[rest] = _ratios(t.canonical, a[rest], b[rest]) >= cfg.min_name_score
    # A generic name against a qualified one (接种率 / 适龄儿童…接种率) shares too few characters for the bound.
    low = np.flatnonzero(keep & ~enough)
    if len(low):
        enough[low] = generic_pairs(t.canonical, a[low], b[low])
    chosen = enough[keep]
    return _Worth(keep & enough, ratios[0][chosen], ratios[1][chosen])


def _ratios(text: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """fuzz.ratio of each pair's texts. workers=-1: rapidfuzz compares the pairs on every core, outside the GIL
    (each pair's ratio its own); one thread with INDICATORS_THREADS=0 (halves.workers)."""
    return process.cpdist(list(text[a]), list(text[b]), scorer=fuzz.ratio, workers=halves.workers(len(a)))


def _differences(
    t: RowTable, a: np.ndarray, b: np.ndarray, rules: MatchRules, spans: list[tuple[Span, ...] | None]
) -> tuple[list[int], Difference]:
    """The pairs a reviewer did not refuse (rules do-not-merge), and how their names differ: the segments of
    all pairs flattened, each pair's pattern their texts summed in one C loop (np.add.reduceat)."""
    match, ids = t.match, t.ids
    pairs = zip(spans, t.match[a].tolist(), t.match[b].tolist(), strict=True)
    ops = [spans_of(name_b, name_a) if s is None else s for s, name_a, name_b in pairs]
    count = np.fromiter(map(len, ops), dtype=np.int64, count=len(ops))
    flat = list(chain.from_iterable(ops))
    start = np.cumsum(count) - count
    has = np.flatnonzero(count)
    texts = np.array([f"{x or EMPTY}→{y or EMPTY}" for x, y, _, _ in flat], dtype=object)
    later = np.ones(len(flat), dtype=bool)
    later[start[has]] = False  # a pair's first segment: no separator before it
    texts[later] = "；" + texts[later]
    patterns = np.full(len(ops), SAME_NAME, dtype=object)
    first = np.full(len(ops), "", dtype=object)
    changed = np.zeros(len(ops), dtype=np.int64)
    if len(flat):
        patterns[has] = np.add.reduceat(texts, start[has])
        first[has] = [flat[k][0] or flat[k][1] for k in start[has].tolist()]
        width = np.fromiter((max(len(x), len(y)) for x, y, _, _ in flat), dtype=np.int64, count=len(flat))
        changed = np.bincount(np.repeat(np.arange(len(ops)), count), weights=width, minlength=len(ops))
        changed = changed.astype(np.int64)
    kept = list(range(len(ops)))
    if rules.has_do_not_merge:
        kept = [
            n
            for n, ia, ib in zip(kept, a.tolist(), b.tolist(), strict=True)
            if not rules.blocked(ids[ia], match[ia], ids[ib], match[ib], patterns[n])
        ]
    sel = np.asarray(kept, dtype=np.int64)
    return kept, Difference(patterns[sel], count[sel], changed[sel], first[sel])


def _describe(
    t: RowTable,
    a: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    score: np.ndarray,
    rules: MatchRules,
    spans: list[tuple[Span, ...] | None],
) -> Described:
    """Pattern, reason and flags of each pair; pairs a reviewer refused (rules do-not-merge) left out.
    spans: per pair, the differing segments of its names when the features read them already (else None).
    Each pair's description is its own: the pairs are described in two halves on two cores (halves.py),
    each half in chunks of DESCRIBE_CHUNK pairs (the per-segment work of a whole half held at once was the
    step's memory peak)."""

    split = halves.split_of(len(a)) or halves.child_beside(
        len(a), halves.DESCRIBE_CHILD_ADDS_MIB, halves.DESCRIBE_CHILD_MAX_PAIRS
    )

    def part(lo: int, hi: int) -> Described:
        keys: dict[str, tuple[str, str]] = {}  # the patterns seen so far and their keys, across chunks
        # A forked child's half (the second) holds its 理由 compressed, chunk by chunk, and sends them so: as
        # str they were most of what the child added to the process tree (1M rows: ≈ 0.2 GiB, twice with
        # the answer pickled).
        packed = PackedReasons() if split == "fork" and lo > 0 else None
        starts = list(range(lo, hi, DESCRIBE_CHUNK)) or [lo]
        chunks = []
        for s, e in zip(starts, [*starts[1:], hi], strict=True):
            chunk = _describe_part(t, a[s:e], b[s:e], x[s:e], score[s:e], rules, spans[s:e], keys)
            if packed is not None:
                packed.add(texts_of(chunk.reasons))
                chunk.reasons = NO_TEXTS
            chunks.append(chunk)
        joined_chunks = joined(chunks, [s - lo for s in starts])
        if packed is not None:
            joined_chunks.reasons = packed
        return joined_chunks

    return halves.in_halves(part, len(a), join_described, split=split, child_share=DESCRIBE_CHILD_SHARE)


def _describe_part(
    t: RowTable,
    a: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    score: np.ndarray,
    rules: MatchRules,
    spans: list[tuple[Span, ...] | None],
    keys: dict[str, tuple[str, str]],
) -> Described:
    kept, difference = _differences(t, a, b, rules, spans)
    if not kept:
        none = np.array([], dtype=object)
        return Described([], [], [], none, none)
    sel = np.asarray(kept, dtype=np.int64)
    side_a, side_b = t.side(a[sel]), t.side(b[sel])
    x = halves.rows_taken(x, sel)
    patterns, groups = _pattern_groups(difference.pattern.tolist(), keys)
    return Described(
        kept,
        patterns,
        groups,
        reasons(difference, x, side_a, side_b, score[sel]),
        flags(x, side_a, side_b),
    )


def _pattern_groups(patterns: list[str], keys: dict[str, tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Each pattern as one text per distinct pattern, and its pattern_key, computed once per distinct pattern
    (keys: those known, added to). The pairs share their pattern's text: 1.4M texts made one per pair at 1M
    rows held ≈ 80 MB more, and the sort's hashing read each of them."""
    keys.update((p, (p, pattern_key(p))) for p in set(patterns).difference(keys))
    found = [keys[p] for p in patterns]
    return [p for p, _ in found], [g for _, g in found]


def _frame(
    t: RowTable, a: np.ndarray, b: np.ndarray, columns: dict[str, np.ndarray], d: Described
) -> pd.DataFrame:
    """CANDIDATE_COLUMNS of the described pairs (a, b already narrowed to them)."""
    # Text columns stay Python objects: they point at the strings above instead of copying each pair's text
    # (hundreds of thousands of pairs at national scale).
    data = {
        "id_a": t.ids[a],
        "name_a": t.names[a],
        "id_b": t.ids[b],
        "name_b": t.names[b],
        "score": np.round(np.clip(columns["score"], 0.0, 100.0), 1),
        "reason": d.reasons,
        "pattern": d.patterns,
        "pattern_group": d.groups,
        "name_score": np.round(columns["name_score"].astype(float), 1),
        "definition_score": np.round(columns["definition_score"].astype(float), 1),
        "cosine": np.round(columns["cosine"].astype(float), 3),
        "unit_a": t.unit[a],
        "unit_b": t.unit[b],
        "suffix_a": t.suffix[a],
        "suffix_b": t.suffix[b],
        "flags": d.flags,
        "scope_a": t.scope[a],
        "scope_b": t.scope[b],
        "level2": t.level2[a],
        "origin_a": t.origin[a],
        "origin_b": t.origin[b],
        "level2_b": t.level2[b],
        "class_a": t.fclass[a],
        "class_b": t.fclass[b],
        "likely": columns["likely"],
    }
    # Each column in its dtype at once: the numbers are not boxed as Python floats and converted back.
    out = pd.DataFrame(
        {
            c: pd.Series(v, dtype=float if c in _NUMERIC else bool if c == "likely" else object)
            for c, v in data.items()
        },
        columns=CANDIDATE_COLUMNS,
    )
    return out


def _features(t: RowTable, a: np.ndarray, b: np.ndarray, worth: _Worth, scoring: Scoring) -> PairFeatures:
    """The feature matrix of pairs (a, b): each pair's row is its own, so the pairs are computed in two
    halves on two cores (halves.py: a forked child, else a thread — the features' rapidfuzz and numpy work
    releases the GIL), each half's rows written into one matrix (in shared memory for a child)."""
    alive = scoring.alive()
    split = halves.split_of(len(a), threads=True, child_most=halves.FEATURES_CHILD_MAX_PAIRS)
    # Split: each half writes its rows into one matrix (shared with a forked child), no concatenation.
    shared = halves.shared_rows(len(a), len(FEATURES)) if split == "fork" else None
    if split == "thread":
        shared = halves.columns(len(a), len(FEATURES))
    # A forked child's explanation forms are lost with it: at a province's size (200k explanations, past the
    # text cache) both halves made nearly all of them, 1.0–1.4 s each. Made once here, in halves.
    forms = definition_forms(t.definitions.tolist(), in_halves=True) if split == "fork" else None

    def part(lo: int, hi: int) -> PairFeatures:
        pa, pb = a[lo:hi], b[lo:hi]
        known = t.known(pa, pb, worth.ratio[lo:hi], worth.order[lo:hi], forms)
        rows = None if shared is None else shared[lo:hi]  # written in place: no copy of a half's rows
        found = pair_feature_matrix(scoring.words, t.sides(pa), t.sides(pb), alive, known, rows)
        if shared is None:
            return found
        return PairFeatures(np.empty((0, len(FEATURES))), found.name_spans)  # the rows are in shared

    features = halves.in_halves(part, len(a), _join_features, split=split)
    return features if shared is None else PairFeatures(shared, features.name_spans)


def _join_features(first: PairFeatures, second: PairFeatures, h: int) -> PairFeatures:
    return PairFeatures(first.x[:0], first.name_spans + second.name_spans)


def _score_columns(
    x: np.ndarray, score: np.ndarray, cosine: np.ndarray, likely: float
) -> dict[str, np.ndarray]:
    """The numeric columns of the listed pairs (x, score, cosine narrowed to them)."""
    return {
        "score": score,
        "name_score": name_score(x),
        "definition_score": definition_score(x),
        "cosine": cosine,
        # A differing number (7月/11月, 第一/第二季度) is a different period or item: never marked likely.
        "likely": (score >= likely) & (x[:, COLUMN["number_diff"]] != 1),
    }


def _matcher_rows(new: pd.DataFrame, existing: pd.DataFrame | None, rules: MatchRules) -> pd.DataFrame:
    """The new indicators' rows, then the last release's, as the matcher reads them (prepare_rows)."""
    parts = [prepare_rows(new, "new", rules)]
    if existing is not None and len(existing):
        parts.append(prepare_rows(existing, "existing", rules))
    return pd.concat(parts, ignore_index=True)


def find_candidates(
    new: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    rules: MatchRules | None = None,
    config: BlockingConfig | None = None,
    scoring: Scoring | None = None,
    ordered: bool = True,
) -> pd.DataFrame:
    """Likely duplicates among new indicators and between new and last-release indicators.

    Input frames: one row per distinct indicator (cluster) with columns id, name, match_name, definition,
    unit_norm, scope, level1, level2, function_class (optional usage_count, name_norm). Pairs with the same
    key (same matching form, unit, scope, 二级 and, for 项目, class) are certain merges, not candidates; the
    same name filed under another 二级, scope or class is listed. Pairs a reviewer refused (rules
    do-not-merge) are left out. scoring (default ModelScoring(): the committed pair model) gives each pair
    its score (0–100), whether it is listed and whether it is marked likely (column likely, 可能性较高).
    Output: CANDIDATE_COLUMNS, A = the side to keep, likeliest first with pairs of one difference pattern
    together (sort_candidates; ordered=False: unsorted, for a caller that sorts a longer list anyway).
    """
    rules = rules or default_rules()
    cfg = config or BlockingConfig()
    scoring = scoring or ModelScoring()
    rows = _matcher_rows(new, existing, rules)
    pairs = generate_pairs(rows, cfg, scoring.words.near_synonyms)
    if pairs.empty:
        return empty_candidates()
    t = RowTable.of(rows, scoring.words.near_synonyms)
    a, b, cosine = _oriented(rows, pairs)
    del pairs
    worth = _worth_scoring(t, a, b, cfg)
    a, b, cosine = a[worth.keep], b[worth.keep], cosine[worth.keep]
    if not len(a):
        return empty_candidates()
    # Segments, texts and lists without cycles: collections rescanned what survives (consolidate_steps
    # at 1M rows: 3.1 s of collector CPU, 0.2 s at 100k).
    with collector_paused():
        features = _features(t, a, b, worth, scoring)
        del worth
        rank = rank_rows(rows)  # numbers the indicators whatever the order of the input rows
        scored = scoring.score(features.x, rank[a], rank[b])
        keep, likely = scored.keep, scored.likely
        x = halves.rows_taken(features.x, keep)
        a, b, cosine, score = a[keep], b[keep], cosine[keep], scored.score[keep]
        spans = features.name_spans.taken(np.flatnonzero(keep))
        # Every scored pair's features and segments (≈ 45 % never listed): freed before the descriptions.
        del features, scored
        if not len(a):
            return empty_candidates()
        described = _describe(t, a, b, x, score, rules, spans)
    if not described.kept:
        return empty_candidates()
    sel = np.asarray(described.kept, dtype=np.int64)
    columns = _score_columns(halves.rows_taken(x, sel), score[sel], cosine[sel], likely)
    found = _frame(t, a[sel], b[sel], columns, described)
    # The listed pairs' features, segments and descriptions are in the frame now: freed before its sort
    # copies it (at 1M rows ≈ 0.4 GiB of features and a tuple per pair).
    del x, spans, described, columns
    return sort_candidates(found) if ordered else found
