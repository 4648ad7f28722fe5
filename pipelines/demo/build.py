"""Sample submissions for `indicators demo`: three years of a fictional city's department workbooks.

What the demo must show is the library living through the years, so the sample data carries the changes a
finance bureau sees every autumn: 新增, 沿用, 修改 with reasons (a definition clarified, a unit changed, a
rename), 退出 with a reason, an indicator a department silently drops (auto-retired) and later brings back
(reactivated), the same core indicator submitted by two departments, 共性指标 repeated inside departments
(exactly, and through a synonym), a non-core and a phase-bound row, a few rows that must be rejected, and
one file per year that is not a readable workbook.

The content is data (pipelines/demo_data/*.csv: departments, projects, indicators with the year ranges,
change types and the outcome each row is meant to get); this module only plans a year and writes it the way
real officials fill the form — each department with its own habits (title rows, merged cells, shuffled
columns, header aliases, "≥95%" targets, numbers stored as text, percent-formatted cells, notes rows,
pre-2018 framework labels, full-width characters, a workbook entirely in Traditional Chinese). These are
"department" files, written here with xlsxwriter directly, not through the product's own writer.

Ids: a 沿用/修改/退出 row must name the 库内编号 of the previous release, which only exists after that
release was built. So a year is written on its own, after the previous rebuild, with a lookup
(name, 部门编码) → indicator_id into the published library (write_demo_year).

Deterministic: the same year and lookup give byte-identical files (fixed document properties, fixed zip
timestamps, no randomness).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import opencc
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.normalize.canonical import normalize_name
from schemas.vocab import read_reference_csv, reference

DATA_DIR = Path(__file__).parent / "demo_data"
DEMO_YEARS = (2024, 2025, 2026)
FINANCE_DEPT = "101"  # the demo bureau's 部门编码 (pass as finance_dept to validate / rebuild)
CITY = "示例市"

Lookup = Callable[[str, str], "str | None"]
Cell = str | int | float | None

SHEET_ZH = {"info": "部门信息", "core": "部门整体核心指标", "project": "项目支出指标", "common": "共性指标"}
KIND_ORDER = ("core", "project", "common")

# Column subsets and orders of the departments that do not keep the template's layout.
LEAN_DROP = {
    "national_standard",
    "industry_standard",
    "standard_source",
    "sector",
    "industry",
    "fund_use",
    "indicator_source",
    "value_basis",
    "weight",
    "keywords",
    "project_nature",
    "formula",
}
SHUFFLED_ORDER = {
    "core": [
        "seq", "name", "level1", "level2", "target", "unit", "symbol", "definition", "nature", "history",
        "national_standard", "data_source", "strategic_goal", "include", "change_type", "change_reason",
        "library_id", "formula", "keywords",
    ],
    "project": [
        "seq", "project", "function_code", "project_category", "project_goal", "level1", "level2", "name",
        "target", "unit", "symbol", "definition", "nature", "history", "data_source", "value_method",
        "phased", "include", "change_type", "change_reason", "library_id", "formula", "weight", "keywords",
    ],
}  # fmt: skip
HEADER_ALIASES = {
    "core": {"name": "核心指标名称", "definition": "指标解释", "target": "指标值", "unit": "度量单位",
             "history": "历史数据", "change_type": "变更情况", "library_id": "指标编号"},
    "project": {"name": "三级指标名称", "definition": "指标说明", "target": "指标值", "unit": "度量单位",
                "history": "历史数据", "function_code": "功能科目编码", "project": "二级项目名称",
                "change_type": "变更情况", "library_id": "指标编号"},
}  # fmt: skip
INFO_ALIASES = {"year": "预算年度", "dept_code": "单位编码", "dept_name": "单位名称", "parent_dept": "主管单位",
                "contact": "联系人", "phone": "电话"}  # fmt: skip
# Labels of the pre-2018 framework some departments still copy from old forms (all map to the current one).
OLD_LEVEL1 = {"产出指标": "项目产出", "效益指标": "项目效果"}
OLD_LEVEL2 = {
    "数量指标": "产出数量",
    "质量指标": "产出质量",
    "时效指标": "产出时效",
    "经济效益指标": "经济效益",
    "社会效益指标": "社会效益",
    "生态效益指标": "环境效益",
    "可持续影响指标": "可持续影响",
    "服务对象满意度指标": "服务对象满意度",
    "社会公众满意度指标": "社会公众满意度",
}
MERGED_COLUMNS = ("project", "project_category", "function_code", "project_goal", "level1", "level2")


# --------------------------------------------------------------------------------------------------
# The catalogue (pipelines/demo_data)
# --------------------------------------------------------------------------------------------------


def _offsets(text: str) -> frozenset[int]:
    """ "1-3" → {1, 2, 3}; "1;3" → {1, 3}."""
    out: set[int] = set()
    for part in filter(None, re.split(r"[;,]", text)):
        first, _, last = part.partition("-")
        out.update(range(int(first), int(last or first) + 1))
    return frozenset(out)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    info: dict[str, str]  # 部门信息 (English keys of columns.csv "info")
    file_name: str  # with {year}
    years: frozenset[int]  # offsets with a readable workbook
    broken: dict[int, str]  # offset → "ole" | "html" | "truncated"
    style: frozenset[str]

    def file(self, year: int) -> str:
        name = self.file_name.format(year=year)
        return to_traditional(name) if "traditional" in self.style else name


@dataclass(frozen=True)
class Project:
    dept_code: str
    name: str
    fields: dict[str, str]  # project_category, function_code, project_nature, fund_use, project_goal
    years: frozenset[int]


@dataclass(frozen=True)
class Line:
    """One way an indicator is written during some years (indicators.csv)."""

    ref: str
    dept_code: str
    kind: str
    fields: dict[str, str]
    years: frozenset[int]
    change: str
    expect: str
    story: str


@dataclass(frozen=True)
class Catalogue:
    departments: dict[str, Department]
    projects: dict[tuple[str, str], Project]
    lines: list[Line]


@cache
def catalogue() -> Catalogue:
    departments = {}
    for r in read_reference_csv(DATA_DIR / "departments.csv"):
        broken = {}
        for item in filter(None, r["broken"].split(";")):
            offset, _, kind = item.partition(":")
            broken[int(offset)] = kind
        info_keys = ("parent_dept", "contact", "phone", "functions", "function_basis", "strategic_goals")
        departments[r["dept_code"]] = Department(
            code=r["dept_code"],
            name=r["dept_name"],
            info={"dept_code": r["dept_code"], "dept_name": r["dept_name"], "complexity": r["complexity"]}
            | {k: r[k] for k in info_keys},
            file_name=r["file_name"],
            years=_offsets(r["years"]),
            broken=broken,
            style=frozenset(filter(None, r["style"].split(";"))),
        )
    projects = {}
    for r in read_reference_csv(DATA_DIR / "projects.csv"):
        keys = ("project_category", "function_code", "project_nature", "fund_use", "project_goal")
        projects[(r["dept_code"], r["project"])] = Project(
            r["dept_code"], r["project"], {k: r[k] for k in keys}, _offsets(r["years"])
        )
    lines = []
    meta = {"ref", "dept_code", "kind", "years", "change", "expect", "source", "story"}
    for r in read_reference_csv(DATA_DIR / "indicators.csv"):
        lines.append(
            Line(
                ref=r["ref"],
                dept_code=r["dept_code"],
                kind=r["kind"],
                fields={k: v for k, v in r.items() if k not in meta},
                years=_offsets(r["years"]),
                change=r["change"],
                expect=r["expect"],
                story=r["story"],
            )
        )
    return Catalogue(departments, projects, lines)


# --------------------------------------------------------------------------------------------------
# Planning one year: which rows, with which change type and 库内编号
# --------------------------------------------------------------------------------------------------


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
    year: int, lookup: Lookup | None = None, *, first_year: int = DEMO_YEARS[0]
) -> list[PlannedRow]:
    """The data rows every department submits for `year`, with change types and 库内编号 filled in."""
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


# --------------------------------------------------------------------------------------------------
# Writing: one workbook per department, in that department's habits
# --------------------------------------------------------------------------------------------------


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _s2t().convert(text) if text else text


_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def to_fullwidth(text: str) -> str:
    """ASCII letters, digits and signs as typed with a full-width input method ("ＰＭ２．５", "９５％")."""
    return text.translate(_FULLWIDTH)


def _columns(kind: str, style: frozenset[str]) -> list[str]:
    specs = [c.column for c in reference().columns[kind]]
    if "shuffled" in style and kind in SHUFFLED_ORDER:
        order = [c for c in SHUFFLED_ORDER[kind] if c in specs]
        return order + [c for c in specs if c not in order and c not in LEAN_DROP]
    if "lean" in style:
        return [c for c in specs if c not in LEAN_DROP]
    return specs


def _header(kind: str, column: str, style: frozenset[str]) -> str:
    if "aliases" in style and column in HEADER_ALIASES.get(kind, {}):
        return HEADER_ALIASES[kind][column]
    return reference().header_zh(kind, column)


def _number(text: str) -> int | float | None:
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


_WRITTEN_SYMBOL = {"≥": "不低于", "≤": "不高于"}


class _Sheet:
    """Cells of one sheet before they are written: values, formats, merges, widths."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cells: dict[tuple[int, int], tuple[Cell, str]] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.widths: dict[int, int] = {}
        self.freeze: tuple[int, int] | None = None

    def put(self, row: int, col: int, value: Cell, fmt: str = "cell") -> None:
        self.cells[(row, col)] = (value, fmt)


class _Renderer:
    def __init__(self, dept: Department, year: int) -> None:
        self.dept = dept
        self.year = year
        self.style = dept.style

    # --- values as this department types them ---

    def text(self, value: str, *, copied: bool = False) -> str:
        """Text as this department types it. copied: pasted from the library (ids), never full-width."""
        if "fullwidth" in self.style and not copied:
            value = to_fullwidth(value)
        if "traditional" in self.style:
            value = to_traditional(value)
        return value

    def numeric(self, text: str) -> Cell:
        """A number the department types: a number cell, or text when it stores numbers as text."""
        number = _number(text)
        if number is None or "text_numbers" in self.style or "fullwidth" in self.style:
            return self.text(text) if text else None
        return number

    def cells_for(
        self, kind: str, row: PlannedRow, columns: Sequence[str], index: int
    ) -> dict[str, tuple[Cell, str]]:
        f = dict(row.fields)
        project = catalogue().projects.get((row.dept_code, f.get("project", "")))
        if project is not None and kind != "core":
            f.update({k: v for k, v in project.fields.items() if v})
        f["seq"] = str(index + 1)
        if kind == "core":
            f["strategic_goal"] = self.dept.info["strategic_goals"]
        nature = f.get("nature", "")
        if kind != "core":
            f.setdefault("value_method", "")
            f["value_method"] = f["value_method"] or (
                "问卷调查法"
                if f["level1"] == "满意度指标"
                else "情况说明法"
                if nature == "定性"
                else "情况统计法"
            )
            f["value_basis"] = "历史标准" if f.get("history") else "计划标准"
            f["indicator_source"] = "共性指标" if kind == "common" else "部门自定"
        if "old_labels" in self.style:
            f["level1"] = OLD_LEVEL1.get(f["level1"], f["level1"])
            f["level2"] = OLD_LEVEL2.get(f["level2"], f["level2"])
        out: dict[str, tuple[Cell, str]] = {}
        symbol, target, unit = f["symbol"], f["target"], f["unit"]
        for column in columns:
            value = f.get(column, "")
            fmt = "cell"
            cell: Cell
            if column == "target":
                cell, fmt = self.target_cell(symbol, target, unit, index)
            elif column == "symbol":
                cell = self.text(self.symbol_cell(symbol, target))
            elif column == "library_id":
                cell = self.text(value, copied=True) if value else None
            elif column in ("weight", "function_code", "seq"):
                cell = self.numeric(value)
                fmt = "center" if column == "seq" else "cell"
            else:
                cell = self.text(value) if value else None
            out[column] = (cell, fmt)
        return out

    def symbol_cell(self, symbol: str, target: str) -> str:
        if "combined" in self.style and symbol in ("≥", "≤") and _number(target) is not None:
            return ""  # the sign is written in the target cell ("≥95%")
        return symbol

    def target_cell(self, symbol: str, target: str, unit: str, index: int) -> tuple[Cell, str]:
        number = _number(target)
        if number is None:
            return (self.text(target) if target else None), "cell"
        if "combined" in self.style and symbol in ("≥", "≤"):
            # Some rows say it in words ("不低于 90%"), most with the sign.
            sign = _WRITTEN_SYMBOL[symbol] + " " if index % 3 == 2 else symbol
            return self.text(f"{sign}{target}{unit}"), "cell"
        if "percent" in self.style and unit == "%":
            # Typed as "95%": Excel stores 0.95 with a percent format.
            decimals = len(target.partition(".")[2])
            return round(float(number) / 100, decimals + 2), "pct1" if decimals else "pct"
        return self.numeric(target), "cell"

    # --- sheets ---

    def sheet_name(self, kind: str) -> str:
        name = SHEET_ZH[kind]
        if "sheet_prefix" in self.style:
            number = {"info": 1, "core": 2, "project": 3, "common": 4}[kind]
            name = f"表{number} {'部门基本信息' if kind == 'info' else name}"
            if kind == "project":
                name += f"（{self.year}年）"
        return self.text(name) if "traditional" in self.style else name

    def info_sheet(self) -> _Sheet:
        sheet = _Sheet(self.sheet_name("info"))
        labels = reference().columns["info"]
        info = dict(self.dept.info)
        info["year"] = str(self.year)
        r = 0
        if "info_title" in self.style or "title2" in self.style:
            sheet.put(0, 0, self.text(f"{self.dept.name}部门基本信息表"), "title")
            sheet.merges.append((0, 0, 0, 1))
            r = 1
        sheet.put(r, 0, self.text("项目"), "header")
        sheet.put(r, 1, self.text("内容"), "header")
        for spec in labels:
            r += 1
            label = (
                INFO_ALIASES.get(spec.column, spec.header_zh)
                if "info_aliases" in self.style
                else spec.header_zh
            )
            value = info.get(spec.column, "")
            cell: Cell
            if spec.column == "year":
                cell = (
                    f"{self.year}年"
                    if "info_aliases" in self.style
                    else (self.text(f"{self.year}年度") if "traditional" in self.style else self.year)
                )
            elif spec.column == "dept_code":
                cell = self.text(value, copied=True)  # typed as text so leading zeros would survive
            else:
                cell = self.text(value) if value else None
            sheet.put(r, 0, self.text(label), "label")
            sheet.put(r, 1, cell, "cell")
        sheet.widths = {0: 16, 1: 60}
        return sheet

    def indicator_sheet(self, kind: str, rows: list[PlannedRow]) -> _Sheet:
        sheet = _Sheet(self.sheet_name(kind))
        columns = _columns(kind, self.style)
        titles = self.titles(kind)
        for i, title in enumerate(titles):
            sheet.put(i, 0, self.text(title), "title" if i == 0 else "subtitle")
            sheet.merges.append((i, 0, i, len(columns) - 1))
        header_row = len(titles)
        for c, column in enumerate(columns):
            header = _header(kind, column, self.style)
            spec = reference().column(kind, column)
            sheet.put(header_row, c, self.text(header), "header_required" if spec.required else "header")
            sheet.widths[c] = max(6, min(spec.width, 40))
        sheet.freeze = (header_row + 1, 0)
        rows = _framework_sorted(rows, kind)
        r = header_row + 1
        previous_project = None
        written: list[tuple[int, dict[str, tuple[Cell, str]]]] = []
        for index, row in enumerate(rows):
            project = row.fields.get("project", "")
            if "blank_rows" in self.style and previous_project is not None and project != previous_project:
                r += 1
            previous_project = project
            cells = self.cells_for(kind, row, columns, index)
            for c, column in enumerate(columns):
                value, fmt = cells[column]
                sheet.put(r, c, value, fmt)
            row.sheet = sheet.name
            row.excel_row = r + 1
            written.append((r, cells))
            r += 1
        if "merged" in self.style:
            sheet.merges += _vertical_merges(written, columns, kind)
        if "notes" in self.style:
            r += 1
            notes = [
                f"填表人：{self.dept.info['contact']}",
                "审核人：张建国",
                f"填报日期：{self.year - 1}年11月25日",
            ]
            for c, note in zip((0, 3, 7), notes, strict=True):
                sheet.put(r, c, self.text(note), "plain")
            sheet.put(
                r + 1,
                0,
                self.text(f"备注：目标值按{self.year}年预算编报口径填写；百分比指标均为全年口径。"),
                "plain",
            )
        return sheet

    def titles(self, kind: str) -> list[str]:
        what = {"core": "部门整体绩效核心指标", "project": "项目支出绩效目标申报表", "common": "共性指标"}[
            kind
        ]
        if "title2" in self.style:
            return [
                f"{self.year}年度{self.dept.name}{what}",
                f"填报单位（盖章）：{self.dept.name}        金额单位：万元",
            ]
        if "title" in self.style:
            return [f"{CITY}{self.year}年度{self.dept.name.removeprefix(CITY)}{what}"]
        return []


def _framework_sorted(rows: list[PlannedRow], kind: str) -> list[PlannedRow]:
    """Rows grouped by project in catalogue order, then in framework order (成本, 产出, 效益, 满意度)."""
    if kind == "core":
        return rows
    order = {l2: i for i, (_, l2) in enumerate(reference().framework)}
    projects: dict[str, int] = {}
    for row in rows:
        projects.setdefault(row.fields.get("project", ""), len(projects))
    return sorted(
        rows,
        key=lambda r: (projects[r.fields.get("project", "")], order.get(r.fields["level2"], len(order))),
    )


def _vertical_merges(
    written: list[tuple[int, dict[str, tuple[Cell, str]]]], columns: Sequence[str], kind: str
) -> list[tuple[int, int, int, int]]:
    """Runs of equal values merged the way officials do: 项目 and its columns per project, 一级 within a
    project, 二级 within an 一级. The merged range keeps the value in its top cell only."""
    merges = []
    levels = {
        "project": ("project",),
        "level1": ("project", "level1"),
        "level2": ("project", "level1", "level2"),
    }
    for c, column in enumerate(columns):
        if column not in MERGED_COLUMNS or (kind == "core" and column not in ("level1", "level2")):
            continue
        key_columns = levels.get(column, ("project",))
        start = 0
        for i in range(1, len(written) + 1):
            same = i < len(written) and all(
                written[i][1].get(k, (None, ""))[0] == written[start][1].get(k, (None, ""))[0]
                for k in (*key_columns, column)
            )
            if same:
                continue
            if i - start > 1 and written[start][1][column][0] is not None:
                merges.append((written[start][0], c, written[i - 1][0], c))
            start = i
    return merges


_FORMATS: dict[str, dict[str, object]] = {
    "title": {"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "subtitle": {"align": "left", "valign": "vcenter"},
    "header": {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True, "bg_color": "#DDEBF7"},
    "header_required": {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                        "bg_color": "#DDEBF7", "font_color": "#C00000"},
    "label": {"bold": True, "border": 1, "valign": "vcenter"},
    "cell": {"border": 1, "valign": "vcenter", "text_wrap": True},
    "center": {"border": 1, "align": "center", "valign": "vcenter"},
    "pct": {"border": 1, "valign": "vcenter", "num_format": "0%"},
    "pct1": {"border": 1, "valign": "vcenter", "num_format": "0.0%"},
    "plain": {},
}  # fmt: skip


def _workbook_bytes(
    sheets: Sequence[_Sheet], *, title: str, author: str, company: str, created: datetime
) -> bytes:
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    workbook = xlsxwriter.Workbook(buffer, options)
    workbook.set_properties({"title": title, "author": author, "company": company, "created": created})
    formats = {
        name: workbook.add_format({"font_name": "宋体", "font_size": 10} | spec)
        for name, spec in _FORMATS.items()
    }
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name)
        for c, width in sheet.widths.items():
            ws.set_column(c, c, width)
        merged_cells: set[tuple[int, int]] = set()
        for r0, c0, r1, c1 in sheet.merges:
            value, fmt = sheet.cells.get((r0, c0), (None, "cell"))
            ws.merge_range(r0, c0, r1, c1, "", formats[fmt])
            merged_cells.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
            _write(ws, r0, c0, value, formats[fmt])
        for (r, c), (value, fmt) in sorted(sheet.cells.items()):
            if (r, c) in merged_cells:
                continue
            _write(ws, r, c, value, formats[fmt])
        if sheet.freeze:
            ws.freeze_panes(*sheet.freeze)
    workbook.close()
    return buffer.getvalue()


def _write(ws: Worksheet, row: int, col: int, value: Cell, fmt: object) -> None:
    if value is None or value == "":
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    else:
        ws.write_number(row, col, value, fmt)


def _instructions_sheet() -> _Sheet:
    sheet = _Sheet("填报说明")
    lines = [
        "1. 部门整体核心指标、项目支出指标按模板列填写，红色列名为必填项。",
        "2. 沿用、修改、退出的指标须填写指标库中的库内编号；修改、退出须写明变更理由。",
        "3. 共性指标由市财政局统一制定，各部门可直接选用。",
    ]
    for i, text in enumerate(lines):
        sheet.put(i, 0, text, "plain")
    sheet.widths = {0: 90}
    return sheet


def render_workbook(dept: Department, year: int, rows: list[PlannedRow]) -> bytes:
    """The department's workbook for `year`, as bytes (rows get their sheet and Excel row)."""
    renderer = _Renderer(dept, year)
    sheets = [renderer.info_sheet()]
    for kind in KIND_ORDER:
        kind_rows = [r for r in rows if r.kind == kind]
        if kind == "common" and not kind_rows:
            continue
        sheets.append(renderer.indicator_sheet(kind, kind_rows))
    if dept.code == FINANCE_DEPT:
        sheets.append(_instructions_sheet())
    file = dept.file(year)
    for row in rows:
        row.file = file
    created = datetime(year - 1, 11, 20, 9, 30)
    title = renderer.text(f"{year}年度预算绩效指标")
    return _workbook_bytes(
        sheets,
        title=title,
        author=renderer.text(dept.info["contact"]),
        company=renderer.text(dept.name),
        created=created,
    )


# --- files that are not workbooks ---------------------------------------------------------------------


def _ole_bytes() -> bytes:
    """An Excel 97-2003 (.xls) compound-file header: the "saved in the old format" case."""
    header = bytearray(4096)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:34] = b"\x3e\x00\x03\x00\xfe\xff\x09\x00\x06\x00"
    return bytes(header)


def _html_bytes(dept: Department) -> bytes:
    """An HTML table saved as .xls, as business systems "export to Excel"."""
    lines = [line for line in catalogue().lines if line.dept_code == dept.code and line.kind == "project"]
    cells = ["项目名称", "一级指标", "二级指标", "三级指标", "指标值", "计量单位"]
    out = [
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">',
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>',
        '<table border="1">',
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>",
    ]
    for line in lines:
        f = line.fields
        values = [f["project"], f["level1"], f["level2"], f["name"], f["symbol"] + f["target"], f["unit"]]
        out.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in values) + "</tr>")
    out.append("</table></body></html>")
    return "\n".join(out).encode("utf-8")


def _broken_name(dept: Department, year: int, kind: str) -> str:
    stem = Path(dept.file(year)).stem
    return {"ole": f"{stem}.xls", "html": f"{stem}（系统导出）.xls", "truncated": f"{stem}（副本）.xlsx"}[
        kind
    ]


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def render_demo_year(
    out_dir: Path, year: int, lookup: Lookup | None = None, *, first_year: int = DEMO_YEARS[0]
) -> DemoYear:
    """Write the sample submissions of `year` into out_dir/<year>/ and say what each row is meant to show.

    lookup(name, 部门编码) → 库内编号 of the indicator in the release built from the previous year (None when
    unknown); without it the 沿用/修改/退出 rows carry no 库内编号.
    """
    offset = year_offset(year, first_year)
    cat = catalogue()
    directory = Path(out_dir) / str(year)
    directory.mkdir(parents=True, exist_ok=True)
    result = DemoYear(year, directory)
    planned = plan_year(year, lookup, first_year=first_year)
    result.dropped = dropped_indicators(year, first_year=first_year)
    written: dict[str, bytes] = {}
    for code, dept in cat.departments.items():
        if offset in dept.years:
            rows = [r for r in planned if r.dept_code == code]
            data = render_workbook(dept, year, rows)
            written[code] = data
            result.files.append(atomic_write_bytes(directory / dept.file(year), data))
            result.rows += rows
        kind = dept.broken.get(offset)
        if kind:
            if kind == "ole":
                data = _ole_bytes()
            elif kind == "html":
                data = _html_bytes(dept)
            else:  # a copy interrupted half-way: the zip's central directory is missing
                full = written.get(code) or render_workbook(
                    dept, year, [r for r in planned if r.dept_code == code]
                )
                data = full[: len(full) // 2]
            name = _broken_name(dept, year, kind)
            result.files.append(atomic_write_bytes(directory / name, data))
            result.unreadable.append(name)
    return result


def write_demo_year(
    out_dir: Path, year: int, lookup: Lookup | None = None, *, first_year: int = DEMO_YEARS[0]
) -> Path:
    """Write one year's sample submissions; returns out_dir/<year>/ (the folder to rebuild from)."""
    return render_demo_year(out_dir, year, lookup, first_year=first_year).directory


def write_demo_submissions(
    out_dir: Path, years: Iterable[int] = DEMO_YEARS, library_lookup: Lookup | None = None
) -> dict[int, Path]:
    """Write every year at once with one lookup (years after the first need the lookup to be current:
    the demo itself writes year N+1 only after rebuilding year N, with write_demo_year)."""
    years = list(years)
    first = years[0] if years else DEMO_YEARS[0]
    return {year: write_demo_year(out_dir, year, library_lookup, first_year=first) for year in years}


def lookup_from_indicators(indicators: pd.DataFrame) -> Lookup:
    """A lookup over a published indicators table: (name or alias, 部门编码) → indicator_id.

    Names are compared in their published form (繁→简, half-width brackets…). Only indicators the
    department uses or used are found; active ones first, then retired ones (a department may modify or
    bring back what it dropped). Merged indicators are left out: their rows go to the one they merged into.
    """
    table: dict[tuple[str, str], str] = {}
    rank = {"active": 0, "retired": 1}
    ordered = indicators[indicators["status"].isin(list(rank))]
    ordered = ordered.assign(_rank=ordered["status"].map(rank)).sort_values(["_rank", "indicator_id"])
    for iid, name, aliases, departments in zip(
        ordered["indicator_id"], ordered["name"], ordered["aliases"], ordered["departments"], strict=True
    ):
        for variant in [name, *_as_list(aliases)]:
            for dept in _as_list(departments):
                table.setdefault((normalize_name(variant)[0], dept), str(iid))

    def lookup(name: str, dept_code: str) -> str | None:
        return table.get((normalize_name(name)[0], str(dept_code)))

    return lookup


def _as_list(value: object) -> list[str]:
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in list(value)]  # type: ignore[call-overload]


def demo_departments() -> Mapping[str, str]:
    """部门编码 → 部门名称 of the sample departments."""
    return {code: d.name for code, d in catalogue().departments.items()}
