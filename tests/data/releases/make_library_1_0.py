"""How library-1.0.bundle was made: two releases of a small library written by the 1.0 code.

Run once, from the repo root, at the commit that added the bundle:
    PYTHONPATH=. .venv/bin/python tests/data/releases/make_library_1_0.py
The bundle is the fixture; this script is its record. Do not re-run it after SCHEMA_MINOR or
SCHEMA_VERSION changes: newer code writes a newer version, and the point of the bundle is to stay what
the 1.0 code wrote (docs/SCHEMA_VERSIONS.md). Releases go through the rebuild's own stage and publish
steps (tests/git_env.publish_tables): staged, verified, committed with library/ and reports/, tagged.

v2024: 13 indicators (项目, 共性, 部门整体), used by departments 101 and 205.
v2025: A's unit and definition modified (with a reason), C retired, B merged into A, F added.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pipelines.consolidate.changes import diff_indicators
from pipelines.store.shape import current_version
from tests.git_env import publish_tables
from tests.library_fixtures import department, indicator, make_id, tables_from_rows, usage

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "library-1.0.bundle"
DEPTS = ("101", "205")
A, B, C, F = make_id("项目", 1), make_id("项目", 2), make_id("项目", 3), make_id("项目", 6)
G, P = make_id("共性", 1), make_id("部门整体", 1)
MODIFY_REASON = "统一计量口径"
MERGE_REASON = "同义指标合并（审核确认）"


def evolve(row: dict, year: int, change: str, reason: str, **fields: object) -> dict:
    return {
        **row,
        **fields,
        "last_change_year": year,
        "last_change_type": change,
        "last_change_reason": reason,
    }


def library_2024() -> dict[str, dict]:
    y = 2024
    rows = [
        indicator(A, "培训人次", function_code="2010101", unit="人", keywords="培训;会议", year=y),
        indicator(B, "培训（参会）人次", function_code="2010101", unit="人次", year=y),
        indicator(C, "档案存储设施稳定运行率", function_code="2080101", unit="%", year=y),
        indicator(make_id("项目", 4), "预计新增档案整理移库", function_code="2080101", unit="标箱", year=y),
        indicator(make_id("项目", 5), "项目总成本", function_code="2130101", level1="成本指标",
                  level2="经济成本指标", unit="万元", symbol="≤", keywords="成本;预算", year=y),
        indicator(G, "培训（会议）天数", scope="共性", unit="天", year=y),
        indicator(P, "按时发放率", scope="部门整体", unit="%", year=y),
    ]  # fmt: skip
    return {r["indicator_id"]: r for r in rows}


def publish(root: Path, year: int, lib: dict[str, dict], uses: list[dict], before: dict | None) -> str:
    in_year = {}
    for u in uses:
        if u["year"] == year:
            in_year.setdefault(u["indicator_id"], set()).add(u["dept_code"])
    rows = [{**r, "departments": sorted(in_year.get(i, r["departments"]))} for i, r in lib.items()]
    tables = tables_from_rows(rows, uses, [department(d, year=year) for d in DEPTS])
    old = tables_from_rows(list(before.values()), [], []).indicators if before else None
    changes = diff_indicators(old, tables.indicators, "", f"v{year}")
    reports = {"CHANGELOG.md": f"# {year} 年度指标库变更\n\n{changes.counts_zh()}\n"}
    result = publish_tables(root, tables, year, reports=reports, changes=changes)
    assert result.committed and result.tag == f"v{year}", result
    return result.tag


def build(root: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    lib = library_2024()
    uses = [usage(r, dept_code=DEPTS[k % 2], year=2024, source_row=5 + k) for k, r in enumerate(lib.values())]
    publish(root, 2024, lib, uses, None)

    before, y = {i: dict(r) for i, r in lib.items()}, 2025
    lib[A] = evolve(lib[A], y, "修改", MODIFY_REASON, unit="人次", definition="反映参加培训的人次（含线上）。",
                    last_year=y, aliases=["培训（参会）人次"])  # fmt: skip
    lib[B] = evolve(lib[B], y, "合并", MERGE_REASON, status="merged", merged_into=A, retired_year=y,
                    retire_reason=MERGE_REASON, departments=[])  # fmt: skip
    lib[C] = evolve(lib[C], y, "退出", "本年度无部门使用", status="retired", retired_year=y,
                    retire_reason="本年度无部门使用", departments=[])  # fmt: skip
    lib[F] = indicator(F, "档案数字化扫描页数", function_code="2080101", unit="页", year=y)
    lib[F]["last_change_reason"] = "新增数字化项目"
    active = [r for r in lib.values() if r["status"] == "active"]
    for r in active:
        r["last_year"] = y
    uses += [usage(r, dept_code=DEPTS[k % 2], year=y, source_row=5 + k) for k, r in enumerate(active)]
    publish(root, y, lib, uses, before)


def main() -> int:
    assert str(current_version()) == "1.0", f"this code writes {current_version()}: the bundle must stay 1.0"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            HOME=tmp,
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_DATE="2025-12-01T09:00:00+08:00",
            GIT_COMMITTER_DATE="2025-12-01T09:00:00+08:00",
        )
        root = Path(tmp) / "city"
        build(root)
        subprocess.run(["git", "-C", str(root), "bundle", "create", "-q", str(BUNDLE), "--all"], check=True)
    print(f"wrote {BUNDLE} ({BUNDLE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
