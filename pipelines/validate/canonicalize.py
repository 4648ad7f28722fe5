"""Rows as the rules see them: every sheet's rows in one frame, text cleaned, vocabularies resolved.

Cleaning folds 繁→简 and full-width forms, takes template markers out of names (keeping the wording as
written), resolves framework labels, signs and drop-down values to their canonical form (unknown values
kept as typed, for the rules to judge), and marks which function codes any list knows.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.common.frames import map_distinct
from pipelines.intake.workbook import PARSED_COLUMNS, Workbook
from pipelines.validate.markers import MARKER_HINT, Stripped, strip_markers
from schemas.text import clean_text, compact, to_simplified
from schemas.vocab import INDICATOR_SHEETS, function_codes, reference, resolve_framework, resolve_vocab

PROVENANCE = ["source_file", "source_sheet", "source_row"]
# Closed vocabularies whose unknown values only warn (W213): the row can still be used.
SOFT_VOCABS = (
    "project_category",
    "value_method",
    "value_basis",
    "project_nature",
    "nature",
    "include",
    "phased",
    "change_type",
)
# The vocabulary of each column when it is not named after it (yes/no columns share one list).
VOCAB_OF = {"include": "yes_no", "phased": "yes_no"}
DEFAULTS = {"include": "是", "phased": "否"}
# Characters whose folding is worth a word (I402): Traditional Chinese and full-width letters and digits.
# Chinese full-width punctuation (，：（）) is ordinary writing and folded without a note.
_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def canonical_info(info: dict[str, str], directory: str | None = None) -> dict[str, str]:
    """部门信息 cleaned: the year as four digits, the code without spaces, 职责复杂程度 canonical."""
    out = {k: clean_text(v) for k, v in info.items()}
    year = re.search(r"(19|20)\d{2}", compact(out.get("year", "")))
    out["year"] = year.group(0) if year else compact(out.get("year", ""))
    out["dept_code"] = compact(out.get("dept_code", ""))
    if out.get("complexity"):
        out["complexity"] = resolve_vocab("complexity", out["complexity"], directory) or out["complexity"]
    return out


def workbook_rows(
    wb: Workbook, info: dict[str, str], directory: str | None = None
) -> list[tuple[pd.DataFrame, dict[str, str]]]:
    """The data rows of one workbook's indicator sheets, each with the constant columns it will carry
    (kind, scope, department); stack_rows adds them once for all workbooks."""
    ref = reference(directory)
    constant = {c: info.get(c, "") for c in ("dept_code", "dept_name", "complexity", "year")}
    return [
        (
            sheet.frame,
            {"sheet_kind": kind, "scope": ref.sheets[kind].scope, "source_sha256": wb.sha256, **constant},
        )
        for kind in INDICATOR_SHEETS
        if (sheet := wb.sheets.get(kind)) is not None and not sheet.frame.empty
    ]


def stack_rows(parts: list[tuple[pd.DataFrame, dict[str, str]]]) -> pd.DataFrame:
    """One frame of every sheet's rows; constant columns filled by repetition, not per small frame.
    Empty text cells read "" (sheets without a column get NaN on concat); numbers keep NaN."""
    rows = pd.concat([frame for frame, _ in parts], ignore_index=True)
    lengths = np.array([len(frame) for frame, _ in parts])
    for column in parts[0][1]:
        rows[column] = np.repeat(
            np.array([const[column] for _, const in parts], dtype=object), lengths
        ).astype(str)
    text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c])]
    return rows.fillna(dict.fromkeys(text, ""))


def indicator_columns(directory: str | None = None) -> list[str]:
    """Every column any indicator sheet can carry, plus what the reader parses: a workbook may file only
    some sheets and some optional columns, and every rule must still find its columns (as empty)."""
    ref = reference(directory)
    names = [c.column for kind in INDICATOR_SHEETS for c in ref.columns[kind]]
    return list(dict.fromkeys([*names, *PARSED_COLUMNS]))


def folded(values: list[str]) -> list[bool]:
    """Which texts hold Traditional characters or full-width letters/digits. One opencc call for all of
    them (joined by a separator no cell holds), per text only if the separator count is not kept."""
    joined = "\x1f".join(values)
    converted = to_simplified(joined).split("\x1f")
    if len(converted) != len(values):
        converted = [to_simplified(v) for v in values]
    return [
        bool(v) and (c != v or bool(_FULLWIDTH_ALNUM.search(v)))
        for v, c in zip(values, converted, strict=True)
    ]


def _clean_text_columns(rows: pd.DataFrame, directory: str | None) -> None:
    """clean_text on every text cell (once per distinct value), counting per row the sheet cells whose
    script or width was folded (I402)."""
    text_columns = [
        c
        for c in rows.columns
        if c not in (*PROVENANCE, "target_value", "source_sha256", "extra_json") and rows[c].dtype != float
    ]
    folded_cells = np.zeros(len(rows), dtype=np.int16)
    sheet_columns = set(indicator_columns(directory))
    for column in text_columns:
        raw = rows[column].astype(str)
        uniques = pd.unique(raw)
        values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        cleaned = [clean_text(u) for u in values]
        rows[column] = raw.map(dict(zip(values, cleaned, strict=True)))
        if column in sheet_columns and column not in PARSED_COLUMNS:
            # Only texts that cleaning changed can have been folded.
            changed = [u for u, c in zip(values, cleaned, strict=True) if u != c and "\x1f" not in u]
            hit = {u for u, yes in zip(changed, folded(changed), strict=True) if yes}
            if hit:
                # isin on object values: Arrow's isin builds one scalar per wanted value (slow)
                folded_cells += raw.astype(object).isin(hit).to_numpy(dtype=np.int16)
    rows["folded_cells"] = folded_cells


def _strip_names(rows: pd.DataFrame, stripped: pd.Series) -> None:
    """Names without template markers; the wording as written in name_as_written (empty when unchanged)
    and what was removed in name_markers."""
    changed = stripped.map(lambda s: isinstance(s, Stripped) and s.changed).astype(bool)
    rows["name_as_written"] = rows["name"].where(changed, "")
    rows["name_markers"] = (
        stripped[changed].map(lambda s: "、".join(s.removed)).reindex(rows.index).fillna("")
    )
    rows["name"] = stripped[changed].map(lambda s: s.name).reindex(rows.index).fillna(rows["name"])


def _resolve_framework(rows: pd.DataFrame, directory: str | None) -> None:
    """一级/二级 to the current framework (old editions, short forms), with the note of each change."""
    pairs = rows[["level1", "level2"]].drop_duplicates()
    resolved = {(a, b): resolve_framework(a, b, directory) for a, b in pairs.itertuples(index=False)}
    keys = list(zip(rows["level1"], rows["level2"], strict=True))
    rows["framework_note"] = [resolved[k].note_zh for k in keys]
    rows["level1_inferred"] = [bool(not k[0] and resolved[k].level1_inferred) for k in keys]
    rows["level2_as_written"] = rows["level2"]
    rows["level1"] = [resolved[k].level1 if k[0] or resolved[k].level1_ok else "" for k in keys]
    rows["level2"] = [resolved[k].level2 if k[1] or resolved[k].level2_ok else "" for k in keys]


def _canonical_or_empty(vocab: str, directory: str | None, value: str) -> str:
    return resolve_vocab(vocab, value, directory) or ""


def _resolve_vocabularies(rows: pd.DataFrame, directory: str | None) -> None:
    """计算符号 and the soft drop-down columns to canonical values; unknown ones marked (W213) and kept
    in <column>_raw; 指标性质 inferred from the target when empty."""
    symbol = map_distinct(rows["symbol"], lambda v: resolve_vocab("symbol", v, directory) or v)
    rows["symbol_given"] = symbol
    rows["symbol"] = symbol.where(symbol != "", rows["target_symbol"])
    for column in SOFT_VOCABS:
        canonical = partial(_canonical_or_empty, VOCAB_OF.get(column, column), directory)
        rows[f"{column}_raw"] = rows[column]
        resolved = map_distinct(rows[column], canonical)
        rows[f"{column}_unknown"] = (rows[column] != "") & (resolved == "")
        rows[column] = resolved.where(resolved != "", DEFAULTS.get(column, ""))
    inferred = pd.Series("", index=rows.index, dtype=str)
    inferred = inferred.mask(rows["target_value"].notna(), "定量").mask(rows["symbol"] == "定性", "定性")
    rows["nature"] = rows["nature"].where(rows["nature"] != "", inferred)


def _mark_function_codes(rows: pd.DataFrame, rules_dir: str | None, directory: str | None) -> None:
    """Which codes are known in any list (CONTRACT §3: current ∪ older edition ∪ PATH/rules/, overriding):
    function_class_listed (the 类, R105), function_code_listed and its known parent (W211)."""
    rows["function_code"] = map_distinct(rows["function_code"], lambda v: re.sub(r"[\s\-.．·]", "", v))
    codes = function_codes(rules_dir, directory)
    uniques = pd.unique(rows["function_code"])
    listed = {c: c in codes for c in uniques}
    classes = {c: c[:3] in codes for c in uniques}
    parents = {c: (c[:5] if len(c) == 7 and c[:5] in codes else c[:3]) for c in uniques}
    rows["function_code_listed"] = rows["function_code"].map(listed).astype(bool)
    rows["function_class_listed"] = rows["function_code"].map(classes).astype(bool)
    rows["function_code_parent"] = rows["function_code"].map(parents)


def canonicalize_rows(
    rows: pd.DataFrame, rules_dir: str | Path | None = None, directory: str | None = None
) -> pd.DataFrame:
    """Clean text and resolve every vocabulary to its canonical value (unknown values kept as typed).

    Names lose their template markers here, before any key is made. `directory` is the reference data's
    (None: the shipped schemas/reference)."""
    missing = [c for c in indicator_columns(directory) if c not in rows.columns]
    rows = rows.assign(**{c: (np.nan if c == "target_value" else "") for c in missing})
    raw_names = rows["name"].astype(str)
    candidates = raw_names[raw_names.str.contains(MARKER_HINT, regex=True, na=False).to_numpy(dtype=bool)]
    stripped = map_distinct(candidates, strip_markers).reindex(rows.index)  # from the text as written
    _clean_text_columns(rows, directory)
    _strip_names(rows, stripped)
    # What a percentage measures (R115, W218): the longest listed ending, one vectorised regex.
    ref = reference(directory)
    endings = rows["name"].str.replace(" ", "", regex=False).str.extract(ref.rate_pattern, expand=False)
    rows["rate_ending"] = endings.fillna("").astype(object)
    rows["rate_kind"] = endings.map(dict(ref.rate_endings)).fillna("").astype(object)
    _resolve_framework(rows, directory)
    _resolve_vocabularies(rows, directory)
    _mark_function_codes(rows, str(rules_dir) if rules_dir else None, directory)
    rows["library_id"] = map_distinct(rows["library_id"], lambda v: compact(v).upper())
    rows["weight_value"] = pd.to_numeric(rows["weight"].str.rstrip("分%"), errors="coerce")
    return rows
