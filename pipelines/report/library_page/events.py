"""Every indicator's change history for the page: one row per event, across all releases.

Releases already published are read from the repo's release tags (pipelines.store.query.diff between
consecutive tags: the same change sets `indicators diff` / `history` report); this release's changes are
not committed when the report is written, so they come from its own ChangeSet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.consolidate.changes import EVENT_ZH, ChangeSet
from pipelines.store.query.diff import diff, shown
from pipelines.store.query.git_read import QueryError, open_library_repo
from pipelines.store.repo import release_tags
from schemas.library import TITLES_ZH

EVENT_COLUMNS = ["indicator_id", "year", "tag", "type", "reason", "detail"]
ABSORBED_ZH = "并入本指标"


def empty_events() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "year" else str) for c in EVENT_COLUMNS})


def _frame(part: pd.DataFrame, kind: str, reason: object, detail: object = "") -> pd.DataFrame:
    n = len(part)
    return pd.DataFrame(
        {
            "indicator_id": part["indicator_id"].astype(str).to_numpy(),
            "type": [kind] * n,
            "reason": reason if isinstance(reason, pd.Series) else [reason] * n,
            "detail": detail if isinstance(detail, pd.Series) else [detail] * n,
        }
    ).astype({"reason": str, "detail": str})


def _modified(modified: pd.DataFrame) -> pd.DataFrame:
    """One event per modified indicator: its fields old → new, its reasons joined."""
    m = modified.assign(
        line=[
            f"{TITLES_ZH.get(f, f)}：{shown(o)} → {shown(n)}"
            for f, o, n in zip(modified["field"], modified["old"], modified["new"], strict=True)
        ]
    )
    grouped = m.groupby("indicator_id", sort=True).agg(
        reason=("reason", lambda s: "；".join(r for r in dict.fromkeys(s.astype(str)) if r)),
        detail=("line", "；".join),
    )
    return pd.DataFrame(
        {
            "indicator_id": grouped.index.astype(str),
            "type": EVENT_ZH["modified"],
            "reason": grouped["reason"].to_numpy(),
            "detail": grouped["detail"].to_numpy(),
        }
    )


def changeset_events(changes: ChangeSet, year: int, tag: str) -> pd.DataFrame:
    """The events of one release (one ChangeSet), per indicator, in the page's columns."""
    parts: list[pd.DataFrame] = []
    if len(changes.added):
        parts.append(_frame(changes.added, EVENT_ZH["added"], changes.added["reason"]))
    if len(changes.modified):
        parts.append(_modified(changes.modified))
    if len(changes.retired):
        parts.append(_frame(changes.retired, EVENT_ZH["retired"], changes.retired["reason"]))
    merged = changes.merged
    if len(merged):
        into = "并入 " + merged["into_id"].astype(str) + " " + merged["into_name"].astype(str)
        parts.append(_frame(merged, EVENT_ZH["merged"], merged["reason"], into))
        source = merged["indicator_id"].astype(str) + " " + merged["name"].astype(str) + " 并入本指标"
        absorbed = merged.assign(indicator_id=merged["into_id"])
        parts.append(_frame(absorbed, ABSORBED_ZH, merged["reason"], source))
    if len(changes.reactivated):
        parts.append(_frame(changes.reactivated, EVENT_ZH["reactivated"], changes.reactivated["reason"]))
    if not parts:
        return empty_events()
    out = pd.concat(parts, ignore_index=True)
    return out.assign(year=year, tag=tag)[EVENT_COLUMNS]


def release_events(repo_root: Path | str, before_year: int) -> pd.DataFrame:
    """Events of every published release of a year before `before_year`, oldest first (the first
    release: everything in it is 新增). An empty frame when the repo has no release yet."""
    try:
        repo = open_library_repo(repo_root)
    except QueryError:  # a fresh deployment: no repo yet, so no history
        return empty_events()
    tags = [t for t in release_tags(repo) if t.year < before_year]
    frames = [
        changeset_events(diff(repo, tags[i - 1].tag if i else None, t.tag), t.year, t.tag)
        for i, t in enumerate(tags)
    ]
    return pd.concat([empty_events(), *frames], ignore_index=True) if frames else empty_events()


def all_events(repo_root: Path | str | None, year: int, changes: ChangeSet, tag: str = "") -> pd.DataFrame:
    """Published history plus this release's changes: what the page's cards show."""
    past = release_events(repo_root, year) if repo_root is not None else empty_events()
    now = changeset_events(changes, year, tag or f"v{year}")
    return pd.concat([past, now], ignore_index=True) if len(past) else now
