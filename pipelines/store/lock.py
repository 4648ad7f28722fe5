"""The rebuild lock: one writer per deployment repo at a time.

A rebuild holds repo/.indicators.lock (JSON: pid, host, token) for its whole run; the steps that read the
base release, stage and publish join it. A lock left by a dead process on this host is taken over; one
from another host is not (its process cannot be checked from here).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".indicators.lock"


class LockBusyError(RuntimeError):
    """Another rebuild holds the lock."""


# An empty or unreadable lock older than this is a crash's leftover (a run killed between creating the
# file and writing it, by an older version that did not create it with its content in one step).
EMPTY_LOCK_STALE_SECONDS = 10.0
_POLL_SECONDS = 0.5
# Locks this process holds: path → (token, depth). A rebuild takes the lock for its whole run and the
# steps that read the base release, stage and publish take it again: nested takes are free.
_HELD: dict[str, tuple[dict, int]] = {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OverflowError:
        return False
    return True


def _read_lock(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _create_lock(path: Path, content: dict) -> bool:
    """Create the lock with its content in one step (write a private file, hard-link it into place):
    no other process can ever see it empty. False when it exists already."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{content['token']}.tmp")
    try:
        try:
            tmp.write_text(json.dumps(content), encoding="utf-8")
        except OSError as exc:  # name the folder the operator chose, not our scratch file
            raise OSError(exc.errno, exc.strerror, str(path.parent)) from exc
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
                raise
        # A file system without hard links: exclusive create, then write (an empty window remains,
        # which the age rule of _stale covers).
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(content, fh)
        return True
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def lock_holder(repo_root: Path) -> dict | None:
    """Who holds the rebuild lock of repo_root (its JSON content), or None when it is free or unreadable."""
    return _read_lock(Path(repo_root) / LOCK_FILE)


def join_held_lock(repo_root: Path, token: str) -> bool:
    """In another process of the same run (a step process of Dagster's multiprocess executor): count the
    run's lock as held here, so the steps join it (rebuild_lock(join=True)) instead of being refused.
    Only when the lock file on disk carries `token` (the run's, handed over by the process that took it);
    True when joined. The joining process never removes the lock: its owner does."""
    path = Path(repo_root).resolve() / LOCK_FILE
    held = _read_lock(path)
    if held is None or not token or held.get("token") != token:
        return False
    _HELD.setdefault(str(path), (held, 1))
    return True


@contextlib.contextmanager
def rebuild_lock(repo_root: Path, *, wait: float = 0.0, join: bool = False) -> Iterator[Path]:
    """Hold repo_root/.indicators.lock for the duration; LockBusyError when another run holds it.

    wait: seconds to wait for the other run to finish before giving up (0: refuse at once).
    A lock of a process that died on this host, or an empty/unreadable lock older than
    EMPTY_LOCK_STALE_SECONDS, is taken over; one from another host is not (its process cannot be
    checked from here).
    join: the steps of a rebuild (read the base release, stage, publish) join the lock their run already
    holds in this process, after checking it is still theirs; without a whole-run lock (a step run on
    its own by `dagster dev`) they take it themselves. Without join, a second take in the same process
    is refused like any other.
    """
    path = Path(repo_root).resolve() / LOCK_FILE
    key = str(path)
    if join and key in _HELD:
        mine, depth = _HELD[key]
        if _read_lock(path) != mine:
            raise LockBusyError(
                f"本次重建持有的锁文件 {path} 已被改动或删除（另一个进程把它当作遗留锁接管了），"
                "为避免两个重建同时发布，本次重建已停止，已发布的指标库保持不变。请确认没有其他重建在运行后重新运行"
            )
        _HELD[key] = (mine, depth + 1)
        try:
            yield path
        finally:
            _HELD[key] = (mine, _HELD[key][1] - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "token": uuid.uuid4().hex}
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        if _create_lock(path, mine):
            break
        holder, stat = _read_lock(path), _stat(path)
        if _stale(holder, stat):
            _take_away(path, holder, stat)
            continue
        if stat is None:
            continue  # released between our attempt and our look: try again
        if time.monotonic() >= deadline:
            raise LockBusyError(_busy_message(path, holder, wait))
        time.sleep(_POLL_SECONDS)
    _HELD[key] = (mine, 1)
    try:
        yield path
    finally:
        del _HELD[key]
        if _read_lock(path) == mine:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _stale(holder: dict | None, stat: os.stat_result | None) -> bool:
    if stat is None:
        return False
    if not holder or not isinstance(holder.get("pid"), int):
        # Empty or unreadable: being written right now (only on file systems without hard links), or
        # left by a run killed while writing it. Only age tells them apart.
        return time.time() - stat.st_mtime > EMPTY_LOCK_STALE_SECONDS
    return holder.get("host") == socket.gethostname() and not _pid_alive(holder["pid"])


def _take_away(path: Path, holder: dict | None, seen: os.stat_result | None) -> None:
    """Remove a stale lock, unless another process replaced it since we looked at it."""
    aside = path.with_name(f"{path.name}.stale-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return  # someone else took it away first
    now = _stat(aside)
    same_file = (
        seen is not None and now is not None and (now.st_ino, now.st_dev) == (seen.st_ino, seen.st_dev)
    )
    if same_file and _read_lock(aside) == holder:
        aside.unlink()
        return
    # A live lock moved by mistake (another process took over and locked in between): put it back.
    try:
        os.link(aside, path)
    except FileExistsError:
        pass
    finally:
        with contextlib.suppress(OSError):
            aside.unlink()


def _busy_message(path: Path, holder: dict | None, wait: float) -> str:
    who = f"进程 {holder.get('pid')}，主机 {holder.get('host')}" if holder else "持有者信息无法读取"
    waited = f"已等待 {wait:g} 秒仍未结束。" if wait > 0 else ""
    return (
        f"另一个重建正在进行（{who}），同一仓库不能同时运行两个重建。{waited}请等它结束后再运行"
        f"（或加 --wait 秒数 让本次重建排队等待）；如确认没有其他重建在运行，可删除锁文件 {path}"
    )
