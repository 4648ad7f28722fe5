"""What each department wrote before: identity steps 3 and 4 (see pipelines/consolidate/identity.py).

Two maps, built from the previous release's usages (what each department wrote in its latest year, with
the row's own scope: a 项目 row that was a usage of a 共性 indicator continues it too), or — when a release
has no usages (a table built by hand, an old layout) — from the departments listed on each indicator:
  by_dept_key:  dept|key              → the indicator (step 3: the same department, the same key);
  by_dept_name: dept|scope|match_name → the indicator, only when that name meant one indicator
                (step 4: the same department, scope and name, whatever the unit, level or target did).
"""

from __future__ import annotations

import pandas as pd

from pipelines.common.frames import join_rows, text_array
from pipelines.consolidate.key_index import STATUS_RANK
from pipelines.consolidate.records import Records, as_list, resolve_merged
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import KEY_SEP, normalize_rows

DeptMaps = tuple[dict[str, str], dict[str, str]]  # (by_dept_key, by_dept_name)
_USAGE_COLUMNS = [
    "indicator_id", "year", "dept_code", "scope", "level1", "level2", "name", "unit", "function_code",
]  # fmt: skip


def from_usages(
    usages: pd.DataFrame | None,
    year: int,
    rules: MatchRules | None,
    records: Records,
    merged_into: dict[str, str],
) -> DeptMaps:
    """The maps from what each department wrote in its latest year before `year`."""
    if usages is None or usages.empty:
        return {}, {}
    past = usages[usages["year"] < year]
    if past.empty:
        return {}, {}
    past = past[
        past["year"].to_numpy()
        == past.groupby("dept_code", observed=True)["year"].transform("max").to_numpy()
    ]
    frame = _keyed_targets(
        past[_USAGE_COLUMNS].drop_duplicates().reset_index(drop=True), rules, records, merged_into
    )
    if frame.empty:
        return {}, {}
    latest = frame.sort_values(["dk", "year", "target"], ascending=[True, False, True], kind="stable")
    by_dept_key = dict(latest.drop_duplicates("dk")[["dk", "target"]].itertuples(index=False, name=None))
    last_year = frame.groupby("dn")["year"].transform("max")
    recent = frame[frame["year"] == last_year]
    count = recent.groupby("dn")["target"].nunique()
    single = recent[recent["dn"].map(count).to_numpy() == 1].drop_duplicates("dn")
    return by_dept_key, dict(single[["dn", "target"]].itertuples(index=False, name=None))


def _keyed_targets(
    past: pd.DataFrame, rules: MatchRules | None, records: Records, merged_into: dict[str, str]
) -> pd.DataFrame:
    """Past usages keyed: dk (dept|key), dn (dept|scope|match_name), target (the indicator now), year;
    only usages of indicators that still exist unmerged."""
    keyed = normalize_rows(past, rules, compact=True)
    ids = keyed["indicator_id"].astype(str)
    distinct = {i: resolve_merged(i, merged_into) for i in ids.unique()}
    target = ids.map(distinct)
    usable = {t for t in set(distinct.values()) if t in records and records[t]["status"] != "merged"}
    known = target.isin(usable)
    dept, scope = text_array(keyed["dept_code"]), text_array(keyed["scope"])
    return pd.DataFrame(
        {
            "dk": join_rows([dept, text_array(keyed["key"])], KEY_SEP),
            "dn": join_rows([dept, scope, text_array(keyed["match_name"])], KEY_SEP),
            "target": target.to_numpy(dtype=object),
            "year": keyed["year"].astype("int64").to_numpy(),
        }
    )[known.to_numpy()]


def from_release(key_index: pd.DataFrame, records: Records) -> DeptMaps:
    """The maps from the departments that used each indicator in its last active year."""
    if key_index.empty:
        return {}, {}
    dept_key: dict[str, tuple[int, str]] = {}
    dept_name: dict[str, set[str]] = {}
    ki = key_index
    for iid, key, scope, match, target in zip(
        ki["indicator_id"], ki["key0"], ki["scope0"], ki["match_name"], ki["target"], strict=True
    ):
        rank = STATUS_RANK.get(str(records[target]["status"]), 2)
        if rank == 2:
            continue
        for dept in as_list(records[iid]["departments"]):
            k = f"{dept}{KEY_SEP}{key}"
            best = dept_key.get(k)
            if best is None or (rank, target) < best:
                dept_key[k] = (rank, target)
            dept_name.setdefault(KEY_SEP.join((dept, str(scope), str(match))), set()).add(target)
    by_dept_key = {k: v[1] for k, v in dept_key.items()}
    return by_dept_key, {k: next(iter(v)) for k, v in dept_name.items() if len(v) == 1}
