"""The demo's catalogue: the fictional city's departments, projects and indicator lines (demo_data/*.csv).

What the demo must show is the library living through the years, so the sample data carries the changes a
finance bureau sees every autumn: 新增, 沿用, 修改 with reasons (a definition clarified, a unit changed, a
rename), 退出 with a reason, an indicator a department silently drops (auto-retired) and later brings back
(reactivated), the same core indicator submitted by two departments, 共性指标 repeated inside departments
(exactly, and through a synonym), a non-core and a phase-bound row, a few rows that must be rejected, and
one file per year that is not a readable workbook. That content is data: departments (with their filling
habits, see departments.py), projects, and indicators with the year ranges, change types and the outcome
each row is meant to get. Years are offsets 1–3 from the demo's first year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipelines.demo.workbook import to_traditional
from schemas.vocab import read_reference_csv

DATA_DIR = Path(__file__).parent / "demo_data"
DEMO_YEARS = (2024, 2025, 2026)
FINANCE_DEPT = "101"  # the demo bureau's 部门编码 (pass as finance_dept to validate / rebuild)
CITY = "示例市"


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


def _department(r: dict[str, str]) -> Department:
    broken = {}
    for item in filter(None, r["broken"].split(";")):
        offset, _, kind = item.partition(":")
        broken[int(offset)] = kind
    info_keys = ("parent_dept", "contact", "phone", "functions", "function_basis", "strategic_goals")
    return Department(
        code=r["dept_code"],
        name=r["dept_name"],
        info={"dept_code": r["dept_code"], "dept_name": r["dept_name"], "complexity": r["complexity"]}
        | {k: r[k] for k in info_keys},
        file_name=r["file_name"],
        years=_offsets(r["years"]),
        broken=broken,
        style=frozenset(filter(None, r["style"].split(";"))),
    )


@cache
def catalogue() -> Catalogue:
    departments = {r["dept_code"]: _department(r) for r in read_reference_csv(DATA_DIR / "departments.csv")}
    projects = {}
    for r in read_reference_csv(DATA_DIR / "projects.csv"):
        keys = ("project_category", "function_code", "project_nature", "fund_use", "project_goal")
        projects[(r["dept_code"], r["project"])] = Project(
            r["dept_code"], r["project"], {k: r[k] for k in keys}, _offsets(r["years"])
        )
    meta = {"ref", "dept_code", "kind", "years", "change", "expect", "source", "story"}
    lines = [
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
        for r in read_reference_csv(DATA_DIR / "indicators.csv")
    ]
    return Catalogue(departments, projects, lines)
