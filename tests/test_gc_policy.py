"""The rebuild's garbage-collector settings (pipelines/common/gc_policy.py): applied while a real rebuild
runs, restored after (also on error), cycles still freed under them; a step process joins the run's lock."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import dagster as dg
import pytest

from pipelines.common import gc_policy
from pipelines.defs.run import LOCK_TOKEN_ENV, adopt_run_lock, run_rebuild
from pipelines.store import lock
from tests.git_env import small_inbox


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settings_hold_inside_and_are_restored_after_even_on_error() -> None:
    before, frozen_before = gc.get_threshold(), gc.get_freeze_count()
    assert frozen_before == 0  # the test process itself freezes nothing
    with pytest.raises(RuntimeError), gc_policy.rebuild_gc():
        assert gc.get_threshold()[0] == gc_policy.GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0  # what existed when the run started is no longer scanned
        with gc_policy.rebuild_gc():  # nested: nothing more, nothing undone at its end
            pass
        assert gc.get_threshold()[0] == gc_policy.GEN0_THRESHOLD and gc.get_freeze_count() > 0
        assert gc_policy.tuned()
        raise RuntimeError("a failed step")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert not gc_policy.tuned()


def test_cycles_made_during_a_run_are_still_freed_without_an_explicit_collect() -> None:
    gc.collect()
    with gc_policy.rebuild_gc():
        first = _Cycle()
        ref = weakref.ref(first)
        del first  # garbage only the collector can free (a pandas frame's cycles are like it)
        for _ in range(gc_policy.GEN0_THRESHOLD * 3):
            _Cycle()  # allocations, as a step makes them: a young collection runs on its own
        assert ref() is None


def test_a_real_rebuild_runs_under_the_settings_and_restores_them(tmp_path: Path) -> None:
    inbox, repo = small_inbox(tmp_path / "inbox"), tmp_path / "repo"
    before = gc.get_threshold()
    seen: list[tuple[int, int]] = []

    def on_event(record: object) -> None:  # called in the run, for each of its events
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))

    outcome = run_rebuild(
        2026, inbox, repo, finance_dept="101", instance=dg.DagsterInstance.ephemeral(), on_event=on_event
    )
    assert outcome.success and outcome.published["committed"]
    assert len(seen) > 20  # every step's events
    assert all(gen0 == gc_policy.GEN0_THRESHOLD and frozen > 0 for gen0, frozen in seen)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_step_process_joins_the_runs_lock_by_its_token_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    path = str((repo / lock.LOCK_FILE).resolve())
    held = {"pid": 1, "host": "elsewhere", "token": "abc"}  # the run's process, not this one
    (repo / lock.LOCK_FILE).write_text(json.dumps(held), encoding="utf-8")
    monkeypatch.setattr(lock, "_HELD", {})
    monkeypatch.setenv(LOCK_TOKEN_ENV, "another run's")
    adopt_run_lock(repo)
    assert path not in lock._HELD  # noqa: SLF001
    with pytest.raises(lock.LockBusyError), lock.rebuild_lock(repo):
        pass
    monkeypatch.setenv(LOCK_TOKEN_ENV, "abc")
    adopt_run_lock(repo)
    with lock.rebuild_lock(repo, join=True) as joined:  # a step joins instead of being refused
        assert joined == Path(path)
    assert (repo / lock.LOCK_FILE).is_file()  # the owner removes it, not a joining step
