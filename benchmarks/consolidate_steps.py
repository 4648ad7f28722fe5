"""Where consolidation's time and memory go, sub-step by sub-step, on a generated corpus as it is (issue 15).

    python -m benchmarks.consolidate_steps --corpus /tmp/ib/corpus-100000 [--corpus ...] [--fork | --above-gate]

Each corpus is read and validated once (its rows pickled beside bench_consolidate's, /tmp/validated-<name>.pkl)
and not replicated: normalize + consolidate run on its own rows, one fresh process per corpus. The functions
consolidation calls are wrapped with timers (inclusive CPU seconds of this process and of its ended children,
wall seconds, the process's resident memory before/after and its peak while inside, sampled every 20 ms), and
the pairs are counted at each stage of the matcher: generated (blocking) → scored (worth scoring) → listed by
the model → described (not refused) → on the review list. Without --fork, INDICATORS_FORK=0: every sub-step's
CPU is this process's own (the forked halves would otherwise hide the children's share of a sub-step).
--above-gate runs as a 300k rebuild does, whose process holds above background.FORK_MAX_RESIDENT_MIB (this
benchmark's process holds less): background's gate closed, the halves' own (halves.split_of) as in the run;
CPU then counts the halves' children as they end.
Prints one JSON line per corpus and a table.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import pickle
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class _Steps:
    """Inclusive timings of the wrapped functions (a recursive or repeated call adds up)."""

    def __init__(self) -> None:
        self.stats: dict[str, dict[str, float]] = {}
        self.order: list[str] = []
        self.active: list[str] = []
        self.counts: dict[str, float] = {}
        self.gc_s: dict[str, float] = {}
        self.gc_full: dict[str, int] = {}
        self._gc_t = 0.0
        gc.callbacks.append(self._gc)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            rss = _rss_mib()
            for name in list(self.active):
                s = self.stats.get(name)
                if s is not None and rss > s["peak_mib"]:
                    s["peak_mib"] = rss

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        """The collector's CPU seconds per active step (the cyclic collector rescans what is alive)."""
        if phase == "start":
            self._gc_t = time.process_time()
            return
        spent = time.process_time() - self._gc_t
        for name in self.active:
            self.gc_s[name] = self.gc_s.get(name, 0.0) + spent
            if info.get("generation") == 2:
                self.gc_full[name] = self.gc_full.get(name, 0) + 1

    def stop(self) -> None:
        self._stop.set()
        gc.callbacks.remove(self._gc)

    def wrap(
        self, owner: Any, attr: str, name: str, count: Callable[[Any], dict[str, float]] | None = None
    ) -> None:
        fn = getattr(owner, attr)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if name not in self.stats:
                self.order.append(name)
                self.stats[name] = {"cpu_s": 0.0, "wall_s": 0.0, "calls": 0, "peak_mib": 0.0}
            s = self.stats[name]
            before = _rss_mib()
            s.setdefault("rss_before_mib", before)
            s["peak_mib"] = max(s["peak_mib"], before)
            self.active.append(name)
            t, c = time.perf_counter(), _cpu()
            try:
                out = fn(*args, **kwargs)
            finally:
                s["cpu_s"] += _cpu() - c
                s["wall_s"] += time.perf_counter() - t
                s["calls"] += 1
                self.active.remove(name)
                s["rss_after_mib"] = _rss_mib()
            if count is not None:
                for k, v in count(out).items():
                    self.counts[k] = self.counts.get(k, 0) + v
            return out

        setattr(owner, attr, timed)


def _frame_mib(frame: Any) -> float:
    return float(frame.memory_usage(deep=True).sum()) / 2**20


def run(cache: Path) -> dict[str, Any]:
    import pipelines.consolidate.build as build
    import pipelines.consolidate.review_pairs as review_pairs
    import pipelines.dedupe.blocking as blocking
    import pipelines.dedupe.candidates as candidates
    import pipelines.dedupe.scoring as scoring
    from pipelines.normalize.canonical import load_rules

    steps = _Steps()
    w = steps.wrap
    w(build, "normalize_accepted", "normalize")
    w(build, "consolidate", "consolidate")
    w(build, "release_key_index", "  release key index")
    w(build, "_identify", "  identity")
    w(build, "apply_changes", "  usage: changes")
    w(build, "apply_usage", "  usage: apply_usage")
    w(build, "indicator_table", "  indicator table")
    w(build, "_review_list", "  review list")
    w(build, "identity_pairs", "    identity pairs", lambda f: {"identity_pairs": len(f)})
    if hasattr(review_pairs, "NameForms"):  # the rows' name forms the review looks up (older code: none)
        w(review_pairs.NameForms, "of", "    review: rows' name forms")
    w(review_pairs, "normalize_rows", "    review: normalize indicators")
    w(review_pairs, "find_candidates", "    find_candidates", lambda f: {"candidates_found": len(f)})
    w(candidates, "prepare_rows", "      prepare_rows", lambda f: {"matcher_rows": len(f)})
    w(candidates, "generate_pairs", "      generation", lambda f: {"pairs_generated": len(f)})
    w(blocking, "_exact_pairs", "        exact pairs", lambda f: {"pairs_exact_raw": len(f[0])})
    w(blocking, "_tfidf", "        tfidf")
    w(
        blocking,
        "_passes",
        "        similarity passes",
        lambda f: {"pairs_similar_raw": sum(len(q) for q in f[0])},
    )
    w(candidates.RowTable, "of", "      table")
    w(candidates, "_worth_scoring", "      worth scoring", lambda f: {"pairs_scored": int(f.keep.sum())})
    w(candidates, "_features", "      features")
    w(scoring.ModelScoring, "score", "      model score", lambda f: {"pairs_model_listed": int(f.keep.sum())})
    w(candidates, "_describe", "      descriptions", lambda f: {"pairs_described": len(f.kept)})
    w(candidates, "_frame", "      candidate frame")
    w(candidates, "sort_candidates", "      sort (matcher)")
    w(build, "drop_one_table_pairs", "    drop one-table pairs")
    w(build, "with_identity_pairs", "    with identity pairs")
    w(review_pairs, "sort_candidates", "      sort (review list)")
    w(build, "usages_table", "  tables: usages")
    w(build, "departments_table", "  tables: departments")
    w(build, "set_aside_table", "  tables: set aside")

    rows, departments = pickle.loads(cache.read_bytes())
    rules = load_rules(None)
    out: dict[str, Any] = {
        "rows": len(rows),
        "accepted": int((rows["outcome"] == "library").sum()),
        "rows_mib": round(_frame_mib(rows), 1),
        "input_rss_mib": round(_rss_mib(), 1),
    }
    normalized = build.normalize_accepted(rows, rules)
    out["normalized_mib"] = round(_frame_mib(normalized), 1)
    result = build.consolidate(
        rows, departments, year=2026, previous=None, rules=rules, normalized=normalized
    )
    steps.stop()
    ind = result.tables.indicators
    out["indicators"] = len(ind)
    out["indicators_active"] = int((ind["status"] == "active").sum())
    out["listed"] = len(result.candidates)
    out["distinct_names"] = int(ind["name"].nunique())
    out["indicators_mib"] = round(_frame_mib(ind), 1)
    out["usages_mib"] = round(_frame_mib(result.tables.usages), 1)
    out["candidates_mib"] = round(_frame_mib(result.candidates), 1)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["children_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if len(result.candidates):
        ids = np.concatenate([result.candidates["id_a"].to_numpy(), result.candidates["id_b"].to_numpy()])
        per = np.unique(ids, return_counts=True)[1]
        out["listed_per_indicator_listed"] = round(float(per.mean()), 2)
        out["listed_per_indicator_max"] = int(per.max())
        out["flags"] = result.candidates["flags"].astype(str).value_counts().head(8).to_dict()
    out["counts"] = steps.counts
    out["steps"] = {k: {m: round(v, 2) for m, v in steps.stats[k].items()} for k in steps.order}
    for k in steps.order:
        out["steps"][k]["gc_s"] = round(steps.gc_s.get(k, 0.0), 2)
        out["steps"][k]["gc_full"] = steps.gc_full.get(k, 0)
    return out


def _table(results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    steps: list[str] = []
    for r in results.values():
        steps += [s for s in r["steps"] if s not in steps]
    print(f"{'':40}" + "".join(f"{n:>26}" for n in names))
    print(f"{'sub-step (CPU s, of it GC s, peak MiB)':40}" + "".join(f"{'':>26}" for _ in names))
    for s in steps:
        cells = []
        for n in names:
            st = results[n]["steps"].get(s)
            cells.append(
                f"{st['cpu_s']:>8.2f} {st['gc_s']:>6.2f} {st['peak_mib']:>6.0f}M" if st else f"{'-':>26}"
            )
        print(f"{s:40}" + "".join(f"{c:>26}" for c in cells))
    keys = ["rows", "accepted", "indicators", "indicators_active", "distinct_names", "listed", "peak_rss_mib"]
    for k in keys:
        print(f"{k:40}" + "".join(f"{results[n].get(k, ''):>26}" for n in names))
    counts: list[str] = []
    for r in results.values():
        counts += [c for c in r["counts"] if c not in counts]
    for k in counts:
        print(f"{k:40}" + "".join(f"{results[n]['counts'].get(k, 0):>26,.0f}" for n in names))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench_consolidate import validated_rows

    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, action="append", required=True)
    parser.add_argument(
        "--fork",
        action="store_true",
        help="let consolidation fork as in a run (CPU of forked halves counted when they end)",
    )
    parser.add_argument(
        "--above-gate",
        action="store_true",
        help="background's fork gate closed, as in a 300k rebuild (the halves' forks as there)",
    )
    parser.add_argument("--worker", type=Path)
    parser.add_argument("--out", type=Path, help="append each corpus's JSON line to this file")
    args = parser.parse_args(argv)
    if args.worker:
        from pipelines.common import background
        from pipelines.common.gc_policy import rebuild_gc

        if os.environ.get("CONSOLIDATE_STEPS_ABOVE_GATE") == "1":
            background.FORK_MAX_RESIDENT_MIB = 0  # fork_available() False, as at 300k in a rebuild

        with rebuild_gc():  # the collector as run_rebuild sets it
            found = run(args.worker)
        print(json.dumps(found))
        return 0
    env = dict(os.environ)
    if args.above_gate:
        env["CONSOLIDATE_STEPS_ABOVE_GATE"] = "1"
    elif not args.fork:
        env["INDICATORS_FORK"] = "0"
    results = {}
    for corpus in args.corpus:
        cache = validated_rows(corpus, Path("/tmp") / f"validated-{corpus.name}.pkl")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.consolidate_steps",
                "--corpus",
                str(corpus),
                "--worker",
                str(cache),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        line = done.stdout.strip().splitlines()[-1]
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps({"corpus": str(corpus), **json.loads(line)}) + "\n")
        results[corpus.name] = json.loads(line)
    _table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
