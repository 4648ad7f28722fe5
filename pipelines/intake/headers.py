"""The header row of an indicator sheet and what each column holds.

The header row is looked for among the first rows (title rows may sit above it), whatever the spelling of
its cells: as written, without marks ("*指标名称"), without a trailing note ("目标值(必填)"), 3级 for 三级,
and the aliases of columns.csv. Nothing is dropped unsaid: an unknown header is kept and reported (I403),
a field written twice is read from its first column, filled from the second and reported (W217).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pipelines.common.columns import col_letter
from pipelines.common.findings import Finding, make_finding
from schemas.text import cell_to_text, compact
from schemas.vocab import ColumnSpec, reference

HEADER_SCAN_ROWS = 15  # the header row is looked for among the first rows (title rows above it)
MAX_HEADER_CHARS = 40  # a longer cell is a sentence, not a header
_DIGIT_LEVEL = re.compile(r"^([123])级")
_TRAILING_PAREN = re.compile(r"\([^()]*\)$")
_MARKS = "*※★☆:"


@dataclass
class HeaderLayout:
    """Where a sheet's header is and what each column holds (0-based rows and columns)."""

    row: int
    columns: dict[str, int]  # English column → the column read for it (the first one written)
    duplicates: dict[str, list[int]]  # English column → further columns with a header of the same field
    unknown: dict[int, str]  # column → header text that names no field

    def duplicate_headers(self, grid: np.ndarray) -> dict[str, str]:
        """Header text → column letter of each further column of a field (SheetRows.duplicate_headers)."""
        return {
            cell_to_text(grid[self.row, c]): col_letter(c)
            for c in sorted(c for cs in self.duplicates.values() for c in cs)
        }


def header_candidates(text: str) -> list[str]:
    """Forms of a header to try, most literal first: as written, without marks ("*指标名称", "部门编码："),
    without a trailing note ("目标值(必填)"), and "3级指标" read as 三级指标."""
    key = compact(text)
    out = [key]
    stripped = key.strip(_MARKS)
    out.append(stripped)
    no_paren = _TRAILING_PAREN.sub("", stripped).strip(_MARKS)
    out.append(no_paren)
    for form in (stripped, no_paren):
        digit = _DIGIT_LEVEL.sub(lambda m: "一二三"[int(m.group(1)) - 1] + "级", form)
        out.append(digit)
    return out


def match_header(text: str, lookup: dict[str, str]) -> str | None:
    """The English column a header names in `lookup` (normalized header → column), or None."""
    for candidate in header_candidates(text):
        if candidate in lookup:
            return lookup[candidate]
    return None


# match_header's answers in a plain dict per kind, looked up inline: the header scan asks for every short
# cell of its first rows (≈ 1,000 a workbook), and a dict lookup costs a fraction of a (cached) call.
_UNSEEN = "\x00unseen"  # no cell text is this object
_MATCHED_MAX = 8192  # texts remembered per kind, then forgotten all at once
_matched: dict[str, dict[str, str | None]] = {}


def find_header(grid: np.ndarray, kind: str) -> HeaderLayout | None:
    """The header row among the first rows: the one recognising most columns (the first of equals: a
    repeated header below is skipped as such), None when no row names two fields. A two-line header with
    merged cells (`grid` has merges filled) is found on its lower line, which names more columns."""
    best, best_row, best_map, best_unknown = 0, -1, {}, {}
    for r in range(min(HEADER_SCAN_ROWS, grid.shape[0])):
        mapping, unknown = _read_header_row(grid[r], kind)
        score = len(set(mapping.values()))
        if score > best:
            best, best_row, best_map, best_unknown = score, r, mapping, unknown
    if best_row < 0 or best < 2:
        return None
    columns: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    for c in sorted(best_map):
        if best_map[c] in columns:
            duplicates.setdefault(best_map[c], []).append(c)
        else:
            columns[best_map[c]] = c
    return HeaderLayout(best_row, columns, duplicates, best_unknown)


def _read_header_row(values: np.ndarray, kind: str) -> tuple[dict[int, str], dict[int, str]]:
    """col → English column for the cells naming a field, col → text for the other non-empty cells."""
    mapping: dict[int, str] = {}
    unknown: dict[int, str] = {}
    known = _matched.setdefault(kind, {})
    if len(known) > _MATCHED_MAX:
        known.clear()
    # A Python list, empty cells skipped before any call, strings (the bulk) without cell_to_text's ladder.
    for c, value in enumerate(values.tolist()):
        if value.__class__ is str:
            if value == "":
                continue
            text = value.strip()
        else:
            text = cell_to_text(value)
        if not text:
            continue
        if len(text) > MAX_HEADER_CHARS:
            unknown[c] = text
            continue
        column = known.get(text, _UNSEEN)
        if column is _UNSEEN:
            column = known[text] = match_header(text, reference().header_lookup[kind])
        if column is None:
            unknown[c] = text
        else:
            mapping[c] = column
    return mapping, unknown


# --- the header rules ----------------------------------------------------------------------------------


def no_header_finding(file: str, name: str, required: list[ColumnSpec]) -> Finding:
    """F010: no row among the first HEADER_SCAN_ROWS names two fields."""
    wanted = "”“".join(s.header_zh for s in required[:3])
    return make_finding(
        "F010",
        file,
        sheet=name,
        detail=f"工作表“{name}”前 {HEADER_SCAN_ROWS} 行中没有包含“{wanted}”等列名的表头行",
    )


def missing_column_findings(
    file: str, name: str, layout: HeaderLayout, required: list[ColumnSpec]
) -> list[Finding]:
    """F004 for each required column the header row lacks."""
    return [
        make_finding("F004", file, sheet=name, row=layout.row + 1, field=spec.header_zh)
        for spec in required
        if spec.column not in layout.columns
    ]


def _written(raw: np.ndarray, grid: np.ndarray, row: int, c: int) -> bool:
    """A header cell that only repeats a merged header to its left (one header over two columns) is not a
    header; one filled from a merge above (a two-line header) is."""
    written_here = c < raw.shape[1] and raw[row, c] != ""
    return written_here or not (c > 0 and grid[row, c - 1] == grid[row, c])


def unknown_header_findings(
    file: str, name: str, raw: np.ndarray, grid: np.ndarray, layout: HeaderLayout
) -> list[Finding]:
    """I403 for each header that names no field: its values are kept in extra_json (published in the
    usage's `extra`), not checked."""
    out: list[Finding] = []
    for c in sorted(layout.unknown):
        if _written(raw, grid, layout.row, c):
            letter = col_letter(c)
            out.append(
                make_finding(
                    "I403",
                    file,
                    sheet=name,
                    row=layout.row + 1,
                    column=letter,
                    value=layout.unknown[c],
                    detail=f"{letter} 列",
                )
            )
    return out


def duplicate_header_findings(
    file: str, kind: str, name: str, raw: np.ndarray, grid: np.ndarray, layout: HeaderLayout
) -> list[Finding]:
    """W217 for each further column of a field: the first column is read, its blanks taken from this one."""
    out: list[Finding] = []
    row = layout.row
    for col, others in layout.duplicates.items():
        used = layout.columns[col]
        used_text, used_letter = cell_to_text(grid[row, used]), col_letter(used)
        for c in others:
            if not _written(raw, grid, row, c):
                continue
            text, letter = cell_to_text(grid[row, c]), col_letter(c)
            out.append(
                make_finding(
                    "W217",
                    file,
                    sheet=name,
                    row=row + 1,
                    column=letter,
                    field=reference().header_zh(kind, col),
                    value=text,
                    detail=(
                        f"{used_letter} 列“{used_text}”与 {letter} 列“{text}”；已采用 {used_letter} 列，"
                        f"{used_letter} 列为空的行取 {letter} 列的值，{letter} 列的原值已一并保留"
                    ),
                )
            )
    return out
