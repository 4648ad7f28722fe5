"""Rows as the rules see them: every sheet's rows in one frame, text cleaned, vocabularies resolved.

Cleaning folds 繁→简 and full-width forms, takes template markers out of names (keeping the wording as
written), resolves framework labels, signs and drop-down values to their canonical form (unknown values
kept as typed, for the rules to judge), and marks which function codes any list knows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.common.frames import map_distinct
from pipelines.intake.workbook import PARSED_COLUMNS, RowColumns, Workbook
from pipelines.validate.markers import MARKER_HINT, Stripped, strip_markers
from schemas.text import clean_text, clean_texts, compact, to_simplified
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


Rows: TypeAlias = (
    pd.DataFrame | RowColumns
)  # a sheet's rows: its frame, or the reader's columns (no frame built)


def workbook_rows(
    wb: Workbook, info: dict[str, str], directory: str | None = None
) -> list[tuple[Rows, dict[str, str]]]:
    """The data rows of one workbook's indicator sheets, each with the constant columns it will carry
    (kind, scope, department); stack_rows adds them once for all workbooks."""
    ref = reference(directory)
    constant = {c: info.get(c, "") for c in ("dept_code", "dept_name", "complexity", "year")}
    return [
        (
            rows,
            {"sheet_kind": kind, "scope": ref.sheets[kind].scope, "source_sha256": wb.sha256, **constant},
        )
        for kind in INDICATOR_SHEETS
        if (sheet := wb.sheets.get(kind)) is not None and not _empty(rows := sheet.rows)
    ]


def _empty(rows: Rows) -> bool:
    return rows.empty if isinstance(rows, pd.DataFrame) else len(rows) == 0


def stack_rows(parts: list[tuple[Rows, dict[str, str]]]) -> pd.DataFrame:
    """One frame of every sheet's rows; constant columns filled by repetition, not per small frame.
    Empty text cells read "" (sheets without a column get NaN on concat); numbers keep NaN."""
    lengths = np.array([len(frame) for frame, _ in parts])
    columns = _stacked_columns([frame for frame, _ in parts])
    if columns is None:  # columns of unusual types: pandas' own concat
        frames = [frame.frame() if isinstance(frame, RowColumns) else frame for frame, _ in parts]
        rows = pd.concat(frames, ignore_index=True)
        columns = {c: rows[c] for c in rows.columns}
    for column in parts[0][1]:
        columns[column] = np.repeat(
            np.array([const[column] for _, const in parts], dtype=object), lengths
        ).astype(str)
    rows = pd.DataFrame(columns, index=pd.RangeIndex(int(lengths.sum())))
    # Only the text columns some sheet lacks hold missing values: the others are left as they are.
    text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c]) and rows[c].hasnans]
    return rows.fillna(dict.fromkeys(text, "")) if text else rows


def _column_arrays(frame: pd.DataFrame) -> list[object]:
    """The frame's columns as arrays, in order. pandas builds a Series per column access (≈ 20 µs
    each); a province stacks ≈ 2,000 sheets of ≈ 45 columns, so the internal iterator when it exists."""
    iterate = getattr(frame, "_iter_column_arrays", None)
    if iterate is not None:
        return list(iterate())
    return [frame[c].array for c in frame.columns]


def _parts(frame: Rows) -> tuple[tuple[str, ...], list[object], tuple[object, ...], int]:
    """A sheet's column names, arrays, dtypes and length."""
    if isinstance(frame, RowColumns):
        return frame.names, list(frame.arrays), tuple(frame.dtypes()), len(frame)
    arrays = _column_arrays(frame)
    types = tuple(a.dtype for a in arrays)  # type: ignore[attr-defined]
    return tuple(frame.columns.tolist()), arrays, types, len(frame.index)


def _stacked_columns(frames: list[Rows]) -> dict[str, object] | None:
    """What pd.concat(frames, ignore_index=True) holds, column by column (same columns in the same order,
    same dtypes, values; a column a frame lacks is missing there), without pandas' per-sheet block
    bookkeeping: ≈ 10× faster on thousands of small frames. None when a column is not Arrow text, int64
    or float64 in every frame that has it, or changes type between frames (pandas' rules then apply)."""
    # Per frame once: its names (a str Index iterates value by value), arrays, dtypes and length; a
    # layout is keyed by its dtypes' identity (cheap) and compared by value once per distinct layout.
    parts = []
    layouts: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[object, ...]]] = {}
    for frame in frames:
        names, arrays, types, n = _parts(frame)
        layouts.setdefault((names, *map(id, types)), (names, types))
        parts.append((names, arrays, n))
    dtypes: dict[str, object] = {}
    for names, types in layouts.values():
        if len(set(names)) != len(names):
            return None
        for name, dtype in zip(names, types, strict=True):
            if dtypes.setdefault(name, dtype) != dtype or not _plain(dtype):
                return None
    by_name = [(dict(zip(names, arrays, strict=True)), n) for names, arrays, n in parts]
    return {name: _stacked(dtype, [(a.get(name), n) for a, n in by_name]) for name, dtype in dtypes.items()}


def _plain(dtype: object) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return dtype in (np.dtype("int64"), np.dtype("float64"))


def _stacked(dtype: object, pieces: list[tuple[object, int]]) -> object:
    """One column of every frame, in order; NaN (text: null) where a frame lacks it."""
    if isinstance(dtype, pd.StringDtype):
        arrow = [_arrow(a) for a, _ in pieces]
        kind = next(a.type for a in arrow if a is not None)
        chunks: list[pa.Array] = []
        for a, (_, n) in zip(arrow, pieces, strict=True):
            if a is None:
                chunks.append(pa.nulls(n, kind))
            elif isinstance(a, pa.Array):
                chunks.append(a if a.type == kind else a.cast(kind))
            elif a.type == kind:
                chunks += a.chunks
            else:
                chunks += [chunk.cast(kind) for chunk in a.chunks]
        # concat_arrays: one contiguous array as combine_chunks makes, ≈ 3× faster on many small chunks.
        joined = pa.concat_arrays(chunks) if chunks else pa.array([], type=kind)
        return pd.array(joined, dtype=dtype)
    values = [np.asarray(a) if a is not None else np.full(n, np.nan) for a, n in pieces]
    return np.concatenate(values)


def _arrow(array: object) -> pa.Array | pa.ChunkedArray | None:
    """A text column in Arrow: the reader's own array, or what is behind a pandas array."""
    if array is None or isinstance(array, pa.Array):
        return array
    return array.__arrow_array__()  # type: ignore[attr-defined]


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
    """clean_text on every text cell (once per distinct value of all columns together), counting per row
    the sheet cells whose script or width was folded (I402)."""
    text_columns = [
        c
        for c in rows.columns
        if c not in (*PROVENANCE, "target_value", "source_sha256", "extra_json") and rows[c].dtype != float
    ]
    # One Arrow dictionary over all the columns (its values in order of first appearance, column after
    # column), not a factorize per column: a batch's ≈ 45 columns each paid pandas' set-up and a Python
    # list of its distinct values.
    arrays = [_large(_arrow(rows[c].astype(str).array)) for c in text_columns]
    encoded = pc.dictionary_encode(pa.concat_arrays(arrays) if arrays else pa.array([], pa.large_string()))
    distinct = encoded.dictionary.to_pylist()
    cleaned = clean_texts(distinct)
    # Every column has the rows' length: column i's codes are the i-th slice.
    all_codes = encoded.indices.to_numpy().reshape(len(text_columns), len(rows))
    codes = dict(zip(text_columns, all_codes, strict=True))
    sheet_columns = set(indicator_columns(directory))
    judged = [c for c in text_columns if c in sheet_columns and c not in PARSED_COLUMNS]
    # Only texts that cleaning changed can have been folded (each judged column's values in its order).
    changed = list(
        dict.fromkeys(
            distinct[k]
            for c in judged
            for k in pd.unique(codes[c])
            if distinct[k] != cleaned[k] and "\x1f" not in distinct[k]
        )
    )
    hit = {u for u, yes in zip(changed, folded(changed), strict=True) if yes}
    is_hit = np.array([u in hit for u in distinct], dtype=np.int16) if hit else None
    picked_from = pa.array(cleaned, type=pa.large_string())
    folded_cells = np.zeros(len(rows), dtype=np.int16)
    for column in text_columns:
        # The cleaned distinct values picked by code in Arrow: no Python string per row.
        picked = picked_from.take(codes[column])
        rows[column] = pd.Series(pd.array(picked, dtype=pd.StringDtype("pyarrow", np.nan)), index=rows.index)
        if is_hit is not None and column in judged:
            folded_cells += is_hit[codes[column]]
    rows["folded_cells"] = folded_cells


def _large(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array of large_string (a missing cell raises: stack_rows leaves none in text columns)."""
    if isinstance(array, pa.ChunkedArray):
        array = pa.concat_arrays(array.chunks) if array.num_chunks else pa.array([], type=array.type)
    if array.null_count:
        raise ValueError("a text column with a missing value reached clean_text")
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def _factorized(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(code of each row, the distinct values as Python strings): Arrow lists them without a Python loop."""
    codes, uniques = pd.factorize(column)
    array = uniques.array
    if hasattr(array, "__arrow_array__"):
        return codes, array.__arrow_array__().to_pylist()
    return codes, uniques.tolist()


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
    """一级/二级 to the current framework (old editions, short forms), with the note of each change.
    Each distinct pair is resolved once and picked back by code."""
    codes, pairs = _pair_codes(rows["level1"], rows["level2"])
    resolved = [resolve_framework(a, b, directory) for a, b in pairs]

    def pick(values: list[object], dtype: type = object) -> np.ndarray:
        return np.array(values, dtype=dtype)[codes]

    both = list(zip(pairs, resolved, strict=True))
    rows["framework_note"] = pick([r.note_zh for r in resolved])
    rows["level1_inferred"] = pick([bool(not a and r.level1_inferred) for (a, _), r in both], bool)
    rows["level2_as_written"] = rows["level2"]
    rows["level1"] = pick([r.level1 if a or r.level1_ok else "" for (a, _), r in both])
    rows["level2"] = pick([r.level2 if b or r.level2_ok else "" for (_, b), r in both])


def _pair_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """(code of each row's pair of values, the distinct pairs in order of first appearance)."""
    codes1, values1 = _factorized(first)
    codes2, values2 = _factorized(second)
    codes, combined = pd.factorize(codes1.astype(np.int64) * max(len(values2), 1) + codes2)
    width = max(len(values2), 1)
    return codes, [(values1[int(k) // width], values2[int(k) % width]) for k in combined]


def _canonical_or_empty(vocab: str, directory: str | None, value: str) -> str:
    return resolve_vocab(vocab, value, directory) or ""


def _resolve_vocabularies(rows: pd.DataFrame, directory: str | None) -> None:
    """计算符号 and the soft drop-down columns to canonical values; unknown ones marked (W213) and kept
    in <column>_raw; 指标性质 inferred from the target when empty."""
    symbol = map_distinct(rows["symbol"], lambda v: resolve_vocab("symbol", v, directory) or v)
    rows["symbol_given"] = symbol
    rows["symbol"] = symbol.where(symbol != "", rows["target_symbol"])
    for column in SOFT_VOCABS:
        _resolve_soft(rows, column, partial(_canonical_or_empty, VOCAB_OF.get(column, column), directory))
    inferred = pd.Series("", index=rows.index, dtype=str)
    inferred = inferred.mask(rows["target_value"].notna(), "定量").mask(rows["symbol"] == "定性", "定性")
    rows["nature"] = rows["nature"].where(rows["nature"] != "", inferred)


def _resolve_soft(rows: pd.DataFrame, column: str, canonical: Callable[[str], str]) -> None:
    """A soft drop-down column to its canonical values (its default when unknown or empty), the text as
    written in <column>_raw, and <column>_unknown. Decided once per distinct value and picked back by
    code: a batch's ≈ 10 pandas operations per column over every row were ≈ 0.5 ms per workbook."""
    values = rows[column]
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    distinct = uniques.tolist()  # text only: _clean_text_columns left no missing value
    rows[f"{column}_raw"] = values
    canon = [canonical(u) for u in distinct]
    unknown = np.array([u != "" and c == "" for u, c in zip(distinct, canon, strict=True)], dtype=bool)
    picked = np.empty(len(canon), dtype=object)
    picked[:] = [c if c != "" else DEFAULTS.get(column, "") for c in canon]
    rows[f"{column}_unknown"] = pd.Series(unknown[codes], index=rows.index)
    rows[column] = pd.Series(picked[codes], index=rows.index, dtype=object)


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
