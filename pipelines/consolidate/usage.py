"""What this year's rows do to the indicators they are usages of: 修改 requests, the departments and
wordings that used each indicator, 退出 requests, retirement for want of use, and reactivation."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from pipelines.consolidate.changes import TRACKED_FIELDS
from pipelines.consolidate.per_indicator import variants_per_id
from pipelines.consolidate.reasons import AUTO_RETIRE_REASON
from pipelines.consolidate.records import Records, as_list

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
    used_ids, id_code = np.unique(norm["indicator_id"].to_numpy(dtype=object)[using], return_inverse=True)
    code = np.full(len(norm), -1, dtype=np.int64)
    code[using] = id_code
    depts = variants_per_id(code, len(used_ids), norm["dept_code"])
    variants = variants_per_id(code, len(used_ids), norm["name_norm"])
    if "name_as_written" in norm:  # the wording before template markers were stripped: an alias
        written = variants_per_id(code, len(used_ids), norm["name_as_written"])
        variants = [
            sorted(set(v) | {w.strip() for w in x} - {""}) for v, x in zip(variants, written, strict=True)
        ]
    return {iid: k for k, iid in enumerate(used_ids)}, depts, variants


def apply_usage(records: Records, norm: pd.DataFrame, year: int, pending: Iterable[str]) -> None:
    """Departments, last year, aliases, 退出 and auto-retirement, reactivation. `pending`: departments whose
    workbook was set aside this year — their indicators are not retired for want of a usage."""
    position, depts, variants = _used(norm)
    retiring = norm[norm["change_type"] == "退出"].sort_values(["indicator_id", "dept_code", "source_row"])
    retire_reason = retiring.groupby("indicator_id")["change_reason"].first()
    pending_set = set(pending)
    for iid, rec in records.items():
        if rec["status"] == "merged":
            continue
        if rec.get("origin") == "上级":  # the city's indicator: its status is the city's, usage is ours
            rec["departments"] = depts[position[iid]] if iid in position else []
        elif iid in position:
            _record_use(rec, depts[position[iid]], variants[position[iid]], year)
        elif rec["status"] == "active":
            if iid in retire_reason.index:
                reason = str(retire_reason[iid])
            elif set(as_list(rec["departments"])) & pending_set:
                continue  # its department's workbook was set aside this year: keep it until corrected
            else:
                reason = AUTO_RETIRE_REASON
            rec.update(status="retired", retired_year=year, retire_reason=reason)
            rec.update(last_change_year=year, last_change_type="退出", last_change_reason=reason)


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
