"""The in-process run lets each step's value go after its last reader (pipelines/defs/io_release.py):
real rebuilds through Dagster, the values watched with weak references, the outcome still complete."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from pipelines import rebuild
from pipelines.defs import fanout_ops
from pipelines.defs.definitions import make_definitions
from pipelines.defs.io_release import ReleasingIOManager, plan_readers
from pipelines.defs.run import run_rebuild
from tests.git_env import small_inbox


class _Watch:
    """Weak references to the normalized rows and the fan-out's batch results, and whether each was
    still alive when the annual report step started (after a full collection)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refs: dict[str, weakref.ref[Any]] = {}
        self.alive_at_report: dict[str, bool] = {}
        normalize, merge, report = rebuild.normalize, fanout_ops.merge_batches, rebuild.report

        def watched_normalize(*args: Any, **kwargs: Any) -> Any:
            frame = normalize(*args, **kwargs)
            self.refs["normalized_rows"] = weakref.ref(frame)
            return frame

        def watched_merge(results: Any, *args: Any, **kwargs: Any) -> Any:
            self.refs["batch_result"] = weakref.ref(results[0])
            return merge(results, *args, **kwargs)

        def watched_report(*args: Any, **kwargs: Any) -> Any:
            gc.collect()
            self.alive_at_report = {k: ref() is not None for k, ref in self.refs.items()}
            return report(*args, **kwargs)

        monkeypatch.setattr(rebuild, "normalize", watched_normalize)
        monkeypatch.setattr(fanout_ops, "merge_batches", watched_merge)
        monkeypatch.setattr(rebuild, "report", watched_report)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_rebuild_lets_go_of_values_no_later_step_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    watch = _Watch(monkeypatch)
    inbox, repo = small_inbox(tmp_path / "inbox"), tmp_path / "repo"
    outcome = run_rebuild(
        2026, inbox, repo, finance_dept="101", dry_run=dry_run, instance=dg.DagsterInstance.ephemeral()
    )
    assert outcome.success
    assert watch.alive_at_report == {"normalized_rows": False, "batch_result": False}
    # what the caller reads after the run is still there (OUTCOME_ASSETS kept)
    assert outcome.accounting["read"] == 9
    assert outcome.changes_zh.startswith("新增")
    assert len(outcome.feedback) == 3
    assert outcome.reports_dir is not None and outcome.reports_dir.is_dir()
    if not dry_run:
        assert outcome.published["tag"] == "v2026"


def test_the_old_in_memory_io_manager_held_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same watch on Dagster's InMemoryIOManager: both values still alive when the report starts."""
    watch = _Watch(monkeypatch)
    monkeypatch.setattr("pipelines.defs.definitions.ReleasingIOManager", lambda keep: dg.InMemoryIOManager())
    inbox, repo = small_inbox(tmp_path / "inbox"), tmp_path / "repo"
    assert run_rebuild(2026, inbox, repo, finance_dept="101", instance=dg.DagsterInstance.ephemeral()).success
    assert watch.alive_at_report == {"normalized_rows": True, "batch_result": True}


def test_without_keep_every_asset_value_stays_and_only_the_fanouts_ops_go(tmp_path: Path) -> None:
    inbox, repo = small_inbox(tmp_path / "inbox"), tmp_path / "repo"
    defs = make_definitions(repo, inbox, "101", in_memory=True)
    manager = (defs.resources or {})["io_manager"]
    assert isinstance(manager, ReleasingIOManager)
    result = defs.resolve_job_def("annual_rebuild").execute_in_process(
        partition_key="2026", instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    for asset in ("submission_files", "normalized_rows", "annual_report", "published_release"):
        assert result.output_for_node(asset) is not None
    assert sorted(manager.released) == [
        "validated_submissions.plan_shards.result[shard_0]",
        "validated_submissions.process_shard[shard_0].result[]",
    ]
    with pytest.raises(Exception):  # noqa: B017 - Dagster's own error for a value it no longer has
        result.output_for_node("validated_submissions.process_shard")


class _Handle:
    def __init__(self, step_key: str, output_name: str = "result") -> None:
        self.step_key, self.output_name = step_key, output_name


class _Input:
    def __init__(self, *handles: _Handle, placeholder: bool = False) -> None:
        self.handles, self.placeholder = list(handles), placeholder
        if not placeholder:
            self.get_step_output_handle_dependencies = lambda: self.handles

    def get_step_output_handle_deps_with_placeholders(self) -> list[_Handle]:
        return self.handles


class _Step:
    def __init__(self, *inputs: _Input) -> None:
        self.step_inputs = list(inputs)


class _Plan:
    def __init__(self, **steps: _Step) -> None:
        self.step_dict = steps


def test_readers_are_counted_from_the_plan_mapped_steps_by_their_base_key() -> None:
    plan = _Plan(
        a=_Step(),
        b=_Step(_Input(_Handle("a")), _Input(_Handle("a", "other"))),
        c=_Step(_Input(_Handle("a"), _Handle("b"))),
        m=_Step(_Input(_Handle("g.op[?]"), placeholder=True)),
    )
    assert plan_readers(plan, "a", "result") == 2
    assert plan_readers(plan, "b", "result") == 1
    assert plan_readers(plan, "c", "result") == 0
    assert plan_readers(plan, "g.op[shard_1]", "result") == 1
    assert plan_readers(object(), "a", "result") is None  # a plan of another shape: held to the end
    assert plan_readers(plan, None, "result") is None
