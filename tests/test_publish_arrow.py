"""write_release converts each table to Arrow once and cuts its files from it: every file's bytes are
those of converting the file's own rows (how bb33751 wrote them), empty partitions included."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.store.publish import (
    SPECS,
    _conform,
    _sorted,
    _usage_parts,
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
        out[f"usages/{year}/other.parquet"] = parquet_bytes(to_arrow(use, SPECS["usages"]))
    else:
        keys = pd.Series(
            [f"{y}/{p}" for y, p in zip(use["year"], _usage_parts(use, ind), strict=True)], index=use.index
        )
        for key in sorted(set(keys)):
            out[f"usages/{key}.parquet"] = parquet_bytes(to_arrow(use[keys == key], SPECS["usages"]))
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
