"""merge_review.xlsx with its order made ahead (review.review_order, as the 1M report makes it beside the
library page's child) on inputs nobody here wrote: the pairs the matcher lists among real published
indicator tables (tests/data/real_names.csv, and fresh11_names.csv, a holdout no tuning has seen), in a
shuffled order; and texts hypothesis draws (any character XML allows, edge spaces, formula triggers,
repeats across columns). Either way the file is the one written without the order ahead, byte for byte,
and holds the xlsxwriter reference's parts (the same entries, in order, unzipping to the same bytes: a
part over block_deflate.BLOCK is deflated by zlib-ng in blocks, not as xlsxwriter deflates it), or both
refuse alike."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.dedupe import review
from pipelines.dedupe.candidates import find_candidates, sort_candidates
from pipelines.dedupe.review import review_order, write_merge_review
from pipelines.normalize.canonical import default_rules
from tests.test_candidates_identity import DATA, _names
from tests.test_merge_review_cells import candidates


def _reference(frame: pd.DataFrame, path: Path) -> bytes:
    """The file as xlsxwriter writes it cell by cell (its own shared strings), from the sorted list."""
    cands = sort_candidates(frame)
    firsts = pd.unique(cands["pattern_group"])
    groups = {g: f"G{k + 1:04d}" for k, g in enumerate(firsts)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(review, "fast_shared_strings", lambda workbook: workbook)
        review._write_workbook(path, cands, groups)
    return path.read_bytes()


def _parts(data: bytes) -> list[tuple[str, bytes]]:
    """A package's entries, in order, unzipped."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [(info.filename, package.read(info)) for info in package.infolist()]


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.iloc[np.random.default_rng(seed).permutation(len(frame))].reset_index(drop=True)


@pytest.fixture(scope="module", params=["real_names.csv", "fresh11_names.csv"])
def real_pairs(request: pytest.FixtureRequest) -> pd.DataFrame:
    found = find_candidates(_names(DATA / request.param), None, default_rules())
    assert len(found) >= 10, "the matcher lists pairs among these real tables"
    return _shuffled(found, 3)


def test_real_tables_pairs_with_the_order_ahead(real_pairs: pd.DataFrame, tmp_path: Path) -> None:
    plain = write_merge_review(real_pairs, tmp_path / "plain.xlsx").read_bytes()
    early = write_merge_review(real_pairs, tmp_path / "early.xlsx", review_order(real_pairs)).read_bytes()
    assert early == plain
    assert _parts(plain) == _parts(_reference(real_pairs, tmp_path / "reference.xlsx"))


# Texts XML can carry (no surrogates, no control characters but tab and newline), with the characters
# the writers treat apart: edge and full-width spaces, &, <, >, formula triggers, _x0041_ look-alikes.
_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("指标人次率满意度培训 \u3000\t\n&<>=+-@_x0041'\"")),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=12,
)


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    frame = candidates(n, draw(st.integers(0, 1000)))
    pool = draw(st.lists(_TEXT, min_size=1, max_size=8))  # texts repeat across rows and columns
    for column in ("id_a", "name_a", "id_b", "name_b", "pattern", "pattern_group", "unit_a", "unit_b"):
        frame[column] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    frame["reason"] = draw(st.lists(_TEXT, min_size=n, max_size=n))
    frame["score"] = draw(st.lists(st.sampled_from([0.5, 50.5, 96.5, 100.0]), min_size=n, max_size=n))
    return frame


def _outcome(frame: pd.DataFrame, path: Path, early: bool) -> bytes | str:
    try:
        return write_merge_review(frame, path, review_order(frame) if early else None).read_bytes()
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=_frames())
def test_drawn_texts_with_the_order_ahead(frame: pd.DataFrame, tmp_path: Path) -> None:
    plain = _outcome(frame, tmp_path / "plain.xlsx", early=False)
    early = _outcome(frame, tmp_path / "early.xlsx", early=True)
    assert early == plain
    if isinstance(plain, bytes):
        assert _parts(plain) == _parts(_reference(frame, tmp_path / "reference.xlsx"))
