"""Consolidation at 100k and 1M rows: normalize + consolidate from validated rows, one fresh process per size.

    python -m benchmarks.bench_consolidate --corpus DIR [--sizes 100000,1000000] [--save DIR | --compare DIR]
        [--above-gate]

The validated rows of a generated corpus (benchmarks.corpus) are replicated to the wanted size as other
departments would submit them: every copy gets its own department codes and files; 70 % of its rows keep
their wording (duplicates across departments, merged), 30 % get copy-specific wording (new indicators).
Prints per step rows/s, wall time, CPU seconds, peak RSS, and the line `consolidation 1M/100k = R` (wall, and
the same ratio of CPU seconds, which a shared machine disturbs less). CPU seconds count the forked children
that have ended (consolidation computes the pairs' features in two halves, pipelines/common/halves.py).

--save DIR writes each size's outputs (the library tables, the review list, the rows' indicator ids) to
DIR/<size>.pkl; --compare DIR checks another code's outputs against them, exactly (pandas, check_exact):
`PYTHONPATH=/tmp/old python -m benchmarks.bench_consolidate ... --save /tmp/out`, then the same with the
new code and --compare /tmp/out. --above-gate closes background's fork gate, as in a 300k rebuild whose process
holds above it (this benchmark's holds less): the consolidation's halves split as they do there.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (forked halves)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _rss_mib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def validated_rows(corpus: Path, cache: Path) -> Path:
    """Read and validate the corpus once; the rows are pickled for the size runs."""
    if cache.exists():
        return cache
    from pipelines.intake.inbox import submission_files
    from pipelines.intake.parse_cache import read_submissions
    from pipelines.validate.runner import validate_workbooks

    workbooks, _ = read_submissions(submission_files([corpus]), None)
    result = validate_workbooks(workbooks, finance_dept="101")
    cache.write_bytes(pickle.dumps((result.rows, result.departments), protocol=pickle.HIGHEST_PROTOCOL))
    return cache


def replicate(rows: pd.DataFrame, size: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    copies = []
    for k in range(-(-size // len(rows))):
        part = rows.copy()
        if k:
            # Validated rows hold text as categoricals: rewrite them as plain strings.
            part["dept_code"] = part["dept_code"].astype(str) + f"{k:03d}"
            part["source_file"] = f"c{k:03d}_" + part["source_file"].astype(str)
            reworded = rng.random(len(part)) < 0.3
            part["name"] = part["name"].astype(str)
            part.loc[reworded, "name"] = part.loc[reworded, "name"] + f"（片区{k}）"
        copies.append(part)
    return pd.concat(copies, ignore_index=True).iloc[:size].reset_index(drop=True)


def _outputs(result: object) -> dict[str, pd.DataFrame | pd.Series]:
    tables = result.tables  # type: ignore[attr-defined]
    return {
        "indicators": tables.indicators,
        "usages": tables.usages,
        "departments": tables.departments,
        "set_aside": tables.set_aside,
        "candidates": result.candidates,  # type: ignore[attr-defined]
        "row_ids": result.row_ids,  # type: ignore[attr-defined]
    }


def differences(
    saved: dict[str, pd.DataFrame | pd.Series], now: dict[str, pd.DataFrame | pd.Series]
) -> list[str]:
    """The outputs that differ (exactly: values, dtypes, index, column order)."""
    wrong = []
    for name, want in saved.items():
        got = now.get(name)
        try:
            if isinstance(want, pd.DataFrame):
                pd.testing.assert_frame_equal(got, want, check_exact=True)
            else:
                pd.testing.assert_series_equal(got, want, check_exact=True)
        except AssertionError as exc:
            wrong.append(f"{name}: {str(exc).splitlines()[0]}")
    return wrong


def run_size(
    cache: Path, size: int, save: Path | None = None, compare: Path | None = None
) -> dict[str, float]:
    from pipelines.common import background
    from pipelines.consolidate.build import consolidate, normalize_accepted
    from pipelines.normalize.canonical import load_rules

    if os.environ.get("BENCH_CONSOLIDATE_ABOVE_GATE") == "1":
        background.FORK_MAX_RESIDENT_MIB = 0  # fork_available() False, as at 300k in a rebuild

    rows, departments = pickle.loads(cache.read_bytes())
    rows = replicate(rows, size)
    base = _rss_mib()
    rules = load_rules(None)
    out: dict[str, float] = {
        "rows": len(rows),
        "accepted": int((rows["outcome"] == "library").sum()),
        "input_mib": base,
    }
    t, c = time.perf_counter(), _cpu()
    normalized = normalize_accepted(rows, rules)
    out["normalize_s"], out["normalize_cpu_s"] = time.perf_counter() - t, _cpu() - c
    t, c = time.perf_counter(), _cpu()
    result = consolidate(rows, departments, year=2026, previous=None, rules=rules, normalized=normalized)
    out["consolidate_s"], out["consolidate_cpu_s"] = time.perf_counter() - t, _cpu() - c
    out["indicators"] = len(result.tables.indicators)
    out["candidates"] = len(result.candidates)
    out["peak_mib"] = _rss_mib()
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{size}.pkl").write_bytes(pickle.dumps(_outputs(result), protocol=pickle.HIGHEST_PROTOCOL))
    if compare is not None:
        wrong = differences(pickle.loads((compare / f"{size}.pkl").read_bytes()), _outputs(result))
        out["identical"] = not wrong
        out["differences"] = wrong  # type: ignore[assignment]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--worker", type=int)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--save", type=Path, help="write each size's outputs to DIR/<size>.pkl")
    parser.add_argument("--compare", type=Path, help="compare each size's outputs with DIR/<size>.pkl")
    parser.add_argument(
        "--above-gate", action="store_true", help="background's fork gate closed (300k rebuild)"
    )
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_size(args.cache, args.worker, args.save, args.compare)))
        return 0
    cache = validated_rows(args.corpus, Path(tempfile.gettempdir()) / f"validated-{args.corpus.name}.pkl")
    results = {}
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.bench_consolidate",
            "--corpus",
            str(args.corpus),
            "--worker",
            str(size),
            "--cache",
            str(cache),
            *(["--save", str(args.save)] if args.save else []),
            *(["--compare", str(args.compare)] if args.compare else []),
        ]
        env = {**os.environ, **({"BENCH_CONSOLIDATE_ABOVE_GATE": "1"} if args.above_gate else {})}
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results[size] = r
        total = r["normalize_s"] + r["consolidate_s"]
        print(
            f"{size:>9,} rows  normalize {r['normalize_s']:6.1f} s ({r['accepted'] / r['normalize_s']:,.0f} rows/s)  "
            f"consolidate {r['consolidate_s']:6.1f} s ({r['accepted'] / r['consolidate_s']:,.0f} rows/s)  "
            f"total {total:6.1f} s (CPU {r['normalize_cpu_s'] + r['consolidate_cpu_s']:6.1f} s)  peak RSS {r['peak_mib']:,} MiB (input held {r['input_mib']:,} MiB)  "
            f"indicators {r['indicators']:,}  candidates {r['candidates']:,}",
            flush=True,
        )
        if "identical" in r:
            print(
                f"{size:>9,} rows  outputs identical to {args.compare}: {r['identical']}",
                *r["differences"],
                flush=True,
            )
    if 100000 in results and 1000000 in results:
        a, b = results[100000], results[1000000]
        ratio = (b["normalize_s"] + b["consolidate_s"]) / (a["normalize_s"] + a["consolidate_s"])
        cpu = (b["normalize_cpu_s"] + b["consolidate_cpu_s"]) / (
            a["normalize_cpu_s"] + a["consolidate_cpu_s"]
        )
        print(
            f"consolidation 1M/100k = {ratio:.2f} (CPU seconds: {cpu:.2f}; a shared machine's wall time varies)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
