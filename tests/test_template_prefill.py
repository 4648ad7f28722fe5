"""`indicators template --dept CODE [--year Y] [--pick FILE]`: a department's pre-filled workbook from the
published library (pipelines/store/prefill*.py), on real git repos built by real rebuilds.

The acceptance (issue 13): validating the pre-filled workbook unchanged exits 0, and a rebuild of that year
with it unchanged makes no change to the department's indicators (ids identical). Covered here for a
department with 部门整体 and 项目 rows and a 共性 usage, the bureau's own 共性 sheet, and a department whose
name and wording carry Traditional characters; picked indicators leave exactly the cells validation names.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import rebuild
from pipelines.cli import main
from pipelines.intake.targets import parse_history
from pipelines.intake.template import TO_FILL_NOTE
from pipelines.store.prefill import prefill_workbook
from pipelines.store.prefill_history import history_cell, number_text
from pipelines.store.query.diff import diff
from pipelines.store.shape import read_release_table
from schemas.vocab import reference
from tests.git_env import git, isolate_git
from tests.xlsx_builders import core_row, default_info, english_columns, project_row, write_workbook

FINANCE, EDU, CULTURE = "101", "201", "207"
YEARS = (2024, 2025)
NEXT = 2026
BUNDLE = Path(__file__).parent / "data" / "releases" / "library-1.0.bundle"
NOTE_HEADER = "备注说明"  # a column the template does not know: kept on the usage (extra) and written back
TRAINING_DAYS = {"level1": "产出指标", "level2": "数量指标", "name": "培训（会议）天数", "unit": "天"}


def _common(year: int) -> list[dict[str, object]]:
    return [
        project_row(project="", function_code="", definition="培训或会议实际举办的天数", target=2, **TRAINING_DAYS),
        project_row(
            project="", function_code="", name="参训人员满意度", level1="满意度指标",
            level2="服务对象满意度指标", definition="参训人员对培训的满意程度", target=90, unit="%",
        ),
    ]  # fmt: skip


def _finance(year: int) -> tuple[list, list, list]:
    core = [core_row(name="预算执行率", definition="年度预算执行数占预算数的比例", target=95, history="")]
    project = [
        project_row(
            project="预算管理一体化系统运维", function_code="2010607", project_category="信息化建设类",
            name="系统正常运行率", definition="系统正常运行时长占应运行时长的比例", target=99, unit="%",
            level2="质量指标", history="",
        )
    ]  # fmt: skip
    return core, project, _common(year)


def _education(year: int) -> tuple[list, list, None]:
    change = "" if year > YEARS[0] else "新增"
    core = [
        core_row(name="义务教育巩固率", definition="义务教育阶段在校生巩固的比例", target=99, history="",
                 change_type=change, strategic_goal="推进基本公共教育优质均衡"),
        core_row(name="学前教育毛入园率", definition="在园幼儿数占适龄人口的比例", target=92 + (year - 2024),
                 history=f"{year - 1}年:90%", change_type=change),
    ]  # fmt: skip
    aid = {
        "project": "学生资助",
        "function_code": "2050803",
        "project_category": "补助补贴类",
        "change_type": change,
    }
    project = [
        project_row(**aid, name="资助学生人次", definition="全年资助的学生人次", target=1200, unit="人次",
                    weight=30, value_basis="历史标准", value_method="情况统计法",
                    project_goal="保障家庭经济困难学生顺利完成学业", history=f"{year - 1}年:1180人次",
                    **{NOTE_HEADER: "含春季、秋季两个学期"}),
        project_row(**aid, name="资助资金按时发放率", level2="时效指标", definition="按时发放的资助资金占比",
                    target=100, unit="%", symbol="=", weight=20, history=""),
        # A row equal to the bureau's 共性 indicator: a usage of it, on the 项目 sheet
        project_row(project="教师培训", function_code="2050803", project_category="会议培训类",
                    definition="培训或会议实际举办的天数", target=3, change_type=change, history="",
                    **TRAINING_DAYS),
    ]  # fmt: skip
    return core, project, None


def _culture(year: int) -> tuple[list, list, None]:
    change = "" if year > YEARS[0] else "新增"
    core = [
        core_row(name="公共文化設施免費開放率", definition="免費開放的公共文化設施佔總數的比例", target=100,
                 symbol="=", history="", change_type=change),
    ]  # fmt: skip
    fest = {"project": "群眾文化活動", "function_code": "2070109", "change_type": change}
    project = [
        project_row(**fest, name="群眾文化活動場次", definition="全年組織開展的群眾文化活動場次", target=1200,
                    unit="場", history=f"{year - 1}年:1168場"),
        project_row(**fest, name="群眾文化獲得感", level1="效益指标", level2="社会效益指标", symbol="定性",
                    definition="群眾對文化活動的獲得感", target="明顯增強", unit="", nature="定性", history=""),
    ]  # fmt: skip
    if year == YEARS[0]:  # dropped the next year: retired for want of use
        project.append(
            project_row(**fest, name="节庆活动安全事故次数", target=0, unit="次", symbol="=", history="")
        )
    return core, project, None


DEPARTMENTS = {
    FINANCE: ("市财政局", _finance),
    EDU: ("市教育局", _education),
    CULTURE: ("市文化和旅遊局", _culture),
}


def _inbox(folder: Path, year: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for code, (name, rows) in DEPARTMENTS.items():
        core, project, common = rows(year)
        noted = any(NOTE_HEADER in row for row in project)
        columns = {"project": [*english_columns("project"), NOTE_HEADER]} if noted else None
        info = default_info(year, code, name, function_basis=f"{name}三定规定")
        write_workbook(folder / f"{code}.xlsx", info, core, project, common, columns=columns)
    return folder


@pytest.fixture(scope="module")
def library_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bureau's repo built by two real rebuilds (2024, 2025)."""
    root = tmp_path_factory.mktemp("prefill")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(root / "home", mp)
        repo = root / "repo"
        repo.mkdir()
        (repo / "indicators.toml").write_text(f'finance_dept = "{FINANCE}"\n', encoding="utf-8")
        for year in YEARS:
            rebuild.run(year, _inbox(root / f"inbox{year}", year), repo, finance_dept=FINANCE)
    return repo


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


def _validate(files: list[Path], repo: Path, capsys: pytest.CaptureFixture[str], year: int = NEXT) -> dict:
    code = main(["validate", *map(str, files), "--year", str(year), "--repo", str(repo), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return report


def _usages(repo: Path) -> pd.DataFrame:
    return read_release_table(repo / "library", "usages")


def _rows(path: Path, kind: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[reference().sheets[kind].name_zh]
    columns = [s.column for s in reference().columns[kind]]
    return [
        dict(zip(columns, r[: len(columns)], strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    ]


def test_round_trip_validates_and_rebuilds_without_change(
    library_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "inbox"
    for code in DEPARTMENTS:
        assert main(["template", "--dept", code, "--repo", str(library_repo), "--out", str(out)]) == 0
    files = sorted(out.glob("*.xlsx"))
    assert len(files) == 3 and all(f.name.startswith(f"{NEXT}年度") for f in files)
    capsys.readouterr()
    report = _validate(files, library_repo, capsys)
    assert report["exit_code"] == 0
    assert report["rows"]["rejected"] == 0
    codes = {f["code"] for file in report["files"] for f in file["findings"]}
    assert not codes & {"W219", "W215", "R116", "R109"}, codes  # 沿用 as published, targets not looser

    repo = tmp_path / "repo"
    shutil.copytree(library_repo, repo, symlinks=True)
    rebuild.run(NEXT, out, repo, finance_dept=FINANCE)
    changes = diff(repo, f"v{YEARS[-1]}", f"v{NEXT}")
    assert changes.empty, changes.as_dict()
    usages = _usages(repo)
    for code in DEPARTMENTS:
        mine = usages[usages["dept_code"] == code]
        before = sorted(mine.loc[mine["year"] == YEARS[-1], "indicator_id"])
        assert sorted(mine.loc[mine["year"] == NEXT, "indicator_id"]) == before, code
    # Every usage reads back as the department wrote it last year: target, weight, its own wording and
    # settings (only provenance, 变更类型 and the 历史值 now filled in differ).
    skip = {"year", "source_file", "source_sheet", "source_row", "change_type", "change_reason", "history"}
    columns = [c for c in usages.columns if c not in skip]
    last, this = (
        usages.loc[usages["year"] == y, columns].sort_values(columns).reset_index(drop=True)
        for y in (YEARS[-1], NEXT)
    )
    pd.testing.assert_frame_equal(this, last)


def test_prefilled_content(library_repo: Path, tmp_path: Path) -> None:
    done = prefill_workbook(library_repo, EDU, tmp_path)
    assert done.year == NEXT and done.kept == {"core": 2, "project": 3} and not done.to_fill
    again = prefill_workbook(library_repo, EDU, tmp_path / "again")
    assert again.path.read_bytes() == done.path.read_bytes()  # deterministic: the same release, the same file
    book = openpyxl.load_workbook(done.path)
    info = {
        r[0]: r[1] for r in book[reference().sheets["info"].name_zh].iter_rows(min_row=2, values_only=True)
    }
    assert info["填报年度"] == str(NEXT) and info["部门编码"] == EDU and info["部门名称"] == "市教育局"
    assert info["职责复杂程度"] == "复杂" and info["职能依据"] == "市教育局三定规定"
    assert info["绩效联系人"] is None  # contact details are not published, so not pre-filled
    usages = _usages(library_repo)
    ids = dict(zip(usages["name"], usages["indicator_id"], strict=False))
    core = {r["name"]: r for r in _rows(done.path, "core")}
    assert core["学前教育毛入园率"]["library_id"] == ids["学前教育毛入园率"]
    assert core["学前教育毛入园率"]["change_type"] == "沿用" and core["学前教育毛入园率"]["target"] == 93
    # 历史值: what the department wrote (2024: 90%), then the target of each year it wrote none for
    assert parse_history(str(core["学前教育毛入园率"]["history"])) == {
        "2023": "90%",
        "2024": "90%",
        "2025": "93%",
    }
    assert core["义务教育巩固率"]["strategic_goal"] == "推进基本公共教育优质均衡"
    project = {r["name"]: r for r in _rows(done.path, "project")}
    aid = project["资助学生人次"]
    assert (aid["project"], aid["function_code"], aid["project_category"]) == (
        "学生资助",
        "2050803",
        "补助补贴类",
    )
    assert (aid["weight"], aid["value_basis"], aid["value_method"]) == (30, "历史标准", "情况统计法")
    assert aid["project_goal"] == "保障家庭经济困难学生顺利完成学业"
    sheet = openpyxl.load_workbook(done.path)[reference().sheets["project"].name_zh]
    headers = [c.value for c in sheet[1]]
    assert headers[-1] == NOTE_HEADER  # after the template's columns, in their order
    assert headers[:-1] == [s.header_zh for s in reference().columns["project"]]
    assert sheet.cell(2 + list(project).index("资助学生人次"), len(headers)).value == "含春季、秋季两个学期"
    assert project["资助资金按时发放率"]["symbol"] == "等于"  # "=" as the drop-down offers it, not a formula
    common = project["培训(会议)天数"]  # the 共性 usage stays on the 项目 sheet, where the department used it
    assert common["library_id"].split("-")[1].startswith("G") and common["project"] == "教师培训"
    assert [r["seq"] for r in _rows(done.path, "project")] == ["1", "2", "3"]


def test_bureau_and_traditional_department(library_repo: Path, tmp_path: Path) -> None:
    bureau = prefill_workbook(library_repo, FINANCE, tmp_path)
    assert bureau.kept == {"core": 1, "project": 1, "common": 2}
    assert {r["name"] for r in _rows(bureau.path, "common")} == {"培训(会议)天数", "参训人员满意度"}
    culture = prefill_workbook(library_repo, CULTURE, tmp_path, year=NEXT)
    # the library keeps names normalized (Simplified): the workbook is written, and read back, that way
    assert culture.dept_name == "市文化和旅游局" and culture.kept == {"core": 1, "project": 2}
    names = {r["name"] for r in _rows(culture.path, "project")}
    assert "节庆活动安全事故次数" not in names  # retired in 2025: not a current indicator
    qualitative = next(r for r in _rows(culture.path, "project") if r["symbol"] == "定性")
    assert qualitative["target"] and qualitative["nature"] == "定性"


def _write_pick(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_picked_indicators_leave_exactly_the_cells_validation_names(
    library_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    indicators = read_release_table(library_repo / "library", "indicators").set_index("name")
    culture_id = indicators.at["群众文化活动场次", "indicator_id"]
    core_id = indicators.at["预算执行率", "indicator_id"]
    satisfaction_id = indicators.at["参训人员满意度", "indicator_id"]  # 共性: on the 项目 sheet for 201
    own_id = indicators.at["资助学生人次", "indicator_id"]
    pick = _write_pick(
        tmp_path / "basket.csv",
        ["indicator_id,name", f"{culture_id},x", f"{core_id},y", f"{satisfaction_id},z", f"{own_id},own"],
    )
    out = tmp_path / "inbox"
    assert (
        main(["template", "--dept", EDU, "--repo", str(library_repo), "--pick", str(pick), "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    assert "选取的指标 3 个" in printed and "已在本部门的在用指标中" in printed
    path = next(out.glob("*.xlsx"))
    book = openpyxl.load_workbook(path)
    highlighted = {
        (ws.title, c.coordinate)
        for ws in book.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None and c.comment.text.startswith(TO_FILL_NOTE)
    }
    assert highlighted
    assert all(f"（{cell}）" in printed for _, cell in highlighted)  # the command lists each of them

    report = _validate([path], library_repo, capsys)
    assert report["exit_code"] == 1
    errors = {(f["sheet"], f["cell"]) for f in report["files"][0]["findings"] if f["severity"] == "row_error"}
    assert errors == highlighted
    project_sheet, core_sheet = (reference().sheets[k].name_zh for k in ("project", "core"))
    assert {c for s, c in highlighted if s == project_sheet} == {"B2", "D2", "O2", "B3", "D3", "O3"}
    assert {c[0] for s, c in highlighted if s == core_sheet} == {"I"}

    for sheet, cell in highlighted:  # the department fills them in
        column = cell.rstrip("0123456789")
        value = {"B": "文化进校园", "D": "2050803"}.get(column, "12") if sheet == project_sheet else "96"
        book[sheet][cell] = value
    book.save(path)
    assert _validate([path], library_repo, capsys)["exit_code"] == 0
    repo = tmp_path / "repo"
    shutil.copytree(library_repo, repo, symlinks=True)
    others = _inbox(tmp_path / "others", NEXT)
    (others / f"{EDU}.xlsx").unlink()
    shutil.copy(path, others / path.name)
    rebuild.run(NEXT, others, repo, finance_dept=FINANCE)
    changes = diff(repo, f"v{YEARS[-1]}", f"v{NEXT}")
    assert changes.added.empty and changes.modified.empty and changes.merged.empty
    now = read_release_table(repo / "library", "indicators").set_index("indicator_id")
    for iid in (culture_id, core_id, satisfaction_id):
        assert EDU in list(now.at[iid, "departments"]), iid


def test_a_pick_file_with_unknown_or_retired_ids_is_refused(
    library_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    retired = read_release_table(library_repo / "library", "indicators")
    retired_id = retired.loc[retired["status"] == "retired", "indicator_id"].iloc[0]
    pick = _write_pick(tmp_path / "ids.txt", ["ZB-X999999", "", retired_id.lower()])
    code = main(
        ["template", "--dept", EDU, "--repo", str(library_repo), "--pick", str(pick), "--out", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 2 and not list(tmp_path.glob("*.xlsx"))
    assert "第 1 行" in err and "ZB-X999999" in err and "不存在" in err
    assert "第 3 行" in err and retired_id in err and "退出" in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--pick", "x.csv"], "--dept"),
        (["--dept", "2O1"], "只能是数字"),
        (["--dept", "999"], "没有部门编码 999"),
    ],
)
def test_usage_errors(
    library_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    assert main(["template", *args, "--repo", str(library_repo), "--out", str(tmp_path)]) == 2
    assert words in capsys.readouterr().err


def test_no_library_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--dept", "201", "--repo", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_a_release_of_the_previous_version_prefills_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "old"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(root)], check=True)
    git(root, "checkout", "-q", "v2025")
    done = prefill_workbook(root, "205", tmp_path / "out")
    assert done.year == NEXT and sum(done.kept.values()) > 0
    rows = [r for kind in ("core", "project") for r in _rows(done.path, kind)]
    assert all(r["value_method"] in (None, "") for r in rows if "value_method" in r)  # 1.0 had none
    assert all(r["definition"] for r in rows)  # the indicator's wording fills the shared fields
    assert _validate([done.path], root, capsys)["exit_code"] == 0


def test_history_cells() -> None:
    assert number_text(95.0) == "95" and number_text(99.5) == "99.5" and number_text(1e6) == "1000000"
    assert history_cell({"2024": "95%", "2025": "97%"}) == "2024年:95%;2025年:97%"
    # a value the reader would read differently is left out rather than changed
    assert history_cell({"2024": "95%", "2025": "2023年:1"}) == "2024年:95%"


# --- property: small random libraries ------------------------------------------------------------------

settings.register_profile(
    "prefill-ci", max_examples=3, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "prefill-long", max_examples=40, deadline=None, suppress_health_check=list(HealthCheck)
)
PROFILE = "prefill-long" if os.environ.get("INDICATORS_HYPOTHESIS_PROFILE") == "long" else "prefill-ci"
# (name, Traditional wording, level1, level2, unit, definition)
MEASURES = (
    ("培训人次", "培訓人次", "产出指标", "数量指标", "人次", "反映参加培训的人次"),
    ("验收合格率", "驗收合格率", "产出指标", "质量指标", "%", "反映验收合格的比例"),
    ("按时完成率", "按時完成率", "产出指标", "时效指标", "%", "反映按时完成的比例"),
    ("服务对象满意度", "服務對象滿意度", "满意度指标", "服务对象满意度指标", "%", "反映服务对象的满意程度"),
    ("项目总成本", "項目總成本", "成本指标", "经济成本指标", "万元", "反映项目的总成本"),
    ("群众获得感", "群眾獲得感", "效益指标", "社会效益指标", "", "反映群众的获得感"),
)
PROPERTY_DEPTS = ("201", "202")


@st.composite
def small_library(draw: st.DrawFn) -> dict[str, dict[str, list[dict[str, object]]]]:
    """Per department: 部门整体 and 项目 rows drawn from MEASURES (some in Traditional), in 1–2 projects,
    and maybe a row equal to the bureau's 共性 indicator."""
    depts: dict[str, dict[str, list[dict[str, object]]]] = {}
    for code in PROPERTY_DEPTS:
        picked = draw(st.lists(st.sampled_from(range(len(MEASURES))), min_size=1, max_size=4, unique=True))
        rows: dict[str, list[dict[str, object]]] = {"core": [], "project": []}
        for k in picked:
            name, traditional, level1, level2, unit, definition = MEASURES[k]
            qualitative = unit == ""
            row = {
                "level1": level1, "level2": level2, "unit": unit, "definition": definition,
                "name": traditional if draw(st.booleans()) else name, "history": "", "change_type": "新增",
                "symbol": "定性" if qualitative else draw(st.sampled_from(("≥", "≤", "="))),
                "target": "明显提高" if qualitative else draw(st.integers(1, 100)),
                "nature": "定性" if qualitative else "定量",
            }  # fmt: skip
            if draw(st.booleans()):
                rows["core"].append(core_row(**row))
            else:
                project = f"{code}项目{draw(st.integers(1, 2))}"
                rows["project"].append(project_row(**row, project=project, function_code="2050803"))
        if draw(st.booleans()):
            rows["project"].append(
                project_row(project=f"{code}培训", function_code="2050803", definition="培训或会议实际举办的天数",
                            target=draw(st.integers(1, 5)), history="", **TRAINING_DAYS)
            )  # fmt: skip
        depts[code] = rows
    return depts


def _property_inbox(folder: Path, year: int, library: dict[str, dict[str, list[dict[str, object]]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    core, project, common = _finance(year)
    write_workbook(folder / f"{FINANCE}.xlsx", default_info(year, FINANCE, "市财政局"), core, project, common)
    for code, rows in library.items():
        write_workbook(
            folder / f"{code}.xlsx", default_info(year, code, f"局{code}"), rows["core"], rows["project"]
        )
    return folder


@settings(settings.get_profile(PROFILE))
@given(library=small_library())
def test_property_prefill_validate_rebuild_changes_nothing(
    library: dict[str, dict[str, list[dict[str, object]]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("property")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(root / "home", mp)
        repo = root / "repo"
        repo.mkdir()
        (repo / "indicators.toml").write_text(f'finance_dept = "{FINANCE}"\n', encoding="utf-8")
        first, second = YEARS
        rebuild.run(first, _property_inbox(root / "inbox1", first, library), repo, finance_dept=FINANCE)
        out = root / "inbox2"
        for code in (FINANCE, *PROPERTY_DEPTS):
            prefill_workbook(repo, code, out)
        assert main(["validate", str(out), "--year", str(second), "--repo", str(repo)]) == 0
        rebuild.run(second, out, repo, finance_dept=FINANCE)
        changes = diff(repo, f"v{first}", f"v{second}")
        assert changes.empty, changes.as_dict()
        usages = _usages(repo)
        for code in (FINANCE, *PROPERTY_DEPTS):
            mine = usages[usages["dept_code"] == code]
            ids = [sorted(mine.loc[mine["year"] == y, "indicator_id"]) for y in (first, second)]
            assert ids[0] == ids[1], code


def test_an_id_merged_since_is_written_as_the_indicator_it_went_into(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "old"
    subprocess.run(["git", "clone", "-q", str(BUNDLE), str(root)], check=True)
    git(root, "checkout", "-q", "v2025")
    indicators = read_release_table(root / "library", "indicators").set_index("indicator_id")
    merged = indicators[indicators["status"] == "merged"]
    old_id, new_id = merged.index[0], merged["merged_into"].iloc[0]
    # 205's workbook of 2024 used old_id; a workbook for 2025 is built from its 2024 usages
    done = prefill_workbook(root, "205", tmp_path / "out", year=2025)
    ids = [r["library_id"] for kind in ("core", "project") for r in _rows(done.path, kind)]
    assert old_id not in ids and new_id in ids
    row = next(r for r in _rows(done.path, "project") if r["library_id"] == new_id)
    assert row["name"] == indicators.at[new_id, "name"]
    assert _validate([done.path], root, capsys, year=2025)["exit_code"] == 0


def test_a_new_department_gets_its_picks_and_its_name_to_fill(
    library_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    indicators = read_release_table(library_repo / "library", "indicators").set_index("name")
    pick = _write_pick(tmp_path / "ids.txt", [indicators.at["预算执行率", "indicator_id"]])
    done = prefill_workbook(library_repo, "301", tmp_path / "out", pick_file=pick)
    assert done.kept == {} and done.picked == 1 and done.dept_name == ""
    info_row = 2 + [s.column for s in reference().columns["info"]].index("dept_name")
    assert done.to_fill[0] == f"部门信息：部门名称（B{info_row}）"
    ws = openpyxl.load_workbook(done.path)[reference().sheets["info"].name_zh]
    assert ws[f"B{info_row}"].value is None and ws[f"B{info_row}"].comment is not None
    report = _validate([done.path], library_repo, capsys)
    assert {f["cell"] for f in report["files"][0]["findings"] if f["severity"] == "file_error"} == {
        f"B{info_row}"
    }


REAL_NAMES = Path(__file__).parent / "data" / "real_names.csv"


def _real_inbox(folder: Path, year: int, groups: int = 12) -> Path:
    """Workbooks of real published goal tables (tests/data/real_names.csv: names, 一级/二级 labels,
    explanations, units and targets as the departments wrote them), one department per source table."""
    real = pd.read_csv(REAL_NAMES, dtype=str, keep_default_na=False)
    real = real[real["scope"] == "项目"]
    folder.mkdir(parents=True)
    for k, (_group, rows) in enumerate(list(real.groupby("source_group", sort=True))[:groups]):
        code = str(301 + k)
        project_rows = []
        for r in rows.itertuples(index=False):
            target = r.target.strip()
            symbol = target[0] if target[:1] in ("≥", "≤", "=", ">", "<") else "≥"
            project_rows.append(
                project_row(
                    project=(r.table or "项目")[:40], level1=r.level1, level2=r.level2, name=r.name,
                    definition=r.definition or f"反映{r.name}情况", unit=r.unit, symbol=symbol,
                    target=target.lstrip("≥≤=<>") or "定性", nature="定量",
                )
            )  # fmt: skip
        write_workbook(folder / f"{code}.xlsx", default_info(year, code, f"真实表{code}"), [], project_rows)
    return folder


def test_round_trip_on_real_published_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Data nobody here wrote: twelve real goal tables rebuilt, each department's workbook pre-filled from
    the library, validated unchanged (no row error), rebuilt the next year: no indicator added, changed or
    retired, every accepted row's indicator kept."""
    repo = tmp_path / "repo"
    first, second = YEARS
    done = rebuild.run(first, _real_inbox(tmp_path / "real", first), repo, finance_dept=FINANCE)
    counts = done.validation.counts()
    assert counts["library"] > 50, counts
    out = tmp_path / "prefilled"
    codes = sorted(read_release_table(repo / "library", "usages")["dept_code"].unique())
    for code in codes:
        prefill_workbook(repo, code, out)
    capsys.readouterr()
    report = _validate(sorted(out.glob("*.xlsx")), repo, capsys, year=second)
    assert report["rows"]["rejected"] == 0, [
        f["message"] for file in report["files"] for f in file["findings"] if f["severity"] != "warning"
    ]
    rebuild.run(second, out, repo, finance_dept=FINANCE)
    changes = diff(repo, f"v{first}", f"v{second}")
    assert changes.empty, changes.as_dict()
    usages = _usages(repo)
    ids = [sorted(usages.loc[usages["year"] == y, "indicator_id"]) for y in (first, second)]
    assert ids[0] == ids[1]
