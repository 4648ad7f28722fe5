"""The parse cache: a hit skips the workers, a lost workbook is not kept, and the key covers everything that
shapes a cached parse (issue 12): the reader's modules and the project modules they import, the reference
data, and the versions of the libraries they parse with."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import pipelines.intake.parse_cache as parse_cache
from pipelines.intake.parse_cache import (
    READER_LIBRARIES,
    fingerprint,
    library_versions,
    read_submissions,
    reader_fingerprint,
    reader_sources,
)
from pipelines.intake.safe_parse import read_workbooks
from pipelines.intake.workbook import Workbook
from tests.hostile_parse import hostile_parse
from tests.hostile_seeds import CRASHES, SMALL_LIMITS, make_seeds

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("pipelines", "schemas")
# Where a worker's parse starts: the entry point and the worker loop that calls it.
READER_ENTRY = ("pipelines/intake/read.py", "pipelines/intake/safe_parse.py")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return make_seeds(tmp_path_factory.mktemp("seeds"))


@pytest.fixture(autouse=True)
def fresh_fingerprint() -> Iterator[None]:
    reader_fingerprint.cache_clear()
    yield
    reader_fingerprint.cache_clear()


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> Iterator[str]:
    """Every module an import statement of `path` names, "from a.b import c" as a.b.c when c is a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _reader_closure() -> tuple[set[str], set[str]]:
    """(project files, third-party top-level modules) the reader imports, directly or through the project."""
    todo = [ROOT / p for p in READER_ENTRY]
    files: set[Path] = set()
    external: set[str] = set()
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        for module in _imports(path):
            top = module.split(".")[0]
            if top in PROJECT_PACKAGES:
                found = _module_file(module)
                if found is not None:
                    todo.append(found)
            elif top not in sys.stdlib_module_names and top != "__future__":
                external.add(top)
    return {p.relative_to(ROOT).as_posix() for p in files}, external


def test_the_key_covers_every_module_the_reader_imports() -> None:
    files, _ = _reader_closure()
    assert {"pipelines/intake/rows.py", "schemas/vocab.py", "pipelines/common/findings.py"} <= files
    missing = files - set(reader_sources())
    assert not missing, f"modules that shape a parse but not the cache key: {sorted(missing)}"


def test_the_key_covers_every_library_the_reader_imports() -> None:
    _, external = _reader_closure()
    assert {"python_calamine", "opencc", "numpy", "pandas", "pyarrow"} <= external
    distributions = importlib.metadata.packages_distributions()
    named = {dist for module in external for dist in distributions.get(module, [module])}
    assert named <= set(READER_LIBRARIES), (
        f"libraries missing from the key: {sorted(named - set(READER_LIBRARIES))}"
    )


def test_the_reference_data_is_in_the_key() -> None:
    labels = set(reader_sources())
    assert {"reference/columns.csv", "reference/limits.csv", "reference/finding_codes.csv"} <= labels


def test_a_change_to_any_source_changes_the_key(tmp_path: Path) -> None:
    sources = reader_sources()
    copies = {}
    for i, (label, path) in enumerate(sorted(sources.items())):
        copies[label] = tmp_path / f"{i}_{path.name}"
        copies[label].write_bytes(path.read_bytes())
    versions = library_versions()
    base = fingerprint(copies, versions)
    assert base == fingerprint(sources, versions)  # the labels, not where the files sit, are hashed
    for label, copy in copies.items():
        original = copy.read_bytes()
        copy.write_bytes(original + b"\n# changed\n")
        assert fingerprint(copies, versions) != base, label
        copy.write_bytes(original)


@pytest.mark.parametrize("library", READER_LIBRARIES)
def test_a_new_library_version_changes_the_cache_entry(
    library: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workbook = tmp_path / "部门A.xlsx"
    workbook.write_bytes(b"PK\x03\x04 any bytes")
    before = parse_cache.cache_entry(workbook, tmp_path / "cache")
    real_version = importlib.metadata.version

    def bumped(name: str) -> str:
        return real_version(name) + (".post1" if name == library else "")

    monkeypatch.setattr(importlib.metadata, "version", bumped)
    reader_fingerprint.cache_clear()
    after = parse_cache.cache_entry(workbook, tmp_path / "cache")
    assert before is not None and after is not None and before != after


def test_a_new_python_changes_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = reader_fingerprint()
    monkeypatch.setattr(sys, "version_info", (3, 99, 0, "final", 0))
    reader_fingerprint.cache_clear()
    assert reader_fingerprint() != before


# --- the cache at work ---------------------------------------------------------------------------------------


def test_cache_hits_skip_the_workers_and_a_lost_workbook_is_not_cached(
    seeds: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.xlsx", "a.xlsx"):
        (folder / name).write_bytes(seeds["filled"])
    (folder / "c.xlsx").write_bytes(CRASHES["zip_version"](seeds))
    cache = tmp_path / "cache"
    paths = sorted(folder.iterdir(), reverse=True)
    first, stats = read_submissions(paths, cache)
    assert [b.file for b in first] == ["a.xlsx", "b.xlsx", "c.xlsx"] and stats.parsed == [
        "a.xlsx",
        "b.xlsx",
        "c.xlsx",
    ]

    def no_workers(paths: list[Path], **_: object) -> list[Workbook]:
        assert not paths, "a cache hit must not reach the workers"
        return []

    monkeypatch.setattr(parse_cache, "read_workbooks", no_workers)
    again, stats = read_submissions(paths, cache)
    assert stats.cached == ["a.xlsx", "b.xlsx", "c.xlsx"] and stats.parsed == []
    assert [(b.file, b.readable, b.findings) for b in again] == [
        (b.file, b.readable, b.findings) for b in first
    ]

    # A worker lost on a new file (abort.xlsx): F012, and nothing written to the cache for it.
    (folder / "a.xlsx").rename(folder / "abort.xlsx")
    lost = read_workbooks([folder / "abort.xlsx"], limits=SMALL_LIMITS, parse=hostile_parse)
    monkeypatch.setattr(parse_cache, "read_workbooks", lambda paths, **_: lost if paths else [])
    books, stats = read_submissions(sorted(folder.iterdir()), cache)
    assert stats.parsed == ["abort.xlsx"] and books[0].findings[0].code == "F012"
    assert len(list(cache.glob("*.pkl"))) == 3  # a, b, c from the first run; the F012 was not kept
