"""library/evaluations/<Y>/ (pipelines/store/evaluations.py): deterministic Parquet read back as written, each
file verified (layout, schema, year, rows against the manifest), a rebuild's staging able to carry them over
byte for byte; the schedule's cron from indicators.toml's deadline. The last tests: the library's own
verification (what `pull` runs) checks them, and a later rebuild of the year keeps them."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines import rebuild
from pipelines.common.errors import UsageError
from pipelines.defs.evaluation import deadline_cron, evaluation_schedule, publish_year, score_year
from pipelines.store import publish
from pipelines.store.evaluations import (
    EVALUATIONS_KEY,
    MODELS,
    carry_evaluations,
    evaluation_bytes,
    evaluation_file_problems,
    evaluation_problems,
    published_actuals,
    read_evaluation,
    rel_path,
)
from pipelines.store.publish import parquet_bytes, read_manifest
from pipelines.store.verify import verify_library, verify_release
from tests.git_env import isolate_git, small_inbox
from tests.test_evaluate_e2e import _submissions

YEAR = 2026


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


@pytest.fixture()
def evaluated(tmp_path: Path) -> Path:
    """A deployment repo with the 2026 release and its self-evaluation published (tag v2026-eval)."""
    repo = tmp_path / "repo"
    rebuild.run(YEAR, small_inbox(tmp_path / "inbox", YEAR), repo, finance_dept="101")
    scored = score_year(repo, YEAR, _submissions(repo, tmp_path / "self_eval"))
    assert publish_year(repo, scored).tag == f"v{YEAR}-eval"
    return repo


def test_files_are_deterministic_and_read_back_as_written(evaluated: Path, tmp_path: Path) -> None:
    library = evaluated / "library"
    for name in MODELS:
        frame = read_evaluation(library, YEAR, name)
        assert frame is not None
        MODELS[name].validate(frame)
        data = (library / rel_path(YEAR, name)).read_bytes()
        assert evaluation_bytes(name, frame) == data  # read → write gives the same bytes
        reversed_rows = frame.iloc[::-1].reset_index(drop=True)
        assert evaluation_bytes(name, reversed_rows) == data  # row order does not matter
        assert b"pandas" not in (pq.read_schema(library / rel_path(YEAR, name)).metadata or {})
    assert read_evaluation(library, YEAR - 1, "usages") is None
    empty = evaluation_bytes("departments", read_evaluation(library, YEAR, "departments").iloc[0:0])  # type: ignore[union-attr]
    assert pq.read_table(pa.BufferReader(empty)).num_rows == 0


def test_each_file_is_verified(evaluated: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(evaluated / "library", copy)
    listed = (read_manifest(copy) or {})["files"]
    assert evaluation_problems(copy) == []
    rel = rel_path(YEAR, "departments")

    table = pq.read_table(copy / rel)
    (copy / rel).write_bytes(parquet_bytes(table.append_column("extra", pa.array(["x"] * table.num_rows))))
    assert any("列或类型" in p for p in evaluation_file_problems(copy, rel, listed))

    frame = read_evaluation(evaluated / "library", YEAR, "departments")
    assert frame is not None
    (copy / rel).write_bytes(evaluation_bytes("departments", frame.assign(year=YEAR - 1)))
    problems = evaluation_file_problems(copy, rel, listed)
    assert any(f"年度不是 {YEAR}" in p for p in problems)

    (copy / rel).write_bytes(evaluation_bytes("departments", frame.iloc[:1]))
    assert any(
        "行数 1 与 manifest.json 记录的 3 不符" in p for p in evaluation_file_problems(copy, rel, listed)
    )
    assert evaluation_file_problems(copy, f"evaluations/{YEAR}/other.parquet", listed) == [
        f"文件不属于指标库的目录结构：evaluations/{YEAR}/other.parquet"
    ]

    manifest = read_manifest(copy) or {}
    manifest[EVALUATIONS_KEY] = {}
    (copy / publish.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert any("自评年度" in p for p in evaluation_problems(copy))


def test_a_rebuilds_staging_carries_the_evaluations_byte_for_byte(evaluated: Path, tmp_path: Path) -> None:
    library = evaluated / "library"
    tables = publish.load_library(library)
    assert tables is not None
    manifest = read_manifest(library) or {}
    staging = tmp_path / "staging"
    publish.write_release(tables, staging, year=YEAR, accounting=manifest["rows"])
    assert carry_evaluations(tmp_path / "nothing", staging) is None
    carried = carry_evaluations(library, staging)
    assert carried is not None and carried[EVALUATIONS_KEY] == manifest[EVALUATIONS_KEY]
    for name in MODELS:
        rel = rel_path(YEAR, name)
        assert (staging / rel).read_bytes() == (library / rel).read_bytes()
        assert carried["files"][rel] == manifest["files"][rel]
    assert evaluation_problems(staging) == []
    layout = [p for p in verify_library(staging) if "evaluations/" not in p.message]
    assert layout == []


def test_published_actuals_fit_the_reference_values(evaluated: Path, tmp_path: Path) -> None:
    from pipelines.store.reference_values import ACTUAL_COLUMNS, read_reference_values

    actuals = published_actuals(evaluated / "library")
    assert tuple(actuals.columns) == ACTUAL_COLUMNS
    # 201 and 202 filled numbers; 202's "约两百" (E504) and the unsubmitted 203 say nothing about actuals
    assert sorted(zip(actuals["dept_code"], actuals["actual_value"], strict=True)) == [
        ("201", 95.0),
        ("201", 96.0),
        ("201", 180.0),
        ("202", 50.0),
        ("202", 95.0),
    ]
    series = read_reference_values(evaluated / "library", actuals).series
    shown = series[series["actual_value"].notna()]
    assert len(shown) == 5 and set(shown["year"]) == {YEAR}
    assert published_actuals(tmp_path).empty and tuple(published_actuals(tmp_path).columns) == ACTUAL_COLUMNS


@pytest.mark.parametrize(
    ("deadline", "cron"),
    [("03-31", "0 6 1 4 *"), ("12-31", "0 6 1 1 *"), ("02-28", "0 6 1 3 *"), ("4-15", "0 6 16 4 *")],
)
def test_the_schedule_runs_the_morning_after_the_deadline(deadline: str, cron: str) -> None:
    assert deadline_cron(deadline) == cron


def test_a_bad_deadline_is_refused_in_chinese() -> None:
    for bad in ("02-30", "3月31日", ""):
        with pytest.raises(UsageError, match="self_eval_deadline"):
            deadline_cron(bad)


def test_the_schedule_reads_the_deadline_and_requests_the_year_before(tmp_path: Path) -> None:
    (tmp_path / "indicators.toml").write_text('self_eval_deadline = "04-15"\n', encoding="utf-8")
    schedule = evaluation_schedule(tmp_path)
    assert schedule.cron_schedule == "0 6 16 4 *" and schedule.execution_timezone == "Asia/Shanghai"
    when = datetime.datetime(2027, 4, 16, 6, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    request = schedule(dg.build_schedule_context(scheduled_execution_time=when))
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026"


def test_verify_and_a_later_rebuild_keep_the_evaluations(evaluated: Path, tmp_path: Path) -> None:
    assert verify_release(evaluated / "library") == []  # what `pull` runs on the staged copy
    # a re-publication of the year (vY.1) with changed workbooks: a new library is staged and swapped in
    rebuild.run(YEAR, small_inbox(tmp_path / "again", YEAR, suffix="b"), evaluated, finance_dept="101")
    assert read_evaluation(evaluated / "library", YEAR, "departments") is not None
    assert isinstance(read_evaluation(evaluated / "library", YEAR, "usages"), pd.DataFrame)
    assert (evaluated / "reports" / str(YEAR) / "self_evaluation.html").is_file()
    assert verify_release(evaluated / "library") == [] and evaluation_problems(evaluated / "library") == []


def test_a_county_pulls_the_evaluated_release_verified(evaluated: Path, tmp_path: Path) -> None:
    from pipelines.county.pull import pull

    done = pull(str(evaluated), ref=f"v{YEAR}-eval", into=tmp_path / "county")
    listed = (read_manifest(evaluated / "library") or {})["files"]
    assert done.files_verified == len(listed) and any(r.startswith("evaluations/") for r in listed)
    pulled = read_evaluation(tmp_path / "county" / "library", YEAR, "departments")
    assert pulled is not None and list(pulled["dept_code"]) == ["201", "202", "203"]
    assert (tmp_path / "county" / "reports" / str(YEAR) / "self_evaluation.html").is_file()
