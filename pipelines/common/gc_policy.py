"""The cyclic garbage collector's settings while a rebuild runs.

Why: CPython's collector is triggered by allocation counts. A rebuild allocates millions of small
containers (parsed cells, findings, rows) and keeps many alive for the run, so with the default
thresholds (700, 10, 10) a 100k-row run (benchmarks.workers e2e, one worker) ran ≈ 4,000 collections,
≈ 13 of them full ones, each rescanning everything alive: the imported modules (Dagster, pandas: ≈ 250k
objects) and the steps' outputs held for the next steps — ≈ 7 s of CPU, most of it in the per-workbook
step, the consolidation and the report. Switching the collector off saves that but holds ≈ 350 MiB more
at the peak: pandas objects form reference cycles, and only the collector frees their arrays.

So, for the duration of a rebuild (`rebuild_gc`):
- `gc.freeze()` once the code is imported: what exists then lives as long as the process, and no
  collection scans it again;
- a young generation of GEN0_THRESHOLD allocations instead of 700: most temporaries die by reference
  counting before a collection sees them, and the older generations, counted in young collections, are
  collected ≈ 70 times less often. Cycles are still freed, so the peak stays the default's (±10 MiB
  end to end).
Measured (2-core shared machine, old and new side by side, 100k rows): collector CPU ≈ 7 s → ≈ 3 s; the
Dagster run's CPU 3–6 % lower in each of 4 pairs (min 63.0 → 60.4 s), peak within ±13 MiB; the stages
runner (which collects before every step) unchanged within noise (min 55.8 → 56.3 s). Outputs identical.
On exit the previous thresholds come back and what was frozen here is unfrozen.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Young-generation threshold while a rebuild runs (CPython's default: 700): large enough that full
# collections become rare, small enough that a young collection (≈ 50k objects) frees pandas' cycles soon.
GEN0_THRESHOLD = 50_000


@contextlib.contextmanager
def rebuild_gc(gen0: int = GEN0_THRESHOLD) -> Iterator[None]:
    """Freeze what exists now and raise the young generation's threshold; restore both on exit.

    Re-entrant: a nested use (the CLI around run_rebuild, run_rebuild itself) changes nothing more.
    Objects frozen by someone else before (a forkserver child) stay frozen."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = gc.get_threshold()
    freeze_here = gc.get_freeze_count() == 0
    # No gc.collect() first: it scanned every object of the imports (≈ 0.18 s CPU at the start of each run)
    # and freed nothing (measured: 0 objects); any garbage frozen here comes back with gc.unfreeze() below.
    if freeze_here:
        gc.freeze()
    gc.set_threshold(max(gen0, previous[0]), *previous[1:])
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        gc.set_threshold(*previous)
        if freeze_here:
            gc.unfreeze()  # back to the oldest generation: scanned again by the next full collection


_depth = 0
_tuned_for_good = False


def tuned() -> bool:
    """Whether this process runs with the rebuild's settings (inside rebuild_gc, or tune_process)."""
    return _depth > 0 or _tuned_for_good


def tune_process(gen0: int = GEN0_THRESHOLD) -> None:
    """The same settings for a process that only runs rebuild work until it exits (a pool worker, a
    step process of the multiprocess executor): frozen and raised for good. Once per process: a process
    already under the rebuild's settings keeps them."""
    global _tuned_for_good
    if tuned():
        return
    gc.freeze()  # without a full collection first (see rebuild_gc)
    threshold = gc.get_threshold()
    gc.set_threshold(max(gen0, threshold[0]), *threshold[1:])
    _tuned_for_good = True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for a stretch that builds many containers which live until it ends and
    hold no cycle (a batch's workbooks read, a feedback workbook's cells, the pairs scored one by one):
    the collections their allocations trigger would only rescan what survives. Back as it was after,
    whatever happens. Each caller says what it measured."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
