"""Hypothesis strategies that write submission workbooks from the template's grammar.

The grammar is the reference data (schemas/reference/sheets.csv, columns.csv, framework.csv,
vocabularies.csv): which sheets exist (present with rows, present with only a header, present and blank,
or absent), which columns each has (required ones, any subset of the optional ones, in any order, under
any accepted header spelling), title rows above the header, merged cells, "same as above" blanks, blank
and note rows (填表人、备注), Traditional and full-width text, numbers typed as text and text as numbers,
targets as officials write them ("≥95%", "不低于 90 %", "3天以内"). Every workbook is one a department
could plausibly send; the spec remembers how many data rows it wrote, for the accounting.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import opencc
import openpyxl
from hypothesis import strategies as st

from schemas.vocab import REFERENCE_DIR, read_reference_csv, reference

SHEET_KINDS = ("core", "project", "common")
REQUIRED_SHEETS = ("info", "core", "project")
# Words a data cell must not start with: the reader sets such rows aside as notes (see read._NOTES_START).
NOTE_ROWS = (
    "填表人：张三",
    "备注：本表金额单位为万元",
    "审核人：李四    填报日期：2026年3月1日",
    "说明：以上指标经党组会审议",
)

PROJECTS = (
    "道路维修养护项目",
    "学生资助补助经费",
    "信息系统运维费",
    "农村饮水安全工程",
    "公共文化服务专项",
    "疫苗接种补助",
)
NAMES = (
    "日常维修维护次数",
    "维修验收合格率",
    "资金发放及时率",
    "受益学生人数",
    "系统正常运行率",
    "群众满意度",
    "服务对象满意度",
    "培训人次",
    "项目完成时间",
    "单位成本控制",
    "水质达标率",
    "节约资金（万元）",
    "接种覆盖率",
    "Ⅰ类水体占比",
)
DEFINITIONS = (
    "反映年度完成情况",
    "统计口径为全年",
    "反映资金使用效率。",
    "按实际发生数统计",
    "= 完成数 / 计划数 × 100%",
)
TARGETS: tuple[object, ...] = (
    "≥95%",
    "不低于 90 %",
    "≥ 98 %",
    "100%",
    "3天以内",
    "≤30",
    "=100",
    "200",
    "1,000",
    95,
    0.95,
    100.0,
    3,
    "达标",
    "效果明显",
    "较上年有所提高",
    "≥９５％",
    "95%以上",
    "2026年12月底前完成",
    "90",
)
UNITS = ("%", "人次", "天", "次", "万元", "个", "", "百分比")
SYMBOLS = ("≥", "≤", "=", ">", "<", "定性", "大于等于", "不低于", ">=", "＝")
FUNCTION_CODES: tuple[object, ...] = ("2010101", 2010101, "2050305", "2130505", "２０１０１０１", "2070205")
EXTRA_HEADERS = ("责任科室", "考核口径", "备注", "标准值")
EXTRA_VALUES: tuple[object, ...] = ("完成得满分，未完成不得分", "省级考核办法", "无", 5, "")
HISTORY: tuple[object, ...] = (
    "2024年:95%;2025年:97%",
    "2023年95%，2024年96%",
    "",
    96,
    datetime.date(2025, 12, 31),
)


@cache
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    return _s2t().convert(text)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


@cache
def framework_pairs() -> tuple[tuple[str, str], ...]:
    return tuple((r["level1"], r["level2"]) for r in read_reference_csv(REFERENCE_DIR / "framework.csv"))


@cache
def vocab_values(vocab: str) -> tuple[str, ...]:
    rows = read_reference_csv(REFERENCE_DIR / "vocabularies.csv")
    values = [r["value"] for r in rows if r["vocab"] == vocab]
    aliases = [a for r in rows if r["vocab"] == vocab for a in (r.get("aliases") or "").split("|") if a]
    return tuple(values + aliases[:3])


@dataclass
class SheetSpec:
    kind: str
    name: str  # the sheet name as written
    state: str  # "rows" | "header_only" | "blank"
    columns: list[str] = field(default_factory=list)  # English columns, in written order
    headers: list[str] = field(default_factory=list)  # the header text written for each
    title_rows: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)  # None or absent: the cell is left blank
    merge_columns: list[str] = field(default_factory=list)  # equal runs in these columns are merged
    blank_after: list[int] = field(default_factory=list)  # an empty row after these data rows
    notes: list[str] = field(default_factory=list)  # note rows after the data
    percent_targets: bool = False  # numeric targets ≤ 1 carry Excel's 0% format


@dataclass
class WorkbookSpec:
    info: dict[str, object] | None  # None: no 部门信息 sheet
    info_name: str
    info_colon: bool  # keys written as "部门编码：101001" in one cell
    sheets: dict[str, SheetSpec]
    order: list[str]  # the order the sheets are written in ("info" and kinds)

    @property
    def data_rows(self) -> int:
        return sum(len(s.rows) for s in self.sheets.values() if s.state == "rows")


# --- strategies ----------------------------------------------------------------------------------------------


def text_variant(draw: st.DrawFn, text: str) -> str:
    form = draw(st.sampled_from(["plain", "plain", "traditional", "full", "spaced"]))
    if form == "traditional":
        return traditional(text)
    if form == "full":
        return full_width(text)
    if form == "spaced":
        return f" {text} "
    return text


@st.composite
def header_text(draw: st.DrawFn, kind: str, column: str) -> str:
    spec = next(s for s in reference().columns[kind] if s.column == column)
    choices = [spec.header_zh, *[a for a in spec.aliases if a]]
    text = draw(st.sampled_from(choices))
    text = text_variant(draw, text)
    if spec.required and draw(st.booleans()):
        text = "*" + text.strip()  # the template's required mark
    return text


@st.composite
def indicator_values(draw: st.DrawFn, kind: str, level: tuple[str, str]) -> dict[str, object]:
    level1, level2 = level
    values: dict[str, object] = {
        "level1": text_variant(draw, level1),
        "level2": text_variant(draw, level2),
        "name": text_variant(draw, draw(st.sampled_from(NAMES))),
        "definition": text_variant(draw, draw(st.sampled_from(DEFINITIONS))),
        "symbol": draw(st.sampled_from(SYMBOLS)),
        "target": draw(st.sampled_from(TARGETS)),
        "unit": draw(st.sampled_from(UNITS)),
        "function_code": draw(st.sampled_from(FUNCTION_CODES)),
        "history": draw(st.sampled_from(HISTORY)),
        "weight": draw(st.sampled_from([10, "10", 20.0, "５", None])),
        "formula": draw(st.sampled_from(["", "完成数/计划数×100%", None])),
        "keywords": draw(st.sampled_from(["维修、养护", "资助,学生", "", None])),
        "seq": draw(st.sampled_from([None, 1, "1", "一"])),
        "strategic_goal": draw(st.sampled_from([None, "提升公共服务水平"])),
        "national_standard": draw(st.sampled_from([None, "GB 5749-2022", "≥95%"])),
        "industry_standard": draw(st.sampled_from([None, "行业规范"])),
        "data_source": draw(st.sampled_from([None, "财务报表", "统计年鉴"])),
        "standard_source": draw(st.sampled_from([None, "省级考核办法"])),
        "indicator_source": draw(st.sampled_from([None, "部门自设"])),
        "change_reason": None,
        "library_id": None,
        "sector": draw(st.sampled_from([None, "交通运输"])),
        "industry": draw(st.sampled_from([None, "公路"])),
        "fund_use": draw(st.sampled_from([None, "维修养护"])),
        "project_goal": draw(st.sampled_from([None, "保障道路安全畅通"])),
    }
    for vocab_column in (
        "nature",
        "value_method",
        "value_basis",
        "project_nature",
        "phased",
        "include",
        "project_category",
        "change_type",
    ):
        vocab = {"phased": "yes_no", "include": "yes_no"}.get(vocab_column, vocab_column)
        values[vocab_column] = draw(st.sampled_from((None, "", *vocab_values(vocab))))
    if values["change_type"] in ("沿用", "修改", "退出"):
        values["library_id"] = draw(st.sampled_from(["", "XM-0001", "GX-0002"]))
        values["change_reason"] = draw(st.sampled_from(["", "口径调整"]))
    if draw(st.integers(0, 9)) == 0:  # the odd cell typed as a number, a bool or a date
        column = draw(st.sampled_from(["definition", "keywords", "unit", "formula"]))
        values[column] = draw(st.sampled_from([0, 3.5, True, datetime.datetime(2026, 1, 1, 8, 30)]))
    return values


@st.composite
def sheet_specs(draw: st.DrawFn, kind: str) -> SheetSpec:
    specs = reference().columns[kind]
    sheet_spec = reference().sheets[kind]
    name = draw(st.sampled_from([sheet_spec.name_zh, *sheet_spec.aliases]))
    name = draw(st.sampled_from([name, traditional(name), f"表{SHEET_KINDS.index(kind) + 2} {name}"]))[:31]
    state = draw(st.sampled_from(["rows", "rows", "rows", "header_only", "blank"]))
    sheet = SheetSpec(kind, name, state)
    if state == "blank":
        return sheet
    required = [s.column for s in specs if s.required]
    optional = [s.column for s in specs if not s.required]
    chosen = required + draw(st.lists(st.sampled_from(optional), unique=True, max_size=len(optional)))
    sheet.columns = (
        draw(st.permutations(chosen))
        if draw(st.booleans())
        else [s.column for s in specs if s.column in chosen]
    )
    sheet.headers = [draw(header_text(kind, c)) for c in sheet.columns]
    # Columns the template does not have (kept in extra_json with an I403) and a second header for the
    # target (标准值 beside 目标值: W217), at random places.
    for extra in draw(st.lists(st.sampled_from(EXTRA_HEADERS), unique=True, max_size=2)):
        at = draw(st.integers(0, len(sheet.columns)))
        header = extra
        if extra == "标准值":
            header = "目标值" if "标准值" in sheet.headers else "标准值"
        sheet.columns.insert(at, f"extra:{extra}")
        sheet.headers.insert(at, header)
    sheet.title_rows = draw(
        st.lists(
            st.sampled_from([f"{sheet_spec.name_zh}表（2026年度）", "单位：万元", "编制单位：市测试局"]),
            max_size=3,
        )
    )
    if state == "header_only":
        return sheet
    groups = draw(st.integers(1, 3)) if kind != "core" else 1
    pairs = framework_pairs()
    for g in range(groups):
        project = text_variant(draw, PROJECTS[(g + draw(st.integers(0, 5))) % len(PROJECTS)])
        for i in range(draw(st.integers(1, 4))):
            values = draw(indicator_values(kind, draw(st.sampled_from(pairs))))
            values["project"] = project
            for column in sheet.columns:
                if column.startswith("extra:"):
                    pool = TARGETS if column == "extra:标准值" else EXTRA_VALUES
                    values[column] = draw(st.sampled_from((None, *pool)))
            if i > 0 and draw(st.booleans()):  # "same as above": blank under the group's first row
                for column in ("project", "function_code", "project_category"):
                    values[column] = None
            sheet.rows.append(values)
    present = set(sheet.columns)
    sheet.merge_columns = draw(
        st.lists(
            st.sampled_from([c for c in ("project", "level1", "level2") if c in present] or ["name"]),
            unique=True,
            max_size=2,
        )
    )
    sheet.blank_after = draw(st.lists(st.integers(0, len(sheet.rows) - 1), unique=True, max_size=2))
    sheet.notes = draw(st.lists(st.sampled_from(NOTE_ROWS), max_size=2))
    sheet.percent_targets = draw(st.booleans())
    return sheet


@st.composite
def info_values(draw: st.DrawFn) -> dict[str, object] | None:
    if draw(st.integers(0, 11)) == 0:
        return None  # no 部门信息 sheet: the workbook is set aside, its rows still accounted for
    info: dict[str, object] = {
        "year": draw(st.sampled_from([2026, "2026", "2026年", "２０２６"])),
        "dept_code": draw(st.sampled_from(["101001", 101001, "１０１００１", "101001 "])),
        "dept_name": text_variant(draw, "市测试局"),
    }
    for key, values in (
        ("complexity", [None, "单一", "复杂", "複雜"]),
        ("contact", [None, "张三"]),
        ("phone", [None, "0571-88888888", 13800000000]),
        ("functions", [None, "负责全市道路维修养护"]),
    ):
        value = draw(st.sampled_from(values))
        if value is not None:
            info[key] = value
    return info


@st.composite
def workbook_specs(draw: st.DrawFn) -> WorkbookSpec:
    info = draw(info_values())
    sheets: dict[str, SheetSpec] = {}
    for kind in SHEET_KINDS:
        absent_weight = 1 if kind in REQUIRED_SHEETS else 3
        if draw(st.integers(0, 9)) < absent_weight:
            continue
        sheets[kind] = draw(sheet_specs(kind))
    order = draw(st.permutations(["info", *sheets])) if draw(st.booleans()) else ["info", *sheets]
    info_name = draw(st.sampled_from(["部门信息", "單位信息", "基本信息"]))
    return WorkbookSpec(info, info_name, draw(st.booleans()), sheets, list(order))


# --- the writer ----------------------------------------------------------------------------------------------


def write_spec(path: Path, spec: WorkbookSpec) -> Path:
    """Write the workbook the spec describes (openpyxl, as many department tools do)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    info_zh = {s.column: s.header_zh for s in reference().columns["info"]}
    for part in spec.order:
        if part == "info":
            if spec.info is None:
                continue
            ws = wb.create_sheet(spec.info_name)
            ws.append(["项目", "内容"])
            for key, value in spec.info.items():
                if spec.info_colon:
                    ws.append([f"{info_zh[key]}：{value}"])
                else:
                    ws.append([info_zh[key], value])
            continue
        _write_sheet(wb.create_sheet(spec.sheets[part].name), spec.sheets[part])
    if not wb.sheetnames:
        wb.create_sheet("Sheet1")  # an xlsx holds at least one sheet
    wb.save(path)
    return path


def _write_sheet(ws: openpyxl.worksheet.worksheet.Worksheet, sheet: SheetSpec) -> None:
    if sheet.state == "blank":
        return
    width = len(sheet.columns)
    r = 1
    for i, title in enumerate(sheet.title_rows):
        ws.cell(r, 1, title)
        if i == 0 and width > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
    for j, header in enumerate(sheet.headers, start=1):
        ws.cell(r, j, header)
    r += 1
    excel_rows: list[int] = []
    for i, values in enumerate(sheet.rows):
        for j, column in enumerate(sheet.columns, start=1):
            value = values.get(column)
            if value is None or value == "":
                continue
            cell = ws.cell(r, j, value)
            if column == "target" and sheet.percent_targets and isinstance(value, float) and value <= 1:
                cell.number_format = "0%"
        excel_rows.append(r)
        r += 1
        if i in sheet.blank_after:
            r += 1
    for column in sheet.merge_columns:
        if column not in sheet.columns:
            continue
        j = sheet.columns.index(column) + 1
        start = 0
        while start < len(excel_rows):
            end = start
            top = ws.cell(excel_rows[start], j).value
            while (
                end + 1 < len(excel_rows)
                and excel_rows[end + 1] == excel_rows[end] + 1
                and ws.cell(excel_rows[end + 1], j).value in (None, top)
            ):
                end += 1
            if end > start and top is not None:
                for k in range(start + 1, end + 1):
                    ws.cell(excel_rows[k], j).value = None
                ws.merge_cells(
                    start_row=excel_rows[start], start_column=j, end_row=excel_rows[end], end_column=j
                )
            start = end + 1
    for note in sheet.notes:
        ws.cell(r, 1, note)
        if width > 1:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        r += 1
