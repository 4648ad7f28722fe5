"""merge_review.xlsx's 理由 read from their packed chunks (pipelines.dedupe.review_reasons), never all held:
the file is the one written from the texts held — with repeated 理由, with texts of one hash that differ (a
forced collision), with a 理由 equal to another column's text (renumbered held), with chunks smaller than a
sheet's rows (many reads), and for any list of 理由 hypothesis finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.common import packed_texts
from pipelines.consolidate.review_pairs import reported
from pipelines.dedupe import review_reasons
from pipelines.dedupe.review import prepare_merge_review
from pipelines.dedupe.review_coded import _neutralized
from tests.test_merge_review_cells import candidates


def _both(frame: pd.DataFrame, tmp_path: Path, name: str = "f") -> tuple[bytes, bytes]:
    """(held, streamed) bytes: the frame's 理由 as str, and as the rebuild holds them (packed)."""
    held = prepare_merge_review(frame).write(tmp_path / f"{name}-held.xlsx").read_bytes()
    packed = reported(frame.copy())
    assert isinstance(packed["reason"].dtype, packed_texts.PackedTextDtype)
    streamed = prepare_merge_review(packed, streamed=True).write(tmp_path / f"{name}-packed.xlsx")
    return held, streamed.read_bytes()


def _streamed(frame: pd.DataFrame) -> bool:
    packed = reported(frame.copy())
    return review_reasons.scan(packed["reason"], _neutralized) is not None


def test_repeated_reasons_are_streamed_and_the_bytes_are_the_same(tmp_path: Path) -> None:
    frame = candidates(500, 3)
    frame["reason"] = [f"理由{k % 37}" for k in range(len(frame))]  # each repeated ≈ 13 times
    assert _streamed(frame)
    held, streamed = _both(frame, tmp_path)
    assert held == streamed


def test_small_chunks_read_many_times_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packed_texts, "CHUNK", 7)  # the sorted rows jump between many chunks
    monkeypatch.setattr(review_reasons, "ROWS", 5)
    monkeypatch.setattr(review_reasons, "CACHED", 1)
    frame = candidates(300, 11)
    frame["reason"] = [f"{v}·{k % 11}" for k, v in enumerate(frame["reason"])]
    held, streamed = _both(frame, tmp_path)
    assert held == streamed


def test_two_texts_of_one_hash_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text given one hash: the comparison finds them different and the texts are numbered held."""
    frame = candidates(200, 4)
    monkeypatch.setattr(review_reasons, "hash", lambda text: 7, raising=False)
    assert not _streamed(frame)
    held, streamed = _both(frame, tmp_path)
    assert held == streamed


def test_a_reason_equal_to_another_cell_is_numbered_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = candidates(300, 9)
    frame.loc[frame.index[::7], "reason"] = frame["name_a"].iloc[::7].to_numpy()  # a 理由 reads as a name
    assert _streamed(frame)  # streamed at first; the numbering finds the equal text and holds them
    calls = []
    real = review_reasons.StreamedTexts.held
    monkeypatch.setattr(review_reasons.StreamedTexts, "held", lambda self: calls.append(1) or real(self))
    held, streamed = _both(frame, tmp_path)
    assert calls == [1]  # renumbered with the texts held, once
    assert held == streamed


def test_a_missing_reason_leaves_the_ordinary_path(tmp_path: Path) -> None:
    frame = candidates(100, 2)
    frame.loc[frame.index[3], "reason"] = np.nan
    assert not _streamed(frame)


PIECES = st.sampled_from(["中", "a", " ", "=", "&", "<", "_x0041_", "\t", "理由"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.lists(PIECES, min_size=1, max_size=5).map("".join),
        min_size=1,
        max_size=60,
    )
)
def test_any_reasons_give_the_bytes_of_the_texts_held(tmp_path_factory, reasons: list[str]) -> None:
    frame = candidates(len(reasons), 5)
    frame["reason"] = reasons
    tmp = tmp_path_factory.mktemp("r")
    held, streamed = _both(frame, tmp)
    assert held == streamed
