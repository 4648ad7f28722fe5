"""The county's mirror repository and the city's source: the only git that talks to someone else's repo.

DIR/.git (made by init_mirror) holds the fetched release commits. Nothing from the source is ever
executed or followed: only `git ls-remote` and `git fetch` talk to it (neither runs the source's hooks);
the mirror is made with an empty template, core.hooksPath=/dev/null, fsck of every received object
(rejects "..", ".git" tree entries), no submodule recursion and a protocol allow-list (file, ssh,
https): `ext::` and other remote helpers that would run commands are refused. A tag is fetched into
scratch refs (FETCH_NS) and recorded under refs/tags only once its release passed verification (adopt).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import git

from pipelines.store.publish import LIBRARY_DIR, REPORTS_DIR
from pipelines.store.repo import GITATTRIBUTES_LINES, configure_textconv, exclude_paths

DEFAULT_INTO = Path("upstream")
STATE_FILE = ".indicators-upstream.json"  # which release DIR holds (pipelines.county.upstream)
STAGING = ".pull-staging"
PREVIOUS = ".pull-previous"
RELEASE_ROOTS = (LIBRARY_DIR, REPORTS_DIR)
MIRROR_BRANCH = "upstream"
FETCH_NS = "refs/indicators-fetch/"  # scratch refs for a tag under verification; emptied after each pull
EXIT_INPUT = 1  # the source's release is not sound (tampered, incomplete, unsafe)
EXIT_USAGE = 2  # the pull cannot be done as asked (unreachable source, unknown tag, wrong folder)
_RELEASE_TAG = re.compile(r"^v(\d{4})(?:\.(\d+))?$")
_TAG_NAME = re.compile(r"^(?!.*\.\.)(?!-)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")

# Passed with -c on every git call (they override any config) and written into the mirror's config.
SAFE_CONFIG = (
    ("core.hooksPath", os.devnull),
    ("core.symlinks", "false"),
    ("core.fsmonitor", "false"),
    ("transfer.fsckObjects", "true"),
    ("fetch.recurseSubmodules", "false"),
    ("submodule.recurse", "false"),
    ("protocol.allow", "never"),
    ("protocol.file.allow", "always"),
    ("protocol.ssh.allow", "always"),
    ("protocol.https.allow", "always"),
)
# Variables that would point git at another repository, index or object store than the mirror.
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
)
# info/attributes outranks any .gitattributes in the city's tree: no clean/smudge filter runs and no
# diff driver the tree names is used (!diff = unspecified); only ours for Parquet.
MIRROR_ATTRIBUTES = ("* !diff -filter -ident -working-tree-encoding", *GITATTRIBUTES_LINES)


class PullError(RuntimeError):
    """The pull was refused; DIR's current copy is as it was. exit_code: 1 unsound release, 2 usage."""

    def __init__(self, message: str, *, files: list[str] | None = None, exit_code: int = EXIT_INPUT):
        super().__init__(message)
        self.files = list(files or [])
        self.exit_code = exit_code


def git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    if not sys.stdin or not sys.stdin.isatty():
        env.setdefault("GIT_TERMINAL_PROMPT", "0")  # a scheduled pull fails instead of waiting for input
    return env


def git_cmd(into: Path, *args: str) -> list[str]:
    cmd = ["git", "-C", str(into)]
    for key, value in SAFE_CONFIG:
        cmd += ["-c", f"{key}={value}"]
    return cmd + list(args)


def run_git(into: Path, *args: str, check: bool = True, stdin: bytes | None = None) -> str:
    proc = subprocess.run(git_cmd(into, *args), input=stdin, capture_output=True, env=git_env(), check=False)
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc.stdout.decode("utf-8", "replace")


def _stderr(exc: subprocess.CalledProcessError) -> str:
    text = (exc.stderr or b"").decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return "；".join(lines[-5:]) or f"git 退出码 {exc.returncode}"


def is_mirror(into: Path) -> bool:
    return run_git(into, "config", "--local", "--get", "indicators.mirror", check=False).strip() == "true"


def init_mirror(into: Path) -> None:
    """Create (or re-assert) the mirror repo at into/.git with the safe configuration."""
    git_dir = into / ".git"
    if not git_dir.exists():
        into.mkdir(parents=True, exist_ok=True)
        # --template= : no hooks or other files copied from a user's or the system's template dir
        run_git(into, "init", "-q", "--template=", f"--initial-branch={MIRROR_BRANCH}")
    have = run_git(into, "config", "--local", "--list", check=False).splitlines()
    for key, value in (*SAFE_CONFIG, ("indicators.mirror", "true")):
        if f"{key.lower()}={value}" not in have:
            run_git(into, "config", "--local", key, value)
    info = git_dir / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "attributes").write_text("\n".join(MIRROR_ATTRIBUTES) + "\n", encoding="utf-8")
    exclude_paths(into, (STATE_FILE, f"{STAGING}/", f"{PREVIOUS}/"))
    configure_textconv(git.Repo(into))


def source_arg(source: str) -> str:
    """The SOURCE git is given: an existing local path made absolute (git runs inside DIR)."""
    source = str(source).strip()
    if not source or source.startswith("-"):
        raise PullError(f"来源「{source}」无效：请给出仓库路径或 URL", exit_code=EXIT_USAGE)
    if "::" in source.split("/", 1)[0]:
        raise PullError(
            f"来源「{source}」使用了不允许的传输方式：只接受本地路径、file://、ssh 或 https 地址",
            exit_code=EXIT_USAGE,
        )
    if "://" not in source:
        local = Path(source).expanduser()
        if local.exists():
            return str(local.resolve())
    return source


def redact_source(source: str) -> str:
    """The source as recorded and shown: no user name or password of a URL."""
    parts = urllib.parse.urlsplit(source)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urllib.parse.urlunsplit(parts._replace(netloc=host))
    return source


def _release_key(tag: str) -> tuple[int, int] | None:
    m = _RELEASE_TAG.match(tag)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def remote_tags(into: Path, source: str) -> dict[str, str]:
    """Tag name → commit sha, as the source advertises them (no objects are transferred)."""
    try:
        out = run_git(into, "ls-remote", "--tags", "--end-of-options", source)
    except subprocess.CalledProcessError as exc:
        raise PullError(
            f"无法读取来源 {redact_source(source)} 的发布标签：{_stderr(exc)}", exit_code=EXIT_USAGE
        ) from None
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref.startswith("refs/tags/"):
            continue
        name = ref[len("refs/tags/") :]
        if not _TAG_NAME.match(name.removesuffix("^{}")):
            continue  # a name git itself would not create: never put it on a command line
        if name.endswith("^{}"):
            peeled[name[:-3]] = sha
        else:
            direct[name] = sha
    return {name: peeled.get(name, sha) for name, sha in direct.items()}


def choose_tag(tags: dict[str, str], ref: str | None, source: str) -> str:
    releases = sorted((k, t) for t in tags if (k := _release_key(t)) is not None)
    shown = "、".join(t for _k, t in releases[-10:]) or "（无）"
    if ref is None:
        if not releases:
            raise PullError(
                f"来源 {redact_source(source)} 中没有发布标签（v年度 或 v年度.N），无法确定要获取的版本",
                exit_code=EXIT_USAGE,
            )
        return releases[-1][1]
    name = ref.strip().removeprefix("refs/tags/")
    if name not in tags:
        raise PullError(
            f"来源 {redact_source(source)} 中没有标签「{ref}」。来源的发布标签：{shown}", exit_code=EXIT_USAGE
        )
    return name


def fetch_tag(into: Path, source: str, tag: str) -> str:
    """Fetch one tag into the scratch namespace; returns the commit it names."""
    scratch = f"{FETCH_NS}{tag}"
    try:
        run_git(
            into,
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            "--end-of-options",
            source,
            f"+refs/tags/{tag}:{scratch}",
        )
    except subprocess.CalledProcessError as exc:
        detail = _stderr(exc)
        if "fsck" in detail.lower() or "error in" in detail.lower():
            raise PullError(
                f"来源版本 {tag} 含有不合规的 git 对象（完整性检查未通过），已拒绝获取：{detail}"
            ) from None
        raise PullError(
            f"无法从来源 {redact_source(source)} 获取版本 {tag}：{detail}", exit_code=EXIT_USAGE
        ) from None
    try:
        return run_git(into, "rev-parse", "--verify", "--quiet", f"{scratch}^{{commit}}").strip()
    except subprocess.CalledProcessError:
        raise PullError(f"来源的标签 {tag} 没有指向一个提交，不是指标库的发布版本") from None


def local_tag_commit(into: Path, tag: str) -> str | None:
    out = run_git(into, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}", check=False)
    return out.strip() or None


def drop_scratch_refs(into: Path) -> None:
    refs = run_git(into, "for-each-ref", "--format=%(refname)", FETCH_NS, check=False).split()
    if refs:
        run_git(into, "update-ref", "--stdin", stdin="".join(f"delete {r}\n" for r in refs).encode())


def adopt(into: Path, tag: str, commit: str, received: tuple[str, ...] = RELEASE_ROOTS) -> None:
    """Record the verified release: refs/tags/<tag>, the mirror branch, an index matching the files."""
    tag_object = run_git(into, "rev-parse", "--verify", f"{FETCH_NS}{tag}").strip()
    run_git(into, "update-ref", f"refs/tags/{tag}", tag_object)
    run_git(into, "update-ref", f"refs/heads/{MIRROR_BRANCH}", commit)
    run_git(into, "symbolic-ref", "HEAD", f"refs/heads/{MIRROR_BRANCH}")
    # The index holds the whole tree (git status stays clean); paths outside what was received
    # (library/ and reports/, or library/ only for an older release) are marked skip-worktree, so git
    # never looks for them on disk. read-tree writes no files.
    run_git(into, "read-tree", commit)
    listed = run_git(into, "ls-files", "-z").split("\0")
    outside = [p for p in listed if p and p.split("/", 1)[0] not in received]
    if outside:
        run_git(
            into,
            "update-index",
            "-z",
            "--skip-worktree",
            "--stdin",
            stdin="".join(f"{p}\0" for p in outside).encode("utf-8", "surrogateescape"),
        )
    run_git(into, "update-index", "-q", "--refresh", check=False)
