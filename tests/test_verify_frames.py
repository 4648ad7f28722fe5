"""The blocking checks read each table's files into one frame while letting each Arrow column go once it
is converted (verify._frame empties its parts; arrow_to_frame drops a column after converting it): the
frames are the same as a conversion of the whole concatenated table held throughout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.store import verify
from pipelines.store.publish import SPECS, arrow_to_frame, table_files, write_release
from tests.library_fixtures import accounting_for, small_tables

YEAR = 2026


def test_frames_read_column_by_column_equal_the_whole_tables(tmp_path: Path) -> None:
    tables = small_tables()
    write_release(tables, tmp_path, year=YEAR, accounting=accounting_for(tables, YEAR))
    for name, spec in SPECS.items():
        files = table_files(tmp_path, name)
        read = [pq.read_table(p, schema=spec.arrow_schema) for p in files]
        whole = pa.concat_tables(read)
        expected = arrow_to_frame(whole, spec)  # the caller keeps `whole`: nothing let go early
        assert whole.num_columns == len(spec.arrow_schema)  # the caller's table is untouched
        parts = [(p.as_posix(), p.stem, t) for p, t in zip(files, read, strict=True)]
        got = verify._frame(name, parts)
        assert parts == []  # handed over: its tables are no longer held here
        pd.testing.assert_frame_equal(got[spec.columns], expected)
        assert len(got) == len(getattr(tables, name)) > 0
