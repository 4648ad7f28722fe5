"""The review list a rebuild holds from consolidation to its report, narrowed to the columns the report
reads (review_pairs.reported): merge_review.xlsx the same bytes and the review tables' 疑似重复 the same
frame, each difference pattern one shared string, a missing pattern kept missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.consolidate.review_pairs import reported
from pipelines.dedupe.candidates import CANDIDATE_COLUMNS
from pipelines.dedupe.review import write_merge_review
from pipelines.report.change_tables import CANDIDATE_TITLES, candidates_table
from tests.test_merge_review_cells import candidates


def _full(n: int = 500) -> pd.DataFrame:
    frame = candidates(n, seed=11)
    rng = np.random.default_rng(11)
    for column in ("flags", "scope_a", "scope_b", "origin_a", "class_a", "suffix_a", "level2_b"):
        frame[column] = [f"{column}{k}" for k in rng.integers(4, size=n)]
    frame["reason"] = pd.Series(frame["reason"].tolist(), dtype=object)  # as the matcher makes it
    # The matcher makes one pattern string per pair: equal texts, distinct objects.
    frame["pattern"] = pd.Series([(p + "x")[:-1] for p in frame["pattern"]], dtype=object)
    return frame


def test_the_report_reads_the_same_from_the_narrowed_list(tmp_path: Path) -> None:
    full = _full()
    narrow = reported(full)
    assert set(CANDIDATE_TITLES) <= set(narrow.columns) < set(CANDIDATE_COLUMNS)
    assert "flags" not in narrow.columns and "cosine" not in narrow.columns
    before = write_merge_review(full, tmp_path / "full.xlsx").read_bytes()
    after = write_merge_review(narrow, tmp_path / "narrow.xlsx").read_bytes()
    assert before == after
    pd.testing.assert_frame_equal(candidates_table(full), candidates_table(narrow))


def test_each_pattern_is_one_string() -> None:
    full = _full()
    narrow = reported(full)
    assert full["pattern"].map(id).nunique() > full["pattern"].nunique()
    assert narrow["pattern"].map(id).nunique() == narrow["pattern"].nunique()
    assert narrow["pattern"].tolist() == full["pattern"].tolist()


def test_a_missing_pattern_stays_missing() -> None:
    full = _full(60)
    full.loc[[3, 7], "pattern"] = [None, np.nan]
    narrow = reported(full)
    assert narrow["pattern"].isna().tolist() == full["pattern"].isna().tolist()
    assert narrow["pattern"].dropna().tolist() == full["pattern"].dropna().tolist()


def test_an_empty_list_keeps_its_columns() -> None:
    empty = pd.DataFrame(columns=CANDIDATE_COLUMNS)
    assert {"id_a", "reason", "pattern"} <= set(reported(empty).columns)
