"""Released indicators that become one before this year's rows are matched, and indicators made 共性.

Order (consolidate): the reviewers' 合并 decisions (B into A, even when units differ), their 设为共性指标
decisions (A becomes the 共性 indicator, keeping its id), active indicators that now share a key (a synonym
rule, a reviewer's wording, a 修改) when they are certainly one, then heal_identities: what the identity
rules say is one in a library built before them. Every merge is a recorded 合并 with its own reason (only a
reviewer's decision says 经人工审核); the absorbed id stays, pointing at the kept one.
"""

from __future__ import annotations

import pandas as pd

from pipelines.consolidate.key_index import key_of
from pipelines.consolidate.reasons import (
    COMMON_COVERS_REASON,
    REVIEW_MERGE_REASON,
    REVIEW_PROMOTED_REASON,
    SHARED_KEY_MERGE_REASON,
    UPSTREAM_COVERS_REASON,
)
from pipelines.consolidate.records import Records, as_list, merge_into, resolve_merged
from pipelines.normalize.canonical import MatchRules, definition_form


def make_common(
    records: Records,
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
        [resolve_merged(str(i), merged_into) for i in key_index["indicator_id"]], index=key_index.index
    )
    mine = targets.isin(keeps).to_numpy()
    key_index.loc[mine, "scope"] = "共性"
    key_index.loc[mine, "key"] = [
        key_of("共性", a, b, "", m, u)
        for a, b, m, u in zip(
            key_index.loc[mine, "level1"],
            key_index.loc[mine, "level2"],
            key_index.loc[mine, "match_name"],
            key_index.loc[mine, "unit_norm"],
            strict=True,
        )
    ]


def apply_review_decisions(
    records: Records,
    key_index: pd.DataFrame,
    merged_into: dict[str, str],
    rules: MatchRules | None,
    year: int,
) -> None:
    """The reviewers' 合并 and 设为共性指标 decisions, then active indicators that now share a key."""
    for _rule, id_a, id_b in rules.merges if rules is not None else []:
        if id_a in records and id_b in records and records[id_b]["status"] != "merged" and id_a != id_b:
            merge_into(
                records, id_b, resolve_merged(id_a, merged_into), year, merged_into, REVIEW_MERGE_REASON
            )
    decided: list[str] = []
    for _rule, id_a, _id_b in rules.promotions if rules is not None else []:
        keep = resolve_merged(id_a, merged_into)
        rec = records.get(keep)
        if rec is not None and rec["scope"] != "共性" and rec.get("origin") != "上级" and keep not in decided:
            decided.append(keep)
    make_common(records, key_index, merged_into, decided, year, REVIEW_PROMOTED_REASON)
    _merge_shared_keys(records, key_index, merged_into, year)


def _merge_shared_keys(
    records: Records, key_index: pd.DataFrame, merged_into: dict[str, str], year: int
) -> None:
    """Active indicators whose canonical names now share a key: a county's merges into the city's indicator;
    otherwise only indicators certainly one merge (certain_groups: the same departments, the same non-empty
    explanation), into the oldest id. The others keep their ids — each department's rows still find its own
    (continuity) — and review_pairs lists them for a person. A reviewer's 合并 decision on two ids merged
    them above (apply_review_decisions): nothing here is recorded as reviewed."""
    active_keys = key_index[(key_index["status"] == "active") & ~key_index["is_alias"]]
    active_keys = active_keys[active_keys["key"].duplicated(keep=False)]  # only keys two indicators share
    for _, group in active_keys.groupby("key", sort=True):
        ids = sorted({resolve_merged(i, merged_into) for i in group["indicator_id"]})
        upstream_ids = [i for i in ids if records[i].get("origin") == "上级"]
        if upstream_ids:
            for absorbed in ids:
                if absorbed != upstream_ids[0] and _mergeable(records, absorbed):
                    merge_into(records, absorbed, upstream_ids[0], year, merged_into, UPSTREAM_COVERS_REASON)
            continue
        for same in certain_groups(records, [i for i in ids if _mergeable(records, i)]):
            for absorbed in same[1:]:
                merge_into(records, absorbed, same[0], year, merged_into, SHARED_KEY_MERGE_REASON)


def _mergeable(records: Records, iid: str) -> bool:
    return records[iid]["status"] != "merged" and records[iid].get("origin") != "上级"


def certain_groups(records: Records, ids: list[str]) -> list[list[str]]:
    """Of indicators that share a key, the groups certainly one (each sorted, the oldest id first): used by
    the same departments and with the same non-empty explanation (definition_form). Indicators of different
    departments, or whose explanations differ or are missing, are never merged without a reviewer."""
    groups: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for iid in sorted(ids):
        rec = records[iid]
        departments = tuple(sorted(as_list(rec["departments"])))
        definition = definition_form(str(rec.get("definition", "") or ""))
        if departments and definition and rec["status"] == "active":
            groups.setdefault((departments, definition), []).append(iid)
    return [g for _, g in sorted(groups.items()) if len(g) > 1]


def heal_identities(
    records: Records, key_index: pd.DataFrame, merged_into: dict[str, str], year: int
) -> None:
    """Released indicators that the identity rules say are one (libraries built before these rules, or
    made equal by a 修改): a department's indicator equal to an active 共性 indicator merges into it, recorded
    as 合并; the absorbed id stays, pointing at the kept one. Released 项目 indicators of different function
    classes that come to share a class-free key are not merged here: each keeps its id (an indicator whose
    name and department did not change never changes id) and the pair is listed for review
    (review_pairs._cross_class_pairs); new rows still join an indicator of another class when identified."""
    if key_index.empty:
        return
    own = key_index[~key_index["is_alias"].astype(bool)]
    active: list[tuple[str, str, str]] = []  # (id, key, common_key) of active, unmerged indicators
    for iid, key, ckey in zip(own["indicator_id"], own["key"], own["common_key"], strict=True):
        if records[iid]["status"] == "active" and merged_into.get(iid, "") == "":
            active.append((str(iid), str(key), str(ckey)))
    active.sort()
    _merge_into_commons(records, active, merged_into, year)


def _merge_into_commons(
    records: Records, active: list[tuple[str, str, str]], merged_into: dict[str, str], year: int
) -> None:
    """A department's indicator equal (common_key) to an active 共性 indicator merges into it."""
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
            merge_into(records, iid, keep, year, merged_into, COMMON_COVERS_REASON)
