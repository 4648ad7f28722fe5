"""Parse untrusted workbooks in worker processes, so that one hostile file costs one workbook, never the run.

pipelines.intake.read already bounds what it can see before any parser runs, and turns every Python exception into
a file error. What it cannot catch is a native abort inside the parser (calamine asking for 100 GB and
calling abort()), the kernel's OOM killer, or a parse that never ends. So each workbook is parsed in a
worker process under an address-space limit (RLIMIT_AS) and a wall-clock timeout: a worker that dies, runs
out of memory or time sets only its workbook aside with F012, is replaced, and the others go on.

Workers are reused (a small pool over pipes, not a process per file): they are forked from a forkserver
that has already imported the reader, so a worker starts in milliseconds. Results come back in input
order whatever order workers finish in. If no worker can be started at all (no fork allowed, a daemonic
parent, …) the workbooks are read in this process, still with every Python exception caught.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from pipelines.common.findings import make_finding
from pipelines.common.hashing import sha256_file
from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import Workbook
from schemas.vocab import reference

log = logging.getLogger(__name__)

Parse = Callable[[Path], Workbook]

# Defaults for the limits.csv rows parse_workers, worker_memory_bytes and worker_timeout_seconds.
DEFAULT_WORKER_MEMORY_BYTES = 3 << 30  # address space a parse may add to a fresh worker's
DEFAULT_WORKER_TIMEOUT_SECONDS = 180  # the largest workbook within the bounds reads in well under a minute
DEFAULT_PARSE_WORKERS = 0  # 0: one per CPU, at most 4 (parsing is CPU-bound; results are pickled back)
MAX_AUTO_WORKERS = 4
READY_TIMEOUT_SECONDS = 60.0  # a worker that cannot even start in this time means no pool at all


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
        pool = _Pool(limits, parse, min(_worker_count(limits), len(paths)))
    except Exception as exc:  # noqa: BLE001 - no processes here: read in this process instead
        log.warning("无法启动独立的解析进程（%s），改为在本进程中读取工作簿", exc)
        pool = None
    if pool is not None:
        with pool:
            pool.run(paths, results)
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


# --- the worker --------------------------------------------------------------------------------------


def _worker_main(conn: Connection, memory_bytes: int, parse: Parse) -> None:
    """Take paths from the pipe until None; answer each with ("ok", wb) or ("memory"|"error", text)."""
    limit_memory(memory_bytes)
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        path = Path(task)
        try:
            reply: tuple[str, Any] = ("ok", parse(path))
        except MemoryError:
            reply = ("memory", None)
        except BaseException as exc:  # noqa: BLE001 - the parent decides; this worker goes on
            reply = ("error", type(exc).__name__)
        try:
            conn.send(reply)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("error", type(exc).__name__))
        if reply[0] == "memory":
            return  # the heap may be fragmented or half-freed: the parent starts a fresh worker


def limit_memory(memory_bytes: int) -> None:
    """RLIMIT_AS = this process's address space now + the budget (the imports alone map hundreds of MB).
    No core files either: a worker aborted by a hostile workbook must not leave gigabytes on disk."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, OSError, ValueError):
        pass
    if memory_bytes <= 0:
        return
    try:
        import resource

        current = _address_space_bytes()
        if current is None:
            return
        wanted = current + memory_bytes
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, OSError, ValueError) as exc:  # not Linux, or not allowed: time limit only
        log.warning("无法限制解析进程的内存（%s），仅限制读取时间", exc)


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# --- the pool ----------------------------------------------------------------------------------------


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process of the chosen context
    conn: Connection
    ready: bool = False
    task: int | None = None  # index of the workbook being parsed
    deadline: float = 0.0  # for the task, or for becoming ready


class _Pool:
    def __init__(self, limits: WorkerLimits, parse: Parse, size: int) -> None:
        self.limits = limits
        self.parse = parse
        self.context = _context()
        self.workers: list[_Worker] = []
        self.started_ok = False  # at least one worker became ready: deaths are the workbooks' fault
        self.restarts_left = 0  # set by run(): a bound, so workers that die for no reason cannot loop
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
            target=_worker_main, args=(child, self.limits.memory_bytes, self.parse), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent, deadline=time.monotonic() + READY_TIMEOUT_SECONDS)

    def _stop(self, worker: _Worker, *, kill: bool = False) -> None:
        try:
            if not kill and worker.process.is_alive():
                worker.conn.send(None)
                worker.process.join(2)
        except (OSError, ValueError, BrokenPipeError):
            pass
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        if hasattr(worker.process, "close") and not worker.process.is_alive():
            worker.process.close()

    def run(self, paths: list[Path], results: list[Workbook | None]) -> None:
        """Fill results[i] for every path; a slot left None is read in this process by the caller."""
        queue = deque(range(len(paths)))
        self.restarts_left = 2 * len(paths) + len(self.workers)
        while self.workers and (queue or any(w.task is not None for w in self.workers)):
            for worker in self.workers:
                if worker.ready and worker.task is None and queue:
                    index = queue.popleft()
                    try:
                        # Absolute: a worker keeps the directory the forkserver started in.
                        worker.conn.send(os.path.abspath(paths[index]))
                    except OSError:
                        queue.appendleft(index)  # it died idle: noticed below through its sentinel
                        continue
                    worker.task = index
                    worker.deadline = time.monotonic() + self.limits.timeout_seconds
            deadlines = [w.deadline for w in self.workers if w.task is not None or not w.ready]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            handles: list[Any] = []
            for w in self.workers:
                handles += [w.conn, w.process.sentinel]
            ready = set(wait(handles, timeout))
            for worker in list(self.workers):
                if worker.conn in ready or worker.process.sentinel in ready:
                    self._collect(worker, paths, results, queue)
            now = time.monotonic()
            for worker in list(self.workers):
                if worker.task is not None and now >= worker.deadline:
                    seconds = int(self.limits.timeout_seconds)
                    self._lost(worker, paths, results, f"读取超过 {seconds} 秒仍未完成，已停止读取")
                elif not worker.ready and now >= worker.deadline:
                    self._retire(worker, kill=True)

    def _collect(
        self, worker: _Worker, paths: list[Path], results: list[Workbook | None], queue: deque
    ) -> None:
        try:
            message = worker.conn.recv() if worker.conn.poll() else None
        except (EOFError, OSError):
            message = None
        except MemoryError:
            message = ("memory", None)  # the result itself was too large for this process
        if message is None:
            if worker.task is not None and self.started_ok:
                code = worker.process.exitcode
                self._lost(worker, paths, results, death_reason(code))
            elif worker.task is None and self.started_ok:  # died idle: replace it, nothing is lost
                self._replace(worker, kill=True)
            else:  # died before doing anything: the environment, not a workbook
                if worker.task is not None:
                    queue.appendleft(worker.task)
                self._retire(worker, kill=True)
            return
        kind, payload = message
        if kind == "ready":
            worker.ready = True
            self.started_ok = True
            return
        index = worker.task
        worker.task = None
        if index is None:
            return
        if kind == "ok":
            payload.path = paths[index]  # as the caller named it
            results[index] = payload
        elif kind == "memory":
            results[index] = set_aside(paths[index], _memory_reason(self.limits))
            self._replace(worker)
        else:
            results[index] = set_aside(paths[index], f"读取时出错（{payload}）")

    def _lost(self, worker: _Worker, paths: list[Path], results: list[Workbook | None], reason: str) -> None:
        index = worker.task
        if index is not None:
            results[index] = set_aside(paths[index], reason)
        worker.task = None
        self._replace(worker, kill=True)

    def _replace(self, worker: _Worker, *, kill: bool = False) -> None:
        self._retire(worker, kill=kill)
        if self.restarts_left <= 0:
            return
        self.restarts_left -= 1
        try:
            self.workers.append(self._start())
        except Exception as exc:  # noqa: BLE001 - fewer workers; none left means the caller reads the rest
            log.warning("无法重新启动解析进程（%s）", exc)

    def _retire(self, worker: _Worker, *, kill: bool) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        self._stop(worker, kill=kill)


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
