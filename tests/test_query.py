"""diff / history / search over releases (issue "library" item 7).

One real git repo, built once for the module: four releases (v2024, v2025, v2026, v2026.1) published
with pipelines.store.publish + pipelines.store.repo exactly as a rebuild does. Between them: additions, a field
modification with a reason, retirements, a merge, a reactivation and a re-publication.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from pipelines.consolidate.changes import diff_indicators
from pipelines.store.publish import LIBRARY_DIR, write_release
from pipelines.store.query.diff import diff, diff_json, render_diff_text
from pipelines.store.query.git_read import QueryError, indicators_at, usages_at
from pipelines.store.query.history import history, history_json, render_history_text
from pipelines.store.query.search import render_search_text, search, search_json
from pipelines.store.reference_values import YearSpread
from pipelines.store.repo import open_repo
from pipelines.store.shape import read_release_table
from tests.git_env import publish_tables
from tests.library_fixtures import (
    accounting_for,
    department,
    indicator,
    make_id,
    tables_from_rows,
    usage,
)
from tests.reference_library import COUNT, EFFECT, RATE, STANDARD_SOURCE, ReferenceRepo, reference_repo

__all__ = ["reference_repo"]  # the session fixture, imported for pytest

DEPTS = ("101", "205", "310")
A = make_id("项目", 1)  # 培训人次: modified in 2025 (unit), absorbs B in 2026
B = make_id("项目", 2)  # 培训（参会）人次: merged into A in 2026
C = make_id("项目", 3)  # retired in 2025, reactivated in 2026
D = make_id("项目", 4)  # retired in 2026
E = make_id("项目", 5)  # keywords changed in the re-publication v2026.1
F = make_id("项目", 6)  # added in 2025
H = make_id("项目", 7)  # 24小时响应率
K = make_id("项目", 8)  # keyword-only match for 培训
M = make_id("项目", 9)  # 满意度, class 208
G = make_id("共性", 1)
P = make_id("部门整体", 1)
MERGE_REASON = "同义指标合并（审核确认）"
MODIFY_REASON = "统一计量口径"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, encoding="utf-8"
    ).stdout


def evolve(row: dict, year: int, change: str, reason: str, **fields) -> dict:
    return {
        **row,
        **fields,
        "last_change_year": year,
        "last_change_type": change,
        "last_change_reason": reason,
    }


def release(root: Path, year: int, lib: dict[str, dict], uses: list[dict]) -> str:
    """Publish the library state and commit + tag it, as a rebuild does; returns the tag."""
    by_id: dict[str, set[str]] = {}
    for u in uses:
        if u["year"] == year:
            by_id.setdefault(u["indicator_id"], set()).add(u["dept_code"])
    rows = [{**r, "departments": sorted(by_id.get(i, r["departments"]))} for i, r in lib.items()]
    tables = tables_from_rows(rows, uses, [department(d, year=year) for d in DEPTS])
    result = publish_tables(root, tables, year)
    assert result.committed
    return result.tag


def use(lib: dict[str, dict], pairs: list[tuple[str, str]], year: int) -> list[dict]:
    return [
        usage(lib[iid], dept_code=dept, year=year, source_row=5 + k) for k, (iid, dept) in enumerate(pairs)
    ]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("library_repo")
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
            mp.delenv(var, raising=False)
        build(root)
        yield root


def build(root: Path) -> None:
    y = 2024
    lib = {
        A: indicator(A, "培训人次", function_code="2010101", unit="人", keywords="培训;会议", year=y),
        B: indicator(B, "培训（参会）人次", function_code="2010101", unit="人次", year=y),
        C: indicator(C, "档案存储设施稳定运行率", function_code="2080101", unit="%", year=y),
        D: indicator(D, "预计新增档案整理移库", function_code="2080101", unit="标箱", year=y),
        E: indicator(
            E,
            "项目总成本",
            function_code="2130101",
            level1="成本指标",
            level2="经济成本指标",
            unit="万元",
            symbol="≤",
            keywords="成本;预算",
            year=y,
        ),
        H: indicator(H, "24小时响应率", function_code="2080101", unit="%", year=y),
        K: indicator(K, "会议天数", function_code="2010101", unit="天", keywords="培训", year=y),
        M: indicator(
            M,
            "参训人员满意度",
            function_code="2080102",
            level1="满意度指标",
            level2="服务对象满意度指标",
            unit="%",
            year=y,
        ),
        G: indicator(G, "培训（会议）天数", scope="共性", unit="天", year=y),
        P: indicator(P, "按时发放率", scope="部门整体", unit="%", year=y),
    }
    all_ids = list(lib)
    uses = use(lib, [(i, DEPTS[k % 2]) for k, i in enumerate(all_ids)] + [(A, "310")], y)
    tags = [release(root, y, lib, uses)]

    y = 2025
    lib[A] = evolve(
        lib[A],
        y,
        "修改",
        MODIFY_REASON,
        unit="人次",
        definition="反映参加培训的人次（含线上）。",
        last_year=y,
    )
    lib[C] = evolve(
        lib[C],
        y,
        "退出",
        "本年度无部门使用",
        status="retired",
        retired_year=y,
        retire_reason="本年度无部门使用",
    )
    lib[F] = indicator(F, "档案数字化扫描页数", function_code="2080101", unit="页", year=y)
    lib[F]["last_change_reason"] = "新增数字化项目"
    active = [i for i in lib if lib[i]["status"] == "active"]
    uses += use(lib, [(i, "101") for i in active] + [(A, "205")], y)
    tags.append(release(root, y, lib, uses))

    y = 2026
    lib[B] = evolve(
        lib[B],
        y,
        "合并",
        MERGE_REASON,
        status="merged",
        merged_into=A,
        retired_year=y,
        retire_reason=MERGE_REASON,
    )
    lib[A] = {**lib[A], "aliases": ["培训（参会）人次"]}
    lib[C] = evolve(lib[C], y, "恢复", "本年度重新使用", status="active", retired_year=None, retire_reason="")
    lib[D] = evolve(
        lib[D],
        y,
        "退出",
        "本年度无部门使用",
        status="retired",
        retired_year=y,
        retire_reason="本年度无部门使用",
    )
    active = [i for i in lib if lib[i]["status"] == "active"]
    uses += use(lib, [(i, "205") for i in active], y)
    tags.append(release(root, y, lib, uses))

    lib[E] = evolve(lib[E], y, "修改", "补充关键词", keywords="成本;预算;绩效")
    tags.append(release(root, y, lib, uses))
    assert tags == ["v2024", "v2025", "v2026", "v2026.1"]


# --- reading releases -------------------------------------------------------------------------------


def test_releases_are_read_from_git_objects_without_touching_the_working_tree(repo):
    before = git(repo, "status", "--porcelain")
    latest = indicators_at(repo, "v2026.1")
    pd.testing.assert_frame_equal(latest, read_release_table(repo / LIBRARY_DIR, "indicators"))
    first = indicators_at(repo, "v2024")
    assert B in set(first["indicator_id"]) and F not in set(first["indicator_id"])
    assert first.set_index("indicator_id").at[A, "unit"] == "人"
    assert indicators_at(repo, "HEAD~1").equals(indicators_at(repo, "v2026"))
    old_usages = usages_at(repo, "v2026", year=2024)
    assert set(old_usages["year"]) == {2024}
    assert sorted(old_usages.loc[old_usages["indicator_id"] == A, "dept_code"]) == ["101", "310"]
    assert len(usages_at(repo, "v2025")) == len(usages_at(repo, "v2025", 2024)) + len(
        usages_at(repo, "v2025", 2025)
    )
    assert git(repo, "status", "--porcelain") == before


# --- diff -------------------------------------------------------------------------------------------


def test_diff_defaults_to_the_last_two_release_tags(repo):
    changes = diff(repo)
    assert (changes.ref_a, changes.ref_b) == ("v2026", "v2026.1")
    assert changes.counts() == {"added": 0, "modified": 1, "retired": 0, "merged": 0, "reactivated": 0}
    row = changes.modified.iloc[0]
    assert (row["indicator_id"], row["field"], row["old"], row["new"], row["reason"]) == (
        E,
        "keywords",
        "成本;预算",
        "成本;预算;绩效",
        "补充关键词",
    )
    # REF_A alone compares it with the latest release
    assert diff(repo, "v2026").as_dict() == changes.as_dict()


def test_diff_reports_additions_cell_changes_and_retirement_as_events(repo):
    changes = diff(repo, "v2024", "v2025")
    assert list(changes.added["indicator_id"]) == [F]
    assert changes.added.iloc[0]["reason"] == "新增数字化项目"
    mods = changes.modified[changes.modified["indicator_id"] == A]
    assert dict(zip(mods["field"], zip(mods["old"], mods["new"], strict=True), strict=True)) == {
        "definition": ("反映培训人次情况。", "反映参加培训的人次（含线上）。"),
        "unit": ("人", "人次"),
    }
    assert set(mods["reason"]) == {MODIFY_REASON}
    assert list(changes.retired["indicator_id"]) == [C]
    assert changes.retired.iloc[0]["reason"] == "本年度无部门使用"
    assert changes.vanished == []
    counts = {r["ref"]: (r["total"], r["active"], r["retired"]) for r in changes.releases}
    assert counts == {"v2024": (10, 10, 0), "v2025": (11, 10, 1)}


def test_diff_reports_merge_and_reactivation(repo):
    changes = diff(repo, "v2025", "v2026")
    merged = changes.merged.to_dict("records")
    assert merged == [
        {
            "indicator_id": B,
            "name": "培训（参会）人次",
            "into_id": A,
            "into_name": "培训人次",
            "reason": MERGE_REASON,
        }
    ]
    assert list(changes.reactivated["indicator_id"]) == [C]
    assert list(changes.retired["indicator_id"]) == [D]
    assert changes.added.empty


@pytest.mark.parametrize(
    "ref_a, ref_b", [("v2024", "v2025"), ("v2025", "v2026"), ("v2026", "v2026.1"), ("v2024", "v2026.1")]
)
def test_diff_is_diff_indicators_over_the_whole_releases(repo, ref_a, ref_b):
    """diff() hands diff_indicators only the rows that can change; the result must be the same."""
    whole = diff_indicators(indicators_at(repo, ref_a), indicators_at(repo, ref_b), ref_a, ref_b)
    got = diff(repo, ref_a, ref_b).as_dict()
    assert {k: v for k, v in got.items() if k not in ("releases", "vanished")} == whole.as_dict()


def test_diff_text_and_json(repo):
    changes = diff(repo, "v2024", "v2026")
    text = render_diff_text(changes)
    assert text.startswith("指标库变更：v2024 → v2026\n")
    assert "v2024（" in text and "指标 10 个（在用 10，已退出 0，已合并 0）" in text
    assert "计量单位：人 → 人次" in text
    assert f"{B} 培训（参会）人次 → {A} 培训人次  理由：{MERGE_REASON}" in text
    for heading in ("新增（1）", "退出（1）", "合并（1）"):
        assert heading in text
    # C retired in 2025 and came back in 2026: between these two releases it did not change at all
    assert C not in text
    data = json.loads(json.dumps(diff_json(changes), ensure_ascii=False))
    assert data["from"] == "v2024" and data["to"] == "v2026"
    assert data["counts"] == changes.counts()
    assert {m["field"] for m in data["modified"] if m["indicator_id"] == A} == {"definition", "unit"}
    assert [r["ref"] for r in data["releases"]] == ["v2024", "v2026"]


def test_diff_of_identical_releases_says_so(repo):
    text = render_diff_text(diff(repo, "v2026.1", "HEAD"))
    assert "两个版本之间指标没有变化" in text


def test_unknown_ref_is_a_clear_error(repo):
    with pytest.raises(QueryError, match=r"找不到版本「v1999」.*v2024、v2025、v2026、v2026\.1"):
        diff(repo, "v1999", "v2026")
    with pytest.raises(QueryError, match="无效"):
        diff(repo, "--all")
    with pytest.raises(QueryError, match="不是 git 仓库"):
        diff(repo / "nowhere")


def test_diff_with_one_release_starts_from_the_empty_library(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "one"
    with pytest.raises(QueryError):
        diff(open_repo(root))  # no release yet
    lib = {
        A: indicator(A, "培训人次", unit="人", year=2024),
        G: indicator(G, "培训（会议）天数", scope="共性", year=2024),
    }
    release(root, 2024, lib, use(lib, [(A, "101"), (G, "205")], 2024))
    changes = diff(root)
    assert (changes.ref_a, changes.ref_b) == ("", "v2024")
    assert list(changes.added["indicator_id"]) == [G, A]  # by id
    assert render_diff_text(changes).startswith("指标库变更：（空库） → v2024\n")


def test_history_walks_release_tags_not_commits(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "tags"
    lib = {A: indicator(A, "培训人次", unit="人", year=2024)}
    uses = use(lib, [(A, "101")], 2024)
    release(root, 2024, lib, uses)
    # a commit that is not a release (no tag): history ignores it, diff reaches it by ref
    lib[A] = evolve(lib[A], 2024, "修改", "手工试改", unit="人次")
    tables = tables_from_rows(lib.values(), uses, [department("101", year=2024)])
    shutil.rmtree(root / LIBRARY_DIR)  # a hand edit of the published files, committed without a release
    write_release(tables, root / LIBRARY_DIR, year=2024, accounting=accounting_for(tables, 2024))
    git(root, "add", "library")
    git(root, "commit", "-q", "-m", "未发布的试改")
    h = history(root, A)
    assert [s.tag for s in h.releases] == ["v2024"] and h.current["unit"] == "人"
    head = git(root, "rev-parse", "HEAD").strip()
    changes = diff(root, "v2024", head[:12])
    assert changes.modified[["field", "old", "new"]].values.tolist() == [["unit", "人", "人次"]]


# --- history ----------------------------------------------------------------------------------------


def test_history_follows_every_release_with_what_and_why(repo):
    h = history(repo, A)
    assert [s.tag for s in h.releases] == ["v2024", "v2025", "v2026", "v2026.1"]
    kinds = [(e["tag"], e["type"]) for e in h.events]
    assert kinds == [("v2024", "added"), ("v2025", "modified"), ("v2026", "absorbed")]
    modified = h.events[1]
    assert modified["reason"] == MODIFY_REASON
    assert {(f["field"], f["old"], f["new"]) for f in modified["fields"]} >= {("unit", "人", "人次")}
    assert h.events[2]["from_id"] == B and h.events[2]["reason"] == MERGE_REASON
    depts = {s.tag: [d["dept_code"] for d in s.departments] for s in h.releases}
    assert depts == {"v2024": ["101", "310"], "v2025": ["101", "205"], "v2026": ["205"], "v2026.1": ["205"]}
    assert not h.releases[3].changed


def test_history_of_a_merged_indicator_says_where_it_went(repo):
    h = history(repo, B)
    merged = [e for e in h.events if e["type"] == "merged"]
    assert merged == [
        {
            "tag": "v2026",
            "year": 2026,
            "type": "merged",
            "into_id": A,
            "into_name": "培训人次",
            "reason": MERGE_REASON,
            "type_zh": "合并",
        }
    ]
    assert h.current["status"] == "merged"
    text = render_history_text(h)
    assert f"并入 {A} 培训人次" in text and f"indicators history {A}" in text
    assert "v2026（2026 年度）：已合并" in text and "本年度使用部门：无" in text


def test_history_of_retirement_and_reactivation(repo):
    h = history(repo, C.lower())  # ids are matched case-insensitively
    assert h.indicator_id == C
    kinds = [(e["tag"], e["type"], e["reason"]) for e in h.events]
    assert kinds == [
        ("v2024", "added", ""),
        ("v2025", "retired", "本年度无部门使用"),
        ("v2026", "reactivated", "本年度重新使用"),
    ]
    assert [d["dept_code"] for d in h.releases[1].departments] == []
    text = render_history_text(h)
    assert "退出，原因：本年度无部门使用" in text and "恢复使用，说明：本年度重新使用" in text
    data = json.loads(json.dumps(history_json(h), ensure_ascii=False))
    assert [r["tag"] for r in data["releases"]] == ["v2024", "v2025", "v2026", "v2026.1"]
    assert data["current"]["status"] == "active"


def test_history_starts_at_the_release_that_added_it(repo):
    h = history(repo, F)
    assert [s.tag for s in h.releases] == ["v2025", "v2026", "v2026.1"]
    assert h.events[0]["type"] == "added" and h.events[0]["reason"] == "新增数字化项目"


def test_history_of_an_unknown_id_is_a_clear_error(repo):
    with pytest.raises(QueryError, match=r"指标编号「SZ-X999999」不在任何发布版本中"):
        history(repo, "SZ-X999999")


def test_history_shows_the_targets_spread_by_year(reference_repo: ReferenceRepo) -> None:
    h = history(reference_repo.root, reference_repo.ids[COUNT])
    assert h.spread == (
        YearSpread(2024, "人次", 3, 3, 100.0, 200.0, 300.0),
        YearSpread(2025, "人次", 4, 4, 90.0, 185.0, 310.0),
        YearSpread(2026, "人次", 3, 2, 50.0, 150.0, 320.0),
    )
    text = render_history_text(h)
    assert "2025 年：4 个目标值（4 个部门），计量单位 人次，最小 90，中位数 185，最大 310" in text
    data = json.loads(json.dumps(history_json(h), ensure_ascii=False))
    assert data["target_spread"][2] == {
        "year": 2026,
        "unit": "人次",
        "count": 3,
        "departments": 2,
        "min": 50.0,
        "median": 150.0,
        "max": 320.0,
    }


def test_history_of_a_retired_indicator_keeps_its_targets_and_standards(
    reference_repo: ReferenceRepo,
) -> None:
    text = render_history_text(history(reference_repo.root, reference_repo.ids[RATE]))
    assert f"国家标准：≥90%；行业标准：≥92%；指标标准来源：{STANDARD_SOURCE}" in text
    assert "2024 年：2 个目标值（2 个部门），计量单位 %，最小 90，中位数 92.5，最大 95" in text
    effect = history(reference_repo.root, reference_repo.ids[EFFECT])
    assert effect.spread == () and "无数值型目标值" in render_history_text(effect)


def test_history_shows_the_actual_values_it_is_given(reference_repo: ReferenceRepo) -> None:
    """Actual values (evaluations.published_actuals' shape) beside each usage's own target; none before any
    self-evaluation (the reference repo has none). End to end: tests/test_evaluate_flowback.py."""
    iid = reference_repo.ids[COUNT]
    assert history(reference_repo.root, iid).actuals == ()
    spread = history(reference_repo.root, iid).spread
    usages = read_release_table(reference_repo.root / "library", "usages")
    mine = usages[(usages["indicator_id"] == iid) & (usages["year"] == 2025)].sort_values("dept_code").head(2)
    actuals = pd.DataFrame(
        {
            "indicator_id": [iid, iid, "ZB-X999999"],
            "year": [2025, 2025, 2025],
            "dept_code": [*mine["dept_code"], "201"],
            "project": [*mine["project"], ""],
            "actual_value": [123.0, 45.5, 1.0],
        }
    )
    h = history(reference_repo.root, iid, actuals)
    assert h.spread == spread
    assert [(a["year"], a["dept_code"], a["target"], a["actual_value"]) for a in h.actuals] == [
        (2025, d, t, v) for d, t, v in zip(mine["dept_code"], mine["target"], (123.0, 45.5), strict=True)
    ]
    data = json.loads(json.dumps(history_json(h), ensure_ascii=False))
    assert [a["actual_value"] for a in data["actual_values"]] == [123.0, 45.5]
    text = render_history_text(h)
    assert "各年度完成值（绩效自评，2 条）：" in text and "完成 45.5人次" in text


def test_history_spread_keeps_each_years_unit(repo):
    # A was measured in 人 in 2024 and in 人次 from 2025 (the 修改); every target is 95
    h = history(repo, A)
    assert [(y.year, y.unit, y.count, y.departments, y.median) for y in h.spread] == [
        (2024, "人", 2, 2, 95.0),
        (2025, "人次", 2, 2, 95.0),
        (2026, "人次", 1, 1, 95.0),
    ]


# --- search -----------------------------------------------------------------------------------------


def ids(hits: pd.DataFrame) -> list[str]:
    return list(hits["indicator_id"])


def test_traditional_query_finds_the_simplified_name(repo):
    hits = search(repo, "培訓人次")
    assert ids(hits)[0] == A and hits.iloc[0]["match"] == "名称完全一致"
    assert B not in ids(hits)  # merged: not offered by default


def test_full_width_query(repo):
    hits = search(repo, "２４小时")
    assert ids(hits) == [H] and hits.iloc[0]["match"] == "名称开头一致"
    spaced = search(repo, "培训　天数")  # full-width space separates two terms
    assert ids(spaced)[0] == G and spaced.iloc[0]["match"] == "名称包含全部检索词"


def test_ranking_by_name_then_keywords_then_explanation(repo):
    hits = search(repo, "培训", limit=None)
    ranked = list(zip(hits["indicator_id"], hits["match"], strict=True))
    # prefix matches first (equal similarity: by id, SZ-G… before SZ-X…), then the keyword-only hit
    assert ranked[:3] == [(G, "名称开头一致"), (A, "名称开头一致"), (K, "关键词匹配")]
    assert hits["score"].is_monotonic_decreasing
    assert ids(search(repo, "培训", limit=None)) == ids(hits)  # deterministic
    alias = search(repo, "培训（参会）人次")
    assert ids(alias)[0] == A and alias.iloc[0]["match"] == "曾用名/同义名称完全一致"
    loose = search(repo, "培训人次天数")
    assert ids(loose) == []


def test_filters_limit_and_retired(repo):
    sat = search(repo, "满意度", level1="满意度")
    assert ids(sat) == [M]
    assert ids(search(repo, "率", function_class="208", limit=None)) == [C, H]
    assert search(repo, "率", function_class="201").empty
    one = search(repo, "培训", limit=1)
    assert len(one) == 1 and one.attrs["total"] > 1
    assert D not in ids(search(repo, "档案整理"))
    retired = search(repo, "档案整理", include_retired=True)
    assert ids(retired) == [D] and retired.iloc[0]["status"] == "retired"
    with pytest.raises(QueryError, match="一级指标"):
        search(repo, "率", level1="不存在的一级")
    with pytest.raises(QueryError, match="功能分类"):
        search(repo, "率", function_class="20x")


def test_search_at_an_older_release(repo):
    hits = search(repo, "培训（参会）人次", ref="v2024")
    assert ids(hits)[0] == B and hits.iloc[0]["match"] == "名称完全一致"


def test_search_text_and_json(repo):
    hits = search(repo, "培训", limit=2)
    text = render_search_text(hits)
    lines = text.splitlines()
    assert lines[0].startswith("检索「培训」：共 ") and lines[0].endswith("显示前 2 条")
    assert lines[2].split()[:2] == [A, "培训人次"]
    assert "产出指标/数量指标" in lines[2] and "单位：人次" in lines[2] and "使用部门 1 个" in lines[2]
    assert "〔名称开头一致〕" in lines[2]
    assert len(lines) == 3
    data = json.loads(json.dumps(search_json(hits), ensure_ascii=False))
    assert data["query"] == "培训" and data["total"] == hits.attrs["total"]
    assert [h["indicator_id"] for h in data["hits"]] == ids(hits)
    assert data["hits"][0]["departments"] == ["205"]
    assert "没有找到" in render_search_text(search(repo, "不存在的指标名"))
