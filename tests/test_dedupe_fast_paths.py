"""The fast paths of candidate generation give what the plain computation gives.

row_top_k (blocking.py) selects each query's k most similar corpus rows without sorting every entry;
sort_candidates orders the review list with one lexsort instead of pandas' multi-key sort. Both must agree
with the plain computation exactly, ties included (tests/test_candidates_identity.py checks the whole
matcher against a frozen list; these check the pieces on inputs built to have many ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe.blocking import _own_column, row_top_k
from pipelines.dedupe.candidates import _sort_order, _sort_order_pandas, sort_candidates


def _plain_top_k(rows: np.ndarray, data: np.ndarray, k: int) -> np.ndarray:
    """The computation row_top_k replaces: a stable sort of every entry by (row, value descending)."""
    order = np.argsort(rows.astype(np.float64) + (1.0 - data.astype(np.float64)) * 0.5, kind="stable")
    r = rows[order]
    rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    return order[rank < k]


@pytest.mark.parametrize("k", [1, 3, 6, 10])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_top_k_equals_a_full_stable_sort(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    counts = rng.choice([0, 1, k, k + 1, 40, 500], size=n)  # empty, short, exactly k, long rows
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    # Few distinct values: many ties, which must keep their positions.
    data = (rng.integers(3, 20, size=len(rows)) / 20).astype(np.float32)
    assert np.array_equal(row_top_k(rows, data, n, k), _plain_top_k(rows, data, k))


def test_row_top_k_of_nothing() -> None:
    empty = np.array([], dtype=np.int64)
    assert len(row_top_k(empty, np.array([], dtype=np.float32), 4, 3)) == 0


def test_own_column_finds_each_query_in_the_corpus() -> None:
    corpus = np.array([10, 4, 7, 12])
    assert _own_column(np.array([4, 5, 12, 10]), corpus).tolist() == [1, -1, 3, 0]
    assert _own_column(np.array([3]), np.array([], dtype=np.int64)).tolist() == [-1]


def _candidates(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda values: rng.choice(np.array(values, dtype=object), size=n)  # noqa: E731
    return pd.DataFrame(
        {
            "id_a": pick(["ZB-X1", "ZB-X2", "ZB-G3"]),
            "name_a": pick(["培训率", "培训次数", "满意度"]),
            "id_b": pick(["ZB-X4", "ZB-X5"]),
            "name_b": pick(["培训率", "会议率"]),
            "score": rng.choice([40.0, 55.5, 55.5, 90.0, 0.0], size=n),
            "pattern": pick(["名称相同", "湿→耕", "∅→新增", "参→培；率→度"]),
            "pattern_group": pick(["名称相同", "湿→耕", "∅→X"]),
            "reason": [f"r{k}" for k in range(n)],
        }
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_sort_order_equals_pandas_sort(seed: int) -> None:
    frame = _candidates(400, seed)  # every key tied many times: the original order must decide
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame))  # type: ignore[arg-type]


def test_sort_falls_back_to_pandas_when_a_text_is_missing() -> None:
    frame = _candidates(50, 3)
    frame.loc[7, "name_b"] = None
    assert _sort_order(frame) is None
    expected = frame.iloc[_sort_order_pandas(frame)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sort_candidates(frame), expected)
