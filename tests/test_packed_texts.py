"""The review list's 理由 held compressed from consolidation to the report (pipelines/common/packed_texts.py):
any texts come back as they went in, whatever rows are selected, taken, sliced, concatenated, copied or
pickled; the review list hands them on packed and lets go of the str column; merge_review.xlsx and the
review's pair table are the same bytes and cells from a packed column as from the str column."""

from __future__ import annotations

import gc
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.common.packed_texts import PackedTextArray, PackedTextDtype, unpacked
from pipelines.consolidate.review_pairs import reported
from pipelines.dedupe.review import write_merge_review
from pipelines.report.change_tables import candidates_table
from tests.test_merge_review_cells import candidates
from tests.test_merge_review_direct import special

# Any text but one holding the separator or a lone surrogate (test_a_text_..._is_not_packed); NaN for missing.
TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
VALUES = st.lists(st.one_of(TEXT, st.just(np.nan)), max_size=40)


def _same(got: np.ndarray, want: list[object]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if isinstance(w, str):
            assert type(g) is str and g == w
        else:
            assert isinstance(g, float) and np.isnan(g)


@settings(max_examples=150, deadline=None)
@given(VALUES, st.integers(1, 5), st.data())
def test_any_texts_come_back_through_every_selection(
    values: list[object], chunk: int, data: st.DataObject
) -> None:
    packed = PackedTextArray.pack(values, chunk=chunk)
    assert packed is not None and len(packed) == len(values)
    _same(packed.to_numpy(), values)
    _same(np.asarray(list(packed), dtype=object), values)
    _same(np.asarray([packed[k] for k in range(len(values))], dtype=object), values)
    assert packed.isna().tolist() == [not isinstance(v, str) for v in values]
    if values:
        picks = data.draw(st.lists(st.integers(0, len(values) - 1), max_size=20))
        _same(packed.take(picks).to_numpy(), [values[k] for k in picks])
        filled = data.draw(st.lists(st.integers(-1, len(values) - 1), max_size=20))
        _same(
            packed.take(filled, allow_fill=True).to_numpy(),
            [values[k] if k >= 0 else np.nan for k in filled],
        )
        lo, hi = sorted(data.draw(st.tuples(st.integers(0, len(values)), st.integers(0, len(values)))))
        _same(packed[lo:hi].to_numpy(), values[lo:hi])
        mask = np.asarray(data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values))))
        _same(packed[mask].to_numpy(), [v for v, m in zip(values, mask, strict=True) if m])
    _same(pickle.loads(pickle.dumps(packed)).to_numpy(), values)
    _same(packed.copy().to_numpy(), values)
    other = PackedTextArray.pack(values[::-1], chunk=chunk)
    assert other is not None
    _same(PackedTextArray._concat_same_type([packed, packed[::2]]).to_numpy(), values + values[::2])
    _same(PackedTextArray._concat_same_type([packed, other]).to_numpy(), values + values[::-1])


def test_a_frame_sorts_filters_and_copies_rows_without_reading_the_texts() -> None:
    texts = [f"理由{k % 7}：第{k}对" for k in range(1000)]
    frame = pd.DataFrame(
        {"score": np.arange(1000)[::-1].astype(float), "reason": PackedTextArray.pack(texts, 64)}
    )
    assert isinstance(frame["reason"].dtype, PackedTextDtype)
    view = frame.iloc[::3].sort_values("score").head(50).reset_index(drop=True).copy()
    want = [texts[k] for k in range(0, 1000, 3)][::-1][:50]
    assert view["reason"].tolist() == want
    assert unpacked(view)["reason"].dtype == object and unpacked(view)["reason"].tolist() == want
    assert pd.concat([view, view])["reason"].tolist() == want + want
    assert frame["reason"].nbytes < sum(sys.getsizeof(t) for t in texts) / 4  # compressed: far smaller


def test_a_text_holding_the_separator_or_a_lone_surrogate_or_a_number_is_not_packed() -> None:
    assert PackedTextArray.pack(["正常", "a\x00b"]) is None
    assert PackedTextArray.pack(["正常", 3]) is None
    assert PackedTextArray.pack(["正常", "\ud83d\ude00"]) is None  # two lone surrogates, not one pair
    assert PackedTextArray.pack(["正常", "😀"]).to_numpy().tolist() == ["正常", "😀"]  # type: ignore[union-attr]
    frame = candidates(20, 3)
    frame["reason"] = pd.Series(["\x00", "\ud800"] + frame["reason"].tolist()[2:], dtype=object)
    assert reported(frame)["reason"].dtype == object  # kept as it was, written as before


def as_matcher(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text columns as the matcher makes them: object columns, one block of them."""
    texts = {c: object for c in frame.columns if isinstance(frame[c].dtype, pd.StringDtype)}
    return frame.astype(texts).copy()


def test_the_review_list_holds_its_reasons_packed_and_lets_go_of_the_str() -> None:
    frame = as_matcher(candidates(200, 11))
    probe_reason, probe_flag = "独有的理由文本" * 3, object()
    frame["reason"] = pd.Series([probe_reason, *frame["reason"].tolist()[1:]], dtype=object)
    # a column the report never reads
    frame["flag_unused"] = pd.Series([probe_flag, *(object() for _ in range(len(frame) - 1))], dtype=object)
    frame = frame.copy()  # one object block, as the matcher's frame has
    assert frame["reason"].dtype == object and frame["flag_unused"].dtype == object
    held = reported(frame)
    assert isinstance(held["reason"].dtype, PackedTextDtype)
    assert held["reason"].iloc[0] == probe_reason
    base_reason, base_flag = sys.getrefcount(probe_reason), sys.getrefcount(probe_flag)
    del frame
    gc.collect()
    # the matcher's frame gone, nothing of the report's list holds its str 理由 or its dropped columns
    assert sys.getrefcount(probe_reason) < base_reason
    assert sys.getrefcount(probe_flag) < base_flag
    assert held["reason"].iloc[0] == probe_reason


@pytest.mark.parametrize(
    "make",
    [lambda: candidates(400, 7), lambda: as_matcher(candidates(400, 8)), lambda: as_matcher(special(300, 5))],
    ids=["arrow", "object", "hostile"],
)
def test_merge_review_and_the_review_table_are_the_same_from_packed_reasons(make, tmp_path: Path) -> None:
    frame = make()
    held = reported(frame.copy())
    assert isinstance(held["reason"].dtype, PackedTextDtype)
    plain = write_merge_review(frame, tmp_path / "plain.xlsx").read_bytes()
    packed = write_merge_review(held, tmp_path / "packed.xlsx").read_bytes()
    assert plain == packed
    for limit in (None, 25):
        want, got = candidates_table(frame, limit), candidates_table(held, limit)
        assert want["reason"].tolist() == got["reason"].tolist()
        assert want.drop(columns="reason").equals(got.drop(columns="reason"))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(
            st.sampled_from(["a", "中", "\x00", "\ud800", "\udc00", "\ud83d", "\ude00", "😀"]), max_size=6
        ),
        max_size=20,
    )
)
def test_any_str_at_all_is_either_kept_exactly_or_not_packed(values: list[str]) -> None:
    packed = PackedTextArray.pack(values, chunk=3)
    if packed is not None:
        assert packed.to_numpy().tolist() == values
