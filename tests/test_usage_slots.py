"""A year's usages file numbers its texts as last year's file of its part did (store/slots.py): a text
kept from last year keeps its dictionary index, a new text takes a gone text's slot; readers (pyarrow,
pandas) read the same rows, values and types as from the first-appearance numbering, and verify passes."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.store.publish import SPECS, WRITER_OPTIONS, parquet_bytes, read_table, to_arrow, write_release
from pipelines.store.slots import slotted, slotted_parquet, with_schema
from pipelines.store.verify import verify_release
from tests.library_fixtures import accounting_for, department, indicator, make_id, tables_from_rows, usage

YEAR = 2026
SLOTTED = ("indicator_id", "project", "name", "target")


def _tables(years: dict[int, range]):
    """Indicators 1..n of class 201, indicator k used in project 项目k by department 101 in the years
    whose range holds k (rows sorted by indicator id, so project k comes k-th)."""
    numbers = sorted({k for ks in years.values() for k in ks})
    inds = [
        indicator(
            make_id("项目", k), f"培训班次{k}", function_code="2010101", year=min(years), departments=["101"]
        )
        for k in numbers
    ]
    uses = [
        usage(inds[numbers.index(k)], year=y, project=f"项目{k}", target=str(k), source_row=4 + k)
        for y, ks in sorted(years.items())
        for k in ks
    ]
    return tables_from_rows(inds, uses, [department("101", year=min(years), last_year=max(years))])


def _dictionary(path: Path, column: str) -> list[str]:
    table = pq.ParquetFile(path, read_dictionary=[column]).read(columns=[column])
    return table[column].chunk(0).dictionary.to_pylist()


def _written(tmp_path: Path, tables, year: int = YEAR) -> Path:
    out = tmp_path / "lib"
    write_release(tables, out, year=year, accounting=accounting_for(tables, year))
    return out


def test_this_years_file_keeps_last_years_numbering(tmp_path: Path) -> None:
    # 项目1 (the first text of last year's file) is gone, 项目7 is new: numbered in order of appearance,
    # every kept text would move up one place and every index below it change
    tables = _tables({YEAR - 1: range(1, 7), YEAR: range(2, 8)})
    lib = _written(tmp_path, tables)
    before, now = (lib / f"usages/{y}/201.us.parquet" for y in (YEAR - 1, YEAR))
    for column in SLOTTED:
        last, this = _dictionary(before, column), _dictionary(now, column)
        kept = [v for v in last if v in this]
        assert len(kept) == 5, column
        assert all(this.index(v) == last.index(v) for v in kept), (column, last, this)
        assert this[0] != last[0] and this[0] not in last, column  # the new text in the gone one's slot
    assert _dictionary(now, "project") == ["项目7", "项目2", "项目3", "项目4", "项目5", "项目6"]


def test_readers_read_what_the_first_appearance_numbering_gives(tmp_path: Path) -> None:
    tables = _tables({YEAR - 2: range(1, 9), YEAR - 1: range(3, 11), YEAR: range(1, 12, 2)})
    lib = _written(tmp_path, tables)
    spec = SPECS["usages"]
    usages = tables.usages
    for year in (YEAR - 2, YEAR - 1, YEAR):
        path = lib / f"usages/{year}/201.us.parquet"
        rows = to_arrow(usages[usages["year"] == year].sort_values("indicator_id"), spec)
        plain = parquet_bytes(rows)
        assert pq.ParquetFile(path).schema_arrow == spec.arrow_schema
        assert pq.read_table(path).equals(pq.read_table(io.BytesIO(plain)))
        pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(io.BytesIO(plain)))
        if year == YEAR - 2:  # the first year of the part: the plain writer's bytes
            assert path.read_bytes() == plain
        else:
            assert path.read_bytes() != plain
    pd.testing.assert_frame_equal(
        read_table(lib, "usages"), tables.usages.sort_values(spec.order_by).reset_index(drop=True)
    )
    assert verify_release(lib) == []


def test_an_unchanged_years_file_is_the_same_bytes_in_the_next_release(tmp_path: Path) -> None:
    years = {YEAR - 2: range(1, 9), YEAR - 1: range(3, 11)}
    first = _written(tmp_path / "a", _tables(years), YEAR - 1)
    second = _written(tmp_path / "b", _tables({**years, YEAR: range(2, 12)}), YEAR)
    for year in (YEAR - 2, YEAR - 1):
        rel = f"usages/{year}/201.us.parquet"
        assert (first / rel).read_bytes() == (second / rel).read_bytes()


def test_gone_texts_slots_go_to_new_texts_or_keep_their_text() -> None:
    few_gone = slotted(pa.array(["新1", "留", "新2", None, "新1"]), pa.array(["旧", "留"]))
    assert few_gone.dictionary.to_pylist() == ["新1", "留", "新2"]  # 新1 in 旧's slot, 新2 at the end
    assert few_gone.to_pylist() == ["新1", "留", "新2", None, "新1"]
    kept = slotted(pa.array(["b", "d", "b"]), pa.array(["a", "b", "c", "d"]))
    assert kept.dictionary.to_pylist() == ["a", "b", "c", "d"] and kept.indices.to_pylist() == [1, 3, 1]
    # more than half the slots would hold gone texts: numbered again in order of appearance
    before = pa.array([f"旧{k}" for k in range(10)] + ["留"])
    again = slotted(pa.array(["新1", "留", "新2", None, "新1"]), before)
    assert again.dictionary.to_pylist() == ["新1", "留", "新2"]
    assert again.to_pylist() == ["新1", "留", "新2", None, "新1"]
    assert slotted(pa.array(["b", "a"]), pa.array(["a", "b"])).indices.to_pylist() == [1, 0]
    assert pc.dictionary_encode(pa.array(["b", "a"])).dictionary.to_pylist() == ["b", "a"]


def test_statistics_bound_the_values() -> None:
    before = {"t": pa.array(["zzz", "b", "a", "m"])}
    table = pa.table({"t": pa.array(["b", None, "a", "c", "b"])})
    data, after = slotted_parquet(table, before, WRITER_OPTIONS)
    assert after["t"].to_pylist() == ["c", "b", "a", "m"]  # c in zzz's slot, m's kept
    stats = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).statistics
    assert stats.null_count == 1 and stats.min <= "a" and stats.max >= "c"
    assert pq.read_table(io.BytesIO(data)).equals(table)


def test_the_stored_schema_is_replaced_whole_or_not_at_all() -> None:
    table = pa.table({"t": pa.array(["x", "y"])})
    data, _ = slotted_parquet(table, {}, WRITER_OPTIONS)
    assert data == parquet_bytes(table)
    encoded = pa.table({"t": pc.dictionary_encode(table["t"].combine_chunks())})
    with pytest.raises(ValueError):
        with_schema(data, encoded.schema, table.schema)  # data stores the plain schema already


_TEXTS = st.one_of(
    st.none(), st.sampled_from(["", "甲", "乙", "丙", "丁", "戊", "a", "=1+1", "甲 "]), st.text(max_size=4)
)


@settings(max_examples=150, deadline=None)
@given(years=st.lists(st.lists(_TEXTS, max_size=30), min_size=1, max_size=5))
def test_any_chain_of_years_reads_back_its_own_texts(years: list[list[str | None]]) -> None:
    """Whatever texts a chain of years holds (nulls, empties, repeats, texts gone and back): every year's
    file, numbered against the year before, reads back exactly its column through pyarrow and pandas,
    with the plain string type (pandas: the plain writer's frame); the numbering never leaves a row pointing outside its dictionary."""
    before: dict[str, pa.Array] = {}
    for texts in years:
        table = pa.table({"name": pa.array(texts, pa.string())})
        data, before = slotted_parquet(table, before, WRITER_OPTIONS, ("name",))
        back = pq.read_table(io.BytesIO(data))
        assert back.schema == table.schema and back.column("name").to_pylist() == texts
        plain = io.BytesIO()
        pq.write_table(table, plain, **WRITER_OPTIONS)  # the frame the plain writer's file gives
        pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(data)), pd.read_parquet(plain))
        if texts:
            column = slotted(table.column("name").combine_chunks(), before.get("name"))
            valid = pc.drop_null(column.indices).to_pylist()
            assert all(0 <= i < len(column.dictionary) for i in valid)
