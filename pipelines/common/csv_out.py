"""CSV a spreadsheet opens correctly: UTF-8 with BOM, CRLF, every cell neutralized as in the workbooks."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipelines.common.xlsx_out import atomic_write_bytes, cell_value


def csv_text(frame: pd.DataFrame, titles: Mapping[str, str] | None = None) -> str:
    """The CSV text of `frame` (header = titles), every cell through cell_value (neutralized)."""
    titles = titles or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    columns = list(frame.columns)
    writer.writerow([cell_value(titles.get(c, str(c))) for c in columns])
    values = [frame[c].tolist() for c in columns]
    for i in range(len(frame)):
        row = []
        for j in range(len(columns)):
            shown = cell_value(values[j][i])
            row.append("" if shown is None else shown)
        writer.writerow(row)
    return out.getvalue()


def write_csv(path: Path, frame: pd.DataFrame, titles: Mapping[str, str] | None = None) -> Path:
    """A CSV file Excel opens correctly: UTF-8 with BOM, CRLF, neutralized cells, written atomically."""
    return atomic_write_bytes(Path(path), csv_text(frame, titles).encode("utf-8-sig"))
