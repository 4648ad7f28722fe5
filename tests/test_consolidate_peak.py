"""Consolidation's memory peak at 1M rows (issue 15): the pair features and the model's scores in bounded
temporaries, with the same review list.

- the pair features are computed in chunks of FEATURE_CHUNK pairs: any chunk size gives exactly the list of
  one chunk (every column bit for bit), with and without reviewers' do-not-merge rules;
- the pair model standardizes in place: probability and upper_bound give the bits of the plain formula and
  leave the feature matrix as it was.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe import candidates as cand
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.features import LOOP_FEATURES
from pipelines.dedupe.model import load_model
from tests.dedupe_fixtures import clusters, refusing_rules


def test_features_in_chunks_equal_one_chunk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "0")
    frame = clusters(1500)
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    whole = find_candidates(new, existing, ordered=False)
    assert len(whole) > 200
    rules = refusing_rules(tmp_path, whole)
    whole_refused = find_candidates(new, existing, rules, ordered=False)
    assert 0 < len(whole_refused) < len(whole)
    calls: list[int] = []
    matrix = cand.pair_feature_matrix

    def counted(words: object, a: object, *args: object) -> object:
        calls.append(len(a.match))  # type: ignore[attr-defined]
        return matrix(words, a, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cand, "pair_feature_matrix", counted)
    for size in (1, 37, 100):
        monkeypatch.setattr(cand, "FEATURE_CHUNK", size)
        calls.clear()
        chunked = find_candidates(new, existing, ordered=False)
        assert len(calls) > 2 and max(calls) <= size  # really computed chunk by chunk
        pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
        refused = find_candidates(new, existing, rules, ordered=False)
        pd.testing.assert_frame_equal(refused, whole_refused, check_exact=True)


def test_model_standardizes_in_place_with_the_formulas_bits() -> None:
    model = load_model()
    rng = np.random.default_rng(3)
    x = rng.random((5003, len(model.features)))
    x[::3] = np.round(x[::3])
    before = x.copy()
    plain = 1.0 / (1.0 + np.exp(-(((x - model.mean) / model.scale) @ model.coef + model.intercept)))
    assert np.array_equal(model.probability(x), plain)
    known = np.array([f not in LOOP_FEATURES for f in model.features])
    z = ((x[:, known] - model.mean[known]) / model.scale[known]) @ model.coef[known] + model.intercept
    ends = np.stack(
        [(0.0 - model.mean) / model.scale * model.coef, (1.0 - model.mean) / model.scale * model.coef]
    )
    bound = 1.0 / (1.0 + np.exp(-(z + ends.max(axis=0)[~known].sum())))
    assert np.array_equal(model.upper_bound(x, LOOP_FEATURES), bound)
    assert np.array_equal(x, before)  # the caller's matrix untouched
