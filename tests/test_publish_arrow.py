"""write_release converts each table to Arrow once and cuts its files from it: every file's bytes are
those of converting the file's own rows (how bb33751 wrote them), empty partitions included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines.store.publish import (
    SPECS,
    _conform,
    _sorted,
    _usage_parts,
    arrow_to_frame,
    indicator_parts,
    parquet_bytes,
    to_arrow,
    write_release,
)
from schemas.library import LibraryTables
from tests.library_fixtures import accounting_for, small_rows, small_tables, tables_from_rows

YEAR = 2026


def _per_file(tables: LibraryTables, year: int) -> dict[str, bytes]:
    """Each file's rows converted on their own, as write_release did before."""
    out: dict[str, bytes] = {}
    ind = _sorted(_conform(tables.indicators, SPECS["indicators"]), SPECS["indicators"])
    parts = indicator_parts(ind)
    for part in sorted(set(parts)) or ["other"]:
        out[f"indicators/{part}.parquet"] = parquet_bytes(to_arrow(ind[parts == part], SPECS["indicators"]))
    use = _sorted(_conform(tables.usages, SPECS["usages"]), SPECS["usages"])
    if use.empty:
        out[f"usages/{year}/other.us.parquet"] = parquet_bytes(to_arrow(use, SPECS["usages"]))
    else:
        keys = pd.Series(
            [f"{y}/{p}" for y, p in zip(use["year"], _usage_parts(use, ind), strict=True)], index=use.index
        )
        for key in sorted(set(keys)):
            out[f"usages/{key}.us.parquet"] = parquet_bytes(to_arrow(use[keys == key], SPECS["usages"]))
    dep = _sorted(_conform(tables.departments, SPECS["departments"]), SPECS["departments"])
    out["departments.parquet"] = parquet_bytes(to_arrow(dep, SPECS["departments"]))
    sa = _sorted(_conform(tables.set_aside, SPECS["set_aside"]), SPECS["set_aside"])
    for y in sorted(set(int(v) for v in sa["year"]) | {year}):
        out[f"set_aside/{y}.parquet"] = parquet_bytes(to_arrow(sa[sa["year"] == y], SPECS["set_aside"]))
    return out


def _variants() -> dict[str, tuple[LibraryTables, int]]:
    inds, uses, depts, sets = small_rows()
    return {
        "small": (small_tables(), YEAR),
        "no set-aside rows this year": (small_tables(), YEAR + 1),  # set_aside/2027 is empty
        "no usages": (tables_from_rows(inds, [], depts, sets), YEAR),
        "no set-aside rows": (tables_from_rows(inds, uses, depts, []), YEAR),
    }


@pytest.mark.parametrize("variant", list(_variants()))
def test_every_file_has_the_bytes_of_its_own_rows_converted_alone(tmp_path: Path, variant: str) -> None:
    tables, year = _variants()[variant]
    manifest = write_release(tables, tmp_path / "lib", year=year, accounting=accounting_for(tables, year))
    expected = _per_file(tables, year)
    assert sorted(manifest["files"]) == sorted(expected)
    for rel, data in expected.items():
        assert (tmp_path / "lib" / rel).read_bytes() == data, rel


def _per_value(table: pa.Table, spec_name: str) -> pd.DataFrame:
    """arrow_to_frame as bb33751 built it: every string cell a Python object first."""
    spec = SPECS[spec_name]
    out = {}
    for col in spec.columns:
        arr, dtype = table.column(col), spec.pandas_dtype(col)
        if dtype == "object":
            out[col] = pd.Series(arr.to_pylist(), dtype=object)
        elif dtype in ("Int64", "int64"):
            nullable = dtype == "Int64" or spec.schema.columns[col].nullable
            out[col] = pd.Series(arr.to_pylist(), dtype="Int64" if nullable else "int64")
        elif dtype == "float64":
            out[col] = pd.Series(arr.to_numpy(zero_copy_only=False), dtype="float64")
        else:
            out[col] = pd.Series(arr.to_pylist(), dtype="str")
    return pd.DataFrame(out, columns=spec.columns)


@pytest.mark.parametrize("name", list(SPECS))
def test_arrow_to_frame_gives_the_per_value_frames_values_dtypes_and_storage(name: str) -> None:
    tables = small_tables()
    whole = to_arrow(getattr(tables, name), SPECS[name])
    if whole.num_rows:  # nulls in the string columns, and a table of several chunks
        nulled = pa.Table.from_arrays(
            [
                pc.if_else(pa.array([i % 3 == 0 for i in range(whole.num_rows)]), pa.scalar(None, c.type), c)
                if pa.types.is_string(c.type) and SPECS[name].schema.columns[f.name].nullable
                else c
                for f, c in zip(whole.schema, whole.columns, strict=True)
            ],
            schema=whole.schema,
        )
        cases = [whole, nulled, pa.concat_tables([whole.slice(0, 1), whole.slice(1)])]
    else:
        cases = [whole]
    for table in [*cases, SPECS[name].arrow_schema.empty_table()]:
        expected, got = _per_value(table, name), arrow_to_frame(table, SPECS[name])
        assert got.equals(expected) and list(got.dtypes) == list(expected.dtypes)
        for col in expected.columns:
            if str(expected[col].dtype) == "str":
                want, have = expected[col].array._pa_array, got[col].array._pa_array  # type: ignore[attr-defined]
                assert have.type == want.type and have.num_chunks == want.num_chunks and have.equals(want)
        assert parquet_bytes(to_arrow(got, SPECS[name])) == parquet_bytes(to_arrow(expected, SPECS[name]))
