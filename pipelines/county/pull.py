"""County pull: copy one published release of the city library into a local folder, verified.

`indicators pull SOURCE [--ref TAG] [--into DIR]` (SPEC §4). DIR (default ./upstream) is the county's
mirror of the city's releases: DIR/.git holds the fetched release commits, DIR/library and DIR/reports
the files of the release pulled last, DIR/.indicators-upstream.json which release that is.

Trust: the source is someone else's repository, so nothing from it is ever executed or followed.
- Only `git ls-remote` and `git fetch` talk to it (neither runs the source's hooks); the mirror is made
  with an empty template, core.hooksPath=/dev/null, fsck of every received object (rejects "..", ".git"
  tree entries), no submodule recursion and a protocol allow-list (file, ssh, https): `ext::` and other
  remote helpers that would run commands are refused.
- Files are never checked out. library/ and reports/ of the tag's tree are listed (`git ls-tree`) and
  each blob is written by this module into a staging folder it created itself; an entry that is a
  symlink, a submodule, or whose path is absolute, has "..", ".git" or a backslash is refused, and
  anything outside library/ and reports/ is never read.
- Every library file is checked against library/manifest.json of the same tag (sha256 and size, and
  presence both ways) and the staged library passes pipelines.store.verify.verify_release. So is every file
  under reports/ (manifest.json's "reports" list). A release published before manifests listed reports/
  has nothing to check them against: its reports/ are not received at all (the summary says so), so
  everything a county holds has been verified. Any problem →
  PullError naming the files; DIR's current copy is not touched (the staging folder is removed).
- The verified release replaces the current copy by renames (a journal lets an interrupted swap be
  undone on the next run), then the tag is recorded under refs/tags: the mirror's tags are releases
  that passed verification, never a tag that failed it.
Re-pulling the same release changes nothing; a newer one reports the change set since the county's
current release with pipelines.store.query.diff — the same one `indicators diff` prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pandas as pd

from pipelines.common.hashing import sha256_file
from pipelines.store.publish import (
    LIBRARY_DIR,
    MANIFEST,
    REPORTS_DIR,
    REPORTS_KEY,
    read_manifest,
    read_table,
)
from pipelines.store.query import ReleaseDiff, render_diff_text
from pipelines.store.query import diff as query_diff
from pipelines.store.repo import GITATTRIBUTES_LINES, configure_textconv, exclude_paths
from pipelines.store.verify import verify_release, verify_reports

DEFAULT_INTO = Path("upstream")
STATE_FILE = ".indicators-upstream.json"
STAGING = ".pull-staging"
PREVIOUS = ".pull-previous"
JOURNAL = "swap.json"
RELEASE_ROOTS = (LIBRARY_DIR, "reports")
MIRROR_BRANCH = "upstream"
FETCH_NS = "refs/indicators-fetch/"  # scratch refs for a tag under verification; emptied after each pull
EXIT_INPUT = 1  # the source's release is not sound (tampered, incomplete, unsafe)
EXIT_USAGE = 2  # the pull cannot be done as asked (unreachable source, unknown tag, wrong folder)
MANIFEST_MAX_BYTES = 64 << 20
_RELEASE_TAG = re.compile(r"^v(\d{4})(?:\.(\d+))?$")
_TAG_NAME = re.compile(r"^(?!.*\.\.)(?!-)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
# A backslash (and on Windows a colon: drive letters, alternate streams) could step out of the folder.
_BAD_CHARS = re.compile(r"[\\:\x00-\x1f\x7f]" if os.name == "nt" else r"[\\\x00-\x1f\x7f]")
_FORBIDDEN_NAMES = {".git", ".gitattributes", ".gitmodules"}
_BLOB_MODES = {"100644", "100755"}  # the executable bit is not carried over: every file is written 0644
_MODE_ZH = {"120000": "符号链接", "160000": "子模块"}

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


# --- git plumbing -------------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
    if not sys.stdin or not sys.stdin.isatty():
        env.setdefault("GIT_TERMINAL_PROMPT", "0")  # a scheduled pull fails instead of waiting for input
    return env


def _git_cmd(into: Path, *args: str) -> list[str]:
    cmd = ["git", "-C", str(into)]
    for key, value in SAFE_CONFIG:
        cmd += ["-c", f"{key}={value}"]
    return cmd + list(args)


def _git(into: Path, *args: str, check: bool = True, stdin: bytes | None = None) -> str:
    proc = subprocess.run(_git_cmd(into, *args), input=stdin, capture_output=True, env=_env(), check=False)
    if check and proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc.stdout.decode("utf-8", "replace")


def _stderr(exc: subprocess.CalledProcessError) -> str:
    text = (exc.stderr or b"").decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return "；".join(lines[-5:]) or f"git 退出码 {exc.returncode}"


def _is_mirror(into: Path) -> bool:
    return _git(into, "config", "--local", "--get", "indicators.mirror", check=False).strip() == "true"


def _init_mirror(into: Path) -> None:
    """Create (or re-assert) the mirror repo at into/.git with the safe configuration."""
    git_dir = into / ".git"
    if not git_dir.exists():
        into.mkdir(parents=True, exist_ok=True)
        # --template= : no hooks or other files copied from a user's or the system's template dir
        _git(into, "init", "-q", "--template=", f"--initial-branch={MIRROR_BRANCH}")
    have = _git(into, "config", "--local", "--list", check=False).splitlines()
    for key, value in (*SAFE_CONFIG, ("indicators.mirror", "true")):
        if f"{key.lower()}={value}" not in have:
            _git(into, "config", "--local", key, value)
    info = git_dir / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "attributes").write_text("\n".join(MIRROR_ATTRIBUTES) + "\n", encoding="utf-8")
    exclude_paths(into, (STATE_FILE, f"{STAGING}/", f"{PREVIOUS}/"))
    configure_textconv(git.Repo(into))


def _source_arg(source: str) -> str:
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


def _remote_tags(into: Path, source: str) -> dict[str, str]:
    """Tag name → commit sha, as the source advertises them (no objects are transferred)."""
    try:
        out = _git(into, "ls-remote", "--tags", "--end-of-options", source)
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


def _choose_tag(tags: dict[str, str], ref: str | None, source: str) -> str:
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


def _fetch_tag(into: Path, source: str, tag: str) -> str:
    """Fetch one tag into the scratch namespace; returns the commit it names."""
    scratch = f"{FETCH_NS}{tag}"
    try:
        _git(
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
        return _git(into, "rev-parse", "--verify", "--quiet", f"{scratch}^{{commit}}").strip()
    except subprocess.CalledProcessError:
        raise PullError(f"来源的标签 {tag} 没有指向一个提交，不是指标库的发布版本") from None


def _local_tag_commit(into: Path, tag: str) -> str | None:
    out = _git(into, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}", check=False)
    return out.strip() or None


def _drop_scratch_refs(into: Path) -> None:
    refs = _git(into, "for-each-ref", "--format=%(refname)", FETCH_NS, check=False).split()
    if refs:
        _git(into, "update-ref", "--stdin", stdin="".join(f"delete {r}\n" for r in refs).encode())


# --- the tag's tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    mode: str
    kind: str
    sha: str
    size: int | None
    path: str


def _tree(into: Path, commit: str) -> list[_Entry]:
    out = subprocess.run(
        _git_cmd(into, "ls-tree", "-r", "-l", "-z", "--full-tree", commit),
        capture_output=True,
        env=_env(),
        check=True,
    ).stdout
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, _, raw_path = item.partition(b"\t")
        mode, kind, sha, size = meta.decode("ascii").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        entries.append(_Entry(mode, kind, sha, None if size == "-" else int(size), path))
    return entries


def _unsafe(entry: _Entry) -> str | None:
    """Why an entry under library/ or reports/ must not be written, or None."""
    if entry.mode in _MODE_ZH:
        return _MODE_ZH[entry.mode]
    if entry.mode not in _BLOB_MODES or entry.kind != "blob":
        return f"不是普通文件（模式 {entry.mode}）"
    if entry.path.startswith("/") or _BAD_CHARS.search(entry.path):
        return "路径含有不允许的字符"
    parts = entry.path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "路径含有 . 或 .. 或空段"
    if any(p.lower() in _FORBIDDEN_NAMES for p in parts):
        return "不允许的 git 配置文件"
    try:
        entry.path.encode("utf-8")
    except UnicodeEncodeError:
        return "路径不是合法的 UTF-8"
    return None


def _release_entries(entries: list[_Entry], tag: str) -> list[_Entry]:
    """The blobs of library/ and reports/, after refusing anything unsafe there."""
    wanted, problems = [], []
    seen: dict[str, str] = {}
    for e in entries:
        top = e.path.split("/", 1)[0]
        if top not in RELEASE_ROOTS:
            continue  # never read, never written
        if "/" not in e.path:
            problems.append(f"{e.path}（应为目录，来源中却是{_MODE_ZH.get(e.mode, '文件')}）")
            continue
        why = _unsafe(e)
        if why:
            problems.append(f"{e.path}（{why}）")
            continue
        folded = e.path.casefold()
        if folded in seen:
            problems.append(f"{e.path}（与 {seen[folded]} 仅大小写不同）")
            continue
        seen[folded] = e.path
        wanted.append(e)
    if problems:
        raise PullError(
            f"来源版本 {tag} 含有不安全的条目，已拒绝获取，未写入任何文件，现有的副本保持不变：\n  "
            + "\n  ".join(problems),
            files=[p.split("（", 1)[0] for p in problems],
        )
    return wanted


class _BlobReader:
    """One `git cat-file --batch` process, asked one object at a time (no pipe deadlock)."""

    def __init__(self, into: Path):
        self.proc = subprocess.Popen(
            _git_cmd(into, "cat-file", "--batch"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )

    def chunks(self, sha: str):
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{sha}\n".encode("ascii"))
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob":
            raise PullError(f"git 对象 {sha} 缺失或不是文件内容")
        remaining = int(header[2])
        while remaining:
            chunk = self.proc.stdout.read(min(remaining, 1 << 20))
            if not chunk:
                raise PullError(f"读取 git 对象 {sha} 时意外中断")
            remaining -= len(chunk)
            yield chunk
        self.proc.stdout.read(1)  # the newline after the content

    def read(self, sha: str, limit: int) -> bytes:
        data = bytearray()
        for chunk in self.chunks(sha):
            data += chunk
            if len(data) > limit:
                raise PullError(f"git 对象 {sha} 超过 {limit} 字节，不是指标库的 manifest.json")
        return bytes(data)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc.wait()


def _manifest_files(manifest_bytes: bytes, tag: str) -> tuple[dict[str, dict], dict[str, dict] | None]:
    """manifest.json's library files and its reports/ list (None in a release made before it had one)."""
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 不是合法的 JSON：{exc}", files=["library/manifest.json"]
        ) from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 没有逐个文件的 sha256 清单（files）",
            files=["library/manifest.json"],
        )
    reports = manifest.get(REPORTS_KEY)
    if reports is not None and (
        not isinstance(reports, dict) or not all(isinstance(v, dict) for v in reports.values())
    ):
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 中 reports/ 的校验清单格式不对",
            files=["library/manifest.json"],
        )
    return files, reports


def _stage(into: Path, staging: Path, entries: list[_Entry], tag: str, sha: str) -> tuple[int, int | None]:
    """Write the release into staging, checking library/ and reports/ files against the manifest;
    returns the numbers of library and reports files verified (None: an older release whose manifest
    lists no reports — its reports/ are not written). PullError (staging left for the caller to
    remove) on any fault."""
    prefix = f"{LIBRARY_DIR}/"
    rprefix = f"{REPORTS_DIR}/"
    manifest_path = f"{prefix}{MANIFEST}"
    by_path = {e.path: e for e in entries}
    if manifest_path not in by_path:
        raise PullError(
            f"来源版本 {tag}（{sha[:10]}）没有 library/manifest.json，不是可校验的指标库发布版本",
            files=[manifest_path],
        )
    reader = _BlobReader(into)
    try:
        manifest_bytes = reader.read(by_path[manifest_path].sha, MANIFEST_MAX_BYTES)
        listed, reports = _manifest_files(manifest_bytes, tag)
        if reports is None:  # nothing to verify them against: not received
            entries = [e for e in entries if not e.path.startswith(rprefix)]
        expected = {prefix + r: m for r, m in listed.items()}
        expected |= {rprefix + r: m for r, m in (reports or {}).items()}
        present = {e.path for e in entries} - {manifest_path}
        problems = [
            f"manifest.json 列出的文件在来源版本中不存在：{r}" for r in sorted(set(expected) - present)
        ]
        problems += [f"来源版本中的文件不在 manifest.json 中：{r}" for r in sorted(present - set(expected))]
        for e in entries:
            meta = expected.get(e.path)
            if meta is not None and e.size != meta.get("bytes"):
                problems.append(f"文件大小与 manifest.json 不符（被改动或损坏）：{e.path}")
        if problems:
            raise _refusal(tag, sha, into, problems)

        staging.mkdir(parents=True)
        for e in sorted(entries, key=lambda x: x.path):
            target = staging.joinpath(*e.path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            # O_EXCL | O_NOFOLLOW: only files this function creates, never through a link
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
            with os.fdopen(fd, "wb") as fh:
                if e.path == manifest_path:
                    fh.write(manifest_bytes)
                    continue
                for chunk in reader.chunks(e.sha):
                    h.update(chunk)
                    fh.write(chunk)
            if h.hexdigest() != expected[e.path].get("sha256"):
                problems.append(f"文件内容与 manifest.json 记录的 sha256 不符（被改动或损坏）：{e.path}")
    finally:
        reader.close()
    if problems:
        raise _refusal(tag, sha, into, problems)
    structural = verify_release(staging / LIBRARY_DIR)
    if structural:
        raise _refusal(tag, sha, into, structural)
    return len(listed), (None if reports is None else len(reports))


def _refusal(tag: str, sha: str, into: Path, problems: list[str]) -> PullError:
    shown = problems[:20] + ([f"……另有 {len(problems) - 20} 项"] if len(problems) > 20 else [])
    files = [m.group(0) for p in problems if (m := re.search(r"(library|reports)/\S+", p))]
    return PullError(
        f"来源版本 {tag}（{sha[:10]}）未通过校验，已拒绝获取；{into} 中现有的副本保持不变：\n  "
        + "\n  ".join(shown),
        files=files,
    )


# --- the county's copy --------------------------------------------------------------------------------


def upstream_state(into: Path) -> dict | None:
    """What DIR holds (source, tag, sha, year …), or None when nothing was pulled there."""
    path = Path(into) / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _write_state(into: Path, state: dict) -> None:
    path = into / STATE_FILE
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _files(root: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for name in RELEASE_ROOTS:
        base = root / name
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file() or p.is_symlink():
                    out[p.relative_to(root).as_posix()] = p
    return out


def _same_copy(staging: Path, into: Path) -> bool:
    new, cur = _files(staging), _files(into)
    if set(new) != set(cur):
        return False
    return all(
        not cur[r].is_symlink()
        and cur[r].stat().st_size == new[r].stat().st_size
        and sha256_file(cur[r]) == sha256_file(new[r])
        for r in new
    )


def recover_interrupted(into: Path) -> list[str]:
    """Finish or undo a swap a crashed pull left behind; returns what was done (Chinese)."""
    into = Path(into)
    staging, previous = into / STAGING, into / PREVIOUS
    done: list[str] = []
    if previous.exists():
        try:
            journal = json.loads((previous / JOURNAL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal = {}
        state = upstream_state(into) or {}
        had = [n for n in journal.get("had", RELEASE_ROOTS) if n in RELEASE_ROOTS]
        if journal.get("sha") and state.get("sha") == journal.get("sha"):
            done.append("上次获取已完成替换，已清理旧副本")
        else:
            for name in RELEASE_ROOTS:
                old, cur = previous / name, into / name
                if name in had and old.exists():
                    if cur.exists():
                        shutil.rmtree(cur)
                    os.replace(old, cur)
                elif name not in had and cur.exists():
                    shutil.rmtree(cur)  # arrived with the interrupted pull; the county never had it
            done.append("上次获取在替换途中中断：已恢复原副本")
        shutil.rmtree(previous)
    if staging.exists():
        shutil.rmtree(staging)
        done.append("已清理上次中断获取留下的临时目录")
    return done


def _swap_in(into: Path, staging: Path, state: dict) -> None:
    previous = into / PREVIOUS
    had = [n for n in RELEASE_ROOTS if (into / n).exists()]
    previous.mkdir()
    (previous / JOURNAL).write_text(json.dumps({"sha": state["sha"], "had": had}), encoding="utf-8")
    try:
        for name in had:
            os.replace(into / name, previous / name)
        for name in RELEASE_ROOTS:
            if (staging / name).exists():
                os.replace(staging / name, into / name)
        _write_state(into, state)
    except BaseException:
        recover_interrupted(into)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _adopt(into: Path, tag: str, commit: str, received: tuple[str, ...] = RELEASE_ROOTS) -> None:
    """Record the verified release: refs/tags/<tag>, the mirror branch, an index matching the files."""
    tag_object = _git(into, "rev-parse", "--verify", f"{FETCH_NS}{tag}").strip()
    _git(into, "update-ref", f"refs/tags/{tag}", tag_object)
    _git(into, "update-ref", f"refs/heads/{MIRROR_BRANCH}", commit)
    _git(into, "symbolic-ref", "HEAD", f"refs/heads/{MIRROR_BRANCH}")
    # The index holds the whole tree (git status stays clean); paths outside what was received
    # (library/ and reports/, or library/ only for an older release) are marked skip-worktree, so git
    # never looks for them on disk. read-tree writes no files.
    _git(into, "read-tree", commit)
    listed = _git(into, "ls-files", "-z").split("\0")
    outside = [p for p in listed if p and p.split("/", 1)[0] not in received]
    if outside:
        _git(
            into,
            "update-index",
            "-z",
            "--skip-worktree",
            "--stdin",
            stdin="".join(f"{p}\0" for p in outside).encode("utf-8", "surrogateescape"),
        )
    _git(into, "update-index", "-q", "--refresh", check=False)


def _check_into(into: Path) -> None:
    if into.exists() and not into.is_dir():
        raise PullError(f"{into} 不是目录", exit_code=EXIT_USAGE)
    if (into / ".git").exists():
        if not _is_mirror(into):
            raise PullError(
                f"{into} 已是一个 git 仓库，但不是 indicators pull 建立的上级指标库副本。"
                "为免覆盖其中的内容，请用 --into 指定一个新目录（默认 ./upstream）",
                exit_code=EXIT_USAGE,
            )
    elif any((into / n).exists() for n in (*RELEASE_ROOTS, STATE_FILE)):
        raise PullError(
            f"{into} 中已有 library/ 或 reports/，但不是 indicators pull 建立的副本，拒绝覆盖。"
            "请用 --into 指定一个新目录",
            exit_code=EXIT_USAGE,
        )


def pull(source: str, ref: str | None = None, into: Path = DEFAULT_INTO) -> PullResult:
    """Bring the release at `ref` (default: the newest vY / vY.N tag) of SOURCE into `into`, verified.

    PullError (exit_code 1) when the release is unsafe, incomplete or altered, naming the files;
    PullError (exit_code 2) when it cannot be fetched as asked. Either way `into` is left as it was.
    """
    into = Path(into).absolute()
    _check_into(into)
    src = _source_arg(source)
    fresh = not into.exists()
    try:
        return _pull(src, ref, into, redact_source(src))
    except BaseException:
        if fresh and upstream_state(into) is None:
            shutil.rmtree(into, ignore_errors=True)  # a first pull that failed leaves nothing behind
        raise


def _pull(src: str, ref: str | None, into: Path, shown_source: str) -> PullResult:
    _init_mirror(into)
    recover_interrupted(into)
    state_before = upstream_state(into)

    tag = _choose_tag(_remote_tags(into, src), ref, src)
    staging = into / STAGING
    try:
        commit = _fetch_tag(into, src, tag)
        known = _local_tag_commit(into, tag)
        if known and known != commit:
            raise PullError(
                f"来源的发布标签 {tag} 已被改动：本地记录它指向 {known[:10]}，来源现在指向 {commit[:10]}。"
                "已发布的版本不应改写，已拒绝获取；请向市财政局核实",
                files=[tag],
            )
        entries = _release_entries(_tree(into, commit), tag)
        verified, reports_verified = _stage(into, staging, entries, tag, commit)
        manifest = read_manifest(staging / LIBRARY_DIR) or {}
        state: dict[str, Any] = {
            "source": shown_source,
            "tag": tag,
            "sha": commit,
            "year": manifest.get("year"),
            "schema_version": manifest.get("schema_version"),
            "manifest_sha256": sha256_file(staging / LIBRARY_DIR / MANIFEST),
            "files": len(entries),
            "reports_verified": reports_verified is not None,
        }
        prev_tag = (state_before or {}).get("tag")
        prev_sha = (state_before or {}).get("sha")
        same_release = prev_sha == commit
        if same_release and _same_copy(staging, into):
            status = "unchanged"
            shutil.rmtree(staging)
            if state_before != state:  # e.g. the same release pulled through another URL
                _write_state(into, state)
        else:
            status = "new" if state_before is None else ("repaired" if same_release else "updated")
            _swap_in(into, staging, state)
        _adopt(into, tag, commit, received=RELEASE_ROOTS if reports_verified is not None else (LIBRARY_DIR,))
    finally:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            _drop_scratch_refs(into)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

    changes = None
    if status == "updated" and prev_sha:
        prev_ref = prev_tag if prev_tag and _local_tag_commit(into, prev_tag) == prev_sha else prev_sha
        changes = query_diff(into, prev_ref, tag)
    return PullResult(
        into=into,
        source=state["source"],
        tag=tag,
        sha=commit,
        year=state["year"],
        status=status,
        previous_tag=prev_tag,
        previous_sha=prev_sha,
        files_verified=verified,
        files_written=verified + 1 + (reports_verified or 0),
        changes=changes,
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


def verify_upstream(into: Path) -> list[str]:
    """Problems with DIR's current copy (a file edited or removed since the pull); [] when sound."""
    into = Path(into)
    state = upstream_state(into)
    if state is None:
        return [f"{into} 中还没有获取过上级指标库（请先运行 indicators pull）"]
    problems = verify_release(into / LIBRARY_DIR)
    if state.get("reports_verified", False):
        problems += verify_reports(into / REPORTS_DIR, read_manifest(into / LIBRARY_DIR) or {})
    manifest = into / LIBRARY_DIR / MANIFEST
    if manifest.is_file() and sha256_file(manifest) != state.get("manifest_sha256"):
        problems.append(f"library/manifest.json 与获取时（{state.get('tag')}）不同，被改动过")
    return problems


def upstream_indicators(into: Path = DEFAULT_INTO) -> pd.DataFrame:
    """The indicators table of the release pulled into DIR (for a county's overlay)."""
    into = Path(into)
    if upstream_state(into) is None or not (into / LIBRARY_DIR / MANIFEST).is_file():
        raise PullError(
            f"{into} 中还没有上级指标库，请先运行 indicators pull SOURCE --into {into}", exit_code=EXIT_USAGE
        )
    return read_table(into / LIBRARY_DIR, "indicators")
