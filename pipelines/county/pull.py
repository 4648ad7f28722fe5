"""County pull: copy one published release of the city library into a local folder, verified.

`indicators pull SOURCE [--ref TAG] [--into DIR]` (CONTRACT §4). DIR (default ./upstream) is the county's
mirror of the city's releases: DIR/.git holds the fetched release commits (pipelines.county.mirror),
DIR/library and DIR/reports the files of the release pulled last, DIR/.indicators-upstream.json which
release that is (pipelines.county.upstream).

Steps: list the source's tags and fetch one (mirror) → write its library/ and reports/ into a staging
folder, each file checked against the tag's manifest.json, then the whole release verified (stage) →
swap it in, record the tag (copy, mirror). Any problem → PullError naming the files; DIR's current copy
is not touched. Re-pulling the same release changes nothing; a newer one reports the change set since
the county's current release with pipelines.store.query.diff — the same one `indicators diff` prints.
A release written by an older or newer 1.x version of the library's format is pulled like any other
(docs/SCHEMA_VERSIONS.md); one of another major version is refused with exit code 2.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.common.hashing import sha256_file
from pipelines.county.mirror import (
    DEFAULT_INTO,
    RELEASE_ROOTS,
    STAGING,
    PullError,
    adopt,
    choose_tag,
    drop_scratch_refs,
    fetch_tag,
    init_mirror,
    local_tag_commit,
    redact_source,
    remote_tags,
    source_arg,
)
from pipelines.county.stage import release_entries, stage, tag_tree
from pipelines.county.upstream import (
    check_into,
    recover_interrupted,
    same_copy,
    swap_in,
    upstream_state,
    write_state,
)
from pipelines.store.publish import LIBRARY_DIR, MANIFEST, read_manifest
from pipelines.store.query.diff import ReleaseDiff, render_diff_text
from pipelines.store.query.diff import diff as query_diff


@dataclass
class PullResult:
    """What a pull did. status: new (first pull), updated (moved to another release), unchanged
    (same release, files as published), repaired (same release, local files had been altered)."""

    into: Path
    source: str  # credentials removed
    tag: str
    sha: str
    year: int | None
    status: str
    previous_tag: str | None
    previous_sha: str | None
    files_verified: int  # library files checked against manifest.json
    files_written: int  # library + reports files in the release
    changes: ReleaseDiff | None  # previous release → this one, when the release changed
    reports_verified: int | None = (
        None  # reports/ files checked; None: an older release, reports not received
    )

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


def pull(source: str, ref: str | None = None, into: Path = DEFAULT_INTO) -> PullResult:
    """Bring the release at `ref` (default: the newest vY / vY.N tag) of SOURCE into `into`, verified.

    PullError (exit_code 1) when the release is unsafe, incomplete or altered, naming the files;
    PullError (exit_code 2) when it cannot be fetched as asked. Either way `into` is left as it was.
    """
    into = Path(into).absolute()
    check_into(into)
    src = source_arg(source)
    fresh = not into.exists()
    try:
        return _pull(src, ref, into, redact_source(src))
    except BaseException:
        if fresh and upstream_state(into) is None:
            shutil.rmtree(into, ignore_errors=True)  # a first pull that failed leaves nothing behind
        raise


def _fetch(into: Path, src: str, tag: str) -> str:
    """Fetch the tag; a release tag the mirror already holds must still name the same commit."""
    commit = fetch_tag(into, src, tag)
    known = local_tag_commit(into, tag)
    if known and known != commit:
        raise PullError(
            f"来源的发布标签 {tag} 已被改动：本地记录它指向 {known[:10]}，来源现在指向 {commit[:10]}。"
            "已发布的版本不应改写，已拒绝获取；请向市财政局核实",
            files=[tag],
        )
    return commit


def _state(
    source: str, tag: str, commit: str, staging: Path, files: int, reports: int | None
) -> dict[str, Any]:
    """What .indicators-upstream.json records about the staged release."""
    manifest = read_manifest(staging / LIBRARY_DIR) or {}
    return {
        "source": source,
        "tag": tag,
        "sha": commit,
        "year": manifest.get("year"),
        "schema_version": manifest.get("schema_version"),
        "manifest_sha256": sha256_file(staging / LIBRARY_DIR / MANIFEST),
        "files": files,
        "reports_verified": reports is not None,
    }


def _place(into: Path, staging: Path, state: dict[str, Any], before: dict | None) -> str:
    """Swap the staged release in unless DIR already holds it as published; returns the status."""
    same_release = (before or {}).get("sha") == state["sha"]
    if same_release and same_copy(staging, into):
        shutil.rmtree(staging)
        if before != state:  # e.g. the same release pulled through another URL
            write_state(into, state)
        return "unchanged"
    swap_in(into, staging, state)
    return "new" if before is None else ("repaired" if same_release else "updated")


def _changes(into: Path, before: dict | None, status: str, tag: str) -> ReleaseDiff | None:
    """The change set from the release DIR held before to this one, when the release changed."""
    prev_tag, prev_sha = (before or {}).get("tag"), (before or {}).get("sha")
    if status != "updated" or not prev_sha:
        return None
    prev_ref = prev_tag if prev_tag and local_tag_commit(into, prev_tag) == prev_sha else prev_sha
    return query_diff(into, prev_ref, tag)


def _pull(src: str, ref: str | None, into: Path, shown_source: str) -> PullResult:
    init_mirror(into)
    recover_interrupted(into)
    before = upstream_state(into)
    tag = choose_tag(remote_tags(into, src), ref, src)
    staging = into / STAGING
    try:
        commit = _fetch(into, src, tag)
        entries = release_entries(tag_tree(into, commit), tag)
        verified, reports_verified = stage(into, staging, entries, tag, commit)
        state = _state(shown_source, tag, commit, staging, len(entries), reports_verified)
        status = _place(into, staging, state, before)
        adopt(into, tag, commit, received=RELEASE_ROOTS if reports_verified is not None else (LIBRARY_DIR,))
    finally:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            drop_scratch_refs(into)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return PullResult(
        into=into,
        source=state["source"],
        tag=tag,
        sha=commit,
        year=state["year"],
        status=status,
        previous_tag=(before or {}).get("tag"),
        previous_sha=(before or {}).get("sha"),
        files_verified=verified,
        files_written=verified + 1 + (reports_verified or 0),
        changes=_changes(into, before, status, tag),
        reports_verified=reports_verified,
    )


def pull_summary_text(result: PullResult) -> str:
    """What `indicators pull` prints (Chinese); the change set as `indicators diff` shows it."""
    where = f"{result.tag}（提交 {result.sha[:10]}"
    where += f"，{result.year} 年度）" if result.year else "）"
    checked = f"逐个核对 manifest.json 的 sha256：{result.files_verified} 个文件全部一致"
    if result.reports_verified is not None:
        checked += f"，reports/ 中 {result.reports_verified} 个文件全部一致"
    lines = []
    if result.status == "unchanged":
        lines.append(f"已是最新：{result.into} 中已是 {where}，未做任何改动。{checked}。")
    elif result.status == "repaired":
        lines.append(f"{result.into} 中 {where} 的文件曾被改动，已按来源恢复。{checked}。")
    elif result.status == "new":
        lines.append(f"已获取上级指标库 {where}到 {result.into}。{checked}。")
    else:
        lines.append(f"已从 {result.previous_tag or result.previous_sha} 更新到 {where}。{checked}。")
    if result.reports_verified is None:
        lines.append(
            f"注意：{result.tag} 是较早的发布，其 manifest.json 没有 reports/ 的校验值，无法核对，"
            "因此未获取 reports/（年度报告请向市财政局索取较新的版本）；library/ 已全部核对"
        )
    lines.append(f"来源：{result.source}")
    lib = result.into / LIBRARY_DIR
    lines.append(f"读取：pandas.read_parquet('{lib / 'indicators'}')；git -C {result.into} log -p 查看变更")
    text = "\n".join(lines) + "\n"
    if result.changes is not None:
        text += "\n" + render_diff_text(result.changes)
    return text
