"""Precision and recall of dedupe matching on labelled pairs of indicator names (issue 11).

    python benchmarks/eval_match.py [--data real|old|both] [--split tune|holdout|all] [--methods …]
                                    [--baseline-ref REV] [--markdown] [--errors]

Data: tests/data/real_pairs.csv (real names from published 绩效目标表, with 二级指标, scope and function code
per side) and tests/data/labelled_pairs.csv (the first set; names only, every pair filed alike).
Each split is evaluated on its own: the distinct sides (name, unit, 二级, scope, function code) of its pairs
become indicators of one library year and go through normalization (keys) and find_candidates exactly as
consolidation calls them. A labelled pair counts as listed when a listed pair joins its two wordings (same
matching form and unit): copies of one wording are always listed with each other, so the reviewer sees both.

Measured per split:
- auto P / auto R: pairs merged automatically (same key), their precision, and the share of duplicates merged;
- flagged R: duplicates merged automatically or listed in merge_review.xlsx (merged-or-listed recall);
- listed P: of the labelled pairs listed for review (not merged), the share that are duplicates;
- listed: how many pairs the whole list holds for the split's names (labelled or not);
- 较高 R / P / all: the same for the pairs marked 可能性较高 (the model's likely mark; the hand weights and the
  code before have no such mark, so every listed pair counts): merged-or-likely recall, likely precision.
Methods: model (the pair model, pipelines/dedupe/pair_model.py, trained on tune only), hand (the first version's hand
weights over the new candidate generation), before (the code of --baseline-ref, default the last commit before
issue 11: hand weights, blocks by scope + 二级 + function class).
--errors lists misses and listed negatives of the tune split only (never tune on holdout); false automatic
merges are listed for every split, because each one must be explained.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.dedupe.candidates import find_candidates  # noqa: E402
from pipelines.dedupe.pair_model import read_pairs  # noqa: E402
from pipelines.dedupe.scoring import HandScoring, Scoring  # noqa: E402
from pipelines.normalize.canonical import default_rules  # noqa: E402
from pipelines.normalize.keys import normalize_rows  # noqa: E402

DATA = {
    "real": ROOT / "tests" / "data" / "real_pairs.csv",
    "old": ROOT / "tests" / "data" / "labelled_pairs.csv",
    # Labelled after the model was frozen and evaluated once: never used for any choice (REAL_PAIRS.md).
    "fresh": ROOT / "tests" / "data" / "fresh_pairs.csv",
}
BASELINE_REF = "9a14899"  # the last commit before issue 11's dedupe work
SIDE = ("name", "definition", "unit", "level2", "scope", "function_code")

Finder = Callable[..., pd.DataFrame]


def load_pairs(path: Path) -> pd.DataFrame:
    return read_pairs(path)


def label_pairs(
    pairs: pd.DataFrame, scoring: Scoring | None = None, find: Finder | None = None
) -> pd.DataFrame:
    """Add auto (same key), candidate (listed for review), flagged and score to every labelled pair."""
    find = find or find_candidates
    rules = default_rules()
    ident_cols = ["name", "unit", "level2", "scope", "function_code"]
    sides = pd.concat(
        [pairs[[f"{c}_{s}" for c in SIDE]].set_axis(list(SIDE), axis=1) for s in ("a", "b")],
        ignore_index=True,
    )
    # One indicator per (name, unit, 二级, scope, code); its explanation is the longest one given.
    sides["_len"] = sides["definition"].str.len()
    entities = sides.sort_values([*ident_cols, "_len"], ascending=[True] * 5 + [False], kind="stable")
    entities = entities.drop_duplicates(ident_cols).drop(columns="_len").reset_index(drop=True)
    entities["id"] = [f"E{i:04d}" for i in range(len(entities))]
    entities["level1"] = ""
    normalized = normalize_rows(entities, rules)
    ident = {
        tuple(r): i for r, i in zip(entities[ident_cols].itertuples(index=False), entities["id"], strict=True)
    }
    key_of = dict(zip(normalized["id"], normalized["key"], strict=True))
    # The same wording (matching form and unit) in several indicators is listed among itself (or merged),
    # so a listed pair stands for every copy of its two wordings.
    form_of = {
        i: f"{m}|{u}"
        for i, m, u in zip(normalized["id"], normalized["match_name"], normalized["unit_norm"], strict=True)
    }

    candidates = (
        find(normalized, None, rules, scoring=scoring)
        if scoring is not None
        else find(normalized, None, rules)
    )
    score_of: dict[frozenset[str], float] = {}
    likely_of: dict[frozenset[str], bool] = {}
    likely = candidates["likely"] if "likely" in candidates else pd.Series(True, index=candidates.index)
    for a, b, s, lk in zip(candidates["id_a"], candidates["id_b"], candidates["score"], likely, strict=True):
        for key in (frozenset((a, b)), frozenset((form_of[a], form_of[b]))):
            score_of[key] = max(s, score_of.get(key, s))
            likely_of[key] = bool(lk) or likely_of.get(key, False)

    def side_ids(s: str) -> list[str]:
        cols = [f"{c}_{s}" for c in ident_cols]
        return [ident[tuple(r)] for r in pairs[cols].itertuples(index=False)]

    out = pairs.copy()
    id_a, id_b = side_ids("a"), side_ids("b")
    out["auto"] = [key_of[a] == key_of[b] for a, b in zip(id_a, id_b, strict=True)]
    out["candidate"] = [
        frozenset((a, b)) in score_of or frozenset((form_of[a], form_of[b])) in score_of
        for a, b in zip(id_a, id_b, strict=True)
    ]
    out["candidate"] &= ~out["auto"]
    out["flagged"] = out["auto"] | out["candidate"]
    out["likely"] = [
        likely_of.get(frozenset((a, b)), likely_of.get(frozenset((form_of[a], form_of[b])), False))
        for a, b in zip(id_a, id_b, strict=True)
    ]
    out["likely"] &= out["candidate"]
    out["score"] = [
        score_of.get(frozenset((a, b)), score_of.get(frozenset((form_of[a], form_of[b]))))
        for a, b in zip(id_a, id_b, strict=True)
    ]
    out["key_a"] = [key_of[a] for a in id_a]
    out["key_b"] = [key_of[b] for b in id_b]
    out.attrs["listed_total"] = len(candidates)
    out.attrs["likely_total"] = int(likely.sum())
    return out


def metrics(labelled: pd.DataFrame) -> dict[str, float]:
    positive = labelled["label"] == "1"
    auto, listed, flagged = labelled["auto"], labelled["candidate"], labelled["flagged"]

    def ratio(num: int, den: int) -> float:
        return num / den if den else float("nan")

    return {
        "pairs": len(labelled),
        "pos": int(positive.sum()),
        "auto_p": ratio(int((auto & positive).sum()), int(auto.sum())),
        "auto_r": ratio(int((auto & positive).sum()), int(positive.sum())),
        "auto_fp": int((auto & ~positive).sum()),
        "flagged_r": ratio(int((flagged & positive).sum()), int(positive.sum())),
        "fn": int((~flagged & positive).sum()),
        "listed_p": ratio(int((listed & positive).sum()), int(listed.sum())),
        "listed_labelled": int(listed.sum()),
        "listed_fp": int((listed & ~positive).sum()),
        "listed_total": int(labelled.attrs.get("listed_total", 0)),
        "likely_r": ratio(int(((auto | labelled["likely"]) & positive).sum()), int(positive.sum())),
        "likely_p": ratio(int((labelled["likely"] & positive).sum()), int(labelled["likely"].sum())),
        "likely_total": int(labelled.attrs.get("likely_total", 0)),
    }


def legacy_finder(ref: str) -> Finder:
    """find_candidates of pipelines/dedupe/candidates.py at a git revision (its imports resolve to today's code)."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:pipelines/dedupe/candidates.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / f"match_{ref}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"legacy_match_{ref}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.find_candidates


def evaluate(
    data: str, split: str, method: str, baseline_ref: str = BASELINE_REF
) -> tuple[dict, pd.DataFrame]:
    pairs = load_pairs(DATA[data])
    part = pairs[pairs["split"] == split].reset_index(drop=True)
    if method == "model":
        labelled = label_pairs(part)
    elif method == "hand":
        labelled = label_pairs(part, HandScoring())
    else:
        labelled = label_pairs(part, None, legacy_finder(baseline_ref))
    return metrics(labelled), labelled


NAMES_CSV = ROOT / "tests" / "data" / "real_names.csv"


def library_listing(method: str, baseline_ref: str = BASELINE_REF) -> dict[str, float]:
    """The real rows of tests/data/real_names.csv as one library year (all splits: a reading, not a target):
    how many pairs are listed, how many marked 较高, and of those the labelled ones that are duplicates."""
    names = pd.read_csv(NAMES_CSV, dtype=str, keep_default_na=False)
    rows = names.rename(columns={"row_id": "id"})[
        list(("id", "scope", "level1", "level2", "name", "definition", "unit", "function_code"))
    ]
    normalized = normalize_rows(rows, default_rules()).sort_values("id", kind="stable")
    clusters = normalized.drop_duplicates("key").reset_index(drop=True)  # one indicator per key
    key_of = dict(zip(normalized["id"], normalized["key"], strict=True))
    id_of_key = dict(zip(clusters["key"], clusters["id"], strict=True))
    label: dict[frozenset[str], str] = {}
    for r in load_pairs(DATA["real"]).itertuples():
        a, b = id_of_key.get(key_of.get(r.source_a, "")), id_of_key.get(key_of.get(r.source_b, ""))
        if a and b and a != b:
            label[frozenset((a, b))] = r.label
    if method == "before":
        candidates = legacy_finder(baseline_ref)(clusters, None, default_rules())
    else:
        scoring = HandScoring() if method == "hand" else None
        candidates = find_candidates(clusters, None, default_rules(), scoring=scoring)
    likely = candidates["likely"] if "likely" in candidates else pd.Series(True, index=candidates.index)
    out: dict[str, float] = {"indicators": len(clusters)}
    for tier, part in (("listed", candidates), ("likely", candidates[likely.astype(bool)])):
        found = [label.get(frozenset(p)) for p in zip(part["id_a"], part["id_b"], strict=True)]
        known = [f for f in found if f is not None]
        out[tier] = len(part)
        out[f"{tier}_labelled"] = len(known)
        out[f"{tier}_p"] = known.count("1") / len(known) if known else float("nan")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("real", "old", "fresh", "both"), default="both")
    parser.add_argument("--split", choices=("tune", "holdout", "fresh", "all"), default="all")
    parser.add_argument(
        "--methods", nargs="+", choices=("model", "hand", "before"), default=["before", "hand", "model"]
    )
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for RESULTS.md)")
    parser.add_argument(
        "--errors", action="store_true", help="list the tune split's misses and listed negatives"
    )
    args = parser.parse_args(argv)

    datasets = [d for d in (("real", "old") if args.data == "both" else (args.data,)) if DATA[d].exists()]
    splits = ("tune", "holdout") if args.split == "all" else (args.split,)
    if args.data == "fresh":
        splits = ("fresh",)
    head = (
        "data",
        "split",
        "method",
        "pairs",
        "pos",
        "auto P",
        "auto R",
        "flagged R",
        "FN",
        "listed P",
        "listed FP",
        "listed (all)",
        "较高: R",
        "较高: P",
        "较高 (all)",
    )
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" if k < 3 else "---:" for k in range(len(head))) + "|")
    else:
        print(
            f"{'data':5} {'split':8} {'method':7} {'pairs':>5} {'pos':>4} | {'auto P':>6} {'auto R':>6} | "
            f"{'flag R':>6} {'FN':>3} | {'list P':>6} {'FP':>3} {'listed':>6} | {'高 R':>6} {'高 P':>6} {'高 n':>5}"
        )
    false_merges = 0
    for data in datasets:
        for split in splits:
            for method in args.methods:
                m, labelled = evaluate(data, split, method, args.baseline_ref)
                name = {
                    "before": f"before ({args.baseline_ref})",
                    "hand": "hand weights",
                    "model": "pair model",
                }[method]
                if args.markdown:
                    print(
                        f"| {DATA[data].name} | {split} | {name} | {m['pairs']} | {m['pos']} | {m['auto_p']:.3f} | "
                        f"{m['auto_r']:.3f} | {m['flagged_r']:.3f} | {m['fn']} | {m['listed_p']:.3f} | "
                        f"{m['listed_fp']} | {m['listed_total']} | {m['likely_r']:.3f} | {m['likely_p']:.3f} | "
                        f"{m['likely_total']} |"
                    )
                else:
                    print(
                        f"{data:5} {split:8} {method:7} {m['pairs']:5d} {m['pos']:4d} | {m['auto_p']:6.3f} "
                        f"{m['auto_r']:6.3f} | {m['flagged_r']:6.3f} {m['fn']:3d} | {m['listed_p']:6.3f} "
                        f"{m['listed_fp']:3d} {m['listed_total']:6d} | {m['likely_r']:6.3f} {m['likely_p']:6.3f} "
                        f"{m['likely_total']:5d}"
                    )
                bad = labelled[labelled["auto"] & (labelled["label"] == "0")]
                false_merges += len(bad)
                for row in bad.itertuples():
                    print(
                        f"FALSE AUTO MERGE [{data} {split}]: {row.name_a} ({row.unit_a}) = {row.name_b} ({row.unit_b})"
                    )
                if args.errors and split == "tune" and method == "model":
                    for row in labelled[~labelled["flagged"] & (labelled["label"] == "1")].itertuples():
                        print(
                            f"  missed: {row.name_a} | {row.name_b}  [{row.pattern if 'pattern' in labelled else ''} {row.note}]"
                        )
                    listed_neg = labelled[labelled["candidate"] & (labelled["label"] == "0")]
                    for row in listed_neg.itertuples():
                        print(f"  listed negative ({row.score:.0f}): {row.name_a} | {row.name_b}")
    if args.data in ("real", "both") and NAMES_CSV.exists():
        print(f"\nOne library of the real rows ({NAMES_CSV.name}, all splits): listed pairs per method")
        for method in args.methods:
            m = library_listing(method, args.baseline_ref)
            print(
                f"  {method:7} indicators {m['indicators']:.0f}: listed {m['listed']:.0f} (labelled "
                f"{m['listed_labelled']:.0f}, duplicates among them {m['listed_p']:.3f}); 较高 {m['likely']:.0f} "
                f"(labelled {m['likely_labelled']:.0f}, duplicates {m['likely_p']:.3f})"
            )
    return 1 if false_merges else 0


if __name__ == "__main__":
    raise SystemExit(main())
