"""Batches in worker processes (pipelines.intake.workers), under the parse workers' limits, results in batch
order.

The workers are forked from a forkserver that has imported the reader, the rules and the feedback writer
(pipelines.fanout.preload), so a worker starts warm and holds no copy of this process's memory or threads.
Each receives the run's BatchSettings once, then batches: it runs process_batch under RLIMIT_AS (its
footprint + limits.csv's worker_memory_bytes) and answers with the compact BatchResult. A busy worker is
sent its next batch before it answers (WorkerPool's `ahead`): it starts that batch as soon as its answer is
written, not once this process has received and unpickled it. A worker that says nothing for
worker_timeout_seconds (it reports after each workbook read, and again with its result) is stopped. A batch whose worker died, ran out of memory or time, or raised, is done again in this process
through the safe path (process_safely: each workbook parsed in an isolated parse worker), so a hostile
workbook costs that workbook only (F012), as pipelines.intake.safe_parse promises.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from typing import Any

from pipelines.common.progress import stage
from pipelines.fanout.batches import Batch, BatchResult, BatchSettings, process_batch, process_safely
from pipelines.intake.safe_parse import MAX_AUTO_WORKERS, WorkerLimits, worker_limits
from pipelines.intake.workers import Tick, WorkerPool

log = logging.getLogger(__name__)

PRELOAD = ["pipelines.intake.parse_preload", "pipelines.fanout.preload"]
# Below this many bytes of workbooks a pool costs more than it saves: its workers start from a fresh
# forkserver (≈ 3 s CPU of imports each) and each batch pays validation's fixed cost. Measured end to end
# (run_rebuild, 2 cores): 10k rows (2 MB) 15.5 s with one worker against 21.0 s with two (min of 2);
# 100k rows (20 MB) 93.6 s against 81.1 s. Between them, not measured: the threshold is a guess.
SMALL_INBOX_BYTES = 8 << 20


def auto_workers(total_bytes: int, batches: int) -> int:
    """Workers for a run when the caller does not say: one per core, at most 4 (MAX_AUTO_WORKERS), never
    more than the batches, and one for a small inbox."""
    if total_bytes < SMALL_INBOX_BYTES or batches <= 1:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS, batches))


def run_batches(
    batches: Sequence[Batch],
    settings: BatchSettings,
    workers: int,
    *,
    limits: WorkerLimits | None = None,
) -> list[BatchResult]:
    """Every batch processed, results in batch order; `workers` ≤ 1: in this process (each workbook still
    parsed in an isolated parse worker). Progress: stage "per_workbook", advanced by each batch's files."""
    total = sum(len(b) for b in batches)
    by_index = {b.index: b for b in batches}
    with stage("per_workbook", "读取、校验并生成反馈", total=total) as tracker:
        results: dict[int, BatchResult] = {}
        if workers > 1 and len(batches) > 1:
            limits = limits or worker_limits()
            try:
                pool = WorkerPool(
                    _context(),
                    _batch_job,
                    settings,
                    min(workers, len(batches)),
                    memory_bytes=limits.memory_bytes,
                    timeout_seconds=limits.timeout_seconds,
                    stop_seconds=5,
                    label="并行处理进程",
                    ahead=1,
                )
            except Exception as exc:  # noqa: BLE001 - no processes here: the batches run in this process
                log.warning("无法启动并行处理进程（%s），改为在本进程中逐批处理", exc)
            else:
                with pool:
                    for result in _run(pool, batches, limits):
                        results[result.index] = result
                        tracker.advance(len(by_index[result.index]))
        for batch in batches:
            if batch.index not in results:  # no pool, or its worker died on the batch: the safe path
                results[batch.index] = process_safely(batch, settings)
                tracker.advance(len(batch))
    return [results[b.index] for b in batches]


# --- in worker processes (pipelines.intake.workers) ------------------------------------------------------


def _batch_job(settings: BatchSettings, batch: Batch, tick: Tick) -> BatchResult:
    """process_batch; "tick" after each workbook read keeps the worker's deadline moving."""
    return process_batch(batch, settings, tick)


def _run(pool: WorkerPool, batches: Sequence[Batch], limits: WorkerLimits) -> Iterator[BatchResult]:
    """Yield each batch's result as it arrives. What a worker's end means here: its batch yields nothing
    (the caller redoes it safely) and another worker is started, unless it died before it was ready."""
    for event in pool.events(batches, restarts=len(batches) + len(pool.workers)):
        number = (event.job or 0) + 1
        if event.kind == "ok":
            yield event.payload
        elif event.kind == "died":
            if event.job is not None:
                log.warning("第 %d 批的处理进程异常终止（%s），改为逐个安全读取", number, event.payload)
            if event.was_ready:
                pool.restart()
        elif event.kind == "timeout":
            seconds = int(limits.timeout_seconds)
            log.warning("第 %d 批超过 %d 秒无响应，改为逐个安全读取", number, seconds)
            pool.restart()
        else:  # memory, error, too_large: a worker that failed once is not trusted with another batch
            log.warning("第 %d 批处理出错（%s），改为逐个安全读取", number, event.payload or "MemoryError")
            pool.replace(event.worker, kill=True)


def start_forkserver() -> None:
    """Start the workers' forkserver now, without waiting for it: its imports (≈ 1 s CPU, the time the
    pool's first worker waits for) then overlap what the caller does before run_batches. Best effort:
    without a forkserver (spawn), or if it cannot start, the pool starts as it would have."""
    try:
        from multiprocessing import forkserver

        if _context().get_start_method() == "forkserver":
            forkserver.ensure_running()
    except Exception as exc:  # noqa: BLE001 - only an early start is lost
        log.debug("forkserver not started early: %s", exc)


def stop_forkserver() -> None:
    """Stop the workers' forkserver once the year's workbooks are read: it stays alive with the reader's
    imports (≈ 90 MiB PSS) through every later step otherwise — a 1M run's process tree peaked at 4,000 MiB
    in the report with it. A later pool (the next run in this process) starts another. Best effort: the
    stop is the standard library's own (ForkServer._stop), absent elsewhere."""
    try:
        from multiprocessing import forkserver

        stop = getattr(forkserver._forkserver, "_stop", None)
        if callable(stop):
            stop()
    except Exception as exc:  # noqa: BLE001 - only memory is lost
        log.debug("forkserver not stopped: %s", exc)


def _context() -> Any:
    """forkserver preloaded with the reader, the rules and the feedback writer; spawn where there is none."""
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    except ValueError:
        return multiprocessing.get_context("spawn")
