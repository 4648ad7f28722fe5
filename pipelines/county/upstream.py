"""The county's copy: DIR/library and DIR/reports of the release pulled last, and which release that is.

The verified release replaces the current copy by renames (a journal lets an interrupted swap be
undone on the next run); DIR/.indicators-upstream.json says which release DIR holds. Readers of the
copy (the county's overlay) read it in today's shape through pipelines.store.shape.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from pipelines.common.hashing import sha256_file
from pipelines.county.mirror import (
    DEFAULT_INTO,
    EXIT_USAGE,
    PREVIOUS,
    RELEASE_ROOTS,
    STAGING,
    STATE_FILE,
    PullError,
    is_mirror,
)
from pipelines.store.publish import LIBRARY_DIR, MANIFEST, REPORTS_DIR, read_manifest
from pipelines.store.shape import read_release_table
from pipelines.store.verify import verify_release, verify_reports

JOURNAL = "swap.json"


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


def write_state(into: Path, state: dict) -> None:
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


def same_copy(staging: Path, into: Path) -> bool:
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


def swap_in(into: Path, staging: Path, state: dict) -> None:
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
        write_state(into, state)
    except BaseException:
        recover_interrupted(into)
        raise
    shutil.rmtree(previous, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def check_into(into: Path) -> None:
    if into.exists() and not into.is_dir():
        raise PullError(f"{into} 不是目录", exit_code=EXIT_USAGE)
    if (into / ".git").exists():
        if not is_mirror(into):
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
    return read_release_table(into / LIBRARY_DIR, "indicators")
