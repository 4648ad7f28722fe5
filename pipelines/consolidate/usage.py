"""What this year's rows do to the indicators they are usages of: 修改 requests, the departments and
wordings that used each indicator, 退出 requests, retirement for want of use (or because the department's
rows went to another of its indicators with the same key: collapsed_into), and reactivation."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from pipelines.common.frames import text_array
from pipelines.consolidate.changes import TRACKED_FIELDS
from pipelines.consolidate.per_indicator import distinct_codes, values_per_id, variants_per_id
from pipelines.consolidate.reasons import AUTO_RETIRE_REASON, collapsed_retire_reason
from pipelines.consolidate.records import Records, as_list
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import normalize_rows

# Fields a 修改 row may update on its indicator (empty cells leave the library value as it was).
MODIFIABLE = tuple(f for f in TRACKED_FIELDS if f not in ("function_code", "scope"))


def apply_changes(records: Records, norm: pd.DataFrame, year: int) -> None:
    """修改: the indicator takes the row's non-empty fields; a new name keeps the old one as an alias."""
    edits = norm[norm["change_type"] == "修改"].sort_values(
        ["indicator_id", "dept_code", "source_file", "source_row"]
    )
    for iid, group in edits.groupby("indicator_id", sort=True):
        row = group.iloc[0]
        rec = records[str(iid)]
        changed = False
        for f in MODIFIABLE:
            value = row["name_norm"] if f == "name" else row["unit_norm"] if f == "unit" else row.get(f, "")
            if value != "" and value != rec.get(f):
                if f == "name":
                    rec["aliases"] = sorted(set(as_list(rec["aliases"])) | {str(rec["name"])})
                rec[f] = value
                changed = True
        if changed:
            rec.update(
                last_change_year=year, last_change_type="修改", last_change_reason=row["change_reason"]
            )


def _used(norm: pd.DataFrame) -> tuple[dict[str, int], list[list[str]], list[list[str]]]:
    """(position of each used indicator, its departments, its wordings — as published and as written)."""
    using = (norm["change_type"] != "退出").to_numpy()
    # np.unique's inverse sorts a million Python strings: hashed, then only the distinct ids sorted (the same
    # sorted ids and codes).
    id_code, used_ids = pd.factorize(norm["indicator_id"].to_numpy(dtype=object)[using], sort=True)
    used_ids = np.asarray(used_ids, dtype=object)
    code = np.full(len(norm), -1, dtype=np.int64)
    code[using] = id_code
    depts = variants_per_id(code, len(used_ids), norm["dept_code"])
    if "name_as_written" in norm:  # the wording before template markers were stripped: an alias
        variants = _wordings(code, len(used_ids), norm["name_norm"], norm["name_as_written"])
    else:
        variants = variants_per_id(code, len(used_ids), norm["name_norm"])
    return {iid: k for k, iid in enumerate(used_ids)}, depts, variants


def _wordings(code: np.ndarray, n_ids: int, published: pd.Series, written: pd.Series) -> list[list[str]]:
    """Per id code: sorted(its published wordings | its written ones stripped, "" left out) — texts coded in
    one sorted space, so one sort of the rows' (id, text) codes gives every id's list (no set per id)."""
    pub_codes, pub = distinct_codes(published)
    wr_codes, wr = distinct_codes(written)
    wr = np.array([w.strip() for w in wr.tolist()], dtype=object)
    space_codes, space = pd.factorize(np.concatenate([pub, wr]), sort=True)
    space = np.asarray(space, dtype=object)
    rows_pub = (code >= 0) & (pub_codes >= 0)
    rows_wr = (code >= 0) & (wr_codes >= 0)
    rows_wr[rows_wr] = (wr != "")[wr_codes[rows_wr]]
    ids = np.concatenate([code[rows_pub], code[rows_wr]])
    texts = np.concatenate([space_codes[pub_codes[rows_pub]], space_codes[len(pub) + wr_codes[rows_wr]]])
    return values_per_id(ids, texts, space, n_ids)


def apply_usage(
    records: Records, norm: pd.DataFrame, year: int, pending: Iterable[str], rules: MatchRules | None
) -> dict[str, list[str]]:
    """Departments, last year, aliases, 退出 and auto-retirement, reactivation. `pending`: departments whose
    workbook was set aside this year — their indicators are not retired for want of a usage. Returns the
    indicators retired because their department's rows went to another id (collapsed_into): retired id →
    the ids its key's rows went to, for the review list (review_pairs._collapsed_pairs)."""
    position, depts, variants = _used(norm)
    retiring = norm[norm["change_type"] == "退出"].sort_values(["indicator_id", "dept_code", "source_row"])
    retire_reason = retiring.groupby("indicator_id")["change_reason"].first()
    pending_set = set(pending)
    idle: list[str] = []  # active, not used, no 退出, no department set aside: retired below
    for iid, rec in records.items():
        if rec["status"] == "merged":
            continue
        if rec.get("origin") == "上级":  # the city's indicator: its status is the city's, usage is ours
            rec["departments"] = depts[position[iid]] if iid in position else []
        elif iid in position:
            _record_use(rec, depts[position[iid]], variants[position[iid]], year)
        elif rec["status"] == "active":
            if iid in retire_reason.index:
                _retire(rec, year, str(retire_reason[iid]))
            elif not set(as_list(rec["departments"])) & pending_set:
                idle.append(iid)
            # else its department's workbook was set aside this year: keep it until corrected
    collapsed = collapsed_into(records, idle, norm, rules)
    for iid in idle:
        into = collapsed.get(iid)
        _retire(records[iid], year, collapsed_retire_reason(into) if into else AUTO_RETIRE_REASON)
    return collapsed


def _retire(rec: dict[str, object], year: int, reason: str) -> None:
    rec.update(status="retired", retired_year=year, retire_reason=reason)
    rec.update(last_change_year=year, last_change_type="退出", last_change_reason=reason)


def collapsed_into(
    records: Records, idle: list[str], norm: pd.DataFrame, rules: MatchRules | None
) -> dict[str, list[str]]:
    """Of the indicators `idle` this year, those whose key a department of theirs used this year under
    another id: two of its indicators came to share a key without being certainly one
    (merges.certain_groups) and its rows of that key all went to one of them. Retired id → those ids."""
    rows = norm[text_array(norm["change_type"]) != "退出"]
    if not idle or not len(rows):
        return {}
    needed = ["indicator_id", "scope", "level1", "level2", "name", "unit", "function_code"]
    frame = pd.DataFrame([{c: records[i].get(c, "") for c in needed} for i in idle], columns=needed)
    keyed = normalize_rows(frame.assign(target_unit=""), rules)
    key_of = dict(zip(keyed["indicator_id"], keyed["key"], strict=True))
    hit = rows["key"].isin(list(set(key_of.values()))).to_numpy()
    if not hit.any():
        return {}
    used: dict[str, set[tuple[str, str]]] = {}  # key → (department, id) of this year's rows
    for key, iid, dept in zip(
        text_array(rows["key"])[hit].tolist(),
        text_array(rows["indicator_id"])[hit].tolist(),
        text_array(rows["dept_code"])[hit].tolist(),
        strict=True,
    ):
        used.setdefault(key, set()).add((dept, iid))
    found: dict[str, list[str]] = {}
    for idle_id, key in sorted(key_of.items()):
        depts = set(as_list(records[idle_id]["departments"]))
        into = sorted({i for d, i in used.get(key, ()) if d in depts and i != idle_id})
        if into:
            found[idle_id] = into
    return found


def _record_use(rec: dict[str, object], departments: list[str], wordings: list[str], year: int) -> None:
    """An indicator used this year: its departments and wordings; a retired one comes back."""
    rec["departments"] = departments
    rec["last_year"] = year
    extra = set(wordings) - {rec["name"], ""}
    if extra:
        rec["aliases"] = sorted(set(as_list(rec["aliases"])) | extra)
    if rec["status"] == "retired":
        rec.update(status="active", retired_year=None, retire_reason="")
        if rec.get("last_change_year") != year or rec.get("last_change_type") != "修改":
            # a 修改 this year keeps its own reason; otherwise the comeback is the change
            rec.update(last_change_year=year, last_change_type="恢复", last_change_reason="本年度重新使用")
