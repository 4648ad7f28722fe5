"""Git for the library (gitpython): the deployment repo, its textconv driver, and one commit + annotated
tag per release (the rebuild lock: pipelines/store/lock.py).

Only library/ and reports/ are ever staged by a release; a manual edit there stops the rebuild
instead of being overwritten. Tags are vY for a year's first release, then vY.1, vY.2 … for
re-publications after corrections; a tag is never moved or rewritten.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import git

from pipelines.store.lock import LOCK_FILE
from pipelines.store.page_pack import store_pages_quietly

RELEASE_PATHS = ("library", "reports")
# Never committed: the staging/previous folders of an atomic publish, the lock, Dagster's home, caches.
EXCLUDED = (
    ".library-staging/",
    ".library-previous/",
    LOCK_FILE,
    f"{LOCK_FILE}.*",  # the lock's private temp file and a stale lock moved aside, for an instant
    ".dagster_home/",  # Dagster's run storage and the rebuild logs (.dagster_home/logs/)
    ".reports-staging/",
    ".indicators-cache/",
)
GITATTRIBUTES_LINES = (
    "# 指标库：Parquet 文件在 git diff / git log -p 中显示为按指标编号排序的文本（indicators textconv）",
    "*.parquet diff=parquet -text",
    "library/manifest.json text eol=lf",
)
# The outbox holds each department's feedback workbooks: sent to the departments, never part of a release
# (committed with it, a province's feedback would grow the repo by megabytes a year and reach every county).
OUTBOX_DIR = "outbox"
GITIGNORE_LINES = (
    "# 各部门的反馈工作簿（indicators rebuild / indicators feedback 写出），不纳入版本库",
    f"{OUTBOX_DIR}/",
)
DEFAULT_NAME = "绩效指标库"
DEFAULT_EMAIL = "indicator-library@localhost"
COUNT_LABELS = (("added", "新增"), ("modified", "修改"), ("retired", "退出"), ("merged", "合并"))
ROW_LABELS = (
    ("read", "读取"),
    ("library", "入库"),
    ("noncore", "非核心"),
    ("excluded", "阶段性排除"),
    ("rejected", "退回"),
)
_TAG_RE = re.compile(r"^v(\d{4})(?:\.(\d+))?$")


class RepoError(RuntimeError):
    """The folder cannot serve as the library's repo."""


class RepoDirtyError(RepoError):
    """library/ or reports/ hold uncommitted changes a rebuild would overwrite."""

    def __init__(self, entries: list[tuple[str, str]]):
        self.files = [path for _, path in entries]
        listing = "\n".join(f"  {label}：{path}" for label, path in entries)
        super().__init__(
            "library/ 或 reports/ 中有未提交的手工修改，重建会覆盖它们，已停止。"
            f"请先提交（git commit）或撤销（git restore / 删除）这些文件后再运行：\n{listing}"
        )


class ReleaseTag(NamedTuple):
    tag: str
    year: int
    n: int  # 0 for vY, N for vY.N
    sha: str  # the commit the tag points at


@dataclass(frozen=True)
class CommitResult:
    committed: bool
    sha: str
    tag: str | None


# --- the repo ---------------------------------------------------------------------------------------


def open_repo(path: Path, create: bool = True) -> git.Repo:
    """The library's repo at path; created (branch main) when missing and `create` is true.

    Makes sure .gitattributes routes *.parquet to the textconv driver and .gitignore leaves out outbox/
    (both committed; an existing repo gets the missing lines in a commit of their own), the driver is set
    in this clone's config, and the publish/lock scratch names are in .git/info/exclude.
    """
    path = Path(path)
    try:
        repo = git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        if not create:
            raise RepoError(f"{path} 不是 git 仓库") from None
        path.mkdir(parents=True, exist_ok=True)
        repo = git.Repo.init(path, initial_branch="main")
    if repo.bare:
        raise RepoError(f"{path} 是裸仓库（bare），不能存放指标库工作目录")
    configure_textconv(repo)
    exclude_paths(working_tree(repo))
    _ensure_config_files(repo)
    return repo


def working_tree(repo: git.Repo) -> Path:
    """The working directory of a non-bare repository (open_repo refuses bare ones)."""
    assert repo.working_tree_dir is not None, "bare repository"
    return Path(repo.working_tree_dir)


def configure_textconv(repo: git.Repo) -> None:
    """Set the parquet diff driver in this clone's local config (git does not carry config on clone)."""
    command = f"{shlex.quote(sys.executable)} -m pipelines.textconv"
    reader = repo.config_reader()
    # cachetextconv stores its cache as notes commits: without any identity git aborts `git log -p`
    # ("unable to auto-detect email address"), so a repo with none gets the product's own.
    missing = {
        key: value
        for key, value in (("name", DEFAULT_NAME), ("email", DEFAULT_EMAIL))
        if not reader.has_option("user", key)
    }
    driver, own = 'diff "parquet"', repo.config_reader("repository")
    if (
        not missing
        and own.get_value(driver, "textconv", "") == command
        and str(own.get_value(driver, "cachetextconv", "")).lower() == "true"
    ):
        return  # already so: .git/config is not rewritten at every open
    with repo.config_writer("repository") as cw:
        cw.set_value('diff "parquet"', "textconv", command)
        cw.set_value('diff "parquet"', "cachetextconv", "true")
        for key, value in missing.items():
            cw.set_value("user", key, value)


def exclude_paths(repo_root: Path, patterns: tuple[str, ...] = EXCLUDED) -> None:
    """Append missing patterns to .git/info/exclude (a plain file: nothing is committed)."""
    git_dir = Path(repo_root) / ".git"
    if not git_dir.is_dir():
        return
    exclude = git_dir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    have = set(text.splitlines())
    missing = [p for p in patterns if p not in have]
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        exclude.write_text(text + sep + "\n".join(missing) + "\n", encoding="utf-8")


def _with_lines(path: Path, lines: tuple[str, ...]) -> None:
    """Append the missing lines to a text file (created when absent); the file's own lines stay."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    have = set(text.splitlines())
    missing = [line for line in lines if line not in have]
    if missing:
        sep = "" if not text or text.endswith("\n") else "\n"
        path.write_text(text + sep + "\n".join(missing) + "\n", encoding="utf-8")


def _ensure_config_files(repo: git.Repo) -> None:
    """.gitattributes and .gitignore hold the product's lines, committed (one commit for a new repo)."""
    root = working_tree(repo)
    _with_lines(root / ".gitattributes", GITATTRIBUTES_LINES)
    _with_lines(root / ".gitignore", GITIGNORE_LINES)
    names = (".gitattributes", ".gitignore")
    if _has_head(repo):  # one status for both files: the lines of those git sees changed
        status = repo.git.status("--porcelain=v1", "-z", "--", *names).split("\0")
        changed = [name for name in names if any(item[3:] == name for item in status)]
    else:
        changed = list(names)
    if not changed:
        return
    what = {
        ".gitattributes": "Parquet 文件以文本显示差异（.gitattributes）",
        ".gitignore": "反馈工作簿文件夹 outbox/ 不纳入版本库（.gitignore）",
    }
    with _identity(repo):
        repo.git.add("--", *changed)
        # --only: a user's other staged changes stay staged and out of this commit
        repo.git.commit(
            "-m", "配置指标库仓库：" + "；".join(what[n] for n in changed), "--only", "--", *changed
        )


def _has_head(repo: git.Repo) -> bool:
    try:
        repo.head.commit  # noqa: B018 - raises on an unborn branch
    except ValueError:
        return False
    return True


@contextlib.contextmanager
def _identity(repo: git.Repo) -> Iterator[None]:
    """Commit as 绩效指标库 unless the git config names someone (an operator's own identity wins)."""
    reader = repo.config_reader()
    env: dict[str, str] = {}
    if not reader.has_option("user", "name"):
        env |= {"GIT_AUTHOR_NAME": DEFAULT_NAME, "GIT_COMMITTER_NAME": DEFAULT_NAME}
    if not reader.has_option("user", "email"):
        env |= {"GIT_AUTHOR_EMAIL": DEFAULT_EMAIL, "GIT_COMMITTER_EMAIL": DEFAULT_EMAIL}
    with repo.git.custom_environment(**env):
        yield


# --- clean check ------------------------------------------------------------------------------------

_STATUS_ZH = {
    "M": "已修改",
    "A": "已暂存新增",
    "D": "已删除",
    "R": "已重命名",
    "C": "已复制",
    "T": "类型改变",
    "U": "合并冲突",
}


def dirty_release_files(repo: git.Repo) -> list[tuple[str, str]]:
    """(Chinese status, path) of every uncommitted change under library/ and reports/."""
    out = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all", "--", *RELEASE_PATHS)
    entries: list[tuple[str, str]] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        item = fields[i]
        i += 1
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        if code[0] in "RC":
            i += 1  # the rename's source path follows
        if code == "??":
            label = "未跟踪的新文件"
        else:
            letter = code[1] if code[1] != " " else code[0]
            label = _STATUS_ZH.get(letter, "已改动")
            if code[0] != " " and code[1] == " ":
                label += "（已暂存）"
        entries.append((label, path))
    return entries


def ensure_clean(repo: git.Repo) -> None:
    """Raise RepoDirtyError when library/ or reports/ hold changes not made by a committed release."""
    entries = dirty_release_files(repo)
    if entries:
        raise RepoDirtyError(entries)


# --- tags -------------------------------------------------------------------------------------------


def release_tags(repo: git.Repo) -> list[ReleaseTag]:
    """Every release tag (vY, vY.N), in release order: by year, then by re-publication number."""
    tags = []
    for ref in repo.tags:
        m = _TAG_RE.match(ref.name)
        if m:
            tags.append(ReleaseTag(ref.name, int(m.group(1)), int(m.group(2) or 0), ref.commit.hexsha))
    return sorted(tags, key=lambda t: (t.year, t.n))


def latest_release_tag(repo: git.Repo, year: int | None = None) -> ReleaseTag | None:
    """The last release (of `year` when given), or None."""
    tags = [t for t in release_tags(repo) if year is None or t.year == year]
    return tags[-1] if tags else None


def next_release_tag(repo: git.Repo, year: int) -> str:
    """vY for a year's first release, else vY.(N+1)."""
    last = latest_release_tag(repo, year)
    return f"v{year}" if last is None else f"v{year}.{last.n + 1}"


# --- commit -----------------------------------------------------------------------------------------


def commit_message(year: int, counts: dict[str, int], message_extra: str = "") -> str:
    """Chinese commit message: the change counts and the row accounting of the release."""
    changes = "，".join(f"{label} {int(counts.get(key, 0))}" for key, label in COUNT_LABELS)
    subject = f"{year}年度指标库发布：{changes}；入库 {int(counts.get('library', 0))} 行"
    body = []
    if any(key in counts for key, _ in ROW_LABELS):
        body.append("行数：" + "，".join(f"{label} {int(counts.get(key, 0))}" for key, label in ROW_LABELS))
    body += [f"{k}：{v}" for k, v in sorted(counts.items()) if k not in dict(COUNT_LABELS) | dict(ROW_LABELS)]
    if message_extra.strip():
        body.append(message_extra.strip())
    return subject + ("\n\n" + "\n".join(body) if body else "") + "\n"


def commit_release(
    repo: git.Repo, year: int, counts: dict[str, int], *, message_extra: str = ""
) -> CommitResult:
    """Stage and commit library/ and reports/ only, then tag the release (vY, else the next vY.N).

    counts: added / modified / retired / merged (indicator changes) and read / library / noncore /
    excluded / rejected (rows); missing keys count 0. Nothing changed → no commit, no tag.
    """
    root = working_tree(repo)
    if present := [p for p in RELEASE_PATHS if (root / p).exists() or repo.git.ls_files("--", p)]:
        repo.git.add("-A", "--", *present)
    # Pathspecs git knows (in the index or in HEAD): an empty, never-tracked reports/ is not one.
    paths = [p for p in RELEASE_PATHS if repo.git.ls_files("--", p) or _in_head(repo, p)]
    changed = bool(paths) and _staged_changes(repo, paths)
    if not changed:
        last = latest_release_tag(repo, year)
        head = repo.head.commit.hexsha if _has_head(repo) else ""
        return CommitResult(False, head, last.tag if last else None)
    message = commit_message(year, counts, message_extra)
    tag = next_release_tag(repo, year)
    branch = repo.git.symbolic_ref("HEAD")
    before = repo.head.commit.hexsha if _has_head(repo) else ""
    with _identity(repo):
        try:
            # --only with the paths: anything else a user staged stays out of the release commit
            repo.git.commit("-m", message, "--only", "--", *paths)
            sha = repo.head.commit.hexsha
            repo.git.tag("-a", tag, "-m", f"{year}年度指标库发布 {tag}\n\n{message}", sha)
        except BaseException:
            # e.g. the disk filled up between the commit and its tag: a release is a commit AND its
            # tag, so the branch goes back to where it was and a tag this call made is removed.
            _roll_back(repo, branch, before, tag)
            raise
    # The pages in a pack of their own, each a delta of the next year's: left to `git gc`, a page after a
    # decade's 9 is stored against that year's and pays again for every year between (page_pack's doc).
    store_pages_quietly(root)
    return CommitResult(True, sha, tag)


def _roll_back(repo: git.Repo, branch: str, before: str, tag: str) -> None:
    """Undo a half-made release: the branch back to `before` (unborn if ""), the new tag removed."""
    with contextlib.suppress(git.GitCommandError, ValueError):
        now = repo.git.rev_parse("--verify", "-q", branch)
        if now and now != before:
            if tag in {t.name for t in repo.tags} and repo.git.rev_parse(f"{tag}^{{commit}}") == now:
                repo.git.tag("-d", tag)
            if before:
                repo.git.update_ref(branch, before, now)
            else:
                repo.git.update_ref("-d", branch, now)


def _in_head(repo: git.Repo, path: str) -> bool:
    return _has_head(repo) and bool(repo.git.ls_tree("--name-only", "HEAD", "--", path))


def _staged_changes(repo: git.Repo, paths: list[str]) -> bool:
    if _has_head(repo):
        args = ["--cached", "--quiet", "HEAD", "--", *paths]
    else:
        return bool(repo.git.ls_files("--", *paths))
    try:
        repo.git.diff(*args)
    except git.GitCommandError as exc:
        if exc.status == 1:
            return True
        raise
    return False
