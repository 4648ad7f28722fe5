"""Shared by the tests that drive real git repos and real rebuilds: an isolated git identity, a git
helper, a small inbox of department workbooks, and a release of given tables published as a rebuild
publishes it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipelines.consolidate.changes import ChangeSet
from pipelines.store.release import head_sha, publish_release, stage_release
from pipelines.store.repo import CommitResult
from schemas.library import LibraryTables
from tests.library_fixtures import accounting_for
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

GIT_IDENTITY_VARS = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_DIR",
)
DEPARTMENTS = (("201", "教育局"), ("202", "卫健委"), ("203", "民政局"), ("204", "交通局"))


def isolate_git(home: Path, mp: pytest.MonkeyPatch) -> None:
    """No global/system git config and no inherited identity: the product's default identity only."""
    home.mkdir(parents=True, exist_ok=True)
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.delenv("XDG_CONFIG_HOME", raising=False)
    for var in GIT_IDENTITY_VARS:
        mp.delenv(var, raising=False)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def small_inbox(folder: Path, year: int = 2026, depts: int = 3, suffix: str = "") -> Path:
    """`depts` workbooks of 3 rows each (read = 3 × depts); `suffix` makes the names one run's own."""
    folder.mkdir(parents=True, exist_ok=True)
    for code, name in DEPARTMENTS[:depts]:
        rows = [
            project_row(project=f"{name}项目", name=f"{name}服务人次{suffix}", unit="人次"),
            project_row(
                project=f"{name}项目",
                level1="效益指标",
                level2="社会效益指标",
                name=f"{name}覆盖率",
                unit="%",
                target=95,  # a 覆盖率 above 100 is R115
            ),
        ]
        write_workbook(
            folder / f"{code}.xlsx",
            default_info(year=year, dept_code=code, dept_name=name),
            [core_row()],
            rows,
        )
    return folder


def publish_tables(
    root: Path,
    tables: LibraryTables,
    year: int,
    *,
    accounting: dict[str, int] | None = None,
    reports: dict[str, str] | None = None,
    changes: ChangeSet | None = None,
) -> CommitResult:
    """Publish `tables` the way a rebuild does after consolidation (pipelines.rebuild's stage and publish
    steps): staged, verified, swapped in, library/ and reports/ committed and tagged. `reports`: files
    of reports/<year>/ (relative path → text), written into the staged report folder."""
    staged = stage_release(
        root,
        tables,
        year=year,
        accounting=accounting if accounting is not None else accounting_for(tables, year),
        base_sha=head_sha(root),
    )
    for rel, text in (reports or {}).items():
        path = staged.reports_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return publish_release(staged, changes or ChangeSet())
