"""`indicators history ID`: every release holding an indicator, what changed and why (CONTRACT §4).

History walks the release tags only (vY, vY.N), never every commit; merges are followed ('merged into
X' and 'Y merged into this one' are events). Each release is read in today's shape
(pipelines.store.shape), so a history across releases of different 1.x versions works. Beside the
events: the spread of the numeric targets departments set for it, by year and unit (count, min, median,
max: pipelines.store.reference_values, from the usages of every year in the latest release), its
国家标准 / 行业标准 with their source, and, once self-evaluation has published them (library/evaluations/,
pipelines.store.evaluations.published_actuals), the actual values beside each department's target.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.consolidate.changes import EVENT_ZH, ChangeSet, diff_indicators
from pipelines.store.evaluations import published_actuals
from pipelines.store.parts import usage_file_part
from pipelines.store.publish import LIBRARY_DIR, SPECS, arrow_to_frame, indicator_part
from pipelines.store.query.diff import DIFF_FIELDS, shown
from pipelines.store.query.git_read import (
    IND_DIR,
    TREE_MODE,
    USAGE_DIR,
    QueryError,
    RepoLike,
    indicator_tables,
    json_cell,
    listings,
    open_library_repo,
    parquet_shas,
    tables,
    versions,
)
from pipelines.store.reference_values import (
    SERIES_COLUMNS,
    SPREAD_COLUMNS,
    YearSpread,
    department_series,
    target_spread,
)
from pipelines.store.repo import ReleaseTag, release_tags
from pipelines.store.shape import concat
from schemas.library import STATUS_ZH, TITLES_ZH

HISTORY_EVENT_ZH = EVENT_ZH | {"absorbed": "并入本指标", "vanished": "整行消失"}
ID_COLUMNS = ("indicator_id", "merged_into")
DEPT_COLUMNS = ("indicator_id", "dept_code", "dept_name")
SPREAD_USAGE_COLUMNS = tuple(c for c in SERIES_COLUMNS if c != "actual_value")  # targets and their keys
ACTUAL_FIELDS = ("year", "dept_code", "dept_name", "project", "symbol", "target", "unit", "actual_value")
ACTUALS_SHOWN = 30  # lines of actual values in the text (the JSON has them all)
STANDARD_FIELDS = ("national_standard", "industry_standard", "standard_source")


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
    spread: tuple[YearSpread, ...] = ()  # numeric targets by year and unit, oldest year first
    # every evaluated usage: ACTUAL_FIELDS (target beside the published actual value), oldest year first
    actuals: tuple[dict[str, Any], ...] = ()

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events of every release, flat, each with its tag and year."""
        return [{"tag": s.tag, "year": s.year} | e for s in self.releases for e in s.events]

    def as_dict(self) -> dict[str, object]:
        cur = self.current
        return {
            "indicator_id": self.indicator_id,
            "current": {k: json_cell(v) for k, v in cur.items()},
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
            "target_spread": [
                {c: getattr(y, c) for c in SPREAD_COLUMNS if c != "indicator_id"} for y in self.spread
            ],
            "actual_values": [dict(a) for a in self.actuals],
        }


def _normalize_id(indicator_id: str) -> str:
    # ids are ASCII: NFKC folds full-width letters/digits without loading the 繁→简 dictionaries
    return unicodedata.normalize("NFKC", str(indicator_id)).replace(" ", "").strip().upper()


def _related_ids(id_tables: list[pa.Table], iid: str) -> set[str]:
    """iid, every id it was merged into (following chains) and every id merged into it, across all
    releases: diff_indicators needs their rows on both sides of a release to see a merge."""
    related = {iid}
    for t in id_tables:
        related |= set(t.filter(pc.equal(t["merged_into"], iid))["indicator_id"].to_pylist())
    while True:
        found = set(related)
        for t in id_tables:
            rows = t.filter(pc.is_in(t["indicator_id"], pa.array(sorted(related))))
            found |= {m for m in rows["merged_into"].to_pylist() if m}
        if found == related:
            return related
        related = found


def _mine(frame: pd.DataFrame, iid: str, column: str = "indicator_id") -> pd.DataFrame:
    return frame[frame[column] == iid] if len(frame) else frame


def _arrived_merged(row: dict[str, Any]) -> list[dict[str, Any]]:
    """diff_indicators leaves out an id that arrives already merged; its row says what happened."""
    into = row["merged_into"]
    return [
        {"type": "added", "reason": row["last_change_reason"], "departments": ""},
        {"type": "merged", "into_id": into, "into_name": "", "reason": row["retire_reason"]},
    ]


def _modified_event(modified: pd.DataFrame) -> dict[str, Any]:
    reasons = [r for r in dict.fromkeys(modified["reason"]) if r]
    return {
        "type": "modified",
        "reason": "；".join(reasons),
        "fields": [
            {"field": f, "field_zh": TITLES_ZH.get(f, f), "old": o, "new": n}
            for f, o, n in zip(modified["field"], modified["old"], modified["new"], strict=True)
        ],
    }


def _events(cs: ChangeSet, iid: str, row: dict[str, Any] | None, first: bool) -> list[dict[str, Any]]:
    """The events of iid in one release's change set (diff_indicators over the few related rows)."""
    events: list[dict[str, Any]] = []
    for r in _mine(cs.added, iid).itertuples(index=False):
        events.append({"type": "added", "reason": r.reason, "departments": r.departments})
    if first and row is not None and row["status"] == "merged":
        events += _arrived_merged(row)
    modified = _mine(cs.modified, iid)
    if len(modified):
        events.append(_modified_event(modified))
    for r in _mine(cs.retired, iid).itertuples(index=False):
        events.append({"type": "retired", "reason": r.reason})
    for r in _mine(cs.merged, iid).itertuples(index=False):
        events.append({"type": "merged", "into_id": r.into_id, "into_name": r.into_name, "reason": r.reason})
    for r in _mine(cs.merged, iid, "into_id").itertuples(index=False):
        events.append(
            {"type": "absorbed", "from_id": r.indicator_id, "from_name": r.name, "reason": r.reason}
        )
    for r in _mine(cs.reactivated, iid).itertuples(index=False):
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
    listing = listings(repo, [f for f, row in zip(folders, rows, strict=True) if row])
    version = versions(repo, [t.sha for t in tags])
    files: list[str | None] = []
    for folder, row in zip(folders, rows, strict=True):
        part = indicator_part(row["scope"], row["function_class"]) if row else None
        files.append(
            next((sha for _m, n, sha in listing[folder] if usage_file_part(n) == part), None) if row else None
        )
    found = [(f, version[t.sha]) for f, t in zip(files, tags, strict=True) if f]
    parsed = tables(repo, "usages", found, DEPT_COLUMNS)
    out: list[list[dict[str, str]]] = []
    for sha in files:
        use = parsed[sha] if sha else None
        if use is None:
            out.append([])
            continue
        mine = use.filter(pc.equal(use["indicator_id"], iid))
        pairs = dict(zip(mine["dept_code"].to_pylist(), mine["dept_name"].to_pylist(), strict=True))
        out.append([{"dept_code": c, "dept_name": pairs[c]} for c in sorted(pairs)])
    return out


def _all_usages(repo: git.Repo, tag: ReleaseTag, row: dict[str, Any], iid: str) -> pd.DataFrame:
    """The usages of iid of every year in release `tag` (a release holds all years), targets and keys only;
    only its own partition's file of each usages/<year>/ is read."""
    top = f"{tag.sha}:{USAGE_DIR}"
    years = [
        f"{top}/{n}" for m, n, _s in sorted(listings(repo, [top])[top], key=lambda e: e[1]) if m == TREE_MODE
    ]
    listing, version = listings(repo, years), versions(repo, [tag.sha])[tag.sha]
    part = indicator_part(row["scope"], row["function_class"])
    files = [sha for y in years for _m, n, sha in listing[y] if usage_file_part(n) == part]
    parsed = tables(repo, "usages", [(f, version) for f in files], SPREAD_USAGE_COLUMNS)
    use = concat([parsed[f] for f in files], "usages", SPREAD_USAGE_COLUMNS)
    return use.filter(pc.equal(use["indicator_id"], iid)).to_pandas()


def _spread(mine: pd.DataFrame) -> tuple[YearSpread, ...]:
    """The targets' spread by year and unit."""
    return tuple(
        YearSpread(
            int(r.year),
            str(r.unit),
            int(r.count),
            int(r.departments),
            float(r.min),
            float(r.median),
            float(r.max),
        )
        for r in target_spread(mine).itertuples(index=False)
    )


def repo_actuals(repo: git.Repo) -> pd.DataFrame | None:
    """The published actual values of the repo's library/ (its working tree, as a rebuild reads them);
    None for a repo without a working tree."""
    root = repo.working_tree_dir
    return published_actuals(Path(root) / LIBRARY_DIR) if root else None


def _actuals(mine: pd.DataFrame, actuals: pd.DataFrame | None, iid: str) -> tuple[dict[str, Any], ...]:
    """Each evaluated usage of iid: the department's target beside its published actual value."""
    if actuals is None or not len(actuals) or mine.empty:
        return ()
    series = department_series(mine, actuals[actuals["indicator_id"] == iid])
    found = series[series["actual_value"].notna()].sort_values(
        ["year", "dept_code", "project"], kind="stable"
    )
    return tuple(
        {f: (int(v) if f == "year" else float(v) if f == "actual_value" else str(v)) for f, v in r.items()}
        for r in found.loc[:, list(ACTUAL_FIELDS)].to_dict("records")
    )


def _related_rows(repo: git.Repo, commits: list[str], iid: str) -> list[pa.Table]:
    """The rows of iid and its related ids in each release, sorted by id. Two columns of each release
    find the related ids; full rows are parsed only from the files holding them."""
    related = _related_ids(indicator_tables(repo, commits, ID_COLUMNS), iid)
    keys = pa.array(sorted(related), type=pa.string())
    listing = listings(repo, [f"{c}:{IND_DIR}" for c in commits])
    version = versions(repo, commits)
    rows: list[pa.Table] = []
    for c in commits:
        files = [(s, version[c]) for s in parquet_shas(listing[f"{c}:{IND_DIR}"])]
        ids = tables(repo, "indicators", files, ID_COLUMNS)
        holding = [(s, v) for s, v in files if pc.any(pc.is_in(ids[s]["indicator_id"], keys)).as_py()]
        full = tables(repo, "indicators", holding)  # the bytes are cached: no further git call
        table = concat(
            [full[s].filter(pc.is_in(full[s]["indicator_id"], keys)) for s, _v in holding], "indicators"
        )
        rows.append(table.take(pc.sort_indices(table, [("indicator_id", "ascending")])))
    return rows


class _Frames:
    """Each release's related rows as a DataFrame, made only when diff_indicators needs it."""

    def __init__(self, rows: list[pa.Table]):
        self.rows = rows
        self.frames: dict[int, pd.DataFrame] = {}

    def __getitem__(self, i: int) -> pd.DataFrame:
        if i not in self.frames:
            self.frames[i] = arrow_to_frame(self.rows[i], SPECS["indicators"])
        return self.frames[i]


def _release_events(
    tags: list[ReleaseTag], rows: list[pa.Table], frames: _Frames, own: list[dict | None], i: int, iid: str
) -> list[dict[str, Any]]:
    """What happened to iid in release i since release i - 1."""
    was_here = i > 0 and own[i - 1] is not None
    if was_here and rows[i].select(DIFF_FIELDS).equals(rows[i - 1].select(DIFF_FIELDS)):
        events: list[dict[str, Any]] = []  # nothing diff_indicators reads changed
    else:
        prev = frames[i - 1] if i else None
        changes = diff_indicators(prev, frames[i], tags[i - 1].tag if i else "", tags[i].tag)
        events = _events(changes, iid, own[i], first=not was_here)
    if own[i] is None:  # a vanished row is a fault of the release, not a retirement
        events.append({"type": "vanished", "type_zh": HISTORY_EVENT_ZH["vanished"], "reason": ""})
    return events


def history(repo_path: RepoLike, indicator_id: str, actuals: pd.DataFrame | None = None) -> History:
    """Every release (tag, in release order — not every commit) holding the indicator: what changed
    since the previous release and why, and which departments used it that year. `actuals`: the
    self-evaluation's actual values (evaluations.published_actuals; default: the repo's library/).

    Cost: four `git cat-file --batch` calls whatever the number of releases; diff_indicators runs
    only where a column it reads differs between two releases.
    """
    repo = open_library_repo(repo_path)
    tags = release_tags(repo)
    if not tags:
        raise QueryError("仓库中还没有发布版本（v年度 标签）。请先运行 indicators rebuild 发布指标库。")
    iid = _normalize_id(indicator_id)
    rows = _related_rows(repo, [t.sha for t in tags], iid)
    own = [next(iter(r.filter(pc.equal(r["indicator_id"], iid)).to_pylist()), None) for r in rows]
    if not any(own):
        raise QueryError(
            f"指标编号「{iid}」不在任何发布版本中（共查了 {len(tags)} 个版本）。可用 indicators search 按名称查找编号。"
        )
    first = next(i for i, o in enumerate(own) if o is not None)
    # from its first release on; a release where the row is missing (a fault) is shown, not skipped
    kept = [i for i in range(first, len(tags)) if own[i] is not None or own[i - 1] is not None]
    departments = _departments(repo, [tags[i] for i in kept], [own[i] for i in kept], iid)
    frames = _Frames(rows)
    states = [
        ReleaseState(
            tag=tags[i].tag,
            year=tags[i].year,
            sha=tags[i].sha,
            status=(own[i] or {}).get("status", ""),
            name=(own[i] or {}).get("name", ""),
            events=_release_events(tags, rows, frames, own, i, iid),
            departments=depts,
        )
        for i, depts in zip(kept, departments, strict=True)
    ]
    current = next(row for i in reversed(kept) if (row := own[i]) is not None)
    mine = _all_usages(repo, tags[-1], current, iid)
    evaluated = _actuals(mine, repo_actuals(repo) if actuals is None else actuals, iid)
    return History(iid, current, states, _spread(mine), evaluated)


def _event_lines(e: dict[str, Any]) -> list[str]:
    kind = e["type"]
    if kind == "added":
        extra = f"；说明：{e['reason']}" if e["reason"] else ""
        return [f"  新增入库{extra}"]
    if kind == "modified":
        out = [f"  修改，理由：{e['reason'] or '（未填写）'}"]
        return out + [f"    {f['field_zh']}：{shown(f['old'])} → {shown(f['new'])}" for f in e["fields"]]
    if kind == "retired":
        return [f"  退出，原因：{shown(e['reason'])}"]
    if kind == "merged":
        return [
            f"  合并：并入 {e['into_id']} {e['into_name']}，理由：{shown(e['reason'])}"
            f"（此后的变化请查看 indicators history {e['into_id']}）"
        ]
    if kind == "absorbed":
        return [f"  {e['from_id']} {e['from_name']} 并入本指标，理由：{shown(e['reason'])}"]
    if kind == "reactivated":
        return [f"  恢复使用，说明：{shown(e['reason'])}"]
    return ["  警告：本版本中该指标整行消失（指标库规定行不删除，退出应记为状态）"]


def _current_lines(h: History) -> list[str]:
    cur = h.current
    status = STATUS_ZH.get(cur.get("status", ""), cur.get("status", ""))
    if cur.get("status") == "merged":
        status += f"（并入 {cur.get('merged_into', '')}）"
    elif cur.get("status") == "retired":
        status += f"（{cur.get('retired_year')} 年，{cur.get('retire_reason') or '原因未填写'}）"
    changed = sum(s.changed for s in h.releases)
    return [
        f"指标 {h.indicator_id}「{cur.get('name', '')}」的变更历史",
        f"范围：{cur.get('scope', '')}；一级/二级：{cur.get('level1', '')}/{cur.get('level2', '')}；"
        f"当前状态：{status}",
        f"出现在 {len(h.releases)} 个发布版本中，其中 {changed} 个版本有变更。",
    ]


def _number(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _reference_lines(h: History) -> list[str]:
    """国家标准 / 行业标准 with their source, and the targets' spread by year (CONTRACT §4 history)."""
    cur, lines = h.current, []
    given = [(TITLES_ZH[f], cur.get(f) or "") for f in STANDARD_FIELDS]
    if any(v for _t, v in given):
        lines.append("；".join(f"{t}：{v or '（未填写）'}" for t, v in given))
    if not h.spread:
        return lines + ["各年度目标值：无数值型目标值（定性指标或未填写数值）"]
    lines.append("各年度目标值（各部门设定的数值型目标值，按计量单位分列）：")
    for y in h.spread:
        lines.append(
            f"  {y.year} 年：{y.count} 个目标值（{y.departments} 个部门），计量单位 {y.unit or '（未填写）'}，"
            f"最小 {_number(y.min)}，中位数 {_number(y.median)}，最大 {_number(y.max)}"
        )
    return lines


def _actual_lines(h: History) -> list[str]:
    """Each evaluated usage: the department's target and the actual value self-evaluation published."""
    if not h.actuals:
        return []
    lines = [f"各年度完成值（绩效自评，{len(h.actuals)} 条）："]
    for a in h.actuals[:ACTUALS_SHOWN]:
        project = f"「{a['project']}」" if a["project"] else "（部门整体）"
        lines.append(
            f"  {a['year']} 年 {a['dept_code']} {a['dept_name']}{project}：目标 {a['symbol']}{a['target']}"
            f"{'' if a['target'].endswith(a['unit']) else a['unit']}，完成 {_number(a['actual_value'])}{a['unit']}"
        )
    if len(h.actuals) > ACTUALS_SHOWN:
        lines.append(f"  ……另有 {len(h.actuals) - ACTUALS_SHOWN} 条，见 --format json")
    return lines


def render_history_text(h: History) -> str:
    """`indicators history` as text: the indicator today, its reference values and actual values, then one
    block per release."""
    lines = _current_lines(h) + _reference_lines(h) + _actual_lines(h)
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
