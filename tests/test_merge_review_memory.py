"""merge_review.xlsx's direct writer holds only the coded columns while it numbers and writes the rows: the
sorted copy of the pairs is gone by then (1M rows' 1.34M pairs: peak over its start 882 -> 629 MiB), the codes
are int32, and the patterns sheet reuses the sort's factorization of the pattern column. The bytes are those
of xlsxwriter's cell-by-cell workbook (review._write_workbook) all the same."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipelines.common.xlsx_numbering import CodedColumn
from pipelines.dedupe import review
from pipelines.dedupe.candidates import sort_candidates
from pipelines.dedupe.review import write_merge_review
from tests.test_merge_review_cells import candidates, group_numbers


def test_the_sorted_pairs_are_gone_before_the_rows_are_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sorted_frames: list[weakref.ref[pd.DataFrame]] = []
    alive_at_write: list[bool] = []
    real_sort, real_write = review.sort_candidates, review._Direct.write

    def sort(frame: pd.DataFrame, coded: Any = None, known: Any = None) -> pd.DataFrame:
        out = real_sort(frame, coded, known)
        sorted_frames.append(weakref.ref(out))
        return out

    def write(self: review._Direct, tmp: Path) -> None:
        alive_at_write.append(sorted_frames[0]() is not None)
        codes = [c.codes for c in (*self.pairs, *self.patterns) if isinstance(c, CodedColumn)]
        assert codes and all(c.dtype == np.int32 for c in codes)
        real_write(self, tmp)

    monkeypatch.setattr(review, "sort_candidates", sort)
    monkeypatch.setattr(review._Direct, "write", write)
    raw = candidates(500, seed=11)
    write_merge_review(raw, tmp_path / "direct.xlsx")
    assert alive_at_write == [False]

    cands = sort_candidates(raw)
    monkeypatch.setattr(review, "fast_shared_strings", lambda workbook: workbook)  # xlsxwriter's own
    review._write_workbook(tmp_path / "reference.xlsx", cands, group_numbers(cands))
    assert (tmp_path / "direct.xlsx").read_bytes() == (tmp_path / "reference.xlsx").read_bytes()


def test_the_patterns_sheet_from_the_sorts_codes_is_the_one_from_the_texts() -> None:
    raw = candidates(400, seed=7)
    found: dict[str, Any] = {}
    cands = sort_candidates(raw, found)
    groups = group_numbers(cands)
    assert "pattern" in found
    assert review._pattern_columns(cands, groups, found) == review._pattern_columns(cands, groups)
    # a sort's codes that disagreed with the texts would show: the reused codes are really read
    codes, distinct = found["pattern"]
    found["pattern"] = (codes, np.asarray([f"x{k}" for k in range(len(distinct))], dtype=object))
    assert review._pattern_columns(cands, groups, found) != review._pattern_columns(cands, groups)
