"""Per-pair work in two halves on two cores (pipelines/common/halves.py) gives what one pass gives, exactly.

- in_halves really forks (the second half's pid is another process's) and joins the halves in order;
- find_candidates split at every size (SPLIT_MIN 2, a real fork) equals one in-process pass
  (INDICATORS_FORK=0): every column, numbers bit for bit, with and without reviewers' do-not-merge rules;
- generate_pairs with its first similarity pass in a forked child gives the pairs of one in-process run;
- _differences (segments flattened, patterns summed by np.add.reduceat) equals the plain per-pair loop.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common import halves
from pipelines.common.background import fork_supported
from pipelines.dedupe import blocking
from pipelines.dedupe.blocking import prepare_rows
from pipelines.dedupe.candidates import _differences, find_candidates
from pipelines.dedupe.features import FormCodes, definition_form, pair_feature_matrix
from pipelines.dedupe.model import load_model
from pipelines.dedupe.patterns import EMPTY, SAME_NAME, spans_of
from pipelines.dedupe.table import RowTable
from pipelines.normalize.canonical import MatchRules, default_rules
from tests.dedupe_fixtures import (
    clusters,
    first_pass_in_a_child_same_pairs,
    random_pairs,
    refusing_rules,
)
from tests.forking import forks_on  # noqa: F401  (autouse: forking on in this module)


def _part(lo: int, hi: int) -> tuple[list[int], list[int]]:
    return list(range(lo, hi)), [os.getpid()] * (hi - lo)


def _join(
    first: tuple[list[int], list[int]], second: tuple[list[int], list[int]], h: int
) -> tuple[list[int], list[int]]:
    assert second[0][:1] == [h]
    return first[0] + second[0], first[1] + second[1]


@pytest.mark.skipif(not fork_supported(), reason="no fork here: in_halves runs one pass")
def test_in_halves_computes_the_second_half_in_a_child_and_joins_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    rows, pids = halves.in_halves(_part, 11, _join)
    assert rows == list(range(11))
    assert set(pids[:5]) == {os.getpid()}
    assert os.getpid() not in set(pids[5:]) and len(set(pids[5:])) == 1


@pytest.mark.skipif(not fork_supported(), reason="no fork here")
def test_rows_a_child_writes_into_shared_rows_are_seen_by_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    x = halves.shared_rows(9, 3)

    def part(lo: int, hi: int) -> list[int]:
        x[lo:hi] = np.arange(lo * 3, hi * 3, dtype=float).reshape(-1, 3) + 0.5
        return [os.getpid()]

    def join(first: list[int], second: list[int], h: int) -> list[int]:
        return first + second

    pids = halves.in_halves(part, 9, join)
    assert pids[0] == os.getpid() != pids[1]
    assert np.array_equal(x, np.arange(27, dtype=float).reshape(9, 3) + 0.5)


@pytest.mark.skipif(not fork_supported(), reason="no fork here: in_halves runs one pass")
def test_a_child_share_moves_the_split_point_of_a_fork_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    rows, pids = halves.in_halves(_part, 20, _join, child_share=0.3)
    assert rows == list(range(20))
    assert set(pids[:14]) == {os.getpid()} and os.getpid() not in set(pids[14:])
    bounds: list[tuple[int, int]] = []

    def part(lo: int, hi: int) -> list[int]:
        bounds.append((lo, hi))
        return list(range(lo, hi))

    rows = halves.in_halves(part, 20, lambda f, s, _h: f + s, split="thread", child_share=0.3)
    assert rows == list(range(20)) and sorted(bounds) == [(0, 10), (10, 20)]  # a thread: always halves


def test_in_halves_below_split_min_or_without_fork_is_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    assert halves.in_halves(_part, 7, _join) == (list(range(7)), [os.getpid()] * 7)
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert halves.in_halves(_part, 7, _join) == (list(range(7)), [os.getpid()] * 7)


@pytest.mark.skipif(not fork_supported(), reason="no fork here: in_halves runs one pass")
def test_candidates_in_halves_equal_one_pass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    frame = clusters()
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    split = find_candidates(new, existing)
    assert len(split) > 180  # 193 since round 11 (counts_apart: counts of unrelated things)
    rules = refusing_rules(tmp_path, split)
    split_refused = find_candidates(new, existing, rules)
    assert 0 < len(split_refused) < len(split)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    monkeypatch.setattr(halves, "thread_available", lambda adds_mib=0.0: False)  # one pass: no thread either
    pd.testing.assert_frame_equal(split, find_candidates(new, existing), check_exact=True)
    pd.testing.assert_frame_equal(split_refused, find_candidates(new, existing, rules), check_exact=True)


@pytest.mark.skipif(not fork_supported(), reason="no fork here: one pass")
def test_similarity_passes_beside_each_other_give_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first similarity pass in a forked child (PASSES_SPLIT_MIN 1): the same pairs as all in-process."""
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)

    def in_process() -> None:
        monkeypatch.setenv("INDICATORS_FORK", "0")
        monkeypatch.setattr(halves, "thread_available", lambda adds_mib=0.0: False)  # no thread either

    first_pass_in_a_child_same_pairs(monkeypatch, in_process)


def _plain_differences(
    t: RowTable, a: np.ndarray, b: np.ndarray, rules: MatchRules
) -> tuple[list[int], list]:
    """The per-pair loop _differences replaced."""
    kept, out = [], []
    for n, (ia, ib) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        ops = spans_of(t.match[ib], t.match[ia])
        pattern = "；".join(f"{x or EMPTY}→{y or EMPTY}" for x, y, _, _ in ops) or SAME_NAME
        if rules.blocked(t.ids[ia], t.match[ia], t.ids[ib], t.match[ib], pattern):
            continue
        kept.append(n)
        first = (ops[0][0] or ops[0][1]) if ops else ""
        out.append((pattern, len(ops), sum(max(len(x), len(y)) for x, y, _, _ in ops), first))
    return kept, out


def test_differences_equal_the_per_pair_loop(tmp_path: Path) -> None:
    words, t, a, b = random_pairs(300, 3000, 40, 5)
    # Spans known for some pairs (the features' own, of the names as written), None for the others.
    known = pair_feature_matrix(words, t.sides(a), t.sides(b)).name_spans
    spans = [s if k % 3 else None for k, s in enumerate(known)]
    for rules in (default_rules(), refusing_rules(tmp_path, _pattern_frame(t, a, b))):
        kept, d = _differences(t, a, b, rules, spans)
        want_kept, want = _plain_differences(t, a, b, rules)
        assert kept == want_kept
        got = list(
            zip(d.pattern.tolist(), d.segments.tolist(), d.changed.tolist(), d.first.tolist(), strict=True)
        )
        assert got == want
        assert d.segments.dtype == d.changed.dtype == np.int64 and d.pattern.dtype == d.first.dtype == object


def _pattern_frame(t: RowTable, a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    kept, d = _differences(t, a, b, default_rules(), [None] * len(a))
    sel = np.asarray(kept)
    frame = pd.DataFrame({"pattern": d.pattern, "id_a": t.ids[a[sel]], "id_b": t.ids[b[sel]]})
    return frame[frame["pattern"] != SAME_NAME]


def test_features_of_some_pairs_with_every_form_known_equal_features_from_their_names() -> None:
    """pair_feature_matrix narrows FormCodes to the forms and 指标解释 its pairs use (_narrowed): the same
    matrix and segments as features computed from the pairs' own names (no FormCodes)."""
    words = load_model().words
    rows = prepare_rows(clusters(), "new", default_rules())
    t = RowTable.of(rows, words.near_synonyms)
    rng = np.random.default_rng(9)
    a, b = rng.integers(0, len(rows) // 5, 500), rng.integers(0, len(rows) // 5, 500)  # a part of the forms
    a[:20] = b[:20]
    known = FormCodes(
        t.forms, t.form[a], t.form[b], definitions=(t.definitions, t.definition_code[a], t.definition_code[b])
    )
    assert len(np.unique(np.concatenate([known.code_a, known.code_b]))) < len(t.forms) / 2
    narrowed = pair_feature_matrix(words, t.sides(a), t.sides(b), known=known)
    plain = pair_feature_matrix(words, t.sides(a), t.sides(b))
    assert np.array_equal(narrowed.x, plain.x, equal_nan=True)
    assert narrowed.name_spans == plain.name_spans
    # What the table made once for every pair (the forms' suffix classes, the explanations' forms made before
    # a forked split) narrows the same way.
    ratio = np.zeros(len(a))
    forms = np.array([definition_form(str(text)) for text in t.definitions], dtype=object)
    table_known = replace(t.known(a, b, ratio, ratio, forms), ratio=None, order=None)
    assert table_known.suffix_classes is not None and (table_known.suffix_classes != "").any()
    assert (forms != "").any()
    from_table = pair_feature_matrix(words, t.sides(a), t.sides(b), known=table_known)
    assert np.array_equal(from_table.x, plain.x, equal_nan=True)


def test_rows_taken_equal_numpy_rows_in_column_order() -> None:
    """halves.rows_taken gathers a matrix's rows one column at a time: numpy's x[rows], column-ordered, for a
    mask or positions, whatever the matrix's own order."""
    rng = np.random.default_rng(3)
    x = rng.random((1_000, 7))
    x[rng.random((1_000, 7)) < 0.05] = np.nan
    mask = rng.random(1_000) < 0.4
    positions = np.array([5, 0, 999, 5, 17])
    for matrix in (x, np.asfortranarray(x), halves.columns(1_000, 7) + x):
        for rows in (mask, positions, np.zeros(1_000, dtype=bool)):
            got = halves.rows_taken(matrix, rows)
            assert got.flags["F_CONTIGUOUS"] and got.shape == (len(x[rows]), 7)
            assert np.array_equal(got, x[rows], equal_nan=True)
