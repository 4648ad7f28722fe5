"""The rebuild's Dagster instance (pipelines/defs/instance.py): Dagster's own SQLite files, written through
one engine per database, read back by Dagster's default storage (what `dagster dev` uses) event for event
as a run on the default storage records them; a dagster.yaml naming a storage is obeyed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as db
from dagster._core.events.log import EventLogEntry
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.defs import instance as run_instance
from pipelines.defs.run import DAGSTER_YAML, run_rebuild
from tests.git_env import isolate_git, small_inbox

YEAR = 2026


def _default(home: Path) -> dg.DagsterInstance:
    """Dagster's own instance of the folder (no overrides): what `dagster dev` opens."""
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _log(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str, str]]:
    """The run's log as a user sees it: event type, step, and the asset or check it is about."""
    out = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        kind = event.event_type_value if event else "LOG"
        about = ""
        if event is not None and event.asset_key is not None:
            about = event.asset_key.to_user_string()
        if kind == "ASSET_CHECK_EVALUATION":
            data = event.asset_check_evaluation_data  # type: ignore[union-attr]
            about += f"/{data.check_name}:{data.passed}"
        out.append((kind, entry.step_key or "", about))
    return out


def test_a_rebuilds_log_reads_back_in_dagsters_default_storage_as_a_default_run_records_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    inbox = small_inbox(tmp_path / "inbox")
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for home in (ours, theirs):  # the CLI's dagster.yaml: telemetry off, the progress logger managed
        home.mkdir()
        (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(ours))  # run_rebuild's own instance: instance_for
    mine = run_rebuild(YEAR, inbox, tmp_path / "repo-a", finance_dept="101")
    other = run_rebuild(YEAR, inbox, tmp_path / "repo-b", finance_dept="101", instance=_default(theirs))
    assert mine.success and other.success
    read_back = _default(ours)  # the files our storage wrote, read by Dagster's default classes
    assert type(read_back.event_log_storage) is SqliteEventLogStorage
    assert [r.run_id for r in read_back.get_runs()] == [mine.run_id]
    assert read_back.get_run_by_id(mine.run_id).is_success  # type: ignore[union-attr]
    logged = _log(read_back, mine.run_id)
    assert logged == _log(_default(theirs), other.run_id)
    kinds = {k for k, _, _ in logged}
    assert {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "PIPELINE_SUCCESS"} <= kinds
    progress = [e.user_message for e in read_back.all_logs(mine.run_id) if e.dagster_event is None]
    assert any("读取、校验并生成反馈" in m for m in progress)  # the progress lines are in the run log
    records = read_back.fetch_materializations(dg.AssetKey("published_release"), limit=1).records
    assert records[0].asset_materialization.metadata["tag"].value == "v2026"  # type: ignore[union-attr]


def _entry(run_id: str, i: int) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=20,
        user_message=f"第 {i} 条",
        run_id=run_id,
        timestamp=time.time(),
        step_key="step",
        job_name="job",
        dagster_event=None,
    )


def test_events_go_through_one_engine_a_database_and_commit_without_a_flush_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = run_instance.rebuild_instance(tmp_path)
    storage = instance.event_log_storage
    assert isinstance(storage, run_instance.RunLogEventStorage)
    made: list[str] = []
    real = db.create_engine
    monkeypatch.setattr(
        run_instance.db, "create_engine", lambda url, **kw: made.append(url) or real(url, **kw)
    )
    for i in range(30):
        storage.store_event(_entry("run-1", i))
    assert len(made) == 1 and made[0].endswith("run-1.db")
    with storage.run_connection("run-1") as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    instance.dispose()
    shard = tmp_path / "history" / "runs" / "run-1.db"
    with sqlite3.connect(shard) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("select count(*) from event_logs").fetchone() == (30,)
    assert len(_default(tmp_path).all_logs("run-1")) == 30


def test_a_new_instance_is_written_with_a_handful_of_flushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flushed: list[int] = []
    real = run_instance.os.fsync
    monkeypatch.setattr(run_instance.os, "fsync", lambda fd: flushed.append(fd) or real(fd))
    instance = run_instance.rebuild_instance(tmp_path)
    storage = instance.event_log_storage
    storage.store_event(_entry("run-2", 0))
    with storage.run_connection("run-2") as conn:  # the per-statement setting is back after creation
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    instance.dispose()
    assert 0 < len(flushed) <= 12  # each new database and its folder once
    for name in (
        "history/runs.db",
        "history/runs/index.db",
        "schedules/schedules.db",
        "history/runs/run-2.db",
    ):
        with sqlite3.connect(tmp_path / name) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",), name


def test_a_storage_named_in_dagster_yaml_is_used_as_configured(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {tmp_path / 'elsewhere'}\n", encoding="utf-8"
    )
    assert run_instance.configured_storage(tmp_path)
    instance = run_instance.rebuild_instance(tmp_path)
    assert type(instance.event_log_storage) is SqliteEventLogStorage
    assert (tmp_path / "elsewhere" / "history" / "runs.db").is_file()
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    assert not run_instance.configured_storage(tmp_path)
    assert isinstance(
        run_instance.rebuild_instance(tmp_path).event_log_storage, run_instance.RunLogEventStorage
    )


def test_the_multiprocess_executors_steps_write_the_same_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    inbox = small_inbox(tmp_path / "inbox")
    outcome = run_rebuild(YEAR, inbox, tmp_path / "repo", finance_dept="101", executor="multiprocess")
    assert outcome.success, (outcome.errors, outcome.failed_checks)
    logged = _log(_default(tmp_path / "dagster"), outcome.run_id)
    steps = {step for kind, step, _ in logged if kind == "STEP_SUCCESS"}
    assert {"published_release", "validated_submissions.merge_shards"} <= steps
