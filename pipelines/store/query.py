"""Questions asked of the published library: `indicators diff`, `history` and `search` (SPEC §4).

Releases are read straight from git objects (no checkout, the working tree is never touched): one
`git cat-file --batch` call lists the library folders of every release asked about, one more fetches
all the Parquet blobs needed, and pyarrow parses them from memory. Objects are immutable, so folder
listings, blob bytes and parsed tables are cached by sha within the process (bounded): releases that
share unchanged parts read and parse them once.

Changes are never computed here: diff and history both hand pipelines.consolidate.changes.diff_indicators the
rows that can have changed (an id on one side only, or one whose DIFF_FIELDS differ) and report its
change set, the one that commit messages, CHANGELOG.md and the review report also use.
History walks the release tags only (vY, vY.N), never every commit.
"""

from __future__ import annotations

import subprocess
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rapidfuzz import fuzz

from pipelines.consolidate.changes import EVENT_ZH, TRACKED_FIELDS, ChangeSet, diff_indicators
from pipelines.store.publish import LIBRARY_DIR, MANIFEST, SPECS, arrow_to_frame, indicator_part, table_files
from pipelines.store.repo import ReleaseTag, release_tags, working_tree
from schemas.library import STATUS_ZH, TITLES_ZH
from schemas.text import clean_text
from schemas.vocab import reference, resolve_framework

RepoLike = git.Repo | str | Path
EMPTY_REF_ZH = "（空库）"
EMPTY_VALUE_ZH = "（空）"
ID_COLUMNS = ("indicator_id", "merged_into")
DEPT_COLUMNS = ("indicator_id", "dept_code", "dept_name")
# Every column diff_indicators reads to decide on an event for an id present in both releases:
# equal in all of them → no event (keep in step with pipelines/consolidate/changes.py).
DIFF_FIELDS = ["indicator_id", "status", "merged_into", *TRACKED_FIELDS]


class QueryError(RuntimeError):
    """A question the library cannot answer as asked (unknown ref or id, no release yet): exit 2."""


# --- reading releases from git objects ----------------------------------------------------------------


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
_LISTINGS = _LRU(4096)  # "<commit>:<dir>" → ((mode, name, sha), …); () when the folder does not exist
_RAW = _LRU(256 << 20, weigh=len)  # blob sha → bytes (at most 256 MB)
_TABLES = _LRU(4096)  # (table, columns, blob sha) → Arrow table of one Parquet file

IND_DIR = f"{LIBRARY_DIR}/indicators"
USAGE_DIR = f"{LIBRARY_DIR}/usages"
_TREE_MODE = "40000"


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


def _tree_entries(data: bytes) -> tuple[tuple[str, str, str], ...]:
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


def _listings(repo: git.Repo, folders: list[str]) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """The entries of each "<commit>:<dir>" folder (() when it does not exist), one git call for all."""
    found = {f: hit for f in dict.fromkeys(folders) if (hit := _LISTINGS.get(f)) is not None}
    missing = [f for f in dict.fromkeys(folders) if f not in found]
    for folder, obj in zip(missing, _cat_file(repo, missing), strict=True):
        found[folder] = _LISTINGS.put(folder, _tree_entries(obj[1]) if obj and obj[0] == "tree" else ())
    return found


def _parquet_shas(entries: tuple[tuple[str, str, str], ...]) -> list[str]:
    return [
        sha
        for mode, name, sha in sorted(entries, key=lambda e: e[1])
        if mode != _TREE_MODE and name.endswith(".parquet")
    ]


def _schema(name: str, columns: tuple[str, ...] | None) -> pa.Schema:
    schema = SPECS[name].arrow_schema
    return pa.schema([schema.field(c) for c in columns]) if columns else schema


def _tables(
    repo: git.Repo, name: str, shas: list[str], columns: tuple[str, ...] | None = None
) -> dict[str, pa.Table]:
    """Parsed Parquet blobs (only `columns` when given); blobs not yet read come in one git call."""
    out = {s: hit for s in dict.fromkeys(shas) if (hit := _TABLES.get((name, columns, s))) is not None}
    todo = [s for s in dict.fromkeys(shas) if s not in out]
    raw = {s: data for s in todo if (data := _RAW.get(s)) is not None}
    fetch = [s for s in todo if s not in raw]
    for sha, obj in zip(fetch, _cat_file(repo, fetch), strict=True):
        if obj is None:
            raise QueryError(f"git 对象 {sha} 缺失，仓库可能不完整（浅克隆？）")
        raw[sha] = _RAW.put(sha, obj[1])
    schema = _schema(name, columns)
    for sha in todo:
        # ParquetFile, not pq.read_table: no dataset machinery for an in-memory file
        table = pq.ParquetFile(pa.BufferReader(raw[sha])).read(columns=list(columns) if columns else None)
        out[sha] = _TABLES.put((name, columns, sha), table.select(schema.names).cast(schema))
    return out


def _concat(tables: list[pa.Table], name: str, columns: tuple[str, ...] | None = None) -> pa.Table:
    return pa.concat_tables(tables) if tables else _schema(name, columns).empty_table()


def _indicator_tables(
    repo: git.Repo, commits: list[str], columns: tuple[str, ...] | None = None
) -> list[pa.Table]:
    """The indicators table (or some of its columns) of each commit; two git calls for all of them."""
    listing = _listings(repo, [f"{c}:{IND_DIR}" for c in commits])
    files = [_parquet_shas(listing[f"{c}:{IND_DIR}"]) for c in commits]
    parsed = _tables(repo, "indicators", [s for fs in files for s in fs], columns)
    return [_concat([parsed[s] for s in fs], "indicators", columns) for fs in files]


def _usage_table(
    repo: git.Repo, commit: str, year: int | None = None, columns: tuple[str, ...] | None = None
) -> pa.Table:
    if year is None:
        years = _listings(repo, [f"{commit}:{USAGE_DIR}"])[f"{commit}:{USAGE_DIR}"]
        folders = [
            f"{commit}:{USAGE_DIR}/{n}" for m, n, _s in sorted(years, key=lambda e: e[1]) if m == _TREE_MODE
        ]
    else:
        folders = [f"{commit}:{USAGE_DIR}/{int(year)}"]
    listing = _listings(repo, folders)
    shas = [s for f in folders for s in _parquet_shas(listing[f])]
    parsed = _tables(repo, "usages", shas, columns)
    return _concat([parsed[s] for s in shas], "usages", columns)


def _to_frame(table: pa.Table, name: str) -> pd.DataFrame:
    spec = SPECS[name]
    if table.num_rows:
        table = table.take(pc.sort_indices(table, [(k, "ascending") for k in spec.sort_keys]))
    return arrow_to_frame(table, spec)


def indicators_at(repo: RepoLike, ref: str) -> pd.DataFrame:
    """The indicators table of the release at `ref`, read from git objects (empty if it has none)."""
    r = open_library_repo(repo)
    return _to_frame(_indicator_tables(r, [resolve_ref(r, ref)])[0], "indicators")


def usages_at(repo: RepoLike, ref: str, year: int | None = None) -> pd.DataFrame:
    """The usages table at `ref` (only `year`'s usages when given), read from git objects."""
    r = open_library_repo(repo)
    return _to_frame(_usage_table(r, resolve_ref(r, ref), year), "usages")


def clear_cache() -> None:
    """Forget every object read and table parsed (tests; a process that wants its memory back)."""
    for cache in (_LISTINGS, _RAW, _TABLES):
        cache.clear()


# --- diff ---------------------------------------------------------------------------------------------


@dataclass
class ReleaseDiff(ChangeSet):
    """A ChangeSet between two refs, plus each side's counts and any id that vanished (a data fault:
    rows are never deleted, retirement is a status)."""

    releases: list[dict[str, Any]] = field(default_factory=list)  # ref, sha, total, active, retired, merged
    vanished: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return super().as_dict() | {"releases": self.releases, "vanished": self.vanished}


def default_refs(repo: RepoLike) -> tuple[str | None, str]:
    """The last two release tags; (None, the tag) when there is one release only."""
    tags = release_tags(open_library_repo(repo))
    if not tags:
        raise QueryError(
            "仓库中还没有发布版本（v年度 标签），无法比较。请先运行 indicators rebuild 发布指标库。"
        )
    return (tags[-2].tag if len(tags) > 1 else None), tags[-1].tag


def _status_counts(table: pa.Table) -> dict[str, int]:
    counts = {s: 0 for s in STATUS_ZH}
    for item in pc.value_counts(table["status"]).to_pylist():
        counts[item["values"]] = item["counts"]
    return {"total": table.num_rows} | counts


def _changed_rows(old: pa.Table, new: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The rows diff_indicators can report anything about: ids on one side only, ids where a column
    it reads (DIFF_FIELDS) differs, and the targets of those rows' merges (for their names). A row
    equal in all of those gives no event, so the unchanged bulk of a release is never turned into
    pandas. The change set itself is still diff_indicators' alone."""
    o_ids, n_ids = old["indicator_id"], new["indicator_id"]
    common = pc.filter(n_ids, pc.is_in(n_ids, o_ids))
    o = old.take(pc.index_in(common, value_set=o_ids))
    n = new.take(pc.index_in(common, value_set=n_ids))
    changed = pa.array([False] * len(common), type=pa.bool_())
    for f in DIFF_FIELDS:
        same = pc.fill_null(pc.equal(o[f], n[f]), False)
        changed = pc.or_(changed, pc.invert(same))
    keep = set(pc.filter(common, changed).to_pylist())
    keep |= set(pc.filter(n_ids, pc.invert(pc.is_in(n_ids, o_ids))).to_pylist())
    keep |= set(pc.filter(o_ids, pc.invert(pc.is_in(o_ids, n_ids))).to_pylist())
    rows_n = new.filter(pc.is_in(n_ids, pa.array(sorted(keep), type=pa.string())))
    keep |= {m for m in rows_n["merged_into"].to_pylist() if m}
    keys = pa.array(sorted(keep), type=pa.string())
    return old.filter(pc.is_in(o_ids, keys)), new.filter(pc.is_in(n_ids, keys))


def diff(repo_path: RepoLike, ref_a: str | None = None, ref_b: str | None = None) -> ReleaseDiff:
    """What changed from ref_a to ref_b, keyed by indicator_id (pipelines.consolidate.changes.diff_indicators).

    No refs: the last two release tags (from the empty library when there is one release only).
    ref_a only: ref_a → the latest release tag. ref_a None with ref_b: everything in ref_b is new.
    """
    repo = open_library_repo(repo_path)
    if ref_a is None and ref_b is None:
        ref_a, ref_b = default_refs(repo)
    elif ref_b is None:
        tags = release_tags(repo)
        ref_b = tags[-1].tag if tags else "HEAD"
    assert ref_b is not None
    sha_b = resolve_ref(repo, ref_b)
    sha_a = resolve_ref(repo, ref_a) if ref_a is not None else None
    tables = _indicator_tables(repo, [sha_b] + ([sha_a] if sha_a else []))
    new_t = tables[0]
    releases: list[dict[str, Any]] = [{"ref": ref_b, "sha": sha_b} | _status_counts(new_t)]
    vanished: list[str] = []
    old: pd.DataFrame | None = None
    if sha_a:
        old_t = tables[1]
        releases.insert(0, {"ref": ref_a, "sha": sha_a} | _status_counts(old_t))
        vanished = sorted(set(old_t["indicator_id"].to_pylist()) - set(new_t["indicator_id"].to_pylist()))
        old_t, new_t = _changed_rows(old_t, new_t)
        old = _to_frame(old_t, "indicators")
    base = diff_indicators(old, _to_frame(new_t, "indicators"), ref_a or "", ref_b)
    return ReleaseDiff(
        **{
            k: getattr(base, k)
            for k in ("ref_a", "ref_b", "added", "modified", "retired", "merged", "reactivated")
        },
        releases=releases,
        vanished=vanished,
    )


def _shown(value: object) -> str:
    text = "" if value is None else str(value)
    return text if text else EMPTY_VALUE_ZH


def _few(joined: str, shown: int = 10) -> str:
    """A 、-joined list cut to its first items: a city indicator can have dozens of departments."""
    items = joined.split("、")
    return joined if len(items) <= shown else f"{'、'.join(items[:shown])} 等 {len(items)} 个"


def _counts_line(rel: dict[str, Any]) -> str:
    ref = rel["ref"] or EMPTY_REF_ZH
    by_status = "，".join(f"{STATUS_ZH[s]} {rel[s]}" for s in STATUS_ZH)
    return f"  {ref}（{str(rel['sha'])[:10]}）：指标 {rel['total']} 个（{by_status}）"


def render_diff_text(changes: ChangeSet) -> str:
    """`indicators diff` as text: per-release counts, then 新增 / 修改 (字段：旧 → 新) / 退出 / 合并 / 恢复."""
    lines = [f"指标库变更：{changes.ref_a or EMPTY_REF_ZH} → {changes.ref_b}"]
    lines += [_counts_line(rel) for rel in getattr(changes, "releases", [])]
    lines.append(f"变更：{changes.counts_zh()}")
    if changes.empty:
        lines.append("两个版本之间指标没有变化。")

    if len(changes.added):
        lines += ["", f"新增（{len(changes.added)}）"]
        for r in changes.added.itertuples(index=False):
            depts = f"；使用部门：{_few(r.departments)}" if r.departments else ""
            why = f"；说明：{r.reason}" if r.reason else ""
            lines.append(f"  {r.indicator_id}  {r.name}（{r.scope}）{depts}{why}")

    if len(changes.modified):
        n_ids = changes.modified["indicator_id"].nunique()
        lines += ["", f"修改（{n_ids} 个指标，{len(changes.modified)} 处字段）"]
        for iid, group in changes.modified.groupby("indicator_id", sort=False):
            reasons = [r for r in dict.fromkeys(group["reason"]) if r]
            why = "；".join(reasons) if reasons else "（未填写）"
            lines.append(f"  {iid}  {group['name'].iloc[0]}  理由：{why}")
            for r in group.itertuples(index=False):
                label = TITLES_ZH.get(r.field, r.field)
                lines.append(f"    {label}：{_shown(r.old)} → {_shown(r.new)}")

    if len(changes.retired):
        lines += ["", f"退出（{len(changes.retired)}）"]
        for r in changes.retired.itertuples(index=False):
            lines.append(f"  {r.indicator_id}  {r.name}  原因：{_shown(r.reason)}")

    if len(changes.merged):
        lines += ["", f"合并（{len(changes.merged)}）"]
        for r in changes.merged.itertuples(index=False):
            lines.append(f"  {r.indicator_id} {r.name} → {r.into_id} {r.into_name}  理由：{_shown(r.reason)}")

    if len(changes.reactivated):
        lines += ["", f"恢复（{len(changes.reactivated)}）"]
        for r in changes.reactivated.itertuples(index=False):
            lines.append(f"  {r.indicator_id}  {r.name}  说明：{_shown(r.reason)}")

    vanished = getattr(changes, "vanished", [])
    if vanished:
        lines += [
            "",
            f"警告：{len(vanished)} 个指标在新版本中整行消失（指标库规定行不删除，退出应记为状态）：",
            "  " + "、".join(vanished),
        ]
    return "\n".join(lines) + "\n"


def diff_json(changes: ChangeSet) -> dict[str, object]:
    """`indicators diff --format json`: the change set's own dictionary (plus counts per release)."""
    return changes.as_dict()


# --- history ------------------------------------------------------------------------------------------

HISTORY_EVENT_ZH = EVENT_ZH | {"absorbed": "并入本指标", "vanished": "整行消失"}


@dataclass
class ReleaseState:
    """The indicator in one release: its status there, what changed since the previous release and
    which departments used it in that release's year."""

    tag: str
    year: int
    sha: str
    status: str
    name: str
    events: list[dict[str, Any]]
    departments: list[dict[str, str]]  # dept_code, dept_name

    @property
    def changed(self) -> bool:
        return bool(self.events)


@dataclass
class History:
    """Every release holding indicator_id, oldest first, with the events between releases."""

    indicator_id: str
    current: dict[str, Any]  # the row in the latest release that holds it
    releases: list[ReleaseState]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events of every release, flat, each with its tag and year."""
        return [{"tag": s.tag, "year": s.year} | e for s in self.releases for e in s.events]

    def as_dict(self) -> dict[str, object]:
        cur = self.current
        return {
            "indicator_id": self.indicator_id,
            "current": {k: _json_value(v) for k, v in cur.items()},
            "releases": [
                {
                    "tag": s.tag,
                    "year": s.year,
                    "sha": s.sha,
                    "status": s.status,
                    "name": s.name,
                    "events": s.events,
                    "departments": s.departments,
                }
                for s in self.releases
            ],
        }


def _json_value(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _normalize_id(indicator_id: str) -> str:
    # ids are ASCII: NFKC folds full-width letters/digits without loading the 繁→简 dictionaries
    return unicodedata.normalize("NFKC", str(indicator_id)).replace(" ", "").strip().upper()


def _related_ids(tables: list[pa.Table], iid: str) -> set[str]:
    """iid, every id it was merged into (following chains) and every id merged into it, across all
    releases: diff_indicators needs their rows on both sides of a release to see a merge."""
    related = {iid}
    for t in tables:
        related |= set(t.filter(pc.equal(t["merged_into"], iid))["indicator_id"].to_pylist())
    while True:
        found = set(related)
        for t in tables:
            rows = t.filter(pc.is_in(t["indicator_id"], pa.array(sorted(related))))
            found |= {m for m in rows["merged_into"].to_pylist() if m}
        if found == related:
            return related
        related = found


def _events(cs: ChangeSet, iid: str, row: dict[str, Any] | None, first: bool) -> list[dict[str, Any]]:
    """The events of iid in one release's change set (diff_indicators over the few related rows)."""

    def mine(frame: pd.DataFrame, column: str = "indicator_id") -> pd.DataFrame:
        return frame[frame[column] == iid] if len(frame) else frame

    events: list[dict[str, Any]] = []
    for r in mine(cs.added).itertuples(index=False):
        events.append({"type": "added", "reason": r.reason, "departments": r.departments})
    if first and row is not None and row["status"] == "merged":
        # diff_indicators leaves out an id that arrives already merged; its row says what happened
        events.append({"type": "added", "reason": row["last_change_reason"], "departments": ""})
        into = row["merged_into"]
        events.append({"type": "merged", "into_id": into, "into_name": "", "reason": row["retire_reason"]})
    modified = mine(cs.modified)
    if len(modified):
        reasons = [r for r in dict.fromkeys(modified["reason"]) if r]
        events.append(
            {
                "type": "modified",
                "reason": "；".join(reasons),
                "fields": [
                    {"field": f, "field_zh": TITLES_ZH.get(f, f), "old": o, "new": n}
                    for f, o, n in zip(modified["field"], modified["old"], modified["new"], strict=True)
                ],
            }
        )
    for r in mine(cs.retired).itertuples(index=False):
        events.append({"type": "retired", "reason": r.reason})
    for r in mine(cs.merged).itertuples(index=False):
        events.append({"type": "merged", "into_id": r.into_id, "into_name": r.into_name, "reason": r.reason})
    for r in mine(cs.merged, "into_id").itertuples(index=False):
        events.append(
            {"type": "absorbed", "from_id": r.indicator_id, "from_name": r.name, "reason": r.reason}
        )
    for r in mine(cs.reactivated).itertuples(index=False):
        events.append({"type": "reactivated", "reason": r.reason})
    for e in events:
        e["type_zh"] = HISTORY_EVENT_ZH[e["type"]]
    return events


def _departments(
    repo: git.Repo, tags: list[ReleaseTag], rows: list[dict | None], iid: str
) -> list[list[dict[str, str]]]:
    """Departments using iid in each release's own year. Usages are partitioned like their indicator
    (publish.indicator_part), so only that one file of usages/<year>/ is read per release."""
    folders = [f"{t.sha}:{USAGE_DIR}/{t.year}" for t in tags]
    listing = _listings(repo, [f for f, row in zip(folders, rows, strict=True) if row])
    files: list[str | None] = []
    for folder, row in zip(folders, rows, strict=True):
        if row is None:
            files.append(None)
            continue
        part = f"{indicator_part(row['scope'], row['function_class'])}.parquet"
        files.append(next((sha for _m, n, sha in listing[folder] if n == part), None))
    parsed = _tables(repo, "usages", [f for f in files if f], DEPT_COLUMNS)
    out: list[list[dict[str, str]]] = []
    for sha in files:
        if sha is None:
            out.append([])
            continue
        use = parsed[sha]
        mine = use.filter(pc.equal(use["indicator_id"], iid))
        pairs = dict(zip(mine["dept_code"].to_pylist(), mine["dept_name"].to_pylist(), strict=True))
        out.append([{"dept_code": c, "dept_name": pairs[c]} for c in sorted(pairs)])
    return out


def history(repo_path: RepoLike, indicator_id: str) -> History:
    """Every release (tag, in release order — not every commit) holding the indicator: what changed
    since the previous release and why, and which departments used it that year. Merges are followed:
    'merged into X' and 'Y merged into this one' are events.

    Cost: three `git cat-file --batch` calls whatever the number of releases; two columns of each
    release find the related ids, full rows are parsed only from the files holding them, and
    diff_indicators runs only where a column it reads differs between two releases.
    """
    repo = open_library_repo(repo_path)
    tags = release_tags(repo)
    if not tags:
        raise QueryError("仓库中还没有发布版本（v年度 标签）。请先运行 indicators rebuild 发布指标库。")
    iid = _normalize_id(indicator_id)
    commits = [t.sha for t in tags]
    related = _related_ids(_indicator_tables(repo, commits, ID_COLUMNS), iid)
    keys = pa.array(sorted(related), type=pa.string())
    listing = _listings(repo, [f"{c}:{IND_DIR}" for c in commits])
    rows: list[pa.Table] = []
    for c in commits:
        shas = _parquet_shas(listing[f"{c}:{IND_DIR}"])
        ids = _tables(repo, "indicators", shas, ID_COLUMNS)
        holding = [s for s in shas if pc.any(pc.is_in(ids[s]["indicator_id"], keys)).as_py()]
        full = _tables(repo, "indicators", holding)  # the bytes are cached: no further git call
        table = _concat(
            [full[s].filter(pc.is_in(full[s]["indicator_id"], keys)) for s in holding], "indicators"
        )
        rows.append(table.take(pc.sort_indices(table, [("indicator_id", "ascending")])))
    own = [r.filter(pc.equal(r["indicator_id"], iid)).to_pylist() for r in rows]
    if not any(own):
        raise QueryError(
            f"指标编号「{iid}」不在任何发布版本中（共查了 {len(tags)} 个版本）。可用 indicators search 按名称查找编号。"
        )
    spec = SPECS["indicators"]
    frames: dict[int, pd.DataFrame] = {}

    def frame(i: int) -> pd.DataFrame:
        if i not in frames:
            frames[i] = arrow_to_frame(rows[i], spec)
        return frames[i]

    own_rows = [o[0] if o else None for o in own]
    first = next(i for i, o in enumerate(own_rows) if o is not None)
    # from its first release on; a release where the row is missing (a fault) is shown, not skipped
    kept = [i for i in range(first, len(tags)) if own_rows[i] is not None or own_rows[i - 1] is not None]
    departments = dict(
        zip(kept, _departments(repo, [tags[i] for i in kept], [own_rows[i] for i in kept], iid), strict=True)
    )

    states: list[ReleaseState] = []
    current: dict[str, Any] = {}
    for i in kept:
        tag, row = tags[i], own_rows[i]
        was_here = i > 0 and own_rows[i - 1] is not None
        if was_here and rows[i].select(DIFF_FIELDS).equals(rows[i - 1].select(DIFF_FIELDS)):
            events: list[dict[str, Any]] = []  # nothing diff_indicators reads changed
        else:
            prev = frame(i - 1) if i else None
            changes = diff_indicators(prev, frame(i), tags[i - 1].tag if i else "", tag.tag)
            events = _events(changes, iid, row, first=not was_here)
        if row is None:  # a vanished row is a fault of the release, not a retirement
            events.append({"type": "vanished", "type_zh": HISTORY_EVENT_ZH["vanished"], "reason": ""})
        else:
            current = row
        states.append(
            ReleaseState(
                tag=tag.tag,
                year=tag.year,
                sha=tag.sha,
                status=row["status"] if row else "",
                name=row["name"] if row else "",
                events=events,
                departments=departments[i],
            )
        )
    return History(iid, current, states)


def _event_lines(e: dict[str, Any]) -> list[str]:
    kind = e["type"]
    if kind == "added":
        extra = f"；说明：{e['reason']}" if e["reason"] else ""
        return [f"  新增入库{extra}"]
    if kind == "modified":
        out = [f"  修改，理由：{e['reason'] or '（未填写）'}"]
        return out + [f"    {f['field_zh']}：{_shown(f['old'])} → {_shown(f['new'])}" for f in e["fields"]]
    if kind == "retired":
        return [f"  退出，原因：{_shown(e['reason'])}"]
    if kind == "merged":
        return [
            f"  合并：并入 {e['into_id']} {e['into_name']}，理由：{_shown(e['reason'])}"
            f"（此后的变化请查看 indicators history {e['into_id']}）"
        ]
    if kind == "absorbed":
        return [f"  {e['from_id']} {e['from_name']} 并入本指标，理由：{_shown(e['reason'])}"]
    if kind == "reactivated":
        return [f"  恢复使用，说明：{_shown(e['reason'])}"]
    return ["  警告：本版本中该指标整行消失（指标库规定行不删除，退出应记为状态）"]


def render_history_text(h: History) -> str:
    """`indicators history` as text: the indicator today, then one block per release."""
    cur = h.current
    status = STATUS_ZH.get(cur.get("status", ""), cur.get("status", ""))
    if cur.get("status") == "merged":
        status += f"（并入 {cur.get('merged_into', '')}）"
    elif cur.get("status") == "retired":
        status += f"（{cur.get('retired_year')} 年，{cur.get('retire_reason') or '原因未填写'}）"
    lines = [
        f"指标 {h.indicator_id}「{cur.get('name', '')}」的变更历史",
        f"范围：{cur.get('scope', '')}；一级/二级：{cur.get('level1', '')}/{cur.get('level2', '')}；"
        f"当前状态：{status}",
    ]
    changed = sum(s.changed for s in h.releases)
    lines.append(f"出现在 {len(h.releases)} 个发布版本中，其中 {changed} 个版本有变更。")
    for s in h.releases:
        lines += ["", f"{s.tag}（{s.year} 年度）：{STATUS_ZH.get(s.status, s.status) or '—'}"]
        for e in s.events:
            lines += _event_lines(e)
        if not s.events:
            lines.append("  无变更")
        if s.departments:
            depts = "、".join(f"{d['dept_code']} {d['dept_name']}".strip() for d in s.departments)
            lines.append(f"  本年度使用部门（{len(s.departments)}）：{depts}")
        else:
            lines.append("  本年度使用部门：无")
    return "\n".join(lines) + "\n"


def history_json(h: History) -> dict[str, object]:
    return h.as_dict()


# --- search -------------------------------------------------------------------------------------------

# Match tiers, best first (SPEC §4 "ranked by name, keywords, explanation"); partial_ratio breaks ties.
TIERS = (
    (100, "名称完全一致"),
    (90, "名称开头一致"),
    (80, "名称包含全部检索词"),
    (75, "曾用名/同义名称完全一致"),
    (70, "曾用名/同义名称包含检索词"),
    (60, "关键词匹配"),
    (50, "指标解释匹配"),
    (40, "名称包含检索字符"),
    (30, "检索词分别出现在名称、关键词或解释中"),
)
SEARCH_COLUMNS = [
    "indicator_id",
    "name",
    "scope",
    "level1",
    "level2",
    "unit",
    "function_code",
    "status",
    "n_departments",
    "departments",
    "aliases",
    "keywords",
    "score",
    "match",
    "similarity",
]


def _norm(text: object) -> str:
    """Search form: simplified, half-width, lower case, no spaces."""
    return clean_text(str(text or "")).lower().replace(" ", "")


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def _tier(q: str, terms: list[str], name: str, aliases: list[str], keywords: str, definition: str) -> int:
    if name == q:
        return 100
    if name.startswith(q):
        return 90
    if all(t in name for t in terms):
        return 80
    if q in aliases:
        return 75
    if any(all(t in a for t in terms) for a in aliases):
        return 70
    if keywords and all(t in keywords for t in terms):
        return 60
    if definition and all(t in definition for t in terms):
        return 50
    if all(_subsequence(t, name) for t in terms):
        return 40
    everything = "\n".join([name, *aliases, keywords, definition])
    if all(t in everything for t in terms):
        return 30
    return 0


def _level1_filter(level1: str) -> str:
    raw = clean_text(level1).replace(" ", "")
    values = reference().vocab_values["level1"]
    if raw in values:
        return raw
    resolved = resolve_framework(raw, "")
    if resolved.level1_ok:
        return resolved.level1
    raise QueryError(f"一级指标「{level1}」不在指标框架中，可用：{'、'.join(values)}")


def _class_filter(code: str) -> str:
    c = clean_text(str(code)).replace(" ", "")
    if not c.isdigit() or len(c) not in (3, 5, 7):
        raise QueryError(f"功能分类科目编码「{code}」无效：应为 3 位（类）、5 位（款）或 7 位（项）数字")
    return c


SEARCH_SOURCE = (
    "indicator_id",
    "name",
    "scope",
    "level1",
    "level2",
    "unit",
    "function_code",
    "status",
    "departments",
    "aliases",
    "keywords",
    "definition",
)


def _library_indicators(repo_path: RepoLike, ref: str | None) -> pa.Table:
    """The columns search reads, from the working tree's library/ (or the release at `ref`)."""
    if ref is not None:
        repo = open_library_repo(repo_path)
        return _indicator_tables(repo, [resolve_ref(repo, ref)], SEARCH_SOURCE)[0]
    root = working_tree(repo_path) if isinstance(repo_path, git.Repo) else Path(repo_path)
    library = root / LIBRARY_DIR
    if not (library / MANIFEST).is_file():
        raise QueryError(
            f"{root} 下没有已发布的指标库（{LIBRARY_DIR}/{MANIFEST} 不存在），请用 --repo 指定指标库仓库"
        )
    schema = _schema("indicators", SEARCH_SOURCE)
    parts = [
        pq.ParquetFile(path).read(columns=list(SEARCH_SOURCE)).select(schema.names).cast(schema)
        for path in table_files(library, "indicators")
    ]
    return _concat(parts, "indicators", SEARCH_SOURCE)


def search(
    repo_path: RepoLike,
    query: str,
    level1: str | None = None,
    function_class: str | None = None,
    limit: int | None = 20,
    include_retired: bool = False,
    ref: str | None = None,
) -> pd.DataFrame:
    """Ranked matches for `query` in the working tree's library (or the release at `ref`).

    Query and fields are compared after 繁→简 and full-width→half-width normalization. Order: tier
    (exact name > name prefix > name has every term > alias > keywords > explanation > looser name
    matches), then rapidfuzz partial_ratio on the name, then indicator_id. frame.attrs carries query,
    normalized and total (matches before the limit).
    """
    q = _norm(query)
    terms = [_norm(t) for t in clean_text(str(query or "")).split(" ") if _norm(t)]
    if not q:
        raise QueryError("检索词为空：请给出指标名称、关键词或解释中的文字")
    if limit is not None and int(limit) < 1:
        raise QueryError(f"--limit 应为正整数，收到 {limit}")
    want_level1 = _norm(_level1_filter(level1)) if level1 else None
    code = _class_filter(function_class) if function_class else None
    table = _library_indicators(repo_path, ref)
    if not include_retired:
        table = table.filter(pc.equal(table["status"], "active"))
    if code:
        table = table.filter(pc.starts_with(table["function_code"], code))
    cols = {c: table[c].to_pylist() for c in SEARCH_SOURCE}
    labels = dict(TIERS)
    records = []
    for i in range(table.num_rows):
        if want_level1 and _norm(cols["level1"][i]) != want_level1:
            continue
        name = _norm(cols["name"][i])
        aliases = [_norm(a) for a in cols["aliases"][i] or []]
        score = _tier(q, terms, name, aliases, _norm(cols["keywords"][i]), _norm(cols["definition"][i]))
        if not score:
            continue
        record = {c: cols[c][i] for c in SEARCH_SOURCE if c != "definition"}
        departments = record["departments"] or []
        record |= {
            "departments": departments,
            "aliases": record["aliases"] or [],
            "n_departments": len(departments),
            "score": score,
            "match": labels[score],
            "similarity": round(float(fuzz.partial_ratio(q, name)), 1),
        }
        records.append(record)
    hits = pd.DataFrame(records, columns=SEARCH_COLUMNS)
    hits = hits.sort_values(
        ["score", "similarity", "indicator_id"], ascending=[False, False, True], kind="mergesort"
    )
    total = len(hits)
    if limit is not None:
        hits = hits.head(int(limit))
    out = hits.reset_index(drop=True)
    out.attrs = {"query": str(query), "normalized": " ".join(terms), "total": total}
    return out


def render_search_text(hits: pd.DataFrame) -> str:
    """One line per hit: id, name, 一级/二级, unit, number of departments, why it matched."""
    query = hits.attrs.get("query", "")
    total = hits.attrs.get("total", len(hits))
    if not len(hits):
        return f"没有找到与「{query}」匹配的指标。可换用更短的词，或去掉 --level1 / --class 条件。\n"
    head = f"检索「{query}」：共 {total} 条匹配"
    head += f"，显示前 {len(hits)} 条" if total > len(hits) else ""
    lines = [head]
    for r in hits.itertuples(index=False):
        status = "" if r.status == "active" else f"〔{STATUS_ZH.get(r.status, r.status)}〕"
        unit = r.unit or "—"
        lines.append(
            f"  {r.indicator_id}  {r.name}{status}  {r.level1}/{r.level2}  单位：{unit}  "
            f"使用部门 {r.n_departments} 个  〔{r.match}〕"
        )
    return "\n".join(lines) + "\n"


def search_json(hits: pd.DataFrame) -> dict[str, object]:
    """`indicators search --format json`: the query, how many matched, and the ranked hits."""
    records = [{k: _json_value(v) for k, v in r.items()} for r in hits.to_dict("records")]
    return {
        "query": hits.attrs.get("query", ""),
        "normalized": hits.attrs.get("normalized", ""),
        "total": hits.attrs.get("total", len(hits)),
        "hits": records,
    }
