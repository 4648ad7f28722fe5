"""A folder of filled self-evaluation workbooks scored in one go (what `indicators evaluate --submissions DIR`
will call), and a department's scorecard as text. Files are read in name order; each names its department
in 部门信息; a second workbook of a department already read is set aside (E502), so the result does not
depend on which file a clerk sent last."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.evaluate.bands import scoring_bands
from pipelines.evaluate.reader import SelfEvaluation, read_self_evaluation, second_workbook
from pipelines.evaluate.scoring import fmt
from pipelines.evaluate.tables import EvaluationTables, evaluation_tables
from pipelines.evaluate.workbook import DEPT_WIDE


def read_folder(usages: pd.DataFrame, year: int, folder: Path) -> list[SelfEvaluation]:
    """Every *.xlsx of `folder` (not Office's ~$ lock files), read for `year`, in name order."""
    read: list[SelfEvaluation] = []
    seen: dict[str, str] = {}
    for path in sorted(p for p in Path(folder).glob("*.xlsx") if not p.name.startswith("~$")):
        evaluation = read_self_evaluation(path, usages, None, year)
        if evaluation.dept_code in seen:
            evaluation = second_workbook(path.name, evaluation.dept_code, seen[evaluation.dept_code])
        elif evaluation.dept_code:
            seen[evaluation.dept_code] = path.name
        read.append(evaluation)
    return read


def evaluate_folder(usages: pd.DataFrame, year: int, folder: Path) -> EvaluationTables:
    """The evaluation tables of `year` from the workbooks in `folder` (every department of the year listed)."""
    read = read_folder(usages, year, folder)
    tables = evaluation_tables(
        usages, year, {e.dept_code: e for e in read if e.dept_code and not e.set_aside}
    )
    set_aside = [f for e in read if e.set_aside for f in e.findings]
    tables.findings = sorted(
        [*tables.findings, *set_aside], key=lambda f: (f.file, f.sheet, f.row or 0, f.code)
    )
    return tables


def scorecard(tables: EvaluationTables, dept_code: str) -> str:
    """A department's scorecard: its total and grade, each project's, and its indicators scored lowest."""
    dept = tables.departments[tables.departments["dept_code"] == dept_code]
    if dept.empty:
        return f"部门 {dept_code} 本年度没有参加自评的指标"
    d = dept.iloc[0]
    budget_points = scoring_bands().budget_points
    lines = [
        f"{d['dept_name']}（{dept_code}）{d['year']} 年度绩效自评：{fmt(d['total'])} 分，等级“{d['grade']}”"
    ]
    for _, p in tables.projects[tables.projects["dept_code"] == dept_code].iterrows():
        lines.append(
            f"  {p['project'] or DEPT_WIDE}：{fmt(p['total'])} 分（{p['grade']}）；指标 {fmt(p['indicator_points'])}"
            f"/{fmt(p['indicator_max'])}，预算执行率 {fmt(p['budget_points'])}/{fmt(budget_points)}"
        )
    usages = tables.usages[tables.usages["dept_code"] == dept_code]
    lost = (usages["points"] - usages["awarded"]).sort_values(ascending=False, kind="stable")
    for i in lost[lost > 0].index[:5]:
        u = usages.loc[i]
        lines.append(
            f"  失分：{u['name']}（{u['project'] or '部门整体'}）{fmt(u['awarded'])}/{fmt(u['points'])}：{u['explanation']}"
        )
    return "\n".join(lines)
