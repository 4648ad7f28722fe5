"""Cells: a sheet as a grid of values, Excel positions, merged ranges, a cell as the text an official sees.

A grid is a 2-D object array from A1 (row 0 = Excel row 1), "" for an empty cell, every other value as the
parser typed it (str, float, int, bool, date…). Dates and numbers become text only here and in
schemas.text.cell_to_text, the same way for every column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipelines.common.formulas import NEUTRAL_PREFIX, restore_neutralized
from schemas.text import cell_to_text

Merge = tuple[int, int, int, int]  # a merged range (r0, c0, r1, c1), 0-based and inclusive


def as_grid(rows: Sequence[Sequence[object]], none_is_empty: bool = True) -> np.ndarray:
    """Rows of cell values (calamine's "" or openpyxl's None for empty) → a 2-D object array, "" = empty."""
    if not rows:
        return np.empty((0, 0), dtype=object)
    width = max(len(r) for r in rows)
    grid = None
    if all(len(r) == width for r in rows):
        grid = np.array(rows, dtype=object)
        if grid.shape != (len(rows), width):  # a cell holding a sequence would change the shape
            grid = None
    if grid is None:
        grid = np.empty((len(rows), width), dtype=object)
        grid[:] = ""
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                grid[i, j] = value
    if none_is_empty:
        grid[grid == None] = ""  # noqa: E711 - elementwise on an object array
    return grid


def fill_merges(grid: np.ndarray, merges: Sequence[Merge]) -> np.ndarray:
    """Every cell of a merged range gets the range's top-left value (Excel shows it across the range)."""
    if not merges or not grid.size:
        return grid
    filled = grid.copy()
    height, width = grid.shape
    for r0, c0, r1, c1 in merges:
        if r0 < height and c0 < width:
            filled[r0 : min(r1, height - 1) + 1, c0 : min(c1, width - 1) + 1] = grid[r0, c0]
    return filled


def cell_texts(values: np.ndarray) -> list[str]:
    """Cell values → the text an official sees, stripped. Strings (the bulk) skip the per-value call; a text
    behind the quote this product puts before a formula trigger (a pre-filled target "'-5%") reads as
    itself."""
    texts = [v.strip() if v.__class__ is str else _number_text(v) for v in values.tolist()]
    if NEUTRAL_PREFIX not in "".join(texts):  # one C-speed scan: no text can start with it
        return texts
    return [restore_neutralized(t) if t[:1] == NEUTRAL_PREFIX else t for t in texts]


def _number_text(value: object) -> str:
    if value.__class__ is float and value == value and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # the common case of cell_to_text, without its type ladder
    return cell_to_text(value)
