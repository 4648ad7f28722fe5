"""Consolidate: accepted rows + the last release → the new release's tables (SPEC §3, §5).

Identity — which indicator a row is a usage of — most certain first (precision before recall: a wrong merge
corrupts two departments' indicators, a missed one only leaves a duplicate for review). See _Identity:
  1. the row names a 库内编号 (沿用 / 修改 / 退出);
  2. it equals a 共性 indicator (common_key = level1|level2|match_name|unit, scope and class left out): it is
     that indicator's usage, in every year and whatever order the files are read in. A 共性 row equal to a
     department's released indicator turns that indicator into the 共性 one, keeping its id (a 修改 of its
     scope, visible in diff); other active indicators equal to it merge in;
  3. the same department wrote this exact key last time (the previous release's usages);
  4. the same department, scope and matching name as a row it wrote last time: an indicator whose name and
     department did not change keeps its id whatever its target, unit, level or value format did. When
     every department using it changed the unit or level, the indicator takes the new values (a recorded
     修改 "编号保留"), unless that would make it equal to another indicator — then both stay, listed;
  5. its key equals the key of a released indicator's name or alias (synonym rules applied);
  6. otherwise rows sharing a key become one new indicator (cross-department duplicates merge here, 共性
     rows first). Function class is a property of the usage: 项目 rows of different classes with the same
     name, unit, levels and a near-identical explanation are one indicator (its class: the most used).
     "Near-identical explanation" = normalize.definition_form equal and not empty; an empty explanation
     never merges (a wrong merge is worse than a missed one) — such pairs are listed instead.
Fuzzier similarities never merge: they become candidates for merge_review.xlsx (pipelines/dedupe/candidates.py), and
consolidation adds the pairs only it can see (identity_pairs): likely silent renames (an indicator retired
for want of use and a new one of the same department and project with a near-identical name), indicators
kept apart by rule 4, and same-named 项目 indicators of different classes left unmerged.

Released indicators the rules say are one (libraries built before them) are merged as recorded 合并 events
(_heal_identities); the absorbed id stays, pointing at the kept one.

indicator_id format: <namespace>-<G|B|X><6 digits> (G 共性, B 部门整体, X 项目: the scope it was issued
under — an indicator later made 共性 keeps its X or B), e.g. ZB-X000123. The number is the next after the
highest ever issued in that namespace and letter; retired and merged rows stay in the table, so an id is
never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from pipelines.common.frames import is_categorical, release_free_memory
from pipelines.consolidate.changes import TRACKED_FIELDS, ChangeSet, diff_indicators
from pipelines.dedupe.candidates import SAME_NAME, diff_ops
from pipelines.normalize.canonical import (
    KEY_SEP,
    MatchRules,
    default_rules,
    definition_form,
    normalize_name,
    normalize_rows,
    pattern_key,
    suffix_table,
)
from schemas.library import SCOPE_LETTER, TITLES_ZH, IndicatorTable, LibraryTables
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
    "name_as_written",  # the wording before template markers were stripped (validation), kept as an alias
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
        columns = ["indicator_id", "key", "common_key", "scope", "status", "is_alias", "rank", "target"]
        columns += ["level1", "level2", "match_name", "unit_norm", "definition", "key0", "scope0"]
        return pd.DataFrame(columns=columns), {}
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
    # As released: a department's own history is matched on these even after its indicator became 共性.
    frame["key0"], frame["scope0"] = frame["key"], frame["scope"]
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
    # 设为共性指标 decisions: the kept indicator (A) becomes the 共性 one, keeping its id.
    decided = []
    for _rule, id_a, _id_b in rules.promotions if rules is not None else []:
        keep = _resolve_merged(id_a, merged_into)
        rec = records.get(keep)
        if rec is not None and rec["scope"] != "共性" and rec.get("origin") != "上级" and keep not in decided:
            decided.append(keep)
    _make_common(records, key_index, merged_into, decided, year, REVIEW_PROMOTED_REASON)
    active_keys = key_index[(key_index["status"] == "active") & ~key_index["is_alias"]]
    active_keys = active_keys[active_keys["key"].duplicated(keep=False)]  # only keys two indicators share
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
    _heal_identities(records, key_index, merged_into, year)

    identity = _Identity(norm, records, key_index, merged_into, year)
    identity.history = previous.usages if previous is not None else None
    identity.rules = rules
    identity.promote_common()
    identity.assign()
    identity.follow_usage()
    identity.issue_new(IdAllocator(namespace, records.keys()))
    norm["indicator_id"] = identity.ids
    new_ids = identity.new_ids

    _create_new(records, norm, new_ids, year, identity.new_scope)
    identity.merge_into_common()
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
    candidates = _with_identity_pairs(
        candidates,
        identity_pairs(indicators, norm, previous, year, identity.kept_apart, rules),
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


# --------------------------------------------------------------------------------------------------
# Identity: which indicator each row is a usage of
# --------------------------------------------------------------------------------------------------
COMMON_COVERS_REASON = (
    "与共性指标相同（名称、单位、一级和二级指标一致），作为该共性指标的使用，原编号保留为历史"
)
CROSS_CLASS_REASON = "名称、单位、二级指标相同且指标解释一致：不同功能分类的同一指标合并，原编号保留为历史"
REVIEW_PROMOTED_REASON = "经人工审核设为共性指标：各部门、各功能分类的同一指标作为该共性指标的使用，编号不变"
PROMOTED_REASON = "财政部门将同一指标列为共性指标：本指标转为共性指标，编号不变"
RENAME_REASON = (
    "疑似改名：本部门同一项目中，旧指标本年度未使用，新指标名称相近，"
    "如确为改名请在下年度填报中选“修改”并填写库内编号"
)
KEPT_APART_REASON = (
    "名称与部门未变，沿用原编号；但本年度填报的名称、单位和一二级指标与另一指标相同，请确认是否为同一指标"
)
CROSS_CLASS_PAIR_REASON = (
    "名称、单位、二级指标相同，但功能分类不同且指标解释不一致或未填写，未自动合并："
    "请确认是否为同一指标（可合并，或设为共性指标）"
)
# Fields that follow what every using department wrote this year (an indicator matched by department and
# name whose unit or framework level changed); the nature (定量/定性) changes with them.
FOLLOWED_FIELDS = ("unit", "level1", "level2")
_RANK = {"active": 0, "retired": 1, "merged": 2}


def _texts(values: pd.Series | np.ndarray) -> np.ndarray:
    """A text column as an object array of str ("" for missing)."""
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if is_categorical(series):
        categories = np.asarray(series.cat.categories.astype(str), dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.where(codes >= 0, categories[np.maximum(codes, 0)] if len(categories) else "", "")
        return out.astype(object)
    return series.fillna("").astype(str).to_numpy(dtype=object)


def _distinct_values(series: pd.Series, func: Callable[[str], str]) -> np.ndarray:
    """func applied once per distinct value, as an object array (libraries repeat values a lot)."""
    codes, uniques = pd.factorize(pd.Series(_texts(series)), use_na_sentinel=False)
    mapped = np.array([func(str(u)) for u in uniques], dtype=object)
    return mapped[codes] if len(uniques) else np.empty(0, dtype=object)


def _joined(*columns: np.ndarray) -> np.ndarray:
    """Row-wise KEY_SEP join of object arrays, built once per distinct combination."""
    n = len(columns[0])
    combined = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(pd.Series(column), use_na_sentinel=False)
        combined, _ = pd.factorize(combined * max(len(uniques), 1) + codes, use_na_sentinel=False)
    if not n:
        return np.empty(0, dtype=object)
    _, first = np.unique(combined, return_index=True)
    texts = pd.Series(columns[0][first], dtype=object).astype(str)
    for column in columns[1:]:
        texts = texts + KEY_SEP + pd.Series(column[first], dtype=object).astype(str)
    return texts.to_numpy(dtype=object)[combined]


def _class_free(key: str) -> str:
    """A key without its function class: scope|level1|level2|match_name|unit_norm."""
    parts = key.split(KEY_SEP, 4)
    return KEY_SEP.join(parts[:3] + parts[4:]) if len(parts) == 5 else key


def _key_of(scope: str, level1: str, level2: str, function_class: str, match: str, unit: str) -> str:
    cls = function_class if scope == "项目" else ""
    return KEY_SEP.join((scope, level1, level2, cls, match, unit))


def _heal_identities(
    records: dict[str, dict[str, object]], key_index: pd.DataFrame, merged_into: dict[str, str], year: int
) -> None:
    """Released indicators that the identity rules say are one (libraries built before these rules, or
    made equal by a 修改): a department's indicator equal to an active 共性 indicator merges into it; 项目
    indicators of different function classes with the same class-free key and the same non-empty
    explanation merge into the oldest. Recorded as 合并; the absorbed id stays, pointing at the kept one."""
    if key_index.empty:
        return
    own = key_index[~key_index["is_alias"].astype(bool)]
    active: list[tuple[str, str, str]] = []  # (id, key, common_key) of active, unmerged indicators
    for iid, key, ckey in zip(own["indicator_id"], own["key"], own["common_key"], strict=True):
        rec = records[iid]
        if rec["status"] == "active" and merged_into.get(iid, "") == "":
            active.append((str(iid), str(key), str(ckey)))
    active.sort()
    commons: dict[str, str] = {}
    for iid, _key, ckey in active:
        if records[iid]["scope"] == "共性":
            commons.setdefault(ckey, iid)
    for iid, _key, ckey in active:
        rec = records[iid]
        keep = commons.get(ckey, "")
        if (
            keep
            and keep != iid
            and rec["scope"] != "共性"
            and rec.get("origin") != "上级"
            and rec["status"] == "active"
        ):
            _merge_into(records, iid, keep, year, merged_into, COMMON_COVERS_REASON)
    groups: dict[tuple[str, str], list[str]] = {}
    for iid, key, _ckey in active:
        rec = records[iid]
        definition = definition_form(str(rec.get("definition", "") or ""))
        if rec["status"] == "active" and rec["scope"] == "项目" and definition:
            groups.setdefault((_class_free(key), definition), []).append(iid)
    for _, ids in sorted(groups.items()):
        if len(ids) < 2:
            continue
        upstream_ids = [i for i in ids if records[i].get("origin") == "上级"]
        keep = upstream_ids[0] if upstream_ids else ids[0]
        for absorbed in ids:
            if absorbed != keep and records[absorbed].get("origin") != "上级":
                _merge_into(records, absorbed, keep, year, merged_into, CROSS_CLASS_REASON)


def _make_common(
    records: dict[str, dict[str, object]],
    key_index: pd.DataFrame,
    merged_into: dict[str, str],
    keeps: list[str],
    year: int,
    reason: str,
) -> None:
    """Each of `keeps` becomes a 共性 indicator, keeping its id (the letter says the scope it was issued
    under): no function class; its names and aliases are found again under 共性 keys."""
    for keep in keeps:
        records[keep].update(
            scope="共性",
            function_code="",
            function_class="",
            last_change_year=year,
            last_change_type="修改",
            last_change_reason=reason,
        )
    if key_index.empty or not keeps:
        return
    targets = pd.Series(
        [_resolve_merged(str(i), merged_into) for i in key_index["indicator_id"]], index=key_index.index
    )
    mine = targets.isin(keeps).to_numpy()
    key_index.loc[mine, "scope"] = "共性"
    key_index.loc[mine, "key"] = [
        _key_of("共性", a, b, "", m, u)
        for a, b, m, u in zip(
            key_index.loc[mine, "level1"],
            key_index.loc[mine, "level2"],
            key_index.loc[mine, "match_name"],
            key_index.loc[mine, "unit_norm"],
            strict=True,
        )
    ]


class _Identity:
    """Which indicator each accepted row is a usage of. Order, most certain first:

    1. a 库内编号 (沿用 / 修改 / 退出);
    2. the row equals a 共性 indicator (common_key: level1|level2|match_name|unit): its usage, whatever the
       row's scope — released 共性 indicators, then the 共性 rows of this year (a 共性 row equal to a released
       department indicator turns that indicator into the 共性 one, keeping its id: promote_common);
    3. the same department used an indicator under this exact key (its own history first);
    4. the same department, scope and matching name as an indicator it used (name and department did not
       change: the id stays whatever the unit, level or target did) — unless the department writes that
       name for two different measures this year;
    5. the key of a released indicator's name or alias;
    6. new rows sharing a key become one indicator; 项目 rows of different function classes with the same
       class-free key and the same non-empty explanation (definition_form) are one indicator too.
    """

    def __init__(
        self,
        norm: pd.DataFrame,
        records: dict[str, dict[str, object]],
        key_index: pd.DataFrame,
        merged_into: dict[str, str],
        year: int,
    ) -> None:
        self.norm, self.records, self.key_index = norm, records, key_index
        self.merged_into, self.year = merged_into, year
        n = len(norm)

        def col(name: str) -> np.ndarray:
            return _texts(norm[name]) if name in norm.columns else np.full(n, "", dtype=object)

        self.scope, self.key, self.ckey = col("scope"), col("key"), col("common_key")
        self.match, self.dept, self.change = col("match_name"), col("dept_code"), col("change_type")
        self.library_id = col("library_id")
        self.cfk = _distinct_values(pd.Series(self.key), _class_free) if n else np.empty(0, dtype=object)
        self.dept_key = _joined(self.dept, self.key) if n else np.empty(0, dtype=object)
        self.dept_name = _joined(self.dept, self.scope, self.match) if n else np.empty(0, dtype=object)
        self.ids = np.full(n, "", dtype=object)
        self.via = np.full(n, "", dtype=object)
        self.new_ids: list[str] = []
        self.new_scope: dict[str, str] = {}
        self.kept_apart: list[tuple[str, str]] = []  # (id kept by the key, id kept by department+name)
        self.common_keys: set[str] = set()
        self.updated: dict[str, str] = {}
        self.by_key: dict[str, str] = {}
        self.by_common: dict[str, str] = {}
        self.by_dept_key: dict[str, str] = {}
        self.by_dept_name: dict[str, str] = {}
        self.key_new: dict[str, str] = {}
        self.history: pd.DataFrame | None = None  # the previous release's usages: what each department wrote
        self.rules: MatchRules | None = None

    # --- indexes of the released indicators -------------------------------------------------------
    def _resolve(self, iid: str) -> str:
        return _resolve_merged(iid, self.merged_into)

    def _refresh(self) -> None:
        ki = self.key_index
        if ki.empty:
            return
        ki["target"] = [self._resolve(str(i)) for i in ki["indicator_id"]]
        self.by_key = dict(ki.drop_duplicates("key")[["key", "target"]].itertuples(index=False, name=None))
        common = ki[ki["scope"] == "共性"].drop_duplicates("common_key")
        self.by_common = dict(common[["common_key", "target"]].itertuples(index=False, name=None))

    def _dept_index(self) -> None:
        """Steps 3–4 when the previous release has no usages (a table built by hand, an old layout): the
        departments that used each indicator in its last active year."""
        ki = self.key_index
        if ki.empty:
            return
        dept_key: dict[str, tuple[int, str]] = {}
        dept_name: dict[str, set[str]] = {}
        for iid, key, scope, match, target in zip(
            ki["indicator_id"], ki["key0"], ki["scope0"], ki["match_name"], ki["target"], strict=True
        ):
            rec = self.records[target]
            rank = _RANK.get(str(rec["status"]), 2)
            if rank == 2:
                continue
            for dept in _as_list(self.records[iid]["departments"]):
                k = f"{dept}{KEY_SEP}{key}"
                best = dept_key.get(k)
                if best is None or (rank, target) < best:
                    dept_key[k] = (rank, target)
                dept_name.setdefault(KEY_SEP.join((dept, str(scope), str(match))), set()).add(target)
        self.by_dept_key = {k: v[1] for k, v in dept_key.items()}
        self.by_dept_name = {k: next(iter(v)) for k, v in dept_name.items() if len(v) == 1}

    # --- steps ----------------------------------------------------------------------------------
    def promote_common(self) -> None:
        """A 共性 row equal to a released department or project indicator (and to no 共性 one): that
        indicator becomes the 共性 indicator, keeping its id; other active indicators equal to it merge in."""
        ki = self.key_index
        if ki.empty or not len(self.norm):
            return
        self._refresh()
        explicit = self._explicit()
        wanted = sorted(set(self.ckey[(self.scope == "共性") & ~explicit]) - set(self.by_common))
        if not wanted:
            return
        pool = ki[~ki["is_alias"].astype(bool) & (ki["scope"] != "共性") & ki["common_key"].isin(wanted)]
        promoted: list[str] = []
        for _, group in pool.groupby("common_key", sort=True):
            targets = sorted(
                {str(t) for t in group["target"]},
                key=lambda i: (_RANK.get(str(self.records[i]["status"]), 2), i),
            )
            targets = [
                t
                for t in targets
                if self.records[t]["status"] != "merged"
                and self.records[t].get("origin") != "上级"
                and t not in promoted
            ]
            if not targets:
                continue
            keep = targets[0]
            for other in targets[1:]:
                if self.records[other]["status"] == "active":
                    _merge_into(self.records, other, keep, self.year, self.merged_into, COMMON_COVERS_REASON)
            promoted.append(keep)
        _make_common(self.records, ki, self.merged_into, promoted, self.year, PROMOTED_REASON)
        ki.sort_values(["rank", "is_alias", "indicator_id"], inplace=True, kind="stable")

    def _explicit(self) -> np.ndarray:
        known = pd.Series(self.library_id).isin(self.records.keys()).to_numpy()
        return known & (self.change != "新增")

    def _lookup(self, mask: np.ndarray, values: np.ndarray, mapping: dict[str, str], via: str) -> None:
        idx = np.flatnonzero(mask & (self.ids == ""))
        if not len(idx) or not mapping:
            return
        found = pd.Series(values[idx]).map(mapping).fillna("").to_numpy(dtype=object)
        hit = found != ""
        self.ids[idx[hit]] = found[hit]
        self.via[idx[hit]] = via

    def _continuity(self, mask: np.ndarray) -> None:
        """Steps 3 and 4 for the rows in `mask`."""
        self._lookup(mask, self.dept_key, self.by_dept_key, "dept_key")
        rest = mask & (self.ids == "")
        if not rest.any() or not self.by_dept_name:
            return
        exact = set(self.dept_name[self.via == "dept_key"])
        measures = pd.DataFrame({"g": self.dept_name[rest], "c": self.cfk[rest]}).groupby("g")["c"].nunique()
        single = {str(g) for g, count in measures.items() if count == 1 and g not in exact}
        eligible = rest & pd.Series(self.dept_name).isin(single).to_numpy()
        self._lookup(eligible, self.dept_name, self.by_dept_name, "dept_name")

    def _dept_history(self) -> None:
        """Steps 3–4 from what each department wrote in its latest year (the previous release's usages,
        with the row's own scope: a 项目 row that was a usage of a 共性 indicator continues it too)."""
        usages = self.history
        if usages is None or usages.empty:
            return
        past = usages[usages["year"] < self.year]
        if past.empty:
            return
        past = past[
            past["year"].to_numpy()
            == past.groupby("dept_code", observed=True)["year"].transform("max").to_numpy()
        ]
        columns = [
            "indicator_id",
            "year",
            "dept_code",
            "scope",
            "level1",
            "level2",
            "name",
            "unit",
            "function_code",
        ]
        past = past[columns].drop_duplicates().reset_index(drop=True)
        keyed = normalize_rows(past, self.rules, compact=True)
        ids = keyed["indicator_id"].astype(str)
        distinct = {i: self._resolve(i) for i in ids.unique()}
        target = ids.map(distinct)
        usable = {
            t for t in set(distinct.values()) if t in self.records and self.records[t]["status"] != "merged"
        }
        known = target.isin(usable)
        dept, scope = _texts(keyed["dept_code"]), _texts(keyed["scope"])
        frame = pd.DataFrame(
            {
                "dk": _joined(dept, _texts(keyed["key"])),
                "dn": _joined(dept, scope, _texts(keyed["match_name"])),
                "target": target.to_numpy(dtype=object),
                "year": keyed["year"].astype("int64").to_numpy(),
            }
        )[known.to_numpy()]
        if frame.empty:
            return
        latest = frame.sort_values(["dk", "year", "target"], ascending=[True, False, True], kind="stable")
        self.by_dept_key = dict(
            latest.drop_duplicates("dk")[["dk", "target"]].itertuples(index=False, name=None)
        )
        last_year = frame.groupby("dn")["year"].transform("max")
        recent = frame[frame["year"] == last_year]
        count = recent.groupby("dn")["target"].nunique()
        single = recent[recent["dn"].map(count).to_numpy() == 1].drop_duplicates("dn")
        self.by_dept_name = dict(single[["dn", "target"]].itertuples(index=False, name=None))

    def assign(self) -> None:
        self._refresh()
        self._dept_history()
        if not self.by_dept_key and not self.by_dept_name:
            self._dept_index()
        explicit = self._explicit()
        self.ids[explicit] = [self._resolve(str(i)) for i in self.library_id[explicit]]
        self.via[explicit] = "explicit"
        everyone = np.ones(len(self.ids), dtype=bool)
        self._lookup(everyone, self.ckey, self.by_common, "common")
        is_common = self.scope == "共性"
        self._continuity(is_common)
        self._lookup(is_common, self.key, self.by_key, "key")
        # This year's 共性 indicators: a department's row equal to one is its usage, whatever the order.
        this_year: dict[str, str] = {}
        assigned = (self.ids != "") & is_common
        for ckey, iid in sorted(zip(self.ckey[assigned], self.ids[assigned], strict=True)):
            this_year.setdefault(str(ckey), str(iid))
        fresh_common = {str(c) for c in self.ckey[(self.ids == "") & is_common]}
        others = ~is_common
        self._lookup(others, self.ckey, this_year, "common")
        to_common = pd.Series(self.ckey).isin(fresh_common).to_numpy()
        self.via[others & (self.ids == "") & to_common] = "common"  # issued with the 共性 row (issue_new)
        rest = others & ~to_common
        self._continuity(rest)
        self._lookup(rest, self.key, self.by_key, "key")
        self.common_keys = set(self.by_common) | set(this_year) | fresh_common

    def follow_usage(self) -> None:
        """An indicator kept by department and name whose unit or level changed for every department using
        it this year takes the new values (a 修改 visible in diff), unless that would make it equal to
        another indicator — then it keeps its values and the pair is listed for review."""
        chosen = sorted({str(i) for i in self.ids[self.via == "dept_name"]})
        edited = {str(i) for i in self.ids[self.change == "修改"]}
        chosen = [
            i
            for i in chosen
            if i not in edited
            and self.records[i]["scope"] != "共性"
            and self.records[i].get("origin") != "上级"
        ]
        if not chosen:
            return
        mask = pd.Series(self.ids).isin(chosen).to_numpy() & (self.change != "退出")
        idx = np.flatnonzero(mask)
        rows = pd.DataFrame(
            {
                "id": self.ids[idx],
                "unit": _texts(self.norm["unit_norm"])[idx],
                "level1": _texts(self.norm["level1"])[idx],
                "level2": _texts(self.norm["level2"])[idx],
                "nature": _texts(self.norm["nature"])[idx]
                if "nature" in self.norm
                else np.full(len(idx), "", dtype=object),
            }
        )
        ki = self.key_index
        own = ki[~ki["is_alias"].astype(bool)]
        match_of = dict(zip(own["indicator_id"], own["match_name"], strict=True))
        claimed: dict[str, str] = {}
        for iid, group in rows.groupby("id", sort=True):
            iid = str(iid)
            rec = self.records[iid]
            new: dict[str, str] = {}
            for f in FOLLOWED_FIELDS:
                values = sorted(set(group[f]))
                if len(values) == 1 and values[0] != str(rec.get(f, "") or ""):
                    new[f] = values[0]
            if not new:
                continue
            natures = sorted(set(group["nature"]) - {""})
            if len(natures) == 1 and natures[0] != str(rec.get("nature", "") or ""):
                new["nature"] = natures[0]
            value = {f: str(new.get(f, rec.get(f, "")) or "") for f in ("level1", "level2", "unit")}
            match = str(match_of.get(iid, ""))
            scope = str(rec["scope"])
            key = _key_of(
                scope, value["level1"], value["level2"], str(rec["function_class"]), match, value["unit"]
            )
            ckey = KEY_SEP.join((value["level1"], value["level2"], match, value["unit"]))
            other = self.by_key.get(key, iid)
            if other == iid:
                other = claimed.get(key, iid)
            if other != iid or ckey in self.common_keys:
                if other != iid:
                    self.kept_apart.append((other, iid))
                continue
            claimed[key] = iid
            said = "、".join(
                f"{TITLES_ZH[f]}由“{rec.get(f, '') or '（空）'}”改为“{v or '（空）'}”" for f, v in new.items()
            )
            rec.update(new)
            rec.update(
                last_change_year=self.year,
                last_change_type="修改",
                last_change_reason=f"名称与部门未变，编号保留；本年度使用部门填报的{said}",
            )
        self.updated = claimed

    def issue_new(self, allocator: IdAllocator) -> None:
        """Step 6: rows still without an indicator become new ones (共性 first, so departments' rows equal
        to a 共性 indicator issued this year are its usages)."""
        todo = np.flatnonzero(self.ids == "")
        if len(todo):
            self._issue(todo, allocator)
        # A row kept by department and name that equals another indicator's key: list the pair.
        keys = {**self.by_key, **self.key_new}
        for k, iid in zip(self.key[self.via == "dept_name"], self.ids[self.via == "dept_name"], strict=True):
            other = keys.get(str(k), iid)
            if other != iid:
                self.kept_apart.append((str(other), str(iid)))
        self.kept_apart = sorted(set(self.kept_apart))

    def _issue(self, todo: np.ndarray, allocator: IdAllocator) -> None:
        norm = self.norm
        fresh = pd.DataFrame(
            {
                "pos": todo,
                "scope": self.scope[todo],
                "function_class": _texts(norm["function_class"])[todo],
                "level2": _texts(norm["level2"])[todo],
                "match_name": self.match[todo],
                "key": self.key[todo],
                "common_key": self.ckey[todo],
                "cfk": self.cfk[todo],
                "definition": _distinct_values(norm["definition"], definition_form)[todo]
                if "definition" in norm
                else "",
                "dept_code": self.dept[todo],
                "source_file": _texts(norm["source_file"])[todo],
                "source_row": pd.to_numeric(norm["source_row"], errors="coerce").fillna(0).to_numpy()[todo],
            }
        )
        fresh["scope_order"] = fresh["scope"].map({"共性": 0, "部门整体": 1, "项目": 2}).fillna(3).astype(int)
        framework_order = {l2: i for i, (_, l2) in enumerate(reference().framework)}
        fresh["l2_order"] = fresh["level2"].map(framework_order).fillna(99).astype(int)
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
                "pos",
            ],
            kind="stable",
        )
        # Each new key's explanation: the one written most often (ties: the smallest), "" when none.
        written = fresh[fresh["definition"] != ""]
        counts = written.groupby(["key", "definition"]).size().reset_index(name="n")
        counts = counts.sort_values(["key", "n", "definition"], ascending=[True, False, True], kind="stable")
        key_definition = dict(counts.drop_duplicates("key")[["key", "definition"]].itertuples(index=False))
        # Released active 项目 indicators by class-free key and explanation: a new class's row joins them.
        cross: dict[tuple[str, str], str] = {}
        ki = self.key_index
        if not ki.empty:
            own = ki[~ki["is_alias"].astype(bool)]
            for iid, key in sorted(zip(own["indicator_id"], own["key"], strict=True)):
                rec = self.records[iid]
                definition = definition_form(str(rec.get("definition", "") or ""))
                if rec["status"] == "active" and rec["scope"] == "项目" and definition:
                    cross.setdefault((_class_free(str(key)), definition), str(iid))
        key_new: dict[str, str] = dict(self.updated)
        common_new: dict[str, str] = {}
        for pos, scope, key, ckey, cfk in zip(
            fresh["pos"], fresh["scope"], fresh["key"], fresh["common_key"], fresh["cfk"], strict=True
        ):
            definition = key_definition.get(key, "")
            if key in key_new:
                iid = key_new[key]
            elif scope != "共性" and ckey in common_new:
                iid = common_new[ckey]
            elif scope == "项目" and definition and (cfk, definition) in cross:
                iid = cross[(cfk, definition)]
            else:
                iid = allocator.issue(scope)
                self.new_ids.append(iid)
                self.new_scope[iid] = scope
            key_new.setdefault(key, iid)
            if scope == "共性":
                common_new.setdefault(ckey, iid)
            if scope == "项目" and definition:
                cross.setdefault((cfk, definition), iid)
            self.ids[pos] = iid
            if self.via[pos] == "":
                self.via[pos] = "new"
        self.key_new = key_new

    def merge_into_common(self) -> None:
        """A department's indicator whose rows now go to a 共性 indicator (they equal it) and that nothing
        else uses merges into it: its id resolves to the 共性 one instead of retiring unexplained."""
        rows = np.flatnonzero((self.via == "common") & (self.scope != "共性"))
        if not len(rows):
            return
        used = set(self.ids[self.change != "退出"])
        finals: dict[str, set[str]] = {}
        for pos in rows:
            cont = self.by_dept_key.get(str(self.dept_key[pos])) or self.by_dept_name.get(
                str(self.dept_name[pos]), ""
            )
            if cont:
                finals.setdefault(cont, set()).add(str(self.ids[pos]))
        for cont, into in sorted(finals.items()):
            rec = self.records.get(cont)
            if rec is None or len(into) != 1 or cont in used:
                continue
            keep = next(iter(into))
            if (
                keep != cont
                and rec["status"] == "active"
                and rec["scope"] != "共性"
                and rec.get("origin") != "上级"
                and self.records[keep]["scope"] == "共性"
            ):
                _merge_into(self.records, cont, keep, self.year, self.merged_into, COMMON_COVERS_REASON)


# --------------------------------------------------------------------------------------------------
# Pairs consolidation lists for review itself
# --------------------------------------------------------------------------------------------------
def name_similarity(a: str, b: str) -> float:
    """0–100: how near two matching names are — edits, the same characters rearranged (降尘抑尘/抑尘降尘),
    or one name inside the other (市民满意度/满意度)."""
    if not a or not b:
        return 0.0
    short, long = sorted((a, b), key=len)
    ratio = float(fuzz.ratio(a, b))
    order = float(fuzz.ratio("".join(sorted(a)), "".join(sorted(b)))) - 8.0
    inside = 80.0 if len(short) >= 2 and short in long else 0.0
    return max(ratio, order, inside)


RENAME_MIN_SIMILARITY = 60.0


def identity_pairs(
    indicators: pd.DataFrame,
    norm: pd.DataFrame,
    previous: LibraryTables | None,
    year: int,
    kept_apart: list[tuple[str, str]],
    rules: MatchRules | None,
) -> pd.DataFrame:
    """Pairs the identity rules leave to a person (CANDIDATE_COLUMNS, A = the id to keep):
    - likely renames: an indicator retired this year because its department stopped using it, and a new
      indicator of the same department, scope and project with a near-identical name;
    - kept apart: an indicator kept by department and name whose row now equals another indicator;
    - 项目 indicators with the same class-free key in different function classes not merged (their
      explanations differ or are empty)."""
    from pipelines.dedupe.candidates import CANDIDATE_COLUMNS

    rules = rules or default_rules()
    ind = indicators.set_index("indicator_id", drop=False)
    new = set(
        indicators.loc[
            (indicators["first_year"] == year) & (indicators["status"] == "active"), "indicator_id"
        ]
    )
    found: list[tuple[str, str, str, str]] = []  # (id_a, id_b, reason, flag)

    retiring = indicators[
        (indicators["status"] == "retired")
        & (indicators["retired_year"] == year)
        & (indicators["retire_reason"] == AUTO_RETIRE_REASON)
    ]
    if len(retiring) and new and previous is not None and len(previous.usages):
        last = dict(zip(retiring["indicator_id"], retiring["last_year"], strict=True))
        old = previous.usages[previous.usages["indicator_id"].isin(list(last))]
        old = old[old["year"].to_numpy() == old["indicator_id"].map(last).to_numpy()]
        mine = norm[norm["indicator_id"].isin(list(new)) & (norm["change_type"].astype(str) != "退出")]
        left = pd.DataFrame(
            {
                "dept": old["dept_code"].astype(str),
                "scope": old["scope"].astype(str),
                "project": old["project"].astype(str),
                "id_a": old["indicator_id"].astype(str),
            }
        ).drop_duplicates()
        right = pd.DataFrame(
            {
                "dept": _texts(mine["dept_code"]),
                "scope": _texts(mine["scope"]),
                "project": _texts(mine["project"]),
                "id_b": _texts(mine["indicator_id"]),
            }
        ).drop_duplicates()
        joined = left.merge(right, on=["dept", "scope", "project"]).drop_duplicates(["id_a", "id_b"])
        for id_a, id_b in sorted(zip(joined["id_a"], joined["id_b"], strict=True)):
            found.append((id_a, id_b, RENAME_REASON, "rename"))
    for id_a, id_b in kept_apart:
        if id_a in ind.index and id_b in ind.index:
            found.append((id_a, id_b, KEPT_APART_REASON, "kept_apart"))
    project = norm[(_texts(norm["scope"]) == "项目") & (_texts(norm["change_type"]) != "退出")]
    if len(project) and new:
        cfk = _distinct_values(project["key"], _class_free)
        ids = _texts(project["indicator_id"])
        groups = pd.DataFrame({"cfk": cfk, "id": ids}).drop_duplicates()
        shared = groups.groupby("cfk")["id"].transform("size").to_numpy() > 1  # the rare keys in 2+ ids
        for _, group in groups[shared].groupby("cfk", sort=True):
            first, *others = sorted(set(group["id"]))
            for b in others:  # the oldest id is A: the one the others would merge into
                if first in new or b in new:
                    found.append((first, b, CROSS_CLASS_PAIR_REASON, "cross_class"))
    if not found:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)

    table = suffix_table()
    out = []
    seen: set[tuple[str, str]] = set()
    for id_a, id_b, reason, flag in found:
        pair = (min(id_a, id_b), max(id_a, id_b))
        if pair in seen or id_a == id_b:
            continue
        a, b = ind.loc[id_a], ind.loc[id_b]
        match_a = rules.match_form(normalize_name(str(a["name"]))[0])[0]
        match_b = rules.match_form(normalize_name(str(b["name"]))[0])[0]
        suffix_a, suffix_b = table.classify(match_a), table.classify(match_b)
        score = name_similarity(match_a, match_b)
        if flag == "rename" and (score < RENAME_MIN_SIMILARITY or not table.compatible(suffix_a, suffix_b)):
            continue
        ops = diff_ops(match_b, match_a)
        pattern = "；".join(f"{x or '∅'}→{y or '∅'}" for x, y in ops) or SAME_NAME
        if rules.has_do_not_merge and rules.blocked(id_a, match_a, id_b, match_b, pattern):
            continue
        seen.add(pair)
        def_a, def_b = definition_form(str(a["definition"])), definition_form(str(b["definition"]))
        out.append(
            {
                "id_a": id_a,
                "name_a": str(a["name"]),
                "id_b": id_b,
                "name_b": str(b["name"]),
                "score": round(score, 1),
                "reason": reason,
                "pattern": pattern,
                "pattern_group": pattern_key(pattern),
                "name_score": round(float(fuzz.ratio(match_a, match_b)), 1),
                "definition_score": float(fuzz.ratio(def_a, def_b)) if def_a and def_b else np.nan,
                "cosine": np.nan,
                "unit_a": str(a["unit"]),
                "unit_b": str(b["unit"]),
                "suffix_a": suffix_a,
                "suffix_b": suffix_b,
                "flags": flag,
                "scope_a": str(a["scope"]),
                "scope_b": str(b["scope"]),
                "level2": str(a["level2"]),
                "origin_a": "new" if id_a in new else "existing",
                "origin_b": "new" if id_b in new else "existing",
                "level2_b": str(b["level2"]),
                "class_a": str(a["function_class"]),
                "class_b": str(b["function_class"]),
            }
        )
    frame = pd.DataFrame(out, columns=CANDIDATE_COLUMNS)  # columns the matcher does not write are dropped
    numeric = ("score", "name_score", "definition_score", "cosine")
    for column in frame.columns:
        frame[column] = frame[column].astype(float) if column in numeric else frame[column].fillna("")
    return frame


def _with_identity_pairs(candidates: pd.DataFrame, mine: pd.DataFrame) -> pd.DataFrame:
    """The matcher's candidates and consolidation's own pairs as one list; a pair in both keeps
    consolidation's reason (it says why the pair matters for identity)."""
    from pipelines.dedupe.candidates import sort_candidates

    if mine.empty:
        return candidates
    ours = {(min(a, b), max(a, b)) for a, b in zip(mine["id_a"], mine["id_b"], strict=True)}
    if len(candidates):
        pairs = [(min(a, b), max(a, b)) for a, b in zip(candidates["id_a"], candidates["id_b"], strict=True)]
        candidates = candidates[[p not in ours for p in pairs]]
        for column in mine.columns:
            if column not in candidates.columns:
                candidates = candidates.assign(**{column: ""})
        combined = pd.concat([candidates, mine[candidates.columns]], ignore_index=True)
    else:
        combined = mine
    return sort_candidates(combined)


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
    records: dict[str, dict[str, object]],
    norm: pd.DataFrame,
    new_ids: list[str],
    year: int,
    scopes: dict[str, str] | None = None,
) -> None:
    """A new indicator takes, field by field, the value most departments wrote; its scope is the scope of
    the row that issued it (`scopes`: a 共性 row when there is one, whatever order the files were read in)."""
    if not new_ids:
        return
    id_code = pd.Index(new_ids).get_indexer(norm["indicator_id"])  # -1: a row of an existing indicator
    n = len(new_ids)
    values = {field: _most_common_per_id(id_code, n, norm[column]) for field, column in NEW_FROM_ROWS.items()}
    names = _representative_names(id_code, n, norm)
    mine = np.flatnonzero(id_code >= 0)
    _, first = np.unique(id_code[mine], return_index=True)
    first_scopes = norm["scope"].to_numpy(dtype=object)[mine[first]]
    variants = _variants_per_id(id_code, n, norm["name_norm"])
    for k, iid in enumerate(new_ids):
        scope, name = (scopes or {}).get(iid, first_scopes[k]), names[k]
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
    if "name_as_written" in norm:  # the wording before template markers were stripped: an alias
        written = _variants_per_id(code, len(used_ids), norm["name_as_written"])
        variants = [
            sorted(set(v) | {w.strip() for w in x} - {""}) for v, x in zip(variants, written, strict=True)
        ]
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
    from pipelines.dedupe.candidates import find_candidates

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
