"""The consolidation step's fast paths (issue 15) give what the plain computation gives, exactly.

- _top_k_pairs (blocking.py) takes each query's top k + 1 product entries and only then drops the query
  itself and the entries under min_cosine: the plain way filters every entry first;
- bigram_dice (bigrams.py) counts shared bigrams as the longest common subsequence of code strings: the
  plain way intersects bigram sets;
- as_str (consolidate/tables.py) converts a categorical by its categories: the plain way is astype(str);
- review_candidates(ordered=False) is the same rows, unsorted: sort_candidates gives the ordered list back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from pipelines.consolidate.review_pairs import review_candidates
from pipelines.consolidate.tables import as_str
from pipelines.dedupe.bigrams import bigram_dice as _bigram_dice
from pipelines.dedupe.bigrams import bigrams as _bigrams
from pipelines.dedupe.blocking import BlockingConfig, _own_column, _top_k_pairs, row_top_k
from pipelines.dedupe.candidates import sort_candidates


def _plain_top_k_pairs(
    xq: sparse.csr_matrix, xc: sparse.csr_matrix, q_idx: np.ndarray, c_idx: np.ndarray, cfg: BlockingConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every product entry filtered (the query itself, under min_cosine), then each row's top k."""
    sims = (xq @ xc.T.tocsr()).tocsr()
    rows = np.repeat(np.arange(sims.shape[0], dtype=np.int64), np.diff(sims.indptr))
    own = _own_column(q_idx, c_idx)
    keep = (sims.data >= cfg.min_cosine) & (sims.indices != own[rows])
    rows, cols, data = rows[keep], sims.indices[keep], sims.data[keep]
    chosen = row_top_k(rows, data, sims.shape[0], cfg.top_k)
    return q_idx[rows[chosen]], c_idx[cols[chosen]], data[chosen]


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("seed", [0, 1])
def test_top_k_pairs_equals_filter_then_top_k(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_c, n_f = 120, 15
    # Few distinct weights: many ties between the query itself, the threshold and the others.
    dense = rng.integers(0, 3, size=(n_c, n_f)) * (rng.random((n_c, n_f)) < 0.4)
    xc = sparse.csr_matrix(dense.astype(np.float32) / 4)
    c_idx = np.arange(n_c) + 1000
    q_pos = rng.choice(n_c, size=50, replace=False)
    q_idx = c_idx[q_pos]  # the queries are corpus rows: each meets itself
    xq = xc[q_pos]
    cfg = BlockingConfig(top_k=k, min_cosine=0.1, chunk=16)
    fast = _top_k_pairs(xq, xc, q_idx, c_idx, cfg)
    plain = _plain_top_k_pairs(xq, xc, q_idx, c_idx, cfg)
    for got, want in zip(fast, plain, strict=True):
        assert np.array_equal(got, want)


def test_bigram_dice_equals_set_overlap() -> None:
    forms = np.array(["资金拨付及时率", "资金拨付率", "率", "", "拨付资金及时率", "ab", "abab"], dtype=object)
    ia, ib = np.meshgrid(np.arange(len(forms)), np.arange(len(forms)))
    ia, ib = ia.ravel(), ib.ravel()
    grams = [_bigrams(f) for f in forms]
    want = np.array(
        [
            2 * len(grams[i] & grams[j]) / max(len(grams[i]) + len(grams[j]), 1)
            for i, j in zip(ia, ib, strict=True)
        ]
    )
    assert np.array_equal(_bigram_dice(forms, ia, ib), want)


def test_as_str_equals_astype_str() -> None:
    values = ["项目", "共性", "项目", "部门整体", ""]
    categorical = pd.Series(pd.Categorical(values), index=[3, 1, 4, 0, 2], name="scope")
    pd.testing.assert_series_equal(as_str(categorical), categorical.astype(str))
    with_missing = pd.Series(pd.Categorical(["a", None, "b"]), name="x")
    pd.testing.assert_series_equal(as_str(with_missing), with_missing.astype(str))
    plain = pd.Series(values, dtype=object)
    pd.testing.assert_series_equal(as_str(plain), plain.astype(str))


def test_unordered_review_candidates_sort_back() -> None:
    names = ["培训计划完成率", "培训计划完成及时率", "参训人员满意度", "培训人员满意度", "会议费用控制率"]
    indicators = pd.DataFrame(
        {
            "indicator_id": [f"ZB-X{k:06d}" for k in range(len(names))],
            "scope": "项目",
            "level1": "产出指标",
            "level2": "数量指标",
            "name": names,
            "definition": "",
            "unit": "%",
            "function_code": "2010101",
            "status": "active",
        }
    )
    new_ids = indicators["indicator_id"].tolist()
    ordered = review_candidates(indicators, new_ids, None)
    unordered = review_candidates(indicators, new_ids, None, ordered=False)
    assert len(ordered) > 0
    pd.testing.assert_frame_equal(sort_candidates(unordered), ordered)
