"""The batch workers' forkserver started when the in-process run begins (fanout_ops.start_pool_early, called by
run._in_process), before Dagster launches the job — only where the run's pool will have more than one
worker, as plan_shards decides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.defs import fanout_ops, run
from pipelines.defs.resources import InboxResource
from pipelines.fanout.pool import SMALL_INBOX_BYTES


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    monkeypatch.setattr(fanout_ops, "start_forkserver", lambda: calls.append(True))
    return calls


def _inbox(folder: Path, sizes: list[int]) -> InboxResource:
    """Workbook-named files of these sizes (their content is never read: only sizes decide)."""
    (folder / "2026").mkdir(parents=True)
    for i, size in enumerate(sizes):
        with open(folder / "2026" / f"{i:03d}.xlsx", "wb") as fh:
            fh.truncate(size)
    (folder / "2026" / "~$lock.xlsx").write_bytes(b"x" * SMALL_INBOX_BYTES)  # not a submission
    return InboxResource(path=str(folder), repo=str(folder))


def test_started_for_a_large_inbox_on_the_automatic_count(tmp_path: Path, started: list[bool]) -> None:
    inbox = _inbox(tmp_path, [SMALL_INBOX_BYTES // 2, SMALL_INBOX_BYTES // 2])
    fanout_ops.start_pool_early(inbox, 2026, 0)
    assert started == ([True] if (os.cpu_count() or 1) > 1 else [])


def test_not_started_where_the_pool_would_have_one_worker(tmp_path: Path, started: list[bool]) -> None:
    small = _inbox(tmp_path / "small", [SMALL_INBOX_BYTES // 4, SMALL_INBOX_BYTES // 4])
    fanout_ops.start_pool_early(small, 2026, 0)  # a small inbox: one worker, no pool
    fanout_ops.start_pool_early(_inbox(tmp_path / "large", [SMALL_INBOX_BYTES]), 2026, 1)
    assert started == []
    fanout_ops.start_pool_early(small, 2026, 2)  # workers asked for: the pool runs whatever the size
    assert started == [True]


def test_the_in_process_run_starts_it_before_the_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, object]] = []
    monkeypatch.setattr(run, "start_pool_early", lambda inbox, year, workers: seen.append(("early", workers)))
    monkeypatch.setattr(run, "make_definitions", lambda *a, **k: seen.append(("defs", None)) or _NoJob())
    job = run._Job(2026, tmp_path, tmp_path, None, False, None, None, {})  # type: ignore[arg-type]
    with pytest.raises(_Stop):
        run._in_process(job, None)
    assert seen == [("early", 0), ("defs", None)]


class _Stop(Exception):
    pass


class _NoJob:
    def resolve_job_def(self, name: str) -> object:
        raise _Stop
