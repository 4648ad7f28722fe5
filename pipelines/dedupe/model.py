"""The pair model: is a candidate pair of indicators one measure worded twice? (record linkage, issue 11)

A logistic regression over the features of pipelines/dedupe/features.py, the usual tool of record linkage
besides Fellegi–Sunter (whose agreement weights are a special case: one indicator per field, no
interactions). The coefficients are data, not code: schemas/reference/pair_model.json, written by
`python -m pipelines.dedupe.pair_model train` from the tune split of the labelled pairs. Scoring at run
time is a dot product in numpy: deterministic and fast. The JSON also holds the word lists the
difference features use, so that a bureau can read and review them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.dedupe.features import FEATURES, DifferenceWords
from schemas.vocab import REFERENCE_DIR

MODEL_JSON = REFERENCE_DIR / "pair_model.json"
# Rows scored at a time (PairModel.probability, upper_bound): a multiple of BLAS's row blocks, so that the
# blocks' products are bit for bit those of one call over all rows.
SCORE_ROWS = 65_536


@dataclass(frozen=True)
class PairModel:
    """Logistic coefficients over FEATURES (standardized with mean/scale), a listing threshold, word lists."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # probability from which a pair is listed for review
    likely: float  # probability from which a listed pair is marked likely (可能性较高)
    words: DifferenceWords
    trained_on: str = ""

    def probability(self, x: np.ndarray) -> np.ndarray:
        # Standardized in blocks of SCORE_ROWS rows: a temporary of one block, not of x (2.2M pairs x 37
        # features: 0.6 GiB at 1M rows, the consolidation's peak). Each row's products are its own; blocks
        # start at multiples of SCORE_ROWS, so BLAS groups the rows as in one call (same bits, tested). Each
        # block is made row by row (order="C") whatever x's order: BLAS adds a row's products in an order
        # that follows the layout, and a feature matrix is stored column by column (halves.columns).
        out = np.empty(len(x))
        for lo in range(0, len(x), SCORE_ROWS):
            standard = np.subtract(x[lo : lo + SCORE_ROWS], self.mean, order="C")
            standard /= self.scale
            z = standard @ self.coef + self.intercept
            out[lo : lo + SCORE_ROWS] = 1.0 / (1.0 + np.exp(-z))
        return out

    def upper_bound(self, x: np.ndarray, unknown: Sequence[str]) -> np.ndarray:
        """The highest probability each pair can reach whatever the values (0–1) of the unknown features."""
        known = np.array([f not in unknown for f in self.features])
        ends = np.stack(
            [(0.0 - self.mean) / self.scale * self.coef, (1.0 - self.mean) / self.scale * self.coef]
        )
        best = ends.max(axis=0)[~known].sum()
        out = np.empty(len(x))
        for lo in range(0, len(x), SCORE_ROWS):  # blocks, as in probability
            # A copy (boolean index) standardized in place: column-ordered whatever x's order, as it always was
            # (numpy lays out x[:, mask] column by column), so the same bits.
            standard = x[lo : lo + SCORE_ROWS][:, known]
            standard -= self.mean[known]
            standard /= self.scale[known]
            z = standard @ self.coef[known] + self.intercept
            z = z + best
            out[lo : lo + SCORE_ROWS] = 1.0 / (1.0 + np.exp(-z))
        return out

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Each feature's share of the log-odds (the reason text names the largest ones)."""
        return ((x - self.mean) / self.scale) * self.coef


def _pairs(rows: Sequence[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in rows)


def model_from_dict(data: dict[str, Any]) -> PairModel:
    features = tuple(data["features"])
    if features != FEATURES:
        raise ValueError(f"{MODEL_JSON.name}: features {features} differ from the code's {FEATURES}; retrain")
    return PairModel(
        features=features,
        mean=np.asarray(data["mean"], dtype=float),
        scale=np.asarray(data["scale"], dtype=float),
        coef=np.asarray(data["coef"], dtype=float),
        intercept=float(data["intercept"]),
        threshold=float(data["threshold"]),
        likely=float(data.get("likely", data["threshold"])),
        words=DifferenceWords(
            contrasts=_pairs(data["contrasts"]),
            near_synonyms=_pairs(data["near_synonyms"]),
            measure_words=tuple(data.get("measure_words", ())),
        ),
        trained_on=str(data.get("trained_on", "")),
    )


@cache
def load_model(path: Path = MODEL_JSON) -> PairModel:
    """The committed pair model (read once per process)."""
    return model_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def untrained_model(words: DifferenceWords) -> PairModel:
    """A model with no weights: what training computes features with."""
    k = len(FEATURES)
    return PairModel(FEATURES, np.zeros(k), np.ones(k), np.zeros(k), 0.0, 0.5, 0.5, words)
