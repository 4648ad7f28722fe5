"""Training the pair model (offline): python -m pipelines.dedupe.pair_model train

Fits the logistic regression of pipelines/dedupe/model.py on the training parts of the labelled pairs
(TRAIN_PARTS: every labelled set, each evaluated once before it was trained on; the settings are chosen by
leave-one-set-out cross-validation, benchmarks/cv_match.py) and writes schemas/reference/pair_model.json:
coefficients, the listing threshold and likely mark, and the word lists the features read: contrasts and
measure words below, near-synonyms from schemas/reference/measure_synonyms.csv. Deterministic (fixed
folds, lbfgs), so that a test can check the committed JSON is what training gives.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from pipelines.dedupe.blocking import BlockingConfig
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.features import FEATURES, DifferenceWords, Sides, pair_features
from pipelines.dedupe.model import MODEL_JSON, PairModel, load_model, untrained_model
from pipelines.dedupe.scoring import ModelScoring
from pipelines.dedupe.vocabulary import measure_synonyms
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import normalize_rows
from pipelines.validate.markers import strip_markers

# --------------------------------------------------------------------------------------------------
# Word lists (written into the JSON with the coefficients; edit here, or measure_synonyms.csv, and retrain)
# --------------------------------------------------------------------------------------------------
# Round 11: the categories of the performance-indicator framework a name may name — 产出 by 数量, 质量, 时效 and
# 效益 by 经济, 社会, 生态, 可持续 (the bureau's 二级指标): two names naming two categories measure two things
# (完成数量 / 完成质量, 社会效益 / 经济效益). Contrasts are read on the matching forms, which write a count's
# 数量 as 数 (完成数量 is 完成数). No labelled duplicate of the thirteen sets has one on each side.
CATEGORY_CONTRASTS: tuple[tuple[str, str], ...] = (
    ("数", "质量"), ("数", "时效"), ("质量", "时效"), ("经济效益", "社会效益"), ("经济效益", "生态效益"),
    ("社会效益", "生态效益"), ("可持续", "经济效益"), ("可持续", "社会效益"), ("可持续", "生态效益"),
)  # fmt: skip
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("开工", "完工"),
    ("开工", "竣工"),
    ("增", "减"),
    ("增加", "减少"),
    ("上升", "下降"),
    ("提高", "降低"),
    ("新增", "累计"),
    ("新增", "总"),
    ("新建", "改造"),
    ("新建", "维修"),
    ("购置", "维修"),
    ("购置", "运行"),
    ("城市", "农村"),
    ("城镇", "农村"),
    ("城镇", "乡村"),
    ("进口", "出口"),
    ("入境", "出境"),
    ("进境", "出境"),
    ("国家级", "省级"),
    ("省级", "市级"),
    ("市级", "县级"),
    ("博士", "硕士"),
    ("本科", "专科"),
    ("职工", "居民"),
    ("男", "女"),
    ("申请", "授权"),
    ("申请", "获得"),
    ("计划", "实际"),
    ("上半年", "下半年"),
    ("准确", "及时"),
    ("合格", "覆盖"),
    # ("合格", "达标") was one until round 10: both say a thing meets its standard (工程质量达标率 / 工程质量合格 is
    # one measure, which the contrast scored 0.1); measure_word and measure_swap still read the two words.
    ("覆盖", "完成"),
    ("知晓", "满意"),
    ("参保", "赔付"),
    ("入学", "巩固"),
    ("教材", "课程"),
    # Round 9 (listed non-duplicates of the tuning sets; no labelled duplicate has one on each side).
    ("国内", "国际"),
    ("在职", "退休"),
    ("主编", "参编"),
    ("应付", "应收"),
    ("机械化", "人工"),
    ("国家", "行业"),
    ("团体", "行业"),
    ("培训", "会议"),
    ("救助", "补助"),
    ("救助", "补贴"),
    ("救助", "资助"),
    ("门诊", "住院"),
    ("正常", "故障"),
    ("合格", "优良"),
    ("优良", "劣"),
    ("整改", "排查"),
    ("发明", "实用新型"),
    ("结余", "结转"),
    ("医保", "养老"),
    ("儿童", "成人"),
    ("孕产妇", "婴儿"),
    ("产后", "新生儿"),
    *CATEGORY_CONTRASTS,
)
MEASURE_WORDS: tuple[str, ...] = (  # words that say what is counted or how, not which object
    "及时",
    "按时",
    "足额",
    "准确",
    "合格",
    "达标",
    "完成",
    "覆盖",
    "到位",
    "成功",
    "平均",
    "人均",
    "累计",
    "增长",
    "变动",
    "下降",
    "减少",
    "节约",
    "控制",
    "投诉",
    "举报",
    "执行",
    "验收",
    "交付",
    "后",
)
# A project's whole cost in other words (issue 11, round 6): 预算控制数, 成本控制数, 项目成本概算 and an expense
# named by its 费 (运维费, 培训费) are 成本 rows of one measure. Written as 成本 only to compare names (near-synonyms:
# never merged); each X费 with its X费用, so that the longer word wins (会议费用 is not 会议成本 + 用).
COST_ENDINGS: tuple[tuple[str, str], ...] = (
    ("成本", "预算控制数"), ("成本", "成本控制数"), ("成本", "控制数"), ("成本", "成本概算"), ("成本", "概算"),
)  # fmt: skip
# 运行维护 is written 运维 in matching forms (pipelines/normalize/canonical.py).
EXPENSE_WORDS = (
    "运行", "维护", "培训", "会议", "服务", "管理", "办公", "工作", "运维", "维修", "租赁", "物业", "宣传", "印刷",
)  # fmt: skip
COST_SYNONYMS = COST_ENDINGS + tuple(
    (f"{w}成本", f"{w}{fee}") for w in EXPENSE_WORDS for fee in ("费用", "费")
)
WORDS = DifferenceWords(CONTRASTS, measure_synonyms() + COST_SYNONYMS, MEASURE_WORDS)


# --------------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------------
# The training parts: (file, split). Every labelled set, each evaluated once as a holdout before it was
# trained on (benchmarks/RESULTS.md). No set is left to choose settings on: they are chosen by leave-one-set-out
# cross-validation over these sets (benchmarks/cv_match.py), which measures this very procedure on a set it never saw.
TRAIN_PARTS = (
    ("tests/data/real_pairs.csv", "tune"),
    ("tests/data/real_pairs.csv", "holdout"),
    ("tests/data/labelled_pairs.csv", "tune"),
    ("tests/data/labelled_pairs.csv", "holdout"),
    ("tests/data/fresh_pairs.csv", "fresh"),
    ("tests/data/fresh2_pairs.csv", "fresh2"),
    ("tests/data/fresh3_pairs.csv", "fresh3"),
    ("tests/data/fresh4_pairs.csv", "fresh4"),
    ("tests/data/fresh5_pairs.csv", "fresh5"),
    ("tests/data/fresh6_pairs.csv", "fresh6"),
)
SIDE_FIELDS = ("name", "definition", "unit", "level2", "scope", "function_code")
# labelled_pairs.csv has names only: its pairs are filed alike (one 二级, one scope, one class).
DEFAULT_SIDE = {"level2": "数量指标", "scope": "项目", "function_code": "2010101"}


def read_pairs(path: Path) -> pd.DataFrame:
    """A labelled pairs file, every side field present (the defaults above where a file has none), names
    without template markers (★, "指标1:", "(≥**%)"), as validation passes them to consolidation."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    for side in ("a", "b"):
        for field_name in SIDE_FIELDS:
            column = f"{field_name}_{side}"
            default = DEFAULT_SIDE.get(field_name, "")
            if column not in frame.columns:
                frame[column] = default
            elif default and field_name != "function_code":
                frame[column] = frame[column].where(frame[column] != "", default)
    for side in ("a", "b"):  # names as validation hands them on: template markers taken off
        frame[f"name_{side}"] = [strip_markers(n).name for n in frame[f"name_{side}"]]
    frame["source_file"] = Path(path).name
    return frame


def normalized_sides(
    pairs: pd.DataFrame, rules: MatchRules | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Side A and side B of labelled pairs as normalized indicator rows (match_name, unit_norm, key …)."""
    out = []
    for side in ("a", "b"):
        frame = pd.DataFrame({f: pairs[f"{f}_{side}"].to_numpy() for f in SIDE_FIELDS})
        frame["level1"] = ""
        out.append(normalize_rows(frame, rules).reset_index(drop=True))
    return out[0], out[1]


def _sides(frame: pd.DataFrame) -> Sides:
    def arr(column: str) -> np.ndarray:
        return frame[column].fillna("").astype(str).to_numpy(dtype=object)

    return Sides(
        arr("match_name"),
        arr("definition"),
        arr("unit_norm"),
        arr("level2"),
        arr("scope"),
        arr("function_class"),
    )


def features_of_sides(model: PairModel, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """The feature matrix of pairs given as two frames of normalized rows (row k of a with row k of b)."""
    return pair_features(model.words, _sides(a), _sides(b))


def training_set(
    root: Path, parts: Sequence[tuple[str, str]] = TRAIN_PARTS, words: DifferenceWords = WORDS
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Features and labels of the labelled pairs of the training parts whose keys differ (what the model
    will see)."""
    frames = [(read_pairs(root / f), s) for f, s in parts if (root / f).exists()]
    frames = [f[f["split"] == s] for f, s in frames]
    pairs = pd.concat(frames, ignore_index=True).reset_index(drop=True)
    a, b = normalized_sides(pairs)
    keep = (a["key"] != b["key"]).to_numpy()
    x = features_of_sides(
        untrained_model(words), a[keep].reset_index(drop=True), b[keep].reset_index(drop=True)
    )
    y = (pairs.loc[keep, "label"] == "1").to_numpy().astype(int)
    return x, y, pairs[keep].reset_index(drop=True)


def _unlabelled_candidates(
    root: Path, name: str, split: str, config: BlockingConfig | None = None, words: DifferenceWords = WORDS
) -> np.ndarray:
    pairs = read_pairs(root / name)
    pairs = pairs[pairs["split"] == split].reset_index(drop=True)
    sides = pd.concat(
        [pairs[[f"{f}_{s}" for f in SIDE_FIELDS]].set_axis(list(SIDE_FIELDS), axis=1) for s in ("a", "b")]
    ).drop_duplicates(["name", "unit", "level2", "scope", "function_code"])
    sides = sides.assign(level1="", id=[f"T{k:05d}" for k in range(len(sides))]).reset_index(drop=True)
    normalized = normalize_rows(sides)
    form = dict(zip(normalized["id"], normalized["match_name"] + "|" + normalized["unit_norm"], strict=True))
    a_side, b_side = normalized_sides(pairs)
    labelled = {
        frozenset((f"{fa}|{ua}", f"{fb}|{ub}"))
        for fa, ua, fb, ub in zip(
            a_side["match_name"], a_side["unit_norm"], b_side["match_name"], b_side["unit_norm"], strict=True
        )
    }
    # Every generated pair, whatever a model says: generation reads only the word lists of the untrained model.
    every = ModelScoring(model=untrained_model(words), min_score=0)
    candidates = find_candidates(normalized, None, config=config, scoring=every)
    keep = [
        frozenset((form[a], form[b])) not in labelled
        for a, b in zip(candidates["id_a"], candidates["id_b"], strict=True)
    ]
    candidates = candidates[keep]
    by_id = normalized.set_index("id")
    return features_of_sides(
        untrained_model(words),
        by_id.loc[candidates["id_a"]].reset_index(),
        by_id.loc[candidates["id_b"]].reset_index(),
    )


def generated_negatives(
    root: Path,
    parts: Sequence[tuple[str, str]] = TRAIN_PARTS,
    config: BlockingConfig | None = None,
    words: DifferenceWords = WORDS,
) -> np.ndarray:
    """Features of the candidate pairs generation proposes among one split's names that nobody labelled.

    The labelled pairs were chosen because they look alike; at run time most candidates are less alike. These
    unlabelled pairs (almost all different measures) teach the model what a dissimilar candidate is, so it
    does not extrapolate; they get a small weight in training, because a few may be unlabelled duplicates.
    config: candidate generation's settings (default: BlockingConfig(), what find_candidates runs with).
    """
    out = [
        _unlabelled_candidates(root, name, split, config, words)
        for name, split in parts
        if (root / name).exists()
    ]
    return np.concatenate(out) if out else np.zeros((0, len(FEATURES)))


# --------------------------------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------------------------------
Fitted = tuple[np.ndarray, np.ndarray, np.ndarray, float]  # mean, scale, coef, intercept


def _fit(x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray | None = None) -> Fitted:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=5000, solver="lbfgs")
    clf.fit((x - mean) / scale, y, sample_weight=weight)
    return mean, scale, clf.coef_[0], float(clf.intercept_[0])


def _probability(
    x: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float
) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + intercept)))


def _thresholds(
    oof: np.ndarray, y: np.ndarray, recall_target: float, likely_precision: float
) -> tuple[float, float]:
    """The listing threshold (keeps recall_target of the out-of-fold positives) and the likely mark (the
    lowest probability from which at least likely_precision of the out-of-fold pairs above are duplicates)."""
    positives = np.sort(oof[y == 1])
    cut = positives[int(np.floor((1.0 - recall_target) * len(positives)))] if len(positives) else 0.5
    threshold = float(np.floor(cut * 1000) / 1000)
    order = np.argsort(-oof, kind="stable")
    precision = np.cumsum(y[order]) / np.arange(1, len(y) + 1)
    ok = np.flatnonzero(precision >= likely_precision)
    likely = float(np.floor(oof[order][ok[-1]] * 1000) / 1000) if len(ok) else 0.5
    return threshold, max(likely, threshold)


def train(
    root: Path,
    recall_target: float = 0.98,
    c: float = 1.0,
    folds: int = 5,
    likely_precision: float = 0.7,
    unlabelled_weight: float = 0.2,
    parts: Sequence[tuple[str, str]] = TRAIN_PARTS,
) -> dict[str, Any]:
    """Fit the logistic regression on the training parts; the JSON of schemas/reference/pair_model.json."""
    x, y, pairs = training_set(root, parts)
    settings = Settings(recall_target, c, folds, likely_precision, unlabelled_weight)
    return fit_model(x, y, pairs, generated_negatives(root, parts), settings)


@dataclass(frozen=True)
class Settings:
    """What training is given besides the data (benchmarks/cv_match.py compares settings: recall_target 0.98
    listed fewer non-duplicates than 0.99 at the same pooled recall; 0.965 with the wider candidate generation
    of BlockingConfig found more duplicates and listed fewer non-duplicates than 0.98 with the narrower one;
    0.98 again with the cost near-synonyms, COST_SYNONYMS, which rank cost rows' non-duplicates lower)."""

    recall_target: float = 0.98
    c: float = 1.0
    folds: int = 5
    likely_precision: float = 0.7
    unlabelled_weight: float = 0.2


def fit_model(
    x: np.ndarray,
    y: np.ndarray,
    pairs: pd.DataFrame,
    xu: np.ndarray,
    settings: Settings = Settings(),
    words: DifferenceWords = WORDS,
) -> dict[str, Any]:
    """The model JSON fitted on labelled pairs (x, y; pairs gives their files) and unlabelled negatives xu.

    The listing threshold is read from out-of-fold probabilities (5-fold cross-validation within them, fixed
    folds): the probability that keeps recall_target of the training positives when each is scored by a model that
    never saw it. In-sample probabilities would be too confident and the threshold too high for new names.
    """
    s = settings
    wu = np.full(len(xu), s.unlabelled_weight)

    def fit(idx: np.ndarray) -> Fitted:
        xs = np.concatenate([x[idx], xu])
        ys = np.concatenate([y[idx], np.zeros(len(xu), dtype=int)])
        return _fit(xs, ys, s.c, np.concatenate([np.ones(len(idx)), wu]))

    oof = np.zeros(len(y))
    for train_idx, test_idx in StratifiedKFold(s.folds, shuffle=True, random_state=0).split(x, y):
        oof[test_idx] = _probability(x[test_idx], *fit(train_idx))
    threshold, likely = _thresholds(oof, y, s.recall_target, s.likely_precision)
    mean, scale, coef, intercept = fit(np.arange(len(y)))
    listed = oof >= threshold
    counts = pairs.groupby("source_file").size().to_dict()
    return {
        "about": "Pair model of pipelines/dedupe/model.py: logistic regression over FEATURES, written by "
        "`python -m pipelines.dedupe.pair_model train` from the training parts (TRAIN_PARTS) only. p = 1/(1+exp(-(((x-mean)/scale)·coef"
        "+intercept))); a pair is listed for review when p >= threshold (chosen on out-of-fold probabilities).",
        "trained_on": "; ".join(
            f"{k}: {v} training pairs with different keys" for k, v in sorted(counts.items())
        )
        + f"; {len(xu)} unlabelled candidate pairs among the training names as negatives, weight {s.unlabelled_weight}",
        "recall_target": s.recall_target,
        "C": s.c,
        "cross_validated": {
            "pairs": int(len(y)),
            "positives": int(y.sum()),
            "recall": round(float((listed & (y == 1)).sum() / max(y.sum(), 1)), 3),
            "precision": round(float((listed & (y == 1)).sum() / max(listed.sum(), 1)), 3),
        },
        "features": list(FEATURES),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in coef],
        "intercept": round(intercept, 6),
        "threshold": threshold,
        "likely": likely,
        "likely_precision": s.likely_precision,
        # The word lists the features were computed with (benchmarks/cv_match.py's setups pass older ones).
        "contrasts": [list(p) for p in words.contrasts],
        "near_synonyms": [list(p) for p in words.near_synonyms],
        "measure_words": list(words.measure_words),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the pair model on the training parts of the labelled pairs"
    )
    parser.add_argument("command", choices=("train",))
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    parser.add_argument("--recall", type=float, default=Settings.recall_target)
    parser.add_argument("--C", dest="c", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=MODEL_JSON)
    args = parser.parse_args(argv)
    data = train(args.root, args.recall, args.c)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, coef in sorted(zip(FEATURES, data["coef"], strict=True), key=lambda t: -abs(t[1])):
        print(f"{name:16s} {coef:+.3f}")
    print(f"threshold {data['threshold']}  cross-validated {data['cross_validated']}  ({data['trained_on']})")
    load_model.cache_clear()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
