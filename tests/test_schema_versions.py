"""Schema evolution (issue 12; docs/SCHEMA_VERSIONS.md): releases of other 1.x versions stay readable.

tests/data/releases/library-1.0.bundle is a real city repo holding v2024 and v2025 exactly as the 1.0
code wrote them (tests/data/releases/make_library_1_0.py is its record). It is read three ways:
- by this code as it is (`today`): once a column is added (SCHEMA_MINOR > 0) this is the plain
  "the previous version's releases stay readable" test;
- by this code one minor version later (`next_minor`: indicators gain reference_note, usages gain
  baseline), which also writes v2026 with those columns filled: v2024/v2025 read with them empty;
- v2026 read back by this code as it is: a release of a newer minor version whose extra columns it does
  not know, read without them.
diff, history, search, export and pull all run across the releases. A release of a newer major version
is refused with a Chinese message (exit 2).

Today's code is format 1.1 (issue 13's columns: indicators standard_source, indicator_source; usages the
row's own wording and everything else written). So the 1.0 bundle is also read as the previous version by
today's code, each command on its own (the new columns read ""), and `today_city` holds a 1.1 release
written by today's writer on top of it: it carries the new columns, and every command reads across the two.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pandera.typing import Series

import schemas.library as library_schema
from pipelines.cli import main
from pipelines.county.mirror import PullError
from pipelines.county.pull import pull
from pipelines.county.upstream import upstream_indicators
from pipelines.store import publish
from pipelines.store.export import export_library
from pipelines.store.publish import table_files
from pipelines.store.query.diff import diff, render_diff_text
from pipelines.store.query.git_read import clear_cache, indicators_at, usages_at
from pipelines.store.query.history import history, render_history_text
from pipelines.store.query.search import search
from pipelines.store.repo import commit_release, open_repo
from pipelines.store.shape import (
    ReleaseShapeError,
    Version,
    columns_at,
    conform,
    current_version,
    read_release_table,
    schema_problems,
)
from pipelines.store.verify import verify_release
from schemas.library import TITLES_ZH, IndicatorTable, LibraryTables, UsageTable, added_in
from tests.git_env import git, isolate_git, publish_tables
from tests.library_fixtures import make_id

BUNDLE = Path(__file__).parent / "data" / "releases" / "library-1.0.bundle"
A, B, C, E, F = (make_id("项目", n) for n in (1, 2, 3, 5, 6))
NEXT_COLUMN, NEXT_USAGE_COLUMN = "reference_note", "baseline"
NOTE = "《培训管理办法》第三条"
ONE_ZERO = Version(1, 0)


@contextlib.contextmanager
def next_minor() -> Iterator[int]:
    """This code one minor version later: indicators gain reference_note (text), usages baseline (a
    nullable number), each declared with added_in as docs/SCHEMA_VERSIONS.md asks."""
    minor = library_schema.SCHEMA_MINOR + 1

    class NextIndicators(IndicatorTable):
        reference_note: Series[str] = added_in(minor, "")

    class NextUsages(UsageTable):
        baseline: Series[float] = added_in(minor, None, nullable=True)

    added = {"indicators": (NextIndicators, pa.string()), "usages": (NextUsages, pa.float64())}
    with pytest.MonkeyPatch.context() as mp:
        for name, (model, arrow_type) in added.items():
            column = NEXT_COLUMN if name == "indicators" else NEXT_USAGE_COLUMN
            mp.setitem(publish.SPECS, name, dataclasses.replace(publish.SPECS[name], model=model))
            arrow = publish.SPECS[name].arrow_schema.append(pa.field(column, arrow_type))
            mp.setitem(publish._ARROW_SCHEMAS, name, arrow)
        mp.setattr(library_schema, "SCHEMA_MINOR", minor)
        clear_cache()  # tables parsed in today's shape must not be served in the next one
        try:
            yield minor
        finally:
            clear_cache()


def publish_next_minor(root: Path, minor: int) -> str:
    """v2026 written by the next minor version's writer: E's keywords modified, reference_note and
    baseline filled for A; the manifest names the version. Committed and tagged as a rebuild does."""
    library = root / publish.LIBRARY_DIR
    tables = LibraryTables(**{name: read_release_table(library, name) for name in publish.SPECS})
    ind, use = tables.indicators, tables.usages.copy()
    ind[NEXT_COLUMN] = [NOTE if i == A else "" for i in ind["indicator_id"]]
    ind.loc[ind["indicator_id"] == E, ["keywords", "last_change_year", "last_change_type"]] = [
        "成本;预算;绩效",
        2026,
        "修改",
    ]
    ind.loc[ind["indicator_id"] == E, "last_change_reason"] = "补充关键词"
    this_year = use[use["year"] == 2025].assign(year=2026)
    tables.usages = pd.concat([use, this_year], ignore_index=True)
    baseline = (tables.usages["indicator_id"] == A) & (tables.usages["year"] == 2026)
    tables.usages[NEXT_USAGE_COLUMN] = [12.0 if b else float("nan") for b in baseline]
    staging = root / ".next-minor"
    manifest = publish.write_release(tables, staging, year=2026, accounting=_accounting(tables, 2026))
    manifest["schema_minor"] = minor  # what the writer of that version puts there (manifest_version())
    (staging / publish.MANIFEST).write_text(publish.manifest_text(manifest), encoding="utf-8")
    (root / "reports" / "2026").mkdir(parents=True)
    (root / "reports" / "2026" / "CHANGELOG.md").write_text("# 2026 年度指标库变更\n", encoding="utf-8")
    publish.record_reports(staging, publish.files_under(root / "reports"))
    shutil.rmtree(library)
    staging.rename(library)
    result = commit_release(open_repo(root), 2026, {"modified": 1})
    assert result.committed
    return str(result.tag)


def _accounting(tables: LibraryTables, year: int) -> dict[str, int]:
    n = int((tables.usages["year"] == year).sum())
    return {"read": n, "library": n, "noncore": 0, "excluded": 0, "rejected": 0}


def checkout(root: Path, tag: str, where: Path) -> Path:
    """A working copy of the release at `tag` (export reads library/ from disk)."""
    git(root, "worktree", "add", "-q", "--detach", str(where), tag)
    return where


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clone of the bundle (v2024, v2025 by the 1.0 code) plus v2026 by the next minor version."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("home"), mp)
        root = tmp_path_factory.mktemp("city") / "repo"
        subprocess.run(["git", "clone", "-q", str(BUNDLE), str(root)], check=True)
        git(root, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
        with next_minor() as minor:
            assert publish_next_minor(root, minor) == "v2026"
        yield root


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


# --- the fixture is what the 1.0 code wrote -----------------------------------------------------------


def test_the_bundle_holds_releases_written_by_version_1_0(city: Path) -> None:
    for tag in ("v2024", "v2025"):
        manifest = json.loads(git(city, "show", f"{tag}:library/manifest.json"))
        assert manifest["schema_version"] == 1 and "schema_minor" not in manifest
    assert git(city, "tag", "-l").split() == ["v2024", "v2025", "v2026"]
    newer = json.loads(git(city, "show", "v2026:library/manifest.json"))
    assert newer["schema_minor"] == library_schema.SCHEMA_MINOR + 1


# --- this code, as it is ------------------------------------------------------------------------------


def test_today_reads_the_previous_versions_releases(city: Path, tmp_path: Path, git_home: None) -> None:
    changes = diff(city, "v2024", "v2025")
    assert set(changes.added["indicator_id"]) == {F}
    assert set(changes.retired["indicator_id"]) == {C}
    assert set(changes.merged["indicator_id"]) == {B}
    assert {"unit", "definition"} <= set(changes.modified.loc[changes.modified["indicator_id"] == A, "field"])
    h = history(city, A)
    assert [s.tag for s in h.releases] == ["v2024", "v2025", "v2026"]
    assert "统一计量口径" in render_history_text(h)
    assert search(city, "培训人次", ref="v2024")["indicator_id"].tolist()[:2] == [A, B]
    out = export_library(checkout(city, "v2024", tmp_path / "v2024"), "csv", tmp_path / "v2024.csv")
    assert "培训人次" in out.read_text(encoding="utf-8-sig")


# --- today's code (1.1) on the 1.0 releases, command by command: the 1.1 columns read "" ----------------

NEW_INDICATOR_COLUMNS = [
    c for c in publish.SPECS["indicators"].columns if c not in columns_at("indicators", ONE_ZERO)
]
NEW_USAGE_COLUMNS = [c for c in publish.SPECS["usages"].columns if c not in columns_at("usages", ONE_ZERO)]
SOURCE, RULE = "《培训费管理办法》第五条", "完成得满分，未完成不得分"
EXTRA = '{"备注": "按季度统计", "责任科室": "办公室"}'


def test_the_new_columns_are_those_of_minor_1() -> None:
    assert library_schema.SCHEMA_MINOR >= 1 and current_version() >= Version(1, 1)
    assert set(NEW_INDICATOR_COLUMNS) >= {"standard_source", "indicator_source"}
    assert set(NEW_USAGE_COLUMNS) >= {
        "definition",
        "standard_source",
        "value_method",
        "scoring_rule",
        "extra",
    }
    assert all(added_in_of("usages", c) == 1 for c in NEW_USAGE_COLUMNS)


def added_in_of(name: str, column: str) -> int:
    return int((publish.SPECS[name].schema.columns[column].metadata or {}).get(library_schema.SINCE, 0))


def test_today_reads_1_0_releases_from_git_with_the_new_columns_empty(city: Path, git_home: None) -> None:
    clear_cache()
    for tag in ("v2024", "v2025"):
        ind, use = indicators_at(city, tag), usages_at(city, tag)
        assert list(ind.columns) == publish.SPECS["indicators"].columns
        assert list(use.columns) == publish.SPECS["usages"].columns
        assert len(ind) and len(use)
        for frame, columns in ((ind, NEW_INDICATOR_COLUMNS), (use, NEW_USAGE_COLUMNS)):
            assert {c: frame[c].eq("").all() for c in columns} == dict.fromkeys(columns, True), tag


def test_today_diffs_two_1_0_releases_without_inventing_changes(city: Path, git_home: None) -> None:
    changes = diff(city, "v2024", "v2025")
    assert not set(changes.modified["field"]) & set(NEW_INDICATOR_COLUMNS)
    assert main(["diff", "v2024", "v2025", "--repo", str(city)]) == 0


def test_today_follows_history_across_1_0_releases(city: Path, git_home: None) -> None:
    h = history(city, A)
    fields = {f["field"] for s in h.releases for e in s.events for f in e.get("fields", [])}
    assert fields and not fields & set(NEW_INDICATOR_COLUMNS)
    assert main(["history", A, "--repo", str(city)]) == 0


def test_today_searches_a_1_0_release(city: Path, tmp_path: Path, git_home: None) -> None:
    found = search(city, "培训人次", ref="v2025")
    assert found["indicator_id"].tolist()[:1] == [A]
    assert main(["search", "培训人次", "--repo", str(checkout(city, "v2024", tmp_path / "v2024"))]) == 0


def test_today_exports_a_1_0_release_with_the_new_columns_empty(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    old = checkout(city, "v2025", tmp_path / "v2025")
    csv = pd.read_csv(export_library(old, "csv", tmp_path / "old.csv"), encoding="utf-8-sig", dtype=str)
    assert A in set(csv[TITLES_ZH["indicator_id"]])
    for column in ("standard_source", "indicator_source"):
        assert csv[TITLES_ZH[column]].isna().all(), column  # an empty cell
    assert export_library(old, "xlsx", tmp_path / "old.xlsx").is_file()


def test_today_pulls_1_0_releases_with_the_new_columns_empty(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    into = tmp_path / "county"
    assert pull(str(city), "v2024", into).status == "new"
    moved = pull(str(city), "v2025", into)
    assert moved.status == "updated" and moved.changes is not None and len(moved.changes.added)
    pulled = upstream_indicators(into)
    assert list(pulled.columns) == publish.SPECS["indicators"].columns
    assert pulled[NEW_INDICATOR_COLUMNS].eq("").all().all()
    assert read_release_table(into / publish.LIBRARY_DIR, "usages")[NEW_USAGE_COLUMNS].eq("").all().all()
    departments = read_release_table(into / publish.LIBRARY_DIR, "departments")
    assert len(departments) and departments["function_basis"].eq("").all()


# --- a 1.1 release written by today's code on top of the 1.0 ones ------------------------------------------


@pytest.fixture(scope="module")
def today_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A clone of the bundle (v2024, v2025 by the 1.0 code) plus v2026 published by today's code the way a
    rebuild publishes (staged, verified, committed and tagged): A's standard source set by a 修改, this
    year's usages with a 评（扣）分标准 and the cells of unknown columns."""
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(tmp_path_factory.mktemp("home"), mp)
        root = tmp_path_factory.mktemp("today") / "repo"
        subprocess.run(["git", "clone", "-q", str(BUNDLE), str(root)], check=True)
        git(root, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
        clear_cache()
        library = root / publish.LIBRARY_DIR
        tables = LibraryTables(**{name: read_release_table(library, name) for name in publish.SPECS})
        ind = tables.indicators
        a = ind["indicator_id"] == A
        ind.loc[a, "standard_source"] = SOURCE
        ind.loc[a, "last_change_year"] = 2026
        ind.loc[a, ["last_change_type", "last_change_reason"]] = ["修改", "补充标准来源"]
        use = tables.usages
        this_year = use[use["year"] == 2025].assign(year=2026, scoring_rule=RULE, extra=EXTRA)
        tables.usages = pd.concat([use, this_year], ignore_index=True)
        result = publish_tables(root, tables, 2026, accounting=_accounting(tables, 2026))
        assert result.committed and result.tag == "v2026"
        clear_cache()
        yield root
        clear_cache()


def test_a_release_written_today_carries_the_new_columns(today_city: Path, git_home: None) -> None:
    manifest = json.loads(git(today_city, "show", "v2026:library/manifest.json"))
    assert (manifest["schema_version"], manifest["schema_minor"]) == (1, library_schema.SCHEMA_MINOR)
    library = today_city / publish.LIBRARY_DIR
    for name, columns in (("indicators", NEW_INDICATOR_COLUMNS), ("usages", NEW_USAGE_COLUMNS)):
        for path in table_files(library, name):
            schema = pq.read_schema(path)
            assert set(columns) <= set(schema.names), path
            assert schema_problems(schema, name, current_version(), path.name) == []
    assert verify_release(library) == []
    latest = indicators_at(today_city, "v2026").set_index("indicator_id")
    assert latest.at[A, "standard_source"] == SOURCE and latest.at[E, "standard_source"] == ""
    this_year = usages_at(today_city, "v2026", 2026)
    assert this_year["scoring_rule"].eq(RULE).all() and this_year["extra"].eq(EXTRA).all()
    assert usages_at(today_city, "v2026", 2025)["scoring_rule"].eq("").all()  # the 1.0 years stay empty


def test_every_command_reads_across_a_1_0_and_a_1_1_release(
    today_city: Path, tmp_path: Path, git_home: None
) -> None:
    changes = diff(today_city, "v2025", "v2026")  # 1.0 → 1.1: the first filling is a change like any
    assert changes.modified[["indicator_id", "field", "old", "new"]].values.tolist() == [
        [A, "standard_source", "", SOURCE]
    ]
    assert "指标标准来源" in render_diff_text(changes)
    last = history(today_city, A).releases[-1]
    assert [(f["field_zh"], f["new"]) for e in last.events for f in e["fields"]] == [("指标标准来源", SOURCE)]
    assert "补充标准来源" in render_history_text(history(today_city, A))
    assert search(today_city, "培训人次")["indicator_id"].tolist()[:1] == [A]
    csv = pd.read_csv(export_library(today_city, "csv", tmp_path / "x.csv"), encoding="utf-8-sig", dtype=str)
    assert csv.set_index(TITLES_ZH["indicator_id"]).at[A, TITLES_ZH["standard_source"]] == SOURCE
    into = tmp_path / "county"
    assert pull(str(today_city), "v2025", into).status == "new"
    moved = pull(str(today_city), "v2026", into)
    assert moved.status == "updated" and moved.changes is not None
    assert moved.changes.modified[["indicator_id", "field"]].values.tolist() == [[A, "standard_source"]]
    assert upstream_indicators(into).set_index("indicator_id").at[A, "standard_source"] == SOURCE


# --- this code one minor version later: older releases read with the new columns empty ---------------


def test_next_minor_reads_older_releases_with_the_new_columns_empty(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    with next_minor():
        for tag in ("v2024", "v2025"):
            assert indicators_at(city, tag)[NEXT_COLUMN].tolist() == [""] * len(indicators_at(city, tag))
            assert usages_at(city, tag)[NEXT_USAGE_COLUMN].isna().all()
        latest = indicators_at(city, "v2026").set_index("indicator_id")
        assert latest.at[A, NEXT_COLUMN] == NOTE and latest.at[E, NEXT_COLUMN] == ""
        assert usages_at(city, "v2026", 2026).set_index("indicator_id").at[A, NEXT_USAGE_COLUMN] == 12.0

        across = diff(city, "v2025", "v2026")  # from a 1.0 release to one of this version
        assert across.modified[["indicator_id", "field"]].values.tolist() == [[E, "keywords"]]
        assert [s.tag for s in history(city, E).releases] == ["v2024", "v2025", "v2026"]
        assert history(city, E).releases[-1].events[0]["fields"][0]["new"] == "成本;预算;绩效"
        for ref in ("v2024", "v2026", None):
            assert search(city, "项目总成本", ref=ref)["indicator_id"].tolist() == [E]

        old = checkout(city, "v2024", tmp_path / "v2024")
        assert read_release_table(old / "library", "indicators")[NEXT_COLUMN].eq("").all()
        assert "培训人次" in export_library(old, "csv", tmp_path / "old.csv").read_text(encoding="utf-8-sig")


def test_next_minor_pulls_older_releases_and_reads_them_with_the_new_columns_empty(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    with next_minor():
        into = tmp_path / "county"
        assert pull(str(city), "v2024", into).status == "new"
        assert upstream_indicators(into)[NEXT_COLUMN].eq("").all()
        moved = pull(str(city), "v2026", into)
        assert moved.status == "updated" and moved.changes is not None
        assert moved.changes.modified[["indicator_id", "field"]].values.tolist()[-1] == [E, "keywords"]
        assert upstream_indicators(into).set_index("indicator_id").at[A, NEXT_COLUMN] == NOTE


# --- this code reading a release of a newer minor version ----------------------------------------------


def test_today_reads_a_newer_minor_release_without_its_unknown_columns(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    clear_cache()
    latest = indicators_at(city, "v2026")
    assert list(latest.columns) == publish.SPECS["indicators"].columns  # reference_note left out
    assert NEXT_USAGE_COLUMN not in usages_at(city, "v2026").columns
    changes = diff(city)  # the last two tags: v2025 (1.0) → v2026 (newer)
    assert changes.modified[["indicator_id", "field"]].values.tolist() == [[E, "keywords"]]
    assert "补充关键词" in render_diff_text(changes)
    assert [s.changed for s in history(city, E).releases] == [True, False, True]
    assert search(city, "培训人次")["indicator_id"].tolist() == [A]  # the working tree holds v2026
    xlsx = export_library(city, "xlsx", tmp_path / "v2026.xlsx")
    assert xlsx.is_file()


def test_today_pulls_a_newer_minor_release(city: Path, tmp_path: Path, git_home: None) -> None:
    into = tmp_path / "county"
    assert pull(str(city), "v2025", into).status == "new"
    result = pull(str(city), "v2026", into)
    assert result.status == "updated" and result.files_verified > 0
    assert result.changes is not None and len(result.changes.modified) == 1
    assert list(upstream_indicators(into).columns) == publish.SPECS["indicators"].columns


# --- a release of a newer major version -----------------------------------------------------------------


def forge_major(root: Path, major: int) -> str:
    """A commit whose library/manifest.json names another major version, tagged v2027."""
    manifest = json.loads(git(root, "show", "v2026:library/manifest.json"))
    manifest["schema_version"] = major
    manifest.pop("schema_minor", None)  # version major.0
    blob = (
        subprocess.run(
            ["git", "-C", str(root), "hash-object", "-w", "--stdin"],
            input=publish.manifest_text(manifest).encode("utf-8"),
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .strip()
    )
    index = root / ".git" / "forge-index"

    def plumbing(*args: str) -> str:
        env = {**os.environ, "GIT_INDEX_FILE": str(index)}
        return subprocess.run(
            ["git", "-C", str(root), *args], check=True, capture_output=True, env=env
        ).stdout.decode()

    plumbing("read-tree", "v2026")
    plumbing("update-index", "--cacheinfo", f"100644,{blob},library/manifest.json")
    tree = plumbing("write-tree").strip()
    index.unlink()
    who = ("-c", "user.name=tester", "-c", "user.email=tester@example.org")
    commit = git(root, *who, "commit-tree", tree, "-p", "v2026^{commit}", "-m", f"格式 {major}.0").strip()
    git(root, "tag", "v2027", commit)
    return commit


def test_a_newer_major_release_is_refused_in_chinese(
    city: Path, tmp_path: Path, git_home: None, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(city), str(work)], check=True)
    git(work, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    forge_major(work, 2)
    clear_cache()
    for ask in (
        lambda: diff(work, "v2026", "v2027"),
        lambda: history(work, A),
        lambda: search(work, "培训", ref="v2027"),
        lambda: export_library(checkout(work, "v2027", tmp_path / "v2027"), "csv", tmp_path / "x.csv"),
    ):
        with pytest.raises(
            ReleaseShapeError, match=f"数据格式版本为 2.0，比本程序支持的 {current_version()} 新.*请升级"
        ):
            ask()
    with pytest.raises(PullError, match="请升级") as refused:
        pull(str(work), "v2027", tmp_path / "county")
    assert refused.value.exit_code == 2 and not (tmp_path / "county").exists()
    assert main(["diff", "v2026", "v2027", "--repo", str(work)]) == 2
    assert "请升级 indicators 程序" in capsys.readouterr().err


# --- the rules themselves ---------------------------------------------------------------------------------


def test_file_columns_are_checked_against_the_releases_own_version() -> None:
    today = publish.SPECS["indicators"].arrow_schema
    assert schema_problems(today, "indicators", current_version(), "f") == []
    fewer = pa.schema([f for f in today if f.name != "keywords"])
    assert schema_problems(fewer, "indicators", current_version(), "f")  # a column of its own version
    newer = Version(1, library_schema.SCHEMA_MINOR + 1)
    assert schema_problems(today.append(pa.field("x", pa.string())), "indicators", newer, "f") == []
    retyped = pa.schema([pa.field(f.name, pa.int64()) if f.name == "unit" else f for f in today])
    assert any("unit" in p for p in schema_problems(retyped, "indicators", newer, "f"))
    with pytest.raises(ReleaseShapeError, match="keywords"):
        conform(fewer.empty_table(), "indicators", current_version())
    listed = pa.schema([pa.field("unit", pa.list_(pa.string())) if f.name == "unit" else f for f in today])
    with pytest.raises(ReleaseShapeError, match="列 unit 类型为 list"):
        conform(listed.empty_table(), "indicators", current_version())


def test_a_new_column_reads_as_its_declared_empty_value() -> None:
    with next_minor():
        table = conform(
            publish.SPECS["indicators"].arrow_schema.empty_table().drop_columns([NEXT_COLUMN]),
            "indicators",
            ONE_ZERO,
        )
        assert table.schema == publish.SPECS["indicators"].arrow_schema
        one_row = pa.table(
            {c: [None] for c in ("indicator_id",)}, schema=pa.schema([pa.field("indicator_id", pa.string())])
        )
        notes = conform(one_row, "indicators", ONE_ZERO, ("indicator_id", NEXT_COLUMN))
        assert notes[NEXT_COLUMN].to_pylist() == [""]
        uses = conform(
            pa.table({"year": pa.array([2024], pa.int64())}), "usages", ONE_ZERO, ("year", NEXT_USAGE_COLUMN)
        )
        assert uses[NEXT_USAGE_COLUMN].to_pylist() == [None]


def test_a_release_read_in_todays_shape_keeps_the_order_publish_wrote(
    city: Path, tmp_path: Path, git_home: None
) -> None:
    """read_release_table (what the rebuild builds on when its base release is of another 1.x minor) gives
    a 1.0 release's columns exactly as publish.load_library reads them, in today's order, the columns added
    since empty ("" where load_library, which reads files of today's version only, would give nulls)."""
    old = checkout(city, "v2025", tmp_path / "v2025") / publish.LIBRARY_DIR
    published = publish.load_library(old)
    assert published is not None
    for name in publish.SPECS:
        read = read_release_table(old, name)
        assert list(read.columns) == publish.SPECS[name].columns
        at_1_0 = columns_at(name, ONE_ZERO)
        pd.testing.assert_frame_equal(read[at_1_0], getattr(published, name)[at_1_0])
        for column in read.columns.difference(at_1_0):
            assert read[column].eq("").all(), (name, column)
    with next_minor():
        assert read_release_table(old, "indicators")[NEXT_COLUMN].eq("").all()
        assert read_release_table(old, "usages")[NEXT_USAGE_COLUMN].isna().all()
