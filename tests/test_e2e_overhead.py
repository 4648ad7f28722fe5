"""benchmarks.workers e2e: the Dagster job's steps traced one by one (what the job adds to each step and
which step holds the peak), on a real rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.workers import StepTrace, e2e_worker
from tests.git_env import small_inbox

REBUILD_STEPS = {
    "submission_files",
    "validated_submissions.plan_shards",
    "validated_submissions.process_shard[shard_0]",
    "validated_submissions.merge_shards",
    "department_feedback",
    "normalized_rows",
    "consolidated_library",
    "release_candidate",
    "release_candidate_checks",
    "annual_report",
    "published_release",
}


def test_e2e_reports_every_step_with_its_time_and_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    inbox = small_inbox(tmp_path / "inbox")
    out = e2e_worker(inbox, tmp_path / "repo", 2026, workers=1, executor="in_process")
    assert out["success"], out["errors"]
    steps = out["steps"]
    assert {s["step"] for s in steps} == REBUILD_STEPS  # type: ignore[union-attr]
    assert sum(s["wall_s"] for s in steps) <= out["wall_s"]  # type: ignore[union-attr]
    for step in steps:  # type: ignore[union-attr]
        assert step["wall_s"] >= 0 and step["cpu_s"] >= 0
        assert 50 < step["rss_end_mib"] <= step["peak_mib"]
    assert (out["parsed"], out["from_cache"]) == (3, 0)  # from the validation's metadata


def test_a_step_without_its_start_or_another_event_is_not_counted() -> None:
    class Event:
        def __init__(self, kind: str, key: str | None) -> None:
            self.event_type_value, self.step_key = kind, key

    class Entry:
        def __init__(self, kind: str, key: str | None) -> None:
            self.dagster_event = Event(kind, key)

    trace = StepTrace()
    for kind, key in [
        ("STEP_SUCCESS", "a"),
        ("STEP_START", "b"),
        ("ASSET_MATERIALIZATION", "b"),
        ("RUN_SUCCESS", None),
        ("STEP_SUCCESS", "b"),
    ]:
        trace(Entry(kind, key))
    trace(object())  # an entry without a Dagster event (a log line)
    assert [s["step"] for s in trace.steps] == ["b"]
