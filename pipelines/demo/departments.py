"""A demo department's workbook, written the way its officials fill the form.

Each department of demo_data/departments.csv has its own habits (the style column): title rows, merged
cells, shuffled columns, header aliases, "≥95%" targets, numbers stored as text, percent-formatted cells,
notes rows, pre-2018 framework labels, full-width characters, a workbook entirely in Traditional Chinese.
These are "department" files: written through the synthetic writer (workbook.py), not the product's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from pipelines.demo.catalogue import CITY, FINANCE_DEPT, Department, catalogue
from pipelines.demo.plan import PlannedRow
from pipelines.demo.workbook import (
    OFFICIAL_RUNS,
    Cell,
    Grid,
    IndicatorSheet,
    InfoSheet,
    Styled,
    indicator_grid,
    info_grid,
    sheet_name,
    to_traditional,
    workbook_bytes,
)
from schemas.vocab import INDICATOR_SHEETS, reference

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
_WRITTEN_SYMBOL = {"≥": "不低于", "≤": "不高于"}
_FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}
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
FORMATS = {name: {"font_name": "宋体", "font_size": 10} | spec for name, spec in _FORMATS.items()}


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


def _number(text: str) -> int | float | None:
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _derived_fields(kind: str, f: dict[str, str]) -> None:
    """Columns a department fills from the others: 取值方法, 标准依据, 指标来源."""
    nature = f.get("nature", "")
    f.setdefault("value_method", "")
    if not f["value_method"]:
        if f["level1"] == "满意度指标":
            f["value_method"] = "问卷调查法"
        else:
            f["value_method"] = "情况说明法" if nature == "定性" else "情况统计法"
    f["value_basis"] = "历史标准" if f.get("history") else "计划标准"
    f["indicator_source"] = "共性指标" if kind == "common" else "部门自定"


class _Department:
    """One department's way of filling the form in one year."""

    def __init__(self, dept: Department, year: int) -> None:
        self.dept = dept
        self.year = year
        self.style = dept.style

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

    def fields(self, kind: str, row: PlannedRow, index: int) -> dict[str, str]:
        """The row's values with what the department fills from its project and its habits."""
        f = dict(row.fields)
        project = catalogue().projects.get((row.dept_code, f.get("project", "")))
        if project is not None and kind != "core":
            f.update({k: v for k, v in project.fields.items() if v})
        f["seq"] = str(index + 1)
        if kind == "core":
            f["strategic_goal"] = self.dept.info["strategic_goals"]
        else:
            _derived_fields(kind, f)
        if "old_labels" in self.style:
            f["level1"] = OLD_LEVEL1.get(f["level1"], f["level1"])
            f["level2"] = OLD_LEVEL2.get(f["level2"], f["level2"])
        return f

    def cells(self, kind: str, row: PlannedRow, columns: Sequence[str], index: int) -> dict[str, Styled]:
        f = self.fields(kind, row, index)
        out: dict[str, Styled] = {}
        for column in columns:
            value = f.get(column, "")
            if column == "target":
                out[column] = self.target_cell(f["symbol"], f["target"], f["unit"], index)
            elif column == "symbol":
                out[column] = Styled(self.text(self.symbol_cell(f["symbol"], f["target"])), "cell")
            elif column == "library_id":
                out[column] = Styled(self.text(value, copied=True) if value else None, "cell")
            elif column in ("weight", "function_code", "seq"):
                out[column] = Styled(self.numeric(value), "center" if column == "seq" else "cell")
            else:
                out[column] = Styled(self.text(value) if value else None, "cell")
        return out

    def symbol_cell(self, symbol: str, target: str) -> str:
        if "combined" in self.style and symbol in ("≥", "≤") and _number(target) is not None:
            return ""  # the sign is written in the target cell ("≥95%")
        return symbol

    def target_cell(self, symbol: str, target: str, unit: str, index: int) -> Styled:
        number = _number(target)
        if number is None:
            return Styled(self.text(target) if target else None, "cell")
        if "combined" in self.style and symbol in ("≥", "≤"):
            # Some rows say it in words ("不低于 90%"), most with the sign.
            sign = _WRITTEN_SYMBOL[symbol] + " " if index % 3 == 2 else symbol
            return Styled(self.text(f"{sign}{target}{unit}"), "cell")
        if "percent" in self.style and unit == "%":
            # Typed as "95%": Excel stores 0.95 with a percent format.
            decimals = len(target.partition(".")[2])
            return Styled(round(float(number) / 100, decimals + 2), "pct1" if decimals else "pct")
        return Styled(self.numeric(target), "cell")

    # --- sheets ---

    def sheet_name(self, kind: str) -> str:
        name = sheet_name(kind)
        if "sheet_prefix" in self.style:
            number = {"info": 1, "core": 2, "project": 3, "common": 4}[kind]
            name = f"表{number} {'部门基本信息' if kind == 'info' else name}"
            if kind == "project":
                name += f"（{self.year}年）"
        return self.text(name) if "traditional" in self.style else name

    def info_value(self, column: str) -> Cell:
        if column == "year":
            if "info_aliases" in self.style:
                return f"{self.year}年"
            return self.text(f"{self.year}年度") if "traditional" in self.style else self.year
        value = self.dept.info.get(column, "")
        if column == "dept_code":
            return self.text(value, copied=True)  # typed as text so leading zeros would survive
        return self.text(value) if value else None

    def info_sheet(self) -> Grid:
        rows = []
        for spec in reference().columns["info"]:
            aliased = "info_aliases" in self.style
            label = INFO_ALIASES.get(spec.column, spec.header_zh) if aliased else spec.header_zh
            rows.append((Styled(self.text(label), "label"), Styled(self.info_value(spec.column), "cell")))
        titled = "info_title" in self.style or "title2" in self.style
        title = Styled(self.text(f"{self.dept.name}部门基本信息表"), "title") if titled else None
        header = (Styled(self.text("项目"), "header"), Styled(self.text("内容"), "header"))
        grid, _ = info_grid(InfoSheet(rows, name=self.sheet_name("info"), title=title, header=header))
        grid.widths = {0: 16, 1: 60}
        return grid

    def headers(self, kind: str, columns: Sequence[str]) -> dict[str, Styled]:
        out = {}
        for column in columns:
            header = reference().header_zh(kind, column)
            if "aliases" in self.style and column in HEADER_ALIASES.get(kind, {}):
                header = HEADER_ALIASES[kind][column]
            required = reference().column(kind, column).required
            out[column] = Styled(self.text(header), "header_required" if required else "header")
        return out

    def indicator_sheet(self, kind: str, rows: list[PlannedRow]) -> Grid:
        columns = _columns(kind, self.style)
        titles = self.titles(kind)
        rows = _framework_sorted(rows, kind)
        projects = [row.fields.get("project", "") for row in rows]
        sheet = IndicatorSheet(
            kind,
            [self.cells(kind, row, columns, index) for index, row in enumerate(rows)],
            columns=columns,
            headers=self.headers(kind, columns),
            name=self.sheet_name(kind),
            titles=[Styled(self.text(t), "title" if i == 0 else "subtitle") for i, t in enumerate(titles)],
            merged_titles=len(titles),
            runs={c: OFFICIAL_RUNS[c] for c in columns if c in OFFICIAL_RUNS}
            if "merged" in self.style
            else {},
            blank_after={i - 1 for i in range(1, len(rows)) if projects[i] != projects[i - 1]}
            if "blank_rows" in self.style
            else (),
            notes_gap=1,
            notes=self.notes() if "notes" in self.style else (),
        )
        grid, placed = indicator_grid(sheet)
        grid.widths = {
            c: max(6, min(reference().column(kind, col).width, 40)) for c, col in enumerate(columns)
        }
        grid.freeze = (placed.header_row, 0)
        for row, excel_row in zip(rows, placed.data_rows, strict=True):
            row.sheet, row.excel_row = grid.name, excel_row
        return grid

    def notes(self) -> list[list[Styled | None]]:
        signed = [
            f"填表人：{self.dept.info['contact']}",
            "审核人：张建国",
            f"填报日期：{self.year - 1}年11月25日",
        ]
        first: list[Styled | None] = [None] * 8
        for c, note in zip((0, 3, 7), signed, strict=True):
            first[c] = Styled(self.text(note), "plain")
        remark = f"备注：目标值按{self.year}年预算编报口径填写；百分比指标均为全年口径。"
        return [first, [Styled(self.text(remark), "plain")]]

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


def _instructions_sheet() -> Grid:
    grid = Grid("填报说明")
    lines = [
        "1. 部门整体核心指标、项目支出指标按模板列填写，红色列名为必填项。",
        "2. 沿用、修改、退出的指标须填写指标库中的库内编号；修改、退出须写明变更理由。",
        "3. 共性指标由市财政局统一制定，各部门可直接选用。",
    ]
    for i, text in enumerate(lines):
        grid.put(i, 0, Styled(text, "plain"))
    grid.widths = {0: 90}
    return grid


def render_workbook(dept: Department, year: int, rows: list[PlannedRow]) -> bytes:
    """The department's workbook for `year`, as bytes (rows get their file, sheet and Excel row)."""
    department = _Department(dept, year)
    grids = [department.info_sheet()]
    for kind in INDICATOR_SHEETS:
        kind_rows = [r for r in rows if r.kind == kind]
        if kind == "common" and not kind_rows:
            continue
        grids.append(department.indicator_sheet(kind, kind_rows))
    if dept.code == FINANCE_DEPT:
        grids.append(_instructions_sheet())
    file = dept.file(year)
    for row in rows:
        row.file = file
    properties = {
        "title": department.text(f"{year}年度预算绩效指标"),
        "author": department.text(dept.info["contact"]),
        "company": department.text(dept.name),
    }
    return workbook_bytes(
        grids, created=datetime(year - 1, 11, 20, 9, 30), properties=properties, formats=FORMATS
    )
