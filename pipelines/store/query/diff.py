"""`indicators diff`: what changed between two releases, keyed by indicator_id (CONTRACT §4).

Changes are never computed here: diff hands pipelines.consolidate.changes.diff_indicators the rows that
can have changed (an id on one side only, or one whose DIFF_FIELDS differ) and reports its change set,
the one that commit messages, CHANGELOG.md and the review report also use. Both releases are read in
today's shape (pipelines.store.shape), so a diff across releases of different 1.x versions works: a
column one of them lacks reads as empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.consolidate.changes import TRACKED_FIELDS, ChangeSet, diff_indicators
from pipelines.store.query.git_read import (
    QueryError,
    RepoLike,
    indicator_tables,
    open_library_repo,
    resolve_ref,
)
from pipelines.store.repo import release_tags
from pipelines.store.shape import to_frame
from schemas.library import STATUS_ZH, TITLES_ZH

EMPTY_REF_ZH = "（空库）"
EMPTY_VALUE_ZH = "（空）"
# Every column diff_indicators reads to decide on an event for an id present in both releases:
# equal in all of them → no event (keep in step with pipelines/consolidate/changes.py).
DIFF_FIELDS = ["indicator_id", "status", "merged_into", *TRACKED_FIELDS]


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


def _refs(repo: Any, ref_a: str | None, ref_b: str | None) -> tuple[str | None, str]:
    """No refs: the last two release tags; ref_a only: ref_a → the latest release tag."""
    if ref_a is None and ref_b is None:
        return default_refs(repo)
    if ref_b is None:
        tags = release_tags(repo)
        return ref_a, (tags[-1].tag if tags else "HEAD")
    return ref_a, ref_b


def diff(repo_path: RepoLike, ref_a: str | None = None, ref_b: str | None = None) -> ReleaseDiff:
    """What changed from ref_a to ref_b, keyed by indicator_id (pipelines.consolidate.changes.diff_indicators).

    No refs: the last two release tags (from the empty library when there is one release only).
    ref_a only: ref_a → the latest release tag. ref_a None with ref_b: everything in ref_b is new.
    """
    repo = open_library_repo(repo_path)
    ref_a, ref_b = _refs(repo, ref_a, ref_b)
    sha_b = resolve_ref(repo, ref_b)
    sha_a = resolve_ref(repo, ref_a) if ref_a is not None else None
    tables = indicator_tables(repo, [sha_b] + ([sha_a] if sha_a else []))
    new_t = tables[0]
    releases: list[dict[str, Any]] = [{"ref": ref_b, "sha": sha_b} | _status_counts(new_t)]
    vanished: list[str] = []
    old = None
    if sha_a:
        old_t = tables[1]
        releases.insert(0, {"ref": ref_a, "sha": sha_a} | _status_counts(old_t))
        vanished = sorted(set(old_t["indicator_id"].to_pylist()) - set(new_t["indicator_id"].to_pylist()))
        old_t, new_t = _changed_rows(old_t, new_t)
        old = to_frame(old_t, "indicators")
    base = diff_indicators(old, to_frame(new_t, "indicators"), ref_a or "", ref_b)
    return ReleaseDiff(
        **{
            k: getattr(base, k)
            for k in ("ref_a", "ref_b", "added", "modified", "retired", "merged", "reactivated")
        },
        releases=releases,
        vanished=vanished,
    )


def shown(value: object) -> str:
    """A value as printed: 「（空）」 for an empty one."""
    text = "" if value is None else str(value)
    return text if text else EMPTY_VALUE_ZH


def _few(joined: str, count: int = 10) -> str:
    """A 、-joined list cut to its first items: a city indicator can have dozens of departments."""
    items = joined.split("、")
    return joined if len(items) <= count else f"{'、'.join(items[:count])} 等 {len(items)} 个"


def _counts_line(rel: dict[str, Any]) -> str:
    ref = rel["ref"] or EMPTY_REF_ZH
    by_status = "，".join(f"{STATUS_ZH[s]} {rel[s]}" for s in STATUS_ZH)
    return f"  {ref}（{str(rel['sha'])[:10]}）：指标 {rel['total']} 个（{by_status}）"


def _added_lines(changes: ChangeSet) -> list[str]:
    lines = ["", f"新增（{len(changes.added)}）"]
    for r in changes.added.itertuples(index=False):
        depts = f"；使用部门：{_few(r.departments)}" if r.departments else ""
        why = f"；说明：{r.reason}" if r.reason else ""
        lines.append(f"  {r.indicator_id}  {r.name}（{r.scope}）{depts}{why}")
    return lines


def _modified_lines(changes: ChangeSet) -> list[str]:
    n_ids = changes.modified["indicator_id"].nunique()
    lines = ["", f"修改（{n_ids} 个指标，{len(changes.modified)} 处字段）"]
    for iid, group in changes.modified.groupby("indicator_id", sort=False):
        reasons = [r for r in dict.fromkeys(group["reason"]) if r]
        why = "；".join(reasons) if reasons else "（未填写）"
        lines.append(f"  {iid}  {group['name'].iloc[0]}  理由：{why}")
        for r in group.itertuples(index=False):
            label = TITLES_ZH.get(r.field, r.field)
            lines.append(f"    {label}：{shown(r.old)} → {shown(r.new)}")
    return lines


def _other_lines(changes: ChangeSet) -> list[str]:
    """退出, 合并 and 恢复 blocks, each only when it has rows."""
    lines: list[str] = []
    if len(changes.retired):
        lines += ["", f"退出（{len(changes.retired)}）"]
        for r in changes.retired.itertuples(index=False):
            lines.append(f"  {r.indicator_id}  {r.name}  原因：{shown(r.reason)}")
    if len(changes.merged):
        lines += ["", f"合并（{len(changes.merged)}）"]
        for r in changes.merged.itertuples(index=False):
            lines.append(f"  {r.indicator_id} {r.name} → {r.into_id} {r.into_name}  理由：{shown(r.reason)}")
    if len(changes.reactivated):
        lines += ["", f"恢复（{len(changes.reactivated)}）"]
        for r in changes.reactivated.itertuples(index=False):
            lines.append(f"  {r.indicator_id}  {r.name}  说明：{shown(r.reason)}")
    return lines


def render_diff_text(changes: ChangeSet) -> str:
    """`indicators diff` as text: per-release counts, then 新增 / 修改 (字段：旧 → 新) / 退出 / 合并 / 恢复."""
    lines = [f"指标库变更：{changes.ref_a or EMPTY_REF_ZH} → {changes.ref_b}"]
    lines += [_counts_line(rel) for rel in getattr(changes, "releases", [])]
    lines.append(f"变更：{changes.counts_zh()}")
    if changes.empty:
        lines.append("两个版本之间指标没有变化。")
    if len(changes.added):
        lines += _added_lines(changes)
    if len(changes.modified):
        lines += _modified_lines(changes)
    lines += _other_lines(changes)
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
