"""review.xlsx: every review table as a sheet, all rows (the page shows the first HTML_ROW_LIMIT) — but for
the likely duplicate pairs, which merge_review.xlsx lists whole for the decisions: here the most similar
XLSX_PAIR_LIMIT and a last row saying how many more (a province lists ≈ 120,000 pairs per 100,000 rows: all
of them twice cost 4 s and 6 MB per release for a sheet nobody decides in).

Cells go through pipelines.common.xlsx_out only (formula triggers neutralized, deterministic bytes). Every
release commits the workbook, so its rows are written compact (RowBlockSheet.compact: no implied row
numbers or cell references) and its parts deflated again at xlsx_zip.COMMITTED_LEVEL (xlsx_zip.redeflated).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.common.xlsx_out import atomic_write_bytes, xlsx_book
from pipelines.common.xlsx_table_block import write_table_block
from pipelines.common.xlsx_zip import redeflated
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
    with xlsx_book(path, title=f"{inputs.year} 年度预算绩效指标库审核报告", subject="年度审核") as book:
        for table in tables.values():
            frame = table.frame[list(table.titles)]
            if table.key == "candidates":
                frame = _capped_pairs(frame, table.rows)
            cell_formats = _department_highlights(frame) if table.key == "departments" else {}
            # compact: no implied row numbers or cell references, ≈ 45 % less in the repo per release
            write_table_block(book, table.sheet, frame, table.titles, cell_formats=cell_formats, compact=True)
    # deflate level 7 (xlsxwriter's: 6): fewer bytes in the repo per release (git cannot shrink deflated parts)
    return atomic_write_bytes(path, redeflated(path.read_bytes()))
