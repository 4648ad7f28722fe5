"""Which rows below the header are data: notes and signatures (填表人、备注…), header rows repeated below
(printed tables, pasted blocks) and rows holding only a 序号 are set aside, each with its reason."""

from __future__ import annotations

import re

import numpy as np

from schemas.text import cell_to_text, compact

SkippedRows = list[tuple[int, str]]  # (Excel row, why)
# Rows that are notes or signatures, not data: they start with one of these words. The short words must be
# followed by a colon, a number or nothing ("注：…", "注1", "说明") so that "注册企业数量" stays data.
_NOTES_WORDS = (
    "填表人", "填报人", "制表人", "审核人", "复核人", "审批人", "经办人", "单位负责人", "财务负责人", "部门负责人", "负责人",
    "分管领导", "联系人", "联系电话", "填报日期", "填表日期", "制表日期", "报送日期", "填报单位",
)  # fmt: skip
_NOTES_SHORT_WORDS = ("注意", "注", "备注", "说明", "附注", "日期", "签字", "盖章")
_NOTES_START = re.compile(
    "^(?:" + "|".join(_NOTES_WORDS) + "|(?:" + "|".join(_NOTES_SHORT_WORDS) + r")(?=$|[:\d(、.]))"
)
# First characters of those words as typed (simplified or traditional), a cheap pre-filter per row.
_NOTES_FIRST_CHARS = frozenset(w[0] for w in _NOTES_WORDS + _NOTES_SHORT_WORDS) | frozenset(
    "註備說審複經單財負聯簽蓋製塡"
)
_FEW_CELLS = 3  # rows with at most this many cells are looked at one by one (a 序号 alone, a signature)


def data_rows(
    raw: np.ndarray, grid: np.ndarray, header: int, columns: dict[str, int]
) -> tuple[np.ndarray, SkippedRows]:
    """0-based indices of the data rows below the header, and the rows set aside with a reason.

    Emptiness is judged on the cells as written in `raw` (a row covered only by a merged range above it
    is empty); `grid` has merges filled. `columns`: English column → its column.
    """
    body = raw[header + 1 :]
    if not body.size:
        return np.empty(0, dtype=np.int64), []
    nonempty = body != ""
    counts = nonempty.sum(axis=1)
    candidates = np.flatnonzero(counts > 0)
    keep, skipped = _notes_and_number_only_rows(
        body, nonempty, counts, candidates, header, columns.get("seq")
    )
    rows = candidates[keep]
    header_text = {c: grid[header, c] for c in columns.values()}
    if len(rows) and len(header_text) >= 2:
        repeated = _repeated_header(body, rows, header_text)
        skipped += [(header + 2 + r, "重复的表头行") for r in rows[repeated].tolist()]
        rows = rows[~repeated]
    skipped.sort()
    return rows + header + 1, skipped


def _notes_and_number_only_rows(
    body: np.ndarray,
    nonempty: np.ndarray,
    counts: np.ndarray,
    candidates: np.ndarray,
    header: int,
    seq_col: int | None,
) -> tuple[np.ndarray, SkippedRows]:
    """Which candidate rows to keep (rows of spaces only are dropped unsaid), and the notes rows and
    序号-only rows set aside. Only rows with few cells or starting like a note are looked at one by one."""
    keep = np.ones(len(candidates), dtype=bool)
    skipped: SkippedRows = []
    first_col = nonempty[candidates].argmax(axis=1)
    firsts = body[candidates, first_col].tolist()
    cand_counts = counts[candidates].tolist()
    for i, (first, n_cells) in enumerate(zip(firsts, cand_counts, strict=True)):
        if n_cells > _FEW_CELLS and not (first.__class__ is str and first.lstrip()[:1] in _NOTES_FIRST_CHARS):
            continue
        r = int(candidates[i])
        row_texts = [t for t in (cell_to_text(v) for v in body[r] if v != "") if t]
        if not row_texts:
            keep[i] = False  # only spaces: an empty row
            continue
        notes = [t for t in row_texts if _NOTES_START.match(compact(t))]
        if notes and _NOTES_START.match(compact(row_texts[0])) and len(notes) * 2 >= len(row_texts):
            keep[i] = False
            skipped.append((header + 2 + r, f"备注或签名行：{row_texts[0][:30]}"))
        elif n_cells == 1 and seq_col is not None and int(first_col[i]) == seq_col:
            keep[i] = False
            skipped.append((header + 2 + r, "只有序号，没有指标内容"))
    return keep, skipped


def _repeated_header(body: np.ndarray, rows: np.ndarray, header_text: dict[int, object]) -> np.ndarray:
    """Per data row, whether it repeats the header: at least half the header's cells (and two) equal."""
    # One elementwise comparison of the rows' cells under the header's non-empty cells (a fancy index and
    # a comparison per column cost more than the comparisons themselves).
    shown = [(c, text) for c, text in header_text.items() if text != ""]
    if not shown:
        return np.zeros(len(rows), dtype=bool)  # no cell to repeat (at least two must)
    texts = np.empty(len(shown), dtype=object)
    texts[:] = [text for _, text in shown]
    columns = np.array([c for c, _ in shown], dtype=np.intp)
    same = (body[np.ix_(rows, columns)] == texts).sum(axis=1)
    return same >= max(2, (len(header_text) + 1) // 2)
