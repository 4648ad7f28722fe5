"""Self-evaluation results flow back (issue 14): a real rebuild, a real evaluation (`indicators evaluate`),
then the next year's pre-filled workbook (`indicators template --dept`) carries the published actual values
as 历史值 — over what the department wrote and over the target — and validation warns (W215, located, in
Chinese) when a ≥ target is set below last year's actual."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from pipelines import rebuild
from pipelines.cli import main
from pipelines.evaluate.workbook import HEADER, INDICATOR_SHEET, PROJECT_SHEET
from pipelines.store.evaluations import published_actuals
from schemas.vocab import reference
from tests.git_env import isolate_git, small_inbox

YEAR, NEXT = 2025, 2026
EDU = "201"
# 完成值 per indicator name of 教育局 (small_inbox: core 政策宣传覆盖率 ≥95% with 历史值 "2024年:93%;2025年:94%",
# project 教育局服务人次 ≥200人次 and 教育局覆盖率 ≥95%, both with 历史值 "2025年:180次" as written)
ACTUALS = {"政策宣传覆盖率": 97, "教育局服务人次": 230, "教育局覆盖率": 98}


@pytest.fixture(autouse=True)
def _git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(evaluated, not evaluated): one rebuild of YEAR each, the first one's self-evaluation published."""
    root = tmp_path_factory.mktemp("flowback")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(root / "home", mp)
        plain, evaluated = root / "plain", root / "evaluated"
        for repo in (plain, evaluated):
            rebuild.run(
                YEAR, small_inbox(root / f"inbox-{repo.name}", YEAR, depts=2), repo, finance_dept="101"
            )
        folder = root / "self_eval"
        assert main(["template", "--self-eval", "--dept", EDU, "--year", str(YEAR), "--repo", str(evaluated),
                     "--out", str(folder)]) == 0  # fmt: skip
        (path,) = folder.glob("*.xlsx")
        _fill(path)
        assert (
            main(["evaluate", "--year", str(YEAR), "--submissions", str(folder), "--repo", str(evaluated)])
            == 0
        )
    return evaluated, plain


def _fill(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATOR_SHEET]
    col = {c.value: c.column for c in ws[1]}
    for r in range(2, ws.max_row + 1):
        ws.cell(r, col[HEADER["actual"]]).value = ACTUALS[ws.cell(r, col[HEADER["name"]]).value]
    projects = wb[PROJECT_SHEET]
    for r in range(2, projects.max_row + 1):
        projects.cell(r, 3).value, projects.cell(r, 4).value, projects.cell(r, 5).value = 100, 100, "是"
    wb.save(path)


def _history(path: Path) -> dict[str, str]:
    """指标名称 → 历史值 of every indicator row of a pre-filled workbook."""
    ref = reference()
    out = {}
    for kind in ("core", "project"):
        ws = openpyxl.load_workbook(path)[ref.sheets[kind].name_zh]
        head = [c.value for c in ws[1]]
        name, history = head.index(ref.header_zh(kind, "name")), head.index(ref.header_zh(kind, "history"))
        out |= {row[name]: row[history] for row in ws.iter_rows(min_row=2, values_only=True) if row[name]}
    return out


def _prefill(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["template", "--dept", EDU, "--repo", str(repo), "--out", str(out)]) == 0
    capsys.readouterr()
    (path,) = out.glob("*.xlsx")
    return path


def test_published_actuals_are_the_next_years_history(
    repos: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluated, plain = repos
    actuals = published_actuals(evaluated / "library")
    assert sorted(actuals.loc[actuals["dept_code"] == EDU, "actual_value"]) == [97.0, 98.0, 230.0]
    # Not evaluated: what the department wrote (even a wrong-looking value).
    before = _history(_prefill(plain, tmp_path / "plain", capsys))
    assert before == {"政策宣传覆盖率": "2024年:93%;2025年:94%", "教育局服务人次": "2025年:180次",
                      "教育局覆盖率": "2025年:180次"}  # fmt: skip
    # Evaluated: the actual value of 2025 replaces both; earlier written years stay.
    after = _history(_prefill(evaluated, tmp_path / "evaluated", capsys))
    assert after == {"政策宣传覆盖率": "2024年:93%;2025年:97%", "教育局服务人次": "2025年:230人次",
                     "教育局覆盖率": "2025年:98%"}  # fmt: skip


def test_a_target_lowered_below_last_years_actual_gets_w215(
    repos: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluated, _ = repos
    path = _prefill(evaluated, tmp_path / "next", capsys)
    ref = reference()
    wb = openpyxl.load_workbook(path)
    ws = wb[ref.sheets["project"].name_zh]
    head = [c.value for c in ws[1]]
    name_col, target_col = (
        head.index(ref.header_zh("project", "name")),
        head.index(ref.header_zh("project", "target")),
    )
    rows = {ws.cell(r, name_col + 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["教育局覆盖率"], target_col + 1).value = 96  # above 2025's target 95, below its actual 98
    ws.cell(rows["教育局服务人次"], target_col + 1).value = 230  # equal to the actual: not looser
    wb.save(path)
    code = main(["validate", str(path), "--year", str(NEXT), "--repo", str(evaluated), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert (
        code == report["exit_code"] == 0
    )  # a warning keeps the row; 教育局服务人次 = its actual: no warning
    found = {(f["sheet"], f["row"]): f["message"] for file in report["files"] for f in file["findings"]
             if f["code"] == "W215"}  # fmt: skip
    lowered = (ref.sheets["project"].name_zh, rows["教育局覆盖率"])
    # The core row kept its target 95 % after achieving 97 %: a pre-filled workbook left as it is warns too.
    kept = (ref.sheets["core"].name_zh, 2)
    assert sorted(found) == sorted([lowered, kept])
    assert "“96”" in found[lowered] and "2025年 98%" in found[lowered] and "从严从高" in found[lowered]
    assert "2025年 97%" in found[kept]


def test_w215_holds_a_target_to_the_published_actual_even_when_history_is_cleared(
    repos: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A department that empties the pre-filled 历史值 does not escape 从严从高: validation with --repo reads
    last evaluated year's actual values itself (rows that cite their 库内编号)."""
    evaluated, plain = repos
    path = _prefill(evaluated, tmp_path / "cleared", capsys)
    ref = reference()
    wb = openpyxl.load_workbook(path)
    ws = wb[ref.sheets["project"].name_zh]
    head = [c.value for c in ws[1]]
    col = {k: head.index(ref.header_zh("project", k)) + 1 for k in ("name", "target", "history")}
    rows = {ws.cell(r, col["name"]).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["教育局覆盖率"], col["target"]).value = 96  # below the 2025 actual 98
    for r in rows.values():
        ws.cell(r, col["history"]).value = None
    wb.save(path)

    def w215(repo: Path) -> dict[int, str]:
        main(["validate", str(path), "--year", str(NEXT), "--repo", str(repo), "--format", "json"])
        report = json.loads(capsys.readouterr().out)
        return {f["row"]: f["message"] for file in report["files"] for f in file["findings"]
                if f["code"] == "W215" and f["sheet"] == ref.sheets["project"].name_zh}  # fmt: skip

    found = w215(evaluated)
    # 教育局服务人次 keeps last year's target 180 after achieving 230: looser than the actual too.
    assert sorted(found) == sorted([rows["教育局覆盖率"], rows["教育局服务人次"]])
    assert "2025年完成值 230" in found[rows["教育局服务人次"]]
    assert "“96”" in found[rows["教育局覆盖率"]] and "2025年完成值 98%" in found[rows["教育局覆盖率"]]
    assert w215(plain) == {}  # no published self-evaluation: nothing to hold the target to


def test_history_and_search_show_the_actual_beside_the_target(
    repos: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    evaluated, plain = repos
    assert main(["search", "教育局覆盖率", "--repo", str(evaluated), "--format", "json"]) == 0
    (hit,) = json.loads(capsys.readouterr().out)["hits"]
    assert (hit["actual_year"], hit["actuals"]) == (YEAR, [98.0])
    assert main(["search", "覆盖率", "--repo", str(evaluated)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("教育局覆盖率" in ln and ln.endswith(f"{YEAR}年完成值 98") for ln in lines), lines
    assert any("卫健委覆盖率" in ln and "完成值" not in ln for ln in lines)  # 202 submitted nothing
    assert main(["search", "教育局覆盖率", "--repo", str(plain), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["hits"][0]["actuals"] == []

    iid = hit["indicator_id"]
    assert main(["history", iid, "--repo", str(evaluated), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)["actual_values"]
    assert found == [{"year": YEAR, "dept_code": EDU, "dept_name": "教育局", "project": "教育局项目",
                      "symbol": "≥", "target": "95", "unit": "%", "actual_value": 98.0}]  # fmt: skip
    assert main(["history", iid, "--repo", str(evaluated)]) == 0
    text = capsys.readouterr().out
    assert (
        f"各年度完成值（绩效自评，1 条）：\n  {YEAR} 年 {EDU} 教育局「教育局项目」：目标 ≥95%，完成 98%"
        in text
    )
    assert main(["history", iid, "--repo", str(plain), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["actual_values"] == []
    assert "完成值" not in (main(["history", iid, "--repo", str(plain)]), capsys.readouterr().out)[1]
