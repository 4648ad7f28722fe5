"""Parse untrusted workbooks in worker processes, so that one hostile file costs one workbook, never the run.

pipelines.intake.read already bounds what it can see before any parser runs, and turns every Python exception into
a file error. What it cannot catch is a native abort inside the parser (calamine asking for 100 GB and
calling abort()), the kernel's OOM killer, or a parse that never ends. So each workbook is parsed in a
worker process under an address-space limit (RLIMIT_AS) and a wall-clock timeout: a worker that dies, runs
out of memory or time sets only its workbook aside with F012, is replaced, and the others go on.

Workers are reused (a small pool over pipes, not a process per file; pipelines.intake.workers runs it):
they are forked from a forkserver that has already imported the reader, so a worker starts in milliseconds.
Results come back in input order whatever order workers finish in. If no worker can be started at all (no fork allowed, a daemonic
parent, …) the workbooks are read in this process, still with every Python exception caught.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.common.findings import make_finding
from pipelines.common.hashing import sha256_file
from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import Workbook
from pipelines.intake.workers import Event, Tick, WorkerPool
from schemas.vocab import reference

log = logging.getLogger(__name__)

Parse = Callable[[Path], Workbook]

# Defaults for the limits.csv rows parse_workers, worker_memory_bytes and worker_timeout_seconds.
DEFAULT_WORKER_MEMORY_BYTES = 3 << 30  # address space a parse may add to a fresh worker's
DEFAULT_WORKER_TIMEOUT_SECONDS = 180  # the largest workbook within the bounds reads in well under a minute
DEFAULT_PARSE_WORKERS = 0  # 0: one per CPU, at most 4 (parsing is CPU-bound; results are pickled back)
MAX_AUTO_WORKERS = 4


@dataclass(frozen=True)
class WorkerLimits:
    memory_bytes: int  # RLIMIT_AS above the worker's own footprint at start; 0 = no limit
    timeout_seconds: float  # per workbook, from the moment a worker takes it
    workers: int  # 0 = automatic


def worker_limits() -> WorkerLimits:
    """The limits from schemas/reference/limits.csv, or the defaults above for rows it lacks."""
    limits = reference().limits
    return WorkerLimits(
        memory_bytes=int(limits.get("worker_memory_bytes", DEFAULT_WORKER_MEMORY_BYTES)),
        timeout_seconds=float(limits.get("worker_timeout_seconds", DEFAULT_WORKER_TIMEOUT_SECONDS)),
        workers=int(limits.get("parse_workers", DEFAULT_PARSE_WORKERS)),
    )


def read_workbooks(
    paths: Sequence[Path], *, limits: WorkerLimits | None = None, parse: Parse = read_workbook
) -> list[Workbook]:
    """Read every workbook safely; the result is in the order of `paths`.

    `parse` must be a module-level function (it is sent to the workers by name); tests pass one that
    misbehaves on purpose.
    """
    paths = [Path(p) for p in paths]
    for path in paths:
        path.stat()  # a missing file is the caller's mistake: raise here, as read_workbook does
    if not paths:
        return []
    limits = limits or worker_limits()
    results: list[Workbook | None] = [None] * len(paths)
    try:
        pool = WorkerPool(
            _context(),
            _parse_job,
            parse,
            min(_worker_count(limits), len(paths)),
            memory_bytes=limits.memory_bytes,
            timeout_seconds=limits.timeout_seconds,
            stop_seconds=2,
            label="解析进程",
        )
    except Exception as exc:  # noqa: BLE001 - no processes here: read in this process instead
        log.warning("无法启动独立的解析进程（%s），改为在本进程中读取工作簿", exc)
        pool = None
    if pool is not None:
        with pool:
            _run(pool, paths, results, limits)
    for i, path in enumerate(paths):
        if results[i] is None:  # the pool could not start or lost every worker: read here
            results[i] = parse_here(path, parse)
    return [wb for wb in results if wb is not None]


def set_aside(path: Path, reason: str) -> Workbook:
    """A workbook no worker could parse: F012 naming what happened, in words."""
    book = Workbook(path=path, file=path.name, sha256=_sha256_or_empty(path), readable=False)
    book.findings.append(make_finding("F012", book.file, detail=reason))
    return book


# --- in this process ---------------------------------------------------------------------------------


def parse_here(path: Path, parse: Parse = read_workbook) -> Workbook:
    """Parse in this process, every Python exception a file error (F012); a missing file raises."""
    try:
        return parse(path)
    except MemoryError:
        return set_aside(path, "读取时内存不足，工作簿可能含有异常巨大的内容")
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - read_workbook catches these itself; a custom parse may not
        return set_aside(path, f"读取时出错（{type(exc).__name__}）")


# --- in worker processes (pipelines.intake.workers) ------------------------------------------------------


def _parse_job(parse: Parse, path: str, tick: Tick) -> Workbook:
    return parse(Path(path))


def _run(pool: WorkerPool, paths: list[Path], results: list[Workbook | None], limits: WorkerLimits) -> None:
    """Fill results[i] for every path; a slot left None is read in this process by the caller. What a
    worker's end means here: the workbook it was parsing is set aside (F012) and another worker started;
    a death before any worker was ever ready is the environment's, not a workbook's."""
    # Absolute: a worker keeps the directory the forkserver started in.
    jobs = [os.path.abspath(p) for p in paths]
    for event in pool.events(jobs, restarts=2 * len(paths) + len(pool.workers)):
        index = event.job
        if event.kind == "died" and not pool.started_ok:
            if index is not None:
                pool.requeue(index)
            continue
        if index is not None:
            results[index] = _outcome(event, paths[index], limits)
        if event.kind == "memory":  # the worker exits by itself
            pool.replace(event.worker, kill=False)
        elif event.kind in ("died", "timeout", "too_large"):  # that worker is already stopped
            pool.restart()


def _outcome(event: Event, path: Path, limits: WorkerLimits) -> Workbook:
    if event.kind == "ok":
        book: Workbook = event.payload
        book.path = path  # as the caller named it
        return book
    if event.kind == "died":
        return set_aside(path, death_reason(event.payload))
    if event.kind == "timeout":
        return set_aside(path, f"读取超过 {int(limits.timeout_seconds)} 秒仍未完成，已停止读取")
    if event.kind in ("memory", "too_large"):
        return set_aside(path, _memory_reason(limits))
    return set_aside(path, f"读取时出错（{event.payload}）")


def _worker_count(limits: WorkerLimits) -> int:
    if limits.workers > 0:
        return limits.workers
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


def _context() -> Any:
    """forkserver: each worker is a fork of a server that imported the reader once (fast, and no copy of
    this process's memory or threads); spawn where there is no forkserver."""
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["pipelines.intake.parse_preload"])
        return context
    except ValueError:
        return multiprocessing.get_context("spawn")


def death_reason(exitcode: int | None) -> str:
    if (
        exitcode is not None and exitcode < 0 and -exitcode in (6, 9)
    ):  # SIGABRT (alloc failure), SIGKILL (OOM)
        return "读取时内存不足或解析程序异常终止，工作簿可能含有异常巨大或损坏的内容"
    return "读取时解析程序异常终止，工作簿可能已损坏"


def _memory_reason(limits: WorkerLimits) -> str:
    return f"读取所需内存超过 {limits.memory_bytes / (1 << 30):.1f}GB 上限，工作簿可能含有异常巨大的内容"


def _sha256_or_empty(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""
