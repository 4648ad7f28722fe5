"""Numbers Excel shows as percentages: a typed "95%" is stored as 0.95 with a percent style, and the
official sees 95%, so the reader must too. calamine gives the value without its style, hence this module:
the percent styles are read from xl/styles.xml during the container check, and the cells carrying them
from the sheet's own XML.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from pipelines.common.columns import col_index
from pipelines.intake.bounds import CHUNK_BYTES
from schemas.text import cell_to_text

_BUILTIN_PERCENT_FORMATS = frozenset({9, 10})  # "0%" and "0.00%"


def percent_styles(styles_xml: bytes) -> set[int]:
    """Indices of cell formats that display numbers as percentages (built-in 9/10 or a custom '%')."""
    if not styles_xml:
        return set()
    try:
        root = ElementTree.fromstring(styles_xml)
    except Exception:  # noqa: BLE001 - styles only refine how numbers show; calamine judges the file
        return set()
    percent_fmts = set(_BUILTIN_PERCENT_FORMATS)
    for elem in root.iter():
        if elem.tag.rsplit("}", 1)[-1] == "numFmt":
            code = re.sub(r'"[^"]*"|\\.', "", elem.get("formatCode", ""))
            if "%" in code and (fmt_id := elem.get("numFmtId") or "").isdigit():
                percent_fmts.add(int(fmt_id))
    result: set[int] = set()
    for elem in root.iter():
        if elem.tag.rsplit("}", 1)[-1] == "cellXfs":
            for i, xf in enumerate(elem):
                fmt = xf.get("numFmtId") or "0"
                if fmt.isdigit() and int(fmt) in percent_fmts:
                    result.add(i)
    return result


def percent_cells(path: Path, member: str, style_ids: set[int]) -> set[tuple[int, int]]:
    """0-based (row, col) of the cells of one worksheet member carrying a percent style (one streaming pass
    over that sheet only)."""
    if not style_ids:
        return set()
    ids = b"|".join(str(i).encode() for i in sorted(style_ids))
    pattern = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\ss="(?:' + ids + rb')"')
    found: set[tuple[int, int]] = set()
    with zipfile.ZipFile(path) as zf, zf.open(member) as stream:
        tail = b""
        while chunk := stream.read(CHUNK_BYTES):
            window = tail + chunk
            found.update(
                (int(m.group(2)) - 1, col_index(m.group(1).decode())) for m in pattern.finditer(window)
            )
            tail = window[-512:]  # a tag cut at the border is found in the next window (the set dedupes)
    return found


def apply_percent(grid: np.ndarray, cells: set[tuple[int, int]]) -> None:
    """A number in a percent cell becomes the text Excel shows: 0.95 → "95%"."""
    for r, c in cells:
        if r < grid.shape[0] and c < grid.shape[1]:
            v = grid[r, c]
            if isinstance(v, float) and not isinstance(v, bool):
                grid[r, c] = cell_to_text(round(v * 100, 10)) + "%"
