"""The 部门信息 sheet: key | value pairs (部门名称、部门编码、填报年度…) wherever they sit on the sheet.

A pair whose key the template does not know ("单位负责人 | 张三") is not read, but not dropped unsaid either:
its label as written is kept in info_cells with the cell of the label, and validation notes it (I405)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from pipelines.common.columns import col_letter
from pipelines.intake.cells import Merge, fill_merges
from pipelines.intake.headers import MAX_HEADER_CHARS, match_header
from schemas.text import cell_to_text, clean_text, compact
from schemas.vocab import reference

# key → (Excel row, column letter of the value); an unknown key's label as written → the cell of the label
InfoCells = dict[str, tuple[int, str]]
# Cells that look like a key but are the sheet's own header ("项目 | 内容") or a note ("注：…", "备注 | …").
_NOT_KEYS = frozenset({"项目", "内容", "序号", "填报内容", "注", "说明", "备注", "填表说明", "填报说明"})
_LABEL = re.compile(r"^[^\d\W]")  # a label starts with a letter or a character, never a digit
MAX_UNKNOWN_LABEL = 12  # a longer text beside a value is a sentence, not a key


def info_from_grid(grid: np.ndarray, merges: Sequence[Merge] = ()) -> tuple[dict[str, str], InfoCells]:
    """部门信息 from a sheet grid: rows 项目 | 内容 (title rows, a 序号 column and several pairs per row are
    allowed), the key matched by alias ("部门代码：", 繁体, full width), the value the first non-empty cell to
    its right that is not itself a key, or the text after a colon in the key cell ("联系电话：0571…").
    Returns (info, info_cells); the first occurrence of a key wins."""
    grid = fill_merges(grid, list(merges))
    lookup = reference().header_lookup["info"]
    info: dict[str, str] = {}
    cells: InfoCells = {}
    for r in range(grid.shape[0]):
        _read_info_row(r, [cell_to_text(v) for v in grid[r]], lookup, info, cells)
    return info, cells


def _key_of(text: str, lookup: dict[str, str]) -> tuple[str | None, str]:
    """The key a cell names, and the value written after a colon in it ("联系电话：0571…")."""
    key = match_header(text, lookup) if len(text) <= MAX_HEADER_CHARS else None
    if key is None and ":" in (cleaned := clean_text(text)):
        label, _, inline = cleaned.partition(":")
        return match_header(label, lookup), inline.strip()
    return key, ""


def _next_value(texts: list[str], c: int) -> int | None:
    """The column of the first non-empty cell right of `c` that does not repeat it (a merged key)."""
    return next((j for j in range(c + 1, len(texts)) if texts[j] and texts[j] != texts[c]), None)


def _unknown_pair(texts: list[str], c: int, lookup: dict[str, str]) -> tuple[str, int] | None:
    """(label as written, the column after the pair) when texts[c] is a key the template does not know
    with a value: beside it ("单位负责人 | 张三") or after a colon ("单位负责人：张三"). Titles (no value
    beside), 序号, repeated merged cells, the sheet's header and notes are not keys."""
    text = texts[c]
    if c > 0 and texts[c - 1] == text:
        return None
    label, _, inline = clean_text(text).partition(":")
    label = label.strip()
    if not _LABEL.match(label) or len(label) > MAX_UNKNOWN_LABEL or compact(label) in _NOT_KEYS:
        return None
    if inline.strip():
        return label, c + 1
    j = _next_value(texts, c)
    if j is None or _key_of(texts[j], lookup)[0] is not None:
        return None
    return label, j + 1


def _read_info_row(
    r: int, texts: list[str], lookup: dict[str, str], info: dict[str, str], cells: InfoCells
) -> None:
    c = 0
    while c < len(texts):
        text = texts[c]
        key, inline = _key_of(text, lookup) if text else (None, "")
        if key is None:
            unknown = _unknown_pair(texts, c, lookup) if text else None
            if unknown is not None:
                cells.setdefault(unknown[0], (r + 1, col_letter(c)))
            c = unknown[1] if unknown is not None else c + 1  # else empty, a 序号, a title or a note
            continue
        j = _next_value(texts, c)
        # The next cell is the value unless it is another key (pairs side by side, value left empty);
        # "职能依据 | 三定方案" stays a value although 三定方案 is an alias of the same key.
        value_col = j if j is not None and _key_of(texts[j], lookup)[0] in (None, key) else None
        if key not in info:
            if value_col is not None:
                info[key], cells[key] = texts[value_col], (r + 1, col_letter(value_col))
            elif inline:
                info[key], cells[key] = inline, (r + 1, col_letter(c))
            else:
                info[key], cells[key] = "", (r + 1, col_letter(c + 1))  # present but empty: the blank
        c = value_col + 1 if value_col is not None else (j if j is not None else len(texts))
