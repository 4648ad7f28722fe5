"""W221 (issue 11): a 指标名称 that is only a value — real published rows such as "15万元。", "100万", "2020年全年。"
— is warned about at its cell; names that say what they measure (even with a year or a number) are not."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipelines.intake.read import read_workbook
from pipelines.validate.rules.value_name import value_only
from pipelines.validate.runner import validate_workbooks
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

DATA = Path(__file__).resolve().parent / "data"

# Every name of the labelled sets that is only a value (measured over all 2,255 distinct real names).
REAL_VALUE_ONLY = {
    "100万",
    "12月底之前完成",
    "15万元。",
    "2020年",
    "2020年12月完成",
    "2020年全年。",
    "2022年全年",
    "20万元",
}


def _real_names() -> set[str]:
    names: set[str] = set()
    for path in sorted(DATA.glob("*_names.csv")) + sorted(DATA.glob("realdata/*.csv")):
        names |= {r["name"].strip() for r in csv.DictReader(path.open(encoding="utf-8"))}
    for path in sorted(DATA.glob("*pairs.csv")):
        text = "".join(line for line in path.open(encoding="utf-8") if not line.startswith("#"))
        for r in csv.DictReader(io.StringIO(text)):
            names |= {r["name_a"].strip(), r["name_b"].strip()}
    return names - {""}


def test_only_the_value_only_real_names_fire() -> None:
    names = _real_names()
    assert len(names) > 2000 and names >= REAL_VALUE_ONLY
    assert {n for n in names if value_only(n)} == REAL_VALUE_ONLY


def test_names_with_a_measure_do_not_fire() -> None:
    for name in (
        "2020年完成造林面积",
        "围墙300米",
        "≥360天服务读者",
        "12345热线工单办结率",
        "2型糖尿病患者管理人数",
    ):
        assert not value_only(name), name
    for name in ("≥95%", "1.5万元。", "１５万元", "2020-2022年", "5000吨"):
        assert value_only(name), name


def test_a_value_written_as_the_name_is_warned_at_its_cell(tmp_path: Path) -> None:
    p = "经开区河道治理"
    rows = [
        project_row(project=p, level2="数量指标", name="河道清理长度", unit="公里", target=12),
        project_row(project=p, level2="质量指标", name="验收合格率", unit="%", target=95),
        project_row(
            project=p, level1="效益指标", level2="生态效益指标", name="水质达标率", unit="%", target=90
        ),
        project_row(
            project=p,
            level1="满意度指标",
            level2="服务对象满意度指标",
            name="群众满意度",
            unit="%",
            target=90,
        ),
        project_row(project=p, level2="成本指标", name="15万元。", unit="万元", target=15),
        project_row(project=p, level2="时效指标", name="2020年全年。", unit="年", target=1),
        project_row(project=p, level2="数量指标", name="2020年完成造林面积", unit="亩", target=300),
        project_row(project=p, level2="数量指标", name="围墙300米", unit="米", target=300),
    ]
    written = write_workbook(tmp_path / "values.xlsx", default_info(), [core_row()], rows, title_rows=1)
    result = validate_workbooks([read_workbook(written.path)], year=2026)
    data_rows, letters = written.data_rows["project"], written.columns["project"]
    warned = {f.row: f for f in result.findings if f.code == "W221"}
    assert set(warned) == {data_rows[4], data_rows[5]}
    first = warned[data_rows[4]]
    assert (first.sheet, first.column, first.severity) == ("项目支出指标", letters["name"], "warning")
    assert "指标名称“15万元。”只是一个数值" in first.message
    assert "写明衡量什么" in first.fix and "目标值" in first.fix
    assert "“2020年全年。”" in warned[data_rows[5]].message
