"""The keys under which a release's indicators are found again: every name and alias of every indicator,
normalized like this year's rows (pipelines/normalize/keys.py), pointing at the indicator it stands for now.

Columns: indicator_id, name, scope, level1, level2, function_code, unit, definition, status, is_alias, the
normalized columns (key, common_key, match_name, unit_norm …), target (the id after merges), key0/scope0
(as released: a department's own history is matched on these even after its indicator became 共性) and rank
(active, retired, merged). Sorted active first, canonical name before aliases, then by id.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pipelines.common.frames import is_categorical, text_array
from pipelines.consolidate.records import as_list, resolve_merged
from pipelines.normalize.canonical import MatchRules
from pipelines.normalize.keys import KEY_SEP, normalize_rows

STATUS_RANK = {"active": 0, "retired": 1, "merged": 2}
_EMPTY_COLUMNS = [
    "indicator_id", "key", "common_key", "scope", "status", "is_alias", "rank", "target",
    "level1", "level2", "match_name", "unit_norm", "definition", "key0", "scope0",
]  # fmt: skip


def release_key_index(prev: pd.DataFrame, rules: MatchRules | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """(keys of every released name and alias → indicator_id, merged id → the id it was merged into)."""
    if prev.empty:
        return pd.DataFrame(columns=_EMPTY_COLUMNS), {}
    merged_into = {i: m for i, m in zip(prev["indicator_id"], prev["merged_into"], strict=True) if m}
    variants = []
    for record in prev.itertuples(index=False):
        names = [record.name] + [a for a in as_list(record.aliases) if a != record.name]
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
    frame = normalize_rows(pd.DataFrame(variants), rules)
    frame["target"] = frame["indicator_id"].map(lambda i: resolve_merged(i, merged_into))
    frame["key0"], frame["scope0"] = frame["key"], frame["scope"]
    rank = frame["status"].map(STATUS_RANK)
    frame = frame.assign(rank=rank).sort_values(["rank", "is_alias", "indicator_id"])
    return frame, merged_into


def class_free(key: str) -> str:
    """A key without its function class: scope|level1|level2|match_name|unit_norm."""
    parts = key.split(KEY_SEP, 4)
    return KEY_SEP.join(parts[:3] + parts[4:]) if len(parts) == 5 else key


def class_free_keys(keys: pd.Series | np.ndarray) -> np.ndarray:
    """class_free of a column of keys, once per distinct key."""
    return map_text(keys, class_free)


def map_text(values: pd.Series | np.ndarray, func: Callable[[str], str]) -> np.ndarray:
    """func of each value's text ("" for a missing one), once per distinct value, as an object array: a
    categorical by its categories, other values factorized as Python strings (no Arrow copy of the rows)."""
    if isinstance(values, pd.Series) and is_categorical(values):
        found = [func(str(c)) for c in values.cat.categories.tolist()] + [func("")]
        return np.array(found, dtype=object)[values.cat.codes.to_numpy()]  # code -1 (missing): the last
    codes, distinct = pd.factorize(text_array(values))
    return np.array([func(v) for v in distinct.tolist()] + [""], dtype=object)[codes]


def key_of(scope: str, level1: str, level2: str, function_class: str, match: str, unit: str) -> str:
    """The key normalize_rows would give these values (function class for 项目 only)."""
    cls = function_class if scope == "项目" else ""
    return KEY_SEP.join((scope, level1, level2, cls, match, unit))
