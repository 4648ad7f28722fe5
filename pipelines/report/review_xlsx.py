"""review.xlsx: every review table as a sheet, all rows (the page shows the first HTML_ROW_LIMIT).

Cells go through pipelines.common.xlsx_out only (formula triggers neutralized, deterministic bytes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.common.xlsx_out import xlsx_book
from pipelines.common.xlsx_rows import write_table_block
from pipelines.report.model import ReportInputs, ReviewTable


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
            cell_formats = _department_highlights(frame) if table.key == "departments" else {}
            write_table_block(book, table.sheet, frame, table.titles, cell_formats=cell_formats)
    return path
