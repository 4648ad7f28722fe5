"""Findings: every problem the product reports, located as Excel shows it, in Chinese, with a stable code.

The texts live in schemas/reference/finding_codes.csv; this module fills them in, groups them (one rule
broken 500 times is one entry with its first locations and a count).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field

from schemas.vocab import reference

SEVERITY_ORDER = {"file_error": 0, "row_error": 1, "warning": 2, "excluded": 3, "info": 4}
SEVERITY_ZH = {
    "file_error": "文件错误",
    "row_error": "行错误",
    "warning": "提示",
    "excluded": "不入库",
    "info": "说明",
}
GROUP_SAMPLE = 5  # locations shown per group before "等 N 处"


@dataclass(frozen=True, order=True, slots=True)
class Finding:
    """One problem, located. A 1M-row year holds ≈ 1M of them until its report: slots (no per-object
    dict: 112 bytes, not 208) and one shared string per file and sheet name (the rules' locations come
    from Arrow columns, a new str per finding: 1M copies of 10,000 file names and 5 sheet names, 214
    MiB) keep 1M rows' 1.04M findings ≈ 310 MiB smaller."""

    file: str
    code: str
    severity: str
    sheet: str = ""
    row: int | None = None  # the Excel row number, as the official sees it
    column: str = ""  # the Excel column letter(s)
    field: str = ""  # the Chinese header of that column
    value: str = ""
    message: str = ""  # the rule broken, filled in
    fix: str = ""

    def __post_init__(self) -> None:
        if type(self.file) is str:  # sys.intern takes exact str only
            object.__setattr__(self, "file", sys.intern(self.file))
        if type(self.sheet) is str:
            object.__setattr__(self, "sheet", sys.intern(self.sheet))

    def __getstate__(self) -> list[object]:
        return [getattr(self, name) for name in self.__slots__]

    def __setstate__(self, state: list[object] | dict[str, object]) -> None:
        # A dict: pickled before slots (a Dagster store's older output); set by name, never by position.
        named = state if isinstance(state, dict) else dict(zip(self.__slots__, state, strict=True))
        for name, value in named.items():
            object.__setattr__(self, name, value)

    @property
    def cell(self) -> str:
        """'C12', 'C', '12' or '' — the cell reference Excel shows."""
        if self.column and self.row:
            return f"{self.column}{self.row}"
        return self.column or (str(self.row) if self.row else "")

    @property
    def location_zh(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"{self.column} 列" + (f"（{self.field}）" if self.field else ""))
        elif self.field:
            parts.append(f"“{self.field}”")
        return "，".join(parts)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["cell"] = self.cell
        d["severity_zh"] = SEVERITY_ZH.get(self.severity, self.severity)
        return d


def make_finding(
    code: str,
    file: str,
    *,
    sheet: str = "",
    row: int | None = None,
    column: str = "",
    field: str = "",
    value: object = "",
    detail: object = "",
) -> Finding:
    """A Finding whose message and fix come from the catalogue, so every text has one home."""
    spec = reference().findings[code]
    value_text = "" if value is None else str(value)
    shown = value_text if len(value_text) <= 60 else value_text[:57] + "…"
    message = spec.rule_zh.format(value=shown, column=field, detail=detail)
    fix = spec.fix_zh.format(value=shown, column=field, detail=detail)
    return Finding(file, code, spec.severity, sheet, row, column, field, value_text, message, fix)


@dataclass
class FindingGroup:
    """Identical problems (same file, sheet, code, column and message) reported once with a count."""

    file: str
    sheet: str
    code: str
    severity: str
    field: str
    message: str
    fix: str
    count: int
    cells: list[str] = dataclass_field(default_factory=list)  # the first GROUP_SAMPLE cells
    first_row: int = 0  # the Excel row of its first cell: groups of one rule are listed top to bottom

    @property
    def cells_zh(self) -> str:
        return cells_texts(self.cells, [0, len(self.cells)], [self.count])[0]


def cells_texts(shown: list[str], bounds: list[int], counts: list[int]) -> list[str]:
    """Groups' cells as the review shows them (group k's cells: shown[bounds[k]:bounds[k + 1]], of
    counts[k] findings): its first cells, and how many there are beyond them; nothing where a group has no
    cell (about a file or a whole sheet: nothing to point at or count). For many groups at once (1M rows'
    detail table: 95k), from one list of cells."""
    return [
        ("、".join(shown[a:b]) + (f" 等 {n} 处" if n > b - a else "")) if b > a else ""
        for a, b, n in zip(bounds, bounds[1:], counts, strict=False)
    ]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (f.file, SEVERITY_ORDER.get(f.severity, 9), f.sheet, f.row or 0, f.column, f.code),
    )


def group_findings(findings: Iterable[Finding]) -> list[FindingGroup]:
    """One group per distinct problem. The message is part of the key: "项目“甲”缺少质量指标" and
    "项目“丙”缺少数量指标" are two problems, and a group's message must be true of every cell it lists."""
    groups: dict[tuple[str, str, str, str, str], FindingGroup] = {}
    for f in sort_findings(findings):
        key = (f.file, f.sheet, f.code, f.field, f.message)
        g = groups.get(key)
        if g is None:
            g = groups[key] = FindingGroup(
                f.file, f.sheet, f.code, f.severity, f.field, f.message, f.fix, 0, first_row=f.row or 0
            )
        g.count += 1
        if len(g.cells) < GROUP_SAMPLE and f.cell:
            g.cells.append(f.cell)
    return sorted(groups.values(), key=group_order)


def group_order(g: FindingGroup) -> tuple[object, ...]:
    """How groups are listed: by file, then errors first, sheet, code, column, first cell, message."""
    return (g.file, SEVERITY_ORDER.get(g.severity, 9), g.sheet, g.code, g.field, g.cells[:1], g.message)


def findings_by_file(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    """Findings grouped once by the file they name (not files × findings comparisons)."""
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.file, []).append(f)
    return out
