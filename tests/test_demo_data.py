"""The demo's sample submissions (pipelines/demo/): real workbooks that read and validate as intended.

Each sample row declares in pipelines/demo/demo_data/indicators.csv the outcome it is meant to get; these tests
write the workbooks, read them with the product's reader, validate them, and compare row by row. They also
check that the departments' habits really are in the files (a demo of a clean template proves little) and
that later years carry the 库内编号 the previous release gave.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.demo.build import lookup_from_indicators, render_demo_year, write_demo_year
from pipelines.demo.catalogue import DATA_DIR, FINANCE_DEPT, catalogue
from pipelines.demo.plan import DemoYear, dropped_indicators, year_offset
from pipelines.intake.read import read_workbook
from pipelines.normalize.canonical import default_rules
from pipelines.validate.runner import ValidationResult, validate_workbooks
from schemas.text import clean_text


class FakeLibrary:
    """Stands in for a published library: issues a made-up id for every (name, 部门编码) asked, and remembers."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.ids: dict[tuple[str, str], str] = {}

    def __call__(self, name: str, dept_code: str) -> str:
        return self.ids.setdefault((name, dept_code), f"ZB-{self.prefix}{len(self.ids) + 1:06d}")


def _validate(demo: DemoYear) -> tuple[list, ValidationResult]:
    books = [read_workbook(p) for p in demo.files]
    return books, validate_workbooks(books, year=demo.year, finance_dept=FINANCE_DEPT)


def _joined(demo: DemoYear, result: ValidationResult) -> pd.DataFrame:
    """Planned rows joined to validated rows by (file, sheet, Excel row); both sides must match exactly."""
    got = result.rows[
        ["source_file", "source_sheet", "source_row", "outcome", "reason_codes", "name", "change_type",
         "change_reason", "library_id", "dept_code", "sheet_kind"]
    ]  # fmt: skip
    joined = demo.expected().merge(
        got,
        left_on=["file", "sheet", "excel_row"],
        right_on=["source_file", "source_sheet", "source_row"],
        how="outer",
        suffixes=("", "_read"),
        indicator=True,
    )
    unmatched = joined[joined["_merge"] != "both"]
    assert unmatched.empty, unmatched[["file", "sheet", "excel_row", "name", "source_file", "source_row"]]
    return joined


def _assert_outcomes(joined: pd.DataFrame) -> None:
    wrong = joined[joined["outcome"] != joined["outcome_read"]]
    assert wrong.empty, wrong[["file", "excel_row", "name", "outcome", "outcome_read", "reason_codes"]]
    rejected = joined[joined["outcome"] == "rejected"]
    for row in rejected.itertuples():
        assert set(row.reason_codes.split(";")) == set(row.codes.split(";")), (row.name, row.reason_codes)
    assert (joined["name_read"] == joined["name"].map(clean_text)).all()
    assert (joined["dept_code_read"] == joined["dept_code"]).all()
    assert (joined["sheet_kind"] == joined["kind"]).all()


LIBRARIES = {2025: FakeLibrary("X9"), 2026: FakeLibrary("X8")}


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[DemoYear, list, ValidationResult]]:
    """The three years written once for the module: year 1 without a library, later years with a fake one."""
    out = tmp_path_factory.mktemp("demo")
    demos = {year: render_demo_year(out, year, LIBRARIES.get(year)) for year in (2024, 2025, 2026)}
    return {year: (demo, *_validate(demo)) for year, demo in demos.items()}


def test_year_one_reads_and_validates_as_intended(years) -> None:
    demo, books, result = years[2024]

    # One file is not a workbook at all: set aside as unreadable (F001), the rest of the run goes on.
    assert len(demo.unreadable) == 1
    statuses = {s.file: s for s in result.files}
    for name in demo.unreadable:
        assert not statuses[name].readable
        assert statuses[name].file_errors == ["F001"]
    readable = [s for s in result.files if s.file not in demo.unreadable]
    assert readable and all(s.readable and not s.file_errors for s in readable)
    assert result.exit_code == 1  # row errors in the input, but not "nothing readable"

    joined = _joined(demo, result)
    _assert_outcomes(joined)

    # The bad rows are rejected with the rule each breaks.
    codes = set(";".join(joined.loc[joined["outcome_read"] == "rejected", "reason_codes"]).split(";"))
    assert {"R101", "R102", "R107", "R108"} <= codes
    # Non-core and phase rows are set aside, not lost; everything else lands in the library.
    counts = result.counts()
    assert counts["noncore"] >= 1 and counts["excluded"] >= 1
    assert set(joined.loc[joined["outcome_read"] == "noncore", "reason_codes"]) == {"X301"}
    assert set(joined.loc[joined["outcome_read"] == "excluded", "reason_codes"]) == {"X302"}
    assert counts["library"] == (demo.expected()["outcome"] == "library").sum()
    assert counts["read"] == sum(counts[k] for k in ("library", "noncore", "excluded", "rejected"))
    assert (joined["change_type_read"] == joined["change_type"]).all()
    assert set(joined["change_type"]) == {"新增", "修改"}  # the one 修改 is a rejected leftover

    # The Traditional-Chinese workbook: sheets found under their Traditional names, every row accepted.
    traditional = [
        b for b in books if b.readable and "項目支出指標" in {s.sheet_name for s in b.sheets.values()}
    ]
    assert len(traditional) == 1
    rows = joined[joined["file"] == traditional[0].file]
    assert len(rows) >= 8 and (rows["outcome_read"] == "library").all()
    typed = traditional[0].sheets["project"].frame["name"]  # as written in the workbook
    assert (typed != typed.map(clean_text)).mean() > 0.5  # really Traditional; read back Simplified above

    # Only the finance bureau's workbook carries 共性指标.
    with_common = {b.info.get("dept_code") for b in books if "common" in b.sheets}
    assert with_common == {FINANCE_DEPT}
    assert len(joined[joined["kind"] == "common"]) >= 12


def test_departments_fill_the_form_their_own_way(years) -> None:
    _, books, _ = years[2024]
    by_dept = {b.info["dept_code"]: b for b in books if b.readable}

    def sheet(dept: str, kind: str) -> openpyxl.worksheet.worksheet.Worksheet:
        book = by_dept[dept]
        return openpyxl.load_workbook(book.path)[book.sheets[kind].sheet_name]

    styles = {code: d.style for code, d in catalogue().departments.items()}
    dept_with = {flag: next(c for c, s in styles.items() if flag in s)
                 for flag in ("title", "merged", "shuffled", "aliases", "combined", "notes", "percent",
                              "fullwidth", "old_labels", "traditional", "sheet_prefix")}  # fmt: skip

    # A title row above the header, and merged 项目名称/一级/二级 cells.
    assert by_dept[dept_with["title"]].sheets["project"].header_row > 1
    merged = sheet(dept_with["merged"], "project").merged_cells.ranges
    assert sum(1 for r in merged if r.min_col == r.max_col and r.max_row > r.min_row) >= 4
    # Columns in another order, under alias headers.
    shuffled = by_dept[dept_with["shuffled"]].sheets["project"].columns
    template = by_dept[FINANCE_DEPT].sheets["project"].columns
    assert list(shuffled) != [c for c in template if c in shuffled]
    headers = [c.value for c in next(sheet(dept_with["aliases"], "project").iter_rows(max_row=1))]
    assert {"指标值", "度量单位", "三级指标名称"} <= set(headers)
    # "≥95%" targets and numbers stored as text; a 填表人 notes row set aside by the reader.
    combined = by_dept[dept_with["combined"]].sheets["project"].frame
    assert combined["target"].str.startswith(("≥", "不低于", "≤", "不高于")).sum() >= 3
    raw = sheet(dept_with["combined"], "project")
    assert any(
        isinstance(c.value, str) and c.value.isdigit() for row in raw.iter_rows(min_row=2) for c in row
    )
    assert any("填表人" in why for _, why in by_dept[dept_with["notes"]].sheets["project"].skipped_rows)
    # Percent-formatted cells: stored as 0.95, shown and read as 95%.
    pct = [
        c for row in sheet(dept_with["percent"], "project").iter_rows() for c in row if "%" in c.number_format
    ]
    assert pct and all(0 <= c.value <= 1 for c in pct)
    assert by_dept[dept_with["percent"]].sheets["project"].frame["target"].str.endswith("%").any()
    # Full-width characters and pre-2018 framework labels.
    values = [c.value for row in sheet(dept_with["fullwidth"], "project").iter_rows() for c in row]
    assert any(isinstance(v, str) and any("\uff10" <= ch <= "\uff19" for ch in v) for v in values)
    assert "项目产出" in set(by_dept[dept_with["old_labels"]].sheets["project"].frame["level1"])
    # Sheet names with a 表N prefix, and Traditional sheet names.
    assert by_dept[dept_with["sheet_prefix"]].sheets["project"].sheet_name.startswith("表3")
    assert by_dept[dept_with["traditional"]].info_sheet == "部門信息"


def test_later_years_carry_the_library_ids(years) -> None:
    lines = catalogue().lines
    for year in (2025, 2026):
        demo, _, result = years[year]
        joined = _joined(demo, result)
        _assert_outcomes(joined)
        assert (joined["change_type_read"] == joined["change_type"]).all()
        # Every 沿用 / 修改 / 退出 row names an indicator of the (fake) previous release.
        referring = joined[joined["change_type"].isin(["沿用", "修改", "退出"])]
        assert len(referring) > len(joined) / 2  # mostly 沿用
        assert (referring["library_id_read"] != "").all()
        assert (referring["library_id_read"] == referring["library_id"]).all()
        assert not any(r.id_missing for r in demo.rows)
        assert (joined.loc[joined["change_type"] == "新增", "library_id_read"] == "").all()
        # 修改 and 退出 with a reason, except the row meant to be rejected for the missing reason (R108).
        changes = joined[joined["change_type"].isin(["修改", "退出"])]
        assert ((changes["change_reason_read"] != "") | (changes["codes"] == "R108")).all()
        # The id is asked for by the name as last published: a rename carries the old name's id.
        renames = 0
        for row in changes.itertuples():
            published = [
                ln
                for ln in lines
                if ln.ref == row.ref and min(ln.years) < year_offset(year) and ln.expect == "library"
            ]
            old_name = published[-1].fields["name"]
            assert row.library_id_read == LIBRARIES[year].ids[(old_name, row.dept_code)]
            renames += old_name != row.name
        assert renames == 1


def test_year_two_and_three_tell_the_story(years) -> None:
    demo25, _, result25 = years[2025]
    joined25 = _joined(demo25, result25)
    types = joined25["change_type"].value_counts()
    assert types["修改"] >= 2 and types["退出"] >= 1 and types["新增"] >= 5
    # A department silently drops an indicator (it will be retired automatically).
    dropped = dropped_indicators(2025)
    assert dropped
    for code, name in dropped:
        assert joined25[(joined25["dept_code"] == code) & (joined25["name"] == name)].empty
    # The same core indicator newly submitted by two departments, one of them in Traditional Chinese.
    core_new = joined25[(joined25["kind"] == "core") & (joined25["change_type"] == "新增")]
    shared = core_new.groupby("name_read")["dept_code"].nunique()
    assert (shared >= 2).any()
    pair = core_new[core_new["name_read"].isin(shared[shared >= 2].index)]
    assert (pair["sheet"] == "部門整體核心指標").any()

    # Year 3: the dropped indicator comes back as 新增, and department rows repeat 共性指标 (exactly and
    # through a synonym of synonyms.csv).
    demo26, _, result26 = years[2026]
    joined26 = _joined(demo26, result26)
    back = joined26[joined26["name"].isin([n for _, n in dropped])]
    assert (
        not back.empty and (back["change_type"] == "新增").all() and (back["outcome_read"] == "library").all()
    )
    common = set(joined26.loc[joined26["kind"] == "common", "name"])
    dept_rows = joined26[(joined26["kind"] == "project") & (joined26["dept_code"] != FINANCE_DEPT)]
    assert dept_rows["name"].isin(common).any()
    rules = default_rules()
    by_match = {rules.match_form(name)[0]: name for name in common}
    via_synonym = [
        (name, by_match[form], rule)
        for name in set(dept_rows["name"]) - common
        for form, rule in [rules.match_form(name)]
        if rule and form in by_match
    ]
    assert via_synonym, "no department row differs from a 共性指标 only by a rule of synonyms.csv"


def test_same_bytes_each_run(tmp_path: Path) -> None:
    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*")
            if p.is_file()
        }

    first = render_demo_year(tmp_path / "a", 2026, FakeLibrary("X"))
    render_demo_year(tmp_path / "b", 2026, FakeLibrary("X"))
    assert len(first.files) >= 10
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_write_demo_year_and_bounds(tmp_path: Path) -> None:
    folder = write_demo_year(tmp_path, 2024)
    assert folder == tmp_path / "2024"
    assert sorted(p.suffix for p in folder.iterdir()).count(".xlsx") >= 8
    with pytest.raises(ValueError, match="示例数据只有三年"):
        render_demo_year(tmp_path, 2030)


def test_lookup_from_indicators_finds_published_names() -> None:
    indicators = pd.DataFrame(
        {
            "indicator_id": ["ZB-X000001", "ZB-X000002", "ZB-X000003", "ZB-G000001", "ZB-X000004"],
            "name": [
                "每千人口执业(助理)医师数",
                "新能源公交车占比",
                "新能源公交车占比",
                "培训人次",
                "旧指标",
            ],
            "aliases": [[], ["新能源公交车比例"], [], [], []],
            "departments": [["202"], ["205"], ["205"], ["101", "201"], ["205"]],
            "status": ["active", "retired", "active", "active", "merged"],
        }
    )
    lookup = lookup_from_indicators(indicators)
    assert lookup("每千人口执业（助理）医师数", "202") == "ZB-X000001"  # full-width brackets as typed
    assert lookup("每千人口执业（助理）医师数", "203") is None  # another department's indicator
    assert lookup("新能源公交车占比", "205") == "ZB-X000003"  # the active one first
    assert lookup("新能源公交车比例", "205") == "ZB-X000002"  # an alias of the retired one
    assert lookup("培训人次", "201") == "ZB-G000001"
    assert lookup("旧指标", "205") is None  # merged away


def test_real_rows_are_traceable() -> None:
    """Every sample row said to come from public material names a row kept verbatim in realdata_rows.csv."""
    from schemas.vocab import read_reference_csv

    real = {r["key"]: r for r in read_reference_csv(DATA_DIR / "realdata_rows.csv")}
    sources = {r["source"] for r in read_reference_csv(DATA_DIR / "indicators.csv") if r["source"]}
    assert sources and sources <= set(real)
    for key in sources:
        assert real[key]["source_ref"] and real[key]["file"].startswith("real_indicators_")


def test_year_three_rows_carry_the_prefilled_history_and_a_lowered_target_warns(tmp_path: Path) -> None:
    """With the pre-filled workbooks' 历史值 (published actual values), 207 sets 群众文化活动场次 at 1180 after
    achieving 1236 in 2025: W215 on exactly that row; rows the lookup has no history for keep their own."""
    library = FakeLibrary("H")
    asked: list[tuple[str, str, str]] = []

    def history(dept: str, indicator_id: str, project: str) -> str:
        asked.append((dept, indicator_id, project))
        return (
            "2024年:1236场;2025年:1236场"
            if indicator_id == library.ids.get(("群众文化活动场次", "207"))
            else ""
        )

    demo = render_demo_year(tmp_path, 2026, library, history=history)
    assert asked and all(i for _d, i, _p in asked)  # asked only for rows naming a 库内编号
    (row,) = [r for r in demo.rows if r.fields["name"] == "群众文化活动场次"]
    assert row.fields["history"] == "2024年:1236场;2025年:1236场" and row.fields["target"] == "1180"
    assert "W215" in row.story
    others = [r for r in demo.rows if r.dept_code == "207" and r.fields["name"] == "公共图书馆年接待读者人次"]
    assert others and others[0].fields["history"] == "2025年:146万人次"  # the catalogue's own
    _, result = _validate(demo)
    w215 = [f for f in result.findings if f.code == "W215" and (f.file, f.row) == (row.file, row.excel_row)]
    assert len(w215) == 1 and "1180" in w215[0].message and "2025年 1236场" in w215[0].message
    # Without the pre-filled 历史值 the row's own (2025年:1168场) is below its target: no warning there.
    plain = render_demo_year(tmp_path / "plain", 2026, FakeLibrary("H"))
    (row,) = [r for r in plain.rows if r.fields["name"] == "群众文化活动场次"]
    _, result = _validate(plain)
    assert not [
        f for f in result.findings if f.code == "W215" and (f.file, f.row) == (row.file, row.excel_row)
    ]


def test_self_evaluation_plan_is_seeded_and_covers_every_case() -> None:
    from pipelines.demo import self_eval

    assert self_eval._unit(2025, "207", "x") == self_eval._unit(2025, "207", "x")
    assert self_eval._factor(0.5, *self_eval.LOW_PROJECT, "任意指标") < 0.6  # the project below 60
    assert self_eval._factor(0.5, "207", "文化和旅游节庆活动", "节庆活动参与人次") < 1  # missed every year
    assert self_eval._factor(0.5, "207", "公共文化服务体系建设", "群众文化活动场次") > 1  # exceeded
    assert self_eval._factor(0.5, "201", "某项目", "某指标") == 1.0  # most: met exactly
    assert self_eval.planned_actual(0.5, "≥60%", "≥", "%", 1.0) == 60
    assert self_eval.planned_actual(0.5, "不低于 95%", "≥", "%", 1.2) == 100  # a rate stays ≤ 100 %
    assert self_eval.planned_actual(0.5, "800", "≤", "元/平方米", 0.8) == 1000  # ≤: missed means above
    assert self_eval.planned_actual(0.5, "明显改善", "定性", "", 1.0) == "明显改善"
    x = [self_eval._unit(2025, "d", i) for i in range(400)]
    missed = sum(v < 0.12 for v in x) / len(x)
    assert 0.05 < missed < 0.2  # some missed, most met


def test_the_demos_self_evaluation_on_a_real_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's first year rebuilt, every department's self-evaluation workbook generated and filled by the
    seeded plan, scored: no finding, most indicators met in full, some missed, qualitative rows graded, the
    one planned project below 60; the same workbooks' values on a second fill."""
    from pipelines import rebuild
    from pipelines.demo.self_eval import LOW_PROJECT, write_demo_self_evaluations
    from pipelines.evaluate.run import evaluate_folder
    from pipelines.store.shape import read_release_table
    from tests.git_env import isolate_git

    isolate_git(tmp_path / "home", monkeypatch)
    repo = tmp_path / "repo"
    rebuild.run(2024, write_demo_year(tmp_path / "inbox", 2024), repo, finance_dept=FINANCE_DEPT)
    written = write_demo_self_evaluations(repo, 2024, tmp_path / "eval")
    usages = read_release_table(repo / "library", "usages")
    usages = usages[usages["year"] == 2024].reset_index(drop=True)
    tables = evaluate_folder(usages, 2024, tmp_path / "eval")
    assert len(written) == len(tables.departments) and tables.departments["submitted"].all()
    assert tables.findings == [] and (tables.usages["findings"] == "").all()
    scored = tables.usages
    full = (scored["awarded"] >= scored["points"] - 1e-9).mean()
    assert 0.7 < full < 0.95, full  # most met, some missed
    assert (scored["rule"] == "qualitative").any() and set(
        scored.loc[scored["rule"] == "qualitative", "grade"]
    ) >= {"基本达成目标"}
    projects = tables.projects
    below = projects[projects["total"] < 60]
    assert list(zip(below["dept_code"], below["project"], strict=True)) == [LOW_PROJECT]
    again = write_demo_self_evaluations(repo, 2024, tmp_path / "eval2")
    values = [
        [c.value for row in openpyxl.load_workbook(p)["指标自评"].iter_rows() for c in row]
        for p in (written[0], again[0])
    ]
    assert values[0] == values[1]
