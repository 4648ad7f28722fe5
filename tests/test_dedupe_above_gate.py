"""Above background's fork gate (a 300k rebuild's process holds more than FORK_MAX_RESIDENT_MIB), up to
300k-sized work, the features' and the descriptions' halves still go to a forked child (halves.split_of), the
similarity passes to a thread, and everything is what one pass gives, exactly.

- split_of's gate: a child up to THREAD_MAX_PAIRS while the process with FORK_ADDS_MIB stays under the thread
  gate; a thread where no child may be made (INDICATORS_FORK=0, child=False, the memory) and the work asks for
  it; one pass above THREAD_MAX_PAIRS (a child up to child_most: the features at 1M rows, never a thread) and
  with INDICATORS_THREADS=0, which also takes rapidfuzz to one worker (every core otherwise, whatever the pairs);
- in_halves really forks there (the second half's pid is another process's);
- find_candidates with forked halves above the gate equals one pass, with and without do-not-merge rules;
- the features hold segments only for pairs of one name (); the review computes the others.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common import background, halves
from pipelines.dedupe import blocking
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.features import pair_feature_matrix
from pipelines.dedupe.model import load_model
from tests.dedupe_fixtures import alternate_rows, clusters, random_pairs, record_passes, refusing_rules

needs_fork = pytest.mark.skipif(not background.fork_supported(), reason="no fork here: no child")


@pytest.fixture(autouse=True)
def above_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a 300k rebuild: INDICATORS_FORK unset, the process above background's fork gate."""
    monkeypatch.delenv("INDICATORS_FORK", raising=False)
    monkeypatch.delenv("INDICATORS_THREADS", raising=False)
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    assert not background.fork_available()


def _part(lo: int, hi: int) -> tuple[list[int], list[tuple[int, int]]]:
    return list(range(lo, hi)), [(os.getpid(), threading.get_ident())] * (hi - lo)


def _join(first: tuple[list, list], second: tuple[list, list], h: int) -> tuple[list, list]:
    assert second[0][:1] == [h]
    return first[0] + second[0], first[1] + second[1]


@needs_fork
def test_split_of_above_the_fork_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(halves, "THREAD_MAX_PAIRS", 10)
    assert halves.split_of(10) == halves.split_of(10, threads=True) == "fork"
    assert halves.split_of(11, threads=True) == ""  # more than 300k-sized work (1M rows): one pass
    assert (
        halves.split_of(10, threads=True, child=False) == "thread" and halves.split_of(10, child=False) == ""
    )
    assert halves.split_of(20, least=21) == "" and halves.split_of(20, most=20) == "fork"
    # rapidfuzz's threads add no memory: every core whatever the pairs (1M rows' 2.3M too).
    assert halves.workers(10) == -1 and halves.workers(11) == -1
    # The features above THREAD_MAX_PAIRS (1M rows): a child up to child_most, never a thread.
    assert halves.split_of(11, threads=True, child_most=12) == "fork"
    assert halves.split_of(13, threads=True, child_most=12) == ""
    assert halves.split_of(11, threads=True, child=False, child_most=12) == ""
    monkeypatch.setattr(
        halves, "thread_available", lambda adds_mib=0.0: adds_mib == 0.0
    )  # no room for a child
    assert halves.split_of(10, threads=True) == "thread" and halves.split_of(10) == ""
    assert halves.split_of(11, threads=True, child_most=12) == ""  # no room for a child: no thread either
    monkeypatch.undo()
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert halves.split_of(10, threads=True) == "thread" and halves.split_of(10) == ""
    monkeypatch.setenv("INDICATORS_THREADS", "0")  # one core, as before the halves
    assert halves.split_of(10, threads=True) == "" and halves.workers(10) == 1
    monkeypatch.delenv("INDICATORS_FORK")
    assert halves.split_of(10, threads=True) == "" and not halves.threads_allowed()


@needs_fork
def test_in_halves_above_the_gate_computes_the_second_half_in_a_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    rows, where = halves.in_halves(_part, 11, _join, threads=True)
    assert rows == list(range(11))
    me = (os.getpid(), threading.get_ident())
    assert set(where[:5]) == {me} and len(set(where[5:])) == 1 and where[5][0] != os.getpid()
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    assert halves.in_halves(_part, 11, _join, threads=True) == (list(range(11)), [me] * 11)


@needs_fork
def test_candidates_above_the_gate_equal_one_pass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    frame = clusters()
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    splits: list[str] = []
    split_of = halves.split_of

    def seen(n: int, **kwargs: object) -> halves.Split:
        splits.append(split_of(n, **kwargs))  # type: ignore[arg-type]
        return splits[-1]

    monkeypatch.setattr(halves, "split_of", seen)
    split = find_candidates(new, existing)
    # The passes in a thread; the features, their explanations' forms (made once for both halves) and the
    # descriptions in a child.
    assert splits == ["thread", "fork", "fork", "fork"] and len(split) > 180  # 193 since round 11
    rules = refusing_rules(tmp_path, split)
    split_refused = find_candidates(new, existing, rules)
    assert 0 < len(split_refused) < len(split)
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    splits.clear()
    one = find_candidates(new, existing)
    assert splits == ["", "", ""]
    pd.testing.assert_frame_equal(split, one, check_exact=True)
    pd.testing.assert_frame_equal(split_refused, find_candidates(new, existing, rules), check_exact=True)


@needs_fork
def test_candidates_of_a_million_rows_fork_only_the_features(monkeypatch: pytest.MonkeyPatch) -> None:
    """Work past THREAD_MAX_PAIRS (1M rows): the features' second half in a child, the rest one pass."""
    frame = clusters()
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(halves, "THREAD_MAX_PAIRS", 2)
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    monkeypatch.setattr(blocking, "PASSES_THREAD_MAX", 2)
    splits: list[str] = []
    split_of = halves.split_of

    def seen(n: int, **kwargs: object) -> halves.Split:
        splits.append(split_of(n, **kwargs))  # type: ignore[arg-type]
        return splits[-1]

    monkeypatch.setattr(halves, "split_of", seen)
    forked = find_candidates(new, existing)
    # The passes, the features' forked halves, their explanations' forms (one pass past the patched
    # THREAD_MAX_PAIRS; at 1M rows 228k explanations are split), the descriptions.
    assert splits == ["", "fork", "", ""] and len(forked) > 180  # 193 since round 11
    monkeypatch.setattr(halves, "FEATURES_CHILD_MAX_PAIRS", 2)
    splits.clear()
    one = find_candidates(new, existing)
    assert splits == ["", "", ""]
    pd.testing.assert_frame_equal(forked, one, check_exact=True)


def test_passes_above_the_gate_run_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = alternate_rows()
    words = load_model().words
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    callers = record_passes(monkeypatch)
    beside = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert len(callers) == 3 and len(set(callers)) == 2 and {p for p, _ in callers} == {os.getpid()}
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    callers.clear()
    one = generate_pairs(rows, BlockingConfig(), words.near_synonyms)
    assert set(callers) == {(os.getpid(), threading.get_ident())}
    pd.testing.assert_frame_equal(beside, one, check_exact=True)


def test_features_hold_segments_of_one_name_pairs_only() -> None:
    words, t, a, b = random_pairs(300, 2000, 40, 5)
    spans = list(pair_feature_matrix(words, t.sides(a), t.sides(b)).name_spans)
    one_name = t.form[a] == t.form[b]
    assert one_name.sum() >= 40 and not one_name.all()
    assert all(s == () for s in np.array(spans, dtype=object)[one_name])
    assert all(s is None for k, s in enumerate(spans) if not one_name[k])


def test_worth_scoring_takes_rapidfuzz_to_one_worker_with_threads_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The cheap similarity before scoring asks rapidfuzz for every core unless INDICATORS_THREADS=0 says one.
    from pipelines.dedupe import candidates

    frame = clusters()
    asked: list[int] = []
    cpdist = candidates.process.cpdist

    def recorded(*args: object, workers: int = 1, **kwargs: object) -> object:
        if sys._getframe(1).f_globals["__name__"] == candidates.__name__:  # not the passes' own calls
            asked.append(workers)
        return cpdist(*args, workers=workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(candidates.process, "cpdist", recorded)
    find_candidates(frame.iloc[::2], frame.iloc[1::2])
    assert asked and set(asked) == {-1}
    asked.clear()
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    find_candidates(frame.iloc[::2], frame.iloc[1::2])
    assert asked and set(asked) == {1}
