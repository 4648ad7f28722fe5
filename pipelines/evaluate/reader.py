"""Reading a filled self-evaluation workbook back (SPEC §7), with located Chinese findings (E5xx).

The file passes the same container check as a filing workbook before any parser sees it (a file that fails
it, or that openpyxl cannot open, is E501). Then 部门信息 must name the department and year evaluated
(E502), and every row of 指标自评 and 项目情况 must be one of the department's usages or projects of that year
(E508, E513), once (E509), filled as its scoring method needs (E503–E507; E511, E512). Usages or projects
left out are warnings (E510, E514) and score 0. A row with an error is kept with its codes in `invalid`: the
scorer gives it 0 points and says why, so a department's score never silently counts a wrong value.
Numbers are read as Excel shows them: a cell formatted as a percentage (0.95 shown 95%) is 95.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from pipelines.common.columns import col_letter
from pipelines.common.findings import Finding, make_finding, sort_findings
from pipelines.evaluate.bands import scoring_bands
from pipelines.evaluate.score import yes_no
from pipelines.evaluate.scoring import fmt, qualitative_range
from pipelines.evaluate.workbook import (
    DEPT_WIDE,
    HEADER,
    INDICATOR_COLUMNS,
    INDICATOR_SHEET,
    INFO_LABELS,
    INFO_SHEET,
    PROJECT_COLUMNS,
    PROJECT_SHEET,
    department_usages,
    project_rows,
)
from pipelines.intake.bounds import Refused
from pipelines.intake.container import check_container
from schemas.text import cell_to_text, clean_text, compact
from schemas.vocab import reference

RESULT_COLUMNS = [
    "indicator_id",
    "project",
    "actual",
    "actual_value",
    "grade",
    "proposed",
    "deviation_reason",
    "evidence",
    "invalid",
    "source_file",
    "source_row",
]
PROJECT_RESULT_COLUMNS = ["dept_code", "project", "budget", "spent", "completed", "invalid", "source_row"]
INDICATOR_REQUIRED = ("indicator_id", "project_label", "actual", "grade", "proposed")
PROJECT_REQUIRED = ("project_label", "budget", "spent", "completed")


@dataclass
class SelfEvaluation:
    """What one workbook says: results per usage and per project, and the findings, located."""

    file: str
    dept_code: str = ""  # the department read (from 部门信息 when not given); "" when set aside early
    results: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RESULT_COLUMNS))
    projects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROJECT_RESULT_COLUMNS))
    findings: list[Finding] = field(default_factory=list)

    @property
    def set_aside(self) -> bool:
        return any(f.severity == "file_error" for f in self.findings)


@dataclass
class _Cell:
    value: Any
    number_format: str
    column: str  # Excel letters


@dataclass
class _Sheet:
    name: str
    columns: dict[str, int]  # field → 0-based column
    rows: list[tuple[int, dict[str, _Cell]]]  # (Excel row, field → cell), blank rows left out


class _Reject(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def parse_number(value: object, number_format: str = "", unit: str = "") -> float | None:
    """A cell's number as Excel shows it: percent-formatted numbers × 100; text such as "95%", "1,200",
    "3天" (the row's unit written after it) read as the number; anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value) * (100 if "%" in (number_format or "") else 1)
        return number if math.isfinite(number) else None
    text = clean_text(str(value)).replace(" ", "").replace(",", "")
    if unit and unit != "%":
        text = text.removesuffix(compact(unit))
    text = text.removesuffix("%")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _open(path: Path) -> Any:
    try:
        check_container(path, reference().limits)
    except Refused as exc:
        raise _Reject("E501", exc.detail) from exc
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl trips on, the clerk gets one file finding
        raise _Reject("E501", f"{type(exc).__name__}") from exc


def _sheet(
    wb: Any, name: str, columns: tuple[tuple[str, str, int, bool], ...], required: tuple[str, ...]
) -> _Sheet:
    if name not in wb.sheetnames:
        raise _Reject("E502", f"缺少工作表“{name}”")
    by_header = {compact(header): f for f, header, _, _ in columns}
    rows = wb[name].iter_rows()
    head = next(rows, ())
    positions = {
        by_header[compact(cell_to_text(c.value))]: j
        for j, c in enumerate(head)
        if compact(cell_to_text(c.value)) in by_header
    }
    missing = [HEADER[f] for f in required if f not in positions]
    if missing:
        raise _Reject("E502", f"工作表“{name}”缺少列“{'”“'.join(missing)}”")
    out = []
    for i, row in enumerate(rows, 2):
        cells = {
            f: _Cell(row[j].value, getattr(row[j], "number_format", "") or "", col_letter(j))
            for f, j in positions.items()
            if j < len(row)
        }
        if any(cell_to_text(c.value) for c in cells.values()):
            out.append((i, cells))
    return _Sheet(name, positions, out)


def _check_info(wb: Any, dept_code: str | None, year: int) -> str:
    """The department the workbook is for: `dept_code` when given (the workbook must name it), else the
    部门编码 it names."""
    if INFO_SHEET not in wb.sheetnames:
        raise _Reject("E502", f"缺少工作表“{INFO_SHEET}”")
    info = {
        compact(cell_to_text(r[0].value)): cell_to_text(r[1].value).strip()
        for r in wb[INFO_SHEET].iter_rows(min_row=2)
        if len(r) >= 2
    }
    code, shown_year = info.get(INFO_LABELS["dept_code"], ""), info.get(INFO_LABELS["year"], "")
    if dept_code is not None and code != dept_code:
        raise _Reject("E502", f"“部门信息”的部门编码为“{code}”，本次自评的部门为“{dept_code}”")
    if shown_year != str(year):
        raise _Reject("E502", f"“部门信息”的自评年度为“{shown_year}”，本次自评年度为 {year}")
    return code


class _Rows:
    """Findings of one sheet, located as Excel shows them."""

    def __init__(self, file: str, sheet: _Sheet) -> None:
        self.file, self.sheet = file, sheet
        self.findings: list[Finding] = []

    def flag(
        self,
        code: str,
        row: int,
        cells: dict[str, _Cell],
        field: str,
        *,
        value: object = "",
        detail: object = "",
    ) -> str:
        cell = cells.get(field)
        self.findings.append(
            make_finding(
                code,
                self.file,
                sheet=self.sheet.name,
                row=row,
                column=cell.column if cell else "",
                field=HEADER[field],
                value=value,
                detail=detail,
            )
        )
        return code


def _text(cells: dict[str, _Cell], f: str) -> str:
    cell = cells.get(f)
    return cell_to_text(cell.value).strip() if cell else ""


def _locate(
    ids: dict[tuple[str, str], pd.Series], by_id: dict[str, list[str]], key: tuple[str, str], year: int
) -> str:
    """ "" when `key` is the department's usage; else why not (E508's detail)."""
    if key in ids:
        return ""
    if key[0] in by_id:
        labels = "”“".join(p or DEPT_WIDE for p in by_id[key[0]])
        return f"该指标属于项目“{labels}”，不属于“{key[1] or DEPT_WIDE}”"
    return f"本部门 {year} 年度没有该编号的指标" if key[0] else "库内编号未填写"


def _check_value(
    rows: _Rows, row: int, cells: dict[str, _Cell], usage: pd.Series
) -> tuple[list[str], dict[str, Any]]:
    """The codes of one usage's row, and its values (actual, actual_value, grade, proposed)."""
    codes: list[str] = []
    out: dict[str, Any] = {
        "actual": _text(cells, "actual"),
        "actual_value": None,
        "grade": "",
        "proposed": None,
    }
    method = usage["method"]
    if method == "qualitative":
        return _check_qualitative(rows, row, cells, usage, out)
    if not out["actual"]:
        codes.append(rows.flag("E503", row, cells, "actual"))
    elif method == "direct":
        out["actual"] = yes_no(out["actual"])
        if not out["actual"]:
            codes.append(rows.flag("E505", row, cells, "actual", value=_text(cells, "actual")))
    else:
        cell = cells["actual"]
        out["actual_value"] = parse_number(cell.value, cell.number_format, str(usage["unit"]))
        if out["actual_value"] is None:
            codes.append(rows.flag("E504", row, cells, "actual", value=out["actual"]))
    return codes, out


def _check_qualitative(
    rows: _Rows, row: int, cells: dict[str, _Cell], usage: pd.Series, out: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    codes: list[str] = []
    grade = compact(_text(cells, "grade"))
    labels = [b.label for b in scoring_bands().qualitative]
    if not grade:
        codes.append(rows.flag("E503", row, cells, "grade"))
    elif grade not in labels:
        codes.append(rows.flag("E506", row, cells, "grade", value=_text(cells, "grade")))
    cell = cells["proposed"]
    proposed = parse_number(cell.value, "", "分")  # "8分" is 8 points
    if not _text(cells, "proposed"):
        codes.append(rows.flag("E503", row, cells, "proposed"))
    elif grade in labels:
        low, high = qualitative_range(grade, float(usage["points"]))
        if proposed is None or not low <= proposed <= high:
            detail = f"“{grade}”对应 {fmt(low)}–{fmt(high)} 分（该指标满分 {fmt(float(usage['points']))} 分）"
            codes.append(
                rows.flag("E507", row, cells, "proposed", value=_text(cells, "proposed"), detail=detail)
            )
    out.update(grade=grade if grade in labels else "", proposed=proposed)
    return codes, out


def _read_indicators(
    file: str, sheet: _Sheet, mine: pd.DataFrame, year: int
) -> tuple[pd.DataFrame, list[Finding]]:
    rows = _Rows(file, sheet)
    usages = {(r["indicator_id"], r["project"]): r for _, r in mine.iterrows()}
    by_id: dict[str, list[str]] = {}
    for ident, project in usages:
        by_id.setdefault(ident, []).append(project)
    first_row: dict[tuple[str, str], int] = {}
    results = []
    for row, cells in sheet.rows:
        label = _text(cells, "project_label")
        key = (_text(cells, "indicator_id"), "" if label == DEPT_WIDE else label)
        why = _locate(usages, by_id, key, year)
        if why:
            rows.flag("E508", row, cells, "indicator_id", value=key[0], detail=why)
            continue
        if key in first_row:
            detail = f"库内编号 {key[0]}、项目“{label}”已在第 {first_row[key]} 行填写"
            rows.flag("E509", row, cells, "indicator_id", detail=detail)
            continue
        first_row[key] = row
        codes, values = _check_value(rows, row, cells, usages[key])
        results.append(
            {"indicator_id": key[0], "project": key[1], **values}
            | {
                "deviation_reason": _text(cells, "deviation_reason"),
                "evidence": _text(cells, "evidence"),
                "invalid": ";".join(dict.fromkeys(codes)),
                "source_file": file,
                "source_row": row,
            }
        )
    for key, usage in usages.items():
        if key not in first_row:
            detail = f"项目“{usage['project_label']}”的“{usage['name']}”，库内编号 {key[0]}"
            rows.findings.append(make_finding("E510", file, sheet=sheet.name, detail=detail))
    return pd.DataFrame(results, columns=RESULT_COLUMNS), rows.findings


def _check_project(rows: _Rows, row: int, cells: dict[str, _Cell]) -> tuple[list[str], dict[str, Any]]:
    codes: list[str] = []
    values: dict[str, Any] = {}
    for f in ("budget", "spent"):
        cell = cells.get(f)
        number = parse_number(cell.value, cell.number_format) if cell else None
        if number is None or number < 0 or (f == "budget" and number == 0):
            codes.append(rows.flag("E511", row, cells, f, value=_text(cells, f)))
        values[f] = number
    completed = yes_no(_text(cells, "completed"))
    if not completed:
        codes.append(rows.flag("E512", row, cells, "completed", value=_text(cells, "completed")))
    values["completed"] = completed == "是"
    return codes, values


def _read_projects(
    file: str, sheet: _Sheet, mine: pd.DataFrame, dept_code: str
) -> tuple[pd.DataFrame, list[Finding]]:
    rows = _Rows(file, sheet)
    known = dict(zip(project_rows(mine)["project_label"], project_rows(mine)["project"], strict=True))
    first_row: dict[str, int] = {}
    results = []
    for row, cells in sheet.rows:
        label = _text(cells, "project_label")
        if label not in known:
            rows.flag("E513", row, cells, "project_label", value=label)
            continue
        if label in first_row:
            rows.flag(
                "E509", row, cells, "project_label", detail=f"项目“{label}”已在第 {first_row[label]} 行填写"
            )
            continue
        first_row[label] = row
        codes, values = _check_project(rows, row, cells)
        results.append(
            {
                "dept_code": dept_code,
                "project": known[label],
                **values,
                "invalid": ";".join(dict.fromkeys(codes)),
                "source_row": row,
            }
        )
    for label in known:
        if label not in first_row:
            rows.findings.append(make_finding("E514", file, sheet=sheet.name, detail=f"项目“{label}”"))
    return pd.DataFrame(results, columns=PROJECT_RESULT_COLUMNS), rows.findings


def read_self_evaluation(
    path: Path, usages: pd.DataFrame, dept_code: str | None, year: int
) -> SelfEvaluation:
    """Read and check one department's filled workbook for `year` against the release's `usages`.
    dept_code None: the department its 部门信息 names (a folder of submissions), which must have usages."""
    path = Path(path)
    out = SelfEvaluation(path.name)
    try:
        wb = _open(path)
        try:
            dept_code = _check_info(wb, dept_code, year)
            mine = department_usages(usages, dept_code, year)
            if mine.empty:
                raise _Reject("E502", f"部门编码“{dept_code}”在 {year} 年度没有入库的项目或部门整体指标")
            indicators = _sheet(wb, INDICATOR_SHEET, INDICATOR_COLUMNS, INDICATOR_REQUIRED)
            projects = _sheet(wb, PROJECT_SHEET, PROJECT_COLUMNS, PROJECT_REQUIRED)
        finally:
            wb.close()
    except _Reject as exc:
        out.findings = [make_finding(exc.code, path.name, detail=exc.detail)]
        return out
    out.dept_code = dept_code
    out.results, found = _read_indicators(path.name, indicators, mine, year)
    out.projects, found_projects = _read_projects(path.name, projects, mine, dept_code)
    out.findings = sort_findings([*found, *found_projects])
    return out


def second_workbook(file: str, dept_code: str, first: str) -> SelfEvaluation:
    """A department's workbook after the one already read (`first`): set aside whole (E502)."""
    detail = f"部门“{dept_code}”已提交自评表“{first}”，每个部门只提交一份"
    return SelfEvaluation(file, findings=[make_finding("E502", file, detail=detail)])


def evaluation_items(usages: pd.DataFrame, dept_code: str, year: int, results: pd.DataFrame) -> pd.DataFrame:
    """The department's usages of `year` with the workbook's results beside them (a usage with no row has
    empty results), ready for score.score_usages."""
    mine = department_usages(usages, dept_code, year)
    merged = mine.merge(
        results.drop(columns=["source_file", "source_row"]), on=["indicator_id", "project"], how="left"
    )
    text = {"actual": "", "grade": "", "deviation_reason": "", "evidence": "", "invalid": ""}
    return merged.fillna(text).astype({c: str for c in text})
