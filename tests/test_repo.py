"""Git for the library: repo set-up, clean check, lock, commit + tags, textconv (issue "library" item 6).

Real git repos in tmp_path; git itself is run through subprocess where the test checks what a
person would see (git log -p, git config).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.store.lock import LOCK_FILE, LockBusyError, rebuild_lock
from pipelines.store.publish import LIBRARY_DIR, write_release
from pipelines.store.repo import (
    DEFAULT_EMAIL,
    DEFAULT_NAME,
    RepoDirtyError,
    commit_release,
    ensure_clean,
    latest_release_tag,
    open_repo,
    release_tags,
)
from pipelines.textconv import render
from tests.git_env import git, isolate_git, publish_tables
from tests.library_fixtures import accounting_for, small_rows, small_tables, tables_from_rows

YEAR = 2026
COUNTS = {"added": 12, "modified": 3, "retired": 2, "merged": 4}


@pytest.fixture(autouse=True)
def isolated_git(tmp_path, monkeypatch):
    """No global/system git config: the product's default identity and our config only."""
    isolate_git(tmp_path / "home", monkeypatch)


def release(tables, root: Path, year: int = YEAR, counts: dict | None = None):
    """The two halves of the publish step this file tests: the library written (publish.write_release),
    a report beside it, then commit_release with the given change counts (+ the row accounting)."""
    acc = accounting_for(tables, year)
    shutil.rmtree(root / LIBRARY_DIR, ignore_errors=True)
    write_release(tables, root / LIBRARY_DIR, year=year, accounting=acc)
    report = root / "reports" / str(year) / "CHANGELOG.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"# {year} 年度变更\n\n入库 {acc['library']} 行\n", encoding="utf-8")
    return commit_release(open_repo(root), year, {**(counts or COUNTS), **acc})


def library_hashes(root: Path) -> dict[str, str]:
    lib = root / LIBRARY_DIR
    return {
        p.relative_to(lib).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in lib.rglob("*")
        if p.is_file()
    }


def edited(year: int = YEAR, name: str = "培训班次") -> object:
    inds, uses, depts, sets = small_rows(year)
    inds[0]["name"] = name
    return tables_from_rows(inds, uses, depts, sets)


def test_open_repo_creates_and_configures(tmp_path):
    root = tmp_path / "deploy" / "bureau"
    repo = open_repo(root)
    assert repo.active_branch.name == "main"
    attrs = (root / ".gitattributes").read_text(encoding="utf-8")
    assert "*.parquet diff=parquet" in attrs
    assert git(root, "ls-files") == ".gitattributes\n.gitignore\n"  # committed
    assert git(root, "status", "--porcelain") == ""
    textconv = git(root, "config", "--get", "diff.parquet.textconv").strip()
    assert textconv.endswith("-m pipelines.textconv") and sys.executable in textconv
    assert git(root, "config", "--get", "diff.parquet.cachetextconv").strip() == "true"
    assert git(root, "check-attr", "diff", "--", "library/indicators/208.parquet").strip().endswith("parquet")
    exclude = (root / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines()
    assert {".library-staging/", ".library-previous/", LOCK_FILE, ".dagster_home/"} <= set(exclude)
    author = git(root, "log", "-1", "--format=%an <%ae>").strip()
    assert author == f"{DEFAULT_NAME} <{DEFAULT_EMAIL}>"

    # reopening changes nothing; with create=False a plain folder is refused
    head = repo.head.commit.hexsha
    assert open_repo(root).head.commit.hexsha == head
    with pytest.raises(RuntimeError, match="不是 git 仓库"):
        open_repo(tmp_path / "plain", create=False)


def test_clone_gets_textconv_configured_again(tmp_path):
    root = tmp_path / "bureau"
    release(small_tables(), root)
    clone = tmp_path / "county"
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    assert (
        subprocess.run(["git", "-C", str(clone), "config", "--get", "diff.parquet.textconv"]).returncode == 1
    )
    open_repo(clone, create=False)
    assert "pipelines.textconv" in git(clone, "config", "--get", "diff.parquet.textconv")
    assert git(clone, "status", "--porcelain") == ""


def test_release_cycle_tags_and_reruns(tmp_path):
    root = tmp_path / "bureau"
    first = release(small_tables(), root)
    assert first.committed and first.tag == "v2026"
    repo = open_repo(root)
    assert repo.tags["v2026"].tag is not None  # annotated
    msg = repo.head.commit.message
    assert msg.startswith("2026年度指标库发布：新增 12，修改 3，退出 2，合并 4；入库 ")
    assert "读取" in msg and "退回" in msg
    assert git(root, "log", "-1", "--format=%an").strip() == DEFAULT_NAME
    hashes = library_hashes(root)
    n_commits = len(list(repo.iter_commits()))

    # same inputs: no commit, no tag, same bytes
    again = release(small_tables(), root)
    assert not again.committed and again.sha == first.sha and again.tag == "v2026"
    assert len(list(repo.iter_commits())) == n_commits
    assert library_hashes(root) == hashes
    assert [t.tag for t in release_tags(repo)] == ["v2026"]

    # corrections re-publish the year as v2026.1, v2026.2; earlier tags stay where they were
    second = release(edited(name="培训班次"), root)
    third = release(edited(name="培训期数"), root)
    assert (second.tag, third.tag) == ("v2026.1", "v2026.2")
    assert second.committed and third.committed and len({first.sha, second.sha, third.sha}) == 3
    tags = {t.tag: t.sha for t in release_tags(open_repo(root))}
    assert tags == {"v2026": first.sha, "v2026.1": second.sha, "v2026.2": third.sha}

    # the next year starts its own series
    nxt = release(small_tables(2027), root, year=2027)
    assert nxt.tag == "v2027"
    assert [t.tag for t in release_tags(open_repo(root))] == ["v2026", "v2026.1", "v2026.2", "v2027"]
    assert latest_release_tag(open_repo(root)).tag == "v2027"
    assert latest_release_tag(open_repo(root), 2026).n == 2
    assert git(root, "status", "--porcelain") == ""


def test_operator_identity_wins(tmp_path):
    root = tmp_path / "bureau"
    open_repo(root)
    git(root, "config", "user.name", "张科长")
    git(root, "config", "user.email", "zhang@czj.example")
    release(small_tables(), root)
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn").strip() == "张科长 <zhang@czj.example>|张科长"


def test_only_library_and_reports_are_committed(tmp_path):
    root = tmp_path / "bureau"
    open_repo(root)
    (root / "indicators.toml").write_text('finance_dept = "101"\n', encoding="utf-8")  # untracked
    (root / "inbox").mkdir()
    (root / "inbox" / "101_2026.xlsx").write_bytes(b"PK")
    (root / "staged.txt").write_text("已暂存但不属于发布", encoding="utf-8")
    git(root, "add", "staged.txt")
    result = release(small_tables(), root)
    files = git(root, "show", "--name-only", "--format=", result.sha).split()
    assert files and all(f.startswith(("library/", "reports/")) for f in files)
    status = git(root, "status", "--porcelain")
    assert "?? indicators.toml" in status and "?? inbox/" in status and "A  staged.txt" in status
    assert ".library" not in status and LOCK_FILE not in status


def test_dirty_library_or_reports_refuse_to_run(tmp_path):
    root = tmp_path / "bureau"
    release(small_tables(), root)
    repo = open_repo(root)
    ensure_clean(repo)

    target = root / "library" / "indicators" / "208.parquet"
    original = target.read_bytes()
    target.write_bytes(original + b"x")
    with pytest.raises(RepoDirtyError, match="未提交") as err:
        ensure_clean(repo)
    assert "library/indicators/208.parquet" in str(err.value) and "已修改" in str(err.value)
    target.write_bytes(original)
    ensure_clean(repo)

    (root / "reports" / "2026" / "手工笔记.md").write_text("临时", encoding="utf-8")
    with pytest.raises(RepoDirtyError) as err:
        ensure_clean(repo)
    assert err.value.files == ["reports/2026/手工笔记.md"] and "未跟踪" in str(err.value)
    (root / "reports" / "2026" / "手工笔记.md").unlink()

    (root / "library" / "departments.parquet").unlink()
    git(root, "add", "-A", "library")
    with pytest.raises(RepoDirtyError, match="已删除"):
        ensure_clean(repo)

    # elsewhere in the work tree is none of its business
    git(root, "reset", "-q", "--hard")
    (root / "notes.md").write_text("x", encoding="utf-8")
    ensure_clean(repo)


def test_lock_excludes_a_second_rebuild(tmp_path):
    root = tmp_path / "bureau"
    with rebuild_lock(root) as path:
        holder = json.loads(path.read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        with pytest.raises(LockBusyError, match="另一个重建正在进行"), rebuild_lock(root):
            pass
        assert path.exists()  # the refused attempt did not remove the holder's lock
    assert not (root / LOCK_FILE).exists()
    with rebuild_lock(root):  # free again
        pass


def test_stale_lock_is_taken_over_but_not_a_foreign_one(tmp_path):
    root = tmp_path / "bureau"
    root.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = root / LOCK_FILE
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}), encoding="utf-8")
    with rebuild_lock(root) as path:
        assert json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert not lock.exists()

    lock.write_text(json.dumps({"pid": dead.pid, "host": "another-host"}), encoding="utf-8")
    with pytest.raises(LockBusyError, match="another-host"), rebuild_lock(root):
        pass
    lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}), encoding="utf-8")
    with pytest.raises(LockBusyError), rebuild_lock(root):
        pass


def two_parts(name: str = "培训班次（会议次数）"):
    """Class 201 and 共性 only: few files, so git starts the textconv driver few times."""
    inds, uses, depts, sets = small_rows()
    inds[0]["name"] = name
    keep = {i["indicator_id"] for i in inds if i["function_class"] == "201" or i["scope"] == "共性"}
    return tables_from_rows(
        [i for i in inds if i["indicator_id"] in keep],
        [u for u in uses if u["indicator_id"] in keep],
        depts,
        [s for s in sets if s["outcome"] != "rejected"],
    )


def test_git_log_shows_indicator_rows_as_text(tmp_path):
    root = tmp_path / "bureau"
    release(two_parts(), root)
    release(two_parts("培训班次"), root)
    log = git(root, "log", "-p", "--", "library/")
    assert "Binary files" not in log
    assert "+SZ-G000001\t培训（会议）天数\t" in log and "usages/2026/common.us.parquet" in log
    assert "+SZ-X000001\t培训班次（会议次数）\t" in log  # first release: the row added
    assert "-SZ-X000001\t培训班次（会议次数）\t" in log  # second: old line out …
    assert "+SZ-X000001\t培训班次\t" in log  # … new line in
    diff = git(root, "diff", "v2026", "v2026.1", "--", "library/indicators/")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(changed) == 2 and all("SZ-X000001" in line for line in changed)


def test_textconv_never_fails(tmp_path):
    text = tmp_path / "manifest.json"
    text.write_text('{"year": 2026}\n', encoding="utf-8")
    for target in (text, tmp_path / "missing.parquet"):
        run = subprocess.run(
            [sys.executable, "-m", "pipelines.textconv", str(target)],
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        assert run.returncode == 0
        assert len(run.stdout.splitlines()) == 1 and "无法以文本显示" in run.stdout


def test_textconv_renders_sorted_rows(tmp_path):
    root = tmp_path / "repo"
    publish_tables(root, small_tables(), YEAR)
    lines = render(root / "library" / "indicators" / "208.parquet").splitlines()
    assert lines[0].startswith("# 规范指标（indicators），共 5 行")
    ids = [line.split("\t")[0] for line in lines[1:]]
    assert ids == sorted(ids) and len(ids) == 5
    retired = next(line for line in lines if line.startswith("SZ-X000099"))
    assert "aliases=档案整理卷数、整理档案数量" in retired and "retired_year=2026" in retired
    usages = render(root / "library" / "usages" / "2026" / "208.us.parquet").splitlines()
    assert usages[0].startswith("# 指标使用（usages），共 4 行")
    assert all(line.count("\t") == 6 for line in usages[1:])
