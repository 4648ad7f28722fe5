"""The inbox: which files of a folder are department submissions, with their size and sha256."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.common.hashing import sha256_file

SUBMISSION_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".csv", ".ods", ".wps"}


def submission_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the spreadsheet-like files of folders (not Office lock files ~$…)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in SUBMISSION_SUFFIXES
                and not p.name.startswith(("~$", "."))
            )
        else:
            out.append(path)
    return out


@dataclass(frozen=True)
class SubmissionFile:
    """One workbook in the inbox; its sha256 (with its name) is the parse cache's key."""

    path: Path
    name: str
    bytes: int
    sha256: str


def list_inbox(folder: Path) -> list[SubmissionFile]:
    """The submissions in folder, in name order ([] when the folder does not exist)."""
    folder = Path(folder)
    paths = submission_files([folder]) if folder.is_dir() else []
    return [SubmissionFile(p, p.name, p.stat().st_size, sha256_file(p)) for p in paths]
