"""Batches in worker processes, under the parse workers' limits, results in batch order.

The workers are forked from a forkserver that has imported the reader, the rules and the feedback writer
(pipelines.fanout.preload), so a worker starts warm and holds no copy of this process's memory or threads.
Each receives the run's BatchSettings once, then batches: it runs process_batch under RLIMIT_AS (its
footprint + limits.csv's worker_memory_bytes) and answers with the compact BatchResult. A worker that
says nothing for worker_timeout_seconds (it reports after each workbook read, and again with its result)
is stopped. A batch whose worker died, ran out of memory or time, or raised, is done again in this process
through the safe path (process_safely: each workbook parsed in an isolated parse worker), so a hostile
workbook costs that workbook only (F012), as pipelines.intake.safe_parse promises.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from pipelines.common.progress import stage
from pipelines.fanout.batches import Batch, BatchResult, BatchSettings, process_batch, process_safely
from pipelines.intake.safe_parse import MAX_AUTO_WORKERS, WorkerLimits, limit_memory, worker_limits

log = logging.getLogger(__name__)

PRELOAD = ["pipelines.intake.parse_preload", "pipelines.fanout.preload"]
READY_TIMEOUT_SECONDS = 60.0
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
            try:
                pool = _Pool(settings, limits or worker_limits(), min(workers, len(batches)))
            except Exception as exc:  # noqa: BLE001 - no processes here: the batches run in this process
                log.warning("无法启动并行处理进程（%s），改为在本进程中逐批处理", exc)
            else:
                with pool:
                    for result in pool.run(batches):
                        results[result.index] = result
                        tracker.advance(len(by_index[result.index]))
        for batch in batches:
            if batch.index not in results:  # no pool, or its worker died on the batch: the safe path
                results[batch.index] = process_safely(batch, settings)
                tracker.advance(len(batch))
    return [results[b.index] for b in batches]


# --- the worker --------------------------------------------------------------------------------------


def _worker_main(conn: Connection, memory_bytes: int, settings: BatchSettings) -> None:
    """Take batches from the pipe until None; answer "tick" after each workbook read, then ("ok", result)
    or ("failed", why)."""
    limit_memory(memory_bytes)
    conn.send(("ready", None))
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", process_batch(batch, settings, lambda: conn.send(("tick", None))))
        except MemoryError:
            reply = ("failed", "MemoryError")
        except BaseException as exc:  # noqa: BLE001 - the parent redoes the batch safely
            reply = ("failed", type(exc).__name__)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - too large or unpicklable: the parent redoes it
            conn.send(("failed", type(exc).__name__))
        if reply[0] == "failed":
            return  # memory may be fragmented or half-freed: the parent starts a fresh worker


# --- the pool ----------------------------------------------------------------------------------------


@dataclass
class _Worker:
    process: Any
    conn: Connection
    ready: bool = False
    batch: int | None = None  # position in the batches list being processed
    deadline: float = 0.0


class _Pool:
    def __init__(self, settings: BatchSettings, limits: WorkerLimits, size: int) -> None:
        self.settings = settings
        self.limits = limits
        self.context = _context()
        self.workers: list[_Worker] = []
        self.restarts_left = 0
        try:
            for _ in range(max(size, 1)):
                self.workers.append(self._start())
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            self._stop(worker)
        self.workers = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_worker_main, args=(child, self.limits.memory_bytes, self.settings), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent, deadline=time.monotonic() + READY_TIMEOUT_SECONDS)

    def _stop(self, worker: _Worker, *, kill: bool = False) -> None:
        try:
            if not kill and worker.process.is_alive():
                worker.conn.send(None)
                worker.process.join(5)
        except (OSError, ValueError):
            pass
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()

    def run(self, batches: Sequence[Batch]) -> Any:
        """Yield each batch's result as it arrives; a batch whose worker failed yields nothing (the
        caller redoes it). Ends when every batch is done or failed, or no worker is left."""
        queue = deque(range(len(batches)))
        self.restarts_left = len(batches) + len(self.workers)
        while self.workers and (queue or any(w.batch is not None for w in self.workers)):
            self._assign(batches, queue)
            deadlines = [w.deadline for w in self.workers if w.batch is not None or not w.ready]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            handles: list[Any] = []
            for w in self.workers:
                handles += [w.conn, w.process.sentinel]
            ready = set(wait(handles, timeout))
            for worker in list(self.workers):
                if worker.conn in ready or worker.process.sentinel in ready:
                    result = self._collect(worker, queue)
                    if result is not None:
                        yield result
            now = time.monotonic()
            for worker in list(self.workers):
                if now >= worker.deadline and (worker.batch is not None or not worker.ready):
                    if worker.batch is not None:
                        log.warning(
                            "第 %d 批超过 %d 秒无响应，改为逐个安全读取",
                            worker.batch + 1,
                            int(self.limits.timeout_seconds),
                        )
                    self._replace(worker, restart=worker.ready)

    def _assign(self, batches: Sequence[Batch], queue: deque) -> None:
        for worker in self.workers:
            if worker.ready and worker.batch is None and queue:
                index = queue.popleft()
                try:
                    worker.conn.send(batches[index])
                except OSError:
                    queue.appendleft(index)  # it died idle: noticed through its sentinel
                    continue
                worker.batch = index
                worker.deadline = time.monotonic() + self.limits.timeout_seconds

    def _collect(self, worker: _Worker, queue: deque) -> BatchResult | None:
        try:
            message = worker.conn.recv() if worker.conn.poll() else None
        except (EOFError, OSError, MemoryError):
            message = None
        if message is None:  # the worker died: its batch (if any) is redone by the caller
            if worker.batch is not None:
                log.warning(
                    "第 %d 批的处理进程异常终止（%s），改为逐个安全读取",
                    worker.batch + 1,
                    worker.process.exitcode,
                )
            self._replace(worker, restart=worker.ready)
            return None
        kind, payload = message
        if kind == "ready":
            worker.ready = True
            worker.deadline = 0.0
        elif kind == "tick":
            worker.deadline = time.monotonic() + self.limits.timeout_seconds
        elif kind == "ok":
            worker.batch = None
            result: BatchResult = payload
            return result
        else:
            log.warning("第 %d 批处理出错（%s），改为逐个安全读取", (worker.batch or 0) + 1, payload)
            worker.batch = None
            self._replace(worker, restart=True)
        return None

    def _replace(self, worker: _Worker, *, restart: bool) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        self._stop(worker, kill=True)
        if not restart or self.restarts_left <= 0:
            return
        self.restarts_left -= 1
        try:
            self.workers.append(self._start())
        except Exception as exc:  # noqa: BLE001 - fewer workers; none left: the caller does the rest
            log.warning("无法重新启动并行处理进程（%s）", exc)


def _context() -> Any:
    """forkserver preloaded with the reader, the rules and the feedback writer; spawn where there is none."""
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return context
    except ValueError:
        return multiprocessing.get_context("spawn")
