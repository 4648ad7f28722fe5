"""Consolidation's candidate step at scale (issue 15): cheaper and leaner, with the same review list.

- the listed pairs are described in chunks of DESCRIBE_CHUNK pairs (memory bounded per chunk): any chunk
  size gives exactly the list of one chunk, with and without reviewers' do-not-merge rules;
- sort_candidates ranks the names (its last keys) only when two rows share both ids: a list of distinct
  pairs sorts as pandas' full multi-key sort does, and where ids repeat the names still decide;
- candidate generation stays linear: the pairs per indicator do not grow with the library.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe import candidates as cand
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs, prepare_rows
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.ordering import _sort_order, _sort_order_pandas, sort_candidates
from pipelines.normalize.canonical import default_rules
from tests.dedupe_fixtures import clusters, refusing_rules


def test_described_in_chunks_equals_one_chunk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "0")
    frame = clusters(1500)
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    whole = find_candidates(new, existing, ordered=False)
    assert len(whole) > 180  # 193 since round 11 (counts_apart: counts of unrelated things)
    rules = refusing_rules(tmp_path, whole)
    whole_refused = find_candidates(new, existing, rules, ordered=False)
    assert 0 < len(whole_refused) < len(whole)
    calls: list[int] = []
    describe_part = cand._describe_part

    def counted(*args: object) -> object:
        calls.append(len(args[1]))  # type: ignore[arg-type]
        return describe_part(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cand, "_describe_part", counted)
    for size in (1, 37, 90):  # 90, not 100, since round 11: three chunks of 193 pairs
        monkeypatch.setattr(cand, "DESCRIBE_CHUNK", size)
        calls.clear()
        chunked = find_candidates(new, existing, ordered=False)
        assert len(calls) > 2 and max(calls) <= size  # really described chunk by chunk
        pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
        refused = find_candidates(new, existing, rules, ordered=False)
        pd.testing.assert_frame_equal(refused, whole_refused, check_exact=True)
    pd.testing.assert_frame_equal(sort_candidates(chunked), sort_candidates(whole), check_exact=True)


def _distinct_pairs(n: int, seed: int) -> pd.DataFrame:
    """Distinct (id_a, id_b) pairs whose names, scores and patterns tie often; names sort against the ids."""
    rng = np.random.default_rng(seed)
    ids = [f"ZB-{k:03d}" for k in range(40)]
    pairs = rng.choice(len(ids) * len(ids), size=n, replace=False)
    id_a = np.array([ids[p // len(ids)] for p in pairs], dtype=object)
    id_b = np.array([ids[p % len(ids)] for p in pairs], dtype=object)
    names = {i: f"名称{99 - k:02d}" for k, i in enumerate(ids)}
    pick = lambda values: rng.choice(np.array(values, dtype=object), size=n)  # noqa: E731
    return pd.DataFrame(
        {
            "id_a": id_a,
            "name_a": [names[i] for i in id_a],
            "id_b": id_b,
            "name_b": [names[i] for i in id_b],
            "score": rng.choice([40.0, 55.5, 90.0], size=n),
            "pattern": pick(["名称相同", "湿→耕", "∅→新增"]),
            "pattern_group": pick(["名称相同", "湿→耕"]),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distinct_pairs_sort_as_pandas_sorts_them(seed: int) -> None:
    frame = _distinct_pairs(600, seed)
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame))  # type: ignore[arg-type]
    frame.loc[5, "name_b"] = None  # a missing name cannot decide between distinct pairs
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame))  # type: ignore[arg-type]


def test_names_decide_between_rows_with_the_same_ids() -> None:
    frame = pd.DataFrame(
        {
            "id_a": ["A", "A", "A"],
            "name_a": ["指标b", "指标a", "指标c"],
            "id_b": ["B", "B", "C"],
            "name_b": ["x", "x", "x"],
            "score": [50.0, 50.0, 50.0],
            "pattern": ["p", "p", "p"],
            "pattern_group": ["g", "g", "g"],
        }
    )
    order = _sort_order(frame)
    assert order is not None and order.tolist() == [1, 0, 2]  # 指标a before 指标b, then the pair with C
    assert np.array_equal(order, _sort_order_pandas(frame))
    frame.loc[0, "name_a"] = None  # with repeated ids a missing name falls back to pandas' sort
    assert _sort_order(frame) is None


def test_pairs_per_indicator_do_not_grow_with_the_library() -> None:
    """Generation is linear: three times the indicators give about three times the pairs (top-k passes,
    stars for large same-name groups), not nine."""
    rules = default_rules()
    counts = []
    for rows in (10000, 30000):
        generated = clusters(rows, seed=5)
        prepared = prepare_rows(generated, "new", rules)
        counts.append((len(prepared), len(generate_pairs(prepared, BlockingConfig()))))
    (n1, p1), (n3, p3) = counts
    assert n3 > 2 * n1
    assert p3 / n3 <= 1.1 * p1 / n1  # measured: 10.6 and 10.4 pairs per indicator
