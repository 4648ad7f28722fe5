"""Picked library indicators in a pre-filled workbook (pipelines/store/prefill.py).

The pick file is what the browser page's basket exports (reports/<Y>/library.html): UTF-8 CSV with the
header `indicator_id,name` (name only informative); a plain list of ids, one per line, is read too, and
a file saved by Excel in GBK as well. An id the library does not know, or whose indicator is retired or
merged, stops the command (exit 2) with every such line named.

A picked indicator becomes a row of the sheet of its scope with the library's wording, its 库内编号 and
沿用; the required cells it leaves empty (the department's project, 功能分类科目编码, the target …) are the
cells the department must fill — validation names exactly those until they are filled.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.common.errors import UsageError
from pipelines.intake.template import shown_value
from schemas.text import compact
from schemas.vocab import Reference

# The indicator's fields a picked row takes; the project, function code and target are the department's.
PICKED_FIELDS = (
    "level1", "level2", "name", "definition", "formula", "symbol", "unit", "nature", "keywords",
    "national_standard", "industry_standard", "standard_source", "indicator_source",
)  # fmt: skip
_HEADER_WORDS = {"indicator_id", "indicatorid", "id", "库内编号", "指标编号", "编号"}


@dataclass
class PickedRows:
    """(sheet kind, row, columns to fill) per picked indicator, in the pick file's order, and notes."""

    rows: list[tuple[str, dict[str, object], list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UsageError(f"选取文件 {path} 不是文本文件（应为浏览页面导出的 CSV，或每行一个库内编号）")


def read_pick_file(path: Path) -> list[tuple[int, str]]:
    """(line number, id) of every id in the file, first column of each line; a header line is skipped."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"找不到选取文件：{path}")
    text = _decode(path.read_bytes(), path)
    picks: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    for number, cells in enumerate(reader, 1):
        first = compact(cells[0]) if cells else ""
        if not first or first.startswith("#"):
            continue
        if number == 1 and first.lower() in _HEADER_WORDS:
            continue
        picks.append((number, first.upper()))
    return picks


def _problem(iid: str, indicators: pd.DataFrame) -> str:
    """Why an id cannot be picked ("" when it can)."""
    if iid not in indicators.index:
        return f"库内编号“{iid}”在指标库中不存在"
    record = indicators.loc[iid]
    name = f"{iid}“{record['name']}”"
    if record["status"] == "merged":
        return f"指标 {name} 已并入 {record['merged_into']}，请改选 {record['merged_into']}"
    if record["status"] != "active":
        year = record["retired_year"]
        when = f"已于 {int(year)} 年退出指标库" if year is not None and not pd.isna(year) else "已退出指标库"
        reason = f"（{record['retire_reason']}）" if record["retire_reason"] else ""
        return f"指标 {name} {when}{reason}，不能选取"
    return ""


def check_picks(path_label: str, picks: list[tuple[int, str]], indicators: pd.DataFrame) -> None:
    """UsageError naming every line whose id cannot be picked."""
    bad = [(n, p) for n, iid in picks if (p := _problem(iid, indicators))]
    if bad:
        lines = "；".join(f"第 {n} 行：{p}" for n, p in bad)
        raise UsageError(
            f"选取文件 {path_label} 中有 {len(bad)} 行不能使用：{lines}。"
            "请在最新发布的指标库浏览页面中重新选取并导出，或删除这些行后重新运行"
        )


def picked_row(ref: Reference, kind: str, record: pd.Series) -> tuple[dict[str, object], list[str]]:
    """A picked indicator as a row of sheet `kind` and the required columns it leaves empty."""
    row: dict[str, object] = {}
    for spec in ref.columns[kind]:
        if spec.column in PICKED_FIELDS:
            value = str(record.get(spec.column, "") or "")
            row[spec.column] = shown_value(ref, spec.vocab, value) if spec.vocab else value
    row |= {"include": "是", "change_type": "沿用", "library_id": str(record["indicator_id"])}
    missing = [s.column for s in ref.columns[kind] if s.required and not row.get(s.column)]
    return row, missing


def picked_rows(
    ref: Reference,
    indicators: pd.DataFrame,
    picks: list[tuple[int, str]],
    have: set[str],
    *,
    kind_of: Mapping[str, str],
) -> PickedRows:
    """The rows of the picked indicators (checked with check_picks); an id the department already uses,
    or picked twice, once."""
    out = PickedRows()
    seen = set(have)
    for number, iid in picks:
        if iid in seen:
            if iid in have:
                out.notes.append(f"选取文件第 {number} 行的 {iid} 已在本部门的在用指标中，未重复添加")
            continue
        seen.add(iid)
        record = indicators.loc[iid]
        kind = kind_of.get(str(record["scope"]), "project")
        row, missing = picked_row(ref, kind, record)
        out.rows.append((kind, row, missing))
    return out
