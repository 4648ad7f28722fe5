"""Publishing under faults (issue 11, points 13 and 14): one writer at a time, honestly reported; every
OS error and every refusal ends in a Chinese message with its exit code, never a stack frame; the last
release is untouched.

Real git repos, real `indicators` processes. The read-only and full-disk cases use a real tmpfs (mounted
by the test: needs root and mount permission, else skipped) so the kernel itself refuses the writes;
the missing-permission case uses `chattr +i` (refuses even root; skipped where unsupported).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines.consolidate.changes import ChangeSet
from pipelines.defs.partitions import yearly_partitions
from pipelines.store.lock import LOCK_FILE, LockBusyError, rebuild_lock
from pipelines.store.publish import LIBRARY_DIR
from pipelines.store.release import ConcurrentReleaseError, publish_release, stage_release
from pipelines.store.verify import verify_reports
from tests.git_env import git, isolate_git, publish_tables, small_inbox
from tests.library_fixtures import accounting_for, small_tables

YEAR = 2026
ROOT = Path(__file__).resolve().parents[1]
INDICATORS = [sys.executable, "-m", "pipelines.cli"]
STACK_FRAME = re.compile(r'^\s*File ".*", line \d+|^Traceback|^\S+Error: |dagster - (ERROR|WARNING)', re.M)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path, monkeypatch):
    isolate_git(tmp_path / "home", monkeypatch)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def inbox(folder: Path, depts: int = 3, suffix: str = "") -> Path:
    return small_inbox(folder, YEAR, depts, suffix)


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INDICATORS, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*INDICATORS, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def rebuild_args(submissions: Path, repo: Path) -> list[str]:
    return ["rebuild", "--year", str(YEAR), "--submissions", str(submissions), "--repo", str(repo)]


def small_release(root: Path) -> str:
    """The last release, made as a rebuild makes it (library + report, commit, tag)."""
    result = publish_tables(root, small_tables(YEAR), YEAR, reports={"CHANGELOG.md": "# 2026 年度变更\n"})
    assert result.committed
    return result.tag or ""


def state(root: Path) -> tuple[str, str, dict[str, bytes]]:
    """HEAD, tags and every file of library/ and reports/: what 'the last release untouched' means."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for base in ("library", "reports")
        for p in sorted((root / base).rglob("*"))
        if p.is_file()
    }
    return git(root, "rev-parse", "HEAD"), git(root, "tag", "-l"), files


def assert_plain_ending(run: subprocess.CompletedProcess, *expected: str) -> None:
    """No stack frame or Dagster log on screen; the last line says what happened, in Chinese."""
    screen = run.stdout + run.stderr
    assert not STACK_FRAME.search(screen), screen
    # CONTRACT §4: a rebuild that ran ends with its rows line; the line before it says what happened
    lines = [line for line in (run.stderr.strip() or run.stdout.strip()).splitlines() if line.strip()]
    if lines[-1].startswith("rows: read="):
        lines = lines[:-1]
    assert re.search(r"[\u4e00-\u9fff]", lines[-1]), lines[-1]
    for text in expected:
        assert text in screen, screen


# --- point 13: one writer at a time, honestly reported ---------------------------------------------------


def printed_release(out: str) -> tuple[str, str]:
    tag = re.search(r"已发布 (v\d{4}(?:\.\d+)?)（提交 ([0-9a-f]{10})）", out)
    assert tag, out
    return tag.group(1), tag.group(2)


def assert_release_is_its_own(repo: Path, out: str, suffix: str, read: int, absent: str = "") -> None:
    """The tag a run printed holds the rows it printed and the names of its own inputs."""
    tag, sha = printed_release(out)
    assert git(repo, "rev-parse", f"{tag}^{{commit}}").startswith(sha)
    manifest = json.loads(git(repo, "show", f"{tag}:library/manifest.json"))
    printed = dict(kv.split("=") for kv in out.strip().splitlines()[-1].removeprefix("rows: ").split())
    assert {k: int(v) for k, v in printed.items()} == manifest["rows"] and manifest["rows"]["read"] == read
    assert "2026/review.html" in manifest["reports"]
    work = repo.parent / f"check-{tag}"
    subprocess.run(
        ["git", "clone", "-q", "--branch", tag, str(repo), str(work)], check=True, capture_output=True
    )
    names = set(pd.read_parquet(work / LIBRARY_DIR / "indicators")["name"])
    assert f"教育局服务人次{suffix}" in names
    assert not absent or f"教育局服务人次{absent}" not in names


def test_two_concurrent_rebuilds_one_publishes_the_other_refuses(tmp_path):
    """Started 1.4 s apart with different inputs: one publishes, the other says the repo is busy."""
    repo = tmp_path / "bureau"
    a_in, b_in = inbox(tmp_path / "a", 3, "甲"), inbox(tmp_path / "b", 4, "乙")
    a = spawn(*rebuild_args(a_in, repo), "--finance-dept", "101")
    time.sleep(1.4)
    b = spawn(*rebuild_args(b_in, repo), "--finance-dept", "101")
    (a_out, a_err), (b_out, b_err) = a.communicate(timeout=300), b.communicate(timeout=300)
    codes = {"a": a.returncode, "b": b.returncode}
    assert sorted(codes.values()) == [0, 2], (a_out, a_err, b_out, b_err)
    winner = "a" if a.returncode == 0 else "b"
    out, suffix, read = (a_out, "甲", 9) if winner == "a" else (b_out, "乙", 12)
    loser_err = b_err if winner == "a" else a_err
    assert "另一个重建正在进行" in loser_err and "--wait" in loser_err
    assert not STACK_FRAME.search(loser_err)
    assert_release_is_its_own(repo, out, suffix, read, absent="乙" if winner == "a" else "甲")
    assert git(repo, "tag", "-l").split() == ["v2026"]
    assert not (repo / LOCK_FILE).exists()


def test_two_concurrent_rebuilds_with_wait_publish_one_after_the_other(tmp_path):
    """With --wait the second run queues: each prints the tag it made, and that tag holds its inputs."""
    repo = tmp_path / "bureau"
    a_in, b_in = inbox(tmp_path / "a", 3, "甲"), inbox(tmp_path / "b", 4, "乙")
    a = spawn(*rebuild_args(a_in, repo), "--finance-dept", "101", "--wait", "300")
    time.sleep(1.4)
    b = spawn(*rebuild_args(b_in, repo), "--finance-dept", "101", "--wait", "300")
    (a_out, a_err), (b_out, b_err) = a.communicate(timeout=600), b.communicate(timeout=600)
    assert (a.returncode, b.returncode) == (0, 0), (a_out, a_err, b_out, b_err)
    tags = {printed_release(a_out)[0], printed_release(b_out)[0]}
    assert tags == {"v2026", "v2026.1"}
    assert_release_is_its_own(repo, a_out, "甲", 9)
    assert_release_is_its_own(repo, b_out, "乙", 12)


def test_restaged_release_is_not_published_as_this_runs(tmp_path):
    """A step run without the whole-run lock (dagster dev) whose staging another run replaced refuses:
    it never commits, let alone reports, a library it did not write."""
    root = tmp_path / "bureau"
    small_release(root)
    before = state(root)
    head = git(root, "rev-parse", "HEAD").strip()
    mine = small_tables(YEAR)
    staged = stage_release(root, mine, year=YEAR, accounting=accounting_for(mine, YEAR), base_sha=head)
    other = small_tables(YEAR)
    other.indicators.loc[0, "name"] = "另一次重建的指标"
    stage_release(root, other, year=YEAR, accounting=accounting_for(other, YEAR), base_sha=head)
    with pytest.raises(ConcurrentReleaseError, match="已被另一次重建替换"):
        publish_release(staged, ChangeSet())
    assert state(root) == before


def test_publish_refuses_when_the_library_moved_on(tmp_path):
    root = tmp_path / "bureau"
    small_release(root)
    tables = small_tables(YEAR)
    staged = stage_release(
        root, tables, year=YEAR, accounting=accounting_for(tables, YEAR), base_sha="0" * 40
    )
    before = state(root)
    with pytest.raises(ConcurrentReleaseError, match="已被另一次重建发布"):
        publish_release(staged, ChangeSet())
    assert state(root) == before


def test_published_manifest_lists_every_report_file(tmp_path):
    root = tmp_path / "bureau"
    small_release(root)  # reports/2026/CHANGELOG.md
    (root / "reports" / "2025").mkdir()
    (root / "reports" / "2025" / "review.html").write_text("<html>2025</html>", encoding="utf-8")
    git(root, "add", "reports")
    git(root, "commit", "-qm", "older report")
    tables = small_tables(YEAR)
    tables.indicators.loc[0, "name"] = "改名后的指标"
    head = git(root, "rev-parse", "HEAD").strip()
    staged = stage_release(root, tables, year=YEAR, accounting=accounting_for(tables, YEAR), base_sha=head)
    (staged.reports_dir / "review.html").write_text("<html>2026</html>", encoding="utf-8")
    result = publish_release(staged, ChangeSet())
    assert result.committed and result.tag == "v2026.1"
    manifest = json.loads(git(root, "show", "v2026.1:library/manifest.json"))
    assert sorted(manifest["reports"]) == [
        "2025/review.html",
        "2026/review.html",
    ]  # all years, this year's new
    assert verify_reports(root / "reports", manifest) == []
    (root / "reports" / "2025" / "review.html").write_text("<html>改过</html>", encoding="utf-8")
    assert any("2025/review.html" in p for p in verify_reports(root / "reports", manifest))


# --- the lock: atomic, stale and empty locks of dead processes taken over --------------------------------


def test_lock_of_a_run_killed_while_creating_it_is_taken_over(tmp_path):
    """A process killed between creating the lock and writing it (the old O_EXCL-then-write) leaves an
    empty file: once older than a few seconds it no longer blocks anyone."""
    root = tmp_path / "bureau"
    root.mkdir()
    lock = root / LOCK_FILE
    killer = textwrap.dedent(
        f"""
        import os, signal
        os.open({str(lock)!r}, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", killer])
    assert proc.returncode == -signal.SIGKILL and lock.exists() and lock.stat().st_size == 0
    with pytest.raises(LockBusyError, match="持有者信息无法读取"), rebuild_lock(root):
        pass  # just created: it may be being written right now
    old = time.time() - 60
    os.utime(lock, (old, old))
    with rebuild_lock(root) as path:
        assert json.loads(path.read_text(encoding="utf-8"))["pid"] == os.getpid()
    assert not lock.exists()


def test_lock_is_never_seen_empty_and_excludes_real_processes(tmp_path):
    """Four processes take the lock five times each (waiting for it): their critical sections never
    overlap, and no reader ever finds the lock file empty."""
    root = tmp_path / "bureau"
    root.mkdir()
    journal = tmp_path / "journal.txt"
    worker = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pipelines.store.lock import rebuild_lock
        for _ in range(5):
            with rebuild_lock({str(root)!r}, wait=60):
                with open({str(journal)!r}, "a") as fh:
                    fh.write(f"in {{os.getpid()}}\\n"); fh.flush()
                    time.sleep(0.05)
                    fh.write(f"out {{os.getpid()}}\\n"); fh.flush()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", worker]) for _ in range(4)]
    empty_seen = 0
    while any(p.poll() is None for p in procs):
        try:
            if (root / LOCK_FILE).read_bytes() == b"":
                empty_seen += 1
        except FileNotFoundError:
            pass
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    lines = journal.read_text().splitlines()
    assert len(lines) == 40
    for start, end in zip(lines[::2], lines[1::2], strict=True):
        assert start.startswith("in ") and end == "out " + start[3:]
    assert empty_seen == 0 and not (root / LOCK_FILE).exists()


def test_a_runs_lock_taken_away_stops_its_publish(tmp_path):
    """Steps join the run's lock only if it is still theirs."""
    root = tmp_path / "bureau"
    with rebuild_lock(root) as path:
        path.write_text(json.dumps({"pid": 1, "host": "elsewhere", "token": "x"}), encoding="utf-8")
        with pytest.raises(LockBusyError, match="已被改动或删除"), rebuild_lock(root, join=True):
            pass
        path.unlink()


# --- point 14: refusals read as refusals --------------------------------------------------------------


def test_year_beyond_the_partitions_is_a_usage_error(tmp_path, capsys):
    """Refused before Dagster starts (it used to end in DagsterUnknownPartitionError, exit 1)."""
    from pipelines.cli import main

    last = int(yearly_partitions.get_partition_keys()[-1])
    submissions = inbox(tmp_path / "in", 1)
    for year, why in ((last + 1, "还没有到"), (2017, "最早可以重建 2018")):
        code = main(
            ["rebuild", "--year", str(year), "--submissions", str(submissions), "--repo", str(tmp_path / "r")]
        )
        out, err = capsys.readouterr()
        assert code == 2, err
        run = subprocess.CompletedProcess([], code, out, err)
        assert_plain_ending(run, f"--year {year} 超出可重建的年度范围", why)
    assert not (tmp_path / "r").exists()


def test_manual_edit_is_refused_in_a_few_chinese_lines(tmp_path):
    repo = tmp_path / "bureau"
    small_release(repo)
    (repo / "reports" / "2026" / "CHANGELOG.md").write_text("手工改过\n", encoding="utf-8")
    before = state(repo)
    run = cli(*rebuild_args(inbox(tmp_path / "in", 1), repo))
    assert run.returncode == 1
    assert_plain_ending(run, "未提交的手工修改", "reports/2026/CHANGELOG.md")
    assert len((run.stdout + run.stderr).strip().splitlines()) <= 4
    assert state(repo) == before and not (repo / LOCK_FILE).exists()


def test_internal_error_exits_3_with_the_traceback_in_the_log(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main

    def broken(*args, **kwargs):
        raise KeyError("project_category")

    monkeypatch.setattr("pipelines.rebuild.normalize", broken)
    repo = tmp_path / "bureau"
    small_release(repo)
    before = state(repo)
    code = main([*rebuild_args(inbox(tmp_path / "in", 1), repo), "--finance-dept", "101"])
    out, err = capsys.readouterr()
    assert code == 3
    assert not STACK_FRAME.search(out + err), out + err
    assert "内部错误" in out and "KeyError" in out and out.strip().splitlines()[-1].startswith("rows: ")
    log = Path(re.search(r"运行日志：(\S+\.log)", out).group(1))
    assert log.parent == repo / ".dagster_home" / "logs"
    text = log.read_text(encoding="utf-8")
    assert "KeyError" in text and "project_category" in text and 'File "' in text  # the stack, kept
    assert state(repo) == before
    assert git(repo, "status", "--porcelain").strip() == ""  # the log is git-ignored

    monkeypatch.setattr("pipelines.store.query.search.search", broken)  # any other command
    code = main(["search", "培训", "--repo", str(repo)])
    err = capsys.readouterr().err
    assert code == 3 and "内部错误" in err and not STACK_FRAME.search(err)
    crash = Path(re.search(r"日志 (\S+\.log)", err).group(1))
    assert "KeyError" in crash.read_text(encoding="utf-8")


# --- OS errors: read-only folder, missing permission, full disk ------------------------------------------


@pytest.fixture
def tmpfs(tmp_path):
    """A real tmpfs mounted for the test (root + mount permission needed, else the test is skipped)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], capture_output=True
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr!r}")
        mounted.append(mnt)
        return mnt

    yield mount
    for m in mounted:
        subprocess.run(["umount", "-l", str(m)], check=False)


def remount(mnt: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mnt)], check=True)


@pytest.mark.parametrize("dagster_home", [False, True])
def test_read_only_deployment_folder(tmp_path, tmpfs, dagster_home):
    """The kernel refuses every write (EROFS, root included): a Chinese message, exit 2, nothing changed."""
    mnt = tmpfs("64m")
    repo = mnt / "bureau"
    small_release(repo)
    if dagster_home:  # the reported case: .dagster_home exists, dagster.yaml cannot be written
        (repo / ".dagster_home").mkdir()
    before = state(repo)
    remount(mnt, "ro")
    run = cli(*rebuild_args(inbox(tmp_path / "in", 1), repo))
    assert run.returncode == 2
    assert_plain_ending(run, "只读", "已发布的指标库保持不变", str(repo))
    remount(mnt, "rw")
    assert state(repo) == before


def test_missing_permission_on_dagster_home(tmp_path):
    """`chattr +i` refuses even root (EPERM): dagster.yaml cannot be created in .dagster_home."""
    repo = tmp_path / "bureau"
    small_release(repo)
    home = repo / ".dagster_home"
    (home / "logs").mkdir(parents=True)
    before = state(repo)
    if subprocess.run(["chattr", "+i", str(home)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        run = cli(*rebuild_args(inbox(tmp_path / "in", 1), repo))
    finally:
        subprocess.run(["chattr", "-i", str(home)], check=True)
    assert run.returncode == 2
    assert_plain_ending(run, "dagster.yaml", "权限", "已发布的指标库保持不变")
    assert state(repo) == before and not (repo / LOCK_FILE).exists()


@pytest.mark.parametrize("left_kib", [0, 1100, 1180])
def test_full_disk(tmp_path, tmpfs, left_kib):
    """A small tmpfs filled up to left_kib free: wherever the run hits the wall (the lock, Dagster's SQLite
    run storage, the parse cache, staging, the git commit or its tag), it ends in a Chinese message, no
    stack frame, and either exit 2 with the last release untouched or — when there was room after all —
    a complete release honestly reported. Never a half-made release or a dirty work tree.
    (Measured on this machine: 0 → the lock, 1100 → Dagster's run storage, 1180 → a step.)"""
    mnt = tmpfs("24m")
    repo = mnt / "bureau"
    small_release(repo)
    before = state(repo)
    filler = mnt / "filler"
    with open(filler, "wb") as fh:
        chunk = b"\0" * (1 << 16)
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
    free = shutil.disk_usage(mnt).free
    with open(filler, "r+b") as fh:  # give back left_kib
        fh.truncate(max(0, filler.stat().st_size - left_kib * 1024 + free))
    run = cli(*rebuild_args(inbox(tmp_path / "in", 3), repo), "--finance-dept", "101")
    filler.unlink()
    assert run.returncode in (0, 2), run.stdout + run.stderr
    assert git(repo, "status", "--porcelain").strip() == ""
    assert not (repo / LOCK_FILE).exists()
    if run.returncode == 0:
        assert_release_is_its_own(repo, run.stdout, "", 9)
    elif "新版本已发布" in run.stderr:  # published, then Dagster could not record the run: said so
        assert_plain_ending(run, "磁盘")
        tag, sha = re.search(r"新版本已发布：(v[\d.]+)（提交 ([0-9a-f]{10})）", run.stderr).groups()
        assert git(repo, "rev-parse", f"{tag}^{{commit}}").startswith(sha)
    else:
        assert_plain_ending(run, "磁盘", "已发布的指标库保持不变")
        assert state(repo) == before


def test_a_release_is_a_commit_and_its_tag_or_nothing(tmp_path, monkeypatch):
    """The disk fills up between the commit and the tag: the branch goes back, the library too."""
    root = tmp_path / "bureau"
    small_release(root)
    before = state(root)
    tables = small_tables(YEAR)
    tables.indicators.loc[0, "name"] = "改名后的指标"
    head = git(root, "rev-parse", "HEAD").strip()
    staged = stage_release(root, tables, year=YEAR, accounting=accounting_for(tables, YEAR), base_sha=head)
    import git as gitpython

    real = gitpython.cmd.Git._call_process

    def no_room_for_tags(self, method, *args, **kwargs):
        if method == "tag" and "-a" in args:
            raise gitpython.GitCommandError(["git", "tag"], 128, b"fatal: No space left on device")
        return real(self, method, *args, **kwargs)

    monkeypatch.setattr(gitpython.cmd.Git, "_call_process", no_room_for_tags)
    with pytest.raises(gitpython.GitCommandError):
        publish_release(staged, ChangeSet())
    monkeypatch.undo()
    assert state(root) == before
    assert git(root, "status", "--porcelain").strip() == ""
