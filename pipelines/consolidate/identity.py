"""Identity: which indicator each accepted row is a usage of. Order, most certain first (precision before
recall: a wrong merge corrupts two departments' indicators, a missed one only leaves a duplicate for review):

1. the row names a 库内编号 (沿用 / 修改 / 退出);
2. it equals a 共性 indicator (common_key = level1|level2|match_name|unit, scope and class left out): it is
   that indicator's usage, whatever the row's scope and whatever order the files are read in — released
   共性 indicators, then this year's 共性 rows. A 共性 row equal to a department's released indicator turns
   that indicator into the 共性 one, keeping its id (promote_common, a 修改 of its scope, visible in diff);
   other active indicators equal to it merge in;
3. the same department wrote this exact key last time (pipelines/consolidate/continuity.py);
4. the same department, scope and matching name as a row it wrote last time: an indicator whose name and
   department did not change keeps its id whatever its target, unit, level or value format did — unless the
   department writes that name for two different measures this year. When every department using it
   changed the unit or level, the indicator takes the new values (follow_usage, a recorded 修改 "编号保留"),
   unless that would make it equal to another indicator — then both stay, listed (kept_apart);
5. its key equals the key of a released indicator's name or alias (synonym rules applied);
6. otherwise rows sharing a key become one new indicator (cross-department duplicates merge here, 共性
   rows first; pipelines/consolidate/new_indicators.py). Function class is a property of the usage: 项目
   rows of different classes with the same name, unit, levels and a near-identical explanation
   (definition_form equal and not empty) are one indicator. An empty explanation never merges — such
   pairs are listed instead (pipelines/consolidate/review_pairs.py).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from pipelines.common.frames import join_rows, text_array
from pipelines.consolidate import continuity
from pipelines.consolidate.key_index import STATUS_RANK, class_free_keys, key_of
from pipelines.consolidate.merges import make_common
from pipelines.consolidate.new_indicators import (
    IdAllocator,
    released_by_explanation,
    rows_to_issue,
)
from pipelines.consolidate.reasons import COMMON_COVERS_REASON, PROMOTED_REASON
from pipelines.consolidate.records import Records, merge_into, resolve_merged
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import KEY_SEP
from schemas.library import TITLES_ZH

# Fields that follow what every using department wrote this year (an indicator matched by department and
# name whose unit or framework level changed); the nature (定量/定性) changes with them.
FOLLOWED_FIELDS = ("unit", "level1", "level2")


class RowIdentity:
    """The identity of this year's rows, step by step (see the module docstring): promote_common, assign,
    follow_usage, issue_new, then — once the new indicators exist — merge_into_common."""

    def __init__(
        self,
        norm: pd.DataFrame,
        records: Records,
        key_index: pd.DataFrame,
        merged_into: dict[str, str],
        year: int,
        history: pd.DataFrame | None = None,
        rules: MatchRules | None = None,
    ) -> None:
        self.norm, self.records, self.key_index = norm, records, key_index
        self.merged_into, self.year = merged_into, year
        self.history = history  # the previous release's usages: what each department wrote
        self.rules = rules
        n = len(norm)

        def col(name: str) -> np.ndarray:
            return text_array(norm[name]) if name in norm.columns else np.full(n, "", dtype=object)

        self.scope, self.key, self.ckey = col("scope"), col("key"), col("common_key")
        self.match, self.dept, self.change = col("match_name"), col("dept_code"), col("change_type")
        self.library_id = col("library_id")
        self.ids = np.full(n, "", dtype=object)
        self.via = np.full(n, "", dtype=object)  # which step found the row's indicator
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

    # Per-row keys of the department's continuity, made when first read: a year with no released
    # indicator and no usage history reads none of them (300k rows: 0.5 s CPU of joined texts).
    @cached_property
    def cfk(self) -> np.ndarray:
        """The class-free key of each row."""
        return class_free_keys(self.key) if len(self.key) else np.empty(0, dtype=object)

    @cached_property
    def dept_key(self) -> np.ndarray:
        """department|key of each row."""
        return join_rows([self.dept, self.key], KEY_SEP) if len(self.key) else np.empty(0, dtype=object)

    @cached_property
    def dept_name(self) -> np.ndarray:
        """department|scope|matching name of each row."""
        if not len(self.key):
            return np.empty(0, dtype=object)
        return join_rows([self.dept, self.scope, self.match], KEY_SEP)

    # --- indexes of the released indicators -------------------------------------------------------
    def _resolve(self, iid: str) -> str:
        return resolve_merged(iid, self.merged_into)

    def _refresh(self) -> None:
        ki = self.key_index
        if ki.empty:
            return
        ki["target"] = [self._resolve(str(i)) for i in ki["indicator_id"]]
        self.by_key = dict(ki.drop_duplicates("key")[["key", "target"]].itertuples(index=False, name=None))
        common = ki[ki["scope"] == "共性"].drop_duplicates("common_key")
        self.by_common = dict(common[["common_key", "target"]].itertuples(index=False, name=None))

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
            targets = [
                t
                for t in sorted(
                    {str(t) for t in group["target"]},
                    key=lambda i: (STATUS_RANK.get(str(self.records[i]["status"]), 2), i),
                )
                if self.records[t]["status"] != "merged"
                and self.records[t].get("origin") != "上级"
                and t not in promoted
            ]
            if not targets:
                continue
            keep = targets[0]
            for other in targets[1:]:
                if self.records[other]["status"] == "active":
                    merge_into(self.records, other, keep, self.year, self.merged_into, COMMON_COVERS_REASON)
            promoted.append(keep)
        make_common(self.records, ki, self.merged_into, promoted, self.year, PROMOTED_REASON)
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
        if self.by_dept_key:  # (else nothing to look up: the rows' keys are not made)
            self._lookup(mask, self.dept_key, self.by_dept_key, "dept_key")
        rest = mask & (self.ids == "")
        if not rest.any() or not self.by_dept_name:
            return
        exact = set(self.dept_name[self.via == "dept_key"])
        measures = pd.DataFrame({"g": self.dept_name[rest], "c": self.cfk[rest]}).groupby("g")["c"].nunique()
        single = {str(g) for g, count in measures.items() if count == 1 and g not in exact}
        eligible = rest & pd.Series(self.dept_name).isin(single).to_numpy()
        self._lookup(eligible, self.dept_name, self.by_dept_name, "dept_name")

    def assign(self) -> None:
        """Steps 1–5: 库内编号, 共性 indicators, the department's continuity, released keys."""
        self._refresh()
        maps = continuity.from_usages(self.history, self.year, self.rules, self.records, self.merged_into)
        if not maps[0] and not maps[1]:
            maps = continuity.from_release(self.key_index, self.records)
        self.by_dept_key, self.by_dept_name = maps
        explicit = self._explicit()
        self.ids[explicit] = [self._resolve(str(i)) for i in self.library_id[explicit]]
        self.via[explicit] = "explicit"
        self._lookup(np.ones(len(self.ids), dtype=bool), self.ckey, self.by_common, "common")
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
        chosen = self._followable()
        if not chosen:
            return
        own = self.key_index[~self.key_index["is_alias"].astype(bool)]
        match_of = dict(zip(own["indicator_id"], own["match_name"], strict=True))
        claimed: dict[str, str] = {}
        for iid, group in self._rows_of(chosen).groupby("id", sort=True):
            iid = str(iid)
            rec = self.records[iid]
            new = _followed_values(group, rec)
            if not new:
                continue
            value = {f: str(new.get(f, rec.get(f, "")) or "") for f in ("level1", "level2", "unit")}
            match = str(match_of.get(iid, ""))
            key = key_of(
                str(rec["scope"]),
                value["level1"],
                value["level2"],
                str(rec["function_class"]),
                match,
                value["unit"],
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
            _record_followed(rec, new, self.year)
        self.updated = claimed

    def _followable(self) -> list[str]:
        """Indicators found by department and name (step 4) that no 修改 row edits, not 共性, not the city's."""
        chosen = sorted({str(i) for i in self.ids[self.via == "dept_name"]})
        edited = {str(i) for i in self.ids[self.change == "修改"]}
        return [
            i
            for i in chosen
            if i not in edited
            and self.records[i]["scope"] != "共性"
            and self.records[i].get("origin") != "上级"
        ]

    def _rows_of(self, chosen: list[str]) -> pd.DataFrame:
        """This year's using rows of `chosen` with the fields that may follow them."""
        mask = pd.Series(self.ids).isin(chosen).to_numpy() & (self.change != "退出")
        idx = np.flatnonzero(mask)
        norm = self.norm
        return pd.DataFrame(
            {
                "id": self.ids[idx],
                "unit": text_array(norm["unit_norm"])[idx],
                "level1": text_array(norm["level1"])[idx],
                "level2": text_array(norm["level2"])[idx],
                "nature": text_array(norm["nature"])[idx]
                if "nature" in norm
                else np.full(len(idx), "", dtype=object),
            }
        )

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
        columns = {"scope": self.scope, "match_name": self.match, "key": self.key}
        columns |= {"common_key": self.ckey, "dept_code": self.dept}
        fresh = rows_to_issue(self.norm, todo, columns)
        cross = released_by_explanation(self.key_index, self.records)
        key_new: dict[str, str] = dict(self.updated)
        common_new: dict[str, str] = {}
        # One step per key, at its first row in issue order: its later rows would find it in key_new (and
        # change nothing else: common key, class-free key and explanation are the key's).
        found: list[str] = []
        values = (fresh.scope, fresh.key, fresh.common_key, fresh.cfk, fresh.definition)
        for scope, key, ckey, cfk, definition in zip(*values, strict=True):
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
            found.append(iid)
        self.ids[fresh.pos] = np.array(found, dtype=object)[fresh.key_code]
        self.via[todo[self.via[todo] == ""]] = "new"
        self.key_new = key_new

    def merge_into_common(self) -> None:
        """A department's indicator whose rows now go to a 共性 indicator (they equal it) and that nothing
        else uses merges into it: its id resolves to the 共性 one instead of retiring unexplained."""
        rows = np.flatnonzero((self.via == "common") & (self.scope != "共性"))
        by_key, by_name = self.by_dept_key, self.by_dept_name
        # No continuity to look up (a first year): nothing to merge, and no row's department keys made for
        # it (1M rows: 296k rows equal to a 共性 indicator, the keys of all 884k rows joined for them: ≈ 2 s).
        if not len(rows) or not (by_key or by_name):
            return
        used = set(self.ids[self.change != "退出"])
        finals: dict[str, set[str]] = {}
        for pos in rows:
            cont = (by_key.get(str(self.dept_key[pos])) if by_key else None) or (
                by_name.get(str(self.dept_name[pos]), "") if by_name else ""
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
                merge_into(self.records, cont, keep, self.year, self.merged_into, COMMON_COVERS_REASON)


def _followed_values(group: pd.DataFrame, rec: dict[str, object]) -> dict[str, str]:
    """The unit / levels every using row agrees on and the indicator does not have (with the nature when
    the rows agree on one); {} when nothing follows."""
    new: dict[str, str] = {}
    for f in FOLLOWED_FIELDS:
        values = sorted(set(group[f]))
        if len(values) == 1 and values[0] != str(rec.get(f, "") or ""):
            new[f] = values[0]
    if not new:
        return new
    natures = sorted(set(group["nature"]) - {""})
    if len(natures) == 1 and natures[0] != str(rec.get("nature", "") or ""):
        new["nature"] = natures[0]
    return new


def _record_followed(rec: dict[str, object], new: dict[str, str], year: int) -> None:
    said = "、".join(
        f"{TITLES_ZH[f]}由“{rec.get(f, '') or '（空）'}”改为“{v or '（空）'}”" for f, v in new.items()
    )
    rec.update(new)
    rec.update(
        last_change_year=year,
        last_change_type="修改",
        last_change_reason=f"名称与部门未变，编号保留；本年度使用部门填报的{said}",
    )
