"""merge_review.xlsx's cells as coded columns for the direct writer (review._direct: codes into each column's
distinct values as shown, rendered by pipelines/common/xlsx_table.py), and the neutralizing of texts both
writers share. Codes are int32 (half of intp: 14 columns held while the rows are numbered and written);
texts are numbered by Python's hash (xlsx_numbering.factorize_texts), not pd.factorize, whose UTF-8 table
leaves each text's UTF-8 cached in the str for as long as the pairs live."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas._libs import lib

from pipelines.common import xlsx_numbering, xlsx_table
from pipelines.common.formulas import is_dangerous, neutralize
from pipelines.common.xlsx_numbering import BlankColumn, CodedColumn, Column
from pipelines.dedupe import review_reasons
from pipelines.dedupe.ordering import Coded
from pipelines.dedupe.review_layout import LIKELY, POSSIBLE

CODE = np.int32  # a column's codes: its distinct values never number 2**31


class GroupLabels(Mapping[str, str]):
    """Each pattern group's 分组, "G0001", … in the order of `firsts` (the sorted pairs' groups in order of
    first appearance). Taken by position where a column's codes number `firsts` itself (the sort's
    factorization); a dictionary only for a lookup (≈ 390k groups at 1M rows: ≈ 0.2 s to build)."""

    def __init__(self, firsts: Any) -> None:
        self.firsts = firsts
        self.labels = [f"G{k:04d}" for k in range(1, len(firsts) + 1)]
        self._by_group: dict[str, str] | None = None

    def __getitem__(self, group: str) -> str:
        if self._by_group is None:
            self._by_group = dict(zip(self.firsts, self.labels, strict=True))
        return self._by_group[group]

    def __iter__(self) -> Iterator[str]:
        return iter(self.firsts)

    def __len__(self) -> int:
        return len(self.labels)

    @staticmethod
    def by_position(groups: Mapping[str, str], coded: tuple[np.ndarray, Any] | None) -> list[str] | None:
        """The labels of `coded`'s distinct groups (codes, distinct) in order, when they are `firsts`."""
        if isinstance(groups, GroupLabels) and coded is not None and coded[1] is groups.firsts:
            return groups.labels
        return None


_SAFE_FIRST: dict[str, bool] = {}  # a text's first character → no text starting with it is dangerous


def _neutralized(texts: Any) -> Any:
    """str(neutralize(t)) for each text (a list, or an object array: then an array, the same one when no
    text changes). Whether a text is dangerous depends on its first character alone unless that is a
    space (formulas.is_dangerous strips leading spaces), so the check is made once per first character:
    nearly every text here starts with a Chinese character."""
    if len(texts) < _MANY:
        out = []
        for text in texts:
            safe = _SAFE_FIRST.get(text[:1])
            if safe is None:
                safe = _safe_first(text[:1])
            out.append(text if safe else str(neutralize(text)))
        return out
    # Many texts: their first characters at once (a one-character array), each distinct one checked.
    firsts = np.asarray(texts, dtype=object).astype("U1")
    unsafe = [c for c in np.unique(firsts).tolist() if not _SAFE_FIRST.get(c, False) and not _safe_first(c)]
    if not unsafe:
        return texts
    changed = texts.copy() if isinstance(texts, np.ndarray) else list(texts)
    for i in np.flatnonzero(np.isin(firsts, unsafe)).tolist():
        changed[i] = str(neutralize(texts[i]))
    return changed


_MANY = 512


def _safe_first(first: str) -> bool:
    safe = _SAFE_FIRST[first] = not first or not (first.isspace() or is_dangerous(first))
    return safe


def _coded_texts(series: pd.Series | list[Any], shown: Any = None, found: Any = None) -> CodedColumn | None:
    """A column of texts (every value exactly str) as codes into its distinct texts as shown (neutralized,
    or `shown`'s); None when it holds anything else, or a text write_string would cut. `found`: the
    column's factorization already made (by sort_candidates)."""
    if found is None:
        if isinstance(series, pd.Series):
            values = series.to_numpy(dtype=object)
        else:
            values = np.empty(len(series), dtype=object)
            values[:] = series
        found = xlsx_numbering.factorize_texts(values)
    codes, uniques = found
    # the factorization's object array checked as it is (not listed and made an array again: 理由's
    # 1.13M texts at 1M rows)
    is_array = isinstance(uniques, np.ndarray) and uniques.dtype == object
    array = uniques if is_array else np.asarray(list(uniques), dtype=object)
    if not len(codes) or codes.min() < 0 or not lib.is_string_array(array):
        return None  # a missing value, or not every value a text (a str subclass is one)
    texts = _neutralized(array) if shown is None else shown(array)  # an object array: number_block reads it
    return CodedColumn(np.asarray(codes, dtype=CODE), texts, texts=True) if xlsx_table.fits(texts) else None


def _coded_numbers(
    series: pd.Series, *, rounded: bool = False, blank_nan: bool = False
) -> CodedColumn | None:
    """_number_cells's column as codes into its distinct numbers (NaN as "" when blank_nan); None for a
    column _number_cells takes cell by cell or refuses."""
    if series.dtype.kind not in "fiu":
        return None
    numbers = series.to_numpy(dtype=np.float64)
    finite = np.isfinite(numbers)
    if not finite.all() and not (blank_nan and not np.isinf(numbers).any()):
        return None
    if rounded:
        numbers = np.rint(numbers) + 0.0
    codes, distinct = xlsx_numbering.number_codes(numbers)
    values: list[str | float] = ["" if np.isnan(v) else v for v in distinct]
    return CodedColumn(codes.astype(CODE), values)


# The text columns _direct_pair_columns takes factorized from the sort where it has them (`found`).
FOUND_TEXTS = ("id_a", "name_a", "id_b", "name_b", "pattern", "unit_a", "unit_b", "level2", "pattern_group")


def _direct_pair_columns(
    cands: pd.DataFrame, groups: Mapping[str, str], found: Coded | None = None, streamed: bool = False
) -> list[Column] | None:
    """_pair_columns (with the 决定 blanks) as coded columns; None when the fast path does not apply.
    `streamed`: packed 理由 left packed, read as they are written (review_reasons)."""
    known = found or {}
    labels = GroupLabels.by_position(groups, known.get("pattern_group"))
    # A text column the sort factorized (`found`) is read from its codes: the frame may not hold it.
    text = {
        c: _coded_texts(cands[c] if c in cands.columns else [], found=known.get(c))
        for c in ("id_a", "name_a", "id_b", "name_b", "pattern", "unit_a", "unit_b", "level2")
    }
    scanned = review_reasons.scan(cands["reason"], _neutralized) if streamed else None
    if scanned is not None:
        text["reason"] = CodedColumn(scanned[0], scanned[1], texts=True)
    else:
        text["reason"] = _coded_texts(cands["reason"], found=_each_own(cands["reason"]))
    group = _coded_texts(
        cands["pattern_group"] if "pattern_group" in cands.columns else [],
        (lambda _: labels)
        if labels is not None
        else lambda distinct: _neutralized([groups[g] for g in distinct]),
        known.get("pattern_group"),
    )
    score = _coded_numbers(cands["score"], rounded=True)
    name_score = _coded_numbers(cands["name_score"])
    definition = _coded_numbers(cands["definition_score"], blank_nan=True)
    if "likely" not in cands.columns:
        likely = np.zeros(len(cands), dtype=CODE)
    elif cands["likely"].dtype == bool:
        likely = (~cands["likely"].to_numpy()).astype(CODE)
    else:
        likely = np.asarray([0 if v else 1 for v in cands["likely"].tolist()], dtype=CODE)
    shown = CodedColumn(likely, [LIKELY, POSSIBLE], texts=True)
    columns = [
        *(text[c] for c in ("id_a", "name_a", "id_b", "name_b")),
        score,
        text["reason"],
        BlankColumn(""),  # 决定: its style once the skeleton has numbered the formats
        text["pattern"],
        group,
        *(text[c] for c in ("unit_a", "unit_b", "level2")),
        name_score,
        definition,
        shown,
    ]
    return None if any(c is None for c in columns) else [c for c in columns if c is not None]


def _each_own(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Texts nearly all distinct (理由: 1.13M of 1.16M at 1M rows) as each row its own, not hashed (≈ 1 s):
    StringTable.finish numbers equal texts once all the same. None unless every value is exactly a str."""
    values = series.to_numpy(dtype=object, copy=True)  # kept as the column's texts: not a view of the frame
    if not len(values) or not lib.is_string_array(values):
        return None
    return np.arange(len(values), dtype=CODE), values


def _direct_pattern_columns(columns: list[list[Any]]) -> list[Column] | None:
    """_pattern_columns's cells as coded columns; None when the fast path does not apply."""
    # One row per pattern: each text column taken as it is (a text repeated is numbered once all the same).
    rows = np.arange(len(columns[0]), dtype=CODE)
    group, pattern, example = (
        CodedColumn(rows, columns[k], texts=True)
        if lib.is_string_array(np.asarray(columns[k], dtype=object)) and xlsx_table.fits(columns[k])
        else None
        for k in (0, 1, 3)
    )
    counts = np.asarray(columns[2], dtype=np.float64)
    codes, distinct = xlsx_numbering.number_codes(counts)
    coded = [
        group,
        pattern,
        CodedColumn(codes.astype(CODE), [int(v) for v in distinct]),
        example,
        BlankColumn(""),
    ]
    return None if any(c is None for c in coded) else [c for c in coded if c is not None]
