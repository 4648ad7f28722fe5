"""Test helpers that write REAL submission workbooks, including the mess officials make.

They describe rows and habits; the shared synthetic writer (pipelines/demo/workbook.py, also behind the
demo and the benchmark corpus) lays them out in the template's layout and writes the xlsx: the same
arguments give the same bytes.

Import from tests as `from tests.xlsx_builders import ...` (run pytest from the repo root).

API
---
KINDS                               ("core", "project", "common")
english_columns(kind) -> list[str]  the English columns of a sheet kind, in columns.csv order
header_zh(kind, column) -> str      the template's Chinese header of a column

default_info(year=2026, dept_code="101001", dept_name="市测试局", **more) -> dict[str, object]
core_row(**overrides) -> dict       a valid 部门整体核心指标 row (English keys), fields overridable
project_row(**overrides) -> dict    a valid 项目支出指标 row (English keys), fields overridable

write_workbook(path, info, core_rows, project_rows, common_rows=None, *, title_rows=0, columns=None,
               header_overrides=None, merged=None, sheet_names=None, omit_sheets=(), blank_rows_after=None,
               notes_rows=None, info_title=False) -> WrittenWorkbook
    info: {key: value}; a key that is an English info column (year, dept_code…) is written with its
        Chinese label, any other key is written as given (aliases, 繁体, "部门编码：" …). None → 部门信息
        sheet without rows. Written as rows 项目 | 内容 (after an optional title row: info_title=True).
    *_rows: list of {English column: value}; None / missing = empty cell. Values are written as given
        (str stays text, int/float are numbers: "95" vs 95 is how you write numbers stored as text;
        a str starting with "=" is text, not a formula).
    common_rows: None → no 共性指标 sheet.
    Per-kind options are dicts kind → value ("core" | "project" | "common"), or one value for all kinds:
    title_rows: title lines above the header (the first one merged across the table).
    columns: English columns to write, in this order (default: all of the kind, columns.csv order).
        Lets a test shuffle columns or drop one; a name that is not an English column is an extra column
        headed by that name (or its header_overrides entry), filled from the rows' same key.
    header_overrides: {English column: header text as written} (aliases, 繁体, full-width, "*指标名称").
    merged: English columns whose runs of equal consecutive values become one vertical merged range
        (value in the top cell only, as Excel stores it).
    sheet_names: sheet name as written.   omit_sheets: kinds not written at all ("info" allowed).
    blank_rows_after: data-row indexes (0-based) after which an empty row is inserted.
    notes_rows: rows written after the data: a str is one cell merged across the table, a list is cells.
    Returns WrittenWorkbook: path, sheet_names, header_row (Excel row), data_rows (Excel row of each data
    row, in order), columns ({English: letter}), notes_rows (Excel rows of the notes rows), info_rows.

write_grid_workbook(path, sheets: {name: list of rows (lists of values)}, merges=None) -> Path
    Any raw layout: {name: ["A1:C1", ...]} merges per sheet.
write_zip_bomb(path, uncompressed_bytes, *, compressible=True) -> Path
    A valid-looking workbook whose 项目支出指标 worksheet XML decompresses to `uncompressed_bytes`
    (streamed while written, so neither this process nor the file gets large). compressible=True: ratio
    ~1000 (refused by the ratio bound); False: ratio ~40 (refused by the total bound).
write_far_cell_workbook(path, cell="XFD1048576") -> Path
    A tiny workbook with one cell at `cell`: a dense-grid reader would allocate rows × columns cells.
load_realdata(directory=REALDATA_DIR) -> list[dict[str, str]]
    Rows of the real indicator CSVs (columns level1, level2, name, definition, value, unit, source_ref,
    extra) plus "file". Empty list when the directory is missing.
realdata_project_rows(rows, project="…") -> list[dict]  real rows as 项目支出指标 rows (value → target).
"""

from __future__ import annotations

import csv
import io
import os
import random
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol

from pipelines.common.xlsx_out import WORKBOOK_OPTIONS
from pipelines.common.xlsx_rows import fast_shared_strings
from pipelines.demo.workbook import (
    Grid,
    IndicatorSheet,
    InfoSheet,
    Value,
    indicator_grid,
    info_grid,
    info_label,
    sheet_name,
    workbook_bytes,
)
from schemas.vocab import reference

KINDS = ("core", "project", "common")
REALDATA_DIR = Path(os.environ.get("INDICATORS_REALDATA", Path(__file__).parent / "data" / "realdata"))
CREATED = datetime(2025, 11, 30, 9, 0)  # document property: the same rows give the same bytes


def english_columns(kind: str) -> list[str]:
    return [spec.column for spec in reference().columns[kind]]


def header_zh(kind: str, column: str) -> str:
    return reference().header_zh(kind, column)


def default_info(
    year: object = 2026, dept_code: object = "101001", dept_name: object = "市测试局", **more: object
) -> dict[str, object]:
    return {"year": year, "dept_code": dept_code, "dept_name": dept_name, "complexity": "复杂", **more}


def core_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "level1": "产出指标",
        "level2": "数量指标",
        "name": "政策宣传覆盖率",
        "definition": "反映政策宣传覆盖的对象占应覆盖对象的比例",
        "symbol": "≥",
        "target": 95,
        "unit": "%",
        "nature": "定量",
        "history": "2024年:93%;2025年:94%",
        "data_source": "统计报表",
        "include": "是",
        "change_type": "新增",
    }
    row.update(overrides)
    return row


def project_row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "project": "办公大楼运行保障",
        "project_category": "其他",
        "function_code": "2010101",
        "level1": "产出指标",
        "level2": "数量指标",
        "name": "日常维修维护次数",
        "definition": "反映办公大楼全年维修维护情况",
        "symbol": "≥",
        "target": 200,
        "unit": "次",
        "nature": "定量",
        "history": "2025年:180次",
        "data_source": "维修台账",
        "include": "是",
        "change_type": "新增",
    }
    row.update(overrides)
    return row


@dataclass
class WrittenWorkbook:
    path: Path
    sheet_names: dict[str, str] = field(default_factory=dict)
    header_row: dict[str, int] = field(default_factory=dict)
    data_rows: dict[str, list[int]] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    notes_rows: dict[str, list[int]] = field(default_factory=dict)
    info_rows: dict[str, int] = field(default_factory=dict)  # info key as given → Excel row


def _per_kind(option: Any, kind: str, default: Any) -> Any:
    if isinstance(option, dict):
        return option.get(kind, default)
    return default if option is None else option


def _titles(kind: str, count: int) -> list[Value]:
    return [f"{sheet_name(kind)}表（2026年度）" if t == 0 else "单位：元" for t in range(count)]


def _info_sheet(written: WrittenWorkbook, info: dict[str, object] | None, name: str, title: bool) -> Grid:
    items = list((info or {}).items())
    rows = [(info_label(key), value) for key, value in items]
    grid, excel_rows = info_grid(
        InfoSheet(rows, name=name, title="部门基本信息表" if title else None)  # type: ignore[arg-type]
    )
    written.sheet_names["info"] = name
    written.info_rows = {key: row for (key, _), row in zip(items, excel_rows, strict=True)}
    return grid


def write_workbook(
    path: Path,
    info: dict[str, object] | None,
    core_rows: list[dict[str, object]],
    project_rows: list[dict[str, object]],
    common_rows: list[dict[str, object]] | None = None,
    *,
    title_rows: int | dict[str, int] = 0,
    columns: dict[str, list[str]] | None = None,
    header_overrides: dict[str, dict[str, str]] | None = None,
    merged: dict[str, list[str]] | list[str] | None = None,
    sheet_names: dict[str, str] | None = None,
    omit_sheets: tuple[str, ...] | list[str] = (),
    blank_rows_after: dict[str, list[int]] | None = None,
    notes_rows: dict[str, list[object]] | None = None,
    info_title: bool = False,
) -> WrittenWorkbook:
    path = Path(path)
    written = WrittenWorkbook(path)
    names = {kind: sheet_name(kind) for kind in ("info", *KINDS)} | (sheet_names or {})
    grids = [] if "info" in omit_sheets else [_info_sheet(written, info, names["info"], info_title)]
    for kind, rows in (("core", core_rows), ("project", project_rows), ("common", common_rows)):
        if rows is None or kind in omit_sheets:
            continue
        merge_cols = merged if isinstance(merged, list) else (merged or {}).get(kind, [])
        sheet = IndicatorSheet(
            kind,
            rows,  # type: ignore[arg-type]
            columns=list(_per_kind(columns, kind, None) or english_columns(kind)),
            headers=_per_kind(header_overrides, kind, {}) or {},
            name=names[kind],
            titles=_titles(kind, int(_per_kind(title_rows, kind, 0))),
            runs={column: () for column in merge_cols},
            blank_after=set(_per_kind(blank_rows_after, kind, []) or []),
            notes=_per_kind(notes_rows, kind, []) or [],
        )
        grid, placed = indicator_grid(sheet)
        grids.append(grid)
        written.sheet_names[kind] = names[kind]
        written.header_row[kind] = placed.header_row
        written.data_rows[kind] = placed.data_rows
        written.columns[kind] = placed.columns
        written.notes_rows[kind] = placed.notes_rows
    path.write_bytes(workbook_bytes(grids, created=CREATED, properties={"author": "tests"}))
    return written


def write_grid_workbook(
    path: Path, sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None
) -> Path:
    grids = []
    for name, rows in sheets.items():
        grid = Grid(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    grid.put(r, c, value)  # type: ignore[arg-type]
        for ref in (merges or {}).get(name, []):
            first, _, last = ref.partition(":")
            grid.merges.append((*xl_cell_to_rowcol(first), *xl_cell_to_rowcol(last)))
        grids.append(grid)
    Path(path).write_bytes(workbook_bytes(grids, created=CREATED))
    return Path(path)


def write_zip_bomb(path: Path, uncompressed_bytes: int, *, compressible: bool = True) -> Path:
    """Copy a small valid workbook, replacing the 项目支出指标 sheet's XML by a streamed, huge one."""
    path = Path(path)
    seed = path.with_suffix(".seed.xlsx")
    write_workbook(seed, default_info(), [core_row()], [project_row()])
    with zipfile.ZipFile(seed) as src:
        wb_xml = src.read("xl/workbook.xml").decode()
        rels = src.read("xl/_rels/workbook.xml.rels").decode()
    # Sheets are written in order: 部门信息, 部门整体核心指标, 项目支出指标 → sheet3.xml.
    assert "项目支出指标" in wb_xml and "worksheets/sheet3.xml" in rels
    target = "xl/worksheets/sheet3.xml"
    head = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    tail = b"</t></is></c></row></sheetData></worksheet>"
    rng = random.Random(7)
    block = 1 << 20
    if compressible:
        pattern = b"A" * block
    else:
        # A random letter every 64 bytes breaks long matches: ratio ~40, not ~1000. The deflate window
        # is 32 KB, so repeating this 1 MB block does not compress better.
        base = bytearray(b"B" * block)
        for k in range(0, block, 64):
            base[k] = rng.randrange(65, 91)
        pattern = bytes(base)
    member = zipfile.ZipInfo(target)
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(seed) as src, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != target:
                dst.writestr(info, src.read(info))
                continue
            with dst.open(member, "w", force_zip64=True) as out:
                out.write(head)
                left = uncompressed_bytes - len(head) - len(tail)
                while left > 0:
                    n = min(block, left)
                    out.write(pattern[:n])
                    left -= n
                out.write(tail)
    seed.unlink()
    return path


def write_far_cell_workbook(path: Path, cell: str = "XFD1048576") -> Path:
    sheet = Grid("项目支出指标")
    sheet.put(0, 0, "项目名称")
    row, col = xl_cell_to_rowcol(cell)
    sheet.put(row, col, "x")
    grids = [sheet, Grid("部门信息"), Grid("部门整体核心指标")]
    Path(path).write_bytes(workbook_bytes(grids, created=CREATED))
    return Path(path)


def load_realdata(directory: Path = REALDATA_DIR) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    directory = Path(directory)
    if not directory.is_dir():
        return rows
    for csv_path in sorted(directory.glob("*.csv")):
        with csv_path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                rows.append({**{k: (v or "") for k, v in row.items()}, "file": csv_path.name})
    return rows


def realdata_project_rows(
    rows: list[dict[str, str]], project: str = "办公大楼运行保障"
) -> list[dict[str, object]]:
    return [
        {
            "project": project,
            "function_code": "2010101",
            "level1": r["level1"],
            "level2": r["level2"],
            "name": r["name"],
            "definition": r["definition"],
            "target": r["value"],
            "unit": r["unit"],
        }
        for r in rows
    ]


def strings_book(texts: list[str], *, fast: bool) -> bytes:
    """A workbook of one text column, its sharedStrings.xml by fast_shared_strings or by xlsxwriter."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    wb.set_properties({"created": datetime(2000, 1, 1)})
    if fast:
        fast_shared_strings(wb)
    ws = wb.add_worksheet("s")
    for i, text in enumerate(texts):
        ws.write_string(i, 0, text)
    wb.close()
    return buffer.getvalue()
