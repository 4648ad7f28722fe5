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
Peers are imported only by the benchmarks (pyproject's optional `bench` extra), never by the product: Splink in
benchmarks/peer_splink.py, daff in benchmarks/peer_daff.py; the tables in benchmarks/baselines_report.py.
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
        from benchmarks.peer_splink import splink_pairs_worker

        out = splink_pairs_worker()
    elif args.worker == "splink-corpus":
        from benchmarks.peer_splink import splink_corpus_worker

        out = splink_corpus_worker(args.validated, args.corpus)
    elif args.worker == "daff":
        from benchmarks.peer_daff import daff_worker

        out = daff_worker(args.repo, args.ref_a, args.ref_b, args.dir)
    else:
        from benchmarks.baselines_report import render_baselines
        from benchmarks.run import corpus_for

        base = run_baselines(args.work, quick=args.quick, corpus_for=lambda rows: corpus_for(args.work, rows))
        print(render_baselines(base))
        return 0
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
