"""What one benchmark process measures (`python -m benchmarks.run --worker …`, a fresh interpreter each, so
peak RSS is its own): the rebuild's steps timed one by one, consolidation alone, the Dagster job end to end."""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

FINANCE = "100001"  # benchmarks.corpus: department 0 is the finance bureau


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


class StageTimer:
    """Times named stages: wall, CPU, peak RSS of the stage; optional cProfile dump per stage."""

    def __init__(self, rows: int, profile_dir: Path | None = None) -> None:
        self.rows, self.profile_dir, self.stages = rows, profile_dir, []

    def __call__(self, name: str, fn: Callable[[], object]) -> object:
        import gc

        gc.collect()
        reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        if self.profile_dir is not None:
            import cProfile

            profiler = cProfile.Profile()
            result = profiler.runcall(fn)
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(self.profile_dir / f"{name}.prof"))
        else:
            result = fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
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
        print(f"  {name:<12} {wall:8.2f} s  peak {self.stages[-1]['peak_mib']:7.0f} MiB", file=sys.stderr)
        return result


def _warm() -> None:
    """Load what every stage shares (reference tables, OpenCC dictionaries) outside any timing."""
    from schemas.text import clean_text
    from schemas.vocab import reference

    reference()
    clean_text("預熱")


def stages_worker(
    corpus_dir: Path, work_dir: Path, year: int, profile: bool, repo: Path | None = None
) -> dict[str, object]:
    """Every step of the rebuild, timed one by one: pipelines.rebuild.run, the composition the Dagster
    assets wrap, blocking checks included; the parse cache is left out (every run parses). On a fresh
    repo in work_dir, or on `repo` (growing it by a release: the previous release is loaded, its ids
    matched, the change set taken against it)."""
    import pickle

    from benchmarks.corpus import load_corpus
    from pipelines import rebuild

    _warm()
    found = load_corpus(corpus_dir)
    rows = found[1].total_rows if found else 0
    fresh = repo is None
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    repo = work_dir / "repo" if repo is None else repo
    timer = StageTimer(rows, work_dir / "profile" if profile else None)
    done = rebuild.run(year, corpus_dir, repo, finance_dept=FINANCE, parse_cache=False, step=timer)
    validation, result, commit = done.validation, done.consolidation, done.commit
    if fresh:  # the input of the isolated consolidation run
        with open(work_dir / "validated.pkl", "wb") as fh:
            kept = (validation.rows, validation.departments, validation.files)
            pickle.dump(kept, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "rows": rows,
        "workbooks": len(done.files),
        "accounting": validation.counts(),
        "indicators": len(result.tables.indicators),
        "candidates": len(result.candidates),
        "changes": done.changes.counts(),
        "committed": bool(commit and commit.committed),
        "tag": (commit.tag if commit else "") or "",
        "success": bool(commit and commit.committed),
        "stages": timer.stages,
        "wall_s": sum(s["wall_s"] for s in timer.stages),
        "peak_mib": _process_peak(),
        "peak_mib_process": _process_peak(),
    }


def _process_peak() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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

    result = timer("consolidation", run)
    return {
        "rows": len(rows),
        "accepted": int((rows["outcome"] == "library").sum()),
        "indicators": len(result.tables.indicators),  # type: ignore[attr-defined]
        "input_mib": loaded,
        **timer.stages[0],
    }


def e2e_worker(corpus_dir: Path, repo: Path, year: int) -> dict[str, object]:
    """`indicators rebuild`: the Dagster job in-process (pipelines.defs.run.run_rebuild)."""
    started = time.perf_counter()
    from pipelines.defs.run import run_rebuild

    imported = time.perf_counter() - started
    reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    outcome = run_rebuild(year, corpus_dir, repo, finance_dept=FINANCE)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = _parse_stats(repo)
    return {
        "success": outcome.success,
        "errors": outcome.errors,
        "failed_checks": [name for name, _ in outcome.failed_checks],
        "accounting": outcome.accounting,
        "changes": outcome.changes_zh,
        "published": {k: str(v) for k, v in outcome.published.items() if k in ("committed", "tag")},
        "import_s": imported,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mib": _process_peak(),
        **stats,
    }


def _parse_stats(repo: Path) -> dict[str, int]:
    """How many workbooks the last run parsed vs took from the parse cache (Dagster's asset metadata)."""
    try:
        import dagster as dg

        instance = dg.DagsterInstance.get()
        event = instance.get_latest_materialization_event(dg.AssetKey("parsed_workbooks"))
        meta = event.asset_materialization.metadata  # type: ignore[union-attr]
        return {"parsed": len(meta["parsed"].value), "from_cache": len(meta["from_cache"].value)}
    except Exception:
        return {}
