"""A fetched tag's release, written into a staging folder and verified against its own manifest.

Files are never checked out. library/ and reports/ of the tag's tree are listed (`git ls-tree`) and
each blob is written by this module into a staging folder it created itself; an entry that is a
symlink, a submodule, or whose path is absolute, has "..", ".git" or a backslash is refused, and
anything outside library/ and reports/ is never read. Every file is checked against library/manifest.json
of the same tag (sha256 and size, and presence both ways) while it streams from git, and the staged
library then passes pipelines.store.verify.verify_release. A release published before manifests listed
reports/ has nothing to check them against: its reports/ are not received at all. A release of a
schema version this code cannot read (docs/SCHEMA_VERSIONS.md) is refused before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipelines.county.mirror import EXIT_USAGE, RELEASE_ROOTS, PullError, git_cmd, git_env
from pipelines.store.publish import LIBRARY_DIR, MANIFEST, REPORTS_DIR, REPORTS_KEY
from pipelines.store.shape import version_problem
from pipelines.store.verify import verify_release

MANIFEST_MAX_BYTES = 64 << 20
_MANIFEST_PATH = f"{LIBRARY_DIR}/{MANIFEST}"
# A backslash (and on Windows a colon: drive letters, alternate streams) could step out of the folder.
_BAD_CHARS = re.compile(r"[\\:\x00-\x1f\x7f]" if os.name == "nt" else r"[\\\x00-\x1f\x7f]")
_FORBIDDEN_NAMES = {".git", ".gitattributes", ".gitmodules"}
_BLOB_MODES = {"100644", "100755"}  # the executable bit is not carried over: every file is written 0644
_MODE_ZH = {"120000": "符号链接", "160000": "子模块"}


@dataclass(frozen=True)
class Entry:
    mode: str
    kind: str
    sha: str
    size: int | None
    path: str


def tag_tree(into: Path, commit: str) -> list[Entry]:
    out = subprocess.run(
        git_cmd(into, "ls-tree", "-r", "-l", "-z", "--full-tree", commit),
        capture_output=True,
        env=git_env(),
        check=True,
    ).stdout
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, _, raw_path = item.partition(b"\t")
        mode, kind, sha, size = meta.decode("ascii").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        entries.append(Entry(mode, kind, sha, None if size == "-" else int(size), path))
    return entries


def _unsafe(entry: Entry) -> str | None:
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


def release_entries(entries: list[Entry], tag: str) -> list[Entry]:
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
            git_cmd(into, "cat-file", "--batch"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=git_env(),
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
    """manifest.json's library files and its reports/ list (None in a release made before it had one).
    A release of a schema version this code cannot read is refused here, before anything is written."""
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 不是合法的 JSON：{exc}", files=[_MANIFEST_PATH]
        ) from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 没有逐个文件的 sha256 清单（files）",
            files=[_MANIFEST_PATH],
        )
    unreadable = version_problem(manifest)
    if unreadable:
        raise PullError(f"来源版本 {tag} 未获取：{unreadable}", files=[_MANIFEST_PATH], exit_code=EXIT_USAGE)
    reports = manifest.get(REPORTS_KEY)
    if reports is not None and (
        not isinstance(reports, dict) or not all(isinstance(v, dict) for v in reports.values())
    ):
        raise PullError(
            f"来源版本 {tag} 的 library/manifest.json 中 reports/ 的校验清单格式不对", files=[_MANIFEST_PATH]
        )
    return files, reports


def _listing_problems(entries: list[Entry], expected: dict[str, dict]) -> list[str]:
    """Files listed but absent, present but unlisted, or of another size than listed."""
    present = {e.path for e in entries} - {_MANIFEST_PATH}
    problems = [f"manifest.json 列出的文件在来源版本中不存在：{r}" for r in sorted(set(expected) - present)]
    problems += [f"来源版本中的文件不在 manifest.json 中：{r}" for r in sorted(present - set(expected))]
    for e in entries:
        meta = expected.get(e.path)
        if meta is not None and e.size != meta.get("bytes"):
            problems.append(f"文件大小与 manifest.json 不符（被改动或损坏）：{e.path}")
    return problems


def _write_checked(
    reader: _BlobReader, staging: Path, entries: list[Entry], expected: dict[str, dict], manifest: bytes
) -> list[str]:
    """Stream every blob into staging, hashing it on the way; the files whose sha256 is not the listed one."""
    problems = []
    staging.mkdir(parents=True)
    for e in sorted(entries, key=lambda x: x.path):
        target = staging.joinpath(*e.path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        # O_EXCL | O_NOFOLLOW: only files this function creates, never through a link
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        with os.fdopen(fd, "wb") as fh:
            if e.path == _MANIFEST_PATH:
                fh.write(manifest)
                continue
            for chunk in reader.chunks(e.sha):
                h.update(chunk)
                fh.write(chunk)
        if h.hexdigest() != expected[e.path].get("sha256"):
            problems.append(f"文件内容与 manifest.json 记录的 sha256 不符（被改动或损坏）：{e.path}")
    return problems


def stage(into: Path, staging: Path, entries: list[Entry], tag: str, sha: str) -> tuple[int, int | None]:
    """Write the release into staging, checking library/ and reports/ files against the manifest;
    returns the numbers of library and reports files verified (None: an older release whose manifest
    lists no reports — its reports/ are not written). PullError (staging left for the caller to
    remove) on any fault."""
    by_path = {e.path: e for e in entries}
    if _MANIFEST_PATH not in by_path:
        raise PullError(
            f"来源版本 {tag}（{sha[:10]}）没有 library/manifest.json，不是可校验的指标库发布版本",
            files=[_MANIFEST_PATH],
        )
    reader = _BlobReader(into)
    try:
        manifest = reader.read(by_path[_MANIFEST_PATH].sha, MANIFEST_MAX_BYTES)
        listed, reports = _manifest_files(manifest, tag)
        if reports is None:  # nothing to verify them against: not received
            entries = [e for e in entries if not e.path.startswith(f"{REPORTS_DIR}/")]
        expected = {f"{LIBRARY_DIR}/{r}": m for r, m in listed.items()}
        expected |= {f"{REPORTS_DIR}/{r}": m for r, m in (reports or {}).items()}
        problems = _listing_problems(entries, expected)
        if problems:
            raise _refusal(tag, sha, into, problems)
        problems = _write_checked(reader, staging, entries, expected, manifest)
    finally:
        reader.close()
    problems = problems or verify_release(staging / LIBRARY_DIR)
    if problems:
        raise _refusal(tag, sha, into, problems)
    return len(listed), (None if reports is None else len(reports))


def _refusal(tag: str, sha: str, into: Path, problems: list[str]) -> PullError:
    shown = problems[:20] + ([f"……另有 {len(problems) - 20} 项"] if len(problems) > 20 else [])
    files = [m.group(0) for p in problems if (m := re.search(r"(library|reports)/\S+", p))]
    return PullError(
        f"来源版本 {tag}（{sha[:10]}）未通过校验，已拒绝获取；{into} 中现有的副本保持不变：\n  "
        + "\n  ".join(shown),
        files=files,
    )
