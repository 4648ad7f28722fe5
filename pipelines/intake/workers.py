"""Worker processes under limits: the mechanics shared by the isolated parse (pipelines.intake.safe_parse) and
the batch pool (pipelines.fanout.pool); what a death, a timeout or a failure means is theirs.

A worker runs `serve`: it sets RLIMIT_AS to its own footprint + a budget, says "ready", then takes jobs from
its pipe until None and answers each with ("ok", result), ("memory", text) or ("error", exception name);
it may also send "tick" while working, which moves its deadline on. After "memory" it exits: its heap may
be fragmented or half-freed. The parent (`WorkerPool.events`) hands out jobs in order to ready workers
(with `ahead`, a busy worker's next job is sent before it answers: it starts that job without waiting for
the parent to receive the answer; a job sent ahead to a worker that is lost was not started and goes back
to the queue), waits on their pipes and process sentinels with the nearest deadline as timeout, and turns
what happens into events: a job's answer, a worker that died ("died", its exit code as payload), a job
past its deadline ("timeout"), an answer too large to receive ("too_large"). A dead, late or unreadable
worker is already stopped when its event is seen; the caller decides whether to start another
(`restart`), within a bound so that workers dying for no reason cannot loop. A worker that never becomes
ready is stopped silently.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from pipelines.common.gc_policy import tune_process

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 60.0  # a worker that cannot even start in this time is not a worker
KILL_JOIN_SECONDS = 5.0
EXIT_CODE_SECONDS = 1.0

Tick = Callable[[], None]
Work = Callable[[Any, Any, Tick], Any]  # work(state, job, tick) -> result; module level (sent by name)


# --- in the worker -------------------------------------------------------------------------------------


def serve(conn: Connection, memory_bytes: int, work: Work, state: Any) -> None:
    """A worker's life: limits, "ready", then one answer a job until None or a closed pipe."""
    limit_memory(memory_bytes)
    tune_process()  # what the forkserver imported is frozen: collections do not rescan it per job
    conn.send(("ready", None))

    def tick() -> None:
        conn.send(("tick", None))

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", work(state, job, tick))
        except MemoryError:
            reply = ("memory", "MemoryError")
        except BaseException as exc:  # noqa: BLE001 - the parent decides; this worker goes on
            reply = ("error", type(exc).__name__)
        try:
            conn.send(reply)
        except MemoryError:
            reply = ("memory", "MemoryError")
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 - a result that cannot be pickled
            conn.send(("error", type(exc).__name__))
        if reply[0] == "memory":
            return


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
        log.warning("无法限制工作进程的内存（%s），仅限制处理时间", exc)


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# --- in the parent -------------------------------------------------------------------------------------


@dataclass(eq=False)
class Worker:
    process: Any  # multiprocessing.Process of the pool's context
    conn: Connection
    ready: bool = False
    jobs: deque[int] = field(default_factory=deque)  # sent, in order: the first is being done
    deadline: float = 0.0  # for the job, or for becoming ready

    @property
    def job(self) -> int | None:
        """Index of the job being done (the first sent and not answered)."""
        return self.jobs[0] if self.jobs else None


@dataclass(frozen=True)
class Event:
    kind: str  # a worker's answer ("ok", "memory", "error"), or "died", "timeout", "too_large"
    job: int | None  # the job it concerns; None for a worker that died idle
    payload: Any  # the answer's; for "died" the exit code
    worker: Worker
    was_ready: bool  # the worker had said "ready" (a death before that is the environment's)


class WorkerPool:
    """`size` workers running serve(conn, memory_bytes, work, state) in `context`; a context manager that
    stops them all (politely, then by force) on the way out, whatever happened."""

    def __init__(
        self,
        context: Any,
        work: Work,
        state: Any,
        size: int,
        *,
        memory_bytes: int,
        timeout_seconds: float,
        stop_seconds: float,
        label: str,
        ahead: int = 0,
    ) -> None:
        self.context = context
        # Jobs a busy worker may hold besides the one it does, while the queue has more jobs than there
        # are workers (near the end a job waits for whichever worker is free first).
        self.ahead = ahead
        self.args = (memory_bytes, work, state)
        self.timeout_seconds = timeout_seconds
        self.stop_seconds = stop_seconds  # how long a worker asked to stop may take before it is killed
        self.label = label  # what the workers are, for the log
        self.workers: list[Worker] = []
        self.started_ok = False  # at least one worker became ready
        self.restarts_left = 0
        self.queue: deque[int] = deque()
        try:
            for _ in range(max(size, 1)):
                self.workers.append(self._start())
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.workers:
            self._stop(worker, kill=False)
        self.workers = []

    def events(self, jobs: Sequence[Any], *, restarts: int) -> Iterator[Event]:
        """Every job sent once (unless `requeue`d), events as they come; ends when no job is left or
        being done, or no worker is left (the caller sees which jobs got no answer)."""
        self.queue = deque(range(len(jobs)))
        self.restarts_left = restarts
        while self.workers and (self.queue or any(w.job is not None for w in self.workers)):
            self._assign(jobs)
            deadlines = [w.deadline for w in self.workers if w.job is not None or not w.ready]
            timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            handles: list[Any] = []
            for w in self.workers:
                handles += [w.conn, w.process.sentinel]
            ready = set(wait(handles, timeout))
            for worker in list(self.workers):
                if worker in self.workers and (worker.conn in ready or worker.process.sentinel in ready):
                    event = self._receive(worker)
                    if event is not None:
                        yield event
            yield from self._overdue()

    def requeue(self, job: int) -> None:
        self.queue.appendleft(job)

    def replace(self, worker: Worker, *, kill: bool) -> None:
        self.retire(worker, kill=kill)
        self.restart()

    def restart(self) -> None:
        """One more worker, while the bound allows; none left means the caller does the rest."""
        if self.restarts_left <= 0:
            return
        self.restarts_left -= 1
        try:
            self.workers.append(self._start())
        except Exception as exc:  # noqa: BLE001 - fewer workers
            log.warning("无法重新启动%s（%s）", self.label, exc)

    def retire(self, worker: Worker, *, kill: bool) -> None:
        """Stop a worker; the jobs it holds (sent ahead, not started) go back to the front of the queue."""
        if worker in self.workers:
            self.workers.remove(worker)
            self._stop(worker, kill=kill)
            self.queue.extendleft(reversed(worker.jobs))
            worker.jobs.clear()

    # --- mechanics ---

    def _start(self) -> Worker:
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(target=serve, args=(child, *self.args), daemon=True)
        process.start()
        child.close()
        return Worker(process, parent, deadline=time.monotonic() + READY_TIMEOUT_SECONDS)

    def _stop(self, worker: Worker, *, kill: bool) -> None:
        try:
            if not kill and worker.process.is_alive():
                worker.conn.send(None)
                worker.process.join(self.stop_seconds)
        except (OSError, ValueError):
            pass
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(KILL_JOIN_SECONDS)
        worker.conn.close()
        if not worker.process.is_alive():
            worker.process.close()

    def _assign(self, jobs: Sequence[Any]) -> None:
        for worker in self.workers:
            if worker.ready and not worker.jobs and self.queue:
                self._send(worker, jobs)
        for worker in self.workers:
            if worker.ready and len(worker.jobs) <= self.ahead and len(self.queue) > len(self.workers):
                self._send(worker, jobs)

    def _send(self, worker: Worker, jobs: Sequence[Any]) -> None:
        index = self.queue.popleft()
        try:
            worker.conn.send(jobs[index])
        except OSError:
            self.queue.appendleft(index)  # it died: noticed through its sentinel
            return
        if not worker.jobs:
            worker.deadline = time.monotonic() + self.timeout_seconds
        worker.jobs.append(index)

    def _receive(self, worker: Worker) -> Event | None:
        try:
            message = worker.conn.recv() if worker.conn.poll() else None
        except (EOFError, OSError):
            message = None
        except MemoryError:  # the answer itself is too large for this process
            return self._lose(worker, "too_large", None)
        if message is None:  # the pipe closed or the process ended: dead
            # Its pipe closes a moment before it can be reaped: wait that moment for the exit code
            # (SIGABRT or SIGKILL says "out of memory" rather than "broken").
            worker.process.join(EXIT_CODE_SECONDS)
            return self._lose(worker, "died", worker.process.exitcode)
        kind, payload = message
        if kind == "ready":
            worker.ready = True
            worker.deadline = 0.0
            self.started_ok = True
            return None
        if kind == "tick":
            worker.deadline = time.monotonic() + self.timeout_seconds
            return None
        if not worker.jobs:
            return None
        job = worker.jobs.popleft()
        if worker.jobs:  # the job sent ahead starts now
            worker.deadline = time.monotonic() + self.timeout_seconds
        return Event(kind, job, payload, worker, worker.ready)

    def _overdue(self) -> Iterator[Event]:
        now = time.monotonic()
        for worker in list(self.workers):
            if now < worker.deadline:
                continue
            if worker.job is not None:
                yield self._lose(worker, "timeout", None)
            elif not worker.ready:
                self.retire(worker, kill=True)

    def _lose(self, worker: Worker, kind: str, payload: Any) -> Event:
        job = worker.jobs.popleft() if worker.jobs else None
        self.retire(worker, kill=True)
        return Event(kind, job, payload, worker, worker.ready)
