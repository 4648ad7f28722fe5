"""The worker-process base (pipelines.intake.workers) by itself: jobs answered in order, a worker that aborts,
hangs past its timeout or passes its memory limit is stopped and reported as such, the rest go on; restarts are
bounded; no worker outlives the pool, even when the caller raises."""

from __future__ import annotations

import multiprocessing
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.intake.workers import Event, WorkerPool
from tests.worker_jobs import job

LOST = ("died", "timeout", "too_large")


def _pool(size: int = 2, *, timeout: float = 30, memory: int = 1 << 30) -> WorkerPool:
    return WorkerPool(
        multiprocessing.get_context("forkserver"),
        job,
        10,
        size,
        memory_bytes=memory,
        timeout_seconds=timeout,
        stop_seconds=2,
        label="测试进程",
    )


def _drive(pool: WorkerPool, jobs: list[Any], restarts: int = 10) -> list[Event]:
    """What a caller does: a lost worker is replaced, one that ran out of memory too."""
    seen = []
    for event in pool.events(jobs, restarts=restarts):
        seen.append(event)
        if event.kind in LOST:
            pool.restart()
        elif event.kind == "memory":
            pool.replace(event.worker, kill=False)
    return seen


def _gone(pids: list[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_normal_jobs_each_answered_once_results_by_job() -> None:
    jobs = list(range(12))
    with _pool() as pool:
        pids = [w.process.pid for w in pool.workers]
        events = _drive(pool, jobs)
        assert len(pool.workers) == 2  # nobody was replaced
    assert sorted(e.job for e in events if e.job is not None) == jobs
    assert all(e.kind == "ok" and e.payload == 10 * e.job for e in events)
    assert _gone(pids)


def test_a_worker_that_aborts_is_reported_dead_and_the_others_go_on() -> None:
    jobs: list[Any] = [1, 2, "abort", 3, "exit", 4]
    with _pool() as pool:
        events = {e.job: e for e in _drive(pool, jobs)}
    assert (events[2].kind, events[2].payload, events[2].was_ready) == ("died", -6, True)  # SIGABRT
    assert (events[4].kind, events[4].payload) == ("died", 3)
    assert [events[i].payload for i in (0, 1, 3, 5)] == [10, 20, 30, 40]


def test_a_job_past_its_timeout_is_stopped_and_the_others_go_on() -> None:
    jobs: list[Any] = [1, "sleep", 2, "ticking", 3]
    started = time.monotonic()
    with _pool(timeout=1.0) as pool:
        events = {e.job: e for e in _drive(pool, jobs)}
        hung = events[1].worker.process
    assert time.monotonic() - started < 20  # not the 120 s the job sleeps
    assert events[1].kind == "timeout"
    assert events[3].payload == "ticked"  # 1.8 s in all, but a tick every 0.3 s keeps it alive
    assert [events[i].payload for i in (0, 2, 4)] == [10, 20, 30]
    with pytest.raises(ValueError):  # stopped, reaped and closed
        hung.is_alive()


def test_a_job_past_the_memory_limit_ends_its_worker_not_the_run() -> None:
    jobs: list[Any] = ["pid", "hog", "raise", 5]
    with _pool(size=1, memory=256 << 20) as pool:
        events = _drive(pool, jobs)
    by_job = {e.job: e for e in events}
    assert (by_job[1].kind, by_job[1].payload) == ("memory", "MemoryError")
    assert (by_job[2].kind, by_job[2].payload) == ("error", "RuntimeError")
    assert by_job[3].payload == 50
    assert by_job[1].worker is not by_job[2].worker  # a fresh worker after the memory failure
    assert by_job[2].worker is by_job[3].worker  # an exception does not end a worker


def test_restarts_are_bounded_and_unanswered_jobs_left_to_the_caller() -> None:
    jobs: list[Any] = ["abort"] * 5
    with _pool(size=1) as pool:
        events = _drive(pool, jobs, restarts=1)
        assert pool.workers == []
    assert [e.job for e in events] == [0, 1]  # jobs 2-4: no worker left, the caller's to do


def test_no_worker_outlives_the_pool_on_ctrl_c() -> None:
    """Ctrl-C while both workers are busy (they would sleep 120 s): the pool stops them on the way out."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    jobs: list[Any] = ["sleep", "sleep", 1]
    pids: list[int] = []
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.5)
        with pytest.raises(KeyboardInterrupt), _pool(timeout=60) as pool:
            pids = [w.process.pid for w in pool.workers]
            for _event in pool.events(jobs, restarts=2):
                pass  # never reached: both workers sleep
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert pids and _gone(pids)


def test_a_requeued_job_is_sent_again() -> None:
    jobs: list[Any] = [1, 2]
    answers = []
    with _pool(size=1) as pool:
        for event in pool.events(jobs, restarts=0):
            answers.append(event.job)
            if len(answers) == 1:
                pool.requeue(event.job)
    assert answers == [0, 0, 1]
