"""The year's self-evaluation report (SPEC §6, §7): reports/<Y>/self_evaluation.html (one offline page, no
script, the review page's Content-Security-Policy) and self_evaluation.xlsx, from the evaluation tables.

Sections: overview, grade distribution (departments and projects), departments ranked, projects below 60,
indicators far from target (completion rate below 60 % — no points — or above 150 % — a target probably
set too low), the re-evaluation sample (重点评价抽查: 10 % of the projects, at least one, drawn by sorting
on sha256(year, 部门编码, project) — the same tables always give the same sample, and anyone can redraw it),
and every score with its explanation. Submitted text reaches the page only through Jinja2 autoescaping.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.common.xlsx_out import write_table, xlsx_book
from pipelines.evaluate.tables import EvaluationTables
from pipelines.evaluate.workbook import DEPT_WIDE
from pipelines.report.html_page import page_environment
from pipelines.store.evaluations import REPORT_FILES
from schemas.evaluation import GRADES, TITLES_ZH

HTML_NAME, XLSX_NAME = REPORT_FILES  # the names a rebuild carries over (pipelines/store/evaluations.py)
SAMPLE_SHARE = 0.10
FAR_BELOW, FAR_ABOVE = 60.0, 150.0  # completion rate in percent
LOW_TOTAL = 60.0
RULE_ZH = {
    "direct": "直接赋分",
    "proportional": "按完成比例赋分",
    "qualitative": "按评判等级赋分",
    "satisfaction": "满意度赋分",
    "unscored": "未评分（0 分）",
}
EXTRA_TITLES = {
    "rank": "名次",
    "draw": "抽取顺序",
    "sample_key": "抽样键（sha256 前 12 位）",
    "departments": "部门数",
    "projects_n": "项目数",
    "why": "偏离情况",
}

# (key, title, columns) of each table, in page order
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("grades", "等级分布", ("grade", "departments", "projects_n")),
    ("ranking", "部门排名", ("rank", "dept_code", "dept_name", "projects", "total", "grade", "submitted")),
    ("low", "低于 60 分的项目", ("dept_code", "dept_name", "project", "total", "grade", "explanation")),
    (
        "far",
        "偏离目标较大的指标",
        ("dept_code", "project", "indicator_id", "name", "symbol", "target", "unit", "actual", "rate", "why"),
    ),
    (
        "sample",
        "重点评价抽查样本",
        ("draw", "dept_code", "dept_name", "project", "total", "grade", "sample_key"),
    ),
    (
        "projects",
        "项目得分明细",
        ("dept_code", "project", "indicator_points", "budget_points", "total", "grade", "budget_explanation"),
    ),
    (
        "details",
        "指标评分明细",
        (
            "dept_code",
            "project",
            "indicator_id",
            "name",
            "target",
            "actual",
            "points",
            "awarded",
            "rule",
            "explanation",
            "deviation_reason",
        ),
    ),
)


@dataclass
class SelfEvaluationReport:
    year: int
    overview: dict[str, str]
    tables: dict[str, pd.DataFrame]  # key of SECTIONS → rows with that section's columns


def sample_key(year: int, dept_code: str, project: str) -> str:
    """The hash a project is drawn by (hex sha256 of year, 部门编码 and project, separated by \\x1f)."""
    return hashlib.sha256(f"{year}\x1f{dept_code}\x1f{project}".encode()).hexdigest()


def reevaluation_sample(projects: pd.DataFrame, year: int, share: float = SAMPLE_SHARE) -> pd.DataFrame:
    """`share` of the projects (rounded up, at least one when there are any), those with the smallest
    sample_key, in draw order, with the columns draw and sample_key added."""
    if projects.empty:
        return projects.assign(draw=pd.Series(dtype=int), sample_key=pd.Series(dtype=str))
    keys = [sample_key(year, d, p) for d, p in zip(projects["dept_code"], projects["project"], strict=True)]
    drawn = projects.assign(sample_key=keys).sort_values("sample_key", kind="stable")
    drawn = drawn.head(max(1, math.ceil(share * len(projects)))).reset_index(drop=True)
    return drawn.assign(draw=range(1, len(drawn) + 1), sample_key=drawn["sample_key"].str[:12])


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(project=frame["project"].where(frame["project"] != "", DEPT_WIDE))


def _grades(t: EvaluationTables) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grade": list(GRADES),
            "departments": [int((t.departments["grade"] == g).sum()) for g in GRADES],
            "projects_n": [int((t.projects["grade"] == g).sum()) for g in GRADES],
        }
    )


def _far(usages: pd.DataFrame) -> pd.DataFrame:
    rate = usages["rate"]
    far = usages[(rate < FAR_BELOW) | (rate > FAR_ABOVE)]
    why = far["rate"].map(
        lambda r: (
            f"完成率低于 {FAR_BELOW:g}%，不得分"
            if r < FAR_BELOW
            else f"完成率超过 {FAR_ABOVE:g}%，目标可能偏低"
        )
    )
    return far.assign(why=why).sort_values(["rate", "dept_code", "project", "indicator_id"], kind="stable")


def report_tables(t: EvaluationTables, year: int) -> SelfEvaluationReport:
    ranking = t.departments.sort_values(["total", "dept_code"], ascending=[False, True], kind="stable")
    ranking = ranking.assign(rank=ranking["total"].rank(method="min", ascending=False).astype(int))
    ranking = ranking.assign(submitted=ranking["submitted"].map({True: "是", False: "否"}))
    low = t.projects[t.projects["total"] < LOW_TOTAL].sort_values(
        ["total", "dept_code", "project"], kind="stable"
    )
    frames = {
        "grades": _grades(t),
        "ranking": ranking,
        "low": _with_labels(low),
        "far": _with_labels(_far(t.usages)),
        "sample": _with_labels(reevaluation_sample(t.projects, year)),
        "projects": _with_labels(t.projects),
        "details": _with_labels(t.usages).assign(rule=t.usages["rule"].map(RULE_ZH)),
    }
    tables = {key: frames[key].loc[:, list(cols)].reset_index(drop=True) for key, _, cols in SECTIONS}
    overview = {
        "部门": str(len(t.departments)),
        "提交自评表的部门": str(int(t.departments["submitted"].sum())),
        "项目": str(len(t.projects)),
        "指标": str(len(t.usages)),
        "部门平均分": f"{t.departments['total'].mean():.2f}" if len(t.departments) else "—",
        "低于 60 分的项目": str(len(low)),
        "抽查项目": str(len(tables["sample"])),
    }
    return SelfEvaluationReport(year, overview, tables)


def titles() -> dict[str, str]:
    return {**TITLES_ZH, **EXTRA_TITLES, "grade": "等级", "rate": "完成率(%)"}


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def render_html(report: SelfEvaluationReport) -> str:
    env = page_environment()
    env.filters["cell"] = _cell
    sections = [
        (key, title, [titles().get(c, c) for c in cols], report.tables[key].itertuples(index=False))
        for key, title, cols in SECTIONS
    ]
    grades = report.tables["grades"]
    widest = max([1, *grades["departments"], *grades["projects_n"]])
    return env.get_template("self_evaluation.html.j2").render(
        year=report.year,
        overview=report.overview,
        sections=sections,
        counts={key: len(frame) for key, frame in report.tables.items()},
        bars=[(r.grade, r.departments, r.projects_n, widest) for r in grades.itertuples()],
        sample_share=f"{SAMPLE_SHARE:.0%}",
    )


def write_xlsx(report: SelfEvaluationReport, path: Path) -> Path:
    with xlsx_book(path, title=f"{report.year}年度绩效自评结果", subject="预算绩效指标库") as book:
        overview = pd.DataFrame({"item": list(report.overview), "value": list(report.overview.values())})
        write_table(book, "概况", overview, {"item": "项目", "value": "数值"})
        for key, title, _ in SECTIONS:
            write_table(book, title, report.tables[key], titles())
    return path


def self_evaluation_reports(tables: EvaluationTables, year: int) -> dict[str, bytes]:
    """The report's files by name (reports/<Y>/…), as bytes: the same tables give the same bytes."""
    report = report_tables(tables, year)
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = write_xlsx(report, Path(tmp) / XLSX_NAME).read_bytes()
    return {HTML_NAME: render_html(report).encode("utf-8"), XLSX_NAME: xlsx}
