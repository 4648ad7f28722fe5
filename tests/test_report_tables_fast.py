"""The review tables' column-wise paths (sixteenth session) give what the plain computations give, on a real
built year (a generated corpus rebuilt up to the report: its workbooks, findings, library and changes) with
hostile findings mixed in among the real ones:
- finding_tally.FindingTally: the overview's warnings, each file's warnings and file errors, the violations'
  (file, severity, rule) tally in Counter's order, and group_findings' groups — their members' order (ties
  in severity, row and column kept as found), first cells, counts, first rows and the groups' order,
  messages that differ only in a project's name kept apart — and the detail table built from them;
- departments: the per-file counts (projects as distinct pairs) against the texts' path, the added
  indicators' departments counted by Arrow against _code_counts;
- coverage: by class and by level on the columns' codes against pandas on the texts, for this year's
  usages only when the library holds other years, and the plain path taken for missing values;
- change_tables._take: a str column taken as it is against the value-by-value texts.

The plain references are the code these paths replaced (ca08ca8), kept here."""

from __future__ import annotations

import dataclasses
import pickle
import random
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from pipelines.common.findings import Finding, findings_by_file, group_findings
from pipelines.consolidate.changes import _text
from pipelines.report import coverage, departments, violations
from pipelines.report.change_tables import _take
from pipelines.report.finding_tally import FindingTally
from pipelines.report.model import ReportInputs, file_statuses
from pipelines.report.tables import review_tables
from tests.test_report_grouping import _details_plain, _grouped

YEAR = 2026


@pytest.fixture(scope="module")
def built_year(tmp_path_factory: pytest.TempPathFactory) -> ReportInputs:
    """A real year: benchmarks.corpus' workbooks (with their planted faults) rebuilt up to the report,
    whose inputs are kept (benchmarks.bench_report.save)."""
    import pipelines.rebuild as rebuild
    from benchmarks.bench_report import save
    from benchmarks.corpus import generate_corpus

    root = tmp_path_factory.mktemp("built")
    generate_corpus(root / "corpus", rows=1500, year=YEAR, seed=5, departments=6)
    real = rebuild.write_annual_report
    try:
        target = save(root / "corpus", root / "work", YEAR)
    finally:  # save stops the rebuild by replacing the report's writer: every later rebuild needs it back
        rebuild.write_annual_report = real
    with open(target, "rb") as fh:
        inputs: ReportInputs = pickle.load(fh)
    assert len(inputs.validation.findings) > 500  # the corpus' faults were found
    return inputs


def _hostile(files: list[str], seed: int, n: int) -> list[Finding]:
    """Findings on the year's real files that a careless tally gets wrong: one cell flagged twice (rows and
    columns tie), rows missing, messages alike but for the project named, severities mixed under one key
    and one unknown, groups beyond the sample of cells, findings with no cell at all."""
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        project = rnd.choice(["甲", "乙", "丙"])
        out.append(
            Finding(
                file=rnd.choice(files),
                code=rnd.choice(["W204", "R101", "F001"]),
                severity=rnd.choice(["row_error", "warning", "file_error", "odd", "info"]),
                sheet=rnd.choice(["", "项目支出指标"]),
                row=rnd.choice([None, 0, 5, 12, 12, 300, 1000]),
                column=rnd.choice(["", "E", "P", "AA", "J"]),
                field=rnd.choice(["", "三级指标"]),
                value=project,
                message=rnd.choice([f"项目“{project}”缺少质量指标", "缺少", "历史值未填写"]),
                fix=rnd.choice(["补填", "改正"]),
            )
        )
    return out


def _mixed(inputs: ReportInputs, seed: int = 11, n: int = 1500) -> ReportInputs:
    """The real findings with hostile ones interleaved at random places."""
    files = [s.file for s in file_statuses(inputs)]
    found = list(inputs.validation.findings)
    rnd = random.Random(seed)
    for f in _hostile(files, seed, n):
        found.insert(rnd.randrange(len(found) + 1), f)
    return dataclasses.replace(inputs, validation=dataclasses.replace(inputs.validation, findings=found))


# --- the plain references (ca08ca8) -------------------------------------------------------------------


def _violations_plain(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    dept_of = {s.file: (s.dept_code, s.dept_name) for s in file_statuses(inputs)}
    found = [f for f in inputs.validation.findings if f.severity in violations.VIOLATION_SEVERITIES]
    tally = Counter((f.file, f.severity, f.code) for f in found)
    return violations._by_file(tally, dept_of), violations._by_rule(tally), _details_plain(found, dept_of)


def _take_plain(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({c: [v if type(v) is str else _text(v) for v in frame[c].tolist()] for c in columns})


def _equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.dtypes.equals(b.dtypes)


# --- the findings -------------------------------------------------------------------------------------


def test_the_data_is_hostile(built_year: ReportInputs) -> None:
    """What the other tests rely on being there, so that a careless tally would fail them."""
    inputs = _mixed(built_year)
    found = [f for f in inputs.validation.findings if f.severity in violations.VIOLATION_SEVERITIES]
    groups = group_findings(found)
    # Messages alike but for the project named: grouping by file, sheet, code and column alone merges them.
    assert len({(g.file, g.sheet, g.code, g.field) for g in groups}) < len(groups)
    # Members that tie on (severity, row, column): their order is the order found.
    ties = Counter(
        (f.file, f.sheet, f.code, f.field, f.message, f.severity, f.row or 0, f.column) for f in found
    )
    assert max(ties.values()) > 1
    assert any(g.count > 5 and len(g.cells) == 5 for g in groups)  # "等 N 处" and the cut
    assert any(not g.cells for g in groups)  # no cell to show
    # Groups alike in file, severity, sheet, code, column and first cell: listed by message.
    assert len({(g.file, g.severity, g.sheet, g.code, g.field, tuple(g.cells[:1])) for g in groups}) < len(
        groups
    )
    # Real findings dominate: the corpus' own rules, on its own files.
    assert Counter(f.code for f in built_year.validation.findings).most_common(1)[0][1] > 100


@pytest.mark.parametrize("seed", [11, 12])
def test_violation_tables_are_the_plain_ones(built_year: ReportInputs, seed: int) -> None:
    inputs = _mixed(built_year, seed)
    for fast, plain in zip(violations.violation_tables(inputs), _violations_plain(inputs), strict=True):
        _equal(fast, plain)
    # and on the real findings alone
    for fast, plain in zip(
        violations.violation_tables(built_year), _violations_plain(built_year), strict=True
    ):
        _equal(fast, plain)


def test_groups_are_group_findings(built_year: ReportInputs) -> None:
    """Every severity (the unknown one too), member order, first rows and cells as group_findings."""
    found = _mixed(built_year, 13).validation.findings
    assert FindingTally(found).groups().as_groups() == group_findings(found)
    assert _grouped(found[:1]) == group_findings(found[:1])
    assert _grouped([]) == []


def test_counts_that_the_department_and_overview_tables_read(built_year: ReportInputs) -> None:
    inputs = _mixed(built_year, 14)
    found = inputs.validation.findings
    tally = FindingTally(found)
    assert tally.total("warning") == sum(f.severity == "warning" for f in found)
    assert tally.per_file("warning") == dict(Counter(f.file for f in found if f.severity == "warning"))
    assert findings_by_file(tally.of_severity("file_error")) == findings_by_file(
        [f for f in found if f.severity == "file_error"]
    )
    assert tally.of_severity("nothing") == []
    for severities in (violations.VIOLATION_SEVERITIES, ("odd",), ()):
        expected = Counter((f.file, f.severity, f.code) for f in found if f.severity in severities)
        got = tally.tally(severities)
        assert got == expected and list(got) == list(expected)  # Counter's order: first appearance
    # The department table shows them: warnings per file, a set-aside file's errors in its verdict.
    frame = departments.department_table(inputs)
    warnings = Counter(f.file for f in found if f.severity == "warning")
    for file, shown in zip(frame["file"], frame["warnings"], strict=True):
        if file:
            assert shown == warnings.get(file, 0)
    overview = review_tables(inputs)["overview"].frame.set_index("item")["value"]
    assert overview["提示（行保留）"] == sum(f.severity == "warning" for f in found)


def test_review_tables_as_before_on_the_real_year(built_year: ReportInputs) -> None:
    """The whole review: the violation tables the plain ones, whatever the tally shared between tables."""
    tables = review_tables(built_year)
    by_file, by_rule, details = _violations_plain(built_year)
    _equal(tables["violations"].frame, by_file)
    _equal(tables["rules"].frame, by_rule)
    _equal(tables["details"].frame, details)
    assert len(details) > 20


# --- departments, coverage, changes -------------------------------------------------------------------


def test_per_file_counts_are_the_texts_path(built_year: ReportInputs) -> None:
    rows = built_year.validation.rows
    fast = departments._per_file(rows)
    plain = departments._per_file_texts(rows).loc[fast.index, fast.columns]
    pd.testing.assert_frame_equal(fast, plain, check_dtype=False, check_index_type=False, check_names=False)
    assert (fast["projects"] > 1).any()
    # a project name in several files and files out of order: distinct (file, project) pairs still
    shuffled = rows.sample(frac=1.0, random_state=3)
    again = departments._per_file(shuffled)
    pd.testing.assert_frame_equal(
        again[["read", "projects"]].sort_index(), fast[["read", "projects"]].sort_index(), check_exact=True
    )


def test_distinct_values() -> None:
    rng = np.random.default_rng(5)
    values = np.repeat(rng.integers(0, 50, size=300), rng.integers(1, 5, size=300))
    assert departments.distinct_values(values).tolist() == sorted(set(values.tolist()))
    assert departments.distinct_values(values[:0]).tolist() == []


def test_added_departments_counted_by_arrow(built_year: ReportInputs) -> None:
    added = built_year.changes.added["departments"]
    assert len(added) > 10
    assert departments._added_counts(added) == departments._code_counts(added.tolist())
    odd = pd.Series(["101、、205", "", np.nan, "205"], dtype="str")  # empty parts, a missing value
    assert departments._added_counts(odd) == departments._code_counts(odd.tolist())
    assert departments._added_counts(odd.dropna()) == departments._code_counts(odd.dropna().tolist())


def _coverage_frames(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    indicators = inputs.tables.indicators
    active = indicators[["scope", "function_class", "level1", "level2"]][indicators["status"] == "active"]
    usages = inputs.tables.usages
    used = ["function_code", "scope", "dept_code", "project", "level1", "level2"]
    return active, usages[used][usages["year"] == inputs.year]


def _with_another_year(inputs: ReportInputs) -> ReportInputs:
    """The library holding last year's usages too (real rows, another year and other projects)."""
    usages = inputs.tables.usages
    earlier = usages.copy()
    earlier["year"] = inputs.year - 1
    earlier["project"] = earlier["project"] + "（上年）"
    tables = dataclasses.replace(inputs.tables, usages=pd.concat([usages, earlier], ignore_index=True))
    return dataclasses.replace(inputs, tables=tables)


def _with_shared_projects(inputs: ReportInputs) -> ReportInputs:
    """Another department naming its project as one already named: two projects of one name."""
    usages = inputs.tables.usages
    projects = usages[(usages["scope"] == "项目") & (usages["project"] != "")]
    copied = projects.head(40).copy()
    other = sorted(set(usages["dept_code"]) - set(copied["dept_code"]))[0]
    copied["dept_code"] = other
    tables = dataclasses.replace(inputs.tables, usages=pd.concat([usages, copied], ignore_index=True))
    return dataclasses.replace(inputs, tables=tables)


def test_coverage_is_the_texts_path(built_year: ReportInputs) -> None:
    for inputs in (built_year, _with_another_year(built_year), _with_shared_projects(built_year)):
        active, usages = _coverage_frames(inputs)
        by_class, by_level = coverage.coverage_tables(inputs)
        _equal(by_class, coverage._by_class_plain(active, usages))
        _equal(by_level, coverage._by_level_plain(active, usages))
        assert (by_class["projects"] > 0).any() and (by_class["departments"] > 1).any()
    # a missing value: the plain path, whatever it makes of it
    active, usages = _coverage_frames(built_year)
    holed = usages.copy()
    holed.loc[holed.index[0], "dept_code"] = np.nan
    _equal(coverage._by_class(active, holed), coverage._by_class_plain(active, holed))


def test_changes_taken_as_texts(built_year: ReportInputs) -> None:
    from pipelines.report.change_tables import ADDED_TITLES

    added = built_year.changes.added
    assert len(added)
    _equal(_take(added, list(ADDED_TITLES)), _take_plain(added, list(ADDED_TITLES)))
    odd = added.head(5).copy()
    odd.index = odd.index + 100  # not a RangeIndex
    odd["reason"] = pd.Series([np.nan, "x", "y", "z", "w"], index=odd.index, dtype="str")
    odd["scope"] = odd["scope"].astype(object)
    _equal(_take(odd, list(ADDED_TITLES)), _take_plain(odd, list(ADDED_TITLES)))
