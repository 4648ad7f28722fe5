"""Shared by the tests that drive real git repos and real rebuilds: an isolated git identity, a git
helper, and a small inbox of department workbooks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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
