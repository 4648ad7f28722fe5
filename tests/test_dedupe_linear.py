"""Consolidation's review list at 1M rows without work that grows faster than the pairs (issue 15): the same
outputs as the ways they replace.
- blocking._first_of_pairs: the generated pairs deduplicated by one integer key, as pandas' stable sort by
  (i, j, -cosine) and drop_duplicates(keep first) did;
- candidates._worth_scoring compares integer codes, as the texts compared before;
- candidates._frame builds each column in its dtype, as the object frame converted afterwards;
- build._sorted_without takes the sorted kept rows once, as sort_candidates then drop_one_table_pairs did;
- ordering._sort_order's combined keys order as pandas; the pairs of one pattern share its text;
- gc_policy.collector_paused gives the collector back as it was; PairSpans.taken reads the pairs as one call each.
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest
from rapidfuzz import fuzz, process

from pipelines.common import gc_policy
from pipelines.consolidate.build import _sorted_without
from pipelines.dedupe import candidates as cand
from pipelines.dedupe.blocking import BlockingConfig, _first_of_pairs
from pipelines.dedupe.features import pair_feature_matrix
from pipelines.dedupe.ordering import _sort_order, _sort_order_pandas, sort_candidates
from pipelines.dedupe.same_table import drop_one_table_pairs, one_table_pairs
from pipelines.dedupe.table import RowTable
from pipelines.dedupe.vocabulary import generic_pairs
from pipelines.normalize.canonical import pattern_key
from tests.dedupe_fixtures import random_pairs
from tests.test_same_table_codes import _random_case


@pytest.mark.parametrize("seed", range(6))
def test_first_of_pairs_as_pandas_sort_and_drop_duplicates(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5000
    q, c = rng.integers(0, 60, n), rng.integers(0, 60, n)
    # Few distinct cosines: ties within a pair, whose first found must win; 1.0 as the exact passes give.
    s = rng.choice(np.array([0.05, 0.3, 0.3001, 1.0], dtype=np.float32), n)
    i, j = np.minimum(q, c), np.maximum(q, c)
    frame = pd.DataFrame({"i": i, "j": j, "cosine": s, "found": np.arange(n)})
    frame = frame.sort_values(["i", "j", "cosine"], ascending=[True, True, False], kind="stable")
    want = frame.drop_duplicates(["i", "j"]).reset_index(drop=True)
    first = _first_of_pairs(i, j, s)
    assert len(want) < n // 2  # many repeated pairs: the choice among them is tested
    np.testing.assert_array_equal(first, want["found"].to_numpy())
    assert s[first].dtype == np.float32
    empty = np.array([], dtype=np.int64)
    assert len(_first_of_pairs(empty, empty, np.array([], dtype=np.float32))) == 0


def _worth_by_text(t: RowTable, a: np.ndarray, b: np.ndarray, cfg: BlockingConfig) -> cand._Worth:
    """_worth_scoring as it was: the texts compared as objects."""
    same_id = (t.ids[a] == t.ids[b]) & (t.ids[a] != "")
    certain = (
        (t.form[a] == t.form[b])
        & (t.unit[a] == t.unit[b])
        & (t.scope[a] == t.scope[b])
        & (t.level2[a] == t.level2[b])
        & (t.fclass[a] == t.fclass[b])
    )
    keep = ~same_id & ~certain
    best = np.zeros(len(a))
    ka, kb = a[keep], b[keep]
    ordered = np.array(["".join(sorted(f)) for f in t.forms], dtype=object)[t.form]
    ratios = [
        process.cpdist(list(text[ka]), list(text[kb]), scorer=fuzz.ratio, workers=1)
        for text in (t.match, ordered, t.canonical)
    ]
    for scores in ratios:
        best[keep] = np.maximum(best[keep], scores)
    enough = best >= cfg.min_name_score
    low = np.flatnonzero(keep & ~enough)
    if len(low):
        enough[low] = generic_pairs(t.canonical, a[low], b[low])
    chosen = enough[keep]
    return cand._Worth(keep & enough, ratios[0][chosen], ratios[1][chosen])


def test_worth_scoring_by_codes_as_by_texts() -> None:
    _, t, a, b = random_pairs(400, 6000, 300, seed=11)
    # Some ids blank (no id: never one indicator), some pairs of one id, filed alike and differently.
    ids = t.ids.copy()
    ids[::7] = ""
    t = RowTable(**{**t.__dict__, "ids": ids})
    same = np.flatnonzero(t.ids[a] == t.ids[b])
    cfg = BlockingConfig()
    want = _worth_by_text(t, a, b, cfg)
    got = cand._worth_scoring(t, a, b, cfg)
    assert len(same) and want.keep.any() and not want.keep.all()
    # Pairs kept only by their canonical words (the written names under the bound): the third ratio, which
    # _worth_scoring computes for those pairs alone, is exercised.
    ordered = np.array(["".join(sorted(f)) for f in t.forms], dtype=object)[t.form]
    written = np.maximum(
        *(process.cpdist(list(x[a]), list(x[b]), scorer=fuzz.ratio) for x in (t.match, ordered))
    )
    canonical = process.cpdist(list(t.canonical[a]), list(t.canonical[b]), scorer=fuzz.ratio)
    by_canonical = (written < cfg.min_name_score) & (canonical >= cfg.min_name_score)
    assert (want.keep & by_canonical).sum() >= 10
    for field in ("keep", "ratio", "order"):
        np.testing.assert_array_equal(getattr(got, field), getattr(want, field))


def test_frame_columns_in_their_dtypes_as_the_object_frame_converted() -> None:
    _, t, a, b = random_pairs(300, 500, 20, seed=5)
    rng = np.random.default_rng(2)
    n = len(a)
    columns = {
        "score": rng.random(n) * 120 - 10,
        "name_score": rng.random(n) * 100,
        "definition_score": np.where(rng.random(n) < 0.3, np.nan, rng.random(n) * 100),
        "cosine": rng.random(n).astype(np.float32),
        "likely": rng.random(n) < 0.4,
    }
    texts = np.array([f"理由{k % 17}" for k in range(n)], dtype=object)
    described = cand.Described(list(range(n)), list(texts), list(texts[::-1]), texts, texts[::-1].copy())
    got = cand._frame(t, a, b, columns, described)
    old = pd.DataFrame({c: got[c].to_numpy(dtype=object) for c in got.columns}, dtype=object)
    old["score"] = np.round(np.clip(columns["score"], 0.0, 100.0), 1)
    old["cosine"] = np.round(columns["cosine"].astype(float), 3)
    old = old.astype(object)
    for column in ("score", "name_score", "definition_score", "cosine"):
        old[column] = old[column].astype(float)
    old["likely"] = old["likely"].astype(bool)
    pd.testing.assert_frame_equal(got, old, check_exact=True)
    assert list(got.columns) == cand.CANDIDATE_COLUMNS
    assert got["id_a"].dtype == object and got["likely"].dtype == bool


@pytest.mark.parametrize("seed", range(6))
def test_sorted_without_as_sort_then_drop(seed: int) -> None:
    found, usages = _random_case(seed, categorical=seed % 2 == 1)
    rng = np.random.default_rng(seed)
    found = found.assign(
        pattern_group=found["pattern"],
        name_a=found["id_a"],
        name_b=found["id_b"],
        score=np.round(rng.random(len(found)) * 100, 0),  # ties: the later keys decide
    )
    want = drop_one_table_pairs(sort_candidates(found), usages)
    drop = one_table_pairs(found, usages)
    assert drop is not None and drop.any()
    pd.testing.assert_frame_equal(_sorted_without(found, drop), want, check_exact=True)
    # Nothing dropped (no usage): the sorted list as it is.
    none = one_table_pairs(found, usages.iloc[:0])
    assert none is None
    pd.testing.assert_frame_equal(_sorted_without(found, none), sort_candidates(found), check_exact=True)


def test_collector_paused_restores_the_collector_as_it_was() -> None:
    assert gc.isenabled()
    with gc_policy.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_policy.collector_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_policy.collector_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


def test_pair_spans_taken_as_one_call_each() -> None:
    words, t, a, b = random_pairs(300, 2000, 40, 5)
    spans = pair_feature_matrix(words, t.sides(a), t.sides(b)).name_spans
    spans.put(np.array([7, 9]), [(("x", "y", 0, 1),), ()])  # read segments beside the pairs of one name
    pairs = np.array([9, 3, 7, 0, 7, *range(20, 1900, 3)])
    got = spans.taken(pairs)
    assert got == [spans[int(k)] for k in pairs]
    assert got[0] == () and got[2] == (("x", "y", 0, 1),) and got.count(None) < len(got)


@pytest.mark.parametrize("seed", range(4))
def test_sort_order_by_combined_keys_as_pandas(seed: int) -> None:
    """Distinct id pairs (the names never ranked), many groups and patterns with tied best scores and sizes."""
    rng = np.random.default_rng(seed)
    n = 3000
    ids = np.array([f"ZB{k:05d}" for k in rng.permutation(n * 2)], dtype=object)
    group = rng.integers(0, 40, n)
    frame = pd.DataFrame(
        {
            "id_a": ids[:n],
            "name_a": ids[:n],
            "id_b": ids[n:],
            "name_b": ids[n:],
            "score": rng.choice([40.0, 55.5, 90.0, 100.0], n),
            "pattern": np.array(
                [f"p{g}-{k}" for g, k in zip(group, rng.integers(0, 3, n), strict=True)], dtype=object
            ),
            "pattern_group": np.array([f"g{g}" for g in group], dtype=object),
        }
    )
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame))  # type: ignore[arg-type]


def test_pairs_share_their_pattern_text() -> None:
    keys: dict[str, tuple[str, str]] = {}
    first = ["".join(["湿", "→", "耕"]), "∅→新增", "".join(["湿", "→", "耕"])]
    patterns, groups = cand._pattern_groups(first, keys)
    assert patterns == first and patterns[0] is patterns[2] and first[0] is not first[2]
    again, _ = cand._pattern_groups(["".join(["∅", "→新增"])], keys)  # a later chunk: the text seen first
    assert again[0] is patterns[1]
    assert groups == [pattern_key(p) for p in first]
