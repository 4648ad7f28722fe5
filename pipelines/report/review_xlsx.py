"""review.xlsx: every review table as a sheet, all rows (the page shows the first HTML_ROW_LIMIT) — but for
the likely duplicate pairs, which merge_review.xlsx lists whole for the decisions: here the most similar
XLSX_PAIR_LIMIT and a last row saying how many more (a province lists ≈ 120,000 pairs per 100,000 rows: all
of them twice cost 4 s and 6 MB per release for a sheet nobody decides in).

Cells go through pipelines.common.xlsx_out only (formula triggers neutralized, deterministic bytes). Every
release commits the workbook, so its rows are written compact (RowBlockSheet.compact: no implied row
numbers or cell references) and its parts deflated at xlsx_zip.COMMITTED_LEVEL (committed_book: once, as
xlsx_zip.redeflated would deflate xlsxwriter's package again).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter import Workbook
from xlsxwriter.packager import Packager

from pipelines.common.xlsx_out import FIXED_CREATED, WORKBOOK_OPTIONS, XlsxBook, atomic_path
from pipelines.common.xlsx_sheet import FastWorkbook
from pipelines.common.xlsx_table_block import write_table_block
from pipelines.common.xlsx_zip import COMMITTED_LEVEL
from pipelines.report.model import PAIRS_SHOWN, ReportInputs, ReviewTable

XLSX_PAIR_LIMIT = PAIRS_SHOWN


def _capped_pairs(frame: pd.DataFrame, total: int | None = None) -> pd.DataFrame:
    """The first XLSX_PAIR_LIMIT pairs (most similar first) and a row naming the rest and where they are;
    `total`: the pairs there are, where `frame` holds only the first ones (ReviewTable.total)."""
    total = len(frame) if total is None else total
    if total <= XLSX_PAIR_LIMIT:
        return frame
    shown = frame.head(XLSX_PAIR_LIMIT).astype(object)
    more = total - XLSX_PAIR_LIMIT
    note = {c: "" for c in frame.columns}
    note[frame.columns[0]] = f"另有 {more:,} 对未在此列出，全部 {total:,} 对见 merge_review.xlsx"
    return pd.concat([shown, pd.DataFrame([note], dtype=object)], ignore_index=True)


def _department_highlights(frame: pd.DataFrame) -> dict[tuple[int, str], str]:
    """Core indicators over the limit in yellow, a verdict sending rows back in red."""
    over = (frame["core"] > frame["core_limit"]).tolist()
    cell_formats = {(i, "core"): "warning" for i, o in enumerate(over) if o}
    cell_formats |= {
        (i, "verdict"): "error"
        for i, v in enumerate(frame["verdict"])
        if str(v).startswith(("退回", "部分退回"))
    }
    return cell_formats


def write_review_xlsx(out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable]) -> Path:
    path = out_dir / "review.xlsx"
    with committed_book(path, title=f"{inputs.year} 年度预算绩效指标库审核报告", subject="年度审核") as book:
        for table in tables.values():
            frame = table.frame[list(table.titles)]
            if table.key == "candidates":
                frame = _capped_pairs(frame, table.rows)
            cell_formats = _department_highlights(frame) if table.key == "departments" else {}
            # compact: no implied row numbers or cell references, ≈ 45 % less in the repo per release
            write_table_block(book, table.sheet, frame, table.titles, cell_formats=cell_formats, compact=True)
    return path


@contextmanager
def committed_book(path: Path, *, title: str = "", subject: str = "") -> Iterator[XlsxBook]:
    """xlsx_out.xlsx_book's workbook with its zip as xlsx_zip.redeflated makes it: every part deflated at
    COMMITTED_LEVEL (xlsxwriter's: 6; fewer bytes in the repo per release, git cannot shrink deflated
    parts), in xlsxwriter's order, dated 1980-01-01. The same bytes as redeflated(xlsx_book's file), without
    deflating every part at level 6 first and inflating it again (1M rows: ≈ 1.4 s CPU of 3.7)."""
    workbook = FastWorkbook(io.BytesIO(), WORKBOOK_OPTIONS)
    workbook.set_properties(
        {"title": title, "subject": subject, "author": "", "company": "", "created": FIXED_CREATED}
    )
    book = XlsxBook(workbook)
    yield book
    if not book.sheet_names:
        book.add_sheet("Sheet1")  # as xlsx_book
    parts = _kept_parts(workbook)
    workbook.close()
    # Into the file beside it, each part let go once deflated: the whole package is never held (1M rows:
    # 74 MB of XML, as str and encoded, while the library page's child runs beside this process).
    with atomic_path(Path(path)) as tmp, zipfile.ZipFile(tmp, "w") as package:
        parts.reverse()
        while parts:
            part, name, is_binary = parts.pop()
            data = part.getvalue()
            part.close()
            # the entry redeflated writes for xlsxwriter's (in memory: dated 1980-01-01, no attributes)
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            package.writestr(
                entry, data if is_binary else data.encode("utf-8"), zipfile.ZIP_DEFLATED, COMMITTED_LEVEL
            )
            del data, part


def _kept_parts(workbook: Workbook) -> list[tuple[Any, str, bool]]:
    """The list close() fills with the package's parts (file, name in the zip, binary) as the workbook's
    packager (whichever the sheets chose: xlsx_rows.fast_shared_strings sets its own) creates them;
    xlsxwriter itself is handed none, so it deflates nothing."""
    parts: list[tuple[Any, str, bool]] = []
    make = workbook._get_packager

    def packager() -> Packager:
        made = make()
        create = made._create_package

        def kept() -> list[tuple[Any, str, bool]]:
            parts.extend(create())
            return []

        made._create_package = kept
        return made

    workbook._get_packager = packager
    return parts
