"""One function run in a forked child while this process goes on: `run_forked(fn, *args).result()`.

Why: a step that writes several independent files (the report: review.html, review.xlsx, the changelog,
merge_review.xlsx, the library page) runs them one after another on one core of two. A fork lets the
largest one run beside the rest without pickling its inputs (the candidate pairs, the tables): the child
sees the parent's memory copy-on-write. gc_policy has frozen the heap, and the child freezes what it
inherits at once, so no collection in the child walks (and so copies) the parent's pages.

Rules, so that a fork inside a Dagster step (threads exist there) is safe:
- the child only computes and writes its own files: no logging, no Dagster calls, no printing, no
  process pools. It sends its return value (or its exception) pickled through a pipe and leaves with
  os._exit, so no atexit handler, stdio flush or Dagster/multiprocessing clean-up runs twice;
- `fn` must write its files atomically (temporary name, then rename) and be safe to run again: if the
  child dies without an answer (a signal, the OOM killer), the parent runs `fn` itself, in-process, and
  says so in its log. A failure is never a hang: the parent polls the child's exit while it reads;
- an exception raised by `fn` in the child is raised again in the parent (with the child's traceback
  as a note), as it would have been in-process;
- it forks only where fork is safe without exec (not Windows, not macOS) and, unless INDICATORS_FORK=1
  (always) or 0 (never), only while this process holds under FORK_MAX_RESIDENT_MIB: the children's peaks
  add to the parent's, so on a large year forking cost memory and did not pay (300k rows: process tree
  PSS 3,583 MiB and 130.7 s with forks, 2,805 MiB and 121.1 s without, one run each; 100k: 34.7 / 36.5 s
  with, 43.6 / 35.7 s without; 10k: 5.8 s with, 7.3 s without, min of 3; benchmarks/RESULTS.md).
  Otherwise `fn` runs in-process when called, with the same result. A caller that knows what its child
  adds to the process tree may fork above that gate (fork_allowed, start_forked): the report's library
  page at 1M rows, under FORK_TREE_MAX_MIB.
Results are the same as in-process: the child runs the same code on the same inputs.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import select
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

_POLL_S = 0.2  # how often a silent child's exit is checked while the parent waits


# Unset INDICATORS_FORK: fork only while this process holds less than this. A child's pages are the
# parent's until touched, and both peaks add: measured on 2 cores, forking won at 10k rows (≈ 0.5 GiB held;
# e2e min of 3 5.8 s vs 7.3 s), tied at 100k (≈ 1 GiB) and lost at 300k (≈ 2.2 GiB held: 130.7 s and a
# 3.6 GiB tree vs 121.1 s and 2.8 GiB).
FORK_MAX_RESIDENT_MIB = 1536
# Where no fork is made, a step may still run a function in a thread beside its other work (the report's
# merge_review.xlsx): only while this process holds under this, with what the thread adds (its caller's
# estimate), as the thread's working set adds to the others'. 300k rows (≈ 2.1 GiB peak) keep it: +233
# MiB, 3 s of wall time saved; 1M does without: +764 MiB there (report.build.THREAD_BYTES_PER_PAIR).
THREAD_MAX_RESIDENT_MIB = 3072
# A caller whose thread would then run beside only part of its other work (the report: merge_review.xlsx
# beside the review files, the library page after it, as its working set is the largest: 1M rows' inputs
# +845 MiB, the review files +533, merge_review.xlsx +629) may ask under this limit instead.
THREAD_PART_MAX_RESIDENT_MIB = 3584


# A caller may fork one function above FORK_MAX_RESIDENT_MIB where it has estimated what the child and its
# own work beside it add to the process tree (`adds_mib`, fork_allowed): the report's library page at 1M rows
# (report.build.PAGE_FORK_BYTES_PER_USAGE), while the tree's PSS stays under this (the 4 GiB).
FORK_TREE_MAX_MIB = 4032


def fork_available() -> bool:
    """Whether run_forked really forks here: INDICATORS_FORK=1 always, 0 never, unset while this process
    holds under FORK_MAX_RESIDENT_MIB; only on a platform that forks safely (fork_supported)."""
    setting = os.environ.get("INDICATORS_FORK", "")
    if setting == "0" or not fork_supported():
        return False
    return setting == "1" or resident_mib() < FORK_MAX_RESIDENT_MIB


def fork_allowed(adds_mib: float, limit_mib: float | None = None) -> bool:
    """Whether a caller that knows what its child adds to the process tree (`adds_mib`: the child's own
    pages and the caller's work beside it, at the peak) may fork: never with INDICATORS_FORK=0 or where
    fork_supported is False, else while this process holds, with adds_mib, under FORK_TREE_MAX_MIB or the
    caller's `limit_mib`."""
    if os.environ.get("INDICATORS_FORK", "") == "0" or not fork_supported():
        return False
    limit = FORK_TREE_MAX_MIB if limit_mib is None else limit_mib
    return resident_mib() + adds_mib < limit


def thread_available(adds_mib: float = 0.0, limit_mib: float | None = None) -> bool:
    """Whether a function may run in a thread beside the caller's work: while this process holds, with
    `adds_mib` (what the thread would add to the step's peak), under THREAD_MAX_RESIDENT_MIB or the
    caller's `limit_mib` (else it runs after that work, so the two working sets do not add)."""
    limit = THREAD_MAX_RESIDENT_MIB if limit_mib is None else limit_mib
    return resident_mib() + adds_mib < limit


def resident_mib() -> float:
    """This process's resident memory now (Linux /proc; 0 where it cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def fork_supported() -> bool:
    """Whether this platform can fork without exec safely (not Windows, not macOS)."""
    return hasattr(os, "fork") and sys.platform != "darwin"


class Forked(Generic[T]):
    """A running (or finished) call of run_forked; `result()` joins it. Use as a context manager, or call
    `cancel()`, so that a child is never left running when the parent fails first."""

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...], pid: int | None, fd: int | None):
        self._fn, self._args, self._pid, self._fd = fn, args, pid, fd
        self._done = False
        self._outcome: tuple[bool, Any] | None = None
        self.fell_back = False  # the child died without an answer; the parent ran fn itself

    @classmethod
    def in_process(cls, fn: Callable[..., T], args: tuple[Any, ...]) -> Forked[T]:
        handle: Forked[T] = cls(fn, args, None, None)
        handle._outcome = _call(fn, args)
        handle._done = True
        return handle

    def result(self) -> T:
        if not self._done:
            try:
                self._outcome = self._join()
            finally:
                self.cancel()
            self._done = True
        assert self._outcome is not None
        ok, value = self._outcome
        if ok:
            return value  # type: ignore[no-any-return,unused-ignore]
        raise value

    def cancel(self) -> None:
        """Kill and reap the child if it still runs; close the pipe. Idempotent."""
        if self._pid is not None:
            pid, self._pid = self._pid, None
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid, block=True)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def _join(self) -> tuple[bool, Any]:
        assert self._pid is not None and self._fd is not None
        data, status = _read_until_exit(self._pid, self._fd)
        self._pid = None  # reaped
        outcome = _decode(data)
        if outcome is None:
            self.fell_back = True
            log.warning("后台子进程异常退出（%s），改为在本进程中执行 %s", _describe(status), _name(self._fn))
            outcome = _call(self._fn, self._args)
        return outcome


def run_forked(fn: Callable[..., T], *args: Any) -> Forked[T]:
    """Start fn(*args) in a forked child (see the module's rules for fn); join with `.result()`."""
    return start_forked(fork_available(), fn, *args)


def start_forked(fork: bool, fn: Callable[..., T], *args: Any) -> Forked[T]:
    """fn(*args) in a forked child where `fork` (the caller's gate: fork_available, fork_allowed), else
    in-process at once."""
    if not fork:
        return Forked.in_process(fn, args)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, answer, leave — nothing else
        os.close(read_fd)
        _child(fn, args, write_fd)
    os.close(write_fd)
    return Forked(fn, args, pid, read_fd)


def _child(fn: Callable[..., Any], args: tuple[Any, ...], fd: int) -> None:
    code = 1
    try:
        gc.freeze()  # the inherited heap: never scanned here, so its pages stay shared
        outcome = _call(fn, args)
        if not outcome[0]:
            outcome[1].add_note("子进程中的调用栈：\n" + "".join(traceback.format_exception(outcome[1])))
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - an unpicklable answer is reported as an error
            payload = pickle.dumps((False, RuntimeError(f"后台子进程的结果无法传回：{exc!r}")))
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        code = 0
    finally:
        os._exit(code)


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - raised again by result(), in the parent
        return False, exc


def _read_until_exit(pid: int, fd: int) -> tuple[bytes, int]:
    """Everything the child wrote, and its wait status. Reads while polling the child's exit, so that a
    child that dies (or a copy of the pipe held by another fork) can never make this wait for ever.
    poll, not select: a busy process's descriptor may be above select's limit of 1024."""
    chunks: list[bytes] = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        if poller.poll(int(_POLL_S * 1000)):
            chunk = os.read(fd, 1 << 20)
            if chunk:
                chunks.append(chunk)
                continue
            return b"".join(chunks), _reap(pid, block=True) or 0  # end of file: the child has left
        status = _reap(pid, block=False)
        if status is not None:  # gone: what it wrote is in the pipe already
            return b"".join(chunks + _drain(fd)), status


def _drain(fd: int) -> list[bytes]:
    chunks = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while poller.poll(0):
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return chunks


def _reap(pid: int, *, block: bool) -> int | None:
    """The child's wait status once it has ended (None while it runs and block is False)."""
    try:
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:  # reaped by someone else (a SIGCHLD handler): no status to report
        return -1
    return status if done else None


def _decode(data: bytes) -> tuple[bool, Any] | None:
    """The child's (ok, value), or None when it died before answering in full."""
    if not data:
        return None
    try:
        outcome = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a truncated answer: the child died while writing it
        return None
    if isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[0], bool):
        return outcome
    return None


def _describe(status: int) -> str:
    if status >= 0 and os.WIFSIGNALED(status):
        return f"信号 {os.WTERMSIG(status)}"
    if status >= 0 and os.WIFEXITED(status):
        return f"退出码 {os.WEXITSTATUS(status)}"
    return "状态未知"


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))
