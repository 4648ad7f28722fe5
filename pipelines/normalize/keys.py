"""Whole tables of indicator rows → normalized columns and the canonical key.

    key        = scope | level1 | level2 | function_class | match_name | unit_norm
    common_key =         level1 | level2 |                  match_name | unit_norm

Two rows with the same key are the same indicator and are merged automatically; nothing fuzzier is (see
pipelines/dedupe/candidates.py for the review candidates). The name forms (name_norm, match_name) are made
in pipelines/normalize/canonical.py.

Why these fields: scope keeps department core indicators and project indicators apart (they are different
tables for their users). The framework level is part of the meaning (the same words under 数量指标 and under
质量指标 are two indicators). function_class (the 3-digit 类 of the function code) is used for 项目 only:
project indicators are published per function class, while 部门整体 and 共性 indicators are not tied to one.
unit_norm keeps "万元" and "元" apart: their targets are not comparable. common_key leaves scope and function
class out so that a department's or a project's row identical to a 共性 indicator can be attached to it as a
usage (CONTRACT §5): look the row's common_key up among the 共性 indicators' common_keys first, then its own key.
The key is not the whole identity across years: pipelines/consolidate/ keeps an indicator's id when its
department and name did not change (unit or level changes are recorded), and treats function class as a
property of the usage (same class-free key + the same non-empty definition_form → one indicator).
"""

from __future__ import annotations

import pandas as pd

from pipelines.common.frames import (
    categorical_take,
    combination_codes,
    map_distinct,
    map_distinct_pair,
    text_or_empty,
)
from pipelines.normalize.canonical import MatchRules, default_rules, normalize_name, normalize_unit
from pipelines.normalize.suffixes import suffix_table
from schemas.text import compact
from schemas.vocab import resolve_framework

SCOPE_ALIASES = {
    "common": "共性",
    "core": "部门整体",
    "project": "项目",
    "共性": "共性",
    "部门整体": "部门整体",
    "项目": "项目",
}
KEY_SEP = "|"
_INPUT_COLUMNS = ("scope", "level1", "level2", "name", "unit", "target_unit", "function_code")
_OUTPUT_COLUMNS = (
    "level1_raw",
    "level2_raw",
    "name_norm",
    "unit_from_name",
    "unit_norm",
    "level1",
    "level2",
    "scope",
    "function_class",
    "match_name",
    "match_rules",
    "suffix_class",
    "key",
    "common_key",
)


def function_class(code: str) -> str:
    """The 3-digit 类 of a function classification code ("2050803" → "205"), "" when there is none."""
    digits = compact(code)
    return digits[:3] if len(digits) >= 3 and digits[:3].isdigit() else ""


def _text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str)


def _join(*parts: pd.Series) -> pd.Series:
    out = parts[0].astype(str)
    for part in parts[1:]:
        out = out + KEY_SEP + part.astype(str)
    return out


def _framework(raw_level1: str, raw_level2: str) -> tuple[str, str]:
    found = resolve_framework(raw_level1, raw_level2)
    return found.level1, found.level2


def _normalize_distinct(sub: pd.DataFrame, rules: MatchRules) -> pd.DataFrame:
    """The normalized columns of distinct input rows (see normalize_rows)."""
    out = pd.DataFrame(index=sub.index)
    out["level1_raw"] = sub["level1"]
    out["level2_raw"] = sub["level2"]
    name_norm, unit_from_name = map_distinct_pair(sub["name"], normalize_name)
    out["name_norm"] = name_norm.astype(str)
    out["unit_from_name"] = unit_from_name.astype(str)
    unit = map_distinct(sub["unit"], normalize_unit).astype(str)
    target_unit = map_distinct(sub["target_unit"], normalize_unit).astype(str)
    unit_norm = unit.where(unit != "", out["unit_from_name"])
    out["unit_norm"] = unit_norm.where(unit_norm != "", target_unit).astype(str)

    pair = _join(sub["level1"], sub["level2"])
    level1, level2 = map_distinct_pair(pair, lambda p: _framework(*p.split(KEY_SEP, 1)))
    out["level1"] = level1.astype(str)
    out["level2"] = level2.astype(str)
    out["scope"] = map_distinct(sub["scope"], lambda s: SCOPE_ALIASES.get(compact(s), compact(s))).astype(str)
    out["function_class"] = map_distinct(sub["function_code"], function_class).astype(str)

    match_name, match_rules = map_distinct_pair(out["name_norm"], rules.match_form)
    out["match_name"] = match_name.astype(str)
    out["match_rules"] = match_rules.astype(str)
    out["suffix_class"] = map_distinct(out["match_name"], suffix_table().classify).astype(str)

    key_class = out["function_class"].where(out["scope"] == "项目", "")
    out["key"] = _join(
        out["scope"], out["level1"], out["level2"], key_class, out["match_name"], out["unit_norm"]
    )
    out["common_key"] = _join(out["level1"], out["level2"], out["match_name"], out["unit_norm"])
    return out


def normalize_rows(
    frame: pd.DataFrame, rules: MatchRules | None = None, *, compact: bool = False
) -> pd.DataFrame:
    """Add the normalized columns to indicator rows (English columns, text).

    Adds: name_norm, unit_from_name, unit_norm (the unit column, else the unit found in the name, else the
    target's unit), level1/level2 canonical (raw labels kept in level1_raw/level2_raw), function_class,
    scope (canonical), match_name, match_rules (rule ids), suffix_class, key, common_key.
    The work is done once per distinct combination of the input columns and mapped back, so a million rows
    with the repetition of real libraries take seconds. compact=True: text columns read and added stay
    categorical (pipelines.common.frames) — the consolidation of a province or a country holds millions of rows.
    """
    rules = rules or default_rules()
    out = frame.copy()
    for column in _INPUT_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series("", index=out.index, dtype=str)
        else:
            out[column] = text_or_empty(out[column]) if compact else _text(out[column])
    codes, first = combination_codes([out[c] for c in _INPUT_COLUMNS])
    sub = out.iloc[first][list(_INPUT_COLUMNS)].reset_index(drop=True)
    distinct = _normalize_distinct(sub, rules)
    out["level1_raw"] = out["level1"]
    out["level2_raw"] = out["level2"]
    for column in _OUTPUT_COLUMNS[2:]:
        if column in sub.columns and distinct[column].equals(sub[column]):
            continue  # already canonical (scope, levels): no need to copy a million strings
        out[column] = (
            categorical_take(distinct[column], codes, out.index)
            if compact
            else pd.Series(distinct[column].array.take(codes), index=out.index)
        )
    return out
