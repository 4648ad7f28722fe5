"""Precision and recall of dedupe matching on the labelled pairs (tests/data/labelled_pairs.csv).

    python benchmarks/eval_match.py [--split tune|holdout|all] [--errors]

(a) automatic merges: the two names get the same key after normalization and the synonym rules;
(b) the candidate list: the pair is merged automatically or proposed in merge_review.xlsx.
Every distinct (name, unit) of the file is one indicator and all of them share one block, so each name
competes with ~500 others for its top-k slots: harsher than real blocks (scope + 二级指标 + class).
--errors lists missed positives and proposed negatives of the tune split only (never tune on holdout);
false automatic merges are always listed, for every split, because each one must be explained.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.match import MatchConfig, find_candidates  # noqa: E402
from pipelines.normalize import default_rules, normalize_rows  # noqa: E402

PAIRS_CSV = ROOT / "tests" / "data" / "labelled_pairs.csv"


def load_pairs(path: Path = PAIRS_CSV) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")


def label_pairs(pairs: pd.DataFrame, config: MatchConfig | None = None) -> pd.DataFrame:
    """Add auto (same key) and candidate (proposed for review) to every labelled pair."""
    rules = default_rules()
    sides = pd.concat(
        [
            pairs[["name_a", "definition_a", "unit_a"]].set_axis(["name", "definition", "unit"], axis=1),
            pairs[["name_b", "definition_b", "unit_b"]].set_axis(["name", "definition", "unit"], axis=1),
        ],
        ignore_index=True,
    )
    # One indicator per (name, unit); its explanation is the longest one given.
    sides["_len"] = sides["definition"].str.len()
    entities = sides.sort_values(
        ["name", "unit", "_len"], ascending=[True, True, False], kind="stable"
    ).drop_duplicates(["name", "unit"])
    entities = entities.drop(columns="_len").reset_index(drop=True)
    entities["id"] = [f"E{i:04d}" for i in range(len(entities))]
    entities["scope"] = "项目"
    entities["level1"] = "产出指标"
    entities["level2"] = "数量指标"
    entities["function_code"] = "201"
    normalized = normalize_rows(entities, rules)
    ident = {(n, u): i for n, u, i in zip(entities["name"], entities["unit"], entities["id"], strict=True)}
    key_of = dict(zip(normalized["id"], normalized["key"], strict=True))

    candidates = find_candidates(normalized, None, rules, config)
    proposed = {frozenset((a, b)) for a, b in zip(candidates["id_a"], candidates["id_b"], strict=True)}
    score_of = {
        frozenset((a, b)): s
        for a, b, s in zip(candidates["id_a"], candidates["id_b"], candidates["score"], strict=True)
    }

    out = pairs.copy()
    id_a = [ident[(n, u)] for n, u in zip(pairs["name_a"], pairs["unit_a"], strict=True)]
    id_b = [ident[(n, u)] for n, u in zip(pairs["name_b"], pairs["unit_b"], strict=True)]
    out["auto"] = [key_of[a] == key_of[b] for a, b in zip(id_a, id_b, strict=True)]
    out["candidate"] = [frozenset((a, b)) in proposed for a, b in zip(id_a, id_b, strict=True)]
    out["flagged"] = out["auto"] | out["candidate"]
    out["score"] = [score_of.get(frozenset((a, b))) for a, b in zip(id_a, id_b, strict=True)]
    out["key_a"] = [key_of[a] for a in id_a]
    out["key_b"] = [key_of[b] for b in id_b]
    return out


def metrics(labelled: pd.DataFrame, column: str) -> dict[str, float]:
    positive = labelled["label"] == "1"
    chosen = labelled[column]
    tp = int((chosen & positive).sum())
    fp = int((chosen & ~positive).sum())
    fn = int((~chosen & positive).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="all")
    parser.add_argument(
        "--errors", action="store_true", help="list the tune split's misses and false proposals"
    )
    args = parser.parse_args(argv)

    labelled = label_pairs(load_pairs())
    splits = ("tune", "holdout") if args.split == "all" else (args.split,)
    print(
        f"labelled pairs: {len(labelled)} (positives {int((labelled['label'] == '1').sum())}); config {MatchConfig()}"
    )
    print(
        f"{'split':8} {'pairs':>5} {'pos':>4} | {'auto P':>7} {'auto R':>7} {'FP':>3} | {'cand P':>7} {'cand R':>7} {'FP':>3} {'FN':>3}"
    )
    for split in splits:
        part = labelled[labelled["split"] == split]
        auto = metrics(part, "auto")
        flagged = metrics(part, "flagged")
        print(
            f"{split:8} {len(part):5d} {int((part['label'] == '1').sum()):4d} | "
            f"{auto['precision']:7.3f} {auto['recall']:7.3f} {auto['fp']:3d} | "
            f"{flagged['precision']:7.3f} {flagged['recall']:7.3f} {flagged['fp']:3d} {flagged['fn']:3d}"
        )
    false_merges = labelled[labelled["auto"] & (labelled["label"] == "0")]
    for row in false_merges.itertuples():
        print(
            f"FALSE AUTO MERGE [{row.split}]: {row.name_a} ({row.unit_a}) = {row.name_b} ({row.unit_b}) via key {row.key_a}"
        )
    if args.errors:
        tune = labelled[labelled["split"] == "tune"]
        for row in tune[~tune["flagged"] & (tune["label"] == "1")].itertuples():
            print(f"missed positive: {row.name_a} ({row.unit_a}) | {row.name_b} ({row.unit_b})  [{row.note}]")
        for row in tune[tune["candidate"] & ~tune["auto"] & (tune["label"] == "0")].itertuples():
            print(f"proposed negative ({row.score}): {row.name_a} | {row.name_b}")
    return 1 if len(false_merges) else 0


if __name__ == "__main__":
    raise SystemExit(main())
