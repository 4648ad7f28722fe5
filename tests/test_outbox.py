"""The departments' feedback goes to the deployment's outbox, not into the release: a real rebuild into a
real git repo commits no feedback, leaves `git status` clean (outbox/ is ignored), writes one workbook per
submitted file with the findings validate gives, `indicators feedback` writes the same bytes again, and a
county pulling the release receives none of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from pipelines.cli import main
from pipelines.county.pull import pull
from pipelines.intake.read import read_workbook
from pipelines.report.feedback import FEEDBACK_SUFFIX, write_feedback
from pipelines.store.repo import OUTBOX_DIR, open_repo
from pipelines.validate.runner import validate_workbooks
from tests.git_env import git, isolate_git, small_inbox
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

YEAR = 2026
FINANCE = "101"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()


def _inbox(folder: Path, year: int = YEAR) -> Path:
    """Three clean workbooks and one with a rejected row and a warning (so the feedback has marks)."""
    small_inbox(folder, year)
    rows = [
        project_row(project="道路养护", name="养护里程", unit="公里"),
        project_row(project="道路养护", name="路面覆盖率", unit="%", target=120),  # R115: above 100 %
        project_row(project="道路养护", name="群众满意度", level1="满意度指标", level2="服务对象满意度指标"),
    ]
    write_workbook(
        folder / "204.xlsx", default_info(year=year, dept_code="204", dept_name="交通局"), [core_row()], rows
    )
    return folder


def _rebuild(inbox: Path, repo: Path, year: int = YEAR) -> None:
    code = main(
        [
            "rebuild",
            "--year",
            str(year),
            "--submissions",
            str(inbox),
            "--repo",
            str(repo),
            "--finance-dept",
            FINANCE,
        ]
    )
    assert code == 0


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every sheet's cells: value and fill colour, row by row."""
    book = openpyxl.load_workbook(path)
    return {
        ws.title: [tuple((c.value, c.fill.fgColor.rgb) for c in row) for row in ws.iter_rows()]
        for ws in book.worksheets
    }


@pytest.fixture
def published(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    inbox, repo = _inbox(tmp_path / "inbox"), tmp_path / "repo"
    _rebuild(inbox, repo)
    (tmp_path / "printed.txt").write_text(capsys.readouterr().out, encoding="utf-8")
    return inbox, repo


def test_the_release_holds_no_feedback_and_the_outbox_one_workbook_per_file(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    inbox, repo = published
    committed = git(repo, "ls-tree", "-r", "--name-only", f"v{YEAR}").splitlines()
    assert not [p for p in committed if FEEDBACK_SUFFIX in p or p.startswith(f"{OUTBOX_DIR}/")]
    assert not list((repo / "reports").rglob(f"*{FEEDBACK_SUFFIX}"))
    assert not (repo / "reports" / str(YEAR) / "feedback").exists()
    manifest = json.loads((repo / "library" / "manifest.json").read_text(encoding="utf-8"))
    assert "反馈" not in json.dumps(manifest, ensure_ascii=False) and OUTBOX_DIR not in json.dumps(manifest)

    outbox = repo / OUTBOX_DIR / str(YEAR)
    assert sorted(_files(outbox)) == sorted(p.stem + FEEDBACK_SUFFIX for p in inbox.glob("*.xlsx"))
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""  # outbox/ is ignored
    assert f"{OUTBOX_DIR}/" in git(repo, "show", "HEAD:.gitignore").splitlines()
    printed = (tmp_path / "printed.txt").read_text(encoding="utf-8")
    assert f"各部门反馈工作簿：{outbox}（4 个" in printed and "indicators feedback --year 2026" in printed


def test_the_outbox_shows_the_same_findings_as_validate_feedback(
    published: tuple[Path, Path], tmp_path: Path
) -> None:
    """Written from the kept cells and findings, each workbook shows what the feedback of the workbook as
    read shows (`indicators validate --feedback`): same cells, same highlights."""
    inbox, repo = published
    workbooks = [read_workbook(p) for p in sorted(inbox.glob("*.xlsx"))]
    result = validate_workbooks(workbooks, year=YEAR, finance_dept=FINANCE)
    assert any(f.code == "R115" for f in result.findings)
    for wb in workbooks:
        direct = write_feedback(wb, [f for f in result.findings if f.file == wb.file], tmp_path / "direct")
        assert _cells(repo / OUTBOX_DIR / str(YEAR) / direct.name) == _cells(direct)
    # validation keeps no whole workbook: the layouts carry no rows
    assert all(s.frame.empty for wb in result.layouts for s in wb.sheets.values())
    assert len(result.cells) == result.counts()["read"]


def test_indicators_feedback_writes_the_same_bytes_again(tmp_path: Path) -> None:
    """After later releases too: each year is validated again against the library its rebuild saw."""
    repo = tmp_path / "repo"
    _rebuild(_inbox(tmp_path / "inbox2025", 2025), repo, 2025)
    _rebuild(_inbox(tmp_path / "inbox2026"), repo)
    first = {year: _files(repo / OUTBOX_DIR / str(year)) for year in (2025, YEAR)}
    assert len(first[YEAR]) == 4
    record = json.loads(
        (repo / ".indicators-cache" / "validated" / f"{YEAR}.json").read_text(encoding="utf-8")
    )
    assert record["base_sha"] == git(repo, "rev-parse", "v2025^{commit}").strip()

    shutil.rmtree(repo / OUTBOX_DIR)
    for year in (2025, YEAR):
        assert main(["feedback", "--year", str(year), "--repo", str(repo)]) == 0
        assert _files(repo / OUTBOX_DIR / str(year)) == first[year]
    assert main(["feedback", "--year", str(YEAR), "--repo", str(repo), "--out", str(tmp_path / "out")]) == 0
    assert _files(tmp_path / "out") == first[YEAR]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_workbook_withdrawn_from_the_inbox_leaves_no_stale_feedback(published: tuple[Path, Path]) -> None:
    inbox, repo = published
    (inbox / "204.xlsx").unlink()
    assert main(["feedback", "--year", str(YEAR), "--repo", str(repo)]) == 0
    assert "204" + FEEDBACK_SUFFIX not in _files(repo / OUTBOX_DIR / str(YEAR))


def test_a_county_pull_receives_no_outbox(published: tuple[Path, Path], tmp_path: Path) -> None:
    _inbox_dir, repo = published
    into = tmp_path / "county" / "upstream"
    pull(str(repo), None, into)
    received = [p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()]
    assert any(p.startswith("library/") for p in received)
    assert not [p for p in received if FEEDBACK_SUFFIX in p or OUTBOX_DIR in p]


def test_an_existing_deployment_repo_gets_the_ignore_line_in_a_commit_of_its_own(tmp_path: Path) -> None:
    root = tmp_path / "bureau"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("*.tmp\n", encoding="utf-8")
    git(root, "add", ".gitignore")
    git(root, "-c", "user.name=x", "-c", "user.email=x@y", "commit", "-qm", "own ignore")
    open_repo(root)
    lines = (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "*.tmp" and f"{OUTBOX_DIR}/" in lines  # the bureau's own lines stay
    assert git(root, "status", "--porcelain") == ""
    assert ".gitignore" in git(root, "show", "--name-only", "--format=", "HEAD")
    head = git(root, "rev-parse", "HEAD")
    open_repo(root)  # nothing more to add: no new commit
    assert git(root, "rev-parse", "HEAD") == head


def test_feedback_without_submissions_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"
    open_repo(repo)
    assert main(["feedback", "--year", str(YEAR), "--repo", str(repo)]) == 2
    assert "没有 2026 年度的提交工作簿" in capsys.readouterr().err
    assert not (repo / OUTBOX_DIR).exists()
