"""merge_review.xlsx's first part made earlier (review.review_order: the pairs' order and their texts
factorized, which the 1M report makes while the library page's child runs) gives the file written without
it, byte for byte: for a list in any order, one already sorted and one
xlsxwriter writes (a number among texts); a list with a missing text or pattern is refused with the same
error either way. An order made for another list is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe import ordering
from pipelines.dedupe.candidates import sort_candidates
from pipelines.dedupe.review import review_order, write_merge_review
from pipelines.dedupe.review_coded import FOUND_TEXTS
from tests.test_merge_review_cells import candidates
from tests.test_merge_review_direct import special, written


def _shuffled(frame: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    rows = np.random.default_rng(seed).permutation(len(frame))
    return frame.iloc[rows].reset_index(drop=True)


def _missing_unit() -> pd.DataFrame:
    frame = _shuffled(candidates(200, 4))
    frame["unit_a"] = frame["unit_a"].astype(object)
    frame.loc[5, "unit_a"] = None
    return frame


def _missing_pattern() -> pd.DataFrame:
    frame = _shuffled(candidates(200, 6))
    frame.loc[9, "pattern"] = None
    return frame


def _a_number() -> pd.DataFrame:
    frame = _shuffled(candidates(120, 8))
    frame["unit_b"] = frame["unit_b"].astype(object)
    frame.loc[3, "unit_b"] = 7
    return frame


FRAMES = {
    "shuffled": lambda: _shuffled(special(400)),
    "sorted": lambda: sort_candidates(special(400, 9)),
    "missing unit": _missing_unit,
    "missing pattern": _missing_pattern,
    "a number": _a_number,
}


@pytest.mark.parametrize("name", FRAMES)
def test_the_order_made_earlier_gives_the_same_file(name: str, tmp_path: Path) -> None:
    frame = FRAMES[name]()
    plain = _outcome(frame, tmp_path / "plain.xlsx", None)
    early = _outcome(frame, tmp_path / "early.xlsx", review_order(frame))
    assert early == plain
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ([] if isinstance(plain, str) else ["early.xlsx", "plain.xlsx"])  # no temporary left


@pytest.mark.parametrize("name", ["shuffled", "sorted"])
def test_either_way_the_file_is_xlsxwriter_s(name: str, tmp_path: Path) -> None:
    """Against the reference, which factorizes nothing ahead (a wrong text for a code would show here)."""
    frame = FRAMES[name]()
    reference, _ = written(frame, tmp_path)
    assert write_merge_review(frame, tmp_path / "plain.xlsx").read_bytes() == reference
    assert write_merge_review(frame, tmp_path / "early.xlsx", review_order(frame)).read_bytes() == reference


def _outcome(frame: pd.DataFrame, path: Path, known: ordering.ReviewOrder | None) -> bytes | str:
    """The file's bytes, or the error that refused it (a missing value among the written cells)."""
    try:
        return write_merge_review(frame, path, known).read_bytes()
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def test_what_the_order_carries() -> None:
    shuffled = _shuffled(special(400))
    known = review_order(shuffled)
    assert set(known.seen) == set(FOUND_TEXTS)  # every text column of the pairs' sheet, factorized once
    assert not np.array_equal(known.order, np.arange(len(shuffled)))
    assert np.array_equal(known.order, ordering.sort_order(shuffled))
    in_order = sort_candidates(shuffled)
    assert np.array_equal(review_order(in_order).order, np.arange(len(in_order)))  # a sorted list stays
    assert "unit_a" not in review_order(_missing_unit()).seen  # left to the writer, which refuses it
    assert review_order(_missing_pattern()).seen == {}  # pandas' sort: nothing factorized


def test_the_sorted_list_is_the_same_with_or_without_the_order() -> None:
    for frame in (_shuffled(special(300)), sort_candidates(special(300))):
        coded: ordering.Coded = {}
        early: ordering.Coded = {}
        plain = sort_candidates(frame, coded)
        pd.testing.assert_frame_equal(sort_candidates(frame, early, review_order(frame)), plain)
        for column, (codes, distinct) in coded.items():
            assert np.array_equal(early[column][0], codes)
            assert list(early[column][1]) == list(distinct)


def test_the_order_is_used_once() -> None:
    """The sort empties it: its arrays are not kept alive through the writing by a caller's reference."""
    frame = _shuffled(special(200))
    known = review_order(frame)
    assert len(known.order) == len(frame) and known.seen
    sort_candidates(frame, {}, known)
    assert len(known.order) == 0 and known.seen == {}
    with pytest.raises(ValueError, match="another list"):  # used again: refused, not silently wrong
        sort_candidates(frame, {}, known)


def test_an_order_made_for_another_list_is_refused(tmp_path: Path) -> None:
    frame = _shuffled(special(100))
    known = review_order(frame.iloc[:60])
    with pytest.raises(ValueError, match="another list"):
        write_merge_review(frame, tmp_path / "x.xlsx", known)
    assert not list(tmp_path.iterdir())
