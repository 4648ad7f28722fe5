"""The direct merge_review.xlsx's shared strings are numbered by Python's own hash and equality
(xlsx_numbering.factorize_texts), not by pd.factorize's StringHashTable, which keeps every non-ASCII text's
UTF-8 inside the str for as long as the text lives (≈ 400 MB more resident at 1M rows, the report's peak).
sys.getsizeof of a str counts that cached UTF-8, so it tells whether a text was encoded."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from pipelines.common import xlsx_numbering
from pipelines.common.xlsx_numbering import CodedColumn, StringTable
from pipelines.dedupe import review
from pipelines.dedupe.candidates import sort_candidates
from tests.test_merge_review_cells import candidates


def fresh(texts: list[str]) -> list[str]:
    """New str objects (never encoded), equal to `texts`."""
    return ["".join(list(t)) for t in texts]


def test_factorize_texts_numbers_texts_as_pd_factorize() -> None:
    texts = fresh(["x", "a\x00b", "a\x00c", "x", "名", "a\x00c", "名 ", "", "\U0001f600", "名"])
    values = np.empty(len(texts), dtype=object)
    values[:] = texts
    codes, distinct = xlsx_numbering.factorize_texts(values)
    expected_codes, expected = pd.factorize(values)
    assert codes.tolist() == expected_codes.tolist() == [0, 1, 2, 0, 3, 2, 4, 5, 6, 3]
    assert list(distinct) == list(expected)


def test_numbering_does_not_encode_the_texts() -> None:
    texts = fresh([f"指标说明{k}" for k in range(50)])
    sizes = [sys.getsizeof(t) for t in texts]
    strings = StringTable()
    strings.add(texts[0])
    codes = np.arange(len(texts), dtype=np.intp)[::-1].copy()
    block = strings.number_block([CodedColumn(codes, texts, texts=True)], 0, len(texts))
    strings.finish()
    assert strings.texts == [texts[0], *texts[:0:-1]]
    assert block.numbers[0] is not None and block.numbers[0][0] == 0
    assert [sys.getsizeof(t) for t in texts] == sizes  # pd.factorize: each larger by its UTF-8, kept


def test_writing_merge_review_leaves_the_reasons_unencoded(tmp_path: Path) -> None:
    cands = sort_candidates(candidates(200))
    reasons = fresh([f"名称相近，定义相同（第{k}对）" for k in range(len(cands))])
    cands["reason"] = pd.Series(reasons, index=cands.index, dtype=object)
    sizes = [sys.getsizeof(t) for t in reasons]
    path = review.write_merge_review(cands, tmp_path / "merge_review.xlsx")
    assert [sys.getsizeof(t) for t in reasons] == sizes
    sheet = openpyxl.load_workbook(path, read_only=True)[review.REVIEW_SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    at = list(rows[0]).index("理由")
    assert sorted(str(row[at]) for row in rows[1:]) == sorted(reasons)
