"""Baselines and peers, side by side with the library's own choices (called by benchmarks.run).

    python -m benchmarks.baselines [--quick] [--work DIR]      # the baselines section alone

- reader: read_workbook (python-calamine) vs openpyxl read_only on the same corpus (benchmarks.bench_read).
- rapidfuzz: the library's dedupe (normalize → canonical key → candidates) vs the obvious all-pairs
  baseline — rapidfuzz.process.cdist over every pair of 20,000 accepted rows, a pair being a duplicate
  when fuzz.ratio ≥ 85 and scope, 二级指标, 类 and unit agree. Agreement between the two, and precision /
  recall of each against the corpus's ground truth (benchmarks.corpus truth.csv.gz), over row pairs.
- splink: Splink 5 with DuckDB — the record-linkage tool a data team would reach for — trained the
  usual way (u by random sampling, m by EM on two blocking rules), on (a) the labelled pairs
  (tests/data/labelled_pairs.csv) and (b) the distinct indicator records of the 100k corpus (identical rows
  are trivially one indicator for both tools; each gets the same records, names already cleaned by the
  reader). Time, precision and recall; Splink at 0.9 (automatic merge) and 0.5 (worth a review).
  On the labelled pairs Splink's m probabilities come from the tune split's labels (the split the
  library's thresholds were tuned on); on the corpus, Splink blocks on the fields the library's key
  requires to agree (scope, 二级指标, 类, unit) and compares names (Jaro-Winkler levels), trained by EM.
- daff: `indicators diff` (pipelines.store.query.diff.diff, reading both releases from git) vs daff's keyed table
  diff (primary key indicator_id) of the same two indicator tables exported as CSV, restricted to the
  columns the library's diff reports on (pipelines.store.query.diff.DIFF_FIELDS). Both must report the same changes: the same
  added ids, and the same (id, field) cells changed, status included.
Peers are imported only here (pyproject's optional `bench` extra), never by the product.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FINANCE = "100001"
YEAR = 2026
RAPIDFUZZ_ROWS = 20_000
RAPIDFUZZ_CUTOFF = 85
SPLINK_AUTO, SPLINK_REVIEW = 0.9, 0.5


# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _run(name: str, args: list[str]) -> dict:
    import subprocess

    from benchmarks.run import ROOT as root
    from benchmarks.run import log

    log(f"baseline {name}")
    cmd = [sys.executable, "-m", "benchmarks.baselines", "--worker", name, *args]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=root, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)}
    )
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "cmd": " ".join(cmd)}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - started
    return out


def validated_rows(work: Path, rows: int, corpus: Path) -> Path:
    """The validated rows of the corpus: from the stages run when there is one, else read + validated here."""
    from_stages = work / f"stages-{rows}" / "validated.pkl"
    if from_stages.exists() and from_stages.stat().st_mtime >= (corpus / "manifest.json").stat().st_mtime:
        return from_stages
    own = work / f"validated-{rows}.pkl"
    if not own.exists() or own.stat().st_mtime < (corpus / "manifest.json").stat().st_mtime:
        from pipelines.intake.inbox import submission_files
        from pipelines.intake.parse_cache import read_submissions
        from pipelines.validate.runner import validate_workbooks

        workbooks, _ = read_submissions(submission_files([corpus]), None)
        validation = validate_workbooks(workbooks, year=YEAR, finance_dept=FINANCE)
        with open(own, "wb") as fh:
            pickle.dump((validation.rows, validation.departments, []), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return own


def _accepted(validated: Path, corpus: Path) -> pd.DataFrame:
    """Rows bound for the library, with their ground truth."""
    from benchmarks.corpus import load_truth

    with open(validated, "rb") as fh:
        rows = pickle.load(fh)[0]
    rows = rows[rows["outcome"] == "library"].reset_index(drop=True)
    truth = load_truth(corpus)
    rows["truth"] = [
        truth.get((f, k, int(r)), "")
        for f, k, r in zip(rows["source_file"], rows["sheet_kind"], rows["source_row"], strict=True)
    ]
    return rows


def _pairs(codes: np.ndarray) -> int:
    """Pairs of items sharing a code: Σ n·(n−1)/2."""
    counts = np.bincount(codes).astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _joint_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Pairs sharing both codes."""
    joint, _ = pd.factorize(pd.Series(a.astype(np.int64) * (int(b.max()) + 1) + b))
    return _pairs(joint)


def _pr(tp: int, chosen: int, positives: int) -> dict[str, float]:
    return {
        "pairs": chosen,
        "tp": tp,
        "precision": tp / chosen if chosen else 1.0,
        "recall": tp / positives if positives else 1.0,
    }


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


# --------------------------------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------------------------------


def reader_baseline(corpus: Path) -> dict:
    from benchmarks.bench_read import run_reader

    out = {reader: run_reader(reader, corpus) for reader in ("calamine", "openpyxl")}
    cal, opx = out["calamine"], out["openpyxl"]
    out["ratio_wall"] = opx["seconds"] / cal["seconds"]
    out["ratio_cpu"] = opx["cpu_seconds"] / cal["cpu_seconds"]
    out["ratio_rss"] = opx["peak_rss_mb"] / cal["peak_rss_mb"]
    out["same_rows"] = cal["rows"] == opx["rows"]
    return out


def _product_dedupe(rows: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """The library's dedupe of rows: normalize → key (automatic merge) → candidates between the keys.
    Returns the key code of every row, the candidate pairs (key codes) and the keys."""
    from benchmarks.bench_match import key_clusters
    from pipelines.dedupe.candidates import find_candidates
    from pipelines.normalize.canonical import default_rules
    from pipelines.normalize.keys import normalize_rows

    rules = default_rules()
    normalized = normalize_rows(rows, rules)
    codes, keys = pd.factorize(normalized["key"])
    clusters = key_clusters(normalized, codes)
    clusters["id"] = [f"K{i:07d}" for i in clusters.index]
    candidates = find_candidates(clusters.reset_index(drop=True), None, rules)
    pairs = pd.DataFrame(
        {
            "a": candidates["id_a"].str[1:].astype(int).to_numpy(),
            "b": candidates["id_b"].str[1:].astype(int).to_numpy(),
        }
    )
    return codes, pairs, np.asarray(keys)


def _candidate_pairs(codes: np.ndarray, truth: np.ndarray, candidates: pd.DataFrame) -> tuple[int, int]:
    """Row pairs put up for review by key-level candidates, and how many of them are true."""
    if candidates.empty:
        return 0, 0
    size = np.bincount(codes)
    chosen = int((size[candidates["a"]] * size[candidates["b"]]).sum())
    by = pd.DataFrame({"k": codes, "t": truth}).value_counts().rename("n").reset_index()
    left = candidates.merge(by.rename(columns={"k": "a", "n": "na"}), on="a")
    both = left.merge(by.rename(columns={"k": "b", "n": "nb"}), on=["b", "t"])
    return chosen, int((both["na"] * both["nb"]).sum())


def _scored_product_dedupe(
    frame: pd.DataFrame, truth: np.ndarray, positives: int
) -> tuple[np.ndarray, float, dict[str, float], dict[str, float]]:
    """The library's dedupe of `frame`, timed, scored against `truth`: (key code of every row, seconds,
    automatic merges, merges + review candidates)."""
    _product_dedupe(frame.head(50))  # warm the shared caches (rules, OpenCC) outside the timing
    (codes, candidates, _keys), seconds = _timed(lambda: _product_dedupe(frame))
    auto = _pr(_joint_pairs(codes, truth), _pairs(codes), positives)
    cand_pairs, cand_tp = _candidate_pairs(codes, truth, candidates)
    review = _pr(auto["tp"] + cand_tp, auto["pairs"] + cand_pairs, positives)
    return codes, seconds, auto, review


def rapidfuzz_worker(validated: Path, corpus: Path, n: int, seed: int = 1) -> dict:
    from rapidfuzz import fuzz, process

    rows = _accepted(validated, corpus)
    sample = rows.sample(n=min(n, len(rows)), random_state=seed).sort_index().reset_index(drop=True)
    truth, _ = pd.factorize(sample["truth"])
    positives = _pairs(truth)

    codes, product_s, auto, review = _scored_product_dedupe(sample, truth, positives)

    def all_pairs() -> tuple[np.ndarray, np.ndarray]:
        names = sample["name"].tolist()
        scores = process.cdist(
            names, names, scorer=fuzz.ratio, score_cutoff=RAPIDFUZZ_CUTOFF, dtype=np.uint8, workers=-1
        )
        i, j = np.nonzero(scores)
        keep = i < j
        i, j = i[keep], j[keep]
        same = np.ones(len(i), dtype=bool)
        for column in ("scope", "level2", "unit"):
            values, _ = pd.factorize(sample[column])
            same &= values[i] == values[j]
        fclass, _ = pd.factorize(sample["function_code"].str[:3].where(sample["scope"] == "项目", ""))
        same &= fclass[i] == fclass[j]
        return i[same], j[same]

    (i, j), rapidfuzz_s = _timed(all_pairs)
    fuzzy = _pr(int((truth[i] == truth[j]).sum()), len(i), positives)
    both = int((codes[i] == codes[j]).sum())
    union = auto["pairs"] + len(i) - both
    return {
        "rows": len(sample),
        "true_pairs": positives,
        "product_s": product_s,
        "rapidfuzz_s": rapidfuzz_s,
        "ratio_time": rapidfuzz_s / product_s,
        "product_auto": auto,
        "product_review": review,
        "rapidfuzz": fuzzy,
        "agree_pairs": both,
        "agreement_jaccard": both / union if union else 1.0,
        "only_product": auto["pairs"] - both,
        "only_rapidfuzz": len(i) - both,
    }


def _splink_linker(records: pd.DataFrame, comparisons: list, predict_rules: list):
    import logging

    from splink import DuckDBAPI, Linker, SettingsCreator

    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=predict_rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db.register(records), settings, log_level=logging.ERROR)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    return linker


def splink_pairs_worker() -> dict:
    """Precision / recall on the labelled pairs: the library's key and candidates vs Splink."""
    import warnings

    import splink.comparison_library as cl

    from benchmarks.eval_match import label_pairs, load_pairs, metrics
    from schemas.text import clean_text

    warnings.filterwarnings("ignore")
    pairs = load_pairs()
    label_pairs(pairs.head(5))  # warm the shared caches outside the timing
    labelled, product_s = _timed(lambda: label_pairs(pairs))
    out: dict[str, object] = {"pairs": len(pairs), "positives": int((pairs["label"] == "1").sum())}

    def splink() -> pd.Series:
        sides = pd.concat(
            [
                pairs[["name_a", "definition_a", "unit_a"]].set_axis(["name", "definition", "unit"], axis=1),
                pairs[["name_b", "definition_b", "unit_b"]].set_axis(["name", "definition", "unit"], axis=1),
            ],
            ignore_index=True,
        )
        sides["_len"] = sides["definition"].str.len()
        records = (
            sides.sort_values(["name", "unit", "_len"], ascending=[True, True, False], kind="stable")
            .drop_duplicates(["name", "unit"])
            .drop(columns="_len")
            .reset_index(drop=True)
        )
        records["unique_id"] = np.arange(len(records))
        ident = {
            (n, u): i for n, u, i in zip(records["name"], records["unit"], records["unique_id"], strict=True)
        }
        for column in ("name", "definition", "unit"):
            records[column] = [clean_text(v) or None for v in records[column]]
        linker = _splink_linker(
            records,
            [
                cl.JaroWinklerAtThresholds("name", [0.95, 0.9, 0.8, 0.7]),
                cl.JaroWinklerAtThresholds("definition", [0.95, 0.85, 0.7]),
                cl.ExactMatch("unit"),
            ],
            ["1=1"],  # a few hundred records: score every pair
        )
        # m from the tune split's positive pairs — the split the library's thresholds were tuned on —
        # so the holdout split is unseen by both.
        tune = pairs[(pairs["split"] == "tune") & (pairs["label"] == "1")]
        source = "__splink__input_table_0"
        labels = pd.DataFrame(
            {
                "source_dataset_l": source,
                "unique_id_l": [ident[(n, u)] for n, u in zip(tune["name_a"], tune["unit_a"], strict=True)],
                "source_dataset_r": source,
                "unique_id_r": [ident[(n, u)] for n, u in zip(tune["name_b"], tune["unit_b"], strict=True)],
            }
        )
        linker.table_management.register_table(labels, "tune_labels", overwrite=True)
        linker.training.estimate_m_from_pairwise_labels("tune_labels")
        linker.training.estimate_probability_two_random_records_match(
            ["jaro_winkler_similarity(l.name, r.name) >= 0.9"], recall=0.6
        )
        predictions = linker.inference.predict().as_pandas_dataframe()
        prob = {
            frozenset((int(a), int(b))): p
            for a, b, p in zip(
                predictions["unique_id_l"],
                predictions["unique_id_r"],
                predictions["match_probability"],
                strict=True,
            )
        }
        return pd.Series(
            [
                prob.get(frozenset((ident[(na, ua)], ident[(nb, ub)])), 0.0)
                for na, ua, nb, ub in zip(
                    pairs["name_a"], pairs["unit_a"], pairs["name_b"], pairs["unit_b"], strict=True
                )
            ],
            index=pairs.index,
        )

    probability, splink_s = _timed(splink)
    labelled["splink_auto"] = probability >= SPLINK_AUTO
    labelled["splink_review"] = probability >= SPLINK_REVIEW
    for split in ("all", "holdout"):
        part = labelled if split == "all" else labelled[labelled["split"] == "holdout"]
        out[split] = {
            "pairs": len(part),
            "product_auto": metrics(part, "auto"),
            "product_review": metrics(part, "flagged"),
            "splink_auto": metrics(part, "splink_auto"),
            "splink_review": metrics(part, "splink_review"),
        }
    out.update(product_s=product_s, splink_s=splink_s, ratio_time=splink_s / product_s)
    return out


def splink_corpus_worker(validated: Path, corpus: Path) -> dict:
    """The distinct indicator records of a corpus deduplicated by the library's key and by Splink."""
    import warnings

    import splink.comparison_library as cl
    from splink import block_on

    warnings.filterwarnings("ignore")
    rows = _accepted(validated, corpus)
    rows["fclass"] = rows["function_code"].str[:3].where(rows["scope"] == "项目", "")
    fields = ["scope", "level1", "level2", "fclass", "name", "unit"]
    grouped = rows.groupby(fields, sort=True)
    records = grouped.agg(
        truth=("truth", lambda s: s.value_counts().index[0]),
        function_code=("function_code", "first"),
        definition=("definition", "first"),
        target_unit=("target_unit", "first"),
        n=("truth", "size"),
    ).reset_index()
    records["unique_id"] = np.arange(len(records))
    truth, _ = pd.factorize(records["truth"])
    positives = _pairs(truth)

    codes, product_s, product, product_review = _scored_product_dedupe(records, truth, positives)

    def splink() -> dict[str, np.ndarray]:
        data = records[["unique_id", "scope", "level2", "fclass", "name", "unit"]].copy()
        for column in ("scope", "level2", "fclass", "unit"):
            data[column] = data[column].replace("", None)
        # The library's identity requires scope, 二级指标, 类 and unit to agree: Splink gets the same rule as
        # its blocking rule and compares the names within blocks (JW levels); the four fields enter as
        # exact-match comparisons with m fixed near 1. Without labels for a whole corpus: λ from a
        # near-deterministic rule, the name's m by EM — the usual recipe.
        within = ["scope", "level2", "fclass", "unit"]
        linker = _splink_linker(
            data,
            [
                cl.JaroWinklerAtThresholds("name", [0.95, 0.9, 0.8, 0.7]),
                # the same indicator never differs in these (m fixed, u estimated from random pairs)
                *[cl.ExactMatch(c).configure(m_probabilities=[0.999, 0.001]) for c in within],
            ],
            [block_on(*within)],
        )
        linker.training.estimate_probability_two_random_records_match(
            [
                " and ".join(f"l.{c} = r.{c}" for c in within)
                + " and jaro_winkler_similarity(l.name, r.name) >= 0.9"
            ],
            recall=0.6,
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*within), estimate_without_term_frequencies=True
        )
        predictions = linker.inference.predict(threshold_match_probability=SPLINK_REVIEW)
        out = {}
        for label, threshold in (("auto", SPLINK_AUTO), ("review", SPLINK_REVIEW)):
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            ).as_pandas_dataframe()
            cluster_of = dict(zip(clusters["unique_id"], clusters["cluster_id"], strict=True))
            labels = [cluster_of.get(i, f"single-{i}") for i in records["unique_id"]]
            out[label] = pd.factorize(pd.Series(labels, dtype=str))[0]
        return out

    clustered, splink_s = _timed(splink)
    result = {
        "rows": len(rows),
        "records": len(records),
        "true_pairs": positives,
        "product_s": product_s,
        "splink_s": splink_s,
        "ratio_time": splink_s / product_s,
        "product_auto": product,
        "product_review": product_review,
    }
    for label, labels in clustered.items():
        result[f"splink_{label}"] = _pr(_joint_pairs(labels, truth), _pairs(labels), positives)
    return result


def daff_worker(repo: Path, ref_a: str, ref_b: str, out_dir: Path) -> dict:
    """indicators diff vs daff on the same two releases; both must report the same changes."""
    import csv
    import io

    import daff

    from pipelines.store.query.diff import DIFF_FIELDS, diff
    from pipelines.store.query.git_read import clear_cache, indicators_at

    clear_cache()
    changes, product_s = _timed(lambda: diff(repo, ref_a, ref_b))
    columns = list(dict.fromkeys(DIFF_FIELDS))
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = []
    sizes = []
    for ref in (ref_a, ref_b):
        table = indicators_at(repo, ref)[columns].fillna("").astype(str).sort_values("indicator_id")
        sizes.append(len(table))
        buf = io.StringIO()
        table.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        (out_dir / f"indicators-{ref}.csv").write_text(buf.getvalue(), encoding="utf-8")
        texts.append(buf.getvalue())

    def run_daff() -> daff.SimpleTable:
        # the timed part: parse the two CSV files and diff them keyed on indicator_id
        a = daff.Csv().makeTable((out_dir / f"indicators-{ref_a}.csv").read_text(encoding="utf-8"))
        b = daff.Csv().makeTable((out_dir / f"indicators-{ref_b}.csv").read_text(encoding="utf-8"))
        flags = daff.CompareFlags()
        flags.addPrimaryKey("indicator_id")
        align = daff.compareTables(a, b, flags).align()
        table = daff.SimpleTable(0, 0)
        daff.TableDiff(align, flags).hilite(table)
        return table

    table, daff_s = _timed(run_daff)
    header = [table.getCell(c, 0) for c in range(table.get_width())]
    id_col = header.index("indicator_id")
    daff_added, daff_removed, daff_cells = set(), set(), set()
    for r in range(1, table.get_height()):
        action = table.getCell(0, r)
        iid = str(table.getCell(id_col, r))
        if action == "+++":
            daff_added.add(iid)
        elif action == "---":
            daff_removed.add(iid)
        elif action and "->" in str(action):
            arrow = str(action)
            for c in range(1, table.get_width()):
                value = table.getCell(c, r)
                if isinstance(value, str) and arrow in value:
                    daff_cells.add((iid, header[c]))

    product_added = set(changes.added["indicator_id"]) if len(changes.added) else set()
    product_cells = {
        (i, f)
        for i, f in zip(
            changes.modified.get("indicator_id", []), changes.modified.get("field", []), strict=True
        )
    }
    for frame in (changes.retired, changes.merged, changes.reactivated):
        if len(frame):
            product_cells |= {(i, "status") for i in frame["indicator_id"]}
    # daff reports every changed cell; the library's change set reports tracked fields and status
    # events (merged_into travels with a merge's status change).
    tracked = {f for f in columns if f not in ("indicator_id", "merged_into")}
    daff_compared = {(i, f) for i, f in daff_cells if f in tracked}
    same = product_added == daff_added and product_cells == daff_compared and not daff_removed
    return {
        "refs": [ref_a, ref_b],
        "rows": sizes,
        "product_s": product_s,
        "daff_s": daff_s,
        "ratio_time": daff_s / product_s,
        "product_counts": changes.counts(),
        "added": [len(product_added), len(daff_added)],
        "cells": [len(product_cells), len(daff_compared)],
        "daff_removed": len(daff_removed),
        "same_changes": same,
        "only_product": sorted(map(str, product_cells - daff_compared))[:5],
        "only_daff": sorted(map(str, daff_compared - product_cells))[:5],
    }


# --------------------------------------------------------------------------------------------------
# The section
# --------------------------------------------------------------------------------------------------


def run_baselines(work: Path, *, quick: bool, corpus_for: Callable[[int], Path]) -> dict:
    rows = 10_000 if quick else 100_000
    corpus = corpus_for(rows)
    out: dict[str, object] = {"corpus_rows": rows}
    from benchmarks.run import log

    log(f"baseline reader ({rows:,} rows)")
    out["reader"] = reader_baseline(corpus)
    validated = validated_rows(work, rows, corpus)
    n = 2_000 if quick else RAPIDFUZZ_ROWS
    out["rapidfuzz"] = _run(
        "rapidfuzz", ["--validated", str(validated), "--corpus", str(corpus), "--n", str(n)]
    )
    out["splink_pairs"] = _run("splink-pairs", [])
    out["splink_corpus"] = _run("splink-corpus", ["--validated", str(validated), "--corpus", str(corpus)])
    from benchmarks.git_growth import releases_for_diff

    repo, ref_a, ref_b = releases_for_diff(work, rows)
    out["daff"] = _run(
        "daff", ["--repo", str(repo), "--ref-a", ref_a, "--ref-b", ref_b, "--dir", str(work / "daff")]
    )
    return out


def _ratio(x: object) -> str:
    return f"{x:.1f}×" if isinstance(x, float) else "–"


def _heading(add: Callable[[str], None], title: str, columns: tuple[str, ...]) -> None:
    """A blank line, the section title and a table header (first column text, the others numbers)."""
    add("")
    add(f"### {title}")
    add("")
    add("| " + " | ".join(columns) + " |")
    add("|---|" + "---:|" * (len(columns) - 1))


PR_COLUMNS = ("method", "time s", "pairs called duplicate", "precision", "recall")


def _library_rows(add: Callable[[str], None], figures: dict) -> None:
    """The library's two rows of a precision/recall table: automatic merges, then merges + review list."""
    add(_pr_row("library: same key (automatic merge)", figures["product_s"], figures["product_auto"]))
    add(_pr_row("library: key + review candidates", None, figures["product_review"]))


def render_baselines(base: dict) -> str:
    lines = ["## Baselines and peers"]
    add = lines.append
    r = base.get("reader") or {}
    if "calamine" in r:
        cal, opx = r["calamine"], r["openpyxl"]
        _heading(
            add,
            f"xlsx reader ({cal['rows']:,} rows, {cal['files']} workbooks)",
            ("reader", "wall s", "CPU s", "rows/s", "peak RSS MiB"),
        )
        for label, x in (("python-calamine (chosen)", cal), ("openpyxl read_only", opx)):
            add(
                f"| {label} | {x['seconds']:.2f} | {x['cpu_seconds']:.2f} | {x['rows'] / x['seconds']:,.0f} | {x['peak_rss_mb']:,.0f} |"
            )
        add("")
        add(
            f"openpyxl / calamine: wall {_ratio(r['ratio_wall'])}, CPU {_ratio(r['ratio_cpu'])}, peak RSS {r['ratio_rss']:.2f}×"
            f"{'' if r['same_rows'] else ' (row counts differ!)'}"
        )
    f = base.get("rapidfuzz") or {}
    if "rows" in f:
        title = f"Dedupe vs all-pairs rapidfuzz ({f['rows']:,} accepted rows of the corpus, {f['true_pairs']:,} true duplicate pairs)"
        _heading(add, title, PR_COLUMNS)
        _library_rows(add, f)
        label = f"rapidfuzz cdist all pairs, ratio ≥ {RAPIDFUZZ_CUTOFF} + same fields"
        add(_pr_row(label, f["rapidfuzz_s"], f["rapidfuzz"]))
        add("")
        add(
            f"rapidfuzz / library time = {_ratio(f['ratio_time'])}; agreement (Jaccard of the pair sets) "
            f"{f['agreement_jaccard']:.3f}: both {f['agree_pairs']:,}, only the library {f['only_product']:,}, "
            f"only rapidfuzz {f['only_rapidfuzz']:,}."
        )
    s = base.get("splink_pairs") or {}
    if "all" in s:
        _heading(
            add,
            f"Dedupe vs Splink (DuckDB) on the labelled pairs ({s['pairs']} pairs, {s['positives']} same)",
            ("method", "time s", "P (all)", "R (all)", "P (holdout)", "R (holdout)"),
        )
        for key, label, t in (
            ("product_auto", "library: automatic merge", s["product_s"]),
            ("product_review", "library: merge or review candidate", None),
            ("splink_auto", f"Splink p ≥ {SPLINK_AUTO}", s["splink_s"]),
            ("splink_review", f"Splink p ≥ {SPLINK_REVIEW}", None),
        ):
            a, h = s["all"][key], s["holdout"][key]
            add(
                f"| {label} | {'' if t is None else f'{t:.2f}'} | {a['precision']:.3f} | {a['recall']:.3f} "
                f"| {h['precision']:.3f} | {h['recall']:.3f} |"
            )
        add("")
        add(f"Splink / library time = {_ratio(s['ratio_time'])}")
    c = base.get("splink_corpus") or {}
    if "records" in c:
        title = (
            f"Dedupe vs Splink (DuckDB) on the corpus ({c['rows']:,} accepted rows → {c['records']:,} distinct "
            f"records, {c['true_pairs']:,} true duplicate pairs)"
        )
        _heading(add, title, PR_COLUMNS)
        _library_rows(add, c)
        add(_pr_row(f"Splink clusters at p ≥ {SPLINK_AUTO}", c["splink_s"], c["splink_auto"]))
        add(_pr_row(f"Splink clusters at p ≥ {SPLINK_REVIEW}", None, c["splink_review"]))
        add("")
        add(f"Splink / library time = {_ratio(c['ratio_time'])} (Splink: training + prediction + clustering)")
    d = base.get("daff") or {}
    if "refs" in d:
        _heading(
            add,
            f"indicators diff vs daff ({d['refs'][0]} → {d['refs'][1]}, {d['rows'][0]:,} → {d['rows'][1]:,} indicators)",
            ("tool", "time s", "added", "changed cells (fields + status)"),
        )
        add(
            f"| `indicators diff` (from git objects) | {d['product_s']:.2f} | {d['added'][0]:,} | {d['cells'][0]:,} |"
        )
        add(
            f"| daff keyed diff (two CSV files) | {d['daff_s']:.2f} | {d['added'][1]:,} | {d['cells'][1]:,} |"
        )
        add("")
        verdict = (
            "the same changes"
            if d["same_changes"]
            else f"DIFFERENT changes (only library {d['only_product']}, only daff {d['only_daff']})"
        )
        add(
            f"daff / library time = {_ratio(d['ratio_time'])}; both report {verdict}. Library counts: {d['product_counts']}."
        )
    for key in ("rapidfuzz", "splink_pairs", "splink_corpus", "daff"):
        if "error" in (base.get(key) or {}):
            add("")
            add(f"{key}: failed ({base[key]['error']}): `{base[key]['cmd']}`")
    return "\n".join(lines)


def _pr_row(label: str, seconds: float | None, m: dict) -> str:
    t = "" if seconds is None else f"{seconds:.2f}"
    return f"| {label} | {t} | {m['pairs']:,} | {m['precision']:.3f} | {m['recall']:.3f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="基准对比：读取、去重、差异比较与同类工具")
    parser.add_argument("--worker", choices=("rapidfuzz", "splink-pairs", "splink-corpus", "daff"))
    parser.add_argument("--validated", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--n", type=int, default=RAPIDFUZZ_ROWS)
    parser.add_argument("--repo", type=Path)
    parser.add_argument("--ref-a")
    parser.add_argument("--ref-b")
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "indicators-bench"
    )
    args = parser.parse_args(argv)
    if args.worker == "rapidfuzz":
        out = rapidfuzz_worker(args.validated, args.corpus, args.n)
    elif args.worker == "splink-pairs":
        out = splink_pairs_worker()
    elif args.worker == "splink-corpus":
        out = splink_corpus_worker(args.validated, args.corpus)
    elif args.worker == "daff":
        out = daff_worker(args.repo, args.ref_a, args.ref_b, args.dir)
    else:
        from benchmarks.run import corpus_for

        base = run_baselines(args.work, quick=args.quick, corpus_for=lambda rows: corpus_for(args.work, rows))
        print(render_baselines(base))
        return 0
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
