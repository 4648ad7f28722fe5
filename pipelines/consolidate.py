"""Consolidate: accepted rows + the last release → the new release's tables (SPEC §3, §5).

Order of matching, most certain first (precision before recall — a wrong merge corrupts two
departments' indicators, a missed one only leaves a duplicate for review):
  1. the row names a 库内编号 (沿用 / 修改 / 退出);
  2. its canonical key equals the key of a released indicator's name or alias (synonym rules applied);
  3. its key without scope equals a 共性 indicator's (a department using a common indicator);
  4. otherwise rows sharing a key become one new indicator (cross-department duplicates merge here).
Fuzzier similarities never merge: they become candidates for merge_review.xlsx.

indicator_id format: <namespace>-<G|B|X><6 digits> (G 共性, B 部门整体, X 项目), e.g. ZB-X000123. The number
is the next after the highest ever issued in that namespace and letter; retired and merged rows stay in
the table, so an id is never reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines.changes import TRACKED_FIELDS, ChangeSet, diff_indicators
from pipelines.frames import map_values, release_free_memory
from pipelines.normalize import MatchRules, normalize_rows
from schemas.library import SCOPE_LETTER, IndicatorTable, LibraryTables
from schemas.vocab import reference

AUTO_RETIRE_REASON = "本年度无部门使用"
UPSTREAM_COVERS_REASON = "上级指标库已收录同一指标，本级指标并入上级指标（原编号保留为历史）"
REVIEW_MERGE_REASON = "经人工审核确认为同一指标，已合并"
INDICATOR_COLUMNS = list(IndicatorTable.to_schema().columns)
# Fields a 修改 row may update on its indicator (empty cells leave the library value as it was).
MODIFIABLE = tuple(f for f in TRACKED_FIELDS if f not in ("function_code", "scope"))


@dataclass
class Consolidation:
    tables: LibraryTables
    candidates: pd.DataFrame  # likely duplicates for a person to decide (merge_review.xlsx)
    row_ids: pd.Series  # indicator_id of every accepted row, indexed like the validation rows
    year: int = 0
    new_ids: list[str] = field(default_factory=list)
    previous: LibraryTables | None = None  # the release this one was built on
    base_sha: str = ""  # the commit of that release ("" when none): publishing refuses if HEAD moved
    baseline: pd.DataFrame | None = None  # indicators of the last release of an earlier year
    baseline_tag: str = ""
    overlay: Overlay | None = None  # a county library's relation to its upstream (city) release

    def changes(self) -> ChangeSet:
        """What this year changed: against the last release of an earlier year (see PreviousRelease)."""
        return diff_indicators(self.baseline, self.tables.indicators, self.baseline_tag, f"{self.year} 年度")


# --------------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------------


def _normalized(frame: pd.DataFrame, rules: MatchRules | None) -> pd.DataFrame:
    """normalize_rows gives key (automatic merges) and common_key (a row repeating a 共性 indicator)."""
    return normalize_rows(frame, rules)


# The columns of an accepted row that normalization and consolidation read (the rest stays in validation).
ROW_COLUMNS = (
    "scope", "sheet_kind", "level1", "level2", "name", "definition", "formula", "symbol", "target", "target_value",
    "target_unit", "unit", "nature", "national_standard", "industry_standard", "history_json", "data_source",
    "keywords", "change_type", "change_reason", "library_id", "project", "project_category", "function_code",
    "weight_value", "dept_code", "dept_name", "source_file", "source_sheet", "source_row",
)  # fmt: skip


def normalize_accepted(rows: pd.DataFrame, rules: MatchRules | None = None) -> pd.DataFrame:
    """The normalize step: the rows bound for the library, cleaned and keyed.

    A year with no accepted row (every workbook unreadable) still has every column consolidation reads.
    """
    keep = [c for c in ROW_COLUMNS if c in rows.columns]  # a narrow copy: a province holds millions
    accepted = rows.loc[rows["outcome"] == "library", keep] if "outcome" in rows else rows.iloc[0:0]
    if accepted.empty:
        from schemas.vocab import reference as _ref

        columns = {c.column for specs in _ref().columns.values() for c in specs}
        columns |= {
            "scope",
            "dept_code",
            "dept_name",
            "sheet_kind",
            "source_file",
            "source_sheet",
            "history_json",
            "target_unit",
        }
        columns |= {
            "key",
            "common_key",
            "name_norm",
            "unit_norm",
            "function_class",
            "match_name",
            "weight_value",
        }
        frame = pd.DataFrame({c: pd.Series(dtype=str) for c in sorted(columns)})
        frame["source_row"] = pd.Series(dtype="int64")
        frame["target_value"] = pd.Series(dtype=float)
        return frame
    normalized = normalize_rows(accepted, rules, compact=True)
    release_free_memory()  # the per-value work above leaves freed pages the next step can use
    return normalized


# --------------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------------


class IdAllocator:
    """Hands out never-reused ids: the next number after the highest ever issued per namespace+letter."""

    def __init__(self, namespace: str, existing: Iterable[str]) -> None:
        self.namespace = namespace
        self.next: dict[str, int] = {}
        prefix = f"{namespace}-"
        for iid in existing:
            if iid.startswith(prefix) and len(iid) == len(prefix) + 7:
                letter, number = iid[len(prefix)], int(iid[len(prefix) + 1 :])
                self.next[letter] = max(self.next.get(letter, 1), number + 1)

    def issue(self, scope: str) -> str:
        letter = SCOPE_LETTER[scope]
        number = self.next.get(letter, 1)
        self.next[letter] = number + 1
        return f"{self.namespace}-{letter}{number:06d}"


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def empty_indicators() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in INDICATOR_COLUMNS})


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in list(value)]  # type: ignore[call-overload]


def _resolve_merged(iid: str, merged_into: dict[str, str]) -> str:
    seen = set()
    while iid in merged_into and merged_into[iid] and iid not in seen:
        seen.add(iid)
        iid = merged_into[iid]
    return iid


def _prev_key_index(prev: pd.DataFrame, rules: MatchRules | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Keys of every released name and alias → indicator_id (active first, canonical name first)."""
    if prev.empty:
        return pd.DataFrame(columns=["indicator_id", "key", "common_key", "scope", "status", "is_alias"]), {}
    merged_into = {i: m for i, m in zip(prev["indicator_id"], prev["merged_into"], strict=True) if m}
    variants = []
    for record in prev.itertuples(index=False):
        names = [record.name] + [a for a in _as_list(record.aliases) if a != record.name]
        for n, name in enumerate(names):
            variants.append(
                {
                    "indicator_id": record.indicator_id,
                    "name": name,
                    "scope": record.scope,
                    "level1": record.level1,
                    "level2": record.level2,
                    "function_code": record.function_code,
                    "unit": record.unit,
                    "definition": record.definition,
                    "target_unit": "",
                    "status": record.status,
                    "is_alias": n > 0,
                }
            )
    frame = _normalized(pd.DataFrame(variants), rules)
    frame["target"] = frame["indicator_id"].map(lambda i: _resolve_merged(i, merged_into))
    rank = frame["status"].map({"active": 0, "retired": 1, "merged": 2})
    frame = frame.assign(rank=rank).sort_values(["rank", "is_alias", "indicator_id"])
    return frame, merged_into


# --------------------------------------------------------------------------------------------------
# The step
# --------------------------------------------------------------------------------------------------


def consolidate(
    rows: pd.DataFrame,
    departments: pd.DataFrame,
    *,
    year: int,
    previous: LibraryTables | None,
    namespace: str = "ZB",
    rules: MatchRules | None = None,
    pending_departments: Iterable[str] = (),
    normalized: pd.DataFrame | None = None,
    upstream: pd.DataFrame | None = None,
    upstream_tag: str = "",
) -> Consolidation:
    """Build the release for `year`. `pending_departments`: departments whose workbook was set aside
    this year — their indicators are not auto-retired for want of a usage they could not submit.
    `upstream`: a county's pulled city release (its indicators); see overlay_upstream."""
    prev = previous.indicators.copy() if previous is not None else empty_indicators()
    inherited = pd.DataFrame(columns=["indicator_id", "name", "field", "old", "new"])
    if upstream is not None:
        clash = [i for i in upstream["indicator_id"] if str(i).startswith(f"{namespace}-")]
        if clash:
            raise ValueError(
                f"本级指标编号前缀“{namespace}”与上级指标库相同（如 {clash[0]}）：请在 indicators.toml 中设置本级的 id_namespace"
            )
        prev, inherited = overlay_upstream(prev, upstream)
    norm = normalized if normalized is not None else normalize_accepted(rows, rules)
    norm = norm.assign(indicator_id="")  # our own frame: the asset's input stays as it was

    key_index, merged_into = _prev_key_index(prev, rules)
    records: dict[str, dict[str, object]] = {r["indicator_id"]: dict(r) for r in prev.to_dict("records")}
    for r in records.values():
        r["aliases"] = _as_list(r["aliases"])
        r["departments"] = _as_list(r["departments"])

    # Review decisions: a 合并 names the two ids (B into A) — applied even when units differ. Synonym
    # rules can also make two released indicators share a key: those merge into the reviewer's A, else
    # into the oldest id.
    kept_side = {}
    for _rule, id_a, id_b in rules.merges if rules is not None else []:
        kept_side[id_b] = id_a
        if id_a in records and id_b in records and records[id_b]["status"] != "merged" and id_a != id_b:
            _merge_into(records, id_b, _resolve_merged(id_a, merged_into), year, merged_into)
    active_keys = key_index[(key_index["status"] == "active") & ~key_index["is_alias"]]
    for _, group in active_keys.groupby("key", sort=True):
        ids = sorted({_resolve_merged(i, merged_into) for i in group["indicator_id"]})
        upstream_ids = [i for i in ids if records[i].get("origin") == "上级"]
        keep = next((kept_side[i] for i in ids if i in kept_side and kept_side[i] in ids), ids[0])
        keep = upstream_ids[0] if upstream_ids else keep  # the city now covers it: the county's id merges in
        for absorbed in ids:
            if (
                absorbed != keep
                and records[absorbed]["status"] != "merged"
                and records[absorbed].get("origin") != "上级"
            ):
                reason = UPSTREAM_COVERS_REASON if upstream_ids else REVIEW_MERGE_REASON
                _merge_into(records, absorbed, keep, year, merged_into, reason)
    key_index["target"] = key_index["indicator_id"].map(lambda i: _resolve_merged(i, merged_into))
    by_key = key_index.drop_duplicates("key").set_index("key")["target"]
    common_rows = key_index[key_index["scope"] == "共性"].drop_duplicates("common_key")
    by_common = common_rows.set_index("common_key")["target"]

    # 1–3: explicit ids, released keys, common indicators.
    ids = pd.Series("", index=norm.index, dtype=object)
    explicit = norm["library_id"].isin(records.keys()) & (norm["change_type"] != "新增")
    ids[explicit] = [_resolve_merged(i, merged_into) for i in norm.loc[explicit, "library_id"]]
    todo = ids == ""
    ids[todo] = map_values(norm.loc[todo, "key"], by_key)
    todo = ids == ""
    ids[todo] = map_values(norm.loc[todo, "common_key"], by_common)

    # 4: new indicators — 共性 first so departments' rows can use a common indicator issued this year.
    allocator = IdAllocator(namespace, records.keys())
    new_ids: list[str] = []
    todo = ids == ""
    fresh = norm.loc[
        todo,
        [
            "scope",
            "function_class",
            "level2",
            "match_name",
            "key",
            "common_key",
            "dept_code",
            "source_file",
            "source_row",
        ],
    ]
    fresh["scope_order"] = map_values(fresh["scope"], {"共性": 0, "部门整体": 1, "项目": 2}, 3).astype(int)
    framework_order = {l2: i for i, (_, l2) in enumerate(reference().framework)}
    fresh["l2_order"] = map_values(fresh["level2"], framework_order, 99).astype(int)
    fresh = fresh.sort_values(
        [
            "scope_order",
            "function_class",
            "l2_order",
            "match_name",
            "key",
            "dept_code",
            "source_file",
            "source_row",
        ]
    )
    common_new: dict[str, str] = {}
    key_new: dict[str, str] = {}
    for idx, scope, key, ckey in zip(
        fresh.index, fresh["scope"], fresh["key"], fresh["common_key"], strict=True
    ):
        if key in key_new:
            ids[idx] = key_new[key]
        elif scope != "共性" and ckey in common_new:
            ids[idx] = common_new[ckey]
        else:
            iid = allocator.issue(scope)
            key_new[key] = iid
            if scope == "共性":
                common_new[ckey] = iid
            ids[idx] = iid
            new_ids.append(iid)
    norm["indicator_id"] = ids

    _create_new(records, norm, new_ids, year)
    _apply_changes(records, norm, year)
    _apply_usage(records, norm, year, pending_departments)

    indicators = pd.DataFrame([records[i] for i in sorted(records)], columns=INDICATOR_COLUMNS)
    indicators = _typed_indicators(indicators)
    del records
    # Candidates: indicators first seen this year against all others — the same list on a rerun. Found
    # before the usage table is built: their working memory and that table's are not needed at once.
    candidates = _candidates(
        indicators, indicators.loc[indicators["first_year"] == year, "indicator_id"].tolist(), rules
    )
    release_free_memory()  # the pair scoring's pages, for the usage table's text
    tables = LibraryTables(
        indicators=indicators,
        usages=_usages(norm, year, previous),
        departments=_departments(departments, year, previous),
        set_aside=_set_aside(rows, year, previous),
    )
    result = Consolidation(tables, candidates, norm["indicator_id"], year, new_ids, previous)
    if upstream is not None:
        result.overlay = overlay_report(indicators, norm, inherited, upstream_tag)
    return result


@dataclass
class Overlay:
    """A county library built on a city release (SPEC §1: counties build local libraries on the city's)."""

    upstream_tag: str
    covered: pd.DataFrame  # county indicators the city now covers: indicator_id, name, into_id, into_name
    retired_in_use: (
        pd.DataFrame
    )  # city retirements county usages still rely on: indicator_id, name, reason, departments
    inherited: pd.DataFrame  # changed definitions the county inherits: indicator_id, name, field, old, new
    counts: dict[str, int] = field(default_factory=dict)  # 上级 / 本级 active indicators


def overlay_upstream(prev: pd.DataFrame, upstream: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county's indicators with the city's release laid over them: every upstream indicator is present
    with the city's current definition and status (origin 上级); county ones (本级) are left as they were."""
    up = upstream.copy()
    up["origin"] = "上级"
    local = prev[prev["origin"] != "上级"] if len(prev) else prev
    before = prev[prev["origin"] == "上级"].set_index("indicator_id") if len(prev) else pd.DataFrame()
    inherited = []
    for rec in up.to_dict("records"):
        iid = rec["indicator_id"]
        if len(before) and iid in before.index:
            for f in TRACKED_FIELDS:
                old, new = str(before.at[iid, f]), str(rec[f])
                if old != new:
                    inherited.append((iid, rec["name"], f, old, new))
    combined = (
        pd.concat([local, up[INDICATOR_COLUMNS]], ignore_index=True)
        if len(local)
        else up[INDICATOR_COLUMNS].copy()
    )
    return combined, pd.DataFrame(inherited, columns=["indicator_id", "name", "field", "old", "new"])


def overlay_report(
    indicators: pd.DataFrame, norm: pd.DataFrame, inherited: pd.DataFrame, upstream_tag: str
) -> Overlay:
    names = indicators.set_index("indicator_id")["name"]
    covered = indicators[
        (indicators["origin"] != "上级")
        & (indicators["status"] == "merged")
        & (indicators["retire_reason"] == UPSTREAM_COVERS_REASON)
    ]
    covered = covered.assign(into_name=covered["merged_into"].map(names))[
        ["indicator_id", "name", "merged_into", "into_name"]
    ].rename(columns={"merged_into": "into_id"})
    upstream_gone = indicators[(indicators["origin"] == "上级") & (indicators["status"] != "active")]
    used = (
        norm[norm["change_type"] != "退出"]
        .groupby("indicator_id")["dept_code"]
        .agg(lambda s: "、".join(sorted(set(s))))
    )
    relied = upstream_gone[upstream_gone["indicator_id"].isin(used.index)]
    retired_in_use = pd.DataFrame(
        {
            "indicator_id": relied["indicator_id"],
            "name": relied["name"],
            "reason": relied["retire_reason"],
            "departments": relied["indicator_id"].map(used),
        }
    )
    active = indicators[indicators["status"] == "active"]
    counts = {
        "上级": int((active["origin"] == "上级").sum()),
        "本级": int((active["origin"] != "上级").sum()),
    }
    return Overlay(
        upstream_tag,
        covered.reset_index(drop=True),
        retired_in_use.reset_index(drop=True),
        inherited.reset_index(drop=True),
        counts,
    )


def _merge_into(
    records: dict[str, dict[str, object]],
    absorbed: str,
    keep: str,
    year: int,
    merged_into: dict[str, str],
    reason: str = REVIEW_MERGE_REASON,
) -> None:
    """B merged into A: B's row stays (status merged, merged_into A); A keeps B's names as aliases."""
    rec = records[absorbed]
    rec.update(status="merged", merged_into=keep, retired_year=year, retire_reason=reason)
    rec.update(last_change_year=year, last_change_type="合并", last_change_reason=reason)
    target = records[keep]
    target["aliases"] = sorted(
        set(_as_list(target["aliases"])) | {str(rec["name"])} | set(_as_list(rec["aliases"]))
    )
    target["departments"] = sorted(set(_as_list(target["departments"])) | set(_as_list(rec["departments"])))
    merged_into[absorbed] = keep


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct values) with codes in value order, so comparing codes compares values."""
    codes, uniques = pd.factorize(values, sort=True)
    return codes, np.asarray(uniques, dtype=object)


def _first_per_group(group: np.ndarray, *order_keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each group after sorting by (group, *order_keys)."""
    order = np.lexsort((*reversed(order_keys), group))
    g = group[order]
    return order[np.r_[True, g[1:] != g[:-1]]] if len(g) else order


def _id_value_pairs(
    id_code: np.ndarray, codes: np.ndarray, n_values: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (id code, value code) pairs among `rows` (a mask), sorted by id then value, with how
    many rows each has. Integer codes and one sort instead of a groupby over strings: linear in the rows."""
    width = max(n_values, 1)
    pair, counts = np.unique(id_code[rows].astype(np.int64) * width + codes[rows], return_counts=True)
    return pair // width, pair % width, counts


def _most_used_per_id(
    n_ids: int, pid: np.ndarray, pcode: np.ndarray, counts: np.ndarray, uniques: np.ndarray, *ties: np.ndarray
) -> np.ndarray:
    """Per id code, the value of its pair with the most rows (ties: `ties`, then the smallest value)."""
    out = np.full(n_ids, "", dtype=object)
    first = _first_per_group(pid, -counts, *ties, pcode)
    out[pid[first]] = uniques[pcode[first]]
    return out


def _most_common_per_id(id_code: np.ndarray, n_ids: int, values: pd.Series) -> np.ndarray:
    """Per id code, the non-empty value written most often (ties: the smallest value); "" when none."""
    codes, uniques = _codes(values)
    filled = (id_code >= 0) & (codes >= 0)
    if len(uniques):
        filled &= uniques[np.maximum(codes, 0)] != ""
    if not filled.any():
        return np.full(n_ids, "", dtype=object)
    return _most_used_per_id(n_ids, *_id_value_pairs(id_code, codes, len(uniques), filled), uniques)


def _representative_names(id_code: np.ndarray, n_ids: int, rows: pd.DataFrame) -> np.ndarray:
    """Per id code, the most used wording; on a tie, the one the synonym rules treat as canonical
    (参训人次 / 培训人次 under rule 参训→培训: 培训人次), then the smallest."""
    codes, uniques = _codes(rows["name_norm"])
    # match_name is a function of name_norm: one row per distinct wording says whether the rules rewrote it
    _, first_row = np.unique(codes, return_index=True)
    canonical = rows["match_name"].to_numpy(dtype=object)[first_row]
    rewritten = np.array(
        [u.replace(" ", "") != c for u, c in zip(uniques, canonical, strict=True)], dtype=bool
    )
    pid, pcode, counts = _id_value_pairs(id_code, codes, len(uniques), (id_code >= 0) & (codes >= 0))
    return _most_used_per_id(n_ids, pid, pcode, counts, uniques, rewritten[pcode])


def _variants_per_id(id_code: np.ndarray, n_ids: int, values: pd.Series) -> list[list[str]]:
    """Per id code (-1: row left out), the distinct values of `values`, sorted (every wording, every
    department that used it)."""
    codes, uniques = _codes(values)
    pid, pcode, _ = _id_value_pairs(id_code, codes, len(uniques), (id_code >= 0) & (codes >= 0))
    bounds = np.searchsorted(pid, np.arange(n_ids + 1))
    return [uniques[pcode[bounds[k] : bounds[k + 1]]].tolist() for k in range(n_ids)]


NEW_FROM_ROWS = {  # indicator field → the normalized row column its most common value comes from
    "level1": "level1",
    "level2": "level2",
    "definition": "definition",
    "formula": "formula",
    "symbol": "symbol",
    "unit": "unit_norm",
    "nature": "nature",
    "function_code": "function_code",
    "keywords": "keywords",
    "national_standard": "national_standard",
    "industry_standard": "industry_standard",
    "last_change_reason": "change_reason",
}


def _create_new(
    records: dict[str, dict[str, object]], norm: pd.DataFrame, new_ids: list[str], year: int
) -> None:
    """A new indicator takes, field by field, the value most departments wrote."""
    if not new_ids:
        return
    id_code = pd.Index(new_ids).get_indexer(norm["indicator_id"])  # -1: a row of an existing indicator
    n = len(new_ids)
    values = {field: _most_common_per_id(id_code, n, norm[column]) for field, column in NEW_FROM_ROWS.items()}
    names = _representative_names(id_code, n, norm)
    mine = np.flatnonzero(id_code >= 0)
    _, first = np.unique(id_code[mine], return_index=True)
    scopes = norm["scope"].to_numpy(dtype=object)[mine[first]]
    variants = _variants_per_id(id_code, n, norm["name_norm"])
    for k, iid in enumerate(new_ids):
        scope, name = scopes[k], names[k]
        record: dict[str, object] = {field: str(found[k]) for field, found in values.items()}
        code = str(record["function_code"]) if scope == "项目" else ""
        record.update(
            indicator_id=iid,
            scope=scope,
            name=name,
            function_code=code,
            function_class=code[:3],
            aliases=[v for v in variants[k] if v not in (name, "")],
            departments=[],
            first_year=year,
            last_year=year,
            status="active",
            retired_year=None,
            retire_reason="",
            merged_into="",
            last_change_year=year,
            last_change_type="新增",
            origin="本级",
        )
        records[iid] = record


def _apply_changes(records: dict[str, dict[str, object]], norm: pd.DataFrame, year: int) -> None:
    """修改: the indicator takes the row's non-empty fields; a new name keeps the old one as an alias."""
    edits = norm[norm["change_type"] == "修改"].sort_values(
        ["indicator_id", "dept_code", "source_file", "source_row"]
    )
    for iid, group in edits.groupby("indicator_id", sort=True):
        row = group.iloc[0]
        rec = records[str(iid)]
        changed = False
        for f in MODIFIABLE:
            value = row["name_norm"] if f == "name" else row["unit_norm"] if f == "unit" else row[f]
            if value != "" and value != rec.get(f):
                if f == "name":
                    rec["aliases"] = sorted(set(_as_list(rec["aliases"])) | {str(rec["name"])})
                rec[f] = value
                changed = True
        if changed:
            rec.update(
                last_change_year=year, last_change_type="修改", last_change_reason=row["change_reason"]
            )


def _apply_usage(
    records: dict[str, dict[str, object]], norm: pd.DataFrame, year: int, pending: Iterable[str]
) -> None:
    """Departments, last year, aliases, 退出 and auto-retirement, reactivation."""
    using = (norm["change_type"] != "退出").to_numpy()
    used_ids, id_code = np.unique(norm["indicator_id"].to_numpy(dtype=object)[using], return_inverse=True)
    code = np.full(len(norm), -1, dtype=np.int64)
    code[using] = id_code
    position = {iid: k for k, iid in enumerate(used_ids)}
    depts = _variants_per_id(code, len(used_ids), norm["dept_code"])
    variants = _variants_per_id(code, len(used_ids), norm["name_norm"])
    retiring = norm[norm["change_type"] == "退出"].sort_values(["indicator_id", "dept_code", "source_row"])
    retire_reason = retiring.groupby("indicator_id")["change_reason"].first()
    pending_set = set(pending)
    for iid, rec in records.items():
        if rec["status"] == "merged":
            continue
        if rec.get("origin") == "上级":  # the city's indicator: its status is the city's, usage is ours
            rec["departments"] = depts[position[iid]] if iid in position else []
            continue
        if iid in position:
            rec["departments"] = depts[position[iid]]
            rec["last_year"] = year
            extra = set(variants[position[iid]]) - {rec["name"], ""}
            if extra:
                rec["aliases"] = sorted(set(_as_list(rec["aliases"])) | extra)
            if rec["status"] == "retired":
                rec.update(status="active", retired_year=None, retire_reason="")
                if rec.get("last_change_year") != year or rec.get("last_change_type") != "修改":
                    # a 修改 this year keeps its own reason; otherwise the comeback is the change
                    rec.update(
                        last_change_year=year, last_change_type="恢复", last_change_reason="本年度重新使用"
                    )
        elif rec["status"] == "active":
            if iid in retire_reason.index:
                reason = str(retire_reason[iid])
            elif set(_as_list(rec["departments"])) & pending_set:
                continue  # its department's workbook was set aside this year: keep it until corrected
            else:
                reason = AUTO_RETIRE_REASON
            rec.update(status="retired", retired_year=year, retire_reason=reason)
            rec.update(last_change_year=year, last_change_type="退出", last_change_reason=reason)


def _typed_indicators(frame: pd.DataFrame) -> pd.DataFrame:
    text = [
        c
        for c in INDICATOR_COLUMNS
        if c not in ("aliases", "departments", "first_year", "last_year", "retired_year", "last_change_year")
    ]
    frame = frame.copy()
    for c in text:
        frame[c] = frame[c].fillna("").astype(str)
    for c in ("first_year", "last_year", "last_change_year"):
        frame[c] = frame[c].astype("int64")
    frame["retired_year"] = pd.array(frame["retired_year"].tolist(), dtype="Int64")
    for column in ("aliases", "departments"):  # list cells; object dtype even when the table is empty
        frame[column] = pd.Series(
            [sorted(_as_list(v)) for v in frame[column]], index=frame.index, dtype=object
        )
    return frame.reset_index(drop=True)


def _usages(norm: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    from schemas.library import UsageTable

    columns = list(UsageTable.to_schema().columns)
    current = pd.DataFrame(
        {
            "indicator_id": norm["indicator_id"].astype(str),
            "year": year,
            "dept_code": norm["dept_code"].astype(str),
            "dept_name": norm["dept_name"].astype(str),
            "scope": norm["scope"].astype(str),
            "project": norm["project"].astype(str),
            "project_category": norm["project_category"].astype(str),
            "function_code": norm["function_code"].astype(str),
            "level1": norm["level1"].astype(str),
            "level2": norm["level2"].astype(str),
            "name": norm["name_norm"].astype(str),
            "symbol": norm["symbol"].astype(str),
            "target": norm["target"].astype(str),
            "target_value": pd.to_numeric(norm["target_value"], errors="coerce").astype("float64"),
            "unit": norm["unit_norm"].astype(str),
            "weight": pd.to_numeric(norm["weight_value"], errors="coerce").astype("float64"),
            "history": norm["history_json"].astype(str).replace("", "{}"),
            "change_type": norm["change_type"].astype(str),
            "change_reason": norm["change_reason"].astype(str),
            "data_source": norm["data_source"].astype(str),
            "source_file": norm["source_file"].astype(str),
            "source_sheet": norm["source_sheet"].astype(str),
            "source_row": norm["source_row"].astype("int64"),
        },
        columns=columns,
    )
    if previous is not None and len(previous.usages):
        kept = previous.usages[previous.usages["year"] != year]
        current = pd.concat([kept[columns], current], ignore_index=True)
    return current.reset_index(drop=True)


def _departments(info: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    from schemas.library import DepartmentTable

    columns = list(DepartmentTable.to_schema().columns)
    prev = (
        previous.departments.set_index("dept_code")
        if previous is not None and len(previous.departments)
        else None
    )
    records: dict[str, dict[str, Any]] = {}
    if prev is not None:
        for code, rec in prev.iterrows():
            records[str(code)] = {"dept_code": str(code), **rec.to_dict()}
    for rec in info.sort_values("source_file").to_dict("records"):
        code = str(rec["dept_code"])
        old = records.get(code)
        records[code] = {
            "dept_code": code,
            "dept_name": rec.get("dept_name", ""),
            "parent_dept": rec.get("parent_dept", ""),
            "complexity": rec.get("complexity", ""),
            "functions": rec.get("functions", ""),
            "strategic_goals": rec.get("strategic_goals", ""),
            "first_year": min(int(old["first_year"]), year) if old else year,
            "last_year": max(int(old["last_year"]), year) if old else year,
        }
    frame = pd.DataFrame([records[c] for c in sorted(records)], columns=columns)
    for c in ("first_year", "last_year"):
        frame[c] = frame[c].astype("int64")
    for c in columns:
        if c not in ("first_year", "last_year"):
            frame[c] = frame[c].fillna("").astype(str)
    return frame


def _set_aside(rows: pd.DataFrame, year: int, previous: LibraryTables | None) -> pd.DataFrame:
    from schemas.library import SetAsideTable

    columns = list(SetAsideTable.to_schema().columns)
    out = rows[rows["outcome"] != "library"]
    current = pd.DataFrame(
        {c: (out[c].astype(str) if c in out else pd.Series("", index=out.index, dtype=str)) for c in columns}
    )
    current["year"] = year
    current["source_row"] = (
        pd.array(pd.to_numeric(out["source_row"], errors="coerce"), dtype="Int64")
        if len(out)
        else pd.array([], dtype="Int64")
    )
    current["target"] = out["target"].astype(str) if len(out) else ""
    if previous is not None and len(previous.set_aside):
        kept = previous.set_aside[previous.set_aside["year"] != year]
        current = pd.concat([kept[columns], current[columns]], ignore_index=True)
    current["year"] = current["year"].astype("int64")
    return current[columns].reset_index(drop=True)


def _candidates(indicators: pd.DataFrame, new_ids: list[str], rules: MatchRules | None) -> pd.DataFrame:
    """Likely duplicates between this year's new indicators and every active one, for a person."""
    from pipelines.match import find_candidates

    active = indicators[indicators["status"] == "active"]
    if active.empty or not new_ids:
        return pd.DataFrame(columns=["id_a", "name_a", "id_b", "name_b", "score", "reason", "pattern"])
    needed = ["indicator_id", "scope", "level1", "level2", "name", "definition", "unit", "function_code"]
    frame = _normalized(active[needed].assign(target_unit=""), rules).rename(columns={"indicator_id": "id"})
    frame = frame[[c for c in CANDIDATE_INPUT if c in frame.columns]]  # narrow before the two copies below
    is_new = frame["id"].isin(new_ids)
    if is_new.all():  # a first year: no copy of a national library's every indicator
        return find_candidates(frame, None, rules)
    return find_candidates(frame[is_new], frame[~is_new], rules)


# What find_candidates reads of a normalized indicator (see its docstring).
CANDIDATE_INPUT = (
    "id", "name", "name_norm", "match_name", "definition", "unit_norm", "scope", "level1", "level2", "function_class",
)  # fmt: skip
