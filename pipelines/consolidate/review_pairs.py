"""The review list (merge_review.xlsx) consolidation hands on: the matcher's candidates for this year's new
indicators (pipelines/dedupe/candidates.py) and the pairs only consolidation can see (identity_pairs):
  - likely renames: an indicator retired this year because its department stopped using it (or filed its
    key only under another id), and a new indicator of the same department, scope and project with a
    near-identical name;
  - kept apart: an indicator kept by department and name whose row now equals another indicator;
  - one key, two ids: active indicators used this year under the same key that are not certainly one (of
    different departments, or with different or missing explanations: merges.certain_groups), so kept
    apart by consolidation; and an indicator retired because its department's rows of the key it came to
    share went to the other (usage.collapsed_into);
  - 项目 indicators with the same class-free key in different function classes not merged (their
    explanations differ or are empty).
Fuzzier similarities never merge; a person decides (合并 / 不合并 / 设为共性指标).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from pipelines.common.frames import distinct_counts, text_array
from pipelines.common.packed_texts import PackedTextArray
from pipelines.consolidate.key_index import class_free_keys
from pipelines.consolidate.reasons import (
    AUTO_RETIRE_REASON,
    CROSS_CLASS_KEPT_REASON,
    CROSS_CLASS_PAIR_REASON,
    KEPT_APART_REASON,
    RENAME_REASON,
    collapsed_key_reason,
    shared_key_reason,
)
from pipelines.consolidate.records import as_list
from pipelines.dedupe.candidates import CANDIDATE_COLUMNS, find_candidates, sort_candidates
from pipelines.dedupe.patterns import SAME_NAME, diff_ops, pattern_of
from pipelines.dedupe.review_layout import _USED_COLUMNS
from pipelines.normalize.canonical import (
    MatchRules,
    default_rules,
    definition_form,
    normalize_name,
    pattern_key,
)
from pipelines.normalize.keys import NameForms, normalize_rows
from pipelines.normalize.suffixes import suffix_table
from schemas.library import LibraryTables

RENAME_MIN_SIMILARITY = 60.0
# What find_candidates reads of a normalized indicator (see its docstring).
CANDIDATE_INPUT = (
    "id", "name", "name_norm", "match_name", "definition", "unit_norm", "scope", "level1", "level2", "function_class",
)  # fmt: skip
Found = list[tuple[str, str, str, str]]  # (id_a, id_b, reason, flag)


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


def review_candidates(
    indicators: pd.DataFrame,
    new_ids: list[str],
    rules: MatchRules | None,
    ordered: bool = True,
    known: NameForms | None = None,
) -> pd.DataFrame:
    """Likely duplicates between this year's new indicators and every active one, for a person (ordered=False:
    not sorted, for a caller that sorts a longer list). known: the year's rows' name forms (NameForms), looked
    up instead of normalizing the indicators' names again."""
    active = indicators[indicators["status"] == "active"]
    if active.empty or not new_ids:
        return pd.DataFrame(columns=["id_a", "name_a", "id_b", "name_b", "score", "reason", "pattern"])
    needed = ["indicator_id", "scope", "level1", "level2", "name", "definition", "unit", "function_code"]
    frame = normalize_rows(active[needed].assign(target_unit=""), rules, known=known).rename(
        columns={"indicator_id": "id"}
    )
    frame = frame[[c for c in CANDIDATE_INPUT if c in frame.columns]]  # narrow before the two copies below
    is_new = frame["id"].isin(new_ids)
    if is_new.all():  # a first year: no copy of a national library's every indicator
        return find_candidates(frame, None, rules, ordered=ordered)
    return find_candidates(frame[is_new], frame[~is_new], rules, ordered=ordered)


def identity_pairs(
    indicators: pd.DataFrame,
    norm: pd.DataFrame,
    previous: LibraryTables | None,
    year: int,
    kept_apart: list[tuple[str, str]],
    collapsed: dict[str, list[str]],
    rules: MatchRules | None,
) -> pd.DataFrame:
    """Pairs the identity rules leave to a person (CANDIDATE_COLUMNS, A = the id to keep): likely renames,
    kept apart, one key two ids, same-named 项目 indicators of different classes (see the module docstring).
    `collapsed`: indicators retired because their department's rows went to another id (usage.apply_usage)."""
    new = set(
        indicators.loc[
            (indicators["first_year"] == year) & (indicators["status"] == "active"), "indicator_id"
        ]
    )
    ind = indicators.set_index("indicator_id", drop=False)
    found = _likely_renames(indicators, norm, previous, year, new, set(collapsed))
    found += [
        (a, b, KEPT_APART_REASON, "kept_apart") for a, b in kept_apart if a in ind.index and b in ind.index
    ]
    found += _shared_key_pairs(norm, ind)
    found += _collapsed_pairs(collapsed, ind)
    found += _cross_class_pairs(norm, new, ind)
    if not found:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    frame = pd.DataFrame(_described(found, ind, new, rules or default_rules()), columns=CANDIDATE_COLUMNS)
    numeric = (
        "score",
        "name_score",
        "definition_score",
        "cosine",
    )  # columns the matcher does not write are dropped
    for column in frame.columns:
        frame[column] = frame[column].astype(float) if column in numeric else frame[column].fillna("")
    return frame


def _likely_renames(
    indicators: pd.DataFrame,
    norm: pd.DataFrame,
    previous: LibraryTables | None,
    year: int,
    new: set[str],
    collapsed: set[str],
) -> Found:
    """Indicators retired this year for want of use × new indicators of the same department, scope and
    project (names compared later, in _described). A retired one whose key's rows went to a twin
    (`collapsed`) is still one: its own row may have been renamed while the twin's row kept the key."""
    retiring = indicators[
        (indicators["status"] == "retired")
        & (indicators["retired_year"] == year)
        & (
            (indicators["retire_reason"] == AUTO_RETIRE_REASON)
            | indicators["indicator_id"].isin(list(collapsed))
        )
    ]
    if not len(retiring) or not new or previous is None or not len(previous.usages):
        return []
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
            "dept": text_array(mine["dept_code"]),
            "scope": text_array(mine["scope"]),
            "project": text_array(mine["project"]),
            "id_b": text_array(mine["indicator_id"]),
        }
    ).drop_duplicates()
    joined = left.merge(right, on=["dept", "scope", "project"]).drop_duplicates(["id_a", "id_b"])
    return [
        (a, b, RENAME_REASON, "rename") for a, b in sorted(zip(joined["id_a"], joined["id_b"], strict=True))
    ]


def _shared_key_pairs(norm: pd.DataFrame, ind: pd.DataFrame) -> Found:
    """Active indicators this year's rows use under one key: each with the oldest id of its key (A, the one
    it would merge into), the reason saying what kept them apart."""
    rows = norm[text_array(norm["change_type"]) != "退出"]
    if not len(rows):
        return []
    key_code = pd.factorize(rows["key"])[0].astype(np.int64)
    id_code, ids = pd.factorize(text_array(rows["indicator_id"]))
    n_ids = max(len(ids), 1)
    pairs = distinct_counts(key_code * n_ids + id_code)[0]  # distinct (key, id), sorted by key then id
    keys, per_id = pairs // n_ids, pairs % n_ids
    shared = np.bincount(keys)[keys] > 1  # the rare keys two ids share
    groups: dict[int, list[str]] = {}
    for k, i in zip(keys[shared].tolist(), per_id[shared].tolist(), strict=True):
        iid = str(ids[i])
        if iid in ind.index and ind.at[iid, "status"] == "active":
            groups.setdefault(k, []).append(iid)
    found: Found = []
    for members in groups.values():
        first, *others = sorted(members)
        found += [(first, b, shared_key_reason(_kept_apart_by(ind, first, b)), "shared_key") for b in others]
    return sorted(found)


def _collapsed_pairs(collapsed: dict[str, list[str]], ind: pd.DataFrame) -> Found:
    """Indicators retired this year because a department of theirs filed their key under another id (two of
    its indicators came to share a key, not certainly one: its rows went to one of them; decided once, in
    usage.collapsed_into) — the used one is A."""
    found: Found = []
    for retired, into in sorted(collapsed.items()):
        for active in into:
            why = _kept_apart_by(ind, active, retired, same_departments=True)
            found.append((active, retired, collapsed_key_reason(why), "collapsed"))
    return found


def _kept_apart_by(ind: pd.DataFrame, id_a: str, id_b: str, same_departments: bool = False) -> str:
    """Why two indicators with one key are not certainly one (see merges.certain_groups), in Chinese."""
    why = []
    depts_a, depts_b = (
        sorted(as_list(ind.at[id_a, "departments"])),
        sorted(as_list(ind.at[id_b, "departments"])),
    )
    if depts_a != depts_b:
        why.append("使用部门不完全相同" if same_departments else "分属不同部门")
    def_a = definition_form(str(ind.at[id_a, "definition"]))
    def_b = definition_form(str(ind.at[id_b, "definition"]))
    if def_a and def_b and def_a != def_b:
        why.append("指标解释不一致")
    elif not def_a or not def_b:
        why.append("指标解释未填写")
    return "且".join(why) or "编号不同"


def _cross_class_pairs(norm: pd.DataFrame, new: set[str], ind: pd.DataFrame) -> Found:
    """项目 indicators sharing a class-free key this year: the oldest id is A (the one the others would merge
    into). Two ids with one explanation are listed every year until a reviewer decides (never merged without
    one: an id, once given, does not move); with different or missing explanations, only in the year one of
    them is new."""
    project = norm[(text_array(norm["scope"]) == "项目") & (text_array(norm["change_type"]) != "退出")]
    if not len(project):
        return []
    groups = pd.DataFrame({"cfk": class_free_keys(project["key"]), "id": text_array(project["indicator_id"])})
    groups = groups.drop_duplicates()
    shared = groups.groupby("cfk")["id"].transform("size").to_numpy() > 1  # the rare keys in 2+ ids
    ordered = groups[shared].sort_values(["cfk", "id"])  # per key, its ids in order: the first is A
    found: Found = []
    key = first = None
    for cfk, b in zip(ordered["cfk"].tolist(), ordered["id"].tolist(), strict=True):
        if cfk != key:
            key, first = cfk, b
        elif _one_explanation(ind, str(first), b):
            found.append((str(first), b, CROSS_CLASS_KEPT_REASON, "cross_class"))
        elif first in new or b in new:
            found.append((str(first), b, CROSS_CLASS_PAIR_REASON, "cross_class"))
    return found


def _one_explanation(ind: pd.DataFrame, id_a: str, id_b: str) -> bool:
    """Both active with the same non-empty explanation (definition_form)."""
    if id_a not in ind.index or id_b not in ind.index:
        return False
    if ind.at[id_a, "status"] != "active" or ind.at[id_b, "status"] != "active":
        return False
    def_a = definition_form(str(ind.at[id_a, "definition"]))
    return bool(def_a) and def_a == definition_form(str(ind.at[id_b, "definition"]))


def _described(found: Found, ind: pd.DataFrame, new: set[str], rules: MatchRules) -> list[dict[str, object]]:
    """One review row per distinct pair; renames whose names are not near or measure different things, and
    pairs a reviewer refused (不合并), are left out."""
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
        pattern = pattern_of(diff_ops(match_b, match_a)) or SAME_NAME
        if rules.has_do_not_merge and rules.blocked(id_a, match_a, id_b, match_b, pattern):
            continue
        seen.add(pair)
        row = _pair_row(a, b, match_a, match_b, score, pattern)
        row.update(reason=reason, flags=flag, suffix_a=suffix_a, suffix_b=suffix_b)
        row.update(
            origin_a="new" if id_a in new else "existing", origin_b="new" if id_b in new else "existing"
        )
        out.append(row)
    return out


def _pair_row(
    a: pd.Series, b: pd.Series, match_a: str, match_b: str, score: float, pattern: str
) -> dict[str, object]:
    """The review columns of indicators A and B (CANDIDATE_COLUMNS)."""
    def_a, def_b = definition_form(str(a["definition"])), definition_form(str(b["definition"]))
    return {
        "id_a": str(a["indicator_id"]),
        "name_a": str(a["name"]),
        "id_b": str(b["indicator_id"]),
        "name_b": str(b["name"]),
        "score": round(score, 1),
        "pattern": pattern,
        "pattern_group": pattern_key(pattern),
        "name_score": round(float(fuzz.ratio(match_a, match_b)), 1),
        "definition_score": float(fuzz.ratio(def_a, def_b)) if def_a and def_b else np.nan,
        "cosine": np.nan,
        "unit_a": str(a["unit"]),
        "unit_b": str(b["unit"]),
        "scope_a": str(a["scope"]),
        "scope_b": str(b["scope"]),
        "level2": str(a["level2"]),
        "level2_b": str(b["level2"]),
        "class_a": str(a["function_class"]),
        "class_b": str(b["function_class"]),
    }


def with_identity_pairs(candidates: pd.DataFrame, mine: pd.DataFrame) -> pd.DataFrame:
    """The matcher's candidates and consolidation's own pairs as one list; a pair in both keeps
    consolidation's reason (it says why the pair matters for identity)."""
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


def reported(candidates: pd.DataFrame) -> pd.DataFrame:
    """The review list as the rebuild holds it until its report: only the columns merge_review.xlsx and the
    review tables read (the flags, sides' scopes, classes, suffixes and origins are not), each difference
    pattern one shared string (the matcher makes one per pair), the 理由 compressed (packed_texts: each is
    its own text, read once by merge_review.xlsx). 1M rows' 1.16M pairs: 949 → 663 MiB; 1.39M pairs' 理由
    as str ≈ 440 MiB, packed ≈ 25 MiB."""
    frame = candidates[[c for c in candidates.columns if c in _USED_COLUMNS]]
    if "pattern" in frame.columns and len(frame):
        codes, distinct = pd.factorize(frame["pattern"], use_na_sentinel=False)
        shared = np.asarray(distinct, dtype=object)[codes]
        frame = frame.assign(pattern=pd.Series(shared, index=frame.index, dtype=frame["pattern"].dtype))
    if "reason" in frame.columns and len(frame):
        packed = PackedTextArray.pack(frame["reason"].to_numpy(dtype=object))
        if packed is not None:  # else (a value not a text) the column stays as it was
            frame = frame.assign(reason=pd.Series(packed, index=frame.index))
    # Columns of its own: a selection is a view of the matcher's frame's object block (pandas' copy on
    # write), which would keep every column of it alive, the dropped ones and the 理由 as str among them.
    return frame.copy(deep=True)
