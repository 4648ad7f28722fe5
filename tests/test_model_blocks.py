"""The pair model scores rows in blocks (pipelines/dedupe/model.py, SCORE_ROWS) to hold a block's temporary, not
the whole matrix's: the same probabilities as one pass over every row. Bit for bit, except where BLAS's threads
split one pass's rows elsewhere than at a block boundary: those few rows' sums are added in another grouping
(the last bit moves, as it does with another thread count), never a listed score's first decimal."""

from __future__ import annotations

import numpy as np

from pipelines.common.halves import shared_rows
from pipelines.dedupe.features import COLUMN, FEATURES, LOOP_FEATURES, pair_feature_matrix
from pipelines.dedupe.model import SCORE_ROWS, load_model
from tests.dedupe_fixtures import random_pairs


def _features(n: int) -> np.ndarray:
    """Feature-like rows: 0/1 flags and similarities, some NaN (pruned loop features)."""
    rng = np.random.default_rng(11)
    x = rng.random((n, len(FEATURES)))
    x[:, ::3] = x[:, ::3] > 0.5
    x[rng.random(n) < 0.1, len(FEATURES) - 1] = np.nan
    return x


def test_blocks_give_the_probabilities_of_one_pass() -> None:
    model = load_model()
    n = 2 * SCORE_ROWS + 1_237  # a last block shorter than the others, and not a multiple of 8
    x = _features(n)
    whole = 1.0 / (1.0 + np.exp(-(((x - model.mean) / model.scale) @ model.coef + model.intercept)))
    got = model.probability(x)
    moved = np.flatnonzero((got != whole) & ~np.isnan(whole))
    assert len(moved) <= 16  # a thread split's few rows at most
    np.testing.assert_array_max_ulp(got[moved], whole[moved], maxulp=64)
    assert np.array_equal(np.round(100 * got, 1), np.round(100 * whole, 1), equal_nan=True)
    known = np.array([f not in LOOP_FEATURES for f in FEATURES])
    ends = np.stack(
        [(0.0 - model.mean) / model.scale * model.coef, (1.0 - model.mean) / model.scale * model.coef]
    )
    z = ((x[:, known] - model.mean[known]) / model.scale[known]) @ model.coef[known] + model.intercept
    bound = 1.0 / (1.0 + np.exp(-(z + ends.max(axis=0)[~known].sum())))
    upper = model.upper_bound(x, LOOP_FEATURES)
    moved = np.flatnonzero((upper != bound) & ~np.isnan(bound))
    assert len(moved) <= 16
    # A last bit of the log-odds z moves a probability near 0 (≈ exp(z)) by |z| ulps: compared relatively (the
    # round-9 model's bound of 1.7e-15 differs by 125 ulps, 1.4e-14 relative, with BLAS's threads on).
    np.testing.assert_allclose(upper[moved], bound[moved], rtol=1e-13, atol=0)
    assert np.isnan(got).any() and (got > 0.5).any() and (got < 0.5).any()  # the rows mean something


def test_a_column_ordered_matrix_scores_to_the_same_bits() -> None:
    """Feature matrices are stored column by column (halves.columns): the blocks are laid out as a row-ordered
    matrix's were, so BLAS adds each row's products in the same order — every bit the same."""
    model = load_model()
    x = _features(SCORE_ROWS + 3_001)
    by_columns = np.asfortranarray(x)
    assert by_columns.flags["F_CONTIGUOUS"] and not by_columns.flags["C_CONTIGUOUS"]
    assert np.array_equal(model.probability(by_columns), model.probability(x), equal_nan=True)
    assert np.array_equal(
        model.upper_bound(by_columns, LOOP_FEATURES), model.upper_bound(x, LOOP_FEATURES), equal_nan=True
    )


def test_feature_matrices_are_column_ordered_with_the_same_values() -> None:
    """pair_feature_matrix writes one feature at a time: its matrix is column-ordered (halves.columns, and
    halves.shared_rows for a forked half), and a row-ordered matrix given as out gets the same values."""
    words, t, a, b = random_pairs(300, 2000, 40, 5)
    x = pair_feature_matrix(words, t.sides(a), t.sides(b)).x
    assert x.flags["F_CONTIGUOUS"] and not x.flags["C_CONTIGUOUS"]
    shared = shared_rows(len(a), len(FEATURES))
    assert shared.flags["F_CONTIGUOUS"] and shared.shape == x.shape
    by_rows = np.full((len(a), len(FEATURES)), 7.0)
    pair_feature_matrix(words, t.sides(a), t.sides(b), out=by_rows)
    pair_feature_matrix(words, t.sides(a), t.sides(b), out=shared)
    assert np.array_equal(by_rows, x, equal_nan=True) and np.array_equal(shared, x, equal_nan=True)
    assert (x[:, COLUMN["identical"]] == 1).any() and (x[:, COLUMN["name_ratio"]] < 1).any()
