"""Finding the sheets: which worksheet is 部门信息, 核心指标, 项目支出指标…, and each one's cells.

Sheets are matched by name however it is written (繁体, full width, "表2 項目支出指標 (2026)"). calamine
reads the cached values of formulas (nothing is evaluated, macros are ignored); a sheet's declared range is
held to the bounds again before its cells are materialised.
"""

from __future__ import annotations

import numpy as np
import python_calamine

from pipelines.common.findings import make_finding
from pipelines.intake.bounds import Refused, check_cells, limit_note, short_error
from pipelines.intake.cells import Merge, as_grid
from pipelines.intake.container import Layout
from pipelines.intake.department_info import info_from_grid
from pipelines.intake.percent import apply_percent, percent_cells
from pipelines.intake.rows import sheet_rows_from_grid
from pipelines.intake.workbook import Workbook
from schemas.text import compact
from schemas.vocab import reference


def read_sheets(
    book: Workbook, calamine: python_calamine.CalamineWorkbook, layout: Layout, limits: dict[str, int]
) -> None:
    """Fill `book` from its matched sheets; F003 for each required sheet that is missing."""
    ref = reference()
    names = [
        meta.name for meta in calamine.sheets_metadata if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
    ]
    matched, ignored = match_sheets(names)
    book.ignored_sheets = ignored
    for kind, spec in ref.sheets.items():
        if kind not in matched and spec.required:
            book.findings.append(make_finding("F003", book.file, value=spec.name_zh))
    for kind, name in matched.items():
        grid, merges = _load_grid(calamine, name, limits)
        member = layout.sheet_members.get(name)
        if member and grid.size and layout.percent_styles:
            apply_percent(grid, percent_cells(book.path, member, layout.percent_styles))
        if kind == "info":
            book.info_sheet = name
            book.info, book.info_cells = info_from_grid(grid, merges)
        else:
            rows = sheet_rows_from_grid(book.file, kind, name, grid, merges, book.findings)
            if rows is not None:
                book.sheets[kind] = rows


def match_sheets(names: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Workbook sheet names → {kind: sheet name}, plus {ignored sheet name: kind} for extra matches.

    Exact (after 繁→简, full-width, spaces) first, then a name containing a known name ("表2 項目支出指標
    (2026)"), longest known name first.
    """
    lookup = reference().sheet_lookup
    known = sorted(lookup, key=lambda k: (-len(k), k))
    matched: dict[str, str] = {}
    ignored: dict[str, str] = {}
    keys = {name: compact(name) for name in names}
    for name in names:
        kind = lookup.get(keys[name])
        if kind and kind not in matched:
            matched[kind] = name
    for name in names:
        if name in matched.values():
            continue
        kind = lookup.get(keys[name]) or next((lookup[k] for k in known if k in keys[name]), None)
        if kind is None:
            continue
        if kind in matched:
            ignored[name] = kind
        else:
            matched[kind] = name
    return matched, ignored


def _load_grid(
    calamine: python_calamine.CalamineWorkbook, name: str, limits: dict[str, int]
) -> tuple[np.ndarray, list[Merge]]:
    """The sheet's cells from A1 (true Excel positions) and its merged ranges (r0, c0, r1, c1), 0-based."""
    try:
        sheet = calamine.get_sheet_by_name(name)
        merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []]
        end_row, end_col = sheet.end or (-1, -1)
        _check_sheet_range(name, end_row + 1, end_col + 1, limits)
        if sheet.end is None or sheet.height == 0:
            return np.empty((0, 0), dtype=object), merges
        rows = sheet.to_python(skip_empty_area=False)
    except Refused as refused:
        refused.sheet = name
        raise
    except MemoryError:
        raise
    except OverflowError as exc:  # a date or duration beyond what Python can hold (days=2147483647)
        raise Refused("F001", f"工作表“{name}”中有超出范围的日期或时间值，文件可能已损坏", name) from exc
    except Exception as exc:  # noqa: BLE001 - CalamineError, ValueError… on bad bytes
        raise Refused("F001", f"工作表“{name}”无法读取（{short_error(exc)}）", name) from exc
    return as_grid(rows, none_is_empty=False), merges


def _check_sheet_range(name: str, rows: int, cols: int, limits: dict[str, int]) -> None:
    """The range calamine reports for a sheet, held to the bounds before its cells are materialised."""
    if rows > limits["max_rows_per_sheet"]:
        raise Refused("F002", f"{limit_note('max_rows_per_sheet')}；工作表“{name}”有 {rows} 行")
    if cols > limits["max_columns_per_sheet"]:
        raise Refused("F002", f"{limit_note('max_columns_per_sheet')}；工作表“{name}”有 {cols} 列")
    check_cells(rows, cols, limits)
