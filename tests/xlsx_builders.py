"""Test helpers that write REAL submission workbooks (openpyxl), including the mess officials make.

Import from tests as `from tests.xlsx_builders import ...` (run pytest from the repo root).

API
---
KINDS                               ("core", "project", "common")
english_columns(kind) -> list[str]  the English columns of a sheet kind, in columns.csv order
header_zh(kind, column) -> str      the template's Chinese header of a column
column_letter(index) -> str         0-based column index → Excel letters

default_info(year=2026, dept_code="101001", dept_name="市测试局", **more) -> dict[str, object]
core_row(**overrides) -> dict       a valid 部门整体核心指标 row (English keys), fields overridable
project_row(**overrides) -> dict    a valid 项目支出指标 row (English keys), fields overridable

write_workbook(path, info, core_rows, project_rows, common_rows=None, *, title_rows=0, columns=None,
               header_overrides=None, merged=None, sheet_names=None, omit_sheets=(), blank_rows_after=None,
               notes_rows=None, info_title=False, info_overrides=None) -> WrittenWorkbook
    info: {key: value}; a key that is an English info column (year, dept_code…) is written with its
        Chinese label, any other key is written as given (aliases, 繁体, "部门编码：" …). None → 部门信息
        sheet without rows. Written as rows 项目 | 内容 (after an optional title row: info_title=True).
    *_rows: list of {English column: value}; None / missing = empty cell. Values are written as given
        (str stays text, int/float are numbers: "95" vs 95 is how you write numbers stored as text).
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
import os
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from schemas.vocab import reference

KINDS = ("core", "project", "common")
SHEET_ZH = {"info": "部门信息", "core": "部门整体核心指标", "project": "项目支出指标", "common": "共性指标"}
REALDATA_DIR = Path(os.environ.get("INDICATORS_REALDATA", Path(__file__).parent / "data" / "realdata"))


def english_columns(kind: str) -> list[str]:
    return [spec.column for spec in reference().columns[kind]]


def header_zh(kind: str, column: str) -> str:
    return reference().header_zh(kind, column)


def column_letter(index: int) -> str:
    return get_column_letter(index + 1)


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


def _per_kind(option: object, kind: str, default: object) -> object:
    if isinstance(option, dict):
        return option.get(kind, default)
    return default if option is None else option


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
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    names = {**SHEET_ZH, **(sheet_names or {})}

    if "info" not in omit_sheets:
        ws = wb.create_sheet(names["info"])
        written.sheet_names["info"] = names["info"]
        r = 1
        if info_title:
            ws.cell(r, 1, "部门基本信息表")
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
            r += 1
        ws.cell(r, 1, "项目")
        ws.cell(r, 2, "内容")
        r += 1
        info_specs = {spec.column: spec.header_zh for spec in reference().columns["info"]}
        for key, value in (info or {}).items():
            ws.cell(r, 1, info_specs.get(key, key))
            if value is not None:
                ws.cell(r, 2, value)
            written.info_rows[key] = r
            r += 1

    for kind, rows in (("core", core_rows), ("project", project_rows), ("common", common_rows)):
        if rows is None or kind in omit_sheets:
            continue
        ws = wb.create_sheet(names[kind])
        written.sheet_names[kind] = names[kind]
        cols = list(_per_kind(columns, kind, None) or english_columns(kind))
        overrides = _per_kind(header_overrides, kind, {}) or {}
        n_titles = int(_per_kind(title_rows, kind, 0))
        merge_cols = set(merged if isinstance(merged, list) else (merged or {}).get(kind, []))
        blanks = set(_per_kind(blank_rows_after, kind, []) or [])
        r = 1
        for t in range(n_titles):
            ws.cell(r, 1, f"{SHEET_ZH[kind]}表（2026年度）" if t == 0 else "单位：元")
            if t == 0 and len(cols) > 1:
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
            r += 1
        header_row = r
        for j, col in enumerate(cols):
            known = col in english_columns(kind)
            ws.cell(header_row, j + 1, overrides.get(col, header_zh(kind, col) if known else col))
        written.header_row[kind] = header_row
        written.columns[kind] = {col: column_letter(j) for j, col in enumerate(cols)}
        r += 1
        excel_rows: list[int] = []
        for i, row in enumerate(rows):
            for j, col in enumerate(cols):
                value = row.get(col)
                if value is not None:
                    ws.cell(r, j + 1, value)
            excel_rows.append(r)
            r += 1
            if i in blanks:
                r += 1
        written.data_rows[kind] = excel_rows
        # Vertical merges: runs of equal consecutive values keep the top cell only.
        for col in [c for c in cols if c in merge_cols]:
            j = cols.index(col) + 1
            start = 0
            while start < len(rows):
                end = start
                value = rows[start].get(col)
                while (
                    end + 1 < len(rows)
                    and rows[end + 1].get(col) == value
                    and excel_rows[end + 1] == excel_rows[end] + 1
                ):
                    end += 1
                if end > start and value not in (None, ""):
                    for k in range(start + 1, end + 1):
                        ws.cell(excel_rows[k], j).value = None
                    ws.merge_cells(
                        start_row=excel_rows[start], start_column=j, end_row=excel_rows[end], end_column=j
                    )
                start = end + 1
        notes_written: list[int] = []
        for note in _per_kind(notes_rows, kind, []) or []:
            if isinstance(note, str):
                ws.cell(r, 1, note)
                if len(cols) > 1:
                    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(cols))
            else:
                for j, value in enumerate(note):
                    if value is not None:
                        ws.cell(r, j + 1, value)
            notes_written.append(r)
            r += 1
        written.notes_rows[kind] = notes_written
    wb.save(path)
    return written


def write_grid_workbook(
    path: Path, sheets: dict[str, list[list[object]]], merges: dict[str, list[str]] | None = None
) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for ref in (merges or {}).get(name, []):
            ws.merge_cells(ref)
    wb.save(path)
    return Path(path)


def write_zip_bomb(path: Path, uncompressed_bytes: int, *, compressible: bool = True) -> Path:
    """Copy a small valid workbook, replacing the 项目支出指标 sheet's XML by a streamed, huge one."""
    path = Path(path)
    seed = path.with_suffix(".seed.xlsx")
    write_workbook(seed, default_info(), [core_row()], [project_row()])
    with zipfile.ZipFile(seed) as src:
        wb_xml = src.read("xl/workbook.xml").decode()
        rels = src.read("xl/_rels/workbook.xml.rels").decode()
    # openpyxl writes sheets in order: 部门信息, 部门整体核心指标, 项目支出指标 → sheet3.xml.
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
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "项目支出指标"
    ws["A1"] = "项目名称"
    ws[cell] = "x"
    for name in ("部门信息", "部门整体核心指标"):
        wb.create_sheet(name)
    wb.save(path)
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
