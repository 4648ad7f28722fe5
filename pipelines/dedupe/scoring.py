"""Scoring: which generated pairs are listed for review, and which of them are marked likely.

find_candidates takes a scoring object, so that a benchmark or a test injects another model, threshold or
the first version's hand weights without touching generation:
- ModelScoring (the default): 相似度 = the pair model's probability (0–100) that the two are one measure;
  listed from the model's threshold, marked 可能性较高 from its likely mark; below that mark only each
  indicator's per_name likeliest pairs, and a pair with a known contrast (开工/完工) or another conflict of
  likely_only (two kinds of quantity, groups or cost items with none in common, two measure words) not at all; the same wording filed
  differently is always listed.
- HandScoring: the first version's hand weights, kept to measure the model against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pipelines.dedupe.features import COLUMN, LOOP_FEATURES, DifferenceWords
from pipelines.dedupe.model import PairModel, load_model
from pipelines.dedupe.objects import LIKELY_ONLY_CONFLICTS

ORDER_DISCOUNT = 8.0  # a rearrangement of the same characters scores (100 - this) at most as a name score


@dataclass(frozen=True)
class Scored:
    """Scores (0–100; -1 when pruned), the pairs to list, and the score from which a pair is likely."""

    score: np.ndarray
    keep: np.ndarray
    likely: float


class Scoring(Protocol):
    """What find_candidates needs of a scorer."""

    @property
    def words(self) -> DifferenceWords: ...

    def alive(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """Which pairs can still be listed, given the vectorized features (None: score every pair fully)."""
        ...

    def score(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Scored:
        """Score pairs (a[n], b[n]) with feature matrix x; a and b number the indicators in an order that
        does not depend on the order of the input rows (ties are broken by it)."""
        ...


def name_score(x: np.ndarray) -> np.ndarray:
    """Name similarity 0–100 shown on the sheet: edit similarity, or word-order similarity a little lower."""
    return 100 * np.maximum(x[:, COLUMN["name_ratio"]], x[:, COLUMN["order_ratio"]] - ORDER_DISCOUNT / 100)


def definition_score(x: np.ndarray) -> np.ndarray:
    """指标解释 similarity 0–100, NaN when either side has none."""
    return np.where(x[:, COLUMN["def_both"]] > 0, 100 * x[:, COLUMN["def_sim"]], np.nan)


def _best_per_name(
    a: np.ndarray, b: np.ndarray, score: np.ndarray, eligible: np.ndarray, m: int
) -> np.ndarray:
    """Pairs among the m best-scored eligible pairs of their kept indicator (A) or of their indicator to
    merge (B): each indicator's m likeliest duplicates, and each new indicator's m likeliest targets.

    A review queue lists, per indicator, its few likeliest duplicates rather than every similar name: the
    true one is nearly always among them, and the list stays readable at a national library's size. Ties are
    broken by the other indicator (a and b number indicators independently of the input order).
    """
    keep = np.zeros(len(a), dtype=bool)
    idx = np.flatnonzero(eligible)
    if not len(idx):
        return keep
    for side, other in ((a, b), (b, a)):
        order = idx[np.lexsort((other[idx], -score[idx], side[idx]))]
        members = side[order]
        first = np.searchsorted(members, members, side="left")
        keep[order[np.arange(len(order)) - first < m]] = True
    return keep


@dataclass(frozen=True)
class ModelScoring:
    """The pair model's probability, listed from its threshold (or min_score, 0–100, when given)."""

    model: PairModel = field(default_factory=load_model)
    min_score: float | None = None  # listing threshold on the 0–100 score; None: the model's
    # 较低 pairs are listed only among the m best of either indicator (likely ones and the same wording filed
    # differently always): the few likeliest per indicator, not every similar name (0: all above the threshold).
    # 7, not 5, since the group, count and unit-family conflicts of objects.py rank other groups' and other
    # things' measures lower: leave-one-set-out cross-validation found two more duplicates and fewer
    # non-duplicates listed (without those features 7 listed more non-duplicates; benchmarks/cv_match.py).
    per_name: int = 7
    # Features that say two measures differ (a known contrast 开工/完工; since round 7 two kinds of quantity,
    # 早孕建册率 / 早孕建册数; groups of people with none in common, 患者 / 学校满意度; two measure words, 验收合格率 /
    # 设备验收及时率; costs of two items, 人均培训成本 / 人均会议成本): a pair with one is listed only when the model
    # finds it likely. No labelled duplicate has any of round 7's four, while the model alone left ≈ 100 such
    # non-duplicates on the list (benchmarks/cv_match.py).
    likely_only: tuple[str, ...] = ("contrast", *LIKELY_ONLY_CONFLICTS)

    @property
    def words(self) -> DifferenceWords:
        return self.model.words

    def alive(self) -> Callable[[np.ndarray], np.ndarray]:
        floor = self.min_score / 100 if self.min_score is not None else self.model.threshold
        return lambda x: self.model.upper_bound(x, LOOP_FEATURES) >= floor

    def score(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Scored:
        # NaN: pruned in pair_features, the pair cannot reach the threshold.
        score = np.nan_to_num(100.0 * self.model.probability(x), nan=-1.0)
        threshold = self.min_score if self.min_score is not None else 100.0 * self.model.threshold
        likely = 100.0 * self.model.likely
        keep = score >= threshold
        identical = x[:, COLUMN["identical"]] > 0
        if self.min_score is None:
            # A known contrast (开工/完工, 增/减) changes the measure, as do likely_only's other conflicts: listed
            # only when the model finds it likely.
            for feature in self.likely_only:
                keep &= (x[:, COLUMN[feature]] == 0) | (score >= likely)
            # The same wording filed under another 二级, scope or function class is always worth a look.
            keep |= identical & (x[:, COLUMN["unit_conflict"]] == 0)
            if self.per_name:
                # Likely pairs and the same wording filed differently are always kept; the rest only among
                # the best of either indicator.
                keep &= _best_per_name(a, b, score, keep, self.per_name) | identical | (score >= likely)
        return Scored(score, keep, likely)


@dataclass(frozen=True)
class HandScoring:
    """The first version's hand weights (kept to measure the model against)."""

    model: PairModel = field(default_factory=load_model)  # only its word lists are read
    min_score: float | None = None  # listing threshold; None: hand_min_score
    hand_min_score: float = 65.0
    definition_weight: float = 0.2  # share of the explanation in the score when both rows have one
    unit_conflict_penalty: float = 25.0
    unit_missing_penalty: float = 5.0
    number_penalty: float = 40.0
    include_suffix_conflicts: bool = False  # True keeps 人次/场次-like pairs, scored at most 30

    @property
    def words(self) -> DifferenceWords:
        return self.model.words

    def alive(self) -> None:
        return None

    def score(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> Scored:
        names, defs = name_score(x), definition_score(x)
        has_def = x[:, COLUMN["def_both"]] > 0
        compatible = x[:, COLUMN["suffix_conflict"]] == 0
        score = np.where(
            has_def,
            (1 - self.definition_weight) * names + self.definition_weight * np.nan_to_num(defs),
            names,
        )
        score = (
            score
            - self.unit_conflict_penalty * (x[:, COLUMN["unit_conflict"]] > 0)
            - self.unit_missing_penalty * (x[:, COLUMN["unit_missing"]] > 0)
        )
        score = np.where(compatible, score, np.minimum(score, 30.0))
        score = score - self.number_penalty * (x[:, COLUMN["number_diff"]] > 0)
        threshold = self.min_score if self.min_score is not None else self.hand_min_score
        if not self.include_suffix_conflicts:
            score = np.where(compatible, score, -1.0)
        keep = score >= threshold
        if not self.include_suffix_conflicts:
            keep &= compatible
        return Scored(score, keep, self.hand_min_score)
