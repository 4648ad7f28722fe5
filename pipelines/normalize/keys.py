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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.common import halves
from pipelines.common.frames import (
    categorical_take,
    combination_codes,
    map_distinct,
    map_distinct_pair,
    text_array,
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


@dataclass(frozen=True)
class NameForms:
    """The name forms normalize_rows gave a year's rows, to be looked up instead of made again: the raw name →
    (name_norm, unit_from_name, match_name, match_rules, suffix_class), and name_norm → (match_name,
    match_rules, suffix_class) for a name written otherwise.

    Each is a function of its text alone (match forms: of the rules the rows were normalized with, which
    consolidation keys them by anyway), so a look-up gives exactly what the calls give. Consolidation
    normalizes its indicators again for the review list: at a million rows their 200k names no longer sit
    in the bounded text caches the normalize step filled, and were made again at ≈ 20 µs each."""

    names: dict[str, tuple[str, ...]]
    forms: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, normalized: pd.DataFrame) -> NameForms | None:
        """The forms of normalized rows (normalize_rows' output), None when it lacks a column."""
        if any(c not in normalized.columns for c in ("name", *_NAME_FORMS)):
            return None
        names, found = _per_value(normalized["name"], *(normalized[c] for c in _NAME_FORMS))
        forms, form_found = _per_value(normalized["name_norm"], *(normalized[c] for c in _NAME_FORMS[2:]))
        return cls(
            dict(zip(names, zip(*found, strict=True), strict=True)),
            dict(zip(forms, zip(*form_found, strict=True), strict=True)),
        )


_NAME_FORMS = ("name_norm", "unit_from_name", "match_name", "match_rules", "suffix_class")


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(each row's code, the texts coded): a categorical's own codes, else a factorization."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.isna().any():
        return column.cat.codes.to_numpy(), text_array(pd.Series(column.cat.categories))
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, text_array(pd.Series(uniques, dtype=object))


def _per_value(key: pd.Series, *values: pd.Series) -> tuple[list[str], list[list[str]]]:
    """The distinct texts of `key` and the texts of `values` at a row of each (any row: the values are
    functions of the key)."""
    codes, texts = _codes(key)
    row = np.full(len(texts), -1, dtype=np.int64)
    row[codes] = np.arange(len(codes))  # some row of each code
    present = np.flatnonzero(row >= 0)
    found = []
    for column in values:
        value_codes, value_texts = _codes(column)
        found.append(value_texts[value_codes[row[present]]].tolist())
    return texts[present].tolist(), found


def _name_columns(names: pd.Series, rules: MatchRules, known: NameForms | None) -> list[pd.Series]:
    """name_norm, unit_from_name, match_name, match_rules and suffix_class of each name, made once per distinct
    name (looked up in `known` when given, made only for the names it does not hold)."""
    codes, uniques = pd.factorize(names, use_na_sentinel=False)
    made = _made_forms(np.asarray(uniques, dtype=object).tolist(), rules, known)
    columns = zip(*made, strict=True) if made else [()] * len(_NAME_FORMS)
    return [pd.Series(np.array(c, dtype=object)[codes], index=names.index, dtype=object) for c in columns]


def _made_forms(values: list[str], rules: MatchRules, known: NameForms | None) -> list[tuple[str, ...]]:
    """The five name forms of each distinct name: looked up in `known`, else made. Each is a function of its
    name alone, so from halves.SPLIT_MIN names to make (a province's year: 1M rows hold ≈ 213k distinct names)
    the second half is made in a forked child while this process makes the first (halves.mapped: the same
    values, in order); a city's 23k names, or names mostly known (the review's), are made here."""
    classify = suffix_table().classify
    forms = known.forms if known is not None else {}
    names = known.names if known is not None else {}
    made: list[tuple[str, ...] | None] = [names.get(value) for value in values]
    todo = [k for k, hit in enumerate(made) if hit is None]

    def forms_of(k: int) -> tuple[str, ...]:
        name_norm, unit = normalize_name(values[k])
        form = forms.get(name_norm)
        if form is None:
            match_name, applied = rules.match_form(name_norm)
            form = (match_name, applied, classify(match_name))
        return (name_norm, unit, *form)

    for k, hit in zip(todo, halves.mapped(forms_of, todo), strict=True):
        made[k] = hit
    return [hit for hit in made if hit is not None]


def _normalize_distinct(sub: pd.DataFrame, rules: MatchRules, known: NameForms | None = None) -> pd.DataFrame:
    """The normalized columns of distinct input rows (see normalize_rows)."""
    out = pd.DataFrame(index=sub.index)
    out["level1_raw"] = sub["level1"]
    out["level2_raw"] = sub["level2"]
    forms = _name_columns(sub["name"], rules, known)
    out["name_norm"] = forms[0].astype(str)
    out["unit_from_name"] = forms[1].astype(str)
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

    out["match_name"] = forms[2].astype(str)
    out["match_rules"] = forms[3].astype(str)
    out["suffix_class"] = forms[4].astype(str)

    key_class = out["function_class"].where(out["scope"] == "项目", "")
    out["key"] = _join(
        out["scope"], out["level1"], out["level2"], key_class, out["match_name"], out["unit_norm"]
    )
    out["common_key"] = _join(out["level1"], out["level2"], out["match_name"], out["unit_norm"])
    return out


def normalize_rows(
    frame: pd.DataFrame,
    rules: MatchRules | None = None,
    *,
    compact: bool = False,
    known: NameForms | None = None,
) -> pd.DataFrame:
    """Add the normalized columns to indicator rows (English columns, text).

    Adds: name_norm, unit_from_name, unit_norm (the unit column, else the unit found in the name, else the
    target's unit), level1/level2 canonical (raw labels kept in level1_raw/level2_raw), function_class,
    scope (canonical), match_name, match_rules (rule ids), suffix_class, key, common_key.
    The work is done once per distinct combination of the input columns and mapped back, so a million rows
    with the repetition of real libraries take seconds. compact=True: text columns read and added stay
    categorical (pipelines.common.frames) — the consolidation of a province or a country holds millions of rows.
    known: the name forms of rows normalized with the same rules (NameForms), looked up instead of made again.
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
    distinct = _normalize_distinct(sub, rules, known)
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
