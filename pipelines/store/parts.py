"""The release's files (publish.py's layout) cut from each table with one sort: every row gets its file
as a code, the rows are sorted once in Arrow with that code as the leading key, and each file takes its
run of the order.

What it replaces sorted the pandas frame on every scalar column (pandas factorizes each of them: 40 hash
passes over a million usages), named every row's file with a Python call per row, and cut each file out
with a mask compared over the whole table, one pass per file. Arrow's sort is stable and orders strings by
code point and empty values last, as pandas' mergesort with na_position="last" (shape.to_frame reads
releases back the same way), and a stable sort on (file, keys) leaves each file's rows in the order a sort
on the keys alone gives them: every file has the same rows in the same order as before, so the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PART_COMMON = "common"
PART_DEPT = "dept"
PART_OTHER = "other"
_CLASS_RE = re.compile(r"^\d{3}$")
_FILE_KEY = "__file"

# A usages file is usages/<year>/<part>.us.parquet (releases before 2026-12 wrote <part>.parquet; readers
# take both). Why the ".us": git packs a file as a delta against one of the 10 files before it in a list
# sorted by a hash of the path's last 16 characters (pack-objects' pack_name_hash, the last ones weighing
# most). "2026/201.parquet" put a year's usages of class 201 right after indicators/201.parquet, which git
# took as its base (a poor delta), and its year's digit in the hash turns the order at every decade;
# "201.us.parquet" (14 characters, the year's digits then weigh nothing) gives every year of a class one
# hash, apart from indicators/, so a new year's file and last year's meet and the older is stored as a
# delta against the newer. The same bytes (benchmarks.git_growth --rows 100000 --years 4): 3.27 -> 2.97
# MiB a release after the first, which grows 0.35 MiB more (its usages no longer deltas of indicators/).
USAGE_SUFFIX = ".us.parquet"
_USAGE_NAME = re.compile(r"^([0-9a-z]+)(?:\.us)?\.parquet$")


def usage_file(part: str) -> str:
    """The name of a year's usages file of one part (indicator_part)."""
    return f"{part}{USAGE_SUFFIX}"


def usage_file_part(name: str) -> str | None:
    """The part a usages file's name gives, either layout's (201.us.parquet, 201.parquet); None for
    another name."""
    m = _USAGE_NAME.match(name)
    return m.group(1) if m else None


def indicator_part(scope: str, function_class: str) -> str:
    """The file an indicator lives in: its 3-digit 类 for 项目, 'common' for 共性, 'dept' for 部门整体."""
    if scope == "共性":
        return PART_COMMON
    if scope == "部门整体":
        return PART_DEPT
    fc = (function_class or "").strip()
    return fc if _CLASS_RE.match(fc) else PART_OTHER


def encoded(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Each row's value as a code into the column's distinct values (Python objects; the last is None,
    the code of an empty value)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    enc = pc.dictionary_encode(column)
    values = [*enc.dictionary.to_pylist(), None]
    codes = enc.indices.fill_null(len(values) - 1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64, copy=False), values


def labelled(
    first: tuple[np.ndarray, Sequence[Any]],
    second: tuple[np.ndarray, Sequence[Any]],
    label: Callable[[Any, Any], str],
) -> tuple[np.ndarray, list[str]]:
    """Each row's label(first value, second value) as a code into the sorted distinct labels; label is
    called once per pair of values that occurs, not once per row."""
    (a, a_values), (b, b_values) = first, second
    width = max(len(b_values), 1)
    pair = a * width + b
    space = len(a_values) * width
    if space <= 4 * len(pair) + 1024:  # the pairs numbered densely: no sort of the rows
        seen = np.zeros(space, dtype=bool)
        seen[pair] = True
        pairs = np.flatnonzero(seen)
        number = np.zeros(space, dtype=np.int64)
        number[pairs] = np.arange(len(pairs))
        inverse = number[pair]
    else:
        pairs, inverse = np.unique(pair, return_inverse=True)
    names = [label(a_values[p // width], b_values[p % width]) for p in pairs.tolist()]
    labels = sorted(set(names))
    rank = {name: i for i, name in enumerate(labels)}
    per_pair = np.array([rank[n] for n in names], dtype=np.int64)
    return per_pair[inverse.reshape(-1)], labels


def indicator_files(scopes: pa.ChunkedArray, classes: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Each indicator's file (indicator_part) as a code into the sorted file stems."""
    return labelled(encoded(scopes), encoded(classes), indicator_part)


def usage_files(
    use: pa.Table, ids: pa.ChunkedArray, parts: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, list[str]]:
    """Each usage's file "<year>/<part>" as a code into the sorted keys: the part of its indicator (the
    first of `ids` equal to its id; `parts`: their codes into `labels`), or, when its indicator is missing
    (verify reports it), the part its own scope and code give."""
    own, own_labels = labelled(
        encoded(use.column("scope")),
        encoded(use.column("function_code")),
        lambda scope, code: indicator_part(scope, str(code)[:3]),
    )
    at = np.asarray(
        pc.index_in(use.column("indicator_id"), value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    found = at >= 0
    part = own + len(labels)
    part[found] = parts[at[found]]
    return labelled(encoded(use.column("year")), (part, [*labels, *own_labels]), lambda y, p: f"{y}/{p}")


def sort_order(table: pa.Table, keys: Sequence[str]) -> pa.Array:
    """The rows' stable order on keys, empty values last (pandas' mergesort with na_position="last")."""
    return pc.sort_indices(table, [(k, "ascending", "at_end") for k in keys])


def cut(table: pa.Table, keys: Sequence[str], files: np.ndarray, count: int) -> Iterator[pa.Table]:
    """The rows of each file 0..count-1 (`files`: each row's file), in the order of keys; a file with no
    rows is the schema's empty table. One sort (file first); each file's rows are taken on their own, so
    no sorted copy of the whole table is held, and a column with one value in every row is not taken at
    all: any of its rows are the same values (a gather over a million scattered rows misses the cache)."""
    if table.num_rows == 0:
        for _ in range(count):
            yield table.schema.empty_table()
        return
    order = sort_order(table.append_column(_FILE_KEY, pa.array(files, type=pa.int64())), [_FILE_KEY, *keys])
    same = [_same_everywhere(table.column(i)) for i in range(table.num_columns)]
    start = 0
    for size in np.bincount(files, minlength=count).tolist():
        if not size:
            yield table.schema.empty_table()
            continue
        rows = order.slice(start, size)
        columns = [
            table.column(i).slice(0, size) if same[i] else table.column(i).take(rows)
            for i in range(table.num_columns)
        ]
        yield pa.Table.from_arrays(columns, schema=table.schema).combine_chunks()
        start += size


def _same_everywhere(column: pa.ChunkedArray) -> bool:
    """Every row missing, or every row the same integer or the empty text (optional columns nobody
    fills): cheap to tell, unlike any value (a float's -0.0 equals 0.0 but is written apart)."""
    if column.null_count == len(column):
        return True
    if column.null_count:
        return False
    if pa.types.is_string(column.type):
        return pc.max(pc.binary_length(column)).as_py() == 0
    if pa.types.is_integer(column.type):
        low_high = pc.min_max(column)
        return bool(low_high["min"] == low_high["max"])
    return False
