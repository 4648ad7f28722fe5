"""The library's Parquet pages are stored uncompressed and dictionary-encoded (issue 15): git's zlib and
deltas then store a changed file against the previous release's; a table reads back whole."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from pipelines.store.publish import SPECS, read_table, table_files, write_release
from tests.library_fixtures import accounting_for, small_tables

YEAR = 2026


def test_pages_uncompressed_with_dictionaries_and_tables_read_back(tmp_path: Path) -> None:
    tables = small_tables()
    write_release(tables, tmp_path / "lib", year=YEAR, accounting=accounting_for(tables, YEAR))
    files = sorted((tmp_path / "lib").rglob("*.parquet"))
    assert files
    for path in files:
        meta = pq.read_metadata(path)
        for g in range(meta.num_row_groups):
            columns = [meta.row_group(g).column(c) for c in range(meta.num_columns)]
            assert {c.compression for c in columns} == {"UNCOMPRESSED"}, path
            # text columns keep their dictionary (a repeated label is stored once)
            assert any(c.has_dictionary_page for c in columns), path
    for name in SPECS:
        assert table_files(tmp_path / "lib", name)
        assert len(read_table(tmp_path / "lib", name)) == len(getattr(tables, name))


def test_the_same_tables_give_the_same_bytes_with_their_texts_as_they_are(tmp_path: Path) -> None:
    """What lets git delta: the same rows give the same uncompressed pages, so a file whose table did not
    change is byte-identical, and one rewritten keeps the unchanged bytes of its dictionary."""
    tables = small_tables()
    a = write_release(tables, tmp_path / "a", year=YEAR, accounting=accounting_for(tables, YEAR))
    b = write_release(tables, tmp_path / "b", year=YEAR, accounting=accounting_for(tables, YEAR))
    assert a["files"] == b["files"]
    for rel in a["files"]:
        data = (tmp_path / "a" / rel).read_bytes()
        # uncompressed: the texts of the table are in the file as they are
        table = pq.read_table(tmp_path / "a" / rel)
        texts = [
            v
            for c in table.column_names
            if str(table.schema.field(c).type) == "string"
            for v in table.column(c).to_pylist()
            if v
        ]
        assert all(t.encode("utf-8") in data for t in texts), rel
