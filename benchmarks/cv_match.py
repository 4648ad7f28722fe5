"""Leave-one-set-out cross-validation of the review queue (issue 11): how the matcher does on a set it never saw.

    python -m benchmarks.cv_match [--setup NAME …] [--no-same-table] [--pooled-only] [--misses] [--listed-fp]
                                  [--folds 13|9]

Every labelled set has been evaluated by now, so no single holdout is untouched. Here each of the thirteen sets
(real_pairs.csv tune, real_pairs.csv holdout, labelled_pairs.csv whole, fresh … fresh10 whole) is scored by a
model trained (pipelines/dedupe/pair_model.fit_model, the training command's own fit) on the twelve others (with
--folds 9, the nine sets before round 11 on their eight others: every figure measured before it): their
labelled pairs and the unlabelled candidates generated among their names; the held-out set's names are never
read by training. Its pairs are then labelled as benchmarks/eval_match.py does (find_candidates over its
distinct sides, the same-table rule of consolidation unless --no-same-table) and the figures pooled: micro over
all held-out sets (every labelled pair counted once), and per set.

Setups (SETUPS) are the generation, training, feature and listing choices compared; "shipped" is today's. A
setup leaves features out by zeroing their columns in training (coefficient 0: the model without them). A setup's
candidate generation (BlockingConfig) is used both for the held-out set and for the unlabelled candidates training
reads. A setup is kept only when pooled listed precision rises without pooled recall falling (or recall rises
without precision falling), and no held-out set gets a false automatic merge (merges come from keys, not the
model, so that never moves here).
--misses lists, per setup, every duplicate neither merged nor listed and where it was lost: never generated
(blocking.generate_pairs), under the name bound (candidates._worth_scoring), scored under the listing
threshold, cut by the per-indicator cap (or a contrast), or left out by the same-table rule.
--listed-fp lists, per setup, every labelled non-duplicate the review list holds (score, names, units, 二级).
Deterministic: fixed folds, lbfgs, set order fixed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.eval_match import DATA, label_pairs, load_pairs, metrics, side_tables  # noqa: E402
from pipelines.dedupe import pair_model as pm  # noqa: E402
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs, prepare_rows  # noqa: E402
from pipelines.dedupe.candidates import find_candidates  # noqa: E402
from pipelines.dedupe.features import COLUMN, DifferenceWords  # noqa: E402
from pipelines.dedupe.model import model_from_dict  # noqa: E402
from pipelines.dedupe.scoring import ModelScoring  # noqa: E402
from pipelines.dedupe.vocabulary import measure_synonyms  # noqa: E402

# (label, eval_match data name, splits): one held-out set each.
SETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("real tune", "real", ("tune",)),
    ("real holdout", "real", ("holdout",)),
    ("labelled_pairs", "old", ("tune", "holdout")),
    ("fresh", "fresh", ("fresh",)),
    ("fresh2", "fresh2", ("fresh2",)),
    ("fresh3", "fresh3", ("fresh3",)),
    ("fresh4", "fresh4", ("fresh4",)),
    ("fresh5", "fresh5", ("fresh5",)),
    ("fresh6", "fresh6", ("fresh6",)),
    ("fresh7", "fresh7", ("fresh7",)),
    ("fresh8", "fresh8", ("fresh8",)),
    ("fresh9", "fresh9", ("fresh9",)),
    ("fresh10", "fresh10", ("fresh10",)),
)
# The nine folds before round 11 (fresh7 … fresh10 were then untouched holdouts): every figure measured before it
# is reproduced with --folds 9 (training for a held-out set reads only the eight others).
NINE = SETS[:9]
FOLDS = {"9": NINE, "13": SETS}
Folds = Sequence[tuple[str, str, tuple[str, ...]]]


@dataclass(frozen=True)
class Setup:
    """A training and listing choice: pair_model.Settings and ModelScoring's per-indicator cap."""

    settings: pm.Settings = field(default_factory=pm.Settings)
    per_name: int = ModelScoring.per_name
    blocking: BlockingConfig = field(default_factory=BlockingConfig)  # generation, for training and scoring
    # Features left out: their column is zeroed in training, so their coefficient is 0 (the model without them).
    drop: tuple[str, ...] = ()
    words: DifferenceWords = pm.WORDS  # the word lists training and the features read
    # The conflicts listed only when likely (ModelScoring.likely_only); before round 7 the contrast alone.
    likely_only: tuple[str, ...] = ModelScoring.likely_only


# Candidate generation before the wider passes and unit copies (h3-recall): every setup measured before them.
OLD_BLOCKING = BlockingConfig(top_k=6, top_k_global=3, top_k_head=10, unit_copies=False)

# Round 5's features (objects.py): every setup measured before them leaves them out (Setup.drop).
OBJECT_FEATURES = ("group_conflict", "count_conflict", "unit_family_conflict")
NAMES_ONLY, UNITS = OBJECT_FEATURES[:2], OBJECT_FEATURES[2:]  # read on the names; on the units
# Round 7's features (objects.py): every setup measured before them leaves them out.
KINDS = ("kind_conflict", "groups_apart", "measure_swap", "items_apart")
PERIODS = ("periods_apart",)  # round 8's first feature (objects.py)
PER_UNIT = ("per_unit_apart",)  # round 8's second feature (objects.py)
NEW = ("new_apart",)  # round 8's third feature (objects.py)
ROUND8 = (*PERIODS, *PER_UNIT, *NEW)  # every setup measured before round 8 leaves them out
CONTRAST = ("contrast",)  # the one conflict listed only when likely before round 7
ROUND7_LIKELY = (*CONTRAST, *KINDS)  # the conflicts listed only when likely in round 7
ROUND8_LIKELY = (*ROUND7_LIKELY, *ROUND8)  # in round 8
# Round 5's word lists, before the cost near-synonyms (pair_model.COST_SYNONYMS): every setup measured before them.
# Round 8's near-synonyms (measure_synonyms.csv's last rows): every setup measured before them reads the file without.
ROUND8_SYNONYMS = (("增收", "增加收入"), ("人均", "每人"))
BEFORE_ROUND8 = tuple(p for p in measure_synonyms() if p not in ROUND8_SYNONYMS)
# Round 9 (objects.things_apart, objects.qualifier_apart and contrasts added to pair_model.CONTRASTS): every setup
# measured before it leaves the features out and reads the contrasts without (WORDS8).
ROUND9 = ("things_apart", "qualifier_apart")
# Round 10 took the contrast 合格 / 达标 out of pair_model.CONTRASTS: every setup measured before it reads it, at its
# old place (CONTRASTS9, WORDS9).
ROUND10_DROPPED = (("合格", "达标"),)
# Round 11 added the framework's categories (pair_model.CATEGORY_CONTRASTS, at the end): every setup measured before
# it reads the contrasts without them (CONTRASTS10, WORDS10).
CONTRASTS10 = tuple(c for c in pm.CONTRASTS if c not in pm.CATEGORY_CONTRASTS)
WORDS10 = replace(pm.WORDS, contrasts=CONTRASTS10)
_AT = CONTRASTS10.index(("合格", "覆盖")) + 1
CONTRASTS9 = (*CONTRASTS10[:_AT], *ROUND10_DROPPED, *CONTRASTS10[_AT:])
WORDS9 = replace(pm.WORDS, contrasts=CONTRASTS9)
ROUND9_CONTRASTS = CONTRASTS9[CONTRASTS9.index(("国内", "国际")) :]
WORDS8 = replace(WORDS9, contrasts=tuple(c for c in CONTRASTS9 if c not in ROUND9_CONTRASTS))
ROUND5_WORDS = replace(WORDS8, near_synonyms=BEFORE_ROUND8)
ROUND9_LIKELY = (*ROUND8_LIKELY, *ROUND9)  # the conflicts listed only when likely in round 9
# Round 10 (objects.measure_replaced, objects.judged_apart): every setup measured before it leaves them out.
ROUND10 = ("measure_replaced", "judged_apart")
JUDGED = ROUND10[1:]  # the second, measured after the first
ROUND10_LIKELY = (*ROUND9_LIKELY, *ROUND10)  # the conflicts listed only when likely in round 10
# Round 11 (counted.counts_apart): every setup measured before it leaves it out (_before_round11).
ROUND11 = ("counts_apart",)


def _words(expense_words: int | None = None) -> DifferenceWords:
    """Round 5's word lists with the cost endings and the first expense_words kinds of expense (None: all)."""
    kinds = pm.EXPENSE_WORDS[:expense_words]
    fees = tuple((f"{w}成本", f"{w}{fee}") for w in kinds for fee in ("费用", "费"))
    return replace(WORDS8, near_synonyms=BEFORE_ROUND8 + pm.COST_ENDINGS + fees)


COST_WORDS = _words(8)  # the first list: 运行 … 工作费
EXPENSES = _words()  # with 运维费 … 印刷费: rounds 6 and 7 (pm.WORDS without round 8's near-synonyms)


def _likely(more: tuple[str, ...]) -> tuple[str, ...]:
    """Round 7's conflicts listed only when likely, and more."""
    return (*ROUND7_LIKELY, *more)


def _with(words: DifferenceWords, pairs: tuple[tuple[str, str], ...]) -> DifferenceWords:
    """words with more near-synonyms (after the others, as measure_synonyms.csv's last rows)."""
    return replace(words, near_synonyms=(*words.near_synonyms, *pairs))


def _round9(feature: str, likely: bool = True) -> Setup:
    """Round 8 with one of round 9's features (listed only when likely unless not likely), round 8's contrasts."""
    drop = (*(f for f in ROUND9 if f != feature), *ROUND10)
    return Setup(drop=drop, words=WORDS8, likely_only=(*ROUND8_LIKELY, *((feature,) if likely else ())))


def _round5(
    recall_target: float,
    per_name: int = 5,
    drop: tuple[str, ...] = (),
    blocking: BlockingConfig | None = None,
    words: DifferenceWords = ROUND5_WORDS,
) -> Setup:
    """Today's generation (or blocking) and round 5's features (less drop) and word lists (or words), listed
    from recall_target with per_name."""
    settings = pm.Settings(recall_target=recall_target)
    return Setup(
        settings,
        per_name,
        blocking or BlockingConfig(),
        (*drop, *KINDS, *ROUND8, *ROUND9, *ROUND10),
        words,
        CONTRAST,
    )


def _round6(
    recall_target: float, words: DifferenceWords = EXPENSES, per_name: int = 7, **blocking: Any
) -> Setup:
    """Round 5's shipped setup with the cost near-synonyms (words) and blocking changes, from recall_target."""
    return _round5(recall_target, per_name, blocking=replace(BlockingConfig(), **blocking), words=words)


def _was(per_name: int = 4, **changes: Any) -> Setup:
    """The settings before cross-validation (recall_target 0.99, per_name 4, OLD_BLOCKING) with some changes."""
    settings = replace(pm.Settings(recall_target=0.99), **changes)
    return Setup(
        settings,
        per_name,
        OLD_BLOCKING,
        (*OBJECT_FEATURES, *KINDS, *ROUND8, *ROUND9, *ROUND10),
        ROUND5_WORDS,
        CONTRAST,
    )


def _generation(recall_target: float, per_name: int = 5, **blocking: Any) -> Setup:
    """Today's generation (BlockingConfig()) with some of its settings changed, listed from recall_target."""
    blocking_config = replace(BlockingConfig(), **blocking)
    settings = pm.Settings(recall_target=recall_target)
    return Setup(
        settings,
        per_name,
        blocking_config,
        (*OBJECT_FEATURES, *KINDS, *ROUND8, *ROUND9, *ROUND10),
        ROUND5_WORDS,
        CONTRAST,
    )


# What was tried (benchmarks/RESULTS.md, "Dedupe: leave-one-set-out cross-validation"): "before" is the settings of
# bb33751; "before h3" the shipped settings before the wider generation (recall_target 0.98, per_name 5,
# OLD_BLOCKING); "shipped" today's defaults (BlockingConfig(): top_k 7, top_k_global 4, top_k_head 10, unit copies;
# recall_target 0.98, per_name 7, round 5's features of objects.py, round 6's cost near-synonyms); "round 5" the
# same with recall_target 0.965 and no cost near-synonyms. The others change "before", or round 4's
# generation, as named ("wide": top_k_head 12 as well), all without round 5's features (OBJECT_FEATURES).
# Interaction features and other per-indicator caps were tried with code since removed (figures in RESULTS.md).
SETUPS: dict[str, Setup] = {
    "before": _was(),
    "before h3": Setup(
        pm.Settings(recall_target=0.98),
        5,
        OLD_BLOCKING,
        (*OBJECT_FEATURES, *KINDS, *ROUND8, *ROUND9, *ROUND10),
        ROUND5_WORDS,
        CONTRAST,
    ),
    "shipped": Setup(),
    "round 5": _round5(0.965, 7),  # round 5's shipped: recall_target 0.965, per_name 7, no cost near-synonyms
    "C=0.3": _was(c=0.3),
    "C=3": _was(c=3.0),
    "recall 0.97": _was(recall_target=0.97),
    "recall 0.98": _was(recall_target=0.98),
    "recall 0.995": _was(recall_target=0.995),
    "unlabelled 0.1": _was(unlabelled_weight=0.1),
    "unlabelled 0.5": _was(unlabelled_weight=0.5),
    "per_name 3": _was(per_name=3),
    "per_name 5": _was(per_name=5),
    "recall 0.97 per_name 6": _was(recall_target=0.97, per_name=6),
    "recall 0.98 per_name 6": _was(recall_target=0.98, per_name=6),
    "recall 0.98 per_name 5 likely 0.8": _was(recall_target=0.98, per_name=5, likely_precision=0.8),
    "recall 0.98 per_name 5 C=0.3": _was(recall_target=0.98, per_name=5, c=0.3),
    # Generation (h3-recall): each pass widened or the unit copies alone, then with a stricter listing threshold.
    "unit copies": _generation(0.98, top_k=6, top_k_global=3),
    "unit copies, recall 0.965": _generation(0.965, top_k=6, top_k_global=3),
    "top_k 7": _generation(0.98, top_k_global=3),
    "top_k 8": _generation(0.98, top_k=8, top_k_global=3),
    "global 4": _generation(0.98, top_k=6),
    "global 5": _generation(0.98, top_k=6, top_k_global=5),
    "head 12": _generation(0.98, top_k=6, top_k_global=3, top_k_head=12),
    "top_k 7, global 4, recall 0.98": _generation(0.98),
    "top_k 7, global 4, recall 0.97": _generation(0.97),
    "top_k 7, recall 0.965": _generation(0.965, top_k_global=3),
    "global 4, recall 0.965": _generation(0.965, top_k=6),
    "wide (7, 4, 12), recall 0.98": _generation(0.98, top_k_head=12),
    "wide, recall 0.975": _generation(0.975, top_k_head=12),
    "wide, recall 0.97": _generation(0.97, top_k_head=12),
    "wide, recall 0.965": _generation(0.965, top_k_head=12),
    "wide, recall 0.96": _generation(0.96, top_k_head=12),
    "wide, recall 0.955": _generation(0.955, top_k_head=12),
    "wide, recall 0.97, per_name 4": _generation(0.97, per_name=4, top_k_head=12),
    "wide, recall 0.97, per_name 6": _generation(0.97, per_name=6, top_k_head=12),
    "wide, recall 0.965, per_name 6": _generation(0.965, per_name=6, top_k_head=12),
    "wide, no unit copies, recall 0.97": _generation(0.97, unit_copies=False, top_k_head=12),
    "wide, head 11, recall 0.965": _generation(0.965, top_k_head=11),
    "wider (8, 5, 12), recall 0.965": _generation(0.965, top_k=8, top_k_global=5, top_k_head=12),
    # Round 5 (objects.py: group_conflict, count_conflict, unit_family_conflict). Pooled flagged R / FN / listed P /
    # listed FP / listed (all); "objects" = the first two features, "all three" = with unit_family_conflict:
    # round 4's shipped:                                     0.962 / 17 / 0.359 / 596 / 4181
    "before objects": _round5(0.965, drop=OBJECT_FEATURES),
    "before objects, per_name 7": _round5(0.965, 7, drop=OBJECT_FEATURES),  # 0.964 / 16 / 0.355 / 609 / 4445
    "objects, recall 0.965": _round5(0.965, drop=UNITS),  # 0.964 / 16 / 0.362 / 590 / 4482
    "groups only": _round5(0.965, drop=("count_conflict", *UNITS)),  # 0.964 / 16 / 0.361 / 594 / 4476
    "counts only": _round5(0.965, drop=("group_conflict", *UNITS)),  # 0.962 / 17 / 0.360 / 594 / 4199
    "objects, recall 0.96": _round5(0.96, drop=UNITS),  # 0.962 / 17 / 0.367 / 577 / 4224
    "objects, recall 0.955": _round5(0.955, drop=UNITS),  # 0.958 / 19 / 0.373 / 557 / 4079
    "objects, recall 0.97": _round5(0.97, drop=UNITS),  # 0.964 / 16 / 0.358 / 600 / 4589
    "objects, per_name 4": _round5(0.965, 4, drop=UNITS),  # 0.958 / 19 / 0.366 / 574 / 4219
    "objects, per_name 6": _round5(0.965, 6, drop=UNITS),  # 0.964 / 16 / 0.359 / 599 / 4651
    "units only, 0.96": _round5(0.96, drop=NAMES_ONLY),  # 0.955 / 20 / 0.371 / 560 / 3709
    "units only, 0.965": _round5(0.965, drop=NAMES_ONLY),  # 0.955 / 20 / 0.368 / 568 / 3886
    "all three, 0.96": _round5(0.96),  # 0.955 / 20 / 0.385 / 529 / 3787
    "all three, 0.965": _round5(0.965),  # 0.960 / 18 / 0.381 / 541 / 3928
    "all three, 0.97": _round5(0.97),  # 0.960 / 18 / 0.376 / 553 / 4091
    "all three, 0.975": _round5(0.975),  # 0.960 / 18 / 0.366 / 578 / 4361
    "all three, 0.98": _round5(0.98),  # 0.964 / 16 / 0.358 / 600 / 4583
    "all three, 0.96, per_name 6": _round5(0.96, 6),  # 0.958 / 19 / 0.381 / 539 / 3910
    "all three, 0.965, per_name 6": _round5(0.965, 6),  # 0.962 / 17 / 0.377 / 551 / 4063
    "all three, 0.97, per_name 6": _round5(0.97, 6),  # 0.962 / 17 / 0.372 / 563 / 4239
    "all three, 0.975, per_name 6": _round5(0.975, 6),  # 0.962 / 17 / 0.362 / 589 / 4534
    "all three, 0.96, per_name 7": _round5(0.96, 7),  # 0.962 / 17 / 0.380 / 544 / 3976
    # "all three, 0.965, per_name 7" is "shipped":   0.967 / 15 / 0.377 / 556 / 4135 (kept)
    "all three, 0.97, per_name 7": _round5(0.97, 7),  # 0.967 / 15 / 0.372 / 568 / 4323
    "all three, 0.965, per_name 8": _round5(0.965, 8),  # 0.967 / 15 / 0.376 / 558 / 4188
    "all three, 0.97, per_name 8": _round5(0.97, 8),  # 0.967 / 15 / 0.371 / 570 / 4386
    # Variants of objects.py's word lists, measured with code since changed back: 在校生 out of GROUP_WORDS
    # ("objects" 0.962 / 17 / 0.363 at 0.965, 0.958 / 19 / 0.372 at 0.96); 人次 in the people family ("all three"
    # 0.955 / 20 / 0.388 at 0.96, 0.958 / 19 / 0.383 at 0.965, 0.958 / 19 / 0.379 at 0.965 per_name 6).
    # Round 6 (issue 11, the misses never generated). Generation passes on round 5's shipped setup: toward the
    # 共性 names (top_k_common) and among cost rows (top_k_cost, cost words as one mark; blocking.py). Then the cost
    # near-synonyms (pair_model.COST_SYNONYMS: "cost words" the endings and 8 kinds of expense, "expenses" all 14),
    # which pair cost rows in the exact and head passes and give the model their likeness. Pooled flagged R / FN /
    # listed P / listed FP / listed (all); round 5's shipped ("round 5"):     0.967 / 15 / 0.377 / 556 / 4135.
    # Kept: "shipped" (recall 0.978 with listed P 0.376 > 0.34, the issue's floor, though under better()'s rule;
    # "expenses, 0.975" passes better() too). * measured before each X费 had its X费用 (a few pairs may move).
    "common 2": _round6(0.965, ROUND5_WORDS, top_k_common=2),  # 0.964 / 16 / 0.377 / 553 / 4263
    "cost 4": _round6(0.965, ROUND5_WORDS, top_k_cost=4),  # 0.964 / 16 / 0.376 / 556 / 4137
    "common 2, cost 4": _round6(
        0.965, ROUND5_WORDS, top_k_common=2, top_k_cost=4
    ),  # 0.962 / 17 / 0.377 / 552 / 4224
    "cost words": _round6(0.965, COST_WORDS),  # 0.967 / 15 / 0.387 / 533 / 3852
    "cost words, 0.97": _round6(0.97, COST_WORDS),  # 0.969 / 14 / 0.383 / 544 / 4014 *
    "cost words, 0.975": _round6(0.975, COST_WORDS),  # 0.971 / 13 / 0.377 / 558 / 4191 *
    "cost words, 0.98": _round6(0.98, COST_WORDS),  # 0.976 / 11 / 0.372 / 573 / 4375
    "cost words, 0.97, per_name 8": _round6(0.97, COST_WORDS, 8),  # 0.969 / 14 / 0.381 / 548 / 4064 *
    "cost words, cost 4": _round6(0.965, COST_WORDS, top_k_cost=4),  # 0.967 / 15 / 0.387 / 532 / 3806 *
    "expenses, 0.975": _round6(0.975),  # 0.973 / 12 / 0.382 / 549 / 4151
    # "expenses, 0.98" is "shipped":                                     0.978 / 10 / 0.376 / 565 / 4278 (kept)
    "expenses, 0.985": _round6(0.985),  # 0.980 / 9 / 0.368 / 588 / 4611
    "expenses, 0.98, cost 4": _round6(0.98, top_k_cost=4),  # 0.978 / 10 / 0.376 / 565 / 4280
    "expenses, 0.98, common 2": _round6(0.98, top_k_common=2),  # 0.978 / 10 / 0.376 / 565 / 4381
    "round 6": _round6(0.98),  # round 6's shipped: 0.978 / 10 / 0.376 / 565 / 4278
    # Round 7 (issue 11, the listed non-duplicates; objects.py): two kinds of quantity (kind_conflict: endings of two
    # kinds, 人次 / 人数 of one name, a rate of change against a level rate), groups of people with none in common
    # (groups_apart), a measure word on each side that the other lacks (measure_swap), costs of two items
    # (items_apart); each listed only when likely (ModelScoring.likely_only) as a known contrast was. Pooled flagged
    # R / FN / listed P / listed FP / listed (all). Measured on the way with code since extended (kind_conflict
    # without the change rates): kinds alone 0.976 / 11 / 0.391 / 530 / 4020, groups alone 0.978 / 10 / 0.385 / 545
    # / 4130, both 0.978 / 10 / 0.397 / 517 / 3925, both listed only when likely 0.978 / 10 / 0.421 / 469 / 3801
    # (groups alone so 0.417 / 477, kinds alone 0.401 / 509; at recall_target 0.975 0.978 / 10 / 0.426 / 460 /
    # 3666, 0.985 0.417, 0.97 0.973 / 12 / 0.432, 0.965 0.971 / 13 / 0.440, 0.96 0.969 / 14 / 0.441; per_name 6
    # 0.973 / 12 / 0.420, per_name 8 0.978 / 10 / 0.421 / 469 / 3830); with the change rates 0.978 / 10 / 0.427 /
    # 458 / 3724 (at 0.975: 0.976 / 11 / 0.430 / 451 / 3577). A one-replacement-inside-the-name feature
    # (发布国家标准 / 发布行业标准) cost recall: 0.973 / 12 / 0.424. Zeroing a column moves lbfgs a little: a setup
    # that drops a feature can differ from the same choice measured before the feature by a few listed pairs.
    "round 7 features, model only": Setup(
        drop=(*ROUND8, *ROUND9, *ROUND10), words=EXPENSES, likely_only=CONTRAST
    ),
    "kinds and groups": Setup(
        drop=(*KINDS[2:], *ROUND8, *ROUND9, *ROUND10), words=EXPENSES, likely_only=(*CONTRAST, *KINDS[:2])
    ),  # 0.978/10/0.427/457/3725
    "kinds, groups, swaps": Setup(
        drop=(*KINDS[3:], *ROUND8, *ROUND9, *ROUND10), words=EXPENSES, likely_only=(*CONTRAST, *KINDS[:3])
    ),  # 0.978/10/0.432/448/3672
    "shipped, 0.975": Setup(
        pm.Settings(recall_target=0.975),
        drop=(*ROUND8, *ROUND9, *ROUND10),
        words=EXPENSES,
        likely_only=ROUND7_LIKELY,
    ),  # 0.976 / 11 / 0.445 / 424 / 3444
    # "shipped": all four, each listed only when likely:                  0.978 / 10 / 0.442 / 431 / 3616 (kept;
    # 3611 listed before 社会 and 公众 were read as 群众 in groups_apart, for fresh7's 群众满意度 / 社会公众满意度)
    "round 7": Setup(
        drop=(*ROUND8, *ROUND9, *ROUND10), words=EXPENSES, likely_only=ROUND7_LIKELY
    ),  # round 7's shipped
    # Round 8 (issue 11): two periods of one measure (objects.periods_apart: 预算执行进度(7月) / (11月), 第一 / 第二
    # 季度), a model feature listed only when likely; near-synonyms for two duplicates never generated
    # (ROUND8_SYNONYMS: 增收 / 增加收入, 人均 / 每人); money per something against a total (objects.per_unit_apart:
    # 场地租赁费 万元 / 场地租赁费支出标准 元/天) and an addition against a stock (objects.new_apart), each listed only
    # when likely. Pooled flagged R / FN / listed P / listed FP /
    # listed (all); "round 7":                                            0.978 / 10 / 0.442 / 431 / 3616.
    "periods": Setup(
        drop=(*PER_UNIT, *NEW, *ROUND9, *ROUND10), words=EXPENSES, likely_only=_likely(PERIODS)
    ),  # 0.978/10/0.443/428/3524
    "periods, model only": Setup(
        drop=(*PER_UNIT, *NEW, *ROUND9, *ROUND10), words=EXPENSES, likely_only=ROUND7_LIKELY
    ),  # the same
    "periods, 增收": Setup(
        drop=(*PER_UNIT, *NEW, *ROUND9, *ROUND10),
        words=_with(EXPENSES, ROUND8_SYNONYMS[:1]),
        likely_only=_likely(PERIODS),
    ),  # 0.978 / 10 / 0.443 / 429 / 3520
    "periods, 每人": Setup(
        drop=(*PER_UNIT, *NEW, *ROUND9, *ROUND10),
        words=_with(EXPENSES, ROUND8_SYNONYMS[1:]),
        likely_only=_likely(PERIODS),
    ),  # 0.980 / 9 / 0.444 / 429 / 3544
    "periods, 增收, 每人": Setup(
        drop=(*PER_UNIT, *NEW, *ROUND9, *ROUND10), words=WORDS8, likely_only=_likely(PERIODS)
    ),  # 0.980/9/0.444/429/3533
    "per unit, model only": Setup(
        drop=(*NEW, *ROUND9, *ROUND10), words=WORDS8, likely_only=_likely(PERIODS)
    ),  # 0.982 / 8 / 0.447 / 425 / 3515
    "per unit": Setup(
        drop=(*NEW, *ROUND9, *ROUND10), words=WORDS8, likely_only=_likely((*PERIODS, *PER_UNIT))
    ),  # 0.982 / 8 / 0.447 / 424 / 3513
    # An addition against a stock (objects.new_apart: 新增绿化面积 / 绿化面积), listed only when likely.
    "new apart, model only": Setup(
        drop=(*ROUND9, *ROUND10), words=WORDS8, likely_only=_likely((*PERIODS, *PER_UNIT))
    ),  # 0.982 / 8 / 0.448 / 422 / 3457
    # round 8's shipped: all of round 8, each listed only when likely:  0.982 / 8 / 0.450 / 420 / 3455 (kept)
    "round 8": Setup(drop=(*ROUND9, *ROUND10), words=WORDS8, likely_only=ROUND8_LIKELY),
    # Round 9 (issue 11, the listed non-duplicates of the tuning sets; the real holdout is never read while tuning:
    # --sets without it): things with none in common (objects.things_apart: 桃 / 梨种植面积, 高血压 / 糖尿病), a
    # qualifier on one side (objects.qualifier_apart: 免费开放率 / 开放率, 规范管理率 / 健康管理率) and 22 contrasts
    # (ROUND9_CONTRASTS: 国内 / 国际, 在职 / 退休, 救助 / 补助 …), each listed only when likely. Pooled over the
    # eight tuning sets (the real holdout left out), flagged R / FN / listed P / listed FP / listed (all):
    # "round 8"                                                       0.983 / 6 / 0.440 / 326 / 2680.
    "contrasts 9": Setup(
        drop=(*ROUND9, *ROUND10), words=WORDS9, likely_only=ROUND8_LIKELY
    ),  # 0.983 / 6 / 0.459 / 302 / 2624
    "things": _round9(ROUND9[0]),  # 0.983 / 6 / 0.449 / 314 / 2633 (round 8's contrasts)
    "qualifiers": _round9(ROUND9[1]),  # 0.983 / 6 / 0.452 / 310 / 2622 (round 8's contrasts)
    "round 9, model only": Setup(drop=ROUND10, words=WORDS9, likely_only=ROUND8_LIKELY),
    # "shipped": all three, each listed only when likely.
    # Measured and not kept (code since removed or changed; figures on the tuning sets): timeliness (及时, 按时 …)
    # as a qualifier kind, listed only when likely, 0.983 / 6 / 0.493 / 264 / 2657, but the cross-validated real
    # holdout lost duplicates (tests/test_cv_match.py's floor of 10 misses failed; timeliness needed 按计划 and 在
    # 规定时间 to spare two tuning duplicates); units of two kinds (money or a share against a count, 人次 / 人) as
    # a feature listed only when likely 0.983 / 6 / 0.492 / 264 / 2570 (the in-sample real holdout fell under
    # test_pair_model's recall floor), as a model feature only 0.983 / 6 / 0.485 / 272 / 2623 (without it the
    # same 0.485 / 272 on a shorter list, 2476); round 5's unit-family and count conflicts listed only when likely
    # (below: each loses duplicates of the tuning sets).
    "unit families likely": Setup(
        drop=ROUND10, words=WORDS9, likely_only=(*ROUND9_LIKELY, "unit_family_conflict")
    ),  # 0.980 / 7 / 0.500 / 255 / 2506
    "counts likely": Setup(
        drop=ROUND10, words=WORDS9, likely_only=(*ROUND9_LIKELY, "count_conflict")
    ),  # 0.969 / 11 / 0.494 / 257 / 2411
    # round 9's shipped: all of round 9, each listed only when likely:  0.982 / 8 / 0.488 / 360 / 3242 (kept)
    "round 9": Setup(drop=ROUND10, words=WORDS9, likely_only=ROUND9_LIKELY),
    # Round 10 (issue 11; tuned on the eight sets without the real holdout, --sets): one object measured two ways
    # (objects.measure_replaced: 投诉办结率 / 投诉回访率, 路灯亮灯率 / 路灯完好率, 管理制度健全性 / 有效性; words the
    # model's measure-word list does not hold), the contrast 合格 / 达标 taken out (ROUND10_DROPPED: it scored the
    # duplicate 工程质量达标率 / 工程质量合格 0.1), a judgement or degree against a time, count or amount
    # (objects.judged_apart: 项目完成及时性 / 项目完成时间, 任务终期完成度 / 任务完成时间); the two features listed only
    # when likely. Pooled over the eight tuning sets, flagged R / FN / listed P / listed FP / listed (all);
    # "round 9":                                                          0.983 / 6 / 0.485 / 272 / 2476.
    # Measured on the way (code since changed): measure_replaced on every measure word, 办结 / 结案 included,
    # 0.978 / 8 / 0.494 / 260 / 2663 (lost 行政执法案件办结率 / 结案率 and 预算控制率 / 预算调整率, which fresh2 labels
    # one by its formula); sharing no character, 0.980 / 7 / 0.494 / 261 / 2708 (still 预算控制率 / 调整率), the
    # same with the contrast out 0.980 / 7 / 0.501 / 254 / 2496. With measure_replaced and the contrast out (before
    # judged_apart: 0.983 / 6 / 0.500 / 256 / 2337): per_name 6 0.980 / 7 / 0.499 / 256 / 2319, per_name 5 0.980 /
    # 7 / 0.499 / 256 / 2288, recall_target 0.975 0.980 / 7 / 0.503 / 252 / 2312, 0.985 0.983 / 6 / 0.490 / 266 /
    # 2695 (each rejected).
    "measure replaced": Setup(
        drop=JUDGED, words=WORDS9, likely_only=(*ROUND9_LIKELY, *ROUND10[:1])
    ),  # 0.983 / 6 / 0.494 / 262 / 2454
    "合格 / 达标 out": Setup(drop=ROUND10, likely_only=ROUND9_LIKELY),  # 0.983 / 6 / 0.492 / 264 / 2329
    "measure replaced, model only": Setup(
        drop=JUDGED, likely_only=ROUND9_LIKELY
    ),  # 0.983 / 6 / 0.500 / 256 / 2337
    "measure replaced, 合格 / 达标 out": Setup(
        drop=JUDGED, likely_only=(*ROUND9_LIKELY, *ROUND10[:1])
    ),  # 0.983 / 6 / 0.500 / 256 / 2337
    "judged, model only": Setup(likely_only=(*ROUND9_LIKELY, *ROUND10[:1])),  # 0.983 / 6 / 0.501 / 255 / 2310
    # "shipped": all three, both features listed only when likely:           0.983 / 6 / 0.501 / 255 / 2310
}


def _before_round11(setup: Setup) -> Setup:
    """A setup measured before round 11, as it was: without round 11's features, none of them listed only
    when likely, round 10's contrasts where it read today's words (each setup's figures in the comments above
    are reproduced with --folds 9)."""
    return replace(
        setup,
        drop=(*setup.drop, *(f for f in ROUND11 if f not in setup.drop)),
        words=WORDS10 if setup.words == pm.WORDS else setup.words,
        likely_only=tuple(f for f in setup.likely_only if f not in ROUND11),
    )


SETUPS = {name: setup if name == "shipped" else _before_round11(setup) for name, setup in SETUPS.items()}
# Round 10's shipped (before round 11). Round 11 (issue 11; thirteen folds: fresh7 … fresh10 opened): counts of two
# things sharing no character (counted.counts_apart: 补贴渔船数量 / 培训学员数量, 综合宣传次数 / 调度中心接警次数), listed
# only when likely; the framework's categories as contrasts (pair_model.CATEGORY_CONTRASTS: 完成数量 / 完成质量).
# Pooled flagged R / FN / listed P / listed FP / listed (all) on the thirteen folds;
# "round 10":                                                          0.976 / 12 / 0.474 / 441 / 3531.
# Nine folds (--folds 9): "round 10" 0.982 / 8 / 0.500 / 343 / 3073 (round 10's figures exactly), "shipped" 0.982 / 8 /
# 0.506 / 335 / 3025. Alone, counts_apart loses fresh7's 验收通过率 / 文物保护项目验收合格率 (no count: the fold's
# threshold moved, 1.9 < 2.0); with the categories it does not.
SETUPS["round 10"] = Setup(drop=ROUND11, words=WORDS10, likely_only=ROUND10_LIKELY)
SETUPS["counts apart, model only"] = Setup(
    words=WORDS10, likely_only=ROUND10_LIKELY
)  # 0.974 / 13 / 0.478 / 432 / 3463
SETUPS["counts apart"] = Setup(words=WORDS10)  # 0.974 / 13 / 0.478 / 432 / 3457
SETUPS["categories"] = Setup(drop=ROUND11, likely_only=ROUND10_LIKELY)  # 0.976 / 12 / 0.478 / 434 / 3502
# "shipped": both, counts_apart listed only when likely:                0.976 / 12 / 0.484 / 423 / 3427 (kept)


def _parts(data: str, splits: Sequence[str]) -> tuple[tuple[str, str], ...]:
    path = DATA[data].relative_to(ROOT).as_posix()
    return tuple((path, s) for s in splits)


@cache
def _arrays(
    data: str, splits: tuple[str, ...], blocking: BlockingConfig, words: DifferenceWords = pm.WORDS
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, np.ndarray]:
    """One set's training arrays: labelled features and labels, their pairs, its unlabelled candidates."""
    parts = _parts(data, splits)
    x, y, pairs = pm.training_set(ROOT, parts, words)
    return x, y, pairs, pm.generated_negatives(ROOT, parts, blocking, words)


def fitted_without(
    held_out: str,
    settings: pm.Settings,
    blocking: BlockingConfig | None = None,
    drop: Sequence[str] = (),
    words: DifferenceWords = pm.WORDS,
    folds: Folds = SETS,
) -> dict:
    """The model JSON trained on every set of folds but held_out (a SETS label), its unlabelled negatives
    generated with blocking (default: BlockingConfig()), the features drop left out (zero columns: coefficient
    0), the features reading words."""
    blocking = blocking or BlockingConfig()
    rest = [_arrays(d, s, blocking, words) for label, d, s in folds if label != held_out and DATA[d].exists()]
    x = np.concatenate([r[0] for r in rest])
    y = np.concatenate([r[1] for r in rest])
    xu = np.concatenate([r[3] for r in rest])
    columns = [COLUMN[f] for f in drop]
    x[:, columns], xu[:, columns] = 0.0, 0.0  # concatenate made copies: the cached arrays keep their values
    pairs = pd.concat([r[2] for r in rest], ignore_index=True)
    return pm.fit_model(x, y, pairs, xu, settings, words)


@cache
def _held_out_pairs(data: str, splits: tuple[str, ...]) -> pd.DataFrame:
    pairs = load_pairs(DATA[data])
    return pairs[pairs["split"].isin(splits)].reset_index(drop=True)


def _model(label: str, setup: Setup, folds: Folds) -> Any:
    return model_from_dict(
        fitted_without(label, setup.settings, setup.blocking, setup.drop, setup.words, folds)
    )


def score_set(label: str, setup: Setup, same_table: bool = True, folds: Folds = SETS) -> pd.DataFrame:
    """The labelled pairs of one held-out set as eval_match labels them, by a model that never saw the set
    (trained on the other sets of folds)."""
    _, data, splits = next(s for s in SETS if s[0] == label)
    model = _model(label, setup, folds)
    part = _held_out_pairs(data, splits)
    tables = side_tables(part, data) if same_table else None
    scoring = ModelScoring(model=model, per_name=setup.per_name, likely_only=setup.likely_only)
    find = partial(find_candidates, config=setup.blocking)
    out = label_pairs(part, scoring, find=find, tables=tables)
    return out.assign(held_out=label)


def _generated_only(
    normalized: pd.DataFrame, existing: None, rules: Any, scoring: Any, config: BlockingConfig
) -> pd.DataFrame:
    """find_candidates' stand-in for label_pairs: every pair generation proposes, listed, no score."""
    rows = prepare_rows(normalized, "new", rules)
    pairs = generate_pairs(rows, config, scoring.words.near_synonyms)
    ids = rows["id"].to_numpy()
    return pd.DataFrame({"id_a": ids[pairs["i"]], "id_b": ids[pairs["j"]], "score": 0.0, "likely": False})


def misses(label: str, setup: Setup, folds: Folds = SETS) -> list[str]:
    """Each duplicate of one held-out set neither merged nor listed, with the step that lost it."""
    _, data, splits = next(s for s in SETS if s[0] == label)
    model = _model(label, setup, folds)
    part = _held_out_pairs(data, splits)
    find = partial(find_candidates, config=setup.blocking)
    capped = ModelScoring(model=model, per_name=setup.per_name, likely_only=setup.likely_only)
    listed = label_pairs(part, capped, find=find, tables=side_tables(part, data))
    missed = (listed["label"] == "1") & ~listed["flagged"]
    if not missed.any():
        return []
    generated = label_pairs(
        part, ModelScoring(model=model), find=partial(_generated_only, config=setup.blocking)
    )
    every = label_pairs(part, ModelScoring(model=model, min_score=0.0), find=find)  # every pair scored
    uncapped = label_pairs(part, capped, find=find)
    threshold = 100.0 * model.threshold
    out = []
    for k in np.flatnonzero(missed.to_numpy()):
        score = every["score"].iloc[k]
        if not generated["candidate"].iloc[k]:
            step = "never generated"
        elif not every["candidate"].iloc[k]:
            step = "under the name bound"
        elif score < threshold:
            step = f"scored {score:.1f} < {threshold:.1f}"
        elif not uncapped["candidate"].iloc[k]:
            step = f"scored {score:.1f}, cut by the cap or a contrast"
        else:
            step = "same table"
        row = part.iloc[k]
        out.append(f"{label}: {row['name_a']} ({row['unit_a']}) | {row['name_b']} ({row['unit_b']}): {step}")
    return out


def listed_negatives(label: str, setup: Setup, folds: Folds = SETS) -> list[str]:
    """Each labelled non-duplicate of one held-out set that the review list holds (its score first, highest
    first): what a clerk reads and rejects."""
    out = score_set(label, setup, folds=folds)
    wrong = out[out["candidate"] & (out["label"] == "0")].sort_values("score", ascending=False, kind="stable")
    return [
        f"{label}: {r.score:5.1f} {r.name_a} ({r.unit_a}, {r.level2_a}) | {r.name_b} ({r.unit_b}, {r.level2_b})"
        for r in wrong.itertuples()
    ]


def cross_validate(
    setup: Setup, same_table: bool = True, sets: Sequence[str] | None = None, folds: Folds = SETS
) -> dict[str, dict[str, float]]:
    """Per held-out set and pooled ("pooled": micro over every labelled pair) eval_match metrics; sets: the
    held-out sets scored (default: every fold; training reads every other fold whatever sets says)."""
    labels = sets if sets is not None else [label for label, d, _ in folds if DATA[d].exists()]
    frames = [score_set(label, setup, same_table, folds) for label in labels]
    out = {f["held_out"].iloc[0]: metrics(f) for f in frames}
    pooled = pd.concat(frames, ignore_index=True)
    pooled.attrs["listed_total"] = sum(f.attrs["listed_total"] for f in frames)
    pooled.attrs["likely_total"] = sum(f.attrs["likely_total"] for f in frames)
    out["pooled"] = metrics(pooled)
    return out


def better(new: dict[str, float], old: dict[str, float]) -> bool:
    """The keep rule: listed precision up with recall not down, or recall up with precision not down."""
    up_p = new["listed_p"] > old["listed_p"] and new["flagged_r"] >= old["flagged_r"]
    up_r = new["flagged_r"] > old["flagged_r"] and new["listed_p"] >= old["listed_p"]
    return (up_p or up_r) and new["auto_fp"] == 0


HEAD = ("setup", "held-out set", "pairs", "pos", "auto FP", "flagged R", "FN", "listed P", "listed FP",
        "listed (all)", "较高 P")  # fmt: skip


def table(results: dict[str, dict[str, dict[str, float]]], per_set: bool = True) -> list[str]:
    """Markdown rows: per setup, the pooled figures first, then each held-out set."""
    lines = [
        "| " + " | ".join(HEAD) + " |",
        "|" + "|".join("---" if k < 2 else "---:" for k in range(len(HEAD))) + "|",
    ]
    for name, figures in results.items():
        for label, m in figures.items():
            if label != "pooled" and not per_set:
                continue
            shown = f"**{label}**" if label == "pooled" else label
            lines.append(
                f"| {name} | {shown} | {m['pairs']} | {m['pos']} | {m['auto_fp']} | {m['flagged_r']:.3f} | "
                f"{m['fn']} | {m['listed_p']:.3f} | {m['listed_fp']} | {m['listed_total']} | {m['likely_p']:.3f} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", nargs="+", choices=tuple(SETUPS), default=["before", "shipped"])
    parser.add_argument("--no-same-table", action="store_true", help="list pairs of one project table too")
    parser.add_argument("--pooled-only", action="store_true", help="only the pooled row of each setup")
    parser.add_argument(
        "--misses", action="store_true", help="each missed duplicate and the step that lost it"
    )
    parser.add_argument(
        "--listed-fp", action="store_true", help="each listed non-duplicate of every held-out set, by score"
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        choices=[s[0] for s in SETS],
        help="score only these held-out sets (default: all)",
    )
    parser.add_argument(
        "--folds",
        choices=tuple(FOLDS),
        default="13",
        help="the folds: 13 (every set) or the 9 before round 11 (every earlier figure)",
    )
    args = parser.parse_args(argv)
    folds = FOLDS[args.folds]
    shown = tuple(label for label, d, _ in folds if DATA[d].exists() and label in (args.sets or (label,)))
    results = {
        name: cross_validate(SETUPS[name], not args.no_same_table, shown, folds) for name in args.setup
    }
    print("\n".join(table(results, per_set=not args.pooled_only)))
    for name in args.setup if args.misses else ():
        lost = [line for label in shown for line in misses(label, SETUPS[name], folds)]
        never = sum(line.endswith("never generated") for line in lost)
        print(f"\n{name}: {len(lost)} missed, {never} never generated")
        print("\n".join(f"  {line}" for line in lost))
    for name in args.setup if args.listed_fp else ():
        wrong = [line for label in shown for line in listed_negatives(label, SETUPS[name], folds)]
        print(f"\n{name}: {len(wrong)} listed non-duplicates")
        print("\n".join(f"  {line}" for line in wrong))
    base = results[args.setup[0]]["pooled"]
    for name in args.setup[1:]:
        verdict = "keep" if better(results[name]["pooled"], base) else "reject"
        print(f"{name}: {verdict} against {args.setup[0]}")
    return 1 if any(m["auto_fp"] for r in results.values() for m in r.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
