"""merge_review.xlsx written for a person: 合并审核 (one row per candidate pair, the CONTRACT §5 columns first, a 决定
drop-down), 差异模式 (one row per difference pattern: a decision there covers its pairs left blank), 填写说明. Pairs
past a sheet (xlsx_out.SHEET_ROWS: ≈ 1.2 pairs per input row) go on over 合并审核(2), … (差异模式(2), … likewise).
Written directly (_write_direct: rows rendered a column at a time by pipelines/common/xlsx_table.py around a skeleton
xlsxwriter draws), the same bytes as xlsxwriter writes them (_write_workbook: frames the direct path does not know,
and the tests' reference). Read back by review_read.py; what decisions become is pipelines/dedupe/decisions.py.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format

from pipelines.common import xlsx_out, xlsx_table
from pipelines.common.formulas import neutralize
from pipelines.common.xlsx_numbering import (
    BlankColumn,
    BlockNumbers,
    CodedColumn,
    Column,
    NotStreamed,
    StringTable,
)
from pipelines.common.xlsx_out import FIXED_CREATED, continued_name
from pipelines.common.xlsx_rows import RowBlockSheet, add_block_sheet, fast_shared_strings
from pipelines.dedupe import ordering
from pipelines.dedupe.candidates import sort_candidates
from pipelines.dedupe.ordering import Coded, ReviewOrder
from pipelines.dedupe.review_coded import (
    FOUND_TEXTS,
    GroupLabels,
    _direct_pair_columns,
    _direct_pattern_columns,
    _neutralized,
)
from pipelines.dedupe.review_layout import (
    _DECISION_COL,
    _OPTIONS,
    _REVIEW_WIDTHS,
    _USED_COLUMNS,
    _VALIDATION,
    GUIDE_SHEET,
    LIKELY,
    PATTERN_COLUMNS,
    PATTERN_SHEET,
    POSSIBLE,
    REVIEW_COLUMNS,
    REVIEW_EXTRA_COLUMNS,
    REVIEW_SHEET,
    _guide,
)

# Re-exported: callers import the layout and the reader from here (they live in review_layout, review_read).
from pipelines.dedupe.review_layout import DECISIONS as DECISIONS
from pipelines.dedupe.review_layout import PROMOTE as PROMOTE
from pipelines.dedupe.review_layout import ReviewError as ReviewError
from pipelines.dedupe.review_read import decision_of as decision_of
from pipelines.dedupe.review_read import read_review as read_review


def _cells(values: list[Any], neutral: dict[str, str]) -> list[str | float]:
    """One column as written, cell by cell (the general case: a column with None, NaN or mixed types):
    text neutralized, anything else as a number."""
    out: list[str | float] = []
    for value in values:
        if isinstance(value, str):
            text = neutral.get(value)
            if text is None:
                text = neutral[value] = str(neutralize(value))
            out.append(text)
        else:
            out.append(float(value))
    return out


def _text_cells(series: pd.Series) -> list[Any]:
    """A column of texts as written: each distinct text neutralized once (names and patterns repeat
    across pairs), then taken for every row. A column with anything but exact str goes cell by cell."""
    codes, uniques = pd.factorize(series)
    distinct = list(uniques)
    if len(codes) and (codes.min() < 0 or any(type(u) is not str for u in distinct)):
        return _cells(series.tolist(), {})
    return np.asarray(_neutralized(distinct), dtype=object)[codes].tolist()


def _number_cells(series: pd.Series, *, rounded: bool = False, blank_nan: bool = False) -> list[Any]:
    """A numeric column as floats (rounded half to even, as round() does; NaN as "" when blank_nan);
    a column of another dtype goes cell by cell, as before."""
    if series.dtype.kind not in "fiu":
        values = series.tolist()
        if rounded:
            values = [int(round(v)) for v in values]
        if blank_nan:
            values = ["" if pd.isna(v) else v for v in values]
        return _cells(values, {})
    numbers = series.to_numpy(dtype=np.float64)
    if rounded:
        if not np.isfinite(numbers).all():
            raise ValueError("cannot round a missing or infinite score")  # as int(round(nan)) refuses
        numbers = np.rint(numbers) + 0.0  # + 0.0: -0.0 becomes 0.0, as int() makes it
    if not blank_nan:
        return numbers.tolist()
    out = np.full(len(numbers), "", dtype=object)
    present = ~np.isnan(numbers)
    out[present] = numbers[present].tolist()
    return out.tolist()


def _pair_columns(cands: pd.DataFrame, groups: Mapping[str, str]) -> list[list[str | float]]:
    """The pairs sheet's cells column by column, in REVIEW_COLUMNS + REVIEW_EXTRA_COLUMNS order without
    决定: plain lists of exact str and float, a column at a time (no per-row Python but the final take)."""
    text = [_text_cells(cands[c]) for c in ("id_a", "name_a", "id_b", "name_b", "reason", "pattern")]
    codes, uniques = pd.factorize(cands["pattern_group"])
    if len(codes) and codes.min() < 0:
        raise KeyError("pattern_group")  # a pair without a pattern group has no 分组
    group = np.asarray(_neutralized([groups[g] for g in uniques]), dtype=object)[codes].tolist()
    likely = cands["likely"] if "likely" in cands.columns else pd.Series(True, index=cands.index)
    if likely.dtype == bool:
        shown = np.where(likely.to_numpy(), LIKELY, POSSIBLE).astype(object).tolist()
    else:
        shown = [LIKELY if v else POSSIBLE for v in likely.tolist()]
    return [
        *text[:4],
        _number_cells(cands["score"], rounded=True),
        text[4],
        text[5],
        group,
        *(_text_cells(cands[c]) for c in ("unit_a", "unit_b", "level2")),
        _number_cells(cands["name_score"]),
        _number_cells(cands["definition_score"], blank_nan=True),
        shown,
    ]


def _validated_rows(n: int) -> int:
    """The last row of a sheet's 决定 drop-down: at least 1000 rows down, never past the sheet."""
    return min(max(n, 1000), xlsx_out.SHEET_ROWS - 1)


def _write_pairs(
    sheets: list[RowBlockSheet],
    spans: list[tuple[int, int]],
    cands: pd.DataFrame,
    groups: Mapping[str, str],
    fmt: dict[str, Format],
    body: bool = True,
) -> None:
    """The pairs on `sheets`, sheet k holding rows spans[k] of the candidates, each with the header
    (without body: all but the pairs' cells, for _write_direct)."""
    headers = (*REVIEW_COLUMNS, *REVIEW_EXTRA_COLUMNS)
    # Every cell at once (shared strings still numbered row by row, left to right, sheet after sheet);
    # the 决定 column is a formatted blank. An empty candidate frame may carry no columns at all.
    columns: list[list[Any]] = list(_pair_columns(cands, groups)) if len(cands) and body else []
    if columns:
        columns.insert(_DECISION_COL, [None] * len(cands))
    styles: list[Format | None] = [None] * len(headers)
    styles[_DECISION_COL] = fmt["decide"]
    for ws, (a, z) in zip(sheets, spans, strict=True):
        for col, (title, width) in enumerate(zip(headers, _REVIEW_WIDTHS, strict=True)):
            ws.write_string(0, col, title, fmt["head"])
            ws.set_column(col, col, width, fmt["wrap"] if title == "理由" else None)
        if z > a and columns:
            ws.write_block(1, 0, [c[a:z] if len(spans) > 1 else c for c in columns], styles)
        last = max(z - a, 1)
        ws.data_validation(1, _DECISION_COL, _validated_rows(last), _DECISION_COL, _VALIDATION)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, last, len(headers) - 1)


def _pattern_columns(
    cands: pd.DataFrame, groups: Mapping[str, str], found: Coded | None = None, complete: bool = False
) -> list[list[Any]]:
    """The patterns sheet's cells: one row per pattern in order of first appearance (the pairs are sorted
    by pattern), with its group, its number of pairs and its first pair as the example. complete: the
    caller knows these columns hold no missing value (_direct: its pair columns are all texts), so they
    are not looked over for one (1M rows: ≈ 0.5 s of isna over 4 × 1.34M objects)."""
    shown: list[str] | None = None
    if not complete and (
        cands["pattern"].isna().any() or cands[["pattern_group", "name_a", "name_b"]].isna().any(axis=None)
    ):  # groupby's rules for them
        summary = cands.groupby("pattern", sort=False).agg(
            group=("pattern_group", "first"),
            count=("pattern", "size"),
            example_a=("name_a", "first"),
            example_b=("name_b", "first"),
        )
        patterns, counts = summary.index.tolist(), summary["count"].tolist()
        group, example_a, example_b = (summary[c].tolist() for c in ("group", "example_a", "example_b"))
    else:  # in order of first appearance, as groupby(sort=False); the sort's codes where it made them
        codes, uniques = (found or {}).get("pattern") or pd.factorize(cands["pattern"])
        seen = np.maximum.accumulate(np.r_[-1, codes])
        firsts = np.flatnonzero(seen[1:] > seen[:-1])  # the row where each pattern first appears
        patterns, counts = list(uniques), np.bincount(codes, minlength=len(uniques)).tolist()
        group, example_a, example_b = (
            _at_rows(cands, c, found, firsts) for c in ("pattern_group", "name_a", "name_b")
        )
        coded = (found or {}).get("pattern_group")
        labels = GroupLabels.by_position(groups, coded)
        if labels is not None and coded is not None:  # each pattern's group by the sort's code: no lookups
            shown = np.asarray(labels, dtype=object)[coded[0][firsts]].tolist()
    return [
        [groups[g] for g in group] if shown is None else shown,
        _neutralized([str(p) for p in patterns]),
        [int(n) for n in counts],
        _neutralized([f"{b} → {a}" for a, b in zip(example_a, example_b, strict=True)]),
        [None] * len(patterns),
    ]


def _at_rows(cands: pd.DataFrame, column: str, found: Coded | None, rows: np.ndarray) -> list[Any]:
    """A column's values at `rows` of the sorted pairs: from the sort's factorization where it made one
    (the frame may not hold the column then), else from the frame."""
    if found and column in found:
        codes, distinct = found[column]
        return np.asarray(distinct, dtype=object)[codes[rows]].tolist()
    return cands[column].to_numpy(dtype=object)[rows].tolist()


def _write_patterns(
    sheets: list[RowBlockSheet],
    spans: list[tuple[int, int]],
    columns: list[list[Any]],
    fmt: dict[str, Format],
    body: bool = True,
) -> None:
    """The patterns (_pattern_columns, or none) on `sheets`, sheet k holding rows spans[k] (without
    body: all but the patterns' cells)."""
    for ws, (a, z) in zip(sheets, spans, strict=True):
        for col, (title, width) in enumerate(zip(PATTERN_COLUMNS, (8, 24, 8, 50, 8), strict=True)):
            ws.write_string(0, col, title, fmt["head"])
            ws.set_column(col, col, width)
        if columns and body:
            ws.write_block(1, 0, [c[a:z] for c in columns], [None, None, None, None, fmt["decide"]])
        if columns:
            ws.data_validation(1, 4, _validated_rows(z - a), 4, _VALIDATION)
        ws.freeze_panes(1, 0)


def review_order(candidates: pd.DataFrame) -> ReviewOrder:
    """What write_merge_review computes first — the pairs' order and their text columns factorized — for a
    caller with a core idle before it writes the file (the report, while the library page's child runs)."""
    return ordering.review_order(candidates, FOUND_TEXTS)


def write_merge_review(candidates: pd.DataFrame, path: Path, known: ReviewOrder | None = None) -> Path:
    """Write reports/Y/merge_review.xlsx: pairs (first sheet, CONTRACT §5 columns first), patterns, guide.

    Deterministic bytes: fixed workbook properties, rows sorted by pattern. The 决定 cells carry a drop-down
    list 合并/不合并/设为共性指标; a decision on the 差异模式 sheet applies to every pair of that pattern left blank.
    `known`: review_order(candidates), made earlier (the same bytes either way).
    """
    return prepare_merge_review(candidates, known).write(path)


@dataclass
class PreparedReview:
    """merge_review.xlsx made up to the numbering of its texts (prepare_merge_review), for a caller with a core
    idle before it can write the file: the coded columns and the skeleton (direct), or — where the direct
    path does not apply — the sorted pairs for xlsxwriter."""

    direct: _Direct | None
    cands: pd.DataFrame | None
    groups: Mapping[str, str]

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.xlsx")  # a rerun after a killed writer reuses the name
        try:
            if self.direct is None:
                assert self.cands is not None
                _write_workbook(tmp, self.cands, self.groups)
            else:
                self.direct.write(tmp)
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)  # nothing half-written is left beside the reports
        return path


def prepare_merge_review(
    candidates: pd.DataFrame, known: ReviewOrder | None = None, whole: bool = False, streamed: bool = False
) -> PreparedReview:
    """merge_review.xlsx's pairs sorted and coded (PreparedReview); `known`: review_order(candidates);
    `whole`: the sorted copy with every column written (xlsxwriter's path reads them all); `streamed`: packed
    理由 read from their chunks as they are written, not held (review_reasons: ≈ 220 MiB less at 1M rows for
    ≈ 1.4 s more CPU — for a caller short of memory, not of time)."""
    # A sorted copy of the columns written (the sort's take of the frame's other columns is wasted) — but for
    # the text columns the order factorized (known.seen): those the direct path reads as codes, so the copy
    # holds no text. (1M rows: no take of 1.4M × 9 references, each a reference count written into a page
    # the library page's child shares while this runs beside it.)
    used = [c for c in candidates.columns if c in _USED_COLUMNS]
    found: Coded = {}  # the text columns the sort factorized, as they read sorted
    if len(candidates) and known is None:
        known = review_order(candidates)
    light = not whole and known is not None and all(c in known.seen for c in used if c in FOUND_TEXTS)
    frame = candidates[[c for c in used if c not in FOUND_TEXTS] if light else used]
    cands = sort_candidates(frame, found, known) if len(candidates) else candidates
    firsts = found["pattern_group"][1] if found else pd.unique(cands["pattern_group"]) if len(cands) else []
    groups = GroupLabels(firsts)
    direct = _direct(cands, groups, found, streamed)
    if direct is None and light:  # xlsxwriter writes every cell from the frame: sorted again, whole
        return prepare_merge_review(candidates, None, whole=True, streamed=streamed)
    # The sorted copy and the sort's codes die here, before the rows are numbered and written: the coded
    # columns are all the writing reads (1M rows' 1.34M pairs: ≈ 150 MiB off its peak).
    return PreparedReview(direct, cands if direct is None else None, groups)


def _write_workbook(
    tmp: Path | io.BytesIO,
    cands: pd.DataFrame,
    groups: Mapping[str, str],
    pattern_columns: list[list[Any]] | None = None,
    body: bool = True,
) -> tuple[xlsxwriter.Workbook, dict[str, Format]]:
    """The workbook by xlsxwriter (RowBlockSheet bodies); without body its skeleton for _write_direct:
    everything but the pair and pattern rows, in memory."""
    options = _OPTIONS if body else {**_OPTIONS, "in_memory": True}
    wb = fast_shared_strings(xlsxwriter.Workbook(tmp if isinstance(tmp, io.BytesIO) else str(tmp), options))
    wb.set_properties({"title": "指标合并审核", "author": "indicators", "created": FIXED_CREATED})
    fmt = {
        "head": wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "decide": wb.add_format({"bg_color": "#FFF2CC", "valign": "top"}),
    }
    if pattern_columns is None:
        pattern_columns = _pattern_columns(cands, groups) if len(cands) else []
    pair_spans = xlsx_out.sheet_spans(len(cands))
    pattern_spans = xlsx_out.sheet_spans(len(pattern_columns[0]) if pattern_columns else 0)
    # Sheets in this order: the pairs' (the first one first: CONTRACT §5), the patterns', the guide.
    pairs = [add_block_sheet(wb, continued_name(REVIEW_SHEET, k)) for k in range(1, len(pair_spans) + 1)]
    patterns = [
        add_block_sheet(wb, continued_name(PATTERN_SHEET, k)) for k in range(1, len(pattern_spans) + 1)
    ]
    for ws in (*pairs, *patterns):
        ws.compact = True  # no implied cell references: a third less in the repo
    _write_pairs(pairs, pair_spans, cands, groups, fmt, body)
    _write_patterns(patterns, pattern_spans, pattern_columns, fmt, body)
    gs = wb.add_worksheet(GUIDE_SHEET)
    gs.set_column(0, 0, 100)
    for r, text in enumerate(_guide(len(cands), len(pairs), len(patterns))):
        gs.write_string(r, 0, text, fmt["wrap"])
    if not body and len(cands):
        # The formats numbered in the order the bodies would first use them: 理由's column format (its
        # <col>), the header, the 决定 blanks (only in the bodies).
        for name in ("wrap", "head", "decide"):
            fmt[name]._get_xf_index()
    wb.close()
    return wb, fmt


# --------------------------------------------------------------------------------------------------
# Writing directly (the same bytes as _write_workbook, a column at a time: pipelines/common/xlsx_table.py)
# --------------------------------------------------------------------------------------------------
def _write_direct(
    tmp: Path, cands: pd.DataFrame, groups: Mapping[str, str], found: Coded | None = None
) -> bool:
    """merge_review.xlsx with its pair and pattern rows rendered by xlsx_table around an xlsxwriter
    skeleton: the bytes _write_workbook writes, with ≈ 1.6x less CPU and less memory at 300k pairs. False (nothing
    written) when a column holds anything but what the fast path knows (missing or non-text values in a
    text column, a missing score, an over-long text, …): _write_workbook then writes it, or refuses it,
    as always."""
    direct = _direct(cands, groups, found)
    if direct is None:
        return False
    direct.write(tmp)
    return True


def _direct(
    cands: pd.DataFrame, groups: Mapping[str, str], found: Coded | None = None, streamed: bool = False
) -> _Direct | None:
    """What _write_direct writes, coded (None where the fast path does not apply): nothing of `cands` is
    kept, so the caller can let the sorted frame go before the rows are numbered and written."""
    pairs = _direct_pair_columns(cands, groups, found, streamed) if len(cands) else []
    if pairs is None:
        return None
    # complete: _direct_pair_columns refused any missing or non-text value in these columns
    pattern_columns = _pattern_columns(cands, groups, found, complete=True) if len(cands) else []
    patterns = _direct_pattern_columns(pattern_columns) if pattern_columns else []
    if patterns is None:
        return None
    skeleton_file = io.BytesIO()
    wb, fmt = _write_workbook(skeleton_file, cands, groups, pattern_columns, body=False)
    _style(pairs, patterns, fmt)
    n_patterns = len(pattern_columns[0]) if pattern_columns else 0
    # the skeleton's shared strings (sorted at close)
    return _Direct(
        skeleton_file.getvalue(), wb.str_table.string_array, pairs, patterns, len(cands), n_patterns
    )


@dataclass
class _Direct:
    """merge_review.xlsx coded: the xlsxwriter skeleton and the pair and pattern sheets' columns."""

    skeleton: bytes
    old_texts: list[str]
    pairs: list[Column]
    patterns: list[Column]
    n_pairs: int
    n_patterns: int

    def write(self, tmp: Path) -> None:
        strings = StringTable()
        try:
            sheets = _numbered(strings, self.pairs, self.patterns, self.n_pairs, self.n_patterns)
        except NotStreamed:  # a streamed 理由 equals another cell's text: numbered with the texts held
            for column in self.pairs:
                if isinstance(column, CodedColumn) and getattr(column.values, "streamed", False):
                    column.values = column.values.held()  # type: ignore[attr-defined]
            strings = StringTable()
            sheets = _numbered(strings, self.pairs, self.patterns, self.n_pairs, self.n_patterns)
        guide = f"xl/worksheets/sheet{len(sheets) + 1}.xml"
        old_texts = self.old_texts

        def renumbered(xml: str) -> str:
            return _SHARED_CELL.sub(lambda m: f"{m[1]}{strings.index[old_texts[int(m[2])]]}{m[3]}", xml)

        with zipfile.ZipFile(io.BytesIO(self.skeleton)) as package:
            shown = {name: package.read(name).decode() for name, *_ in sheets}
            guide_xml = package.read(guide).decode()

        def sheet_xml(name: str, columns: list[Column], numbers: BlockNumbers, span: tuple[int, int]) -> Any:
            head, tail = renumbered(shown.pop(name)).split("</sheetData>")
            a, z = span
            if z > a:
                head = _DIMENSION.sub(rf"\g<1>{z - a + 1}\g<2>", head, count=1)
            yield head
            yield from xlsx_table.body_xml(columns, numbers.numbers, a, z, 2, strings)
            yield "</sheetData>" + tail

        parts: dict[str, Any] = {sheet[0]: sheet_xml(*sheet) for sheet in sheets}
        parts[guide] = [renumbered(guide_xml)]
        parts["xl/sharedStrings.xml"] = xlsx_table.shared_strings_xml(strings)
        xlsx_table.write_package(tmp, self.skeleton, parts)


def _style(pairs: list[Column], patterns: list[Column], fmt: dict[str, Format]) -> None:
    """The cell styles the skeleton numbered: the 决定 blanks' format, 理由's column format."""
    decide = f' s="{fmt["decide"].xf_index}"'
    for columns in (pairs, patterns):
        for k, column in enumerate(columns):
            if isinstance(column, BlankColumn):
                columns[k] = BlankColumn(decide)
    reason = pairs[REVIEW_COLUMNS.index("理由")] if pairs else None
    if isinstance(reason, CodedColumn):
        reason.style = f' s="{fmt["wrap"].xf_index}"'


def _numbered(
    strings: StringTable, pairs: list[Column], patterns: list[Column], n_pairs: int, n_patterns: int
) -> list[tuple[str, list[Column], BlockNumbers, tuple[int, int]]]:
    """Every pair and pattern sheet (its part, columns, shared-string numbers, rows) with their texts
    numbered as the cell-by-cell writes number them: each sheet's header, then its rows; the guide's
    texts after."""
    sheets: list[tuple[str, list[Column], BlockNumbers, tuple[int, int]]] = []
    pair_spans, pattern_spans = xlsx_out.sheet_spans(n_pairs), xlsx_out.sheet_spans(n_patterns)
    headers = [*REVIEW_COLUMNS, *REVIEW_EXTRA_COLUMNS]
    for title, columns, spans in (
        (headers, pairs, pair_spans),
        (list(PATTERN_COLUMNS), patterns, pattern_spans),
    ):
        for a, z in spans:
            for text in title:
                strings.add(text)
            numbers = strings.number_block(columns, a, z)
            sheets.append((f"xl/worksheets/sheet{len(sheets) + 1}.xml", columns, numbers, (a, z)))
    for text in _guide(n_pairs, len(pair_spans), len(pattern_spans)):
        strings.add(text)
    strings.finish()
    return sheets


_SHARED_CELL = re.compile(r'( t="s"><v>)(\d+)(</v>)')
_DIMENSION = re.compile(r'(<dimension ref="[A-Z]+1:[A-Z]+)1("/>)')
