"""A county library built on its city's release (CONTRACT §1: counties build local libraries on the city's).

Every city indicator is laid over the county's previous indicators with the city's current definition and
status (origin 上级); the county's own ones (本级) are consolidated as usual, and one the city now covers
merges into the city's. The Overlay tells the county what that did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines.consolidate.changes import TRACKED_FIELDS
from pipelines.consolidate.reasons import UPSTREAM_COVERS_REASON
from pipelines.consolidate.records import INDICATOR_COLUMNS


@dataclass
class Overlay:
    """A county library's relation to its upstream (city) release."""

    upstream_tag: str
    covered: pd.DataFrame  # county indicators the city now covers: indicator_id, name, into_id, into_name
    # city retirements county usages still rely on: indicator_id, name, reason, departments
    retired_in_use: pd.DataFrame
    inherited: pd.DataFrame  # changed definitions the county inherits: indicator_id, name, field, old, new
    counts: dict[str, int] = field(default_factory=dict)  # 上级 / 本级 active indicators


def check_namespace(upstream: pd.DataFrame, namespace: str) -> None:
    """Refuses a county namespace equal to the city's: ids would collide."""
    clash = [i for i in upstream["indicator_id"] if str(i).startswith(f"{namespace}-")]
    if clash:
        raise ValueError(
            f"本级指标编号前缀“{namespace}”与上级指标库相同（如 {clash[0]}）：请在 indicators.toml 中设置本级的 id_namespace"
        )


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
    """What laying the city's release over the county's did this year (for the county's report)."""
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
