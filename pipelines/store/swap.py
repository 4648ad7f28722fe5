"""The atomic swap of a release's library/ folder, and the undoing of one a crash interrupted: the new
release is written beside the old one (STAGING_DIR), then two renames put it in place (the old one kept as
PREVIOUS_DIR until the commit is made), so a killed run leaves either release whole."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

LIBRARY_DIR = "library"
STAGING_DIR = ".library-staging"
PREVIOUS_DIR = ".library-previous"


def _paths(repo_root: Path) -> tuple[Path, Path, Path]:
    return repo_root / LIBRARY_DIR, repo_root / STAGING_DIR, repo_root / PREVIOUS_DIR


def recover_interrupted(repo_root: Path) -> list[str]:
    """Undo what a crashed publish left behind; returns what was done (Chinese), [] when nothing."""
    library, staging, previous = _paths(Path(repo_root))
    done: list[str] = []
    if previous.exists():
        if not library.exists():
            # Crashed between the two renames: the previous release is the last good one.
            os.replace(previous, library)
            done.append("上次发布在替换途中中断：已恢复原指标库")
        else:
            # Crashed after the new release was in place: only the old copy is left to remove.
            shutil.rmtree(previous)
            done.append("已清理上次发布留下的旧版本副本")
    if staging.exists():
        shutil.rmtree(staging)
        done.append("已清理上次中断发布留下的临时目录")
    return done


def _swap(staging: Path, library: Path, previous: Path) -> None:
    had_library = library.exists()
    if had_library:
        os.replace(library, previous)
    try:
        os.replace(staging, library)
    except BaseException:
        if had_library and not library.exists():
            os.replace(previous, library)
        raise
