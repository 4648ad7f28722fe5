"""write_release sorts each table once in Arrow and cuts its files from that order (store/parts.py): every
file must have the bytes the pandas way gave it (each table sorted with pandas' mergesort on its keys and
then every scalar column, files named by indicator_part row by row, cut by masks), here on tables made to
catch the corner cases: rows equal on the keys and told apart only by a later column (written in the
opposite order), empty values, -0.0 beside 0.0, an indicator id written twice in two classes, usages of
ids the table lacks, columns with one value and columns with none, several years."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.store.parts import indicator_part, labelled
from pipelines.store.publish import (
    SPECS,
    WRITER_OPTIONS,
    _list_array,
    _list_cell,
    parquet_bytes,
    to_arrow,
    write_release,
)
from pipelines.store.slots import Numbering
from schemas.library import LibraryTables
from tests.library_fixtures import accounting_for, indicator, small_rows, tables_from_rows, usage

YEAR = 2026


def _pandas_sorted(df: pd.DataFrame, name: str) -> pd.DataFrame:
    spec = SPECS[name]
    scalar = [c for c in spec.columns if spec.pandas_dtype(c) != "object"]
    by = list(spec.sort_keys) + [c for c in scalar if c not in spec.sort_keys]
    return (
        df.loc[:, spec.columns]
        .sort_values(by=by, kind="mergesort", na_position="last")
        .reset_index(drop=True)
    )


def _reference(tables: LibraryTables, year: int) -> dict[str, bytes]:
    """Each file as the pandas way wrote it (publish before store/parts.py), row by row."""
    out: dict[str, bytes] = {}
    ind = _pandas_sorted(tables.indicators, "indicators")
    parts = pd.Series(
        [indicator_part(s, c) for s, c in zip(ind["scope"], ind["function_class"], strict=True)]
    )
    for part in sorted(set(parts)) or ["other"]:
        out[f"indicators/{part}.parquet"] = parquet_bytes(to_arrow(ind[parts == part], SPECS["indicators"]))
    use = _pandas_sorted(tables.usages, "usages")
    by_id = dict(zip(ind["indicator_id"], parts, strict=True))  # the last written row of an id wins
    own = [indicator_part(s, str(f)[:3]) for s, f in zip(use["scope"], use["function_code"], strict=True)]
    keys = pd.Series(
        [f"{y}/{by_id.get(i, o)}" for y, i, o in zip(use["year"], use["indicator_id"], own, strict=True)]
    )
    numbering = Numbering(WRITER_OPTIONS)  # each part's years numbered one after another (store/slots.py)
    for key in sorted(set(keys)) or [f"{year}/other"]:
        rel = f"usages/{key}.us.parquet"
        out[rel] = numbering.file_bytes("usages", rel, to_arrow(use[keys == key], SPECS["usages"]))
    dep = _pandas_sorted(tables.departments, "departments")
    out["departments.parquet"] = parquet_bytes(to_arrow(dep, SPECS["departments"]))
    sa = _pandas_sorted(tables.set_aside, "set_aside")
    for y in sorted(set(int(v) for v in sa["year"]) | {year}):
        rel = f"set_aside/{y}.parquet"
        out[rel] = numbering.file_bytes("set_aside", rel, to_arrow(sa[sa["year"] == y], SPECS["set_aside"]))
    return out


def _hard_tables() -> LibraryTables:
    inds, uses, depts, sets = small_rows()
    twin = indicator(inds[0]["indicator_id"], "同号的另一条指标", function_code="2130101")  # another class
    gone = indicator("ZB-X999999", "库中没有的指标", function_code="2010101")
    extra = [
        # equal on every key, told apart by target_value / name only, written in the opposite order
        usage(inds[0], source_row=9, target="3", name="乙"),
        usage(inds[0], source_row=9, target="-0", name="乙"),
        usage(inds[0], source_row=9, target="0", name="乙"),
        usage(inds[0], source_row=9, target="无", name="乙"),  # target_value missing
        usage(inds[0], source_row=9, target="3", name="甲"),
        usage(inds[1], source_row=7, year=YEAR - 1, project="", dept_code="102"),
        usage(gone, source_row=11),  # its indicator is not in the table
        usage(gone, source_row=12, function_code=""),
        usage(gone, source_row=13, scope="共性"),
    ]
    tables = tables_from_rows(inds, [*uses, *extra], depts, sets)
    twin_frame = tables_from_rows([twin], [], []).indicators
    indicators = pd.concat([twin_frame, tables.indicators], ignore_index=True)  # written first, sorted first
    usages = tables.usages.copy()
    usages.loc[usages.index[-4], "weight"] = -0.0  # a float column: -0.0 is not 0.0 on disk
    usages["extra"] = "同一个值"  # one value in every row, not empty
    usages.loc[usages.index[::3], "definition"] = None  # empty values sort last
    return LibraryTables(indicators, usages, tables.departments, tables.set_aside)


@pytest.mark.parametrize("year", [YEAR, YEAR + 1])
def test_files_are_the_pandas_ways_bytes_on_hard_tables(tmp_path: Path, year: int) -> None:
    tables = _hard_tables()
    assert tables.indicators["indicator_id"].duplicated().any()
    manifest = write_release(tables, tmp_path / "lib", year=year, accounting=accounting_for(tables, year))
    expected = _reference(tables, year)
    assert sorted(manifest["files"]) == sorted(expected)
    assert any("/213" in rel or "213.parquet" in rel for rel in expected)  # the twin's class has its file
    for rel, data in expected.items():
        assert (tmp_path / "lib" / rel).read_bytes() == data, rel


def test_tied_rows_follow_the_later_columns_not_the_input_order(tmp_path: Path) -> None:
    tables = _hard_tables()
    write_release(tables, tmp_path / "lib", year=YEAR, accounting=accounting_for(tables, YEAR))
    part = indicator_part(tables.indicators["scope"][1], tables.indicators["function_class"][1])
    written = pd.read_parquet(tmp_path / "lib" / "usages" / str(YEAR) / f"{part}.us.parquet")
    tied = written[
        (written["source_row"] == 9) & (written["indicator_id"] == tables.indicators["indicator_id"][1])
    ]
    # written 乙 3, 乙 -0, 乙 0, 乙 无, 甲 3; ordered on name (乙 U+4E59 before 甲), then target's text
    assert tied["name"].tolist() == ["乙", "乙", "乙", "乙", "甲"]
    assert tied["target"].tolist() == ["-0", "0", "3", "无", "3"]
    assert [str(v) for v in tied["target_value"].tolist()] == ["-0.0", "0.0", "3.0", "nan", "3.0"]


def test_labelled_names_each_pair_once_dense_or_sorted() -> None:
    rng = np.random.default_rng(3)
    for width in (5, 50_000):  # a small space is numbered densely, a large one through np.unique
        a = rng.integers(0, 3, 2_000)
        b = rng.integers(0, width, 2_000)
        a_values, b_values = ["x", "y", None], [f"{i:05d}" for i in range(width)]
        calls: list[tuple] = []

        def label(p: object, q: object, calls: list[tuple] = calls) -> str:
            calls.append((p, q))
            return f"{p}/{str(q)[:3]}"

        codes, labels = labelled((a, a_values), (b, b_values), label)
        want = [f"{a_values[i]}/{b_values[j][:3]}" for i, j in zip(a, b, strict=True)]
        assert [labels[c] for c in codes] == want and labels == sorted(set(want))
        assert len(calls) == len(set(calls)) == len(set(zip(a.tolist(), b.tolist(), strict=True)))


def test_list_columns_converted_as_each_cell_alone() -> None:
    cases = [
        [["a", "b"], [], None, ("c",)],
        [["a"], float("nan"), []],  # NaN is a missing cell
        [[1, 2], ["x"]],  # not texts: written as text
        [["a", None]],  # an element None is written "None"
    ]
    for cells in cases:
        series = pd.Series(cells, dtype=object)
        want = pa.array([_list_cell(v) for v in cells], type=pa.list_(pa.string()))
        assert _list_array(series).equals(want), cells
