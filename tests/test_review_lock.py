"""`indicators review` writes rules/ and commits them under the deployment's run lock: while a rebuild (or
another review) holds it, review refuses with the lock's Chinese message and exit 2 — or waits with --wait —
and leaves rules/ and HEAD as they were."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from pipelines.cli import main
from pipelines.dedupe.review import REVIEW_COLUMNS, REVIEW_SHEET
from pipelines.store.lock import LOCK_FILE, rebuild_lock
from pipelines.store.release import commit_paths
from pipelines.store.repo import open_repo
from tests.git_env import git, isolate_git

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A deployment repo with one commit, and a filled-in review deciding one pair 合并."""
    isolate_git(tmp_path / "home", monkeypatch)
    repo = tmp_path / "repo"
    open_repo(repo)
    (repo / "indicators.toml").write_text('finance_dept = "101"\n', encoding="utf-8")
    commit_paths(repo, ("indicators.toml", ".gitattributes"), "部署配置")
    filled = tmp_path / "merge_review_filled.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = REVIEW_SHEET
    ws.append([*REVIEW_COLUMNS, "差异模式"])
    ws.append(
        ["ZB000001", "课后服务学生参与率", "ZB000002", "课后服务参与率", 90, "名称相近", "合并", "+学生"]
    )
    wb.save(filled)
    return repo, filled


def _review(repo: Path, filled: Path, *extra: str) -> int:
    return main(["review", str(filled), "--repo", str(repo), "--year", "2026", *extra])


def test_review_refuses_while_the_lock_is_held_and_changes_nothing(deployment, capsys) -> None:
    repo, filled = deployment
    head = git(repo, "rev-parse", "HEAD")
    with rebuild_lock(repo):
        assert _review(repo, filled) == 2
    err = capsys.readouterr().err
    assert "审核表未应用" in err and "另一个重建正在进行" in err and "--wait" in err
    assert not (repo / "rules").exists()
    assert git(repo, "rev-parse", "HEAD") == head


def test_review_refuses_while_another_process_holds_the_lock(deployment, capsys) -> None:
    repo, filled = deployment
    head = git(repo, "rev-parse", "HEAD")
    holder = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pipelines.store.lock import rebuild_lock
        with rebuild_lock({str(repo)!r}):
            print("held", flush=True)
            sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert _review(repo, filled) == 2
    finally:
        proc.communicate("\n", timeout=30)
    err = capsys.readouterr().err
    assert f"进程 {proc.pid}" in err and "审核表未应用" in err
    assert not (repo / "rules").exists()
    assert git(repo, "rev-parse", "HEAD") == head
    # the holder gone, the same review goes through
    assert _review(repo, filled) == 0


def test_review_waits_for_the_lock_with_wait(deployment) -> None:
    repo, filled = deployment
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with rebuild_lock(repo):
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(30)
    threading.Timer(1.0, release.set).start()
    started = time.monotonic()
    try:
        assert _review(repo, filled, "--wait", "30") == 0
    finally:
        release.set()
        thread.join(30)
    assert time.monotonic() - started >= 0.9  # it waited for the holder, then applied
    assert "rules/synonyms.csv" in git(repo, "log", "-1", "--name-only", "--format=%s")


def test_review_without_a_lock_applies_commits_and_releases_the_lock(deployment, capsys) -> None:
    repo, filled = deployment
    assert _review(repo, filled) == 0
    assert "并提交" in capsys.readouterr().out
    log = git(repo, "log", "-1", "--name-only", "--format=%s")
    assert "疑似重复审核" in log and "rules/synonyms.csv" in log
    assert "课后服务参与率" in (repo / "rules" / "synonyms.csv").read_text(encoding="utf-8")
    assert not (repo / LOCK_FILE).exists()
    assert git(repo, "status", "--porcelain") == ""
