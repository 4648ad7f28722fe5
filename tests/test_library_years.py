"""Three simulated years through the real annual_rebuild job into a real git repo (issue: the library).

Covers adds, cross-department merges (identical and synonym), stable ids, 修改 with reason, 退出,
auto-retirement, reactivation, a common indicator used by a department, the no-op rerun, the row
accounting, an interrupted publish, determinism, text diffs in `git log -p`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from pipelines.defs.run import run_rebuild
from pipelines.store import publish
from pipelines.store.query.git_read import indicators_at, usages_at
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

FIN = "101"


def _row(project: str, name: str, l1: str, l2: str, unit: str, **kw: object) -> dict[str, object]:
    return project_row(
        project=project, name=name, level1=l1, level2=l2, unit=unit, function_code="2050201", **kw
    )


def _training(project: str, count_name: str = "培训人次") -> list[dict[str, object]]:
    return [
        _row(project, count_name, "产出指标", "数量指标", "人次", definition="反映参加培训的人次"),
        _row(
            project, "培训合格率", "产出指标", "质量指标", "%", definition="反映培训考核合格的比例", target=95
        ),
        _row(
            project,
            f"{project}覆盖率",
            "效益指标",
            "社会效益指标",
            "%",
            definition="反映培训覆盖对象的比例",
            target=90,
        ),
    ]


def _common_rows() -> list[dict[str, object]]:
    return [
        project_row(
            project="",
            function_code="",
            name="会议次数",
            level1="产出指标",
            level2="数量指标",
            unit="次",
            definition="反映组织会议的次数",
        ),
    ]


def _ids(repo: Path) -> dict[str, str]:
    ind = publish.read_table(repo / "library", "indicators")
    return dict(zip(ind["name"], ind["indicator_id"], strict=True))


def _rebuild(year: int, inbox: Path, repo: Path, instance: dg.DagsterInstance, **kw: object):  # type: ignore[no-untyped-def]
    return run_rebuild(year, inbox, repo, finance_dept=FIN, instance=instance, **kw)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def three_years(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("years")
    repo = base / "repo"
    instance = dg.DagsterInstance.ephemeral()
    out: dict[str, object] = {"repo": repo, "base": base}

    # 2024: two departments both submit 培训人次 (one as 参训人次: synonym S001) and the finance bureau a common one.
    y1 = base / "2024"
    y1.mkdir()
    write_workbook(
        y1 / "fin.xlsx",
        default_info(year=2024, dept_code=FIN, dept_name="财政局"),
        [],
        [],
        common_rows=_common_rows(),
    )
    write_workbook(
        y1 / "edu.xlsx",
        default_info(year=2024, dept_code="201", dept_name="教育局"),
        [core_row()],
        _training("教师培训"),
    )
    health = _training("医生培训", count_name="参训人次")
    write_workbook(
        y1 / "health.xlsx", default_info(year=2024, dept_code="202", dept_name="卫健委"), [], health
    )
    out["r1"] = _rebuild(2024, y1, repo, instance)
    out["ids1"] = _ids(repo)
    ids = out["ids1"]

    # 2025: edu keeps 培训人次, modifies 培训合格率 (reason), retires its 覆盖率; health drops 医生培训覆盖率 silently
    # and adds a row identical to the common 会议次数; one unreadable file in the inbox.
    y2 = base / "2025"
    y2.mkdir()
    edu = [
        _row(
            "教师培训",
            "培训人次",
            "产出指标",
            "数量指标",
            "人次",
            change_type="沿用",
            library_id=ids["培训人次"],
        ),
        _row(
            "教师培训",
            "培训合格率",
            "产出指标",
            "质量指标",
            "%",
            definition="反映培训结业考核合格人数占参训人数的比例",
            change_type="修改",
            library_id=ids["培训合格率"],
            change_reason="口径细化为结业考核",
            target=95,
        ),
        _row(
            "教师培训",
            "教师培训覆盖率",
            "效益指标",
            "社会效益指标",
            "%",
            change_type="退出",
            library_id=ids["教师培训覆盖率"],
            change_reason="并入年度考核",
            target=90,
        ),
    ]
    write_workbook(
        y2 / "edu.xlsx", default_info(year=2025, dept_code="201", dept_name="教育局"), [core_row()], edu
    )
    health2 = _training("医生培训")[:2] + [
        project_row(
            project="医生培训",
            function_code="2050201",
            name="会议次数",
            level1="产出指标",
            level2="数量指标",
            unit="次",
            definition="反映组织会议的次数",
        )
    ]
    write_workbook(
        y2 / "health.xlsx", default_info(year=2025, dept_code="202", dept_name="卫健委"), [], health2
    )
    write_workbook(
        y2 / "fin.xlsx",
        default_info(year=2025, dept_code=FIN, dept_name="财政局"),
        [],
        [],
        common_rows=_common_rows(),
    )
    (y2 / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 not an xlsx")
    out["r2"] = _rebuild(2025, y2, repo, instance)
    out["ids2"] = _ids(repo)

    # 2026: health brings 医生培训覆盖率 back (reactivation); then the same inputs again (no commit).
    y3 = base / "2026"
    y3.mkdir()
    write_workbook(
        y3 / "edu.xlsx", default_info(year=2026, dept_code="201", dept_name="教育局"), [core_row()], edu[:2]
    )
    write_workbook(
        y3 / "health.xlsx",
        default_info(year=2026, dept_code="202", dept_name="卫健委"),
        [],
        _training("医生培训"),
    )
    write_workbook(
        y3 / "fin.xlsx",
        default_info(year=2026, dept_code=FIN, dept_name="财政局"),
        [],
        [],
        common_rows=_common_rows(),
    )
    out["r3"] = _rebuild(2026, y3, repo, instance)
    out["head3"] = _git(repo, "rev-parse", "HEAD").strip()
    out["r3b"] = _rebuild(2026, y3, repo, instance)
    out["inboxes"] = (y1, y2, y3)
    return out


def test_first_year_merges_duplicates_across_departments(three_years: dict[str, object]) -> None:
    r1 = three_years["r1"]
    assert r1.success and r1.published["tag"] == "v2024"
    assert r1.accounting == {"read": 8, "library": 8, "noncore": 0, "excluded": 0, "rejected": 0}
    repo = three_years["repo"]
    ind = publish.read_table(repo / "library", "indicators").set_index("indicator_id")
    ids = three_years["ids1"]
    training = ind.loc[ids["培训人次"]]
    assert sorted(training["departments"]) == ["201", "202"]  # identical + synonym (参训→培训) merged
    assert "参训人次" in list(training["aliases"])
    assert ind.loc[ids["会议次数"], "scope"] == "共性" and ids["会议次数"].startswith("ZB-G")
    assert ids["培训人次"].startswith("ZB-X") and len(ind) == 6


def test_second_year_modify_retire_autoretire_and_common_usage(three_years: dict[str, object]) -> None:
    r2, repo = three_years["r2"], three_years["repo"]
    ids1, ids2 = three_years["ids1"], three_years["ids2"]
    assert r2.errors == [] and r2.failed_checks == []
    assert r2.success and r2.published["tag"] == "v2025"
    assert (
        r2.accounting["read"]
        == r2.accounting["library"]
        + r2.accounting["noncore"]
        + r2.accounting["excluded"]
        + r2.accounting["rejected"]
    )
    for name, iid in ids1.items():  # ids are stable
        assert ids2[name] == iid
    ind = indicators_at(repo, "v2025").set_index("indicator_id")
    mod = ind.loc[ids1["培训合格率"]]
    assert (
        mod["definition"] == "反映培训结业考核合格人数占参训人数的比例"
        and mod["last_change_reason"] == "口径细化为结业考核"
    )
    retired = ind.loc[ids1["教师培训覆盖率"]]
    assert (retired["status"], retired["retire_reason"], retired["retired_year"]) == (
        "retired",
        "并入年度考核",
        2025,
    )
    auto = ind.loc[ids1["医生培训覆盖率"]]
    assert (auto["status"], auto["retire_reason"]) == ("retired", "本年度无部门使用")
    usages = usages_at(repo, "v2025")
    meeting = usages[
        (usages["year"] == 2025) & (usages["dept_code"] == "202") & (usages["name"] == "会议次数")
    ]
    assert meeting["indicator_id"].tolist() == [
        ids1["会议次数"]
    ]  # a department's row identical to a common indicator
    manifest = json.loads(_git(repo, "show", "v2025:library/manifest.json"))
    assert manifest["rows"] == r2.accounting


def test_third_year_reactivates_and_rerun_makes_no_commit(three_years: dict[str, object]) -> None:
    r3, r3b, repo = three_years["r3"], three_years["r3b"], three_years["repo"]
    ids1 = three_years["ids1"]
    assert r3.success and r3.published["tag"] == "v2026"
    ind = publish.read_table(repo / "library", "indicators").set_index("indicator_id")
    back = ind.loc[ids1["医生培训覆盖率"]]
    assert back["status"] == "active" and back["last_change_type"] == "恢复" and pd.isna(back["retired_year"])
    assert back["first_year"] == 2024  # history intact
    assert r3b.success and r3b.published["committed"] is False
    assert _git(repo, "rev-parse", "HEAD").strip() == three_years["head3"]
    tags = _git(repo, "tag").split()
    assert sorted(tags) == ["v2024", "v2025", "v2026"]


def test_git_log_shows_indicator_rows_as_text(three_years: dict[str, object]) -> None:
    repo = three_years["repo"]
    log = _git(repo, "log", "-p", "v2024..v2025", "--", "library/indicators")
    assert "Binary files" not in log
    iid = three_years["ids1"]["培训合格率"]
    changed = [line for line in log.splitlines() if line.startswith(("+", "-")) and iid in line]
    assert any("结业考核" in line for line in changed if line.startswith("+"))
    subject = _git(repo, "log", "-1", "--format=%s", "v2025")
    assert "2025年度指标库发布" in subject and "修改 1" in subject


def test_same_inputs_give_byte_identical_library(three_years: dict[str, object], tmp_path: Path) -> None:
    y1 = three_years["inboxes"][0]
    repo_a, repo_b = tmp_path / "a", tmp_path / "b"
    instance = dg.DagsterInstance.ephemeral()
    _rebuild(2024, y1, repo_a, instance)
    _rebuild(2024, y1, repo_b, instance)

    def digest(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digest(repo_a / "library") == digest(repo_b / "library")
    assert digest(repo_a / "reports") == digest(repo_b / "reports")


def test_interrupted_publish_leaves_the_release_untouched(
    three_years: dict[str, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    y1, y2, _ = three_years["inboxes"]
    repo = tmp_path / "repo"
    instance = dg.DagsterInstance.ephemeral()
    assert _rebuild(2024, y1, repo, instance).success
    before = {
        p.relative_to(repo).as_posix(): p.read_bytes() for p in (repo / "library").rglob("*") if p.is_file()
    }
    head = _git(repo, "rev-parse", "HEAD")

    original = publish._swap

    def crash(*args: object, **kw: object) -> None:
        original(*args, **kw)  # the new library is in place …
        raise RuntimeError("断电")  # … and the process dies before the commit

    monkeypatch.setattr(publish, "_swap", crash)
    outcome = _rebuild(2025, y2, repo, instance)
    assert not outcome.success
    after = {
        p.relative_to(repo).as_posix(): p.read_bytes() for p in (repo / "library").rglob("*") if p.is_file()
    }
    assert after == before and _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "status", "--porcelain", "--", "library", "reports") == ""

    monkeypatch.setattr(publish, "_swap", original)
    assert _rebuild(2025, y2, repo, instance).success


def test_dry_run_publishes_nothing(three_years: dict[str, object], tmp_path: Path) -> None:
    y1 = three_years["inboxes"][0]
    repo = tmp_path / "repo"
    outcome = _rebuild(2024, y1, repo, dg.DagsterInstance.ephemeral(), dry_run=True)
    assert outcome.success and outcome.accounting["read"] == 8
    assert not (repo / "library").exists()
    assert _git(repo, "tag") == ""


def test_cli_diff_history_search(three_years: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import main

    repo = str(three_years["repo"])
    iid = three_years["ids1"]["培训合格率"]
    assert main(["diff", "v2024", "v2025", "--repo", repo]) == 0
    out = capsys.readouterr().out
    assert iid in out and "结业考核" in out and "并入年度考核" in out and "本年度无部门使用" in out
    assert main(["diff", "v2024", "v2025", "--repo", repo, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    modified = [m for m in data["modified"] if m["indicator_id"] == iid and m["field"] == "definition"]
    assert (
        modified
        and modified[0]["new"] == "反映培训结业考核合格人数占参训人数的比例"
        and modified[0]["reason"] == "口径细化为结业考核"
    )
    assert {r["reason"] for r in data["retired"]} == {"并入年度考核", "本年度无部门使用"}

    assert main(["history", iid, "--repo", repo]) == 0
    out = capsys.readouterr().out
    assert "v2024" in out and "v2025" in out and "口径细化为结业考核" in out

    assert main(["search", "培訓人次", "--repo", repo]) == 0  # a Traditional query
    out = capsys.readouterr().out
    assert three_years["ids1"]["培训人次"] in out.splitlines()[1]
    assert main(["diff", "v1999", "--repo", repo]) == 2
    capsys.readouterr()


def test_a_set_aside_workbook_does_not_retire_its_department_indicators(tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    repo = tmp_path / "repo"
    y1, y2 = tmp_path / "2024", tmp_path / "2025"
    y1.mkdir()
    y2.mkdir()
    write_workbook(y1 / "edu.xlsx", default_info(year=2024, dept_code="201"), [], _training("教师培训"))
    write_workbook(y1 / "health.xlsx", default_info(year=2024, dept_code="202"), [], _training("医生培训"))
    assert _rebuild(2024, y1, repo, instance).success
    write_workbook(y2 / "edu.xlsx", default_info(year=2025, dept_code="201"), [], _training("教师培训"))
    # the health workbook says 2024: set aside whole (F006) — its indicators wait for the corrected file
    write_workbook(y2 / "health.xlsx", default_info(year=2024, dept_code="202"), [], _training("医生培训"))
    outcome = _rebuild(2025, y2, repo, instance)
    assert outcome.success and outcome.accounting["rejected"] == 3
    ind = publish.read_table(repo / "library", "indicators").set_index("name")
    assert ind.loc["医生培训覆盖率", "status"] == "active"
    assert ind.loc["教师培训覆盖率", "status"] == "active"


# --------------------------------------------------------------------------------------------------
# Issue 11: one identity per indicator (points 3, 12, 15) through the real job, two years
# --------------------------------------------------------------------------------------------------
def _p(dept: str, name: str, l1: str, l2: str, unit: str, code: str, **kw: object) -> dict[str, object]:
    return project_row(
        project=f"项目{dept}", function_code=code, name=name, level1=l1, level2=l2, unit=unit, **kw
    )


def _identity_inbox(folder: Path, year: int) -> Path:
    folder.mkdir()
    first = year == 2024
    meeting = dict(level1="产出指标", level2="数量指标", unit="次", definition="反映组织会议的次数")
    # Point 3: the department's workbook is read before the bureau's (a.xlsx < fin.xlsx).
    write_workbook(
        folder / "fin.xlsx",
        default_info(year=year, dept_code=FIN, dept_name="财政局"),
        [],
        [],
        common_rows=[project_row(project="", function_code="", name="会议次数", **meeting)],
    )
    satisfaction = dict(target=90, definition="反映受益群众的满意程度")
    city = [
        # Point 15: target, unit and value format change; a silent rename in the same project.
        _p("301", "控制在预算成本内", "成本指标", "经济成本指标", "万元" if first else "", "2120501",
           target=250 if first else "控制在预算内", symbol="≤" if first else "定性",
           nature="定量" if first else "定性", definition="反映项目成本控制情况"),
        _p("301", "雾炮车降尘抑尘作业天数" if first else "雾炮车抑尘降尘作业天数", "产出指标", "数量指标", "天",
           "2120501", definition="反映雾炮车作业天数"),
        # Point 12: the same indicator in two function classes.
        _p("301", "受益群众满意度", "满意度指标", "服务对象满意度指标", "%", "2120501", **satisfaction),
    ]  # fmt: skip
    write_workbook(
        folder / "city.xlsx", default_info(year=year, dept_code="301", dept_name="城管局"), [], city
    )
    farm = [_p("302", "受益群众满意度", "满意度指标", "服务对象满意度指标", "%", "2130101", **satisfaction)]
    write_workbook(
        folder / "farm.xlsx", default_info(year=year, dept_code="302", dept_name="农业局"), [], farm
    )
    health = [project_row(project="医生培训", function_code="2100401", name="会议次数", **meeting)]
    write_workbook(
        folder / "a.xlsx", default_info(year=year, dept_code="202", dept_name="卫健委"), [], health
    )
    return folder


@pytest.fixture(scope="module")
def identity_years(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    base = tmp_path_factory.mktemp("identity")
    repo = base / "repo"
    instance = dg.DagsterInstance.ephemeral()
    out: dict[str, object] = {"repo": repo}
    for year in (2024, 2025):
        outcome = _rebuild(year, _identity_inbox(base / str(year), year), repo, instance)
        assert outcome.success and outcome.accounting["rejected"] == 0, outcome.errors
        out[year] = usages_at(repo, f"v{year}")
    return out


def _used(usages: pd.DataFrame, year: int, dept: str, name: str) -> str:
    rows = usages[(usages["year"] == year) & (usages["dept_code"] == dept) & (usages["name"] == name)]
    return str(rows["indicator_id"].item())


def test_point3_department_row_equal_to_a_common_indicator_keeps_one_id(
    identity_years: dict[str, object],
) -> None:
    repo, u24, u25 = identity_years["repo"], identity_years[2024], identity_years[2025]
    meeting = _used(u24, 2024, FIN, "会议次数")
    assert _used(u24, 2024, "202", "会议次数") == meeting
    assert _used(u25, 2025, FIN, "会议次数") == meeting and _used(u25, 2025, "202", "会议次数") == meeting
    ind = indicators_at(repo, "v2025").set_index("indicator_id")
    assert ind.loc[meeting, "scope"] == "共性"
    assert (ind["name"] == "会议次数").sum() == 1


def test_point15_unit_change_keeps_the_id_and_renames_are_listed(identity_years: dict[str, object]) -> None:
    repo, u24, u25 = identity_years["repo"], identity_years[2024], identity_years[2025]
    budget = _used(u24, 2024, "301", "控制在预算成本内")
    assert _used(u25, 2025, "301", "控制在预算成本内") == budget
    ind = indicators_at(repo, "v2025").set_index("indicator_id")
    assert ind.loc[budget, "status"] == "active" and ind.loc[budget, "unit"] == ""
    log = _git(repo, "show", "v2025:reports/2025/CHANGELOG.md")
    assert budget in log and "万元" in log  # the unit change is a recorded 修改
    from pipelines.dedupe.review import read_review

    review = repo / "reports" / "2025" / "merge_review.xlsx"
    pairs, _ = read_review(review)
    old, new = (
        _used(u24, 2024, "301", "雾炮车降尘抑尘作业天数"),
        _used(u25, 2025, "301", "雾炮车抑尘降尘作业天数"),
    )
    listed = [p for p in pairs if {p["指标编号A"], p["指标编号B"]} == {old, new}]
    assert listed and listed[0]["指标编号A"] == old and "疑似改名" in listed[0]["理由"]


def test_point12_same_indicator_in_two_function_classes_is_one(identity_years: dict[str, object]) -> None:
    u24, u25 = identity_years[2024], identity_years[2025]
    one = _used(u24, 2024, "301", "受益群众满意度")
    assert _used(u24, 2024, "302", "受益群众满意度") == one
    assert _used(u25, 2025, "301", "受益群众满意度") == one == _used(u25, 2025, "302", "受益群众满意度")
