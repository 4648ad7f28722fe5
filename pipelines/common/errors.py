"""What a command says when it cannot go on: exit codes, operating-system errors in Chinese, crash logs.

Exit codes (CONTRACT §4, plus 3): 0 ok; 1 the input has errors or a blocking check / a refusal stopped
publishing; 2 bad usage, an unreadable input, or an environment the command cannot work in (a
read-only or full disk, missing permissions, the repo locked by another run); 3 an internal error (a
bug): the traceback goes to a log file, never to the screen, and the published library is untouched.

Errors reach here either as exceptions (in-process) or as Dagster's serialized step errors (class name
and message only), so classification works on class names and message text.
"""

from __future__ import annotations

import datetime
import errno
import os
import re
import tempfile
import traceback
from dataclasses import dataclass
from pathlib import Path

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
LOG_SUBDIR = Path(".dagster_home") / "logs"  # inside the deployment repo; git-ignored with .dagster_home/


def first_problems(problems: list[str], shown: int = 5) -> str:
    """The first problems joined for one message, with how many more there are."""
    more = f"（另有 {len(problems) - shown} 项）" if len(problems) > shown else ""
    return "；".join(problems[:shown]) + more


class UsageError(Exception):
    """Bad usage: exit 2 with a Chinese message."""


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    message: str  # Chinese, for the screen

    @property
    def internal(self) -> bool:
        return self.exit_code == EXIT_INTERNAL


# Refusals the product raises on purpose, with a Chinese message a person can act on.
_REFUSALS_INPUT = {
    "RepoError",
    "RepoDirtyError",
    "ConcurrentReleaseError",
    "PublishError",
    "PullError",
    "ReviewError",
    "UpstreamError",
}
_REFUSALS_USAGE = {
    "UsageError",
    "LockBusyError",
    "QueryError",
    "ExportError",
    "ConfigError",
    "PublishedButUnrecordedError",
}
_OS_CLASSES = {
    "OSError",
    "IOError",
    "PermissionError",
    "FileNotFoundError",
    "FileExistsError",
    "IsADirectoryError",
    "NotADirectoryError",
    "BlockingIOError",
    "InterruptedError",
}
_ERRNO_RE = re.compile(r"\[Errno (\d+)\][^:]*(?::\s*'(.*?)')?")
_CJK = re.compile(r"[\u4e00-\u9fff]")

_NO_WRITE = "请换一个当前账户可以写入的文件夹，或请管理员开放写权限后重新运行"
_ERRNO_ZH: dict[int, tuple[str, str]] = {
    errno.EROFS: ("所在的磁盘或文件夹是只读的", _NO_WRITE),
    errno.EACCES: ("当前账户没有读写权限", _NO_WRITE),
    errno.EPERM: ("操作系统不允许这个操作（权限不足）", _NO_WRITE),
    errno.ENOSPC: ("磁盘空间已满", "请清理磁盘空间后重新运行"),
    errno.EDQUOT: ("已超出磁盘配额", "请清理磁盘空间或请管理员提高配额后重新运行"),
    errno.EIO: ("磁盘读写出错", "请检查磁盘（空间是否已满、是否损坏）后重新运行"),
    errno.ENOENT: ("文件或文件夹不存在", "请检查路径是否正确"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "请检查路径是否正确"),
    errno.EISDIR: ("应为文件，却是文件夹", "请检查路径是否正确"),
    errno.EMFILE: ("同时打开的文件过多", "请关闭其他程序后重新运行"),
    errno.ENAMETOOLONG: ("路径过长", "请换一个较短的路径"),
}
# Text of errors that carry no errno: SQLite (Dagster's run storage), git's stderr.
_TEXT_ERRNO = (
    ("database or disk is full", errno.ENOSPC),
    ("no space left on device", errno.ENOSPC),
    ("disk quota exceeded", errno.EDQUOT),
    ("disk i/o error", errno.EIO),
    ("attempt to write a readonly database", errno.EROFS),
    ("read-only file system", errno.EROFS),
    ("unable to open database file", -1),  # SQLite: a full disk, a read-only folder or permissions
    ("out of diskspace", errno.ENOSPC),  # git: "sha1 file … write error. Out of diskspace"
    ("permission denied", errno.EACCES),
    ("insufficient permission", errno.EACCES),
    ("read-only", errno.EROFS),
    ("write error", errno.EIO),
    ("unable to write", errno.EIO),
    ("could not write", errno.EIO),
)
_UNTOUCHED = "已发布的指标库保持不变"


_UNSURE = ("无法打开（磁盘已满、文件夹只读或没有权限）", "请检查磁盘空间和文件夹的写权限后重新运行")


def os_error_zh(code: int | None, filename: str | None = None, *, what: str = "") -> str:
    """A Chinese sentence for an operating-system error: what, where, the last release untouched, the fix.
    code -1: one of several causes (SQLite's "unable to open database file")."""
    if code == -1:
        reason, fix = _UNSURE
    else:
        reason, fix = _ERRNO_ZH.get(
            code or -1, (os.strerror(code) if code else "操作系统错误", "请检查后重新运行")
        )
    where = f"“{filename}”" if filename else f"“{what or '所需的文件'}”"
    return f"无法读写{where}：{reason}。{_UNTOUCHED}。{fix}"


def _from_text(cls_name: str, message: str) -> Verdict | None:
    """A verdict from a class name and message, or None when they say nothing we recognise."""
    if cls_name in _REFUSALS_USAGE:
        return Verdict(EXIT_USAGE, message)
    if cls_name in _REFUSALS_INPUT:
        return Verdict(EXIT_INPUT, message)
    if cls_name in _OS_CLASSES:
        m = _ERRNO_RE.search(message)
        if m:
            return Verdict(EXIT_USAGE, os_error_zh(int(m.group(1)), m.group(2)))
    low = message.lower()
    for needle, code in _TEXT_ERRNO:
        if needle in low:
            sqlite = "sqlite" in low or "database" in low
            what = "Dagster 的运行记录数据库（.dagster_home）" if sqlite else "指标库仓库中的文件"
            return Verdict(EXIT_USAGE, os_error_zh(code, None, what=what))
    if cls_name in _OS_CLASSES:
        return Verdict(EXIT_USAGE, os_error_zh(None, None) + f"（{message.strip()[:200]}）")
    return None


def classify(exc: BaseException) -> Verdict | None:
    """A known failure of an exception (or of any exception it was raised from); None: a bug."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UsageError):
            return Verdict(EXIT_USAGE, str(current))
        if isinstance(current, OSError) and current.errno is not None:
            name = current.filename if isinstance(current.filename, str) else None
            return Verdict(EXIT_USAGE, os_error_zh(current.errno, name))
        found = _from_text(type(current).__name__, str(current))
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return _stated_reason(type(exc).__name__, str(exc))


def classify_step(cls_name: str, message: str, causes: list[tuple[str, str]]) -> Verdict | None:
    """The same for a Dagster step failure: its class and message, then those of its causes."""
    for name, text in [(cls_name, message), *causes]:
        found = _from_text(name, text)
        if found is not None:
            return found
    name, text = causes[-1] if causes else (cls_name, message)
    return _stated_reason(name, text)


def _stated_reason(cls_name: str, message: str) -> Verdict | None:
    """A ValueError / RuntimeError the product raised with a Chinese message (e.g. a rules file or
    indicators.toml it cannot use): a reason a person can act on, not a bug."""
    if cls_name in ("ValueError", "RuntimeError") and _CJK.search(message):
        return Verdict(EXIT_INPUT, message.strip())
    return None


def log_dir(repo: Path | None) -> Path:
    """Where logs go: PATH/.dagster_home/logs when the repo folder can hold it, else the temp folder."""
    if repo is not None:
        folder = Path(repo) / LOG_SUBDIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            pass
    folder = Path(tempfile.gettempdir()) / "indicators-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_log_path(folder: Path, stem: str) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(folder) / f"{stem}-{stamp}-{os.getpid()}.log"


def write_crash_log(exc: BaseException, repo: Path | None, command: str) -> Path | None:
    """The traceback of an internal error in a log file; None when no file could be written."""
    try:
        path = new_log_path(log_dir(repo), f"error-{command}")
        text = "".join(traceback.format_exception(exc))
        path.write_text(f"indicators {command}: 内部错误\n\n{text}", encoding="utf-8")
        return path
    except OSError:
        return None


def internal_message(what: str, log: Path | str | None) -> str:
    where = f"详细信息（含程序堆栈）已写入日志 {log}" if log else "日志无法写入（磁盘不可写）"
    return (
        f"内部错误（程序缺陷，不是填报内容的问题）：{what}。{where}；{_UNTOUCHED}。"
        "请把这份日志发给系统维护人员"
    )
