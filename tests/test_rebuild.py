"""pipelines.rebuild: the one composition of the rebuild. run() calls every step in order, the blocking
checks included, and publishes exactly what the Dagster job (which wraps the same steps) publishes."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from pipelines import rebuild
from pipelines.defs.run import run_rebuild
from pipelines.store.verify import CHECKS, verify_release
from tests.git_env import git, isolate_git, publish_tables, small_inbox

YEAR = 2026
STEPS = [
    "list",
    "load_previous",
    "read_validate_feedback",
    "feedback",
    "normalize",
    "consolidate",
    "changes",
    "stage",
    "check",
    "report",
    "publish",
]


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


def test_run_calls_every_step_in_order_and_publishes(tmp_path: Path) -> None:
    inbox, repo = small_inbox(tmp_path / "inbox"), tmp_path / "repo"
    called: list[str] = []

    def step(name, fn):  # type: ignore[no-untyped-def]
        called.append(name)
        return fn()

    done = rebuild.run(YEAR, inbox, repo, finance_dept="101", step=step)
    assert called == STEPS
    assert [c.name for c in done.checks] == list(CHECKS) and all(c.passed for c in done.checks)
    assert done.validation.counts() == {"read": 9, "library": 9, "noncore": 0, "excluded": 0, "rejected": 0}
    assert done.commit is not None and done.commit.committed and done.commit.tag == f"v{YEAR}"
    assert verify_release(repo / "library") == []
    published = sorted(p.name for p in (repo / "reports" / str(YEAR)).rglob("*") if p.is_file())
    assert sorted(p.name for p in done.reports) == published and "review.html" in published

    again = rebuild.run(YEAR, inbox, repo, finance_dept="101")  # same inputs: nothing new to commit
    assert again.commit is not None and not again.commit.committed


def test_a_failed_blocking_check_publishes_nothing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.xlsx").write_bytes(b"not a workbook")
    repo = tmp_path / "repo"
    with pytest.raises(rebuild.ChecksFailedError, match="未通过阻断检查") as failed:
        rebuild.run(YEAR, inbox, repo, finance_dept="101")
    assert [c.name for c in failed.value.failed] == ["submissions_present"]
    assert not (repo / "library").exists()


def test_run_and_the_dagster_job_publish_the_same_release(tmp_path: Path) -> None:
    inbox = small_inbox(tmp_path / "inbox")
    plain, dagster = tmp_path / "plain", tmp_path / "dagster"
    rebuild.run(YEAR, inbox, plain, finance_dept="101")
    outcome = run_rebuild(YEAR, inbox, dagster, finance_dept="101", instance=dg.DagsterInstance.ephemeral())
    assert outcome.success
    for path in ("library", "reports"):
        trees = {git(r, "rev-parse", f"v{YEAR}:{path}").strip() for r in (plain, dagster)}
        assert len(trees) == 1, path


def test_the_base_release_of_an_older_minor_version_is_read_in_todays_shape(tmp_path: Path) -> None:
    from pipelines.store.release import load_previous
    from tests.library_fixtures import small_tables
    from tests.test_schema_versions import NEXT_COLUMN, next_minor

    repo = tmp_path / "repo"
    published = small_tables(YEAR)
    publish_tables(repo, published, YEAR)  # written by today's code (minor 0)
    with next_minor():  # this code one minor later: indicators gained NEXT_COLUMN
        base = load_previous(repo, YEAR + 1)
    assert base.tables is not None and base.baseline_tag == f"v{YEAR}"
    assert base.tables.indicators[NEXT_COLUMN].eq("").all()  # the column added since reads empty
    assert sorted(base.tables.indicators["indicator_id"]) == sorted(published.indicators["indicator_id"])


def test_a_deployments_own_reference_edition_reaches_the_rebuild_and_validate(tmp_path: Path, capsys) -> None:
    """Issue 12: the reference data is loaded from a folder the deployment can override. rules/reference/ in
    the deployment repo (here: a core-indicator limit of 2 instead of 10) is what the rebuild's validate step
    and `indicators validate --repo` read; without the folder the shipped edition applies."""
    from pipelines.cli import main
    from pipelines.intake.read import read_workbook
    from schemas.vocab import REFERENCE_DIR
    from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

    repo = tmp_path / "repo"
    repo.mkdir()
    path = tmp_path / "three_core.xlsx"
    names = ["政策宣传覆盖率", "案件办结率", "培训合格率"]
    write_workbook(path, default_info(), [core_row(name=n) for n in names], [project_row()])
    workbooks = [read_workbook(path)]
    previous = rebuild.load_previous(rebuild.Deployment.open(repo), YEAR)

    def w206(deployment: rebuild.Deployment) -> list[str]:
        found = rebuild.validate(workbooks, previous, deployment, YEAR).findings
        return [f.message for f in found if f.code == "W206"]

    assert rebuild.Deployment.open(repo).reference_dir is None
    assert w206(rebuild.Deployment.open(repo)) == []
    own = repo / "rules" / "reference"
    own.mkdir(parents=True)
    shipped = (REFERENCE_DIR / "limits.csv").read_text(encoding="utf-8")
    (own / "limits.csv").write_text(shipped.replace("core_max_complex,10,", "core_max_complex,2,"), "utf-8")
    assert rebuild.Deployment.open(repo).reference_dir == own.resolve()
    [message] = w206(rebuild.Deployment.open(repo))
    assert "超过上限 2 个" in message

    main(["validate", str(path), "--year", str(YEAR), "--repo", str(repo)])
    assert "W206" in capsys.readouterr().out
