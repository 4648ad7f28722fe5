"""Every failure of a command ends in a Chinese message and a documented exit code (issue 11, point 14):
0 ok, 1 input errors / refusals, 2 usage or environment (read-only, full disk, permissions, busy repo),
3 internal error with the traceback in a log file."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import git
import pytest

from pipelines.cli import main
from pipelines.common import errors
from pipelines.store.lock import LockBusyError
from pipelines.store.repo import RepoDirtyError


@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/srv/bureau/.dagster_home"), 2, "只读"),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/bureau/x"), 2, "没有读写权限"),
        (OSError(errno.ENOSPC, "No space left on device"), 2, "磁盘空间已满"),
        (sqlite3.OperationalError("disk I/O error"), 2, "磁盘读写出错"),
        (sqlite3.OperationalError("database or disk is full"), 2, "磁盘空间已满"),
        (
            git.GitCommandError(
                ["git", "commit"], 128, b"fatal: sha1 file 'x' write error. Out of diskspace"
            ),
            2,
            "磁盘空间已满",
        ),
        (LockBusyError("另一个重建正在进行"), 2, "另一个重建正在进行"),
        (RepoDirtyError([("已修改", "reports/2026/review.html")]), 1, "手工修改"),
        (ValueError("规则编号重复：S001"), 1, "规则编号重复"),
    ],
)
def test_known_failures_have_chinese_words_and_their_code(exc, code, words):
    verdict = errors.classify(exc)
    assert verdict is not None and verdict.exit_code == code and words in verdict.message


def test_wrapped_os_error_is_found_through_the_chain():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", "/srv/x")
        except OSError as inner:
            raise RuntimeError("while writing") from inner
    except RuntimeError as outer:
        verdict = errors.classify(outer)
    assert verdict is not None and verdict.exit_code == 2 and "/srv/x" in verdict.message


@pytest.mark.parametrize("exc", [KeyError("project_category"), TypeError("x"), ValueError("bad value")])
def test_bugs_are_not_dressed_up(exc):
    assert errors.classify(exc) is None


def test_dagster_step_error_classified_by_its_cause():
    verdict = errors.classify_step(
        "DagsterExecutionStepExecutionError",
        'Error occurred while executing op "published_release"',
        [("PermissionError", "[Errno 13] Permission denied: '/srv/bureau/library'")],
    )
    assert verdict is not None and verdict.exit_code == 2 and "/srv/bureau/library" in verdict.message
    assert errors.classify_step("DagsterExecutionStepExecutionError", "x", [("KeyError", "'a'")]) is None


def test_broken_deployment_settings_are_a_usage_error(tmp_path: Path, capsys):
    repo = tmp_path / "bureau"
    repo.mkdir()
    (repo / "indicators.toml").write_text('finance_dept = "101\n', encoding="utf-8")  # unterminated
    inbox = tmp_path / "in"
    inbox.mkdir()
    code = main(["rebuild", "--year", "2026", "--submissions", str(inbox), "--repo", str(repo)])
    err = capsys.readouterr().err
    assert code == 2 and "indicators.toml" in err and "Traceback" not in err


def test_bad_wait_is_a_usage_error(tmp_path: Path, capsys):
    code = main(["rebuild", "--year", "2026", "--submissions", str(tmp_path), "--wait", "-1"])
    assert code == 2 and "--wait" in capsys.readouterr().err
