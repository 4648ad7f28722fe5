"""The self-evaluation report (reports/<Y>/self_evaluation.html + .xlsx): its sections from the tables, the 10 %
re-evaluation sample drawn reproducibly by sha256, deterministic bytes; and the page in headless Chromium
(rendered, every section and table there, submitted text shown as text, nothing fetched — the same three
network proofs as review.html's browser test)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from pipelines.evaluate.reader import read_self_evaluation
from pipelines.evaluate.tables import EvaluationTables, evaluation_tables
from pipelines.evaluate.workbook import write_self_evaluation
from pipelines.report.self_evaluation import (
    HTML_NAME,
    SECTIONS,
    XLSX_NAME,
    reevaluation_sample,
    report_tables,
    sample_key,
    self_evaluation_reports,
)
from tests.test_evaluate_workbook import YEAR, _fill, _usage, department_rows
from tests.test_report import Page
from tests.test_report_browser import CHROMIUM, canary, chromium, page_requests  # noqa: F401 (fixture)

HOSTILE = '<img src="http://127.0.0.1:{port}/img-in-dept">'


def _tables(tmp_path: Path, dept_name: str = "示例市教育局") -> EvaluationTables:
    """Department 201 fills its workbook (G's writer, openpyxl), 205 submits nothing."""
    rows = [
        *department_rows(),
        _usage("ZB-X000007", "项目乙", "产出指标", "培训人次", "≥", "500", "人次", dept_code="205"),
    ]
    usages = pd.DataFrame(rows).assign(
        dept_name=lambda f: f["dept_name"].where(f["dept_code"] != "201", dept_name)
    )
    usages.loc[usages["dept_code"] == "205", "dept_name"] = "示例市交通运输局"
    path = _fill(write_self_evaluation(usages, "201", YEAR, tmp_path))
    return evaluation_tables(usages, YEAR, {"201": read_self_evaluation(path, usages, "201", YEAR)})


def test_sections_from_the_tables(tmp_path: Path) -> None:
    t = _tables(tmp_path)
    report = report_tables(t, YEAR)
    assert [k for k, _, _ in SECTIONS] == list(report.tables)
    grades = report.tables["grades"]
    assert grades["departments"].sum() == 2 and grades["projects_n"].sum() == len(t.projects) == 3
    ranking = report.tables["ranking"]
    assert list(ranking["dept_code"]) == ["201", "205"] and list(ranking["rank"]) == [1, 2]
    assert list(ranking["submitted"]) == ["是", "否"]
    assert set(report.tables["low"]["dept_code"]) >= {"205"}  # the missing department's project scores 0
    assert (report.tables["low"]["total"] < 60).all()
    assert len(report.tables["details"]) == len(t.usages)
    assert report.tables["details"]["explanation"].str.len().gt(0).all()
    far = report.tables["far"]
    assert ((far["rate"] < 60) | (far["rate"] > 150)).all()


def test_the_sample_is_a_tenth_drawn_by_sha256_and_reproducible() -> None:
    projects = pd.DataFrame(
        {"dept_code": [f"{200 + i // 5}" for i in range(45)], "project": [f"项目{i % 5}" for i in range(45)]}
    )
    drawn = reevaluation_sample(projects, YEAR)
    assert len(drawn) == 5  # 10 % of 45, rounded up
    keys = sorted(hashlib.sha256(f"{YEAR}\x1f{d}\x1f{p}".encode()).hexdigest() for d, p in projects.values)
    assert list(drawn["sample_key"]) == [k[:12] for k in keys[:5]]
    assert list(drawn["draw"]) == [1, 2, 3, 4, 5]
    shuffled = projects.sample(frac=1, random_state=7)
    assert reevaluation_sample(shuffled, YEAR)[["dept_code", "project"]].equals(
        drawn[["dept_code", "project"]]
    )
    assert not reevaluation_sample(projects, YEAR + 1)[["dept_code", "project"]].equals(
        drawn[["dept_code", "project"]]
    )
    assert len(reevaluation_sample(projects.head(3), YEAR)) == 1  # at least one
    assert (
        sample_key(YEAR, "201", "项目甲") == hashlib.sha256(f"{YEAR}\x1f201\x1f项目甲".encode()).hexdigest()
    )


def test_report_bytes_are_deterministic_and_the_workbook_has_every_section(tmp_path: Path) -> None:
    t = _tables(tmp_path / "a")
    first, second = self_evaluation_reports(t, YEAR), self_evaluation_reports(_tables(tmp_path / "b"), YEAR)
    assert first == second and set(first) == {HTML_NAME, XLSX_NAME}
    (tmp_path / XLSX_NAME).write_bytes(first[XLSX_NAME])
    wb = openpyxl.load_workbook(tmp_path / XLSX_NAME)
    assert wb.sheetnames == ["概况", *(title for _, title, _ in SECTIONS)]
    details = wb["指标评分明细"]
    assert details.max_row == len(t.usages) + 1


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium fonts-noto-cjk)"
)
def test_page_renders_in_chromium_without_network(tmp_path: Path, canary: tuple[int, list[str]]) -> None:  # noqa: F811
    port, hits = canary
    planted = HOSTILE.format(port=port)
    t = _tables(tmp_path / "wb", dept_name=planted)
    page_path = tmp_path / HTML_NAME
    page_path.write_bytes(self_evaluation_reports(t, YEAR)[HTML_NAME])
    report = report_tables(t, YEAR)

    shot = tmp_path / "page.png"
    chromium(page_path, tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,2400")
    with Image.open(shot) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 22) or []
    assert len(colours) > 50, "the screenshot is (nearly) one colour"
    bar = (0x2F, 0x6D, 0xB5)  # the departments' grade bars
    assert sum(n for n, c in colours if all(abs(a - b) <= 8 for a, b in zip(c, bar, strict=True))) > 200

    dom, dom_log = chromium(page_path, tmp_path, "dom", "--dump-dom")
    page = Page(dom.stdout)
    assert page.sections == [f"s-{k}" for k, _, _ in SECTIONS]
    for key, _, _ in SECTIONS:
        assert len(page.tables.get(f"t-{key}", [])) == len(report.tables[key]), key
    assert "script" not in page.tags and "img" not in page.tags and "iframe" not in page.tags
    ranking = page.tables["t-ranking"]
    assert (
        ranking[0][:3] == ["1", "201", planted] and ranking[0][5] == report.tables["ranking"]["grade"].iloc[0]
    )
    assert page_requests(tmp_path / "shot.netlog.json") == [] and page_requests(dom_log) == []
    assert hits == []

    # the CSP alone stops a fetch escaping would have let through
    text = page_path.read_text(encoding="utf-8")
    unescaped = tmp_path / "unescaped.html"
    unescaped.write_text(text.replace("</head>", "</head>" + planted, 1), encoding="utf-8")
    csp_dom, csp_log = chromium(unescaped, tmp_path, "csp", "--dump-dom")
    assert "img" in Page(csp_dom.stdout).tags and page_requests(csp_log) == [] and hits == []
    if shutil.which("fc-list"):
        fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
        assert fonts.strip(), "no Chinese font installed: apt-get install fonts-noto-cjk"
