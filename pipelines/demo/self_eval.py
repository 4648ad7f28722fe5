"""The demo's self-evaluations (issue 14): after a year's rebuild, every department's self-evaluation
workbook (pipelines/evaluate/workbook.write_self_evaluation) filled as its clerk would, from a seeded plan.

The plan, the same for every run (a sha256 of year, department, indicator and project, no randomness):
- most indicators met exactly (完成值 = 目标值), a few exceeded, some missed with a 偏差原因;
- 是/否 rows 是 (a few 否); 定性 rows 基本达成目标 in the upper part of the band, a few 部分实现目标;
  满意度 rows mostly at their target;
- one project of one department (LOW_PROJECT) well below target, so it scores below 60;
- MISSED_EVERY_YEAR missed in every evaluated year (the annual review lists it as missed repeatedly);
- EXCEEDED exceeded in every evaluated year: the third year's submission sets its ≥ target below last year's
  actual, and validation warns (W215, 从严从高).
Later years' submissions carry the 历史值 a pre-filled workbook gives (prefilled_history): real actual values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd

from pipelines.evaluate.scoring import qualitative_range, target_range
from pipelines.evaluate.workbook import (
    EVALUATED_SCOPES,
    HEADER,
    INDICATOR_SHEET,
    PROJECT_SHEET,
    write_self_evaluation,
)
from pipelines.store.evaluations import published_actuals
from pipelines.store.prefill import read_library, resolve
from pipelines.store.prefill_history import DepartmentHistory
from pipelines.store.publish import LIBRARY_DIR
from pipelines.store.shape import read_release_table

LOW_PROJECT = ("205", "城市公交运营补贴")
MISSED_EVERY_YEAR = (("207", "节庆活动参与人次"),)
EXCEEDED = (("207", "群众文化活动场次"),)
MISSED_REASON = "受项目实施进度影响，部分任务顺延至下一年度"
LOW_REASON = "线路调整后客流下降，补贴资金拨付滞后"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
HistoryLookup = Callable[[str, str, str], str]  # (部门编码, 库内编号, 项目名称) → 历史值 cell ("" when none)


def _unit(*parts: object) -> float:
    """A fixed number in [0, 1) per key: the plan's only source of variety."""
    digest = hashlib.sha256("␟".join(map(str, parts)).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) / 0x1_0000_0000


def _number(text: object) -> float | None:
    """The target's number as written ("≥60%", "不低于 55%", "90-95": the lower end), None when none."""
    raw = str(text or "")
    found = target_range(raw)
    if found:
        return found[0]
    match = _NUMBER.search(raw.replace(",", ""))
    return float(match.group(0)) if match else None


def _factor(x: float, dept: str, project: str, name: str) -> float:
    """Achieved ÷ target for a ≥ target (its inverse for a ≤ one): 1 when met exactly."""
    if (dept, project) == LOW_PROJECT or (dept, name) in MISSED_EVERY_YEAR:
        return 0.55 if (dept, project) == LOW_PROJECT else 0.8
    if (dept, name) in EXCEEDED:
        return 1.03
    if x < 0.12:
        return 0.7 + 2.0 * x  # 70 %–94 %
    if x > 0.97:
        return 1.02 + x / 10  # a little above
    return 1.0


def planned_actual(x: float, target: str, symbol: str, unit: str, factor: float) -> object:
    """The 完成值 of a quantitative row: the target scaled by `factor` in the direction that counts."""
    value = _number(target)
    if value is None:
        return target
    if symbol in ("≤", "<"):
        actual = value / factor if value else (0 if factor >= 1 else 1)
    else:
        actual = value * factor
    if unit.strip() in ("%", "％") and symbol not in ("≤", "<"):
        actual = min(actual, max(value, 100.0))  # a rate above 100 % would be a typing error
    return round(actual, 2) if not float(actual).is_integer() else int(actual)


def _fill_row(ws: object, r: int, col: dict[str, int], key: tuple[int, str], low: bool) -> None:
    cell = ws.cell  # type: ignore[attr-defined]

    def value(field: str) -> str:
        return str(cell(r, col[HEADER[field]]).value or "")

    year, dept = key
    project, name, method = value("project_label"), value("name"), value("method_zh")
    x = _unit(year, dept, value("indicator_id"), project, name)
    if method.startswith("直接"):
        cell(r, col[HEADER["actual"]]).value = "否" if x < 0.06 or low else "是"
    elif method.startswith("按评判"):
        grade = "部分实现目标" if x < 0.15 or low else "基本达成目标"
        lo, hi = qualitative_range(grade, float(value("points") or 0))
        cell(r, col[HEADER["grade"]]).value = grade
        cell(r, col[HEADER["proposed"]]).value = round(lo + (hi - lo) * 0.75, 1)
    elif method.startswith("满意度"):
        target = _number(value("target")) or 90.0
        cell(r, col[HEADER["actual"]]).value = 78 if low else min(86, target) if x < 0.1 else target
    else:
        factor = _factor(x, dept, project, name)
        actual = planned_actual(x, value("target"), value("symbol"), value("unit"), factor)
        cell(r, col[HEADER["actual"]]).value = actual
        if factor < 1:
            cell(r, col[HEADER["deviation_reason"]]).value = LOW_REASON if low else MISSED_REASON
    cell(r, col[HEADER["evidence"]]).value = "年度工作总结、统计台账"


def fill_self_evaluation(path: Path, year: int, dept: str) -> None:
    """Fill one generated self-evaluation workbook in place, as the plan says."""
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATOR_SHEET]
    col = {str(c.value): c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        project = str(ws.cell(r, col[HEADER["project_label"]]).value or "")
        _fill_row(ws, r, col, (year, dept), (dept, project) == LOW_PROJECT)
    projects = wb[PROJECT_SHEET]
    head = {str(c.value): c.column for c in projects[1]}
    for r in range(2, projects.max_row + 1):
        project = str(projects.cell(r, head[HEADER["project_label"]]).value or "")
        x = _unit(year, dept, "budget", project)
        spent, done = (52, "否") if (dept, project) == LOW_PROJECT else (100, "是") if x > 0.3 else (86, "否")
        projects.cell(r, head[HEADER["budget"]]).value = 100
        projects.cell(r, head[HEADER["spent"]]).value = spent
        projects.cell(r, head[HEADER["completed"]]).value = done
    wb.save(path)


def write_demo_self_evaluations(repo: Path, year: int, out_dir: Path) -> list[Path]:
    """Every department's filled self-evaluation workbook of `year` (from the release in repo/library) in
    out_dir, one per department with 项目 or 部门整体 usages that year, in department order."""
    usages = read_release_table(Path(repo) / LIBRARY_DIR, "usages")
    usages = usages[usages["year"] == year].reset_index(drop=True)
    depts = sorted(set(usages.loc[usages["scope"].isin(EVALUATED_SCOPES), "dept_code"].astype(str)))
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    written = []
    for dept in depts:
        path = write_self_evaluation(usages, dept, year, Path(out_dir))
        fill_self_evaluation(path, year, dept)
        written.append(path)
    return written


def prefilled_history(repo: Path, year: int) -> HistoryLookup:
    """The 历史值 each department's pre-filled workbook of `year` gives a row (pipelines/store/prefill.py:
    published actual values first): the demo's departments start from their pre-filled workbooks."""
    library_dir = Path(repo) / LIBRARY_DIR
    actuals = published_actuals(library_dir)
    cache: dict[str, DepartmentHistory] = {}

    def lookup(dept: str, indicator_id: str, project: str) -> str:
        if dept not in cache:
            library = read_library(Path(repo), dept)
            mine = library.usages
            resolved = {str(i): resolve(str(i), library.indicators) for i in pd.unique(mine["indicator_id"])}
            cache[dept] = DepartmentHistory(mine, resolved, year, actuals[actuals["dept_code"] == dept])
        return cache[dept].cell(indicator_id, project) if indicator_id else ""

    return lookup
