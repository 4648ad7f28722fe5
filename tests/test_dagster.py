"""The Dagster layer: definitions load, the graph materializes with a persistent DAGSTER_HOME, schedule and
sensor evaluate with Dagster's test contexts, and a replaced workbook is the only one re-parsed."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.defs.definitions import make_definitions
from pipelines.defs.resources import InboxResource
from pipelines.defs.run import run_rebuild
from pipelines.defs.schedules import annual_rebuild_schedule
from pipelines.defs.sensors import inbox_sensor
from tests.git_env import small_inbox
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

EXPECTED_ASSETS = [
    "submission_files",
    "validated_submissions",
    "department_feedback",
    "normalized_rows",
    "consolidated_library",
    "release_candidate",
    "annual_report",
    "published_release",
    "self_evaluation_scores",
    "self_evaluation_release",
]


def _inbox(folder: Path, year: int = 2026) -> Path:
    return small_inbox(folder, year)


def test_definitions_load_with_every_asset_check_schedule_and_sensor(tmp_path: Path) -> None:
    defs = make_definitions(tmp_path / "repo", tmp_path / "inbox", "101")
    keys = [spec.key.to_user_string() for spec in defs.resolve_all_asset_specs()]
    assert sorted(keys) == sorted(EXPECTED_ASSETS)
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert checks == {
        "library_schema",
        "unique_ids",
        "row_accounting",
        "manifest_matches_files",
        "submissions_present",
        "evaluation_coverage",
        "evaluation_points",
    }
    assert defs.resolve_job_def("annual_rebuild").partitions_def is not None
    assert defs.resolve_schedule_def("annual_rebuild_schedule").cron_schedule == "0 6 1 12 *"
    assert defs.resolve_sensor_def("inbox_sensor") is not None
    # the code location `dagster dev` loads from pyproject's [tool.dagster]
    import pipelines.defs.definitions as module

    assert isinstance(module.defs, dg.Definitions)


def test_schedule_requests_the_current_year_on_1_december() -> None:
    when = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = annual_rebuild_schedule(context)
    assert request.partition_key == "2026"


def test_sensor_fires_on_new_and_changed_workbooks_only(tmp_path: Path) -> None:
    current = str(datetime.date.today().year)
    inbox = tmp_path / "inbox"
    folder = inbox / current
    _inbox(folder, int(current))
    resource = InboxResource(path=str(inbox))
    result = inbox_sensor(dg.build_sensor_context(resources={"inbox": resource}))
    assert [r.partition_key for r in result.run_requests] == [current]
    cursor = result.cursor
    quiet = inbox_sensor(dg.build_sensor_context(cursor=cursor, resources={"inbox": resource}))
    assert not quiet.run_requests
    write_workbook(folder / "204.xlsx", default_info(year=int(current), dept_code="204"), [core_row()], [])
    again = inbox_sensor(dg.build_sensor_context(cursor=cursor, resources={"inbox": resource}))
    assert [r.partition_key for r in again.run_requests] == [current]
    assert json.loads(again.cursor) != json.loads(cursor)


def test_graph_materializes_with_persistent_instance_and_reparses_only_the_changed_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    inbox, repo = _inbox(tmp_path / "inbox"), tmp_path / "repo"
    instance = dg.DagsterInstance.get()
    first = run_rebuild(2026, inbox, repo, finance_dept="101", instance=instance)
    assert first.success and first.published["tag"] == "v2026"
    records = instance.fetch_materializations(dg.AssetKey("validated_submissions"), limit=10).records
    meta = records[0].asset_materialization.metadata
    assert sorted(meta["parsed"].value) == ["201.xlsx", "202.xlsx", "203.xlsx"]

    # one department replaces its workbook: only that file is parsed again
    write_workbook(
        inbox / "202.xlsx",
        default_info(dept_code="202", dept_name="卫健委"),
        [core_row()],
        [project_row(project="卫健委项目", name="卫健委服务人次", unit="人次", target=300)],
    )
    second = run_rebuild(2026, inbox, repo, finance_dept="101", instance=instance)
    assert second.success
    meta = (
        instance.fetch_materializations(dg.AssetKey("validated_submissions"), limit=1)
        .records[0]
        .asset_materialization.metadata
    )
    assert meta["parsed"].value == ["202.xlsx"]
    assert sorted(meta["from_cache"].value) == ["201.xlsx", "203.xlsx"]
    # checks ran and passed, attached to the release candidate's partition
    evaluations = instance.fetch_materializations(dg.AssetKey("published_release"), limit=5).records
    assert evaluations and evaluations[0].asset_materialization.partition == "2026"
    assert len(instance.get_runs()) == 2  # run history persists in DAGSTER_HOME
    assert os.listdir(home)


def test_blocking_check_stops_publishing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, repo = _inbox(tmp_path / "inbox"), tmp_path / "repo"
    # Corrupt the staged manifest's accounting on disk just before the checks read it.
    from pipelines import rebuild

    real_stage = rebuild.stage

    def bad_stage(*args, **kwargs):  # type: ignore[no-untyped-def]
        staged = real_stage(*args, **kwargs)
        manifest = staged.library_dir / "manifest.json"
        data = json.loads(manifest.read_text(encoding="utf-8"))
        data["rows"]["read"] += 1
        manifest.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n", "utf-8")
        return staged

    monkeypatch.setattr(rebuild, "stage", bad_stage)
    outcome = run_rebuild(2026, inbox, repo, finance_dept="101", instance=dg.DagsterInstance.ephemeral())
    assert not outcome.success
    assert [name for name, _ in outcome.failed_checks] == ["row_accounting"]
    problems = outcome.failed_checks[0][1]["problems"]
    assert any("行数对不上" in p for p in problems)  # type: ignore[union-attr]
    assert not (repo / "library").exists()


def test_code_location_reads_its_environment_when_a_run_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import pipelines.defs.definitions as module

    inbox, repo = _inbox(tmp_path / "inbox"), tmp_path / "repo"
    with monkeypatch.context() as env:
        env.setenv("INDICATORS_REPO", str(tmp_path / "loaded-with"))
        env.setenv("INDICATORS_INBOX", str(tmp_path / "loaded-with-inbox"))
        env.setenv("INDICATORS_FINANCE_DEPT", "999")
        loaded = importlib.reload(module).defs
        # the variables change after the code location was loaded: the run uses today's values
        env.setenv("INDICATORS_REPO", str(repo))
        env.setenv("INDICATORS_INBOX", str(inbox))
        env.setenv("INDICATORS_FINANCE_DEPT", "101")
        result = loaded.resolve_job_def("annual_rebuild").execute_in_process(
            partition_key="2026",
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=[dg.AssetKey("submission_files"), dg.AssetKey("validated_submissions")],
        )
        bureau = loaded.resources["finance_bureau"].dept_code
    importlib.reload(module)
    assert result.success
    assert [f.name for f in result.output_for_node("submission_files")] == [
        "201.xlsx",
        "202.xlsx",
        "203.xlsx",
    ]
    assert (repo / ".indicators-cache" / "parsed").is_dir()  # the parse cache of the repo named at run time
    assert not (tmp_path / "loaded-with").exists()
    assert isinstance(bureau, dg.EnvVar) and bureau.env_var_name == "INDICATORS_FINANCE_DEPT"


def test_cli_rebuild_prints_accounting_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    inbox, repo = _inbox(tmp_path / "inbox"), tmp_path / "repo"
    (inbox / "broken.xlsx").write_bytes(b"not a workbook")
    code = main(
        [
            "rebuild",
            "--year",
            "2026",
            "--submissions",
            str(inbox),
            "--repo",
            str(repo),
            "--finance-dept",
            "101",
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert lines[-1] == "rows: read=9 library=9 noncore=0 excluded=0 rejected=0"
    assert any("已发布 v2026" in line for line in lines)
    assert (
        main(["rebuild", "--year", "2026", "--submissions", str(tmp_path / "nope"), "--repo", str(repo)]) == 2
    )


def test_an_empty_year_is_not_published(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.xlsx").write_bytes(b"garbage")
    outcome = run_rebuild(
        2026, inbox, tmp_path / "repo", finance_dept="101", instance=dg.DagsterInstance.ephemeral()
    )
    assert not outcome.success and outcome.errors == []
    assert [name for name, _ in outcome.failed_checks] == ["submissions_present"]
