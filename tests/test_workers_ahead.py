"""Jobs sent ahead (WorkerPool's `ahead`, the batch pool's): a busy worker holds its next job before it
answers; a job sent ahead to a worker that is lost was not started and is done by another worker, once; near
the end of the queue nothing is sent ahead."""

from __future__ import annotations

import multiprocessing
from typing import Any

from pipelines.intake.workers import Event, WorkerPool
from tests.worker_jobs import job


def _pool(size: int, *, ahead: int, timeout: float = 30) -> WorkerPool:
    return WorkerPool(
        multiprocessing.get_context("forkserver"),
        job,
        10,
        size,
        memory_bytes=1 << 30,
        timeout_seconds=timeout,
        stop_seconds=2,
        label="测试进程",
        ahead=ahead,
    )


def _drive(pool: WorkerPool, jobs: list[Any]) -> tuple[list[Event], list[list[int]], list[list[int]]]:
    """The events, what the workers held and what was queued when each event was seen (a lost worker
    replaced)."""
    seen, held, queued = [], [], []
    for event in pool.events(jobs, restarts=5):
        seen.append(event)
        held.append([j for w in pool.workers for j in w.jobs])
        queued.append(list(pool.queue))
        if event.kind in ("died", "timeout"):
            pool.restart()
    return seen, held, queued


def test_a_busy_worker_already_holds_its_next_job_when_it_answers() -> None:
    jobs = list(range(6))
    with _pool(1, ahead=1) as pool:
        events, held, _ = _drive(pool, jobs)
    assert [(e.kind, e.job, e.payload) for e in events] == [("ok", i, 10 * i) for i in jobs]
    # Job 0 answered: job 1 was sent before that answer. Near the end (no more jobs queued than
    # workers) nothing is sent ahead: the last job waits for whichever worker is free.
    assert held[0] == [1]
    assert held[-2] == []
    with _pool(1, ahead=0) as pool:
        events, held, _ = _drive(pool, jobs)
    assert held[0] == [] and [e.job for e in events] == jobs


def test_a_job_sent_ahead_to_a_worker_that_dies_is_done_once_by_another() -> None:
    jobs: list[Any] = [1, "abort", 2, 3, 4]
    with _pool(1, ahead=1) as pool:
        events, held, queued = _drive(pool, jobs)
    kinds = {e.job: (e.kind, e.payload) for e in events}
    assert len(events) == len(jobs)  # each job answered once
    assert kinds[1] == ("died", -6)  # the job being done, not the one sent ahead
    assert [kinds[i] for i in (0, 2, 3, 4)] == [("ok", 10), ("ok", 20), ("ok", 30), ("ok", 40)]
    # Job 2 was sent ahead when job 0 was answered; the worker died on job 1: job 2 is back in front.
    assert held[0] == [1] and (held[1], queued[1]) == ([], [2, 3, 4])
    assert events[1].worker is not events[2].worker


def test_a_job_sent_ahead_of_one_that_times_out_is_done_by_another() -> None:
    jobs: list[Any] = [1, "sleep", 2, 3, 4, 5]
    with _pool(1, ahead=1, timeout=1.0) as pool:
        events, held, queued = _drive(pool, jobs)
    kinds = {e.job: (e.kind, e.payload) for e in events}
    assert len(events) == len(jobs)
    assert kinds[1] == ("timeout", None)
    assert [kinds[i][1] for i in (0, 2, 3, 4, 5)] == [10, 20, 30, 40, 50]
    # Sent ahead of the job that hung (its deadline not running meanwhile), then given to the next worker.
    assert (held[1], queued[1]) == ([], [2, 3, 4, 5])
