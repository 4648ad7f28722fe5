"""Per-indicator values from this year's rows: the value written most often, the most used wording, every
distinct value. Rows carry an integer id code (-1: left out); integer codes and one sort instead of a
groupby over strings keep this linear in the rows (a country's library has millions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.common.frames import distinct_counts


def distinct_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct values) with codes in value order, so comparing codes compares values."""
    codes, uniques = pd.factorize(values, sort=True)
    return codes, np.asarray(uniques, dtype=object)


def _first_per_group(group: np.ndarray, *order_keys: np.ndarray) -> np.ndarray:
    """Positions of the first row of each group after sorting by (group, *order_keys)."""
    order = np.lexsort((*reversed(order_keys), group))
    g = group[order]
    return order[np.r_[True, g[1:] != g[:-1]]] if len(g) else order


def _id_value_pairs(
    id_code: np.ndarray, codes: np.ndarray, n_values: int, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (id code, value code) pairs among `rows` (a mask), sorted by id then value, with how
    many rows each has."""
    width = max(n_values, 1)
    pair, counts = distinct_counts(id_code[rows].astype(np.int64) * width + codes[rows])
    return pair // width, pair % width, counts


def _most_used_per_id(
    n_ids: int, pid: np.ndarray, pcode: np.ndarray, counts: np.ndarray, uniques: np.ndarray, *ties: np.ndarray
) -> np.ndarray:
    """Per id code, the value of its pair with the most rows (ties: `ties`, then the smallest value)."""
    out = np.full(n_ids, "", dtype=object)
    first = _first_per_group(pid, -counts, *ties, pcode)
    out[pid[first]] = uniques[pcode[first]]
    return out


def most_common_per_id(id_code: np.ndarray, n_ids: int, values: pd.Series) -> np.ndarray:
    """Per id code, the non-empty value written most often (ties: the smallest value); "" when none."""
    codes, uniques = distinct_codes(values)
    filled = (id_code >= 0) & (codes >= 0)
    if len(uniques):
        filled &= uniques[np.maximum(codes, 0)] != ""
    if not filled.any():
        return np.full(n_ids, "", dtype=object)
    return _most_used_per_id(n_ids, *_id_value_pairs(id_code, codes, len(uniques), filled), uniques)


def representative_names(id_code: np.ndarray, n_ids: int, rows: pd.DataFrame) -> np.ndarray:
    """Per id code, the most used wording; on a tie, the one the synonym rules treat as canonical
    (参训人次 / 培训人次 under rule 参训→培训: 培训人次), then the smallest."""
    codes, uniques = distinct_codes(rows["name_norm"])
    # match_name is a function of name_norm: one row per distinct wording says whether the rules rewrote it
    _, first_row = np.unique(codes, return_index=True)
    canonical = rows["match_name"].to_numpy(dtype=object)[first_row]
    rewritten = np.array(
        [u.replace(" ", "") != c for u, c in zip(uniques, canonical, strict=True)], dtype=bool
    )
    pid, pcode, counts = _id_value_pairs(id_code, codes, len(uniques), (id_code >= 0) & (codes >= 0))
    return _most_used_per_id(n_ids, pid, pcode, counts, uniques, rewritten[pcode])


def variants_per_id(id_code: np.ndarray, n_ids: int, values: pd.Series) -> list[list[str]]:
    """Per id code (-1: row left out), the distinct values of `values`, sorted (every wording, every
    department that used it)."""
    codes, uniques = distinct_codes(values)
    rows = (id_code >= 0) & (codes >= 0)
    return values_per_id(id_code[rows], codes[rows], uniques, n_ids)


def values_per_id(id_code: np.ndarray, codes: np.ndarray, uniques: np.ndarray, n_ids: int) -> list[list[str]]:
    """Per id code, its distinct values (codes into `uniques`, in value order), sorted: one sort of the
    rows' (id, value) codes, one list sliced per id."""
    pid, pcode, _ = _id_value_pairs(id_code, codes, len(uniques), np.ones(len(id_code), dtype=bool))
    bounds = np.searchsorted(pid, np.arange(n_ids + 1)).tolist()
    found = uniques[pcode].tolist()
    return [found[bounds[k] : bounds[k + 1]] for k in range(n_ids)]
