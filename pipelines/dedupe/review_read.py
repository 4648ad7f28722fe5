"""merge_review.xlsx read back once a person has filled it in: every pair sheet (合并审核, 合并审核(2), …) and every
差异模式 sheet, each problem located by sheet and Excel row in Chinese."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from pipelines.common.formulas import restore_neutralized
from pipelines.dedupe.review_layout import (
    _DECISION_COL,
    PATTERN_SHEET,
    PROMOTE,
    REVIEW_COLUMNS,
    REVIEW_SHEET,
    ReviewError,
)
from schemas.text import clean_text


def decision_of(raw: object) -> str:
    """A 决定 cell as one of DECISIONS, "" when blank, "?" when not understood (Traditional forms accepted)."""
    text = clean_text("" if raw is None else str(raw)).replace(" ", "")
    return {
        "合并": "合并",
        "合併": "合并",
        "设为共性指标": PROMOTE,
        "設為共性指標": PROMOTE,
        "共性": PROMOTE,
        "共性指标": PROMOTE,
        "是": "合并",
        "不合并": "不合并",
        "不合併": "不合并",
        "否": "不合并",
    }.get(text, "?" if text else "")


def _cell_text(value: object) -> str:
    """A cell as text, with the neutralizing "'" of write_merge_review taken off again."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return restore_neutralized(str(value).strip())


def _read_sheet(ws: Any) -> tuple[list[str], list[tuple[int, list[object]]]]:
    rows = ws.iter_rows(values_only=True)
    try:
        header = [clean_text(_cell_text(v)).replace(" ", "") for v in next(rows)]
    except StopIteration:
        return [], []
    body = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        body.append((number, list(values)))
    return header, body


def _check_header(header: list[str], file: str, sheet: str, first: bool = True) -> None:
    expected = list(REVIEW_COLUMNS)
    if header[: len(expected)] == expected:
        return
    missing = [c for c in expected if c not in header]
    detail = (
        f"缺少列：{'、'.join(missing)}"
        if missing
        else f"前{len(expected)}列的顺序应为：{'、'.join(expected)}"
    )
    which = "第一个工作表" if first else "工作表"
    raise ReviewError(
        f"{file}：{which}“{sheet}”的表头不对，{detail}。请使用 indicators rebuild 生成的 merge_review.xlsx 填写"
    )


def _pair_rows(
    header: list[str], body: list[tuple[int, list[object]]], problems: list[str], sheet: str, where: str = ""
) -> list[dict[str, str]]:
    """The pairs of one pair sheet; `where` names a continuation sheet in the messages (“合并审核(2)”表)."""
    pattern_col = header.index("差异模式") if "差异模式" in header else None
    pairs = []
    for number, values in body:
        values = values + [None] * (len(header) - len(values))
        record = {name: _cell_text(values[k]) for k, name in enumerate(REVIEW_COLUMNS)}
        decision = decision_of(values[_DECISION_COL])
        if decision == "?":
            problems.append(
                f"{where}第{number}行“决定”填写为“{_cell_text(values[_DECISION_COL])}”，无法识别：请填写“合并”“不合并”或“设为共性指标”，未决定的留空"
            )
            continue
        if not record["指标名称A"] or not record["指标名称B"]:
            problems.append(f"{where}第{number}行缺少指标名称A或指标名称B")
            continue
        record["决定"] = decision
        record["差异模式"] = _cell_text(values[pattern_col]) if pattern_col is not None else ""
        record["row"] = str(number)
        record["sheet"] = sheet
        pairs.append(record)
    return pairs


_NUMBERED = re.compile(r"^(.*?)\s*[(（]\s*(\d+)\s*[)）]$")


def _continued_sheets(wb: Any, first: str, skip: Any = None) -> list[Any]:
    """The sheets first(2), first(3), … of a filled-in workbook in the order of their numbers (a clerk
    may have moved them; full-width brackets accepted); `skip`: a sheet already read."""
    found = []
    for ws in wb.worksheets:
        match = _NUMBERED.match(ws.title.strip())
        if ws is not skip and match and match.group(1) == first and int(match.group(2)) >= 2:
            found.append((int(match.group(2)), ws))
    return [ws for _, ws in sorted(found, key=lambda t: t[0])]


def _pattern_decisions(ws: Any, problems: list[str], decisions: dict[str, str]) -> None:
    header, body = _read_sheet(ws)
    if "差异模式" not in header or "决定" not in header:
        return
    pc, dc = header.index("差异模式"), header.index("决定")
    for number, values in body:
        values = values + [None] * (len(header) - len(values))
        decision = decision_of(values[dc])
        if decision == "?":
            problems.append(
                f"“{ws.title}”表第{number}行“决定”填写为“{_cell_text(values[dc])}”，无法识别：请填写“合并”“不合并”或“设为共性指标”，或留空"
            )
        elif decision:
            decisions[_cell_text(values[pc])] = decision


def read_review(review_xlsx: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The pair rows (with decision, and the sheet and row they are on) and the pattern-level decisions of
    a filled-in merge_review.xlsx: the first sheet's pairs, then those of 合并审核(2), … in order."""
    file = Path(review_xlsx).name
    try:
        wb = load_workbook(review_xlsx, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise ReviewError(f"{file}：无法读取（不是有效的 xlsx 文件）：{exc}") from exc
    problems: list[str] = []
    try:
        first = wb.worksheets[0]
        header, body = _read_sheet(first)
        _check_header(header, file, first.title)
        pairs = _pair_rows(header, body, problems, first.title)
        for ws in _continued_sheets(wb, REVIEW_SHEET, skip=first):
            more_header, more_body = _read_sheet(ws)
            _check_header(more_header, file, ws.title, first=False)
            pairs += _pair_rows(more_header, more_body, problems, ws.title, f"“{ws.title}”表")
        pattern_decisions: dict[str, str] = {}
        if PATTERN_SHEET in wb.sheetnames:
            for ws in [wb[PATTERN_SHEET], *_continued_sheets(wb, PATTERN_SHEET)]:
                _pattern_decisions(ws, problems, pattern_decisions)
            if pattern_decisions and "差异模式" not in header:
                problems.append(f"“{PATTERN_SHEET}”表有决定，但第一个工作表缺少“差异模式”列，无法对应到各行")
    finally:
        wb.close()
    if problems:
        raise ReviewError(f"{file}：" + "；".join(problems))
    return pairs, pattern_decisions
