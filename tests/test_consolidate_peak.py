"""Consolidation's memory peak at 1M rows (issue 15): the pair model's scores with one temporary of the
feature matrix (2.2M pairs x 37 features, 0.6 GiB), not two.

- the pair model standardizes in place: probability and upper_bound give the bits of the plain formula and
  leave the feature matrix as it was.
(Computing the features in chunks was tried and left out: the per-name work repeated in every chunk cost
≈ 20 % more CPU in the features at 300k rows for ≈ 200 MiB less.)
"""

from __future__ import annotations

import numpy as np

from pipelines.dedupe.features import LOOP_FEATURES
from pipelines.dedupe.model import load_model


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
