"""Precision and recall of dedupe matching on labelled pairs of indicator names (issue 11).

    python -m benchmarks.eval_match [--data real|old|fresh|fresh2…fresh11|both|every] [--split tune|holdout|all]
                                    [--methods model hand] [--markdown] [--errors] [--same-table]

Data: tests/data/real_pairs.csv (real names from published 绩效目标表, with 二级指标, scope and function code
per side; split tune / holdout), tests/data/labelled_pairs.csv (the first set; names only, every pair filed
alike), and six sets labelled before the matcher saw them, each evaluated whole: tests/data/fresh_pairs.csv,
fresh2_pairs.csv (a training part since round 2, see pair_model.TRAIN_PARTS), fresh3_pairs.csv,
fresh4_pairs.csv, fresh5_pairs.csv and fresh6_pairs.csv (each with its <name>_names.csv, the same columns as
fresh_*.csv). `every`
evaluates them all.
Each split is evaluated on its own: the distinct sides (name, unit, 二级, scope, function code) of its pairs
become indicators of one library year and go through normalization (keys) and find_candidates exactly as
consolidation calls them (names without template markers, as validation passes them on). A labelled pair
counts as listed when a listed pair joins its two wordings (same matching form and unit): copies of one
wording are always listed with each other, so the reviewer sees both.

Measured per split:
- auto P / auto R: pairs merged automatically (same key), their precision, and the share of duplicates merged;
- flagged R: duplicates merged automatically or listed in merge_review.xlsx (merged-or-listed recall);
- listed P: of the labelled pairs listed for review (not merged), the share that are duplicates;
- listed: how many pairs the whole list holds for the split's names (labelled or not);
- 较高 R / P / all: the same for the pairs marked 可能性较高 (the model's likely mark; the hand weights have
  no such mark, so every listed pair counts): merged-or-likely recall, likely precision.
Then, per names file (real_names.csv, fresh_names.csv, fresh2_names.csv …), its rows as one library year:
listed pairs per indicator, and the share of duplicates among the labelled pairs listed.
Methods: model (the pair model, pipelines/dedupe/model.py; since 2026-12-04 trained on every set here, so these
figures are in-sample: benchmarks/cv_match.py gives each set's figures by a model that never saw it), hand (the
first version's hand weights over today's candidate generation).
--errors lists misses and listed negatives of every split evaluated (every set has been seen by now); false automatic
merges are listed for every split, because each one must be explained.
--same-table leaves out the pairs of two rows of one project table (pipelines/dedupe/same_table.py), an indicator's
table being its names rows' source table and year (a page printing two projects counts as one table).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.dedupe.candidates import find_candidates  # noqa: E402
from pipelines.dedupe.pair_model import read_pairs  # noqa: E402
from pipelines.dedupe.same_table import PROJECT_SCOPE, drop_same_table  # noqa: E402
from pipelines.dedupe.scoring import HandScoring, Scoring  # noqa: E402
from pipelines.normalize.canonical import default_rules  # noqa: E402
from pipelines.normalize.keys import normalize_rows  # noqa: E402
from pipelines.validate.markers import strip_markers  # noqa: E402

DATA_DIR = ROOT / "tests" / "data"
DATA = {
    "real": DATA_DIR / "real_pairs.csv",
    "old": DATA_DIR / "labelled_pairs.csv",
    # Labelled after the matcher was frozen (tests/data/REAL_PAIRS.md). Every set here is a training part since
    # 2026-12-04 (pair_model.TRAIN_PARTS); benchmarks/cv_match.py leaves each out in turn.
    "fresh": DATA_DIR / "fresh_pairs.csv",
    "fresh2": DATA_DIR / "fresh2_pairs.csv",
    # The third holdout, labelled while round 2 was tuned (never opened by it); evaluated once.
    "fresh3": DATA_DIR / "fresh3_pairs.csv",
    # The fourth holdout (tests/data/FRESH4.md), labelled by meaning before the matcher saw it; evaluated once.
    "fresh4": DATA_DIR / "fresh4_pairs.csv",
    # The fifth holdout (tests/data/FRESH5.md), labelled by meaning and committed before the matcher saw it; evaluated once.
    "fresh5": DATA_DIR / "fresh5_pairs.csv",
    # The sixth holdout (tests/data/FRESH6.md), labelled by meaning and committed before the matcher saw it; evaluated once.
    "fresh6": DATA_DIR / "fresh6_pairs.csv",
    # The seventh holdout (tests/data/FRESH7.md), labelled by meaning and committed before the matcher saw it;
    # evaluated once (2026-12-04) on the model of 015eadf. Not a training part.
    "fresh7": DATA_DIR / "fresh7_pairs.csv",
    # The eighth holdout (tests/data/FRESH8.md), labelled by meaning and committed before any matcher saw it; to be
    # evaluated once, untouched. Not a training part (pair_model.TRAIN_PARTS) nor a cv_match fold.
    "fresh8": DATA_DIR / "fresh8_pairs.csv",
    # The ninth holdout (tests/data/FRESH9.md), labelled by meaning and committed before any matcher saw it; to be
    # evaluated once, untouched. Not a training part (pair_model.TRAIN_PARTS) nor a cv_match fold.
    "fresh9": DATA_DIR / "fresh9_pairs.csv",
    # The tenth holdout (tests/data/FRESH10.md), labelled by meaning and committed before any matcher saw it; to be
    # evaluated once, untouched. Not a training part (pair_model.TRAIN_PARTS) nor a cv_match fold.
    "fresh10": DATA_DIR / "fresh10_pairs.csv",
    # The eleventh holdout (tests/data/FRESH11.md), labelled by meaning and committed before any matcher saw it; to be
    # evaluated once, untouched. Not a training part (pair_model.TRAIN_PARTS) nor a cv_match fold.
    "fresh11": DATA_DIR / "fresh11_pairs.csv",
}
NAMES = {
    "real": DATA_DIR / "real_names.csv",
    "fresh": DATA_DIR / "fresh_names.csv",
    "fresh2": DATA_DIR / "fresh2_names.csv",
    "fresh3": DATA_DIR / "fresh3_names.csv",
    "fresh4": DATA_DIR / "fresh4_names.csv",
    "fresh5": DATA_DIR / "fresh5_names.csv",
    "fresh6": DATA_DIR / "fresh6_names.csv",
    "fresh7": DATA_DIR / "fresh7_names.csv",
    "fresh8": DATA_DIR / "fresh8_names.csv",
    "fresh9": DATA_DIR / "fresh9_names.csv",
    "fresh10": DATA_DIR / "fresh10_names.csv",
    "fresh11": DATA_DIR / "fresh11_names.csv",
}
# Evaluated whole, under the split name "all".
WHOLE = (
    "fresh",
    "fresh2",
    "fresh3",
    "fresh4",
    "fresh5",
    "fresh6",
    "fresh7",
    "fresh8",
    "fresh9",
    "fresh10",
    "fresh11",
)
SIDE = ("name", "definition", "unit", "level2", "scope", "function_code")
IDENT = ["name", "unit", "level2", "scope", "function_code"]

Finder = Callable[..., pd.DataFrame]


def load_pairs(path: Path) -> pd.DataFrame:
    return read_pairs(path)


def _entities(pairs: pd.DataFrame) -> pd.DataFrame:
    """One indicator per (name, unit, 二级, scope, code) of the pairs' sides; its explanation is the longest."""
    sides = pd.concat(
        [pairs[[f"{c}_{s}" for c in SIDE]].set_axis(list(SIDE), axis=1) for s in ("a", "b")],
        ignore_index=True,
    )
    sides["_len"] = sides["definition"].str.len()
    entities = sides.sort_values([*IDENT, "_len"], ascending=[True] * 5 + [False], kind="stable")
    entities = entities.drop_duplicates(IDENT).drop(columns="_len").reset_index(drop=True)
    entities["id"] = [f"E{i:04d}" for i in range(len(entities))]
    entities["level1"] = ""
    return entities


def _listed(candidates: pd.DataFrame, form_of: dict[str, str]) -> tuple[dict, dict]:
    """Best score and likely mark of each listed pair, by ids and by wordings."""
    score_of: dict[frozenset[str], float] = {}
    likely_of: dict[frozenset[str], bool] = {}
    likely = candidates["likely"] if "likely" in candidates else pd.Series(True, index=candidates.index)
    for a, b, s, lk in zip(candidates["id_a"], candidates["id_b"], candidates["score"], likely, strict=True):
        for key in (frozenset((a, b)), frozenset((form_of[a], form_of[b]))):
            score_of[key] = max(s, score_of.get(key, s))
            likely_of[key] = bool(lk) or likely_of.get(key, False)
    return score_of, likely_of


def label_pairs(
    pairs: pd.DataFrame,
    scoring: Scoring | None = None,
    find: Finder | None = None,
    tables: dict[tuple[str, ...], str] | None = None,
) -> pd.DataFrame:
    """Add auto (same key), candidate (listed for review), flagged, likely and score to every labelled pair.
    With tables (an indicator's one project table, by its IDENT fields), pairs of one table are not listed
    (pipelines/dedupe/same_table.py), as consolidation does with the usages' tables."""
    find = find or find_candidates
    rules = default_rules()
    entities = _entities(pairs)
    normalized = normalize_rows(entities, rules)
    ident = {
        tuple(r): i for r, i in zip(entities[IDENT].itertuples(index=False), entities["id"], strict=True)
    }
    key_of = dict(zip(normalized["id"], normalized["key"], strict=True))
    # The same wording (matching form and unit) in several indicators is listed among itself (or merged),
    # so a listed pair stands for every copy of its two wordings.
    form_of = {
        i: f"{m}|{u}"
        for i, m, u in zip(normalized["id"], normalized["match_name"], normalized["unit_norm"], strict=True)
    }
    candidates = find(normalized, None, rules, scoring=scoring) if scoring else find(normalized, None, rules)
    if tables:
        table_of = {i: tables[t] for t, i in ident.items() if t in tables}
        candidates = drop_same_table(candidates, table_of)
    score_of, likely_of = _listed(candidates, form_of)
    id_a, id_b = (
        [ident[tuple(r)] for r in pairs[[f"{c}_{s}" for c in IDENT]].itertuples(index=False)] for s in "ab"
    )
    keys = [(frozenset((a, b)), frozenset((form_of[a], form_of[b]))) for a, b in zip(id_a, id_b, strict=True)]
    out = pairs.copy()
    out["auto"] = [key_of[a] == key_of[b] for a, b in zip(id_a, id_b, strict=True)]
    out["candidate"] = [k in score_of or f in score_of for k, f in keys]
    out["candidate"] &= ~out["auto"]
    out["flagged"] = out["auto"] | out["candidate"]
    out["likely"] = [likely_of.get(k, likely_of.get(f, False)) for k, f in keys]
    out["likely"] &= out["candidate"]
    out["score"] = [score_of.get(k, score_of.get(f)) for k, f in keys]
    out["key_a"] = [key_of[a] for a in id_a]
    out["key_b"] = [key_of[b] for b in id_b]
    out.attrs["listed_total"] = len(candidates)
    out.attrs["likely_total"] = int(candidates["likely"].sum()) if "likely" in candidates else len(candidates)
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


def _row_tables(data: str) -> dict[str, str | None]:
    """Names-file row id -> its project table (the source table: one project's goal table, one year), None
    for a 共性 or 部门整体 row (the same-table rule leaves those alone)."""
    if data not in NAMES or not NAMES[data].exists():
        return {}
    names = pd.read_csv(NAMES[data], dtype=str, keep_default_na=False)
    return {
        r.row_id: (f"{r.source_group}|{r.year}" if r.scope == PROJECT_SCOPE else None)
        for r in names.itertuples()
    }


def side_tables(pairs: pd.DataFrame, data: str) -> dict[tuple[str, ...], str]:
    """An indicator's (IDENT fields') one project table, from the names rows its pair sides are copied from;
    absent when its rows are in several tables or not in a project table."""
    rows = _row_tables(data)
    if not rows or "source_a" not in pairs.columns:
        return {}
    seen: dict[tuple[str, ...], set[str | None]] = {}
    for s in ("a", "b"):
        keys = pairs[[f"{c}_{s}" for c in IDENT]].itertuples(index=False)
        for key, row_id in zip(keys, pairs[f"source_{s}"], strict=True):
            seen.setdefault(tuple(key), set()).add(rows.get(row_id))
    return {k: t for k, v in seen.items() if len(v) == 1 for t in v if t is not None}


def evaluate(data: str, split: str, method: str, same_table: bool = False) -> tuple[dict, pd.DataFrame]:
    pairs = load_pairs(DATA[data])
    part = (pairs if split == "all" else pairs[pairs["split"] == split]).reset_index(drop=True)
    tables = side_tables(part, data) if same_table else None
    labelled = label_pairs(part, HandScoring() if method == "hand" else None, tables=tables)
    return metrics(labelled), labelled


def library_listing(method: str, data: str = "real", same_table: bool = False) -> dict[str, float]:
    """The rows of a names file as one library year (all splits: a reading, not a target): how many pairs
    are listed (per indicator), how many marked 较高, and of those the labelled ones that are duplicates."""
    names = pd.read_csv(NAMES[data], dtype=str, keep_default_na=False)
    rows = names.rename(columns={"row_id": "id"})[
        ["id", "scope", "level1", "level2", "name", "definition", "unit", "function_code"]
    ]
    rows = rows.assign(name=[strip_markers(n).name for n in rows["name"]])  # as validation passes them on
    normalized = normalize_rows(rows, default_rules()).sort_values("id", kind="stable")
    clusters = normalized.drop_duplicates("key").reset_index(drop=True)  # one indicator per key
    key_of = dict(zip(normalized["id"], normalized["key"], strict=True))
    id_of_key = dict(zip(clusters["key"], clusters["id"], strict=True))
    label: dict[frozenset[str], str] = {}
    for r in pd.read_csv(DATA[data], dtype=str, keep_default_na=False, comment="#").itertuples():
        a, b = id_of_key.get(key_of.get(r.source_a, "")), id_of_key.get(key_of.get(r.source_b, ""))
        if a and b and a != b:
            label[frozenset((a, b))] = r.label
    scoring = HandScoring() if method == "hand" else None
    candidates = find_candidates(clusters, None, default_rules(), scoring=scoring)
    if same_table:  # an indicator (key) whose rows all sit in one project table
        rows_of = _row_tables(data)
        tables = pd.Series([rows_of.get(i) for i in normalized["id"]], index=normalized["key"].to_numpy())
        single = tables.groupby(level=0).agg(lambda t: t.iloc[0] if t.nunique(dropna=False) == 1 else None)
        table_of = {id_of_key[k]: t for k, t in single.items() if isinstance(t, str)}
        candidates = drop_same_table(candidates, table_of)
    out: dict[str, float] = {
        "indicators": len(clusters),
        "per_indicator": len(candidates) / max(len(clusters), 1),
    }
    for tier, part in (("listed", candidates), ("likely", candidates[candidates["likely"].astype(bool)])):
        found = [label.get(frozenset(p)) for p in zip(part["id_a"], part["id_b"], strict=True)]
        known = [f for f in found if f is not None]
        out[tier] = len(part)
        out[f"{tier}_labelled"] = len(known)
        out[f"{tier}_p"] = known.count("1") / len(known) if known else float("nan")
    return out


HEAD = ("data", "split", "method", "pairs", "pos", "auto P", "auto R", "flagged R", "FN", "listed P",
        "listed FP", "listed (all)", "较高: R", "较高: P", "较高 (all)")  # fmt: skip
METHOD_NAMES = {"hand": "hand weights", "model": "pair model"}


def _row(data: str, split: str, method: str, m: dict, markdown: bool) -> str:
    if markdown:
        return (
            f"| {DATA[data].name} | {split} | {METHOD_NAMES[method]} | {m['pairs']} | {m['pos']} | {m['auto_p']:.3f} | "
            f"{m['auto_r']:.3f} | {m['flagged_r']:.3f} | {m['fn']} | {m['listed_p']:.3f} | {m['listed_fp']} | "
            f"{m['listed_total']} | {m['likely_r']:.3f} | {m['likely_p']:.3f} | {m['likely_total']} |"
        )
    return (
        f"{data:6} {split:8} {method:6} {m['pairs']:5d} {m['pos']:4d} | {m['auto_p']:6.3f} {m['auto_r']:6.3f} | "
        f"{m['flagged_r']:6.3f} {m['fn']:3d} | {m['listed_p']:6.3f} {m['listed_fp']:3d} {m['listed_total']:6d} | "
        f"{m['likely_r']:6.3f} {m['likely_p']:6.3f} {m['likely_total']:5d}"
    )


def _explain(data: str, split: str, method: str, labelled: pd.DataFrame, errors: bool) -> int:
    """Print the false automatic merges (always) and, with --errors, the misses and listed negatives; their count."""
    bad = labelled[labelled["auto"] & (labelled["label"] == "0")]
    for row in bad.itertuples():
        print(f"FALSE AUTO MERGE [{data} {split}]: {row.name_a} ({row.unit_a}) = {row.name_b} ({row.unit_b})")
    if errors and method == "model":
        for row in labelled[~labelled["flagged"] & (labelled["label"] == "1")].itertuples():
            print(f"  missed: {row.name_a} | {row.name_b}  [{getattr(row, 'pattern', '')} {row.note}]")
        for row in labelled[labelled["candidate"] & (labelled["label"] == "0")].itertuples():
            print(f"  listed negative ({row.score:.0f}): {row.name_a} | {row.name_b}")
    return len(bad)


def _parts(data: str, split: str) -> list[tuple[str, str]]:
    chosen = {"both": ("real", "old"), "every": tuple(DATA)}.get(data, (data,))
    datasets = [d for d in chosen if DATA[d].exists()]
    splits = ("tune", "holdout") if split == "all" else (split,)
    return [(d, s) for d in datasets for s in (("all",) if d in WHOLE else splits)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=(*DATA, "both", "every"), default="both")
    parser.add_argument("--split", choices=("tune", "holdout", "all"), default="all")
    parser.add_argument("--methods", nargs="+", choices=tuple(METHOD_NAMES), default=["hand", "model"])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table (for RESULTS.md)")
    parser.add_argument(
        "--errors", action="store_true", help="list the misses and listed negatives of the splits evaluated"
    )
    parser.add_argument(
        "--same-table",
        action="store_true",
        help="leave out pairs of one project table, as consolidation does (pipelines/dedupe/same_table.py)",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        print("| " + " | ".join(HEAD) + " |")
        print("|" + "|".join("---" if k < 3 else "---:" for k in range(len(HEAD))) + "|")
    false_merges = 0
    for data, split in _parts(args.data, args.split):
        for method in args.methods:
            m, labelled = evaluate(data, split, method, args.same_table)
            print(_row(data, split, method, m, args.markdown))
            false_merges += _explain(data, split, method, labelled, args.errors)
    listing = {"both": ("real",), "every": tuple(NAMES)}.get(args.data, (args.data,))
    for data in listing:
        if data not in NAMES or not NAMES[data].exists():
            continue
        print(f"\nOne library of the rows of {NAMES[data].name} (all splits): listed pairs per method")
        for method in args.methods:
            m = library_listing(method, data, args.same_table)
            print(
                f"  {method:6} indicators {m['indicators']:.0f}: listed {m['listed']:.0f} ({m['per_indicator']:.2f} per "
                f"indicator; labelled {m['listed_labelled']:.0f}, duplicates among them {m['listed_p']:.3f}); 较高 "
                f"{m['likely']:.0f} (labelled {m['likely_labelled']:.0f}, duplicates {m['likely_p']:.3f})"
            )
    return 1 if false_merges else 0


if __name__ == "__main__":
    raise SystemExit(main())
