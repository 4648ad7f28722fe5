"""Publish: deterministic Parquet layout, manifest, verification, the atomic swap and commit of the rebuild's
publish step (issue "library" item 5)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.store import publish, release, swap
from pipelines.store.publish import (
    MANIFEST,
    PREVIOUS_DIR,
    STAGING_DIR,
    PublishError,
    load_library,
    recover_interrupted,
    write_release,
)
from pipelines.store.release import load_previous
from pipelines.store.repo import CommitResult
from pipelines.store.verify import verify_release
from schemas.library import SCHEMA_VERSION, IndicatorTable, LibraryTables, SetAsideTable, UsageTable
from tests.git_env import git, isolate_git, publish_tables
from tests.library_fixtures import (
    accounting_for,
    indicator,
    make_id,
    small_rows,
    small_tables,
    tables_from_rows,
    usage,
)

YEAR = 2026


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def shuffled(tables: LibraryTables, seed: int) -> LibraryTables:
    return LibraryTables(
        **{
            name: getattr(tables, name).sample(frac=1, random_state=seed).reset_index(drop=True)
            for name in ("indicators", "usages", "departments", "set_aside")
        }
    )


def write(tables: LibraryTables, out: Path, year: int = YEAR, **kw) -> dict:
    return write_release(tables, out, year=year, accounting=accounting_for(tables, year), **kw)


def test_same_tables_give_byte_identical_files_whatever_the_row_order(tmp_path):
    tables = small_tables()
    m1 = write(tables, tmp_path / "a")
    m2 = write(shuffled(tables, seed=7), tmp_path / "b")
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert a == b
    assert m1 == m2
    assert set(a) == set(m1["files"]) | {MANIFEST}
    for rel, meta in m1["files"].items():
        assert meta["sha256"] == a[rel]


def test_layout_and_readers_read_whole_tables(tmp_path):
    tables = small_tables()
    manifest = write(tables, tmp_path / "lib")
    lib = tmp_path / "lib"
    assert sorted(p.name for p in (lib / "indicators").iterdir()) == [
        "201.parquet",
        "208.parquet",
        "213.parquet",
        "common.parquet",
        "dept.parquet",
    ]
    # usages/<Y>/<part>.us.parquet: not indicators/' base name (parts.USAGE_SUFFIX)
    assert sorted(p.name for p in (lib / "usages" / "2026").iterdir()) == [
        "201.us.parquet",
        "208.us.parquet",
        "213.us.parquet",
        "common.us.parquet",
        "dept.us.parquet",
    ]
    assert (lib / "departments.parquet").is_file()
    assert (lib / "set_aside" / "2026.parquet").is_file()

    inds = pd.read_parquet(lib / "indicators")
    uses = pd.read_parquet(lib / "usages")
    assert len(inds) == len(tables.indicators) == manifest["tables"]["indicators"]
    assert len(uses) == len(tables.usages) == manifest["tables"]["usages"]
    assert set(inds["indicator_id"]) == set(tables.indicators["indicator_id"])
    assert list(inds.columns) == list(IndicatorTable.to_schema().columns)
    assert list(uses.columns) == list(UsageTable.to_schema().columns)

    # one arrow schema per table, no pandas metadata in any file
    for folder in ("indicators", "usages"):
        schemas = {str(pq.read_schema(p)) for p in (lib / folder).rglob("*.parquet")}
        assert len(schemas) == 1, folder
    for p in lib.rglob("*.parquet"):
        meta = pq.read_schema(p).metadata or {}
        assert b"pandas" not in meta, p


def test_manifest_records_version_accounting_counts_and_hashes(tmp_path):
    tables = small_tables()
    acc = accounting_for(tables)
    manifest = write_release(
        tables, tmp_path / "lib", year=YEAR, accounting=acc, extra={"changes": {"新增": 3}}, release="v2026"
    )
    text = (tmp_path / "lib" / MANIFEST).read_text(encoding="utf-8")
    assert json.loads(text) == manifest
    assert text.endswith("}\n") and "新增" in text  # ensure_ascii=False
    assert text == json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["year"] == YEAR and manifest["release"] == "v2026"
    assert manifest["rows"] == acc and acc["read"] == sum(
        acc[k] for k in ("library", "noncore", "excluded", "rejected")
    )
    assert manifest["tables"]["set_aside"] == len(tables.set_aside)
    meta = manifest["files"]["indicators/208.parquet"]
    data = (tmp_path / "lib" / "indicators" / "208.parquet").read_bytes()
    assert meta == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "rows": 5}
    with pytest.raises(ValueError, match="保留字段"):
        write_release(tables, tmp_path / "x", year=YEAR, accounting=acc, extra={"files": {}})
    with pytest.raises(ValueError, match="read"):
        write_release(tables, tmp_path / "y", year=YEAR, accounting={"library": 1})


def test_load_library_round_trip(tmp_path):
    tables = small_tables()
    assert load_library(tmp_path / "lib") is None
    write(tables, tmp_path / "lib")
    loaded = load_library(tmp_path / "lib")
    assert loaded is not None
    IndicatorTable.validate(loaded.indicators)
    UsageTable.validate(loaded.usages)
    expected = tables.indicators.sort_values("indicator_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(loaded.indicators, expected)
    assert str(loaded.indicators["retired_year"].dtype) == "Int64"
    retired = loaded.indicators.set_index("indicator_id").loc[make_id("项目", 99)]
    assert retired["aliases"] == ["档案整理卷数", "整理档案数量"] and isinstance(retired["aliases"], list)
    assert retired["retired_year"] == YEAR
    assert loaded.indicators["retired_year"].isna().sum() == len(loaded.indicators) - 1
    # a workbook set aside whole has no row number: the null survives the round trip
    SetAsideTable.validate(loaded.set_aside)
    assert str(loaded.set_aside["source_row"].dtype) == "Int64"
    assert loaded.set_aside["source_row"].isna().sum() == 1 and len(loaded.set_aside) == len(tables.set_aside)
    # what was read writes back to the same bytes
    write(loaded, tmp_path / "again")
    assert snapshot(tmp_path / "lib") == snapshot(tmp_path / "again")


def test_change_in_one_class_rewrites_only_its_file(tmp_path):
    inds, uses, depts, sets = small_rows()
    write(tables_from_rows(inds, uses, depts, sets), tmp_path / "before")
    target = next(i for i in inds if i["function_class"] == "208" and i["status"] == "active")
    target["definition"] = "反映本年度新增档案整理移库的标箱数。"
    write(tables_from_rows(inds, uses, depts, sets), tmp_path / "after")
    before, after = snapshot(tmp_path / "before"), snapshot(tmp_path / "after")
    changed = {rel for rel in before if before[rel] != after.get(rel)}
    assert changed == {"indicators/208.parquet", MANIFEST}


def test_other_years_come_out_unchanged(tmp_path):
    inds, uses25, depts, sets = small_rows(2025)
    _, uses26, _, sets26 = small_rows(2026)
    for u in uses26:
        u["source_row"] += 100
    tables = tables_from_rows(inds, uses25 + uses26, depts, sets + sets26)
    write(tables, tmp_path / "first")
    uses26[0]["target"] = "12345"  # a correction of 2026 only
    write(tables_from_rows(inds, uses25 + uses26, depts, sets + sets26), tmp_path / "second")
    first, second = snapshot(tmp_path / "first"), snapshot(tmp_path / "second")
    old_year = [rel for rel in first if rel.startswith(("usages/2025/", "set_aside/2025"))]
    assert old_year and all(first[rel] == second[rel] for rel in old_year)
    assert any(first[rel] != second[rel] for rel in first if rel.startswith("usages/2026/"))
    assert len(pd.read_parquet(tmp_path / "second" / "usages")) == len(uses25) + len(uses26)


def test_empty_usages_still_give_a_readable_table(tmp_path):
    inds, _, depts, _ = small_rows()
    tables = tables_from_rows(inds, [], depts, [])
    write(tables, tmp_path / "lib")
    assert verify_release(tmp_path / "lib") == []
    assert len(pd.read_parquet(tmp_path / "lib" / "usages")) == 0
    assert list(pd.read_parquet(tmp_path / "lib" / "usages").columns) == list(UsageTable.to_schema().columns)


def test_verify_catches_tampering_missing_and_extra_files(tmp_path):
    lib = tmp_path / "lib"
    write(small_tables(), lib)
    assert verify_release(lib) == []

    path = lib / "indicators" / "213.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    problems = verify_release(lib)
    assert any("sha256" in p and "indicators/213.parquet" in p for p in problems)

    (lib / "usages" / "2026" / "201.us.parquet").unlink()
    (lib / "notes.txt").write_text("手工笔记", encoding="utf-8")
    problems = verify_release(lib)
    assert any("不存在" in p and "usages/2026/201.us.parquet" in p for p in problems)
    assert any("不在 manifest.json" in p and "notes.txt" in p for p in problems)
    assert any("入库" in p for p in problems)  # the removed usages no longer add up


def test_verify_checks_accounting_and_references(tmp_path):
    inds, uses, depts, sets = small_rows()
    uses.append(usage(indicator(make_id("项目", 500), "无主指标", function_code="2010101"), source_row=90))
    tables = tables_from_rows(inds, uses, depts, sets)
    acc = accounting_for(tables)
    acc["read"] += 1  # one row lost on the way
    write_release(tables, tmp_path / "lib", year=YEAR, accounting=acc)
    problems = verify_release(tmp_path / "lib")
    assert any("行数对不上" in p for p in problems)
    assert any(make_id("项目", 500) in p and "不存在" in p for p in problems)


def test_verify_reports_schema_violations(tmp_path):
    inds, uses, depts, sets = small_rows()
    inds[0]["status"] = "draft"
    inds[1]["indicator_id"] = inds[2]["indicator_id"]
    tables = LibraryTables(  # bypass the fixture's own validation
        indicators=pd.DataFrame(inds).astype({"retired_year": "Int64"}),
        usages=tables_from_rows([], uses, [], []).usages,
        departments=tables_from_rows([], [], depts, []).departments,
        set_aside=tables_from_rows([], [], [], sets).set_aside,
    )
    write(tables, tmp_path / "lib")
    problems = verify_release(tmp_path / "lib")
    assert any("status" in p for p in problems)
    assert any("指标编号重复" in p for p in problems)


# --- atomic publish ---------------------------------------------------------------------------------


def changed_tables() -> LibraryTables:
    inds, uses, depts, sets = small_rows()
    inds[0]["name"] = "培训班次"
    inds[0]["aliases"] = ["培训班次（会议次数）"]
    return tables_from_rows(inds, uses, depts, sets)


@pytest.fixture
def git_home(tmp_path, monkeypatch):
    isolate_git(tmp_path / "home", monkeypatch)


def do_publish(tables: LibraryTables, root: Path, accounting: dict[str, int] | None = None) -> CommitResult:
    """The rebuild's stage and publish steps: staged, verified, swapped in, committed and tagged."""
    return publish_tables(root, tables, YEAR, accounting=accounting)


def test_publish_swaps_in_a_verified_release(tmp_path, git_home):
    root = tmp_path / "repo"
    first = do_publish(small_tables(), root)
    assert first.committed and first.tag == f"v{YEAR}"
    assert verify_release(root / "library") == []
    manifest = json.loads((root / "library" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["rows"] == accounting_for(small_tables())
    assert git(root, "show", f"{first.tag}:library/{MANIFEST}") == (root / "library" / MANIFEST).read_text(
        "utf-8"
    )
    assert not (root / STAGING_DIR).exists() and not (root / PREVIOUS_DIR).exists()
    second = do_publish(changed_tables(), root)
    assert second.committed and second.tag == f"v{YEAR}.1"
    assert load_library(root / "library").indicators["name"].tolist().count("培训班次") == 1
    assert not (root / STAGING_DIR).exists() and not (root / PREVIOUS_DIR).exists()


def _fail_while_writing(monkeypatch):
    real = publish._write_file
    calls = []

    def flaky(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError("模拟：磁盘写满")
        real(path, data)

    monkeypatch.setattr(publish, "_write_file", flaky)


def _fail_in_verify(monkeypatch):
    def broken(_dir):
        raise RuntimeError("模拟：校验途中出错")

    monkeypatch.setattr(release, "verify_again", broken)


def _fail_between_renames(monkeypatch):
    real = os.replace

    def flaky(src, dst):
        if Path(src).name == STAGING_DIR:  # the library was moved aside; the new one never arrives
            raise OSError("模拟：替换途中中断")
        real(src, dst)

    monkeypatch.setattr(swap.os, "replace", flaky)


@pytest.mark.parametrize("inject", [_fail_while_writing, _fail_in_verify, _fail_between_renames])
def test_interrupted_publish_leaves_last_release_exactly(tmp_path, monkeypatch, git_home, inject):
    root = tmp_path / "repo"
    do_publish(small_tables(), root)
    before, head = snapshot(root / "library"), git(root, "rev-parse", "HEAD")
    with monkeypatch.context() as m:
        inject(m)
        with pytest.raises((OSError, RuntimeError)):
            do_publish(changed_tables(), root)
    assert snapshot(root / "library") == before and git(root, "rev-parse", "HEAD") == head
    assert not (root / PREVIOUS_DIR).exists()
    assert git(root, "status", "--porcelain").strip() == ""
    do_publish(changed_tables(), root)  # the next run succeeds
    assert snapshot(root / "library") != before
    assert verify_release(root / "library") == []
    assert not (root / STAGING_DIR).exists()


def test_failed_verification_publishes_nothing(tmp_path, git_home):
    root = tmp_path / "repo"
    do_publish(small_tables(), root)
    before, head = snapshot(root / "library"), git(root, "rev-parse", "HEAD")
    tables = changed_tables()
    acc = accounting_for(tables)
    acc["rejected"] += 2  # rows that vanished: must not be published
    acc["read"] += 2
    with pytest.raises(PublishError, match="未通过校验"):
        do_publish(tables, root, accounting=acc)
    assert snapshot(root / "library") == before and git(root, "rev-parse", "HEAD") == head


def test_crash_leftovers_are_recovered_at_next_call(tmp_path, git_home):
    root = tmp_path / "repo"
    do_publish(small_tables(), root)
    before = snapshot(root / "library")
    # a process killed between the two renames: library moved aside, half a staging folder
    os.replace(root / "library", root / PREVIOUS_DIR)
    (root / STAGING_DIR / "indicators").mkdir(parents=True)
    (root / STAGING_DIR / "indicators" / "201.parquet").write_bytes(b"half")
    assert recover_interrupted(root)
    assert snapshot(root / "library") == before
    assert not (root / STAGING_DIR).exists() and not (root / PREVIOUS_DIR).exists()

    # killed after the swap, before the old copy was removed: the next rebuild's first step removes it
    (root / PREVIOUS_DIR).mkdir()
    (root / PREVIOUS_DIR / "old.txt").write_text("旧", encoding="utf-8")
    load_previous(root, YEAR + 1)
    assert not (root / PREVIOUS_DIR).exists()
    do_publish(changed_tables(), root)
    assert verify_release(root / "library") == []


def test_staging_folders_are_git_ignored(tmp_path, git_home):
    root = tmp_path / "repo"
    do_publish(small_tables(), root)
    exclude = (root / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines()
    assert f"{STAGING_DIR}/" in exclude and f"{PREVIOUS_DIR}/" in exclude
