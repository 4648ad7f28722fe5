"""Where no fork is made (a large year's process is above the fork gate), the pair features and the first
similarity pass run in a thread beside the rest (pipelines/common/halves.py, blocking._passes): the same
outputs as one pass, exactly.

- in_halves(threads=True) without a fork computes the second half in another thread and joins in order; with
  threads=False, or above the thread gate, it is one pass in this thread;
- find_candidates with the features' halves and the first pass in threads equals one pass (no fork, no
  thread): every column, numbers bit for bit, with and without reviewers' do-not-merge rules;
- generate_pairs with its first pass in a thread gives the pairs of one in-thread run.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common import halves
from pipelines.dedupe import blocking
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.features import FEATURES, pair_feature_matrix
from pipelines.dedupe.model import load_model
from tests.dedupe_fixtures import alternate_rows, clusters, random_pairs, record_passes, refusing_rules


@pytest.fixture(autouse=True)
def no_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "0")


def _threads_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """As above the thread gate (background.THREAD_MAX_RESIDENT_MIB): no thread either."""
    monkeypatch.setattr(halves, "thread_available", lambda adds_mib=0.0: False)


def _part(lo: int, hi: int) -> tuple[list[int], list[int]]:
    return list(range(lo, hi)), [threading.get_ident()] * (hi - lo)


def _join(
    first: tuple[list[int], list[int]], second: tuple[list[int], list[int]], h: int
) -> tuple[list[int], list[int]]:
    assert second[0][:1] == [h]
    return first[0] + second[0], first[1] + second[1]


def test_in_halves_without_fork_computes_the_second_half_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    me = threading.get_ident()
    assert halves.split_of(11, threads=True) == "thread" and halves.split_of(11) == ""
    rows, threads = halves.in_halves(_part, 11, _join, threads=True)
    assert rows == list(range(11))
    assert set(threads[:5]) == {me} and me not in set(threads[5:]) and len(set(threads[5:])) == 1
    assert halves.in_halves(_part, 11, _join) == (list(range(11)), [me] * 11)  # threads=False: one pass
    monkeypatch.setattr(halves, "THREAD_MAX_PAIRS", 10)  # above it (1M rows' pairs): one pass
    assert halves.split_of(11, threads=True) == "" and halves.split_of(10, threads=True) == "thread"
    monkeypatch.setattr(halves, "THREAD_MAX_PAIRS", 1_000_000)
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    assert halves.split_of(11, threads=True) == "" and not halves.threads_allowed()
    monkeypatch.delenv("INDICATORS_THREADS")
    _threads_off(monkeypatch)
    assert halves.split_of(11, threads=True) == ""
    assert halves.in_halves(_part, 11, _join, threads=True) == (list(range(11)), [me] * 11)


def test_in_halves_runs_the_split_its_caller_prepared_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """split= fixes the decision (memory may cross a gate between the caller's look and in_halves')."""
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    me = threading.get_ident()
    assert halves.in_halves(_part, 11, _join, threads=True, split="") == (list(range(11)), [me] * 11)
    _threads_off(monkeypatch)
    rows, threads = halves.in_halves(_part, 11, _join, split="thread")
    assert rows == list(range(11)) and me not in set(threads[5:])


def test_candidates_with_threads_equal_one_pass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    frame = clusters()
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    seen: set[int] = set()
    features = halves.in_halves

    def spied(part, n, join, **kwargs):  # type: ignore[no-untyped-def]
        def watched(lo: int, hi: int):  # type: ignore[no-untyped-def]
            seen.add(threading.get_ident())
            return part(lo, hi)

        return features(watched, n, join, **kwargs)

    monkeypatch.setattr(halves, "in_halves", spied)
    threaded = find_candidates(new, existing)
    assert len(threaded) > 180 and len(seen) == 2  # the features' second half ran in another thread
    rules = refusing_rules(tmp_path, threaded)
    threaded_refused = find_candidates(new, existing, rules)
    assert 0 < len(threaded_refused) < len(threaded)
    _threads_off(monkeypatch)
    seen.clear()
    one = find_candidates(new, existing)
    assert seen == {threading.get_ident()}
    pd.testing.assert_frame_equal(threaded, one, check_exact=True)
    pd.testing.assert_frame_equal(threaded_refused, find_candidates(new, existing, rules), check_exact=True)


def test_similarity_passes_in_a_thread_give_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = alternate_rows()
    words = load_model().words
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    recorded = record_passes(monkeypatch)

    def callers() -> list[int]:
        return [thread for _, thread in recorded]

    threaded = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert len(callers()) == 3 and len(set(callers())) == 2  # the first pass in another thread
    recorded.clear()
    monkeypatch.setattr(blocking, "PASSES_THREAD_MAX", 10)  # more names than that (1M rows): one thread
    capped = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert set(callers()) == {threading.get_ident()} and len(callers()) == 3
    monkeypatch.setattr(blocking, "PASSES_THREAD_MAX", 150_000)
    _threads_off(monkeypatch)
    recorded.clear()
    one = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert set(callers()) == {threading.get_ident()} and len(callers()) == 3
    pd.testing.assert_frame_equal(capped, one, check_exact=True)
    assert len(threaded) > 300
    pd.testing.assert_frame_equal(threaded, one, check_exact=True)


def test_features_written_into_the_callers_rows_equal_features_in_a_new_matrix() -> None:
    """out=: a half writes its rows into the whole matrix (no copy); stale values there are overwritten."""
    words, t, a, b = random_pairs(400, 900, 30, 11)
    alive = lambda x: x[:, 0] > 0.3  # noqa: E731 - some pairs pruned (NaN loop features)
    plain = pair_feature_matrix(words, t.sides(a), t.sides(b), alive)
    whole = np.full((1000, len(FEATURES)), 7.0)
    found = pair_feature_matrix(words, t.sides(a), t.sides(b), alive, out=whole[50:950])
    assert np.isnan(plain.x).any() and found.x.base is whole
    assert np.array_equal(whole[50:950], plain.x, equal_nan=True)
    assert (whole[:50] == 7.0).all() and (whole[950:] == 7.0).all()
    assert found.name_spans == plain.name_spans
