"""A small real library for the reference-value tests (issue 13): three years of department workbooks,
written with tests.xlsx_builders and published by three real rebuilds (pipelines.rebuild.run) into a real
git repo. Shared by tests/test_reference_values.py and tests/test_export.py through the session fixture
`reference_repo` (import it into the test module).

The figures the tests check by hand (培训人次, unit 人次, function code 2050201, 教育 project rows):
    2024  201:100  202:300  203:200               → 3 targets, 3 departments, min 100, median 200, max 300
    2025  201:120  202:310  203:250  204:90       → 4 targets, 4 departments, min 90, median 185, max 310
    2026  201:150 and 201:50 (two projects)  202:320
                                                  → 3 targets, 2 departments, min 50, median 150, max 320
培训合格率 (%): 2024 201:95 202:90 → 2, 90, 92.5, 95; 国家标准 ≥90%, 行业标准 ≥92%, source STANDARD_SOURCE.
培训效果 is qualitative (定性, target 显著提升): no spread; its usages are in the series.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines import rebuild
from pipelines.store import publish
from tests.git_env import isolate_git
from tests.xlsx_builders import default_info, english_columns, project_row, write_workbook

YEARS = (2024, 2025, 2026)
DEPTS = {"201": "教育局", "202": "卫健委", "203": "民政局", "204": "交通局"}
COUNT, RATE, EFFECT = "培训人次", "培训合格率", "培训效果"
STANDARD_SOURCE = "《职业技能培训规范》第5条"
EXTRA_HEADER = "备注说明"
# year → dept → [(project, target)] of 培训人次
COUNT_TARGETS: dict[int, dict[str, list[tuple[str, float]]]] = {
    2024: {"201": [("教师培训", 100)], "202": [("医生培训", 300)], "203": [("社工培训", 200)]},
    2025: {
        "201": [("教师培训", 120)],
        "202": [("医生培训", 310)],
        "203": [("社工培训", 250)],
        "204": [("司机培训", 90)],
    },
    2026: {"201": [("教师培训", 150), ("校长培训", 50)], "202": [("医生培训", 320)]},
}
RATE_TARGETS = {2024: {"201": 95, "202": 90}}
EFFECT_DEPTS = {2024: ("201",), 2025: ("201",), 2026: ("201",)}


@dataclass(frozen=True)
class ReferenceRepo:
    root: Path
    ids: dict[str, str]  # indicator name → id in the last release


def _count_row(project: str, target: float, year: int, known: dict[str, str]) -> dict[str, object]:
    carried = {"change_type": "沿用", "library_id": known[COUNT]} if COUNT in known else {}
    return project_row(
        project=project,
        function_code="2050201",
        name=COUNT,
        definition="反映参加培训的人次",
        unit="人次",
        target=target,
        history=f"{year - 1}年:{int(target) - 10}人次",
        value_basis="历史标准",
        value_method="情况统计法",
        scoring_rule="全部完成得满分",
        project_goal=f"完成{project}任务",
        data_source="培训签到表",
        **{EXTRA_HEADER: f"{project}备注"},
        **carried,
    )


def _rate_row(project: str, target: float, known: dict[str, str]) -> dict[str, object]:
    carried = {"change_type": "沿用", "library_id": known[RATE]} if RATE in known else {}
    return project_row(
        project=project,
        function_code="2050201",
        level2="质量指标",
        name=RATE,
        definition="反映培训考核合格的比例",
        unit="%",
        target=target,
        national_standard="≥90%",
        industry_standard="≥92%",
        standard_source=STANDARD_SOURCE,
        **carried,
    )


def _effect_row(project: str, known: dict[str, str]) -> dict[str, object]:
    carried = {"change_type": "沿用", "library_id": known[EFFECT]} if EFFECT in known else {}
    return project_row(
        project=project,
        function_code="2050201",
        level1="效益指标",
        level2="社会效益指标",
        name=EFFECT,
        definition="反映培训对工作能力的提升效果",
        symbol="定性",
        target="显著提升",
        unit="",
        nature="定性",
        **carried,
    )


def _inbox(folder: Path, year: int, known: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    columns = [*english_columns("project"), EXTRA_HEADER]
    for code, name in DEPTS.items():
        rows = [_count_row(p, t, year, known) for p, t in COUNT_TARGETS[year].get(code, [])]
        if code in RATE_TARGETS.get(year, {}):
            rows.append(_rate_row(rows[0]["project"], RATE_TARGETS[year][code], known))  # type: ignore[arg-type]
        if code in EFFECT_DEPTS.get(year, ()):
            rows.append(_effect_row(str(rows[0]["project"]), known))
        if rows:
            info = default_info(year=year, dept_code=code, dept_name=name)
            write_workbook(folder / f"{code}.xlsx", info, [], rows, columns={"project": columns})
    return folder


def build_reference_repo(base: Path) -> ReferenceRepo:
    root = base / "repo"
    known: dict[str, str] = {}
    for year in YEARS:
        done = rebuild.run(year, _inbox(base / str(year), year, known), root, finance_dept="101")
        assert done.commit is not None and done.commit.committed, year
        ind = publish.read_table(root / "library", "indicators")
        known = dict(zip(ind["name"], ind["indicator_id"], strict=True))
    return ReferenceRepo(root, known)


@pytest.fixture(scope="session")
def reference_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceRepo]:
    base = tmp_path_factory.mktemp("reference_library")
    with pytest.MonkeyPatch.context() as mp:
        isolate_git(base / "home", mp)
        yield build_reference_repo(base)
