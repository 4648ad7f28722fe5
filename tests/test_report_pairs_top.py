"""The review's 疑似重复 table holds only the pairs it shows (review.xlsx's first XLSX_PAIR_LIMIT, the page's
first HTML_ROW_LIMIT) and says how many there are: the rows and their order those of sorting the whole list,
whatever the ties (scores rounded to whole numbers tie by the thousand), missing scores or index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.report.change_tables import CANDIDATE_TITLES, candidates_review, candidates_table
from pipelines.report.model import HTML_ROW_LIMIT
from pipelines.report.review_xlsx import XLSX_PAIR_LIMIT, _capped_pairs


def _pairs(n: int, seed: int, *, missing: int = 0, scores: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.integers(88, 88 + scores, size=n).astype(float) + rng.choice([0.0, 0.4, 0.6], size=n)
    score[rng.choice(n, size=missing, replace=False)] = np.nan
    ids_a = [f"A{k:04d}" for k in rng.integers(0, 300, size=n)]
    ids_b = [f"B{k:04d}" for k in rng.integers(0, 300, size=n)]
    return pd.DataFrame(
        {
            "id_a": pd.Series(ids_a, dtype="str"),
            "name_a": [f"名称甲{i}" for i in range(n)],
            "id_b": pd.Series(ids_b, dtype="str"),
            "name_b": [f"名称乙{i}" for i in range(n)],
            "score": score,
            "reason": [f"理由{i % 7}" for i in range(n)],
            "pattern": "甲→乙",
        },
        index=rng.permutation(n) + 10,  # not a RangeIndex: the rows are taken by position
    )


def _sorted_whole(candidates: pd.DataFrame) -> pd.DataFrame:
    frame = candidates[list(CANDIDATE_TITLES)].copy()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").round(0)
    return frame.sort_values(["score", "id_a", "id_b"], ascending=[False, True, True], kind="stable")


@pytest.mark.parametrize(
    ("n", "limit", "missing", "scores"),
    [
        (5000, 1000, 0, 12),  # the limit-th score shared by hundreds of pairs
        (5000, 1000, 0, 1),  # every pair the same score: the head is the ids' order
        (1500, 1000, 900, 12),  # fewer scored pairs than the limit: missing scores in the head
        (1500, 1000, 300, 12),
        (800, 1000, 50, 12),  # fewer pairs than the limit
    ],
)
def test_the_head_is_the_whole_sort_s(n: int, limit: int, missing: int, scores: int) -> None:
    candidates = _pairs(n, seed=n + missing + scores, missing=missing, scores=scores)
    expected = _sorted_whole(candidates).head(limit).reset_index(drop=True)
    pd.testing.assert_frame_equal(candidates_table(candidates, limit), expected)
    whole = _sorted_whole(candidates).reset_index(drop=True)
    pd.testing.assert_frame_equal(candidates_table(candidates), whole)


def test_the_review_holds_the_pairs_it_shows_and_counts_them_all() -> None:
    n = XLSX_PAIR_LIMIT * 3 + 17
    candidates = _pairs(n, seed=5)
    table = candidates_review(candidates)
    assert len(table.frame) == max(XLSX_PAIR_LIMIT, HTML_ROW_LIMIT) and table.rows == n and table.truncated
    whole = _sorted_whole(candidates).reset_index(drop=True)
    assert len(table.shown) == HTML_ROW_LIMIT
    pd.testing.assert_frame_equal(table.shown, whole.head(HTML_ROW_LIMIT))
    capped = _capped_pairs(table.frame, table.rows)
    expected = _capped_pairs(whole)  # the whole sorted list, capped as before
    pd.testing.assert_frame_equal(capped, expected)
    assert (
        capped.iloc[-1, 0] == f"另有 {n - XLSX_PAIR_LIMIT:,} 对未在此列出，全部 {n:,} 对见 merge_review.xlsx"
    )
