"""The per-workbook fan-out (pipelines.fanout): any batching, any number of workers, either executor give
the same validation and the same bytes — library/, reports/ and the outbox — on an inbox with a set-aside
unreadable file, two workbooks of one 部门编码 in different batches (F007) and the finance bureau's 共性
workbook; a batch whose worker dies costs only the workbook that killed it."""

from __future__ import annotations

import hashlib
from multiprocessing import forkserver
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.defs.run import run_rebuild
from pipelines.fanout import BatchSettings, merge_batches, plan_batches, process_batch, run_batches
from pipelines.fanout.batches import BATCH_FILES_ENV
from pipelines.intake.read import read_workbook
from pipelines.store.repo import OUTBOX_DIR
from pipelines.validate.runner import validate_workbooks
from tests.git_env import git, isolate_git, small_inbox
from tests.hostile_parse import hostile_parse
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

YEAR = 2026
FINANCE = "101"


def demo_like_inbox(folder: Path) -> Path:
    """201–203 clean, 101 the bureau's with a 共性 sheet, 204 filed twice (F007; the two files are apart
    in name order, so batches of two never hold both), 900 not a workbook, 205 with a row error."""
    small_inbox(folder, YEAR)
    common = [project_row(project="", function_code="", name="会议次数", unit="次", definition="会议次数")]
    write_workbook(folder / "101.xlsx", default_info(YEAR, FINANCE, "财政局"), [core_row()], [], common)
    for name in ("2040a.xlsx", "zz204.xlsx"):
        rows = [project_row(project="道路养护", name="养护里程", unit="公里")]
        write_workbook(folder / name, default_info(YEAR, "204", "交通局"), [core_row()], rows)
    rows = [project_row(project="供水", name="供水覆盖率", unit="%", target=120)]  # R115
    write_workbook(folder / "205.xlsx", default_info(YEAR, "205", "水务局"), [core_row()], rows)
    (folder / "900.xlsx").write_bytes(b"not a workbook")
    return folder


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_like_inbox(tmp_path_factory.mktemp("fanout") / "inbox")


def _settings(**kw: object) -> BatchSettings:
    return BatchSettings(year=YEAR, finance_dept=FINANCE, **kw)  # type: ignore[arg-type]


def _one_batch(inbox: Path):  # type: ignore[no-untyped-def]
    workbooks = [read_workbook(p) for p in sorted(inbox.glob("*.xlsx"), key=lambda p: p.name)]
    return validate_workbooks(workbooks, year=YEAR, finance_dept=FINANCE)


def _same(left, right) -> None:  # type: ignore[no-untyped-def]
    pd.testing.assert_frame_equal(left.rows, right.rows)
    assert left.findings == right.findings
    assert left.files == right.files
    pd.testing.assert_frame_equal(left.departments, right.departments)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(min_value=1, max_value=5))
def test_any_batch_size_gives_the_validation_of_one_batch(inbox: Path, size: int) -> None:
    whole = _one_batch(inbox)
    assert {"F007", "R115"} <= {f.code for f in whole.findings}
    batches = plan_batches(sorted(inbox.glob("*.xlsx")), max_files=size)
    results = [process_batch(b, _settings()) for b in batches]
    _same(merge_batches(results, _settings()), whole)


def test_findings_are_file_major_in_inbox_order(inbox: Path) -> None:
    whole = _one_batch(inbox)
    order = sorted(p.name for p in inbox.glob("*.xlsx"))
    positions = [order.index(f.file) for f in whole.findings]
    assert positions == sorted(positions)
    f007 = [f for f in whole.findings if f.code == "F007"]
    assert [f.file for f in f007] == ["2040a.xlsx", "zz204.xlsx"]
    assert all(s.set_aside for s in whole.files if s.file in ("2040a.xlsx", "zz204.xlsx", "900.xlsx"))


def test_a_killed_batch_worker_costs_only_its_workbook(inbox: Path, tmp_path: Path) -> None:
    """abort_*.xlsx makes the parse call os.abort(): its batch's worker dies; the batch is done again
    through the safe path, where only that workbook is set aside (F012)."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for p in inbox.glob("*.xlsx"):
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "abort_203.xlsx").write_bytes((inbox / "203.xlsx").read_bytes())
    batches = plan_batches(sorted(folder.glob("*.xlsx")), max_files=3)
    results = run_batches(batches, _settings(parse=hostile_parse), workers=2)
    merged = merge_batches(results, _settings())
    status = {s.file: s for s in merged.files}
    assert not status["abort_203.xlsx"].readable
    assert [f.code for f in merged.findings if f.file == "abort_203.xlsx"] == ["F012"]
    (folder / "abort_203.xlsx").unlink()
    clean = _one_batch(folder)
    kept = merged.rows[merged.rows["source_file"] != "abort_203.xlsx"].reset_index(drop=True)
    assert kept["source_file"].astype(str).tolist() == clean.rows["source_file"].astype(str).tolist()
    assert kept["outcome"].astype(str).tolist() == clean.rows["outcome"].astype(str).tolist()
    assert [f for f in merged.findings if f.file != "abort_203.xlsx"] == clean.findings


def _trees(repo: Path) -> dict[str, str]:
    outbox = repo / OUTBOX_DIR / str(YEAR)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(outbox.iterdir())}
    return {
        "library": git(repo, "rev-parse", f"v{YEAR}:library"),
        "reports": git(repo, "rev-parse", f"v{YEAR}:reports"),
        "outbox": hashlib.sha256(repr(files).encode()).hexdigest(),
        "outbox_files": str(len(files)),
    }


def test_same_bytes_whatever_the_workers_or_the_executor(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    monkeypatch.setenv(BATCH_FILES_ENV, "2")  # five batches: F007's two files in different ones
    trees = {}
    for name, kw in (
        ("serial", {"workers": 1}),
        ("pool", {"workers": 2}),
        ("multiprocess", {"executor": "multiprocess"}),
    ):
        repo = tmp_path / name
        instance = dg.DagsterInstance.get()
        outcome = run_rebuild(YEAR, inbox, repo, finance_dept=FINANCE, instance=instance, **kw)  # type: ignore[arg-type]
        assert outcome.success, (name, outcome.errors, outcome.failed_checks)
        assert outcome.accounting["rejected"] > 0 and len(outcome.feedback) == 8
        if name == "pool":  # the pool's forkserver ran in this process and was stopped once all was read
            assert forkserver._forkserver._forkserver_pid is None
        trees[name] = _trees(repo)
    assert trees["serial"] == trees["pool"] == trees["multiprocess"], trees
