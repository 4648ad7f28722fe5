"""What intake hands on: a Workbook (部门信息, a SheetRows per indicator sheet, findings), its column names.

Every later stage reads these; nothing here parses. Instances are pickled by the parse cache and sent back
from the parse workers, so they hold plain data only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.common.findings import Finding

PROVENANCE_COLUMNS = ("source_file", "source_sheet", "source_row")
PARSED_COLUMNS = ("target_symbol", "target_value", "target_text", "target_unit", "history_json")
# What the reader read but no field holds: the values of unknown columns and of the second column of a
# field written twice, as a JSON object {header as written: value} per row ("" when there is none). The
# header of a second column with the same text is suffixed with its letter: "备注（H列）". A library row
# publishes it as its usage's `extra` (sorted keys: pipelines.consolidate.tables.extra_object).
EXTRA_COLUMN = "extra_json"


@dataclass
class SheetRows:
    """The data rows of one indicator sheet."""

    kind: str  # "core" | "project" | "common"
    sheet_name: str  # as written in the workbook
    header_row: int  # Excel row number of the header row (0 when the sheet is blank)
    columns: dict[str, str]  # English column → Excel column letter, for the columns present
    unknown_headers: dict[str, str]  # unrecognised header text → column letter (kept, not an error)
    # One row per data row: every English column of columns.csv for this sheet ("" when absent or
    # empty, raw text as the official typed it), the parsed target (target_symbol, target_value,
    # target_text, target_unit), history_json, and provenance: source_file, source_sheet, source_row.
    frame: pd.DataFrame
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, why): notes rows
    # A second column whose header maps to an English column already present (e.g. 指标解释 and 指标说明):
    # header text → column letter. Its values fill the first column's blanks and are kept in extra_json.
    duplicate_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Workbook:
    path: Path
    file: str  # file name shown to officials
    sha256: str
    readable: bool  # False: not an xlsx, or over the bounds (exit 2 class)
    info: dict[str, str] = field(default_factory=dict)  # 部门信息: English key → raw text
    info_cells: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (Excel row, column letter)
    info_sheet: str = ""  # the 部门信息 sheet's name as written
    sheets: dict[str, SheetRows] = field(default_factory=dict)  # kind → rows
    findings: list[Finding] = field(default_factory=list)  # structural problems found while reading
    # Sheets that also matched a kind already taken (e.g. a copy "项目支出指标 (2)"): name → kind. Not read.
    ignored_sheets: dict[str, str] = field(default_factory=dict)
