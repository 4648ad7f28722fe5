"""Stage → verify → publish one year's release: the seam between consolidation and git.

stage_release writes the library (and then the report) into git-ignored staging folders of the
deployment repo; the blocking checks read them there; publish_release swaps them in under the rebuild
lock and commits library/ and reports/ with a tag. Anything failing before the commit restores the
last published release exactly (from the swap's backup, or from git HEAD).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import git
import pandas as pd

from pipelines.consolidate.changes import ChangeSet
from pipelines.store import publish
from pipelines.store.evaluations import carry_evaluation_reports, carry_evaluations
from pipelines.store.lock import rebuild_lock
from pipelines.store.query.git_read import indicators_at
from pipelines.store.repo import (
    EXCLUDED,
    CommitResult,
    _identity,
    commit_release,
    ensure_clean,
    exclude_paths,
    open_repo,
    release_tags,
)
from pipelines.store.shape import current_version, library_version, read_release_table
from pipelines.store.verify import verify_again, verify_reports
from schemas.library import LibraryTables

REPORTS_STAGING = ".reports-staging"


class ConcurrentReleaseError(RuntimeError):
    """The library moved on (another rebuild published) after this run read it."""


@dataclass
class StagedRelease:
    year: int
    repo_root: Path
    manifest: dict
    base_sha: str  # HEAD when the previous release was read ("" for a new repo)
    accounting: dict[str, int] = field(default_factory=dict)

    @property
    def library_dir(self) -> Path:
        return self.repo_root / publish.STAGING_DIR

    @property
    def reports_dir(self) -> Path:
        return self.repo_root / REPORTS_STAGING / str(self.year)


def head_sha(repo_root: Path) -> str:
    return _head(open_repo(repo_root))


def _head(repo: git.Repo) -> str:
    return repo.head.commit.hexsha if repo.head.is_valid() else ""


@dataclass
class PreviousRelease:
    """What a rebuild of `year` builds on.

    tables: the latest published release (ids are matched against it, so a re-publication vY.1 keeps
    every id vY issued). baseline: the indicators of the last release of an EARLIER year — changes are
    reported against it, so vY.1's report and changelog say what year Y changed, and a rerun with the
    same inputs writes the same report (no commit).
    """

    tables: LibraryTables | None
    base_sha: str
    baseline: pd.DataFrame | None
    baseline_tag: str


def load_previous(repo_root: Path, year: int) -> PreviousRelease:
    """Refuses when library/ or reports/ hold manual edits; recovers an interrupted publish first."""
    repo = open_repo(repo_root)
    # Under the rebuild lock (joined when the whole run holds it): another run's publish may not be
    # half-way through the swap this reads or recovers.
    with rebuild_lock(repo_root, join=True):
        publish.recover_interrupted(repo_root)
        ensure_clean(repo)
        base = _head(repo)
        tables = _published_tables(repo_root / publish.LIBRARY_DIR)
        tags = release_tags(repo)
    earlier = [t for t in tags if t.year < year]
    latest = tags[-1] if tags else None
    if not earlier:
        return PreviousRelease(tables, base, None, "")
    base_tag = earlier[-1]
    if tables is not None and latest is not None and latest.tag == base_tag.tag:
        baseline = tables.indicators  # the usual case: no re-publication of this year yet
    else:
        baseline = indicators_at(repo, base_tag.tag)
    return PreviousRelease(tables, base, baseline, base_tag.tag)


def _published_tables(library_dir: Path) -> LibraryTables | None:
    """The published release in today's shape, whatever 1.x version wrote it (docs/SCHEMA_VERSIONS.md);
    ReleaseShapeError (exit 2) for another major. None when there is no release yet."""
    if library_version(library_dir) == current_version():
        return publish.load_library(library_dir)
    return LibraryTables(**{name: read_release_table(library_dir, name) for name in publish.SPECS})


def stage_release(
    repo_root: Path, tables: LibraryTables, *, year: int, accounting: dict[str, int], base_sha: str
) -> StagedRelease:
    repo_root = Path(repo_root)
    exclude_paths(repo_root, publish_excludes())
    # The staging folders are shared by every run of this repo: only the lock holder may clear them.
    with rebuild_lock(repo_root, join=True):
        for leftover in (repo_root / publish.STAGING_DIR, repo_root / REPORTS_STAGING):
            shutil.rmtree(leftover, ignore_errors=True)
        manifest = publish.write_release(
            tables, repo_root / publish.STAGING_DIR, year=year, accounting=accounting
        )
        # A rebuild writes the release anew: the published self-evaluations stay in it.
        library, staging = repo_root / publish.LIBRARY_DIR, repo_root / publish.STAGING_DIR
        manifest = carry_evaluations(library, staging) or manifest
    staged = StagedRelease(year, repo_root, manifest, base_sha, dict(accounting))
    staged.reports_dir.mkdir(parents=True, exist_ok=True)
    carry_evaluation_reports(repo_root / publish.REPORTS_DIR / str(year), staged.reports_dir)
    return staged


def publish_excludes() -> tuple[str, ...]:
    """What a rebuild leaves in the repo that git must never see (added to .git/info/exclude)."""
    return (*EXCLUDED, f"{REPORTS_STAGING}/", ".indicators-cache/")


def publish_release(staged: StagedRelease, changes: ChangeSet) -> CommitResult:
    """Swap the staged library and report in, commit library/ and reports/, tag vY (or vY.N).

    Under the rebuild lock: refuses when the library moved on since this run read it, or when the
    staging folder no longer holds what this run wrote (another run restaged it). manifest.json gets
    the sha256 of every file under reports/ (all years) before the swap. After the commit the tag is
    checked to hold exactly this run's manifest: a run never reports a release it did not publish.
    """
    root = staged.repo_root
    repo = open_repo(root)
    with rebuild_lock(root, join=True):
        ensure_clean(repo)
        if _head(repo) != staged.base_sha:
            raise ConcurrentReleaseError(
                "指标库在本次重建读取之后已被另一次重建发布，本次未发布，已发布的指标库保持不变；请重新运行重建"
            )
        on_disk = publish.read_manifest(staged.library_dir)
        if on_disk is None or publish.manifest_text(on_disk) != publish.manifest_text(staged.manifest):
            raise ConcurrentReleaseError(
                "暂存的新版本已被另一次重建替换，本次未发布，已发布的指标库保持不变；请重新运行重建"
            )
        reports_root = root / publish.REPORTS_DIR
        prefix = f"{staged.year}/"
        reports = {r: p for r, p in publish.files_under(reports_root).items() if not r.startswith(prefix)}
        reports |= {prefix + r: p for r, p in publish.files_under(staged.reports_dir).items()}
        manifest = publish.record_reports(staged.library_dir, reports)
        problems = verify_again(staged.library_dir)  # the blocking checks' verdict when nothing changed
        if problems:
            raise publish.PublishError(problems)
        library, previous = root / publish.LIBRARY_DIR, root / publish.PREVIOUS_DIR
        year_reports = reports_root / str(staged.year)
        swapped = False
        try:
            publish._swap(staged.library_dir, library, previous)
            swapped = True
            shutil.rmtree(year_reports, ignore_errors=True)
            year_reports.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staged.reports_dir), str(year_reports))
            problems = verify_reports(reports_root, manifest)
            if problems:
                raise publish.PublishError(problems)
            counts = {**changes.counts(), **staged.accounting}
            result = commit_release(repo, staged.year, counts, message_extra=_details(changes))
        except BaseException:
            _undo_publish(repo, root, swapped, year_reports)
            raise
        finally:
            shutil.rmtree(previous, ignore_errors=True)
            shutil.rmtree(root / REPORTS_STAGING, ignore_errors=True)
        staged.manifest = manifest
        check_published(repo, result, manifest)
    return result


def check_published(repo: git.Repo, result: CommitResult, manifest: dict) -> None:
    """The commit (and tag) this run reports hold this run's manifest.json, byte for byte."""
    expected = publish.manifest_text(manifest)
    where = result.tag if result.committed and result.tag else result.sha
    try:
        tagged = repo.git.rev_parse(f"{result.tag}^{{commit}}") if result.committed and result.tag else None
        shown = repo.git.show(
            f"{result.sha}:{publish.LIBRARY_DIR}/{publish.MANIFEST}", strip_newline_in_stdout=False
        )
    except git.GitCommandError:
        tagged, shown = None, ""
    if (result.committed and tagged != result.sha) or shown != expected:
        raise ConcurrentReleaseError(
            f"版本 {where} 中的指标库不是本次重建写入的（可能有另一个进程同时写入了仓库），"
            "本次重建不把它报告为自己的发布；请检查 git log 后重新运行重建"
        )


def _undo_publish(repo: git.Repo, root: Path, swapped: bool, year_reports: Path) -> None:
    """Put library/ and reports/ (and the index) back exactly as the last commit has them.

    Works on a full disk: the new library is removed and the previous one renamed back before git
    writes anything; the year's reports are removed before git restores them. Never raises (the
    caller re-raises the error that brought it here); what it cannot undo the next run's clean check
    names.
    """
    library, previous = root / publish.LIBRARY_DIR, root / publish.PREVIOUS_DIR
    with contextlib.suppress(OSError):
        if swapped and previous.exists():
            shutil.rmtree(library, ignore_errors=True)
            os.replace(previous, library)
        elif swapped:  # the first release: there was no library before
            shutil.rmtree(library, ignore_errors=True)
        shutil.rmtree(year_reports, ignore_errors=True)
    with contextlib.suppress(git.GitCommandError, OSError, ValueError):
        if repo.head.is_valid():
            repo.git.restore("--staged", "--source=HEAD", "--", *_known_paths(repo))
        else:
            repo.git.rm("-r", "-q", "--cached", "--ignore-unmatch", "--", "library", "reports")
    with contextlib.suppress(git.GitCommandError, OSError, ValueError):
        _restore_head(repo, root)


def _known_paths(repo: git.Repo) -> list[str]:
    """library / reports, those git knows (in HEAD or the index): a pathspec git does not know fails."""
    return [
        p for p in ("library", "reports") if repo.git.ls_files("--", p) or repo.git.ls_tree("HEAD", "--", p)
    ] or ["library"]


def _restore_head(repo, root: Path) -> None:
    """Put library/ and reports/ back exactly as the last commit has them."""
    if repo.head.is_valid():
        for path in ("library", "reports"):
            if repo.git.ls_tree("--name-only", "HEAD", "--", path):
                repo.git.checkout("HEAD", "--", path)
        repo.git.clean("-fdq", "--", "library", "reports")
    else:
        shutil.rmtree(root / "library", ignore_errors=True)
        shutil.rmtree(root / "reports", ignore_errors=True)


def _details(changes: ChangeSet) -> str:
    lines = []
    for label, frame in (("新增", changes.added), ("退出", changes.retired), ("合并", changes.merged)):
        if len(frame):
            shown = "、".join(f"{r.indicator_id} {r.name}" for r in frame.head(10).itertuples())
            more = f" 等 {len(frame)} 个" if len(frame) > 10 else ""
            lines.append(f"{label}：{shown}{more}")
    if len(changes.modified):
        ids = changes.modified.drop_duplicates("indicator_id").head(10)
        lines.append("修改：" + "、".join(f"{r.indicator_id} {r.name}" for r in ids.itertuples()))
    return "\n".join(lines)


def commit_paths(repo_root: Path, paths: tuple[str, ...], message: str) -> str:
    """Commit exactly `paths` (review rules, deployment settings) on their own, so they are versioned beside
    the library while a rebuild's release commit holds library/ and reports/ only. "" if unchanged."""
    repo = open_repo(repo_root)
    present = [p for p in paths if (Path(repo_root) / p).exists()]
    if not present:
        return ""
    repo.git.add("-A", "--", *present)
    if not repo.git.diff("--cached", "--name-only", "--", *present).strip():
        return ""
    with _identity(repo):
        repo.git.commit("-m", message, "--only", "--", *present)
    return repo.head.commit.hexsha


def commit_rules(repo_root: Path, message: str) -> str:
    """Review decisions (rules/) in a commit of their own."""
    return commit_paths(repo_root, ("rules",), message)
