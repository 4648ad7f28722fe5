"""pipelines.report.build: review.html / review.xlsx / CHANGELOG.md / feedback from one year's inputs.

Two kinds of input: `sample_inputs` builds a small but complete year by hand (tables with the dtypes of
schemas/library.py, a ValidationResult with real findings, a ChangeSet with every kind of event), with
hostile text planted in names, findings, department names and merge candidates; the end-to-end test
runs real workbooks through read → validate → consolidate → publish → git and checks the report
against `indicators diff` (pipelines.store.query.diff.diff) of the committed releases.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from markupsafe import escape

from pipelines.common.findings import Finding, make_finding
from pipelines.consolidate.changes import ChangeSet, changes_markdown, diff_indicators
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from pipelines.report.tables import review_tables
from pipelines.report.violations import VIOLATION_SEVERITIES
from pipelines.validate.runner import FileStatus, ValidationResult
from schemas.library import LibraryTables
from schemas.vocab import reference
from tests.library_fixtures import (
    department,
    indicator,
    make_id,
    set_aside_row,
    small_rows,
    synthetic_tables,
    tables_from_rows,
    usage,
)

YEAR = 2026
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
SECTIONS = ("overview", "departments", "changes", "violations", "coverage", "trend", "targets")
CHARTS = (
    "chart-outcomes",
    "chart-changes",
    "chart-departments",
    "chart-violations",
    "chart-rules",
    "chart-coverage-class",
    "chart-coverage-level",
    "chart-trend-changes",
    "chart-trend-active",
    "chart-trend-rows",
)
KIND_OF_SCOPE = {"项目": "project", "部门整体": "core", "共性": "common"}
SET_ASIDE_FILE = "301_2026.xlsx"  # 填报年度 wrong: the whole workbook is set aside
BROKEN_FILE = "坏文件.xlsx"  # not an xlsx at all
ABSENT = "999"  # in the library, sent nothing this year


# --------------------------------------------------------------------------------------------------
# Inputs built by hand
# --------------------------------------------------------------------------------------------------


def _validation_rows(tables: LibraryTables, year: int, extra: list[dict]) -> pd.DataFrame:
    """The validation rows consistent with the tables: this year's usages are the library rows."""
    complexity = dict(zip(tables.departments["dept_code"], tables.departments["complexity"], strict=True))
    names = dict(zip(tables.departments["dept_code"], tables.departments["dept_name"], strict=True))
    u = tables.usages[tables.usages["year"] == year]
    s = tables.set_aside[tables.set_aside["year"] == year]
    frames = [
        pd.DataFrame(
            {
                "source_file": u["source_file"],
                "source_sheet": u["source_sheet"],
                "source_row": u["source_row"],
                "dept_code": u["dept_code"],
                "dept_name": u["dept_name"],
                "sheet_kind": u["scope"].map(KIND_OF_SCOPE),
                "project": u["project"],
                "name": u["name"],
                "complexity": u["dept_code"].map(complexity).fillna(""),
                "outcome": "library",
                "reason_codes": "",
            }
        ),
        pd.DataFrame(
            {
                "source_file": s["source_file"],
                "source_sheet": s["source_sheet"],
                "source_row": s["source_row"],
                "dept_code": s["dept_code"],
                "dept_name": s["dept_code"].map(names).fillna(""),
                "sheet_kind": s["scope"].map(KIND_OF_SCOPE),
                "project": s["project"],
                "name": s["name"],
                "complexity": s["dept_code"].map(complexity).fillna(""),
                "outcome": s["outcome"],
                "reason_codes": s["reason_codes"],
            }
        ),
    ]
    if extra:
        frames.append(pd.DataFrame(extra))
    return pd.concat(frames, ignore_index=True)


def _candidates(pairs: list[tuple[str, str, str, str, float, str]]) -> pd.DataFrame:
    from pipelines.dedupe.candidates import CANDIDATE_COLUMNS

    defaults: dict[str, object] = dict.fromkeys(CANDIDATE_COLUMNS, "")
    defaults.update(name_score=90.0, definition_score=80.0, cosine=0.9)
    records = []
    for id_a, name_a, id_b, name_b, score, reason in pairs:
        rec = dict(defaults)
        rec.update(
            id_a=id_a,
            name_a=name_a,
            id_b=id_b,
            name_b=name_b,
            score=score,
            reason=reason,
            pattern="培→训",
            pattern_group="培→训",
        )
        records.append(rec)
    return pd.DataFrame(records, columns=CANDIDATE_COLUMNS)


def sample_inputs() -> ReportInputs:
    """A small complete year: two departments in the library (101 complex, 205 single and over its core
    limit), one workbook set aside for its year, one unreadable file, every kind of change, hostile text."""
    inds, uses, depts, sets = small_rows(YEAR)
    by_id = {i["indicator_id"]: i for i in inds}
    # Renamed this year to hostile text (the old names stay in the previous release).
    old_names = {
        make_id("项目", 1): by_id[make_id("项目", 1)]["name"],
        make_id("项目", 2): by_id[make_id("项目", 2)]["name"],
    }
    by_id[make_id("项目", 1)].update(name=SCRIPT, last_change_type="修改", last_change_reason="名称更准确")
    by_id[make_id("项目", 2)].update(name=FORMULA, last_change_type="修改", last_change_reason=FORMULA)
    for u in uses:
        if u["indicator_id"] in old_names:
            u.update(name=by_id[u["indicator_id"]]["name"], change_type="修改", change_reason="名称更准确")
    # Retired on request of department 205 (a 退出 row), merged, reactivated, and three new ones.
    quit_id = make_id("项目", 11)
    by_id[quit_id].update(status="retired", retired_year=YEAR, retire_reason="项目已完成", departments=[])
    for u in uses:
        if u["indicator_id"] == quit_id:
            u.update(
                change_type="退出", change_reason="项目已完成", dept_code="205", source_file="205_2026.xlsx"
            )
    merged = indicator(
        make_id("项目", 50),
        "培训人次（人）",
        function_code="2010101",
        year=YEAR - 1,
        status="merged",
        merged_into=make_id("项目", 2),
        retired_year=YEAR,
        retire_reason="经人工审核确认为同一指标，已合并",
    )
    back = indicator(
        make_id("项目", 60), "档案查阅人次", function_code="2080101", year=YEAR - 2, departments=["101"]
    )
    back.update(last_change_type="恢复", last_change_reason="本年度重新使用")
    inds += [merged, back]
    uses.append(usage(back, dept_code="101", source_row=30, target="500"))
    new_ids = [make_id("部门整体", 1), make_id("部门整体", 2), make_id("项目", 9)]
    for ind in inds:
        if ind["indicator_id"] not in new_ids and ind["indicator_id"] not in (make_id("项目", 99),):
            ind["first_year"] = min(ind["first_year"], YEAR - 1)
    depts = [
        department("101", complexity="复杂", first_year=YEAR - 2),
        department("205", dept_name=FORMULA, complexity="单一", first_year=YEAR - 1),
        department(ABSENT, dept_name="未报送局", complexity="", first_year=YEAR - 1, last_year=YEAR - 1),
    ]
    for u in uses:
        if u["dept_code"] == "205":
            u["dept_name"] = FORMULA
    # Department 205 has 7 core rows: over its limit of 6 (单一).
    core_base = by_id[make_id("部门整体", 2)]
    for k in range(7 - sum(1 for u in uses if u["dept_code"] == "205" and u["scope"] == "部门整体")):
        uses.append(usage(core_base, dept_code="205", source_row=80 + k, target="5", dept_name=FORMULA))
    # Earlier years' usages and set-aside rows give the trend something to show.
    for k, ind in enumerate(i for i in inds if i["first_year"] <= YEAR - 1 and i["status"] != "merged"):
        uses.append(usage(ind, dept_code="101", year=YEAR - 1, source_row=100 + k))
    sets.append(set_aside_row("rejected", dept_code="101", year=YEAR - 1, source_row=7))
    sets.append(set_aside_row("noncore", dept_code="205", year=YEAR, source_row=63, name=SCRIPT))
    tables = tables_from_rows(inds, uses, depts, sets)

    prev_inds = [dict(i) for i in inds if i["indicator_id"] not in new_ids]
    for p in prev_inds:
        p.update(status="active", retired_year=None, retire_reason="", merged_into="")
        if p["indicator_id"] in old_names:
            p["name"] = old_names[p["indicator_id"]]
        if p["indicator_id"] == make_id("项目", 60):
            p.update(status="retired", retired_year=YEAR - 1, retire_reason="本年度无部门使用")
    previous = tables_from_rows(prev_inds, [u for u in uses if u["year"] < YEAR], depts[:2], [])

    changes = diff_table_by_hand(tables, previous)

    rows = _validation_rows(
        tables,
        YEAR,
        [
            {
                "source_file": SET_ASIDE_FILE,
                "source_sheet": "项目支出指标",
                "source_row": 5 + k,
                "dept_code": "301",
                "dept_name": "审计局",
                "sheet_kind": "project",
                "project": "审计项目",
                "name": f"审计覆盖率{k}",
                "complexity": "",
                "outcome": "rejected",
                "reason_codes": "F006",
            }
            for k in range(2)
        ],
    )
    files = []
    for file, group in rows.groupby("source_file", sort=True):
        first = group.iloc[0]
        errors = sorted({c for c in group["reason_codes"] if c.startswith("F")})
        files.append(
            FileStatus(str(file), "0" * 64, True, first["dept_code"], first["dept_name"], errors, len(group))
        )
    files.append(FileStatus(BROKEN_FILE, "1" * 64, False, "", "", ["F001"], 0))

    findings: list[Finding] = [
        make_finding(
            "F006",
            SET_ASIDE_FILE,
            sheet="部门信息",
            row=3,
            column="B",
            field="填报年度",
            value="2025",
            detail=YEAR,
        ),
        make_finding("F001", BROKEN_FILE),
        make_finding("R101", "205_2026.xlsx", sheet="项目支出指标", row=62, column="E", field="三级指标"),
        make_finding("W208", "101_2026.xlsx", sheet="项目支出指标", row=5, column="P", field="数据来源"),
        make_finding("W208", "101_2026.xlsx", sheet="项目支出指标", row=6, column="P", field="数据来源"),
        make_finding(
            "W201",
            "101_2026.xlsx",
            sheet="项目支出指标",
            row=5,
            column="B",
            field="项目名称",
            value=SCRIPT,
            detail=12,
        ),
        make_finding(
            "W213",
            "205_2026.xlsx",
            sheet="项目支出指标",
            row=9,
            column="C",
            field="项目类别",
            value=FORMULA,
            detail="其他",
        ),
        make_finding(
            "W206",
            "205_2026.xlsx",
            sheet="部门整体核心指标",
            row=12,
            column="E",
            field="指标名称",
            value="7",
            detail="6",
        ),
        make_finding(
            "X301", "101_2026.xlsx", sheet="项目支出指标", row=60, column="S", field="纳入指标库", value="否"
        ),
    ]
    candidates = _candidates(
        [
            (make_id("项目", 1), SCRIPT, make_id("项目", 9), "培训人次", 88.0, "名称相近"),
            (make_id("项目", 2), FORMULA, make_id("项目", 3), "维修验收合格率", 71.0, FORMULA),
        ]
    )
    validation = ValidationResult(rows, findings, files, pd.DataFrame())
    return ReportInputs(YEAR, changes, validation, [], candidates, tables, previous)


def diff_table_by_hand(tables: LibraryTables, previous: LibraryTables) -> ChangeSet:
    """The ChangeSet of the sample, written out event by event (not computed by diff_indicators)."""
    ind = tables.indicators.set_index("indicator_id")
    old = previous.indicators.set_index("indicator_id")
    added_ids = sorted(set(ind.index) - set(old.index))
    added = pd.DataFrame(
        {
            "indicator_id": added_ids,
            "name": [ind.at[i, "name"] for i in added_ids],
            "scope": [ind.at[i, "scope"] for i in added_ids],
            "departments": ["、".join(ind.at[i, "departments"]) for i in added_ids],
            "reason": [ind.at[i, "last_change_reason"] for i in added_ids],
        }
    )
    x1, x2 = make_id("项目", 1), make_id("项目", 2)
    modified = pd.DataFrame(
        [
            (x1, SCRIPT, "name", old.at[x1, "name"], SCRIPT, "名称更准确"),
            (x2, FORMULA, "name", old.at[x2, "name"], FORMULA, FORMULA),
        ],
        columns=["indicator_id", "name", "field", "old", "new", "reason"],
    )
    retired_ids = sorted(
        i for i in ind.index if ind.at[i, "status"] == "retired" and old.at[i, "status"] == "active"
    )
    retired = pd.DataFrame(
        {
            "indicator_id": retired_ids,
            "name": [ind.at[i, "name"] for i in retired_ids],
            "reason": [ind.at[i, "retire_reason"] for i in retired_ids],
        }
    )
    x50 = make_id("项目", 50)
    merged = pd.DataFrame(
        [(x50, ind.at[x50, "name"], x2, FORMULA, ind.at[x50, "retire_reason"])],
        columns=["indicator_id", "name", "into_id", "into_name", "reason"],
    )
    x60 = make_id("项目", 60)
    reactivated = pd.DataFrame(
        [(x60, ind.at[x60, "name"], "本年度重新使用")], columns=["indicator_id", "name", "reason"]
    )
    return ChangeSet("v2025", "2026 年度", added, modified, retired, merged, reactivated)


# --------------------------------------------------------------------------------------------------
# Reading the page back
# --------------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """What a reader of review.html gets: sections, tables (cell texts), charts (marks), attributes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: dict[str, int] = {}
        self.chart_text: dict[str, str] = {}
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.cards: list[tuple[str, str]] = []
        self.meta: list[dict[str, str]] = []
        self._table: str | None = None
        self._in_tbody = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._svg: str | None = None
        self._card: list[str] | None = None
        self._card_part: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in a.items()]
        if tag == "meta":
            self.meta.append(a)
        if tag == "section":
            self.sections.append(a.get("id", ""))
        elif tag == "table":
            self._table = a.get("id", "")
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif tag == "svg":
            self._svg = a.get("id", "")
            self.charts[self._svg] = 0
            self.chart_text[self._svg] = ""
        elif (
            self._svg is not None
            and "mark" in a.get("class", "").split()
            and tag in ("rect", "path", "circle")
        ):
            self.charts[self._svg] += 1
        elif tag == "div" and "card" in a.get("class", "").split():
            self._card = ["", ""]
        elif tag == "span" and self._card is not None:
            self._card_part = a.get("class", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_tbody = False
        elif tag == "table":
            self._table = None
        elif tag == "svg":
            self._svg = None
        elif tag == "span":
            self._card_part = None
        elif tag == "div" and self._card is not None:
            self.cards.append((self._card[0].strip(), self._card[1].strip()))
            self._card = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._svg is not None:
            self.chart_text[self._svg] += data
        if self._card is not None and self._card_part in ("v", "k"):
            self._card[0 if self._card_part == "v" else 1] += data


def num(n: int) -> str:
    return f"{n:,}"


def sha_tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def written_tree(out: Path, files: list[Path]) -> dict[str, str]:
    """A written report: file → sha256, and "(order)" → the returned paths' order."""
    return {**sha_tree(out), "(order)": " ".join(str(p.relative_to(out)) for p in files)}


def report_in_process(inputs: ReportInputs, out: Path) -> dict[str, str]:
    """The report written without a fork (INDICATORS_FORK=0), as written_tree."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INDICATORS_FORK", "0")
        files = write_annual_report(out, inputs)
    return written_tree(out, files)


def violations(inputs: ReportInputs) -> list[Finding]:
    return [f for f in inputs.validation.findings if f.severity in VIOLATION_SEVERITIES]


def expected_rows(inputs: ReportInputs) -> dict[str, int]:
    """Row counts each table must have, worked out from the inputs (not from review_tables)."""
    files = inputs.validation.files
    absent = set(inputs.tables.departments["dept_code"]) - {f.dept_code for f in files}
    viol = violations(inputs)
    active = inputs.tables.indicators[inputs.tables.indicators["status"] == "active"]
    uses = inputs.tables.usages[inputs.tables.usages["year"] == inputs.year]
    classes = set(active.loc[active["scope"] == "项目", "function_class"]) | set(
        uses.loc[uses["scope"] == "项目", "function_code"].str[:3]
    )
    first = min(inputs.tables.indicators["first_year"].min(), inputs.tables.usages["year"].min())
    c = inputs.changes
    return {
        "departments": len(files) + len(absent),
        "added": len(c.added),
        "modified": len(c.modified),
        "retired": len(c.retired),
        "merged": len(c.merged),
        "reactivated": len(c.reactivated),
        "candidates": len(inputs.candidates),
        "violations": len({f.file for f in viol}),
        "rules": len({f.code for f in viol}),
        "details": len({(f.file, f.sheet, f.code, f.field) for f in viol}),
        "coverage_class": len(classes - {""}),
        "coverage_level": len(reference().framework),
        "trend": inputs.year - int(first) + 1,
        "targets_too_low": 0,  # inputs by hand: no repo, no self-evaluation (tests/test_target_review.py)
        "targets_missed": 0,
    }


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


@pytest.fixture(scope="module")
def report(inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "reports" / str(YEAR)
    write_annual_report(out, inputs)
    return out


def test_rewriting_the_same_year_gives_byte_identical_files(
    inputs: ReportInputs, report: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    write_annual_report(again, inputs)
    first, second = sha_tree(report), sha_tree(again)
    assert {"review.html", "review.xlsx", "CHANGELOG.md", "merge_review.xlsx"} <= set(first)
    assert first == second
    write_annual_report(again, inputs)  # over the existing files, as a rerun does
    assert sha_tree(again) == first


def test_page_has_every_section_table_and_chart(inputs: ReportInputs, report: Path) -> None:
    page = Page((report / "review.html").read_text(encoding="utf-8"))
    assert page.sections == list(SECTIONS)
    for key, n in expected_rows(inputs).items():
        if n == 0:
            assert f"t-{key}" not in page.tables
        else:
            assert len(page.tables[f"t-{key}"]) == n, key
    assert set(page.charts) == set(CHARTS)
    for chart, marks in page.charts.items():
        assert marks > 0, f"{chart} drew nothing"


def test_figures_on_the_page_match_the_inputs(inputs: ReportInputs, report: Path) -> None:
    page = Page((report / "review.html").read_text(encoding="utf-8"))
    rows = inputs.validation.rows
    cards = {label: value for value, label in page.cards}
    assert cards["读取行数"] == num(len(rows))
    assert cards["入库"] == num(int((rows["outcome"] == "library").sum()))
    assert cards["退回"] == num(int((rows["outcome"] == "rejected").sum()))
    assert cards["新增指标"] == num(len(inputs.changes.added))
    assert cards["修改指标"] == num(inputs.changes.modified["indicator_id"].nunique())

    table = {r[2]: r for r in page.tables["t-departments"]}  # by 报送文件
    for file, group in rows.groupby("source_file"):
        r = table[file]
        outcome = group["outcome"].value_counts()
        assert r[4:9] == [num(len(group))] + [
            num(int(outcome.get(o, 0))) for o in ("library", "noncore", "excluded", "rejected")
        ]
        warnings = sum(f.file == file and f.severity == "warning" for f in inputs.validation.findings)
        assert r[9] == num(warnings)
    # Department 205 is 单一 with 7 core indicators: shown against its limit of 6; it retired one.
    r205 = table["205_2026.xlsx"]
    limit = reference().limits["core_max_single"]
    core_205 = int(
        ((rows["dept_code"] == "205") & (rows["sheet_kind"] == "core") & (rows["outcome"] == "library")).sum()
    )
    assert core_205 > limit
    assert r205[10] == f"{core_205} / {limit}"
    # Changes each department caused: new indicators it uses, its 修改 / 退出 rows that took effect.
    uses = inputs.tables.usages[inputs.tables.usages["year"] == YEAR]
    for dept in ("101", "205"):
        added = sum(dept in d.split("、") for d in inputs.changes.added["departments"])
        mine = uses[uses["dept_code"] == dept]
        modified = set(mine.loc[mine["change_type"] == "修改", "indicator_id"]) & set(
            inputs.changes.modified["indicator_id"]
        )
        retired = set(mine.loc[mine["change_type"] == "退出", "indicator_id"]) & set(
            inputs.changes.retired["indicator_id"]
        )
        assert table[f"{dept}_2026.xlsx"][12] == f"{added} / {len(modified)} / {len(retired)}"
    assert r205[12].endswith(" / 1")  # it asked to retire one indicator
    assert table[SET_ASIDE_FILE][13].startswith("退回重报：填报年度")
    assert table[BROKEN_FILE][13].startswith("退回重报：文件不是可读取的 xlsx")
    assert [r[13] for r in page.tables["t-departments"] if r[0] == ABSENT] == ["本年度未报送"]
    trend = {r[0]: r for r in page.tables["t-trend"]}
    assert trend[str(YEAR)][1] == num(len(rows) - 2)  # the set-aside workbook's rows are not in the tables
    assert trend[str(YEAR)][8] == num(len(inputs.changes.retired))


def test_changelog_is_the_same_change_set(inputs: ReportInputs, report: Path) -> None:
    text = (report / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text == changes_markdown(inputs.changes, f"{YEAR} 年度指标库变更记录")
    page = Page((report / "review.html").read_text(encoding="utf-8"))
    assert [r[0] for r in page.tables["t-added"]] == inputs.changes.added["indicator_id"].tolist()
    assert [(r[0], r[3], r[4]) for r in page.tables["t-modified"]] == list(
        zip(
            inputs.changes.modified["indicator_id"],
            inputs.changes.modified["old"],
            inputs.changes.modified["new"],
            strict=True,
        )
    )
    assert [r[0] for r in page.tables["t-retired"]] == inputs.changes.retired["indicator_id"].tolist()


def test_submitted_text_is_never_live(inputs: ReportInputs, report: Path) -> None:
    text = (report / "review.html").read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert html.escape(SCRIPT, quote=False) in text
    assert str(escape(FORMULA)) in text or html.escape(FORMULA) in text
    page = Page(text)
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    # The hostile names are on the page as text: in tables and in chart labels.
    cells = [c for rows in page.tables.values() for r in rows for c in r]
    assert SCRIPT in cells and FORMULA in cells
    assert FORMULA in page.chart_text["chart-departments"]
    # Nothing that could fetch or navigate: fragment links only, no src, no url(), the CSP forbids all.
    for tag, name, value in page.attrs:
        assert name not in ("src", "srcset", "action", "formaction", "xlink:href", "background"), (tag, name)
        if name == "href":
            assert value.startswith("#"), value
        assert not name.startswith("on"), (tag, name)
    assert not re.search(r"url\s*\(", text)
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text)
    csp = [m["content"] for m in page.meta if m.get("http-equiv", "").lower() == "content-security-policy"]
    assert csp and "default-src 'none'" in csp[0] and "img-src data:" in csp[0]

    book = openpyxl.load_workbook(report / "review.xlsx")
    hostile = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert cell.value.lstrip()[:1] not in ("=", "+", "-", "@"), (ws.title, cell.value)
                    if cell.value == "'" + FORMULA:
                        hostile.append((ws.title, cell.value))
    sheets = {s for s, _ in hostile}
    assert {"部门审核", "修改指标", "疑似重复"} <= sheets


def test_workbook_has_the_same_tables_as_the_page(inputs: ReportInputs, report: Path) -> None:
    tables = review_tables(inputs)
    book = openpyxl.load_workbook(report / "review.xlsx", read_only=True)
    assert book.sheetnames == [t.sheet for t in tables.values()]
    expected = expected_rows(inputs)
    for table in tables.values():
        ws = book[table.sheet]
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == list(table.titles.values())
        body = [r for r in rows[1:] if any(v is not None for v in r)]
        if table.key in expected:
            assert len(body) == expected[table.key], table.key
        assert len(body) == len(table.frame), table.key  # here fewer pairs than review.xlsx's cap


def test_a_year_without_previous_release_or_findings(tmp_path: Path) -> None:
    """The first year: no previous release, no findings, no candidates — every section still renders."""
    tables = tables_from_rows(*small_rows(YEAR))
    tables.indicators["first_year"] = YEAR
    rows = _validation_rows(tables, YEAR, [])
    files = [
        FileStatus(f, "", True, g["dept_code"].iloc[0], g["dept_name"].iloc[0], [], len(g))
        for f, g in rows.groupby("source_file")
    ]
    changes = diff_indicators(
        None, tables.indicators[tables.indicators["status"] == "active"], "", f"{YEAR} 年度"
    )
    inputs = ReportInputs(
        YEAR, changes, ValidationResult(rows, [], files, pd.DataFrame()), [], pd.DataFrame(), tables
    )
    write_annual_report(tmp_path, inputs)
    page = Page((tmp_path / "review.html").read_text(encoding="utf-8"))
    assert page.sections == list(SECTIONS)
    assert len(page.tables["t-added"]) == len(changes.added) > 0
    assert "t-violations" not in page.tables
    assert page.charts["chart-violations"] == 0 and "无数据" in page.chart_text["chart-violations"]
    assert page.charts["chart-departments"] > 0


# --------------------------------------------------------------------------------------------------
# A city-sized year
# --------------------------------------------------------------------------------------------------


def synthetic_inputs(n_usages: int = 100_000) -> ReportInputs:
    """A generated year of `n_usages` library rows over 85 departments, with findings per department."""
    tables = synthetic_tables(n_usages, year=YEAR)
    rows = _validation_rows(tables, YEAR, [])
    files = [
        FileStatus(str(f), "", True, str(g["dept_code"].iloc[0]), str(g["dept_name"].iloc[0]), [], len(g))
        for f, g in rows.groupby("source_file", sort=True)
    ]
    findings = []
    for k, status in enumerate(files):
        for r in range(k % 7):
            findings.append(
                make_finding(
                    "W208", status.file, sheet="项目支出指标", row=5 + r, column="P", field="数据来源"
                )
            )
        if k % 5 == 0:
            findings.append(
                make_finding(
                    "W201",
                    status.file,
                    sheet="项目支出指标",
                    row=5,
                    column="B",
                    field="项目名称",
                    value=f"项目{k}",
                    detail=11,
                )
            )
    rejected = rows[rows["outcome"] == "rejected"]
    for file, row in zip(rejected["source_file"], rejected["source_row"], strict=True):
        findings.append(
            make_finding("R101", str(file), sheet="项目支出指标", row=int(row), column="E", field="三级指标")
        )
    changes = diff_indicators(None, tables.indicators, "", f"{YEAR} 年度")
    validation = ValidationResult(rows, findings, files, pd.DataFrame())
    return ReportInputs(YEAR, changes, validation, [], pd.DataFrame(), tables)


def test_a_city_sized_year_stays_readable(tmp_path: Path) -> None:
    """100,000 library rows: the page lists at most HTML_ROW_LIMIT rows per table, the workbook all."""
    from pipelines.report.model import HTML_ROW_LIMIT

    inputs = synthetic_inputs(100_000)
    started = time.perf_counter()
    write_annual_report(tmp_path, inputs)
    elapsed = time.perf_counter() - started
    html_bytes = (tmp_path / "review.html").stat().st_size
    xlsx_bytes = (tmp_path / "review.xlsx").stat().st_size
    print(
        f"\n100,000-row year: review.html {html_bytes:,} bytes, review.xlsx {xlsx_bytes:,} bytes, {elapsed:.1f} s"
    )
    page = Page((tmp_path / "review.html").read_text(encoding="utf-8"))
    assert len(page.tables["t-departments"]) == 85
    assert len(page.tables["t-added"]) == HTML_ROW_LIMIT < len(inputs.changes.added)
    assert f"共 {num(len(inputs.changes.added))} 行" in (tmp_path / "review.html").read_text(encoding="utf-8")
    assert html_bytes < 2_000_000
    assert elapsed < 20


# --------------------------------------------------------------------------------------------------
# End to end: real workbooks → release in git → report, checked against `indicators diff`
# --------------------------------------------------------------------------------------------------


def test_report_from_real_workbooks_agrees_with_indicators_diff(tmp_path: Path) -> None:
    import shutil

    from pipelines.consolidate.build import consolidate
    from pipelines.intake.read import read_workbook
    from pipelines.store.publish import write_release
    from pipelines.store.query.diff import diff
    from pipelines.store.repo import commit_release, open_repo
    from pipelines.validate.runner import validate_workbooks
    from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

    repo_dir = tmp_path / "repo"
    repo = open_repo(repo_dir)
    previous: LibraryTables | None = None
    prev_tag = ""
    for year in (2025, 2026):
        sub = tmp_path / f"inbox{year}"
        sub.mkdir()
        if year == 2025:
            core = [core_row(), core_row(name="群众来访办结率", target=98), core_row(name=SCRIPT)]
            projects = [
                project_row(),
                project_row(
                    name="学生资助人次", level1="效益指标", level2="社会效益指标", target=3000, unit="人次"
                ),
            ]
        else:
            ids = previous.indicators.set_index("name")["indicator_id"]
            core = [
                core_row(change_type="沿用", library_id=ids["政策宣传覆盖率"]),
                core_row(
                    name="群众来访办结率",
                    change_type="退出",
                    change_reason="职能划转",
                    library_id=ids["群众来访办结率"],
                ),
                core_row(name=SCRIPT, change_type="沿用", library_id=ids[SCRIPT]),
            ]
            projects = [
                project_row(
                    change_type="修改",
                    library_id=ids["日常维修维护次数"],
                    change_reason="口径调整",
                    unit="次/年",
                ),
                project_row(
                    name="学生资助人次", level1="效益指标", level2="社会效益指标", target=3200, unit="人次"
                ),
                project_row(name="新建校舍面积", target=1200, unit="平方米"),
            ]
        write_workbook(sub / "101001_教育局.xlsx", default_info(year, "101001", "市教育局"), core, projects)
        write_workbook(
            sub / "102001_卫健局.xlsx",
            default_info(year if year == 2025 else 2024, "102001", "市卫健局"),
            [core_row(name="疫苗接种率")],
            [project_row(project="公共卫生服务", function_code="2100401", name="筛查人数")],
        )
        (sub / "说明.xlsx").write_bytes(b"not a workbook")
        workbooks = [read_workbook(p) for p in sorted(sub.glob("*.xlsx"))]
        validation = validate_workbooks(
            workbooks, year=year, indicators=previous.indicators if previous is not None else None
        )
        pending = [s.dept_code for s in validation.files if s.set_aside and s.dept_code]
        result = consolidate(
            validation.rows, validation.departments, year=year, previous=previous, pending_departments=pending
        )
        changes = diff_indicators(
            previous.indicators if previous is not None else None,
            result.tables.indicators,
            prev_tag,
            f"v{year}",
        )
        shutil.rmtree(repo_dir / "library", ignore_errors=True)
        write_release(result.tables, repo_dir / "library", year=year, accounting=validation.counts())
        inputs = ReportInputs(
            year, changes, validation, workbooks, result.candidates, result.tables, previous
        )
        files = write_annual_report(repo_dir / "reports" / str(year), inputs)
        assert not [f for f in files if f.parent.name == "feedback"]  # feedback goes to the outbox
        committed = commit_release(repo, year, changes.counts() | validation.counts())
        assert committed.tag == f"v{year}"
        previous, prev_tag = result.tables, f"v{year}"

    # The release in git, read back by `indicators diff`, is the change set the report was written from.
    released = diff(repo_dir, "v2025", "v2026")
    assert released.counts()["modified"] >= 1 and released.counts()["retired"] >= 1
    report = repo_dir / "reports" / "2026"
    assert (report / "CHANGELOG.md").read_text(encoding="utf-8") == changes_markdown(
        released, "2026 年度指标库变更记录"
    )
    committed_files = repo.git.ls_tree("-r", "--name-only", "v2026", "--", "reports/2026").splitlines()
    assert {"reports/2026/review.html", "reports/2026/review.xlsx", "reports/2026/CHANGELOG.md"} <= set(
        committed_files
    )

    page = Page((report / "review.html").read_text(encoding="utf-8"))
    table = {r[2]: r for r in page.tables["t-departments"]}
    assert table["102001_卫健局.xlsx"][13].startswith("退回重报")
    assert table["说明.xlsx"][13].startswith("退回重报：文件不是可读取的 xlsx")
    assert table["101001_教育局.xlsx"][12] == "1 / 1 / 1"  # 新建校舍面积; 口径调整; 职能划转
    assert [r[0] for r in page.tables["t-retired"]] == released.retired["indicator_id"].tolist()
    assert [r[0] for r in page.tables["t-trend"]] == ["2025", "2026"]


def test_recorded_release_counts_override_what_the_tables_forgot(
    inputs: ReportInputs, tmp_path: Path
) -> None:
    """An indicator retired in an earlier year and used again since has no retired_year any more: the
    trend takes that year's counts from the recorded release history when it is given."""
    from dataclasses import replace

    derived = {r["year"]: r for r in review_tables(inputs)["trend"].frame.to_dict("records")}
    earlier = str(YEAR - 1)
    recorded = replace(inputs, history=[{"year": YEAR - 1, "retired": derived[earlier]["retired"] + 3}])
    trend = {r["year"]: r for r in review_tables(recorded)["trend"].frame.to_dict("records")}
    assert trend[earlier]["retired"] == derived[earlier]["retired"] + 3
    assert trend[str(YEAR)] == derived[str(YEAR)]


def test_charts_escape_labels_and_are_stable() -> None:
    from pipelines.report import charts

    label = '<b onclick="x()">科目</b> & "引号"'
    svg = charts.hbar_chart("c1", "标题<i>", [label, "其他"], [charts.Series("数", [3, 0])])
    assert "<b" not in svg and "<i>" not in svg and 'onclick="' not in svg
    assert html.escape(charts.clip(label, 210), quote=True) in svg
    assert svg == charts.hbar_chart("c1", "标题<i>", [label, "其他"], [charts.Series("数", [3, 0])])
    assert svg.count('class="mark"') == 1  # a zero value draws no bar
    empty = charts.column_chart("c2", "空", ["2025"], [charts.Series("新增", [0])])
    assert 'class="mark"' not in empty and "无数据" in empty
    for top in (1, 7, 13, 1293, 6666, 100_000):
        axis = charts.nice_max(top)
        steps = charts.ticks(axis)
        assert axis >= top and steps[0] == 0 and steps[-1] == axis
        assert all(float(t).is_integer() for t in steps)


def test_review_xlsx_lists_the_most_similar_pairs_and_says_how_many_more(tmp_path: Path) -> None:
    """merge_review.xlsx keeps every pair for the decisions; review.xlsx the first XLSX_PAIR_LIMIT and a
    last row naming the rest (a province lists ≈ 120,000 pairs per 100,000 rows)."""
    from pipelines.common.xlsx_out import xlsx_book
    from pipelines.report.change_tables import candidates_review
    from pipelines.report.review_xlsx import XLSX_PAIR_LIMIT, _capped_pairs

    n = XLSX_PAIR_LIMIT + 234
    pairs = [
        (f"A{i:05d}", f"指标甲{i}", f"B{i:05d}", f"指标乙{i}", 50 + i % 50, "名称相近") for i in range(n)
    ]
    table = candidates_review(_candidates(pairs))
    capped = _capped_pairs(table.frame, table.rows)
    assert len(capped) == XLSX_PAIR_LIMIT + 1
    assert capped.iloc[:XLSX_PAIR_LIMIT].astype(str).equals(table.frame.head(XLSX_PAIR_LIMIT).astype(str))
    assert capped.iloc[-1, 0] == f"另有 234 对未在此列出，全部 {n:,} 对见 merge_review.xlsx"
    assert _capped_pairs(table.frame.head(10)) is not None and len(_capped_pairs(table.frame.head(10))) == 10
    path = tmp_path / "pairs.xlsx"
    from pipelines.common.xlsx_table_block import write_table_block

    with xlsx_book(path, title="t", subject="t") as book:
        write_table_block(book, table.sheet, capped, table.titles)
    rows = list(openpyxl.load_workbook(path, read_only=True)[table.sheet].iter_rows(values_only=True))
    assert len(rows) == XLSX_PAIR_LIMIT + 2 and rows[-1][0].startswith("另有 234 对")
    assert rows[1][4] == table.frame["score"].iloc[0]  # scores stay numbers


def merge_review_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that write merge_review.xlsx from now on (the report's _beside gate)."""
    import threading

    from pipelines.report import build

    names: list[str] = []
    real = build.write_merge_review

    def recorded(candidates: object, path: Path, known: object = None) -> Path:
        names.append(threading.current_thread().name)
        return real(candidates, path, known)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "write_merge_review", recorded)
    return names
