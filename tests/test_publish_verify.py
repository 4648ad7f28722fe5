"""The verification of a staged release read once per table (not once per file) gives the same findings,
in the same order; publishing re-uses the blocking checks' verdict only for the very bytes they read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.store import publish, verify
from pipelines.store.publish import MANIFEST, manifest_text, record_reports, write_release
from pipelines.store.verify import blocking_checks, verify_again, verify_library
from tests.library_fixtures import accounting_for, small_tables

YEAR = 2026


def _library(folder: Path) -> Path:
    tables = small_tables()
    write_release(tables, folder, year=YEAR, accounting=accounting_for(tables, YEAR))
    return folder


def _relist(lib: Path, moves: dict[str, str]) -> None:
    """Files renamed (old rel → new rel) with manifest.json following them, so only what the files
    hold is wrong, not the manifest."""
    manifest = json.loads((lib / MANIFEST).read_text(encoding="utf-8"))
    contents = {old: (lib / old).read_bytes() for old in moves}
    entries = {old: manifest["files"].pop(old) for old in moves}
    for old in moves:
        (lib / old).unlink()
    for old, new in moves.items():
        (lib / new).parent.mkdir(parents=True, exist_ok=True)
        (lib / new).write_bytes(contents[old])
        manifest["files"][new] = entries[old]
    (lib / MANIFEST).write_text(manifest_text(manifest), encoding="utf-8")


# What the per-file reading (bb33751) reported on these libraries, message for message and in order.
SWAPPED_INDICATORS = [
    ("library_schema", "指标 SZ-X000009 不应存放在 indicators/201.parquet"),
    ("library_schema", "指标 SZ-X000010 不应存放在 indicators/201.parquet"),
    ("library_schema", "指标 SZ-X000011 不应存放在 indicators/201.parquet"),
    ("library_schema", "指标 SZ-X000001 不应存放在 indicators/213.parquet"),
    ("library_schema", "指标 SZ-X000002 不应存放在 indicators/213.parquet"),
    ("library_schema", "指标 SZ-X000003 不应存放在 indicators/213.parquet"),
    ("library_schema", "指标 SZ-X000004 不应存放在 indicators/213.parquet"),
]

YEARS_AND_PLACES = [
    ("library_schema", "文件 set_aside/2024.parquet 中有 4 行的年度不是 2024"),
    ("library_schema", "文件 usages/2025/201.us.parquet 中有 4 行的年度不是 2025"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/208.us.parquet：SZ-X000009"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/208.us.parquet：SZ-X000010"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/208.us.parquet：SZ-X000011"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/213.us.parquet：SZ-X000005"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/213.us.parquet：SZ-X000006"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/213.us.parquet：SZ-X000007"),
    ("unique_ids", "使用记录放错了分区文件 usages/2026/213.us.parquet：SZ-X000008"),
]


def test_indicators_in_the_wrong_partition_are_named_per_file_in_order(tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    _relist(lib, {"indicators/201.parquet": "indicators/x.parquet"})
    _relist(lib, {"indicators/213.parquet": "indicators/201.parquet"})
    _relist(lib, {"indicators/x.parquet": "indicators/213.parquet"})
    assert [(p.check, p.message) for p in verify_library(lib)] == SWAPPED_INDICATORS


def test_rows_of_another_year_and_misplaced_usages(tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    _relist(lib, {"usages/2026/201.us.parquet": "usages/2025/201.us.parquet"})
    _relist(lib, {"usages/2026/208.us.parquet": "usages/2026/x.us.parquet"})
    _relist(lib, {"usages/2026/213.us.parquet": "usages/2026/208.us.parquet"})
    _relist(lib, {"usages/2026/x.us.parquet": "usages/2026/213.us.parquet"})
    _relist(lib, {"set_aside/2026.parquet": "set_aside/2024.parquet"})
    assert [(p.check, p.message) for p in verify_library(lib)] == YEARS_AND_PLACES


def test_publishing_reuses_the_checks_verdict_only_for_the_bytes_they_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = _library(tmp_path / "lib")
    assert all(c.passed for c in blocking_checks(lib))
    reads: list[str] = []
    real = verify._read_tables

    def counted(*args: object, **kw: object) -> object:
        reads.append("read")
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(verify, "_read_tables", counted)
    # the manifest's reports/ list, added just before the swap, is not part of what was verified
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "review.md").write_text("审核", encoding="utf-8")
    record_reports(lib, {"2026/review.md": reports / "review.md"})
    assert verify_again(lib) == [] and reads == []

    # one byte of one file changed since the checks: verified anew, from the files
    path = lib / "departments.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    problems = verify_again(lib)
    assert reads == ["read"] and any("sha256" in p and "departments.parquet" in p for p in problems)


def test_a_copy_elsewhere_or_a_changed_manifest_is_verified_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = _library(tmp_path / "lib")
    blocking_checks(lib)
    copy = tmp_path / "copy"
    shutil.copytree(lib, copy)
    reads: list[Path] = []
    real = verify._read_tables
    monkeypatch.setattr(verify, "_read_tables", lambda d, *a: reads.append(d) or real(d, *a))
    assert verify_again(copy) == [] and reads == [copy]  # not checked there: read
    manifest = publish.read_manifest(lib)
    assert manifest is not None
    manifest["rows"]["read"] += 1
    (lib / MANIFEST).write_text(manifest_text(manifest), encoding="utf-8")
    assert any("行数对不上" in p for p in verify_again(lib)) and reads == [copy, lib]
