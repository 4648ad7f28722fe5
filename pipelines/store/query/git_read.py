"""Releases read straight from git objects, in today's shape (no checkout: the working tree is never touched).

One `git cat-file --batch` call lists the library folders (and reads the manifest) of every release asked
about, one more fetches all the Parquet blobs needed, and pyarrow parses them from memory through
pipelines.store.shape, so a release written by an older or newer 1.x version reads as today's tables.
Objects are immutable, so folder listings, blob bytes and parsed tables are cached by sha within the
process (bounded): releases that share unchanged parts read and parse them once.
"""

from __future__ import annotations

import json
import subprocess
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import git
import pandas as pd
import pyarrow as pa

from pipelines.store.publish import LIBRARY_DIR, MANIFEST
from pipelines.store.repo import release_tags
from pipelines.store.shape import ReleaseShapeError, Version, concat, read_parquet, release_version, to_frame

RepoLike = git.Repo | str | Path
Listing = tuple[tuple[str, str, str], ...]  # (mode, name, sha) of a tree's entries
IND_DIR = f"{LIBRARY_DIR}/indicators"
USAGE_DIR = f"{LIBRARY_DIR}/usages"
TREE_MODE = "40000"


class QueryError(RuntimeError):
    """A question the library cannot answer as asked (unknown ref or id, no release yet): exit 2."""


class _LRU:
    """A bounded cache: a long-lived process (Dagster, a notebook) must not grow without end."""

    def __init__(self, limit: int, weigh: Callable[[Any], int] = lambda _v: 1):
        self.limit, self.weigh, self.total = limit, weigh, 0
        self.items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        hit = self.items.get(key)
        if hit is not None:
            self.items.move_to_end(key)
        return hit

    def put(self, key: Hashable, value: Any) -> Any:
        if key in self.items:
            self.total -= self.weigh(self.items.pop(key))
        self.items[key] = value
        self.total += self.weigh(value)
        while self.total > self.limit and len(self.items) > 1:
            self.total -= self.weigh(self.items.popitem(last=False)[1])
        return value

    def clear(self) -> None:
        self.items.clear()
        self.total = 0


# Git objects are immutable, so everything is keyed by sha (a folder by "<commit sha>:<path>").
_LISTINGS = _LRU(4096)  # "<commit>:<dir>" → Listing; () when the folder does not exist
_RAW = _LRU(256 << 20, weigh=len)  # blob sha → bytes (at most 256 MB)
_TABLES = _LRU(4096)  # (table, columns, blob sha, version) → Arrow table of one Parquet file
_VERSIONS = _LRU(4096)  # commit sha → the Version its library/manifest.json names


def open_library_repo(repo: RepoLike) -> git.Repo:
    """The git repo holding library/ (read only: unlike repo.open_repo it never writes or commits)."""
    if isinstance(repo, git.Repo):
        return repo
    try:
        return git.Repo(Path(repo))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise QueryError(
            f"{repo} 不是 git 仓库，无法读取指标库的发布版本（请用 --repo 指定指标库仓库）"
        ) from None


def _tags_hint(repo: git.Repo) -> str:
    tags = [t.tag for t in release_tags(repo)]
    if not tags:
        return "仓库中还没有发布标签。"
    shown = "、".join(tags[-10:])
    return f"已有的发布标签：{shown}{' 等' if len(tags) > 10 else ''}。"


def resolve_ref(repo: git.Repo, ref: str) -> str:
    """The commit sha a ref names (tag, branch, sha, HEAD, HEAD~1 …); QueryError when there is none."""
    ref = str(ref).strip()
    if not ref or ref.startswith("-"):
        raise QueryError(
            f"版本「{ref}」无效。请给出发布标签（如 v2026）、提交编号或 HEAD。{_tags_hint(repo)}"
        )
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except git.GitCommandError:
        raise QueryError(
            f"找不到版本「{ref}」。请给出发布标签（如 v2026）、提交编号或 HEAD。{_tags_hint(repo)}"
        ) from None


def _cat_file(repo: git.Repo, names: list[str]) -> list[tuple[str, bytes] | None]:
    """(type, content) of each named object, None when missing: one `git cat-file --batch` for all."""
    if not names:
        return []
    proc = subprocess.run(
        ["git", "--git-dir", str(repo.git_dir), "cat-file", "--batch"],
        input=("\n".join(names) + "\n").encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if proc.returncode:
        raise QueryError(f"读取 git 对象失败：{proc.stderr.decode('utf-8', 'replace').strip()}")
    out, pos = proc.stdout, 0
    objects: list[tuple[str, bytes] | None] = []
    for _name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("utf-8", "replace").split(" ")
        pos = end + 1
        if len(header) != 3:  # "<name> missing" / "<name> ambiguous"
            objects.append(None)
            continue
        size = int(header[2])
        objects.append((header[1], out[pos : pos + size]))
        pos += size + 1
    return objects


def _tree_entries(data: bytes) -> Listing:
    """(mode, name, sha) of a raw tree object: "<mode> <name>\\0<20-byte sha>" repeated."""
    entries, pos = [], 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        entries.append(
            (data[pos:space].decode(), data[space + 1 : nul].decode("utf-8"), data[nul + 1 : nul + 21].hex())
        )
        pos = nul + 21
    return tuple(entries)


def _read(
    repo: git.Repo, folders: list[str], commits: list[str]
) -> tuple[dict[str, Listing], dict[str, Version]]:
    """The entries of each folder and the version of each commit, cached or read in one git call."""
    found = {f: hit for f in dict.fromkeys(folders) if (hit := _LISTINGS.get(f)) is not None}
    known = {c: hit for c in dict.fromkeys(commits) if (hit := _VERSIONS.get(c)) is not None}
    todo = [f for f in dict.fromkeys(folders) if f not in found]
    later = [c for c in dict.fromkeys(commits) if c not in known]
    objects = _cat_file(repo, todo + [f"{c}:{LIBRARY_DIR}/{MANIFEST}" for c in later])
    for folder, obj in zip(todo, objects[: len(todo)], strict=True):
        found[folder] = _LISTINGS.put(folder, _tree_entries(obj[1]) if obj and obj[0] == "tree" else ())
    for commit, obj in zip(later, objects[len(todo) :], strict=True):
        manifest = _manifest(obj[1], commit) if obj and obj[0] == "blob" else None
        known[commit] = _VERSIONS.put(commit, release_version(manifest, where=f"提交 {commit[:10]}"))
    return found, known


def _manifest(data: bytes, commit: str) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        manifest = None
    if not isinstance(manifest, dict):
        raise ReleaseShapeError(
            f"提交 {commit[:10]} 的 {LIBRARY_DIR}/{MANIFEST} 不是合法的 JSON 对象，无法读取该版本"
        )
    return manifest


def listings(repo: git.Repo, folders: list[str]) -> dict[str, Listing]:
    """The entries of each "<commit>:<dir>" folder (() when it does not exist), one git call for all."""
    return _read(repo, folders, [])[0]


def versions(repo: git.Repo, commits: list[str]) -> dict[str, Version]:
    """The schema version of each commit's release (its manifest.json; today's when it has none);
    ReleaseShapeError when a release is of a version this code cannot read."""
    return _read(repo, [], commits)[1]


def parquet_shas(entries: Listing) -> list[str]:
    return [
        sha
        for mode, name, sha in sorted(entries, key=lambda e: e[1])
        if mode != TREE_MODE and name.endswith(".parquet")
    ]


def tables(
    repo: git.Repo, name: str, files: list[tuple[str, Version]], columns: tuple[str, ...] | None = None
) -> dict[str, pa.Table]:
    """Parsed Parquet blobs (sha, the version of the release holding it) in today's shape, only `columns`
    when given; blobs not yet read come in one git call."""
    wanted = dict(files)
    out = {s: hit for s, v in wanted.items() if (hit := _TABLES.get((name, columns, s, v))) is not None}
    todo = [s for s in wanted if s not in out]
    raw = {s: data for s in todo if (data := _RAW.get(s)) is not None}
    fetch = [s for s in todo if s not in raw]
    for sha, obj in zip(fetch, _cat_file(repo, fetch), strict=True):
        if obj is None:
            raise QueryError(f"git 对象 {sha} 缺失，仓库可能不完整（浅克隆？）")
        raw[sha] = _RAW.put(sha, obj[1])
    for sha in todo:
        table = read_parquet(raw[sha], name, wanted[sha], columns)
        out[sha] = _TABLES.put((name, columns, sha, wanted[sha]), table)
    return out


def indicator_tables(
    repo: git.Repo, commits: list[str], columns: tuple[str, ...] | None = None
) -> list[pa.Table]:
    """The indicators table (or some of its columns) of each commit; two git calls for all of them."""
    listing, version = _read(repo, [f"{c}:{IND_DIR}" for c in commits], commits)
    files = [[(s, version[c]) for s in parquet_shas(listing[f"{c}:{IND_DIR}"])] for c in commits]
    parsed = tables(repo, "indicators", [f for fs in files for f in fs], columns)
    return [concat([parsed[s] for s, _v in fs], "indicators", columns) for fs in files]


def usage_table(
    repo: git.Repo, commit: str, year: int | None = None, columns: tuple[str, ...] | None = None
) -> pa.Table:
    if year is None:
        years = listings(repo, [f"{commit}:{USAGE_DIR}"])[f"{commit}:{USAGE_DIR}"]
        folders = [
            f"{commit}:{USAGE_DIR}/{n}" for m, n, _s in sorted(years, key=lambda e: e[1]) if m == TREE_MODE
        ]
    else:
        folders = [f"{commit}:{USAGE_DIR}/{int(year)}"]
    listing, known = _read(repo, folders, [commit])
    version = known[commit]
    shas = [s for f in folders for s in parquet_shas(listing[f])]
    parsed = tables(repo, "usages", [(s, version) for s in shas], columns)
    return concat([parsed[s] for s in shas], "usages", columns)


def indicators_at(repo: RepoLike, ref: str) -> pd.DataFrame:
    """The indicators table of the release at `ref`, read from git objects (empty if it has none)."""
    r = open_library_repo(repo)
    return to_frame(indicator_tables(r, [resolve_ref(r, ref)])[0], "indicators")


def usages_at(repo: RepoLike, ref: str, year: int | None = None) -> pd.DataFrame:
    """The usages table at `ref` (only `year`'s usages when given), read from git objects."""
    r = open_library_repo(repo)
    return to_frame(usage_table(r, resolve_ref(r, ref), year), "usages")


def clear_cache() -> None:
    """Forget every object read and table parsed (tests; a process that wants its memory back)."""
    for cache in (_LISTINGS, _RAW, _TABLES, _VERSIONS):
        cache.clear()


def json_cell(value: object) -> object:
    """A cell of a release as plain JSON: lists of text, None for every kind of missing value."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
