"""A parse cache keyed by each workbook's sha256 (as Our World in Data's etl keys rebuilds on checksums).

Re-running a year after one department replaced its workbook re-parses only that workbook. Cache misses
are parsed in worker processes (pipelines.intake.safe_parse); a hit never starts one. A workbook set aside
because its worker died or ran out of time (F012) is not cached: the next run tries it again. The key also
covers the file name (it is part of every row's provenance) and a fingerprint of everything else that
shapes a parse (reader_fingerprint: the reader's code and what it imports, the reference data, library and
Python versions), so a new reader, vocabulary or library invalidates every entry. Entries are pickles written
by this process into a git-ignored folder of the deployment repo; they are never taken from submitters.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.common.frames import release_free_memory
from pipelines.common.gc_policy import collector_paused
from pipelines.common.hashing import sha256_file, sha256_text
from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import Parse, read_workbooks
from pipelines.intake.workbook import Workbook
from schemas.vocab import REFERENCE_DIR

ROOT = Path(__file__).resolve().parents[2]
# What shapes a cached Workbook, besides the submitted bytes: every module of this package, the project
# modules the reader imports (tests/test_parse_cache.py holds this list to the reader's imports), the
# reference data, the libraries that parse the file or hold the result, and Python itself (zipfile,
# ElementTree, re and pickle are its own).
READER_DEPENDENCIES = (
    "schemas/text.py",
    "schemas/vocab.py",
    "pipelines/common/columns.py",
    "pipelines/common/findings.py",
    "pipelines/common/formulas.py",
    "pipelines/common/gc_policy.py",
    "pipelines/common/hashing.py",
)
READER_LIBRARIES = ("python-calamine", "OpenCC", "numpy", "pandas", "pyarrow")


def reader_sources() -> dict[str, Path]:
    """The files whose bytes are in the fingerprint: label (stable across checkouts) → path."""
    package = {f"pipelines/intake/{p.name}": p for p in sorted(Path(__file__).parent.glob("*.py"))}
    imported = {name: ROOT / name for name in READER_DEPENDENCIES}
    data = {f"reference/{p.name}": p for p in sorted(REFERENCE_DIR.glob("*.csv"))}
    return {**package, **imported, **data}


def library_versions() -> dict[str, str]:
    """Installed versions of READER_LIBRARIES, and Python's."""
    versions = {name: importlib.metadata.version(name) for name in READER_LIBRARIES}
    versions["python"] = ".".join(map(str, sys.version_info[:3]))
    return versions


def fingerprint(sources: dict[str, Path], versions: dict[str, str]) -> str:
    """A short hash of the sources' labels and bytes and of the versions."""
    h = hashlib.sha256()
    for label, path in sorted(sources.items()):
        h.update(label.encode() + b"\0")
        h.update(path.read_bytes())
    for name, version in sorted(versions.items()):
        h.update(f"{name}=={version}\0".encode())
    return h.hexdigest()[:16]


@cache
def reader_fingerprint() -> str:
    """Part of every cache key: a new reader, reference file or library version invalidates every entry."""
    return fingerprint(reader_sources(), library_versions())


TRIM_EVERY = 50  # workbooks read between two returns of freed memory (see frames.release_free_memory)


@dataclass
class ParseStats:
    parsed: list[str]  # file names read from disk this time
    cached: list[str]  # file names served from the cache


def read_submissions(
    paths: list[Path], cache_dir: Path | None, parse: Parse = read_workbook
) -> tuple[list[Workbook], ParseStats]:
    """Read every workbook, reusing the cached parse of any whose bytes and name are unchanged; the others
    parsed in worker processes (safe_parse; `parse` as there)."""
    stats = ParseStats([], [])
    ordered = sorted(paths, key=lambda p: p.name)
    out: list[Workbook | None] = []
    misses: list[tuple[int, Path, Path | None]] = []  # (position, workbook, cache entry)
    # Every workbook read stays alive: full collections over them grew with the corpus (a province's
    # read: 20.9 s → 16.5 s without them).
    with collector_paused():
        for n, path in enumerate(ordered, start=1):
            entry = cache_entry(path, cache_dir)
            wb = load_cached(path, entry)
            out.append(wb)
            if wb is None:
                misses.append((n - 1, path, entry))
            else:
                stats.cached.append(path.name)
            if n % TRIM_EVERY == 0:
                release_free_memory()
        parsed = read_workbooks([path for _, path, _ in misses], parse=parse)
        for (position, _path, entry), wb in zip(misses, parsed, strict=True):
            out[position] = wb
            store_cached(entry, wb)
        stats.parsed = [path.name for _, path, _ in misses]
    release_free_memory()
    return [wb for wb in out if wb is not None], stats


def cache_entry(path: Path, cache_dir: Path | None) -> Path | None:
    """Where the parse of `path` is cached (None: no cache)."""
    if cache_dir is None:
        return None
    key = sha256_text(f"{sha256_file(path)}|{path.name}|{reader_fingerprint()}")
    return cache_dir / f"{key}.pkl"


def load_cached(path: Path, entry: Path | None) -> Workbook | None:
    """The cached parse, or None (no entry, or a damaged one: removed)."""
    if entry is None or not entry.is_file():
        return None
    try:
        wb = pickle.loads(entry.read_bytes())
        wb.path = path
        return wb
    except Exception:  # a damaged entry is just a miss
        entry.unlink(missing_ok=True)
        return None


def store_cached(entry: Path | None, wb: Workbook) -> None:
    """Cache a parse, unless it is a workbook set aside because its worker died or ran out of time (F012:
    the next run tries it again)."""
    if entry is None or any(f.code == "F012" for f in wb.findings):
        return
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = entry.with_suffix(f".{os.getpid()}.tmp")  # batches in several processes may store at once
    tmp.write_bytes(pickle.dumps(wb, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(entry)
