"""County pull (issue 7, item 1): copy a published release from the city's repo, verified.

A real "city" repo gets two releases (v2025; v2026 adds an indicator and retires one) through
pipelines.store.publish + pipelines.store.repo as a rebuild makes them, and is pushed to a bare repo, the one the
county pulls from (by path and by file:// URL). Bad releases are forged with git plumbing as new commits
pushed under new tags: a changed byte, a missing file, an unlisted file, a symlink, a submodule, a ".."
tree entry, files outside library/ and reports/, a moved tag.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.county import pull as county_pull
from pipelines.county import stage as county_stage
from pipelines.county import upstream as county_upstream
from pipelines.county.mirror import PREVIOUS, STAGING, PullError
from pipelines.county.pull import pull, pull_summary_text
from pipelines.county.upstream import upstream_indicators, upstream_state, verify_upstream
from pipelines.store.export import export_library
from pipelines.store.publish import (
    LIBRARY_DIR,
)
from pipelines.store.query.diff import diff as query_diff
from pipelines.store.query.git_read import indicators_at
from pipelines.store.shape import read_release_table
from pipelines.store.verify import verify_release
from tests.git_env import isolate_git, publish_tables
from tests.library_fixtures import (
    department,
    indicator,
    make_id,
    small_rows,
    tables_from_rows,
    usage,
)

NEW_ID = make_id("项目", 50)
NEW_NAME = "档案数字化扫描页数"
RETIRED_ID = make_id("项目", 4)  # 大楼安检巡察次数 (class 201)
RETIRE_REASON = "本年度无部门使用"
TAMPERED_FILE = "library/indicators/208.parquet"
MISSING_FILE = "library/indicators/213.parquet"


def git(root: Path, *args: str, env: dict | None = None, data: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        input=data,
        env={**os.environ, **(env or {})},
    )
    return proc.stdout.decode("utf-8")


def git_bytes(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True).stdout


def release(root: Path, year: int, inds: list[dict], uses: list[dict], sets: list[dict]) -> str:
    tables = tables_from_rows(inds, uses, [department(d, year=year) for d in ("101", "205")], sets)
    reports = {"CHANGELOG.md": f"# {year} 年度指标库变更\n", "某局：2026_反馈.md": "中文文件名\n"}
    result = publish_tables(root, tables, year, reports=reports)
    assert result.committed
    return result.tag


def build_city(root: Path) -> None:
    inds, uses, _depts, sets = small_rows(2025)
    assert release(root, 2025, inds, uses, sets) == "v2025"

    inds26 = copy.deepcopy(inds)
    for row in inds26:
        if row["indicator_id"] == RETIRED_ID:
            row.update(
                status="retired",
                retired_year=2026,
                retire_reason=RETIRE_REASON,
                departments=[],
                last_change_year=2026,
                last_change_type="退出",
                last_change_reason=RETIRE_REASON,
            )
    new = indicator(NEW_ID, NEW_NAME, function_code="2080101", unit="页", year=2026, departments=["101"])
    inds26.append(new)
    active = [r for r in inds26 if r["status"] == "active"]
    for row in active:
        row["last_year"] = 2026
        row["departments"] = row["departments"] or ["101"]
    uses26 = uses + [
        usage(r, dept_code=r["departments"][0], year=2026, source_row=5 + k) for k, r in enumerate(active)
    ]
    assert release(root, 2026, inds26, uses26, sets) == "v2026"


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """(working repo, bare repo) of the city with releases v2025 and v2026."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(home, mp)
        work = tmp_path_factory.mktemp("city") / "work"
        build_city(work)
        bare = work.parent / "city.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        git(work, "push", "-q", str(bare), "main", "--tags")
        yield work, bare


def clone_bare(bare: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--bare", str(bare), str(dest)], check=True)
    return dest


def forge(
    work: Path,
    target: Path,
    tag: str,
    *,
    base: str = "v2026",
    put: dict[str, tuple[str, bytes]] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """A new commit on top of `base` with files put (path → (mode, bytes)) or dropped, pushed to the
    bare repo `target` as refs/tags/<tag>. The city's own refs and working tree are not touched."""
    index = work.parent / f"forge-{tag}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    git(work, "read-tree", f"{base}^{{tree}}", env=env)
    for path in drop:
        git(work, "update-index", "--force-remove", "--", path, env=env)
    for path, (mode, data) in (put or {}).items():
        if mode == "160000":
            obj = data.decode()
        else:
            obj = git(work, "hash-object", "-w", "--stdin", data=data).strip()
        git(work, "update-index", "--add", "--cacheinfo", f"{mode},{obj},{path}", env=env)
    tree = git(work, "write-tree", env=env).strip()
    index.unlink()
    commit = git(work, "commit-tree", tree, "-p", f"{base}^{{commit}}", "-m", f"forged {tag}").strip()
    git(work, "push", "-q", str(target), f"{commit}:refs/tags/{tag}")
    return commit


def snapshot(into: Path) -> dict[str, bytes]:
    """Every file of the county's copy except the mirror's git objects, by relative path."""
    return {
        p.relative_to(into).as_posix(): p.read_bytes()
        for p in sorted(into.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(into).parts
    }


def test_pull_newest_release_by_path(city, tmp_path):
    work, bare = city
    into = tmp_path / "upstream"
    result = pull(str(bare), None, into)

    assert (result.tag, result.status, result.year) == ("v2026", "new", 2026)
    assert result.sha == git(bare, "rev-parse", "v2026^{commit}").strip()
    manifest_files = git(bare, "ls-tree", "-r", "--name-only", "v2026", "--", "library").split()
    assert result.files_verified == len(manifest_files) - 1  # every file but manifest.json itself
    assert verify_release(into / LIBRARY_DIR) == []
    # the county reads exactly the city's v2026 table
    pulled = read_release_table(into / LIBRARY_DIR, "indicators")
    assert pulled.equals(indicators_at(bare, "v2026"))
    assert upstream_indicators(into).equals(pulled)
    assert len(pd.read_parquet(into / LIBRARY_DIR / "indicators")) == len(pulled)  # as the README reads it
    assert (into / "reports" / "2026" / "CHANGELOG.md").is_file()
    assert (into / "reports" / "2026" / "某局：2026_反馈.md").read_text(encoding="utf-8") == "中文文件名\n"
    # only library/, reports/, the state file and the mirror's .git: nothing else from the source
    assert sorted(p.name for p in into.iterdir()) == [
        ".git",
        ".indicators-upstream.json",
        "library",
        "reports",
    ]
    state = upstream_state(into)
    assert state["tag"] == "v2026" and state["sha"] == result.sha and state["source"] == str(bare)
    # the mirror knows the verified tag, its branch is the release, and git sees no local change
    assert git(into, "tag", "-l").split() == ["v2026"]
    assert git(into, "rev-parse", "HEAD").strip() == result.sha
    assert git(into, "status", "--porcelain").strip() == ""
    text = pull_summary_text(result)
    assert "v2026" in text and f"{result.files_verified} 个文件全部一致" in text


def test_pull_by_file_url_at_an_older_tag(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    result = pull(f"file://{bare}", "v2025", into)
    assert (result.tag, result.year) == ("v2025", 2025)
    ids = set(read_release_table(into / LIBRARY_DIR, "indicators")["indicator_id"])
    assert NEW_ID not in ids and RETIRED_ID in ids
    assert read_release_table(into / LIBRARY_DIR, "indicators").equals(indicators_at(bare, "v2025"))


def test_pull_again_changes_nothing(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), None, into)
    before = snapshot(into)
    mtimes = {p: p.stat().st_mtime_ns for p in (into / LIBRARY_DIR).rglob("*")}
    again = pull(str(bare), None, into)
    assert again.status == "unchanged" and not again.changed and again.changes is None
    assert snapshot(into) == before
    assert {p: p.stat().st_mtime_ns for p in (into / LIBRARY_DIR).rglob("*")} == mtimes
    assert "已是最新" in pull_summary_text(again)


def test_newer_release_reports_the_diff_change_set(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), "v2025", into)
    result = pull(str(bare), None, into)
    assert (result.status, result.previous_tag, result.tag) == ("updated", "v2025", "v2026")
    changes = result.changes
    assert list(changes.added["indicator_id"]) == [NEW_ID]
    assert list(changes.retired["indicator_id"]) == [RETIRED_ID]
    assert list(changes.retired["reason"]) == [RETIRE_REASON]
    # the same change set as `indicators diff v2025 v2026` on the city's repo
    city_diff = query_diff(bare, "v2025", "v2026")
    assert changes.counts() == city_diff.counts()
    text = pull_summary_text(result)
    assert "已从 v2025 更新到 v2026" in text and NEW_ID in text and RETIRED_ID in text
    assert read_release_table(into / LIBRARY_DIR, "indicators").equals(indicators_at(bare, "v2026"))
    assert sorted(git(into, "tag", "-l").split()) == ["v2025", "v2026"]


def test_parquet_shows_as_text_in_the_mirror(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), "v2025", into)
    pull(str(bare), "v2026", into)
    # one file: git starts the textconv driver (a Python process) per file and version
    log = git(into, "log", "-p", "-1", "--", "library/indicators/208.parquet")
    assert "Binary files" not in log and NEW_ID in log and NEW_NAME in log
    between = git(into, "diff", "v2025", "v2026", "--", "library/indicators/208.parquet")
    assert "Binary files" not in between and f"+{NEW_ID}" in between


@pytest.mark.parametrize(
    ("kind", "named"),
    [("tampered", TAMPERED_FILE), ("missing", MISSING_FILE), ("unlisted", "library/indicators/999.parquet")],
)
def test_unsound_release_is_refused_and_the_copy_kept(city, tmp_path, kind, named):
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    if kind == "tampered":
        data = bytearray(git_bytes(work, "show", f"v2026:{TAMPERED_FILE}"))
        data[len(data) // 2] ^= 0x01  # one byte, same size
        forge(work, source, "v2026.1", put={TAMPERED_FILE: ("100644", bytes(data))})
    elif kind == "missing":
        forge(work, source, "v2026.1", drop=(MISSING_FILE,))
    else:
        forge(
            work, source, "v2026.1", put={named: ("100644", git_bytes(work, "show", f"v2026:{MISSING_FILE}"))}
        )
    into = tmp_path / "u"
    pull(str(source), "v2025", into)
    before, tags = snapshot(into), git(into, "tag", "-l")

    with pytest.raises(PullError) as err:
        pull(str(source), None, into)  # the newest tag is the bad v2026.1
    assert err.value.exit_code == 1
    assert named in str(err.value) and named in err.value.files
    assert "v2026.1" in str(err.value) and "拒绝" in str(err.value)
    assert snapshot(into) == before  # byte for byte, state file included
    assert git(into, "tag", "-l") == tags  # a refused tag is never recorded
    assert not (into / STAGING).exists() and not (into / PREVIOUS).exists()
    # the good release is still there to pull
    assert pull(str(source), "v2026", into).status == "updated"


@pytest.mark.parametrize(
    ("path", "mode"),
    [("library/evil", "120000"), ("reports/2026/evil", "120000"), ("library/sub", "160000")],
)
def test_symlink_or_submodule_is_never_written(city, tmp_path, path, mode):
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    data = b"/etc/passwd" if mode == "120000" else git(work, "rev-parse", "v2025^{commit}").strip().encode()
    forge(work, source, "evil-1", put={path: (mode, data)})
    into = tmp_path / "u"
    pull(str(source), "v2025", into)
    before = snapshot(into)
    with pytest.raises(PullError) as err:
        pull(str(source), "evil-1", into)
    assert err.value.exit_code == 1 and path in err.value.files
    assert ("符号链接" if mode == "120000" else "子模块") in str(err.value)
    assert snapshot(into) == before
    assert not any(p.is_symlink() or p.name in ("evil", "sub") for p in into.rglob("*"))


def test_dotdot_tree_entry_is_refused(city, tmp_path):
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    blob = git(work, "hash-object", "-w", "--stdin", data=b"owned").strip()
    lib = git(work, "ls-tree", "v2026:library") + f"100644 blob {blob}\t..\n"
    lib_tree = git(work, "mktree", data=lib.encode()).strip()
    root = "".join(
        (f"040000 tree {lib_tree}\tlibrary\n" if line.endswith("\tlibrary") else line + "\n")
        for line in git(work, "ls-tree", "v2026").splitlines()
    )
    tree = git(work, "mktree", data=root.encode()).strip()
    commit = git(work, "commit-tree", tree, "-p", "v2026^{commit}", "-m", "dotdot").strip()
    git(work, "push", "-q", str(source), f"{commit}:refs/tags/dotdot")
    into = tmp_path / "u"
    with pytest.raises(PullError) as err:
        pull(str(source), "dotdot", into)
    assert err.value.exit_code == 1 and "dotdot" in str(err.value)
    assert not into.exists()  # a first pull that was refused leaves nothing behind
    assert not (tmp_path / "owned").exists() and "owned" not in str(snapshot(tmp_path)).lower()
    # git's fsck stopped this one at fetch; the path check stands behind it on its own
    for bad in ("library/../x", "reports/a/../../x", "library/.git/config", "library/a\\b", "library//x"):
        entry = county_stage.Entry("100644", "blob", blob, 5, bad)
        with pytest.raises(PullError) as err:
            county_stage.release_entries([entry], "t")
        assert bad in err.value.files


def test_files_outside_library_and_reports_are_ignored_and_no_hook_runs(city, tmp_path):
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    marker = tmp_path / "hook-ran"
    script = f"#!/bin/sh\ntouch {marker}\n".encode()
    forge(
        work,
        source,
        "v2026.1",
        put={
            "evil.sh": ("100755", script),
            "hooks/post-checkout": ("100755", script),
            ".gitattributes": ("100644", b"* filter=evil diff=evil\n"),
            "rules/x.csv": ("100644", b"a,b\n"),
        },
    )
    for hook in (
        "pre-receive",
        "post-receive",
        "update",
        "post-update",
        "reference-transaction",
        "pre-upload-pack",
    ):
        (source / "hooks" / hook).write_bytes(script)
        (source / "hooks" / hook).chmod(0o755)
    into = tmp_path / "u"
    result = pull(str(source), None, into)
    assert result.tag == "v2026.1"
    assert sorted(p.name for p in into.iterdir()) == [
        ".git",
        ".indicators-upstream.json",
        "library",
        "reports",
    ]
    assert not marker.exists()
    assert git(into, "status", "--porcelain").strip() == ""
    assert git(into, "config", "--get", "core.hooksPath").strip() == os.devnull


def test_a_moved_tag_is_refused(city, tmp_path):
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    into = tmp_path / "u"
    pull(str(source), "v2026", into)
    before = snapshot(into)
    # the city (or someone) re-points v2026 at another commit with the same files
    moved = forge(work, source, "moved", base="v2026")
    git(source, "tag", "-f", "v2026", moved)
    with pytest.raises(PullError) as err:
        pull(str(source), "v2026", into)
    assert err.value.exit_code == 1 and "已被改动" in str(err.value)
    assert snapshot(into) == before


def test_interrupted_swap_is_undone(city, tmp_path, monkeypatch):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), "v2025", into)
    before = snapshot(into)

    def power_cut(*_a, **_k):
        raise OSError("断电")

    # 1. the swap fails midway in-process: undone at once
    monkeypatch.setattr(county_upstream, "write_state", power_cut)
    with pytest.raises(OSError):
        pull(str(bare), "v2026", into)
    assert snapshot(into) == before
    # 2. the process dies midway (no clean-up ran): the next pull undoes it first
    for module in (county_upstream, county_pull):
        monkeypatch.setattr(module, "recover_interrupted", lambda _into: [])
    with pytest.raises(OSError):
        pull(str(bare), "v2026", into)
    assert (into / PREVIOUS).exists()
    monkeypatch.undo()
    assert county_upstream.recover_interrupted(into)
    assert snapshot(into) == before
    assert pull(str(bare), "v2026", into).status == "updated"


def test_local_edit_of_the_copy_is_repaired(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), None, into)
    before = snapshot(into)
    assert verify_upstream(into) == []
    target = into / TAMPERED_FILE
    target.write_bytes(target.read_bytes()[:-1] + b"\0")
    assert any("208.parquet" in p for p in verify_upstream(into))
    result = pull(str(bare), None, into)
    assert result.status == "repaired" and snapshot(into) == before


@pytest.mark.parametrize("bad", ["", "-uhack", "ext::sh -c touch% {marker}", "does/not/exist"])
def test_bad_source_is_a_usage_error(city, tmp_path, bad):
    marker = tmp_path / "pwned"
    into = tmp_path / "u"
    with pytest.raises(PullError) as err:
        pull(bad.format(marker=marker), None, into)
    assert err.value.exit_code == 2
    assert not marker.exists() and not into.exists()


def test_unknown_tag_lists_the_releases(city, tmp_path):
    _work, bare = city
    with pytest.raises(PullError) as err:
        pull(str(bare), "v1999", tmp_path / "u")
    assert err.value.exit_code == 2 and "v2025" in str(err.value) and "v2026" in str(err.value)


def test_refuses_a_folder_that_is_not_its_own(city, tmp_path):
    work, bare = city
    mine = tmp_path / "county"
    shutil.copytree(work, mine)  # a county's own library repo
    head = git(mine, "rev-parse", "HEAD")
    with pytest.raises(PullError) as err:
        pull(str(bare), None, mine)
    assert err.value.exit_code == 2 and git(mine, "rev-parse", "HEAD") == head
    plain = tmp_path / "plain"
    (plain / LIBRARY_DIR).mkdir(parents=True)
    with pytest.raises(PullError):
        pull(str(bare), None, plain)
    assert list((plain / LIBRARY_DIR).iterdir()) == []


def test_pulled_copy_exports(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    pull(str(bare), None, into)
    out = export_library(into, "csv", tmp_path / "x.csv")
    text = out.read_text(encoding="utf-8-sig")
    ind = read_release_table(into / LIBRARY_DIR, "indicators")
    assert all(i in text for i in ind["indicator_id"])


# --- issue 11, point 13: everything a county receives is verified -------------------------------------


def test_a_modified_report_is_refused(city, tmp_path):
    """reports/ are listed in manifest.json with their sha256: a changed review page is not taken."""
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    report = "reports/2026/CHANGELOG.md"
    forge(work, source, "v2026.1", put={report: ("100644", "# 2026 年度指标库变更（被改过）\n".encode())})
    into = tmp_path / "u"
    pull(str(source), "v2026", into)
    before = snapshot(into)
    with pytest.raises(PullError) as err:
        pull(str(source), None, into)
    assert err.value.exit_code == 1 and report in str(err.value) and report in err.value.files
    assert snapshot(into) == before
    # an added, unlisted report is refused too
    forge(work, source, "v2026.2", put={"reports/2026/extra.html": ("100644", b"<html></html>")})
    with pytest.raises(PullError, match="reports/2026/extra.html"):
        pull(str(source), "v2026.2", into)


def test_pull_reports_verified_and_local_report_edit_found(city, tmp_path):
    _work, bare = city
    into = tmp_path / "u"
    result = pull(str(bare), None, into)
    assert result.reports_verified == 4  # CHANGELOG.md and a feedback note, reports/2025 and 2026
    assert "reports/ 中 4 个文件全部一致" in pull_summary_text(result)
    (into / "reports" / "2026" / "CHANGELOG.md").write_text("改过\n", encoding="utf-8")
    assert any("reports/2026/CHANGELOG.md" in p for p in verify_upstream(into))
    assert pull(str(bare), None, into).status == "repaired"
    assert verify_upstream(into) == []


def test_an_older_release_without_reports_in_its_manifest_gets_library_only(city, tmp_path):
    """Decision: a release published before manifests listed reports/ is still pulled (its library is
    verified), but its reports/ are not received at all — nothing unverified reaches the county."""
    work, bare = city
    source = clone_bare(bare, tmp_path / "city.git")
    manifest = json.loads(git(work, "show", "v2026:library/manifest.json"))
    del manifest["reports"]
    text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    forge(work, source, "v2026.1", put={"library/manifest.json": ("100644", text.encode())})
    into = tmp_path / "u"
    result = pull(str(source), "v2026.1", into)
    assert result.reports_verified is None and not (into / "reports").exists()
    assert "未获取 reports/" in pull_summary_text(result)
    assert git(into, "status", "--porcelain").strip() == ""
    assert verify_upstream(into) == []
    assert pull(str(source), "v2026", into).reports_verified == 4  # a newer release brings them
