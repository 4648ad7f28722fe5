"""What one benchmark process measures: the rebuild's steps timed one by one, consolidation alone, the
Dagster job end to end. A fresh interpreter each (peak RSS is its own), started by benchmarks.run as

    python benchmarks/workers.py stages|consolidation|e2e --corpus DIR --dir DIR [--workers N|auto] …

with PYTHONPATH at the code measured: this checkout, or a worktree of an older commit (benchmarks.run
--compare). So this file imports nothing from benchmarks/ and passes an argument to the product only
when the product's function takes it (an older commit has no `workers`). The figures are the last
stdout line (JSON)."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FINANCE = "100001"  # benchmarks.corpus: department 0 is the finance bureau
CORPUS_MANIFEST = "manifest.json"  # benchmarks.corpus.MANIFEST


def peak_mib() -> float:
    """Peak resident set of this process since the last reset (VmHWM), MiB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        return int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) / 1024  # type: ignore[union-attr]


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        return int(re.search(r"VmRSS:\s+(\d+)", fh.read()).group(1)) / 1024  # type: ignore[union-attr]


def reset_peak() -> None:
    """Start a new peak-RSS window (Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass  # the peak then covers the process so far: an upper bound


def accepted(fn: Callable[..., Any], **options: Any) -> dict[str, Any]:
    """The options fn takes (by name, or all of them through **kwargs); the others are left out."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return options
    return {k: v for k, v in options.items() if k in params}


def corpus_rows(corpus_dir: Path) -> int:
    """Indicator rows of a benchmarks.corpus directory (its manifest), 0 when it has none."""
    path = Path(corpus_dir) / CORPUS_MANIFEST
    if not path.exists():
        return 0
    manifest = json.loads(path.read_text(encoding="utf-8"))
    files = manifest.get("files") or []
    return sum(f["core_rows"] + f["project_rows"] + f["common_rows"] for f in files)


class StageTimer:
    """The rebuild's StepRunner: times each named step — wall, CPU (this process and its finished
    children), peak RSS of the step — and optionally writes a cProfile dump per step."""

    def __init__(self, rows: int, profile_dir: Path | None = None) -> None:
        self.rows, self.profile_dir = rows, profile_dir
        self.stages: list[dict[str, Any]] = []

    def __call__(self, name: str, fn: Callable[[], Any], /) -> Any:
        import gc

        gc.collect()
        reset_peak()
        wall, cpu = time.perf_counter(), _cpu()
        if self.profile_dir is not None:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(fn)
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(self.profile_dir / f"{name}.prof"))
        else:
            result = fn()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        self.stages.append(
            {
                "stage": name,
                "wall_s": wall,
                "cpu_s": cpu,
                "rows_per_s": self.rows / wall if wall else None,
                "peak_mib": peak_mib(),
                "rss_end_mib": rss_mib(),
            }
        )
        print(f"  {name:<14} {wall:8.2f} s  peak {self.stages[-1]['peak_mib']:7.0f} MiB", file=sys.stderr)
        return result


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended (a process pool's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _warm() -> None:
    """Load what every stage shares (reference tables, OpenCC dictionaries) outside any timing."""
    from schemas.text import clean_text
    from schemas.vocab import reference

    reference()
    clean_text("預熱")


def _product_gc() -> contextlib.AbstractContextManager[object]:
    """The product's collector settings for a rebuild (pipelines.common.gc_policy, as run_rebuild applies
    them), so the steps timed here run as in `indicators rebuild`; nothing on an older commit without it."""
    try:
        from pipelines.common.gc_policy import rebuild_gc
    except ImportError:
        return contextlib.nullcontext()
    return rebuild_gc()


def _process_peak() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stages_worker(
    corpus_dir: Path,
    work_dir: Path,
    year: int,
    profile: bool = False,
    repo: Path | None = None,
    workers: int | None = 1,
) -> dict[str, object]:
    """Every step of the rebuild, timed one by one: pipelines.rebuild.run, the composition the Dagster
    assets wrap, blocking checks included; the parse cache is left out (every run parses). On a fresh
    repo in work_dir, or on `repo` (growing it by a release: the previous release is loaded, its ids
    matched, the change set taken against it). workers: 1 serial, None the product's automatic count
    (passed only when rebuild.run takes it)."""
    import pickle

    from pipelines import rebuild

    _warm()
    rows = corpus_rows(corpus_dir)
    fresh = repo is None
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    repo = work_dir / "repo" if repo is None else repo
    timer = StageTimer(rows, work_dir / "profile" if profile else None)
    options = accepted(rebuild.run, finance_dept=FINANCE, parse_cache=False, step=timer, workers=workers)
    with _product_gc():
        done = rebuild.run(year, corpus_dir, repo, **options)
    validation, result, commit = done.validation, done.consolidation, done.commit
    if fresh:  # the input of the isolated consolidation run
        with open(work_dir / "validated.pkl", "wb") as fh:
            kept = (validation.rows, validation.departments, validation.files)
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
    rows = rows or int(validation.counts()["read"])
    return {
        "rows": rows,
        "workbooks": len(done.files),
        "workers": _workers_label(workers, "workers" in options, done),
        "workers_supported": "workers" in options,
        "accounting": validation.counts(),
        "indicators": len(result.tables.indicators),
        "candidates": len(result.candidates),
        "changes": done.changes.counts(),
        "committed": bool(commit and commit.committed),
        "tag": (commit.tag if commit else "") or "",
        "success": bool(commit and commit.committed),
        "stages": timer.stages,
        # the batches' own seconds reading, validating, writing feedback (summed over the workers)
        "per_workbook_seconds": getattr(done, "per_workbook_seconds", None),
        "wall_s": sum(s["wall_s"] for s in timer.stages),
        "cpu_s": sum(s["cpu_s"] for s in timer.stages),
        "peak_mib": _process_peak(),
        "peak_mib_process": _process_peak(),
    }


def _workers_label(asked: int | None, supported: bool, done: object = None) -> str:
    """What ran: "1", or the count the product chose ("auto=N" when it tells, else "auto")."""
    if not supported:
        return "1 (no workers option)"
    if asked is not None:
        return str(asked)
    used = getattr(done, "workers", None)
    return f"auto={used}" if isinstance(used, int) else "auto"


def consolidation_worker(work_dir: Path, year: int) -> dict[str, object]:
    """The normalize and consolidate steps alone, from the validated rows of a stages run (no release
    before it)."""
    import pickle

    from pipelines import rebuild
    from pipelines.common.config import Settings
    from pipelines.normalize.canonical import load_rules
    from pipelines.store.release import PreviousRelease
    from pipelines.validate.runner import ValidationResult

    _warm()
    with open(work_dir / "validated.pkl", "rb") as fh:
        rows, departments, files = pickle.load(fh)
    validation = ValidationResult(rows, [], files, departments)
    deployment = rebuild.Deployment(work_dir, Settings(), FINANCE)
    previous = rebuild.Previous(PreviousRelease(None, "", None, ""))
    rules = load_rules(None)
    loaded = rss_mib()
    timer = StageTimer(len(rows))

    def run() -> object:
        normalized = rebuild.normalize(validation, rules)
        return rebuild.consolidate(validation, normalized, previous, deployment, year, rules)

    with _product_gc():
        result = timer("consolidation", run)
    return {
        "rows": len(rows),
        "accepted": int((rows["outcome"] == "library").sum()),
        "indicators": len(result.tables.indicators),
        "input_mib": loaded,
        **timer.stages[0],
    }


def e2e_worker(
    corpus_dir: Path, repo: Path, year: int, workers: int | None = None, executor: str = "auto"
) -> dict[str, object]:
    """`indicators rebuild`: the Dagster job (pipelines.defs.run.run_rebuild). workers 1 with the
    in-process executor, or the product's choice (workers None, executor auto); passed only when
    run_rebuild takes them."""
    started = time.perf_counter()
    from pipelines.defs.run import run_rebuild

    imported = time.perf_counter() - started
    trace = StepTrace()
    options = accepted(run_rebuild, finance_dept=FINANCE, workers=workers, executor=executor, on_event=trace)
    reset_peak()
    wall, cpu = time.perf_counter(), _cpu()
    with trace.sampling():
        outcome = run_rebuild(year, corpus_dir, repo, **options)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    stats = {**_parse_stats(), "steps": trace.steps} if trace.steps else _parse_stats()
    return {
        "success": outcome.success,
        "errors": outcome.errors,
        "failed_checks": [name for name, _ in outcome.failed_checks],
        "accounting": outcome.accounting,
        "changes": outcome.changes_zh,
        "published": {k: str(v) for k, v in outcome.published.items() if k in ("committed", "tag")},
        "workers": _workers_label(workers, "workers" in options, outcome),
        "workers_supported": "workers" in options,
        "executor": options.get("executor", "in_process (no executor option)"),
        "import_s": imported,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": _process_peak(),
        **stats,
    }


class StepTrace:
    """The in-process run's Dagster steps as they start and succeed (an instance event listener): each
    step's wall, this process's CPU (its own thread's work plus Dagster's around it; not the pool's), and
    this process's peak and final resident memory, sampled every SAMPLE_S. Beside the stages runner's
    figures it shows what the job adds to each step, and which step holds the peak."""

    SAMPLE_S = 0.2

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self._open: dict[str, tuple[float, float]] = {}
        self._peak = 0.0
        self._t0 = time.perf_counter()

    def __call__(self, entry: Any) -> None:
        event = getattr(entry, "dagster_event", None)
        kind, key = getattr(event, "event_type_value", ""), getattr(event, "step_key", None)
        if not key or kind not in ("STEP_START", "STEP_SUCCESS"):
            return
        if kind == "STEP_START":
            self._peak = rss_mib()
            self._open[key] = (time.perf_counter(), time.process_time())
        elif key in self._open:
            wall, cpu = self._open.pop(key)
            rss = rss_mib()
            self.steps.append(
                {
                    "step": key,
                    "start_s": wall - self._t0,
                    "wall_s": time.perf_counter() - wall,
                    "cpu_s": time.process_time() - cpu,
                    "peak_mib": max(self._peak, rss),
                    "rss_end_mib": rss,
                }
            )

    @contextlib.contextmanager
    def sampling(self) -> Any:
        import threading

        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(self.SAMPLE_S):
                self._peak = max(self._peak, rss_mib())

        thread = threading.Thread(target=sample, name="step-trace", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()


def _parse_stats() -> dict[str, Any]:
    """How many workbooks the last run parsed vs took from the parse cache (Dagster's asset metadata)."""
    try:
        import dagster as dg

        instance = dg.DagsterInstance.get()
        event = instance.get_latest_materialization_event(dg.AssetKey("validated_submissions"))
        meta = event.asset_materialization.metadata  # type: ignore[union-attr]
        parsed, cached = meta["parsed"].value, meta["from_cache"].value
        # the batches' own seconds (read/validate/feedback wall, "cpu": the workers' CPU in batches)
        seconds = meta["seconds"].value if "seconds" in meta else None
        return {"parsed": len(parsed), "from_cache": len(cached), "batch_seconds": seconds}  # type: ignore[arg-type]
    except Exception:
        return {}


def _workers_arg(text: str) -> int | None:
    return None if text == "auto" else int(text)


def main(argv: list[str] | None = None) -> int:
    """One measurement in this fresh process; its figures are the last stdout line (JSON)."""
    parser = argparse.ArgumentParser(description="one benchmark measurement (benchmarks.run starts it)")
    parser.add_argument("mode", choices=("stages", "consolidation", "e2e"))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repo", type=Path, default=None)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--workers", type=_workers_arg, default=1, help="N, or auto (the product's choice)")
    parser.add_argument("--executor", default="auto")
    args = parser.parse_args(argv)
    if args.mode == "stages":
        out = stages_worker(args.corpus, args.dir, args.year, args.profile, args.repo, args.workers)
    elif args.mode == "consolidation":
        out = consolidation_worker(args.dir, args.year)
    else:
        out = e2e_worker(args.corpus, args.dir, args.year, args.workers, args.executor)
    print(json.dumps(out, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
