"""A deployment repo whose past releases named usages files usages/<Y>/<part>.parquet (before parts.USAGE_SUFFIX
gave them <part>.us.parquet): the next rebuild reads that release, publishes every year under today's names
with the same bytes, and an older tag still reads — from git (diff, history), on disk (load, verify), and
pulled by a county — as the same tables as a repo that always had today's names.

Two repos get the same two releases (v2025, v2026): "old" writes v2025 as the code before did (the suffix
patched back to ".parquet"), "new" writes both with today's code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.county.pull import pull
from pipelines.store import parts
from pipelines.store.publish import LIBRARY_DIR, load_library
from pipelines.store.query.git_read import clear_cache, usages_at
from pipelines.store.query.history import history, history_json
from pipelines.store.release import _published_tables
from pipelines.store.shape import read_release_table
from pipelines.store.verify import verify_release
from tests.git_env import git, isolate_git, publish_tables
from tests.library_fixtures import department, small_rows, tables_from_rows, usage

OLD_SUFFIX = ".parquet"


def _tables(year: int):
    inds, uses, _depts, sets = small_rows(2025)
    if year == 2026:
        for row in inds:
            row["last_year"] = 2026
            row["departments"] = row["departments"] or ["101"]
        uses = uses + [
            usage(r, dept_code=r["departments"][0], year=2026, source_row=5 + k) for k, r in enumerate(inds)
        ]
    return tables_from_rows(inds, uses, [department(d, year=year) for d in ("101", "205")], sets)


def _build(root: Path, old_first: bool) -> None:
    with pytest.MonkeyPatch.context() as mp:
        if old_first:
            mp.setattr(parts, "USAGE_SUFFIX", OLD_SUFFIX)
        assert publish_tables(root, _tables(2025), 2025).tag == "v2025"
    assert publish_tables(root, _tables(2026), 2026).tag == "v2026"


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    """(old, new, bare copy of old) repos with the same releases v2025 and v2026."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(home, mp)
        top = tmp_path_factory.mktemp("repos")
        _build(top / "old", old_first=True)
        _build(top / "new", old_first=False)
        bare = top / "old.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        git(top / "old", "push", "-q", str(bare), "main", "--tags")
        yield top / "old", top / "new", bare


def _usage_blobs(root: Path, ref: str) -> dict[tuple[str, str], str]:
    """(year, part) → blob sha of every usages file at ref, whichever name it has."""
    out = {}
    for line in git(root, "ls-tree", "-r", ref, "--", f"{LIBRARY_DIR}/usages").splitlines():
        meta, path = line.split("\t", 1)
        year, name = path.split("/")[-2:]
        part = parts.usage_file_part(name)
        assert part is not None, path
        out[(year, part)] = meta.split()[2]
    return out


def test_the_old_release_has_the_old_names_and_the_next_one_renames_every_year(repos) -> None:
    old, new, _bare = repos
    names = git(old, "ls-tree", "-r", "--name-only", "v2025", "--", f"{LIBRARY_DIR}/usages").split()
    assert names and not any(n.endswith(".us.parquet") for n in names)
    now = git(old, "ls-tree", "-r", "--name-only", "v2026", "--", f"{LIBRARY_DIR}/usages").split()
    assert {n.rsplit("/", 2)[1] for n in now} == {"2025", "2026"}
    assert all(n.endswith(".us.parquet") for n in now)  # no file left under its old name
    # 2025's files renamed, not rewritten: the same blobs as in v2025, and as the new repo's
    before, after = _usage_blobs(old, "v2025"), _usage_blobs(old, "v2026")
    assert {k: v for k, v in after.items() if k[0] == "2025"} == before
    assert after == _usage_blobs(new, "v2026")
    assert before == _usage_blobs(new, "v2025")


def test_an_old_release_reads_as_the_same_tables(repos, tmp_path) -> None:
    old, new, _bare = repos
    clear_cache()
    assert len(usages_at(old, "v2025")) > 0
    pd.testing.assert_frame_equal(usages_at(old, "v2025"), usages_at(new, "v2025"))
    pd.testing.assert_frame_equal(usages_at(old, "v2026", 2025), usages_at(new, "v2025", 2025))
    # what a rebuild loads as the last release: the working tree checked out at the old tag
    for side in (old, new):
        git(side, "worktree", "add", "-q", "--detach", str(tmp_path / side.name), "v2025")
    lib_old, lib_new = (tmp_path / side.name / LIBRARY_DIR for side in (old, new))
    assert sorted(p.name for p in (lib_old / "usages" / "2025").iterdir())[0].endswith(".parquet")
    assert verify_release(lib_old) == []
    loaded_old, loaded_new = load_library(lib_old), load_library(lib_new)
    for name in ("indicators", "usages", "departments", "set_aside"):
        pd.testing.assert_frame_equal(getattr(loaded_old, name), getattr(loaded_new, name))
    published = _published_tables(lib_old)
    assert published is not None
    pd.testing.assert_frame_equal(published.usages, loaded_new.usages)
    pd.testing.assert_frame_equal(
        read_release_table(lib_old, "usages"), read_release_table(lib_new, "usages")
    )


def test_history_reads_the_departments_of_releases_of_either_name(repos) -> None:
    old, new, _bare = repos
    clear_cache()
    iid = str(usages_at(new, "v2026", 2026)["indicator_id"].iloc[0])
    got, want = (history_json(history(side, iid)) for side in (old, new))
    for h in (got, want):  # the release commits differ (other trees): everything else is the same
        for release in h["releases"]:  # type: ignore[union-attr]
            release.pop("sha")
    assert got == want
    departments = [e.get("departments") for e in got["releases"]]  # type: ignore[union-attr]
    assert len(departments) == 2 and all(departments), departments


def test_a_county_pulls_the_old_tag_then_the_new_one(repos, tmp_path) -> None:
    _old, new, bare = repos
    into = tmp_path / "county"
    result = pull(str(bare), "v2025", into)
    assert result.tag == "v2025"
    assert verify_release(into / LIBRARY_DIR) == []
    assert any(p.name.endswith(".parquet") and ".us." not in p.name for p in (into / LIBRARY_DIR).rglob("*"))
    clear_cache()
    pd.testing.assert_frame_equal(read_release_table(into / LIBRARY_DIR, "usages"), usages_at(new, "v2025"))
    result = pull(str(bare), None, into)
    assert (result.tag, result.status) == ("v2026", "updated")
    assert verify_release(into / LIBRARY_DIR) == []
    usages = sorted(p.name for p in (into / LIBRARY_DIR / "usages").rglob("*.parquet"))
    assert usages and all(n.endswith(".us.parquet") for n in usages)
    pd.testing.assert_frame_equal(read_release_table(into / LIBRARY_DIR, "usages"), usages_at(new, "v2026"))
