"""The review list's order (sort_candidates): likeliest first, pairs with one difference pattern together.

Moved out of candidates.py (which re-exports it) to keep that module small; the order is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas._libs import lib

from pipelines.common.xlsx_numbering import factorize_texts

Coded = dict[str, tuple[np.ndarray, np.ndarray]]  # column → (codes, distinct values), as pd.factorize


def sort_candidates(
    candidates: pd.DataFrame, coded: Coded | None = None, known: ReviewOrder | None = None
) -> pd.DataFrame:
    """Likeliest first, pairs with the same difference pattern together: patterns ordered by their best
    score, then by size; best score first within a pattern.

    `coded`, a dict, receives the text columns the sort factorized as pd.factorize reads them in the
    sorted frame (the merge review would factorize them again: 0.35 s at 300k pairs). `known`: this
    frame's review_order, made earlier (the report makes it while the library page's child runs); it is
    used up here (emptied)."""
    if candidates.empty:
        return candidates.reset_index(drop=True)
    known = review_order(candidates) if known is None else known
    order = known.order
    if len(order) != len(candidates):
        raise ValueError("the review order was made for another list of pairs")
    if coded is not None:
        for column, (codes, distinct) in known.seen.items():
            again, firsts = pd.factorize(codes[order])  # integers: cheap; first appearance, as sorted
            coded[column] = (np.asarray(again, dtype=np.intp), distinct[firsts])
    # Used once: let go here, though the caller may still hold the object (the report's, ≈ 60 MiB at 1M rows,
    # would otherwise live on through merge_review.xlsx's writing, whose peak is the report's after the fork).
    known.order, known.seen = np.zeros(0, dtype=np.intp), {}
    return candidates.iloc[order].reset_index(drop=True)  # one take of the wide frame, not three copies


@dataclass
class ReviewOrder:
    """sort_candidates' order of a list of pairs, and the text columns it factorized (with those asked for
    beside them) as factorize_texts reads them in the list's own order; `seen` is empty where pandas'
    own sort made the order (a text column with a missing value)."""

    order: np.ndarray
    seen: Coded


def review_order(candidates: pd.DataFrame, also: tuple[str, ...] = ()) -> ReviewOrder:
    """The order sort_candidates gives `candidates`, with the factorizations sort_candidates(coded=…)
    hands on; `also`: more text columns factorized (those of them holding only texts are kept)."""
    seen: Coded = {}
    order = _sort_order(candidates, seen) if len(candidates) else np.zeros(0, dtype=np.intp)
    if order is None:  # a text column with a missing value: pandas' own sort, no factorizations
        return ReviewOrder(_sort_order_pandas(candidates), {})
    for column in also:
        if column in seen or column not in candidates.columns:
            continue
        codes, distinct = factorize_texts(candidates[column].to_numpy(dtype=object))
        if len(codes) and codes.min() >= 0:  # a missing value: the writer finds it itself
            seen[column] = (codes, np.asarray(distinct, dtype=object))
    return ReviewOrder(order, seen)


def sort_order(candidates: pd.DataFrame) -> np.ndarray:
    """The positions of sort_candidates' order (a caller that filters the list takes its rows once)."""
    order = _sort_order(candidates)
    return _sort_order_pandas(candidates) if order is None else order


_SORT_TEXTS = ("pattern_group", "pattern", "id_a", "id_b", "name_a", "name_b")


def _text_rank(values: pd.Series, seen: Coded | None = None) -> np.ndarray | None:
    """Each value's rank among the distinct values in code-point order (None: not all text); the
    factorization kept in `seen` under the column's name."""
    # Python's hash, not pd.factorize's UTF-8 table: that one leaves each name's UTF-8 cached in the str
    # for as long as the pairs live, up to the report (xlsx_numbering.factorize_texts).
    codes, distinct = factorize_texts(values.to_numpy(dtype=object))
    distinct = np.asarray(distinct, dtype=object)
    if (codes < 0).any() or not lib.is_string_array(distinct):
        return None
    if seen is not None:
        seen[str(values.name)] = (codes, distinct)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[_text_order(distinct)] = np.arange(len(distinct))
    return rank[codes]


def _text_order(distinct: np.ndarray) -> np.ndarray:
    """The order of distinct texts by code point. Arrow sorts their UTF-8 bytes, the same order (UTF-8
    keeps code-point order) in C: 3x faster than comparing the str objects (300k pairs: 0.28 vs 0.08 s
    for the patterns). A text UTF-8 cannot encode (a lone surrogate) leaves it to numpy's compare."""
    try:
        texts = pa.array(distinct, type=pa.string())
    except (pa.ArrowException, UnicodeError):
        return np.argsort(distinct, kind="stable")
    return np.asarray(pc.array_sort_indices(texts).to_numpy(), dtype=np.intp)


def _sort_order(candidates: pd.DataFrame, seen: Coded | None = None) -> np.ndarray | None:
    """sort_candidates' order as one stable lexsort over ranks (pandas' multi-key sort, without its
    per-key conversions). The names, the last keys, are ranked only when two rows share both ids (never in a
    list of distinct pairs): elsewhere they decide nothing, and ranking them was a quarter of the sort."""
    found = {c: _text_rank(candidates[c], seen) for c in _SORT_TEXTS[:4]}
    score = candidates["score"].to_numpy(dtype=float)
    ranks = {c: r for c, r in found.items() if r is not None}
    if len(ranks) < len(found) or np.isnan(score).any():
        return None
    by_ids = np.sort(ranks["id_a"] * (int(ranks["id_b"].max(initial=0)) + 1) + ranks["id_b"])
    if (by_ids[1:] == by_ids[:-1]).any():  # np.unique hashes: 20x slower than a sort here
        for column in _SORT_TEXTS[4:]:
            rank = _text_rank(candidates[column], seen)
            if rank is None:
                return None
            ranks[column] = rank
    group = ranks["pattern_group"]
    size = np.bincount(group)
    best = np.full(len(size), -np.inf)
    np.maximum.at(best, group, score)
    # Keys that follow one another as one integer (a lexsort pass per key: 7 passes over 1.4M pairs at 1M
    # rows were most of the sort): each group's place by best score, size and text, then the pattern's rank;
    # the ids' ranks. Ranks are below the pairs' number, so the products stay far inside int64.
    place = np.empty(len(size), dtype=np.int64)
    place[np.lexsort((np.arange(len(size)), -size, -best))] = np.arange(len(size))
    pattern = ranks["pattern"]
    head = place[group] * (int(pattern.max(initial=0)) + 1) + pattern
    ids = ranks["id_a"] * (int(ranks["id_b"].max(initial=0)) + 1) + ranks["id_b"]
    # lexsort: the last key is the first
    keys = [ranks[c] for c in reversed(_SORT_TEXTS[4:]) if c in ranks]
    return np.lexsort([*keys, ids, -score, head])


def _sort_order_pandas(candidates: pd.DataFrame) -> np.ndarray:
    groups = candidates.groupby("pattern_group")
    size = groups["pattern_group"].transform("size")
    best = groups["score"].transform("max")
    keys = candidates.assign(_best=-best, _size=-size, _score=-candidates["score"])[
        ["_best", "_size", "pattern_group", "pattern", "_score", "id_a", "id_b", "name_a", "name_b"]
    ]
    return keys.reset_index(drop=True).sort_values(list(keys.columns), kind="stable").index.to_numpy()
