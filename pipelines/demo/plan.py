"""Planning one demo year: which rows each department submits, with which change type and 库内编号.

Ids: a 沿用/修改/退出 row must name the 库内编号 of the previous release, which only exists after that
release was built. So a year is planned on its own, after the previous rebuild, with a lookup
(name, 部门编码) → indicator_id into the published library (build.lookup_from_indicators).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.demo.catalogue import DEMO_YEARS, Line, catalogue

Lookup = Callable[[str, str], "str | None"]
# (部门编码, 库内编号, 项目名称) → the 历史值 a pre-filled workbook gives the row ("" when none): later years'
# rows carry the published actual values (pipelines/demo/self_eval.prefilled_history).
History = Callable[[str, str, str], str]


@dataclass
class PlannedRow:
    ref: str
    dept_code: str
    kind: str  # core | project | common
    fields: dict[str, str]  # English column → intended value (Simplified, before any department habit)
    outcome: str  # library | noncore | excluded | rejected
    codes: tuple[str, ...]  # the row errors it is meant to get (rejected rows)
    story: str
    id_missing: bool = False  # 修改/退出/沿用 whose id the lookup did not know
    # Where it was written (filled by the writer).
    file: str = ""
    sheet: str = ""
    excel_row: int = 0


@dataclass
class DemoYear:
    year: int
    directory: Path
    files: list[Path] = field(default_factory=list)  # every file written, readable or not
    unreadable: list[str] = field(default_factory=list)  # file names meant to be refused (F001)
    rows: list[PlannedRow] = field(default_factory=list)
    # (部门编码, name) of indicators in the previous release that their department no longer submits.
    dropped: list[tuple[str, str]] = field(default_factory=list)

    def expected(self) -> pd.DataFrame:
        """One row per written data row: where it is, what it says, and the outcome it is meant to get."""
        columns = ["file", "sheet", "excel_row", "dept_code", "kind", "ref", "name", "change_type",
                   "change_reason", "library_id", "outcome", "codes", "story"]  # fmt: skip
        records = [
            {
                "file": r.file,
                "sheet": r.sheet,
                "excel_row": r.excel_row,
                "dept_code": r.dept_code,
                "kind": r.kind,
                "ref": r.ref,
                "name": r.fields["name"],
                "change_type": r.fields.get("change_type", ""),
                "change_reason": r.fields.get("change_reason", ""),
                "library_id": r.fields.get("library_id", ""),
                "outcome": r.outcome,
                "codes": ";".join(r.codes),
                "story": r.story,
            }
            for r in self.rows
        ]
        return pd.DataFrame(records, columns=columns)

    def story_zh(self) -> list[str]:
        """What this year's sample submissions are meant to show, one line per notable row or file."""
        departments = catalogue().departments
        lines = [f"{departments[r.dept_code].name}：{r.fields['name'] or '（未填名称）'} —— {r.story}"
                 for r in self.rows if r.story]  # fmt: skip
        lines += [f"{name}：不是可读取的 xlsx 工作簿，整个文件不能处理" for name in self.unreadable]
        lines += [f"{departments[code].name}：{name} —— 本年度不再填报（未说明退出），无部门使用，自动退出"
                  for code, name in self.dropped]  # fmt: skip
        missing = [r for r in self.rows if r.id_missing]
        lines += [
            f"{departments[r.dept_code].name}：{r.fields['name']} —— 指标库中找不到库内编号" for r in missing
        ]
        return lines


def year_offset(year: int, first_year: int = DEMO_YEARS[0]) -> int:
    offset = year - first_year + 1
    if offset not in (1, 2, 3):
        raise ValueError(f"示例数据只有三年：{first_year}–{first_year + 2}，没有 {year} 年")
    return offset


def _expect(line: Line) -> tuple[str, tuple[str, ...]]:
    if line.expect in ("library", "noncore", "excluded"):
        return line.expect, ()
    return "rejected", tuple(filter(None, line.expect.split(";")))


def _active_refs(lines: Sequence[Line], offset: int) -> tuple[set[str], dict[str, str]]:
    """After the releases before `offset`: the refs in the library and active, and every ref's name as
    last published (a rejected rename leaves the old name; a retired indicator keeps its name)."""
    active: set[str] = set()
    published: dict[str, str] = {}
    for year in range(1, offset):
        seen: set[str] = set()
        for line in lines:
            if year not in line.years:
                continue
            seen.add(line.ref)
            outcome, _ = _expect(line)
            if outcome == "library" and not (line.change == "退出" and year - 1 not in line.years):
                active.add(line.ref)
                published[line.ref] = line.fields["name"]
            else:
                # Rejected (no usage this year), 退出, or never in the library (non-core, phase).
                active.discard(line.ref)
        active &= seen  # a silently dropped indicator is retired for want of a usage
    return active, published


def plan_year(
    year: int,
    lookup: Lookup | None = None,
    *,
    first_year: int = DEMO_YEARS[0],
    history: History | None = None,
) -> list[PlannedRow]:
    """The data rows every department submits for `year`, with change types and 库内编号 filled in; with
    `history`, the 历史值 of a row naming a 库内编号 is the pre-filled workbook's (where it has one)."""
    offset = year_offset(year, first_year)
    cat = catalogue()
    active, published = _active_refs(cat.lines, offset)
    rows = []
    for line in cat.lines:
        if offset not in line.years or offset not in cat.departments[line.dept_code].years:
            continue
        fields = {k: v.replace("{y}", str(year)) for k, v in line.fields.items()}
        fields["history"] = _history(fields["history"], year)
        outcome, codes = _expect(line)
        starts_here = offset - 1 not in line.years  # the first year of this way of writing it
        change = ""
        if line.change and starts_here:
            change = line.change
        elif line.ref in active:
            change = "沿用"
        elif outcome in ("library", "rejected") or starts_here:
            change = "新增"
        fields["change_type"] = change
        if change not in ("修改", "退出"):
            fields["change_reason"] = ""
        fields["library_id"] = ""
        story = line.story if starts_here or outcome in ("noncore", "excluded") else ""
        row = PlannedRow(line.ref, line.dept_code, line.kind, fields, outcome, codes, story)
        # Only an indicator that was published can be named by its id (a 修改 of a row never accepted
        # has none: the department gets R111, as in real life).
        if change in ("沿用", "修改", "退出") and line.ref in published and lookup is not None:
            found = lookup(published[line.ref], line.dept_code)
            fields["library_id"] = found or ""
            row.id_missing = not found
            prefilled = history(line.dept_code, found, fields.get("project", "")) if history and found else ""
            fields["history"] = prefilled or fields["history"]
        rows.append(row)
    return rows


def dropped_indicators(year: int, *, first_year: int = DEMO_YEARS[0]) -> list[tuple[str, str]]:
    """(部门编码, name) of last release's indicators that their department silently stops submitting."""
    offset = year_offset(year, first_year)
    cat = catalogue()
    active, published = _active_refs(cat.lines, offset)
    present = {line.ref for line in cat.lines if offset in line.years}
    departments = {line.ref: line.dept_code for line in cat.lines}
    return [
        (departments[ref], published[ref])
        for ref in sorted(active - present)
        if offset in cat.departments[departments[ref]].years
    ]


def _history(template: str, year: int) -> str:
    return re.sub(r"\{y-(\d)\}", lambda m: str(year - int(m.group(1))), template)
