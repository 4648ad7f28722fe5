"""The self-evaluation workbook (绩效自评表, SPEC §7) of one department and year, pre-filled from a release's
usages: one row per usage (库内编号, project, indicator, target, symbol, unit, its points and scoring method),
the cells the department fills highlighted (完成值; 评判等级 and 自评分值 for qualitative rows; 偏差原因,
佐证资料), one row per project (全年预算数, 全年执行数, 是否完成), drop-downs and a 填报说明.

The pre-filled cells are locked (the sheet is protected without a password: a guard against slips, not a
lock); the reader (reader.py) checks every row against the release anyway. Same usages, same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from pipelines.common.xlsx_out import FILL_HEADER, FILL_WARNING, XlsxBook, cell_value, xlsx_book
from pipelines.evaluate.bands import ScoringBands, scoring_bands
from pipelines.evaluate.instructions import write_instructions
from pipelines.evaluate.score import METHOD_ZH, scoring_method
from pipelines.evaluate.scoring import fmt
from pipelines.evaluate.weights import usage_points

INSTRUCTIONS_SHEET = "填报说明"
INFO_SHEET = "部门信息"
INDICATOR_SHEET = "指标自评"
PROJECT_SHEET = "项目情况"
DEPT_WIDE = "（部门整体）"  # the project column of 部门整体 usages, which have no project name
EVALUATED_SCOPES = ("项目", "部门整体")  # 共性 rows are the finance bureau's templates, not a unit's targets
INFO_LABELS = {"dept_code": "部门编码", "dept_name": "部门名称", "year": "自评年度"}

# (field, header, width, filled by the department)
INDICATOR_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("indicator_id", "库内编号", 14, False),
    ("project_label", "项目名称", 24, False),
    ("level1", "一级指标", 10, False),
    ("level2", "二级指标", 10, False),
    ("name", "指标名称", 28, False),
    ("symbol", "计算符号", 8, False),
    ("target", "目标值", 12, False),
    ("unit", "计量单位", 8, False),
    ("points", "分值", 8, False),
    ("method_zh", "评分方式", 20, False),
    ("actual", "完成值", 12, True),
    ("grade", "评判等级", 16, True),
    ("proposed", "自评分值", 10, True),
    ("deviation_reason", "偏差原因", 30, True),
    ("evidence", "佐证资料", 30, True),
)
PROJECT_COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("project_label", "项目名称", 28, False),
    ("indicators", "指标个数", 10, False),
    ("budget", "全年预算数（万元）", 16, True),
    ("spent", "全年执行数（万元）", 16, True),
    ("completed", "是否完成", 10, True),
)
HEADER = {field: header for field, header, _, _ in (*INDICATOR_COLUMNS, *PROJECT_COLUMNS)}


def file_name(dept_code: str, dept_name: str, year: int) -> str:
    return f"{dept_code}{dept_name}{year}年度绩效自评表.xlsx"


def department_usages(usages: pd.DataFrame, dept_code: str, year: int) -> pd.DataFrame:
    """The usages a department evaluates for `year`, in a fixed order, with their points, method and the
    project label shown; one row per (库内编号, project) — the key the reader matches rows by."""
    mine = usages[
        (usages["dept_code"] == dept_code) & (usages["year"] == year) & usages["scope"].isin(EVALUATED_SCOPES)
    ]
    mine = mine.drop_duplicates(["indicator_id", "project"]).sort_values(
        ["project", "source_row", "indicator_id"], kind="stable"
    )
    mine = mine.join(usage_points(mine))
    method = scoring_method(mine)
    return mine.assign(
        method=method,
        method_zh=method.map(METHOD_ZH),
        project_label=mine["project"].where(mine["project"] != "", DEPT_WIDE),
    ).reset_index(drop=True)


def _formats(book: XlsxBook) -> dict[str, Format]:
    base = {"font_name": "宋体", "font_size": 11, "valign": "top", "border": 1}
    head = base | {"bold": True, "text_wrap": True, "bg_color": FILL_HEADER}
    add = book.workbook.add_format
    return {
        "header": add(head),
        "header_fill": add(head | {"font_color": "#C00000"}),
        "given": add(base | {"num_format": "@", "text_wrap": True}),
        "number": add(base),
        "fill": add(base | {"bg_color": FILL_WARNING, "locked": False}),
        "open": add(base | {"locked": False, "text_wrap": True}),  # a department's cell it need not fill
    }


def _write_grid(
    ws: Worksheet,
    columns: Sequence[tuple[str, str, int, bool]],
    rows: list[dict[str, object]],
    styles: dict[str, Format],
    to_fill: set[tuple[int, str]],
) -> None:
    """Headers, then the rows: given cells locked (text neutralized by the house writer), the cells in
    `to_fill` highlighted, the department's other cells open."""
    for j, (_, header, width, by_dept) in enumerate(columns):
        ws.set_column(j, j, width)
        ws.write_string(0, j, header, styles["header_fill" if by_dept else "header"])
    for i, row in enumerate(rows):
        for j, (field, _, _, by_dept) in enumerate(columns):
            shown = cell_value(row.get(field))
            if by_dept:
                ws.write_blank(i + 1, j, None, styles["fill" if (i, field) in to_fill else "open"])
            elif isinstance(shown, int | float):
                ws.write_number(i + 1, j, shown, styles["number"])
            else:
                ws.write_string(i + 1, j, shown or "", styles["given"])
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    ws.protect("", {"autofilter": True, "format_columns": True, "format_rows": True})


def _qualitative_hint(points: float, bands: ScoringBands) -> str:
    return "；".join(
        f"{b.label} {fmt(b.low / 100 * points)}–{fmt(b.high / 100 * points)} 分" for b in bands.qualitative
    )


def _row_validations(ws: Worksheet, i: int, row: pd.Series, bands: ScoringBands) -> None:
    """The drop-down or input message of one usage's cells to fill, by its scoring method."""
    col = {field: j for j, (field, _, _, _) in enumerate(INDICATOR_COLUMNS)}
    r = i + 1
    if row["method"] == "direct":
        ws.data_validation(r, col["actual"], r, col["actual"], _choice("完成值", ["是", "否"]))
    elif row["method"] == "qualitative":
        grades = [b.label for b in bands.qualitative]
        ws.data_validation(r, col["grade"], r, col["grade"], _choice("评判等级", grades))
        hint = _qualitative_hint(float(row["points"]), bands)
        ws.data_validation(
            r,
            col["proposed"],
            r,
            col["proposed"],
            {
                "validate": "decimal",
                "criteria": "between",
                "minimum": 0,
                "maximum": float(row["points"]),
                "input_title": "自评分值（定性指标）",
                "input_message": f"在所选评判等级的区间内填写：{hint}"[:255],
                "error_type": "warning",
                "error_title": "自评分值超出该指标分值",
                "error_message": f"自评分值应在 0 至 {fmt(float(row['points']))} 分之间：{hint}"[:255],
            },
        )
    else:
        unit = f"，单位：{row['unit']}" if row["unit"] else ""
        message = f"请填写实际完成的数值{unit}（只填数字）"
        ws.data_validation(
            r,
            col["actual"],
            r,
            col["actual"],
            {"validate": "any", "input_title": "完成值", "input_message": message},
        )


def _choice(title: str, values: list[str]) -> dict[str, object]:
    return {
        "validate": "list",
        "source": values,
        "input_title": title,
        "input_message": "请从下拉列表中选择：" + "、".join(values),
        "error_type": "warning",
        "error_title": f"{title}：请从列表中选择",
        "error_message": "请从下拉列表中选择：" + "、".join(values),
    }


def _write_indicators(
    book: XlsxBook, usages: pd.DataFrame, styles: dict[str, Format], bands: ScoringBands
) -> None:
    ws = book.add_sheet(INDICATOR_SHEET)
    to_fill = {
        (i, field)
        for i, method in enumerate(usages["method"])
        for field in (("grade", "proposed") if method == "qualitative" else ("actual",))
    }
    _write_grid(ws, INDICATOR_COLUMNS, usages.to_dict("records"), styles, to_fill)
    for i, row in usages.iterrows():
        _row_validations(ws, int(str(i)), row, bands)


def project_rows(usages: pd.DataFrame) -> pd.DataFrame:
    """One row per project of the department's usages (project, its label shown, indicator count)."""
    counts = usages.groupby(["project", "project_label"], sort=True).size()
    return counts.rename("indicators").reset_index()


def _write_projects(book: XlsxBook, usages: pd.DataFrame, styles: dict[str, Format]) -> None:
    ws = book.add_sheet(PROJECT_SHEET)
    projects = project_rows(usages)
    fields = ("budget", "spent", "completed")
    to_fill = {(i, f) for i in range(len(projects)) for f in fields}
    _write_grid(ws, PROJECT_COLUMNS, projects.to_dict("records"), styles, to_fill)
    last = max(len(projects), 1)
    for j in (2, 3):
        ws.data_validation(
            1,
            j,
            last,
            j,
            {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "input_title": PROJECT_COLUMNS[j][1],
                "input_message": "请填写金额数字（万元），全年预算数为调整后的全年预算",
                "error_type": "warning",
                "error_title": "请填写不小于 0 的数字",
                "error_message": "金额应为不小于 0 的数字（万元）",
            },
        )
    ws.data_validation(1, 4, last, 4, _choice("是否完成", ["是", "否"]))


def _write_info(book: XlsxBook, styles: dict[str, Format], dept_code: str, dept_name: str, year: int) -> None:
    ws = book.add_sheet(INFO_SHEET)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 36)
    ws.write_string(0, 0, "项目", styles["header"])
    ws.write_string(0, 1, "内容", styles["header"])
    values = {"dept_code": dept_code, "dept_name": dept_name, "year": str(year)}
    for i, (field, label) in enumerate(INFO_LABELS.items(), 1):
        ws.write_string(i, 0, label, styles["given"])
        ws.write_string(i, 1, str(cell_value(values[field]) or ""), styles["given"])
    ws.protect("")


def write_self_evaluation(usages: pd.DataFrame, dept_code: str, year: int, out_dir: Path) -> Path:
    """Write the department's pre-filled self-evaluation workbook for `year` into `out_dir`; its path.
    ValueError when the department has no usage that year."""
    mine = department_usages(usages, dept_code, year)
    if mine.empty:
        raise ValueError(f"部门 {dept_code} 在 {year} 年度没有入库的项目或部门整体指标，无法生成自评表")
    dept_name = str(mine["dept_name"].iloc[0])
    bands = scoring_bands()
    path = Path(out_dir) / file_name(dept_code, dept_name, year)
    with xlsx_book(path, title=f"{year}年度绩效自评表", subject="预算绩效指标库") as book:
        styles = _formats(book)
        write_instructions(book, styles, bands)
        _write_info(book, styles, dept_code, dept_name, year)
        _write_indicators(book, mine, styles, bands)
        _write_projects(book, mine, styles)
    return path
