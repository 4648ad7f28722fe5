"""Framework labels as real departments write them (issue 11, points 2 and 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.intake.read import read_workbook
from pipelines.validate.runner import validate_workbooks
from schemas.vocab import reference, resolve_framework
from tests.xlsx_builders import default_info, load_realdata, write_workbook

# 一级 labels of the real tables that are rightly not in the framework: the budget-execution part of the
# 2016 evaluation form (预算执行进度, 财务管理) is scored apart from the performance goals (预算执行率).
JUSTIFIED_ERRORS = {"预算绩效"}


def test_every_real_label_resolves_or_is_a_justified_error() -> None:
    rows = load_realdata()
    if not rows:
        pytest.skip("../shared/realdata not present")
    pairs = {(r["level1"], r["level2"]) for r in rows if r["level1"] or r["level2"]}
    unresolved = []
    for l1, l2 in sorted(pairs):
        match = resolve_framework(l1, l2)
        # An empty 二级 is a missing cell (R101 on the project sheet), not a label to resolve.
        if not (match.level1_ok and (match.level2_ok or not l2)) and l1 not in JUSTIFIED_ERRORS:
            unresolved.append((l1, l2))
    assert unresolved == []


@pytest.mark.parametrize(
    ("l1", "l2", "expected"),
    [
        ("产出指标", "产出数量指标", ("产出指标", "数量指标")),
        ("产出指标", "产出质量指标", ("产出指标", "质量指标")),
        ("产出指标", "产出时效指标", ("产出指标", "时效指标")),
        ("产出指标", "产出成本指标", ("成本指标", "经济成本指标")),
        ("项目产出", "产出成本", ("成本指标", "经济成本指标")),
        ("满意度指标", "社会公众或服务对象满意度指标", ("满意度指标", "服务对象满意度指标")),
        ("项目效果", "服务对象满意度", ("满意度指标", "服务对象满意度指标")),
    ],
)
def test_label_variants_map_with_a_note(l1: str, l2: str, expected: tuple[str, str]) -> None:
    match = resolve_framework(l1, l2)
    assert (match.level1, match.level2) == expected
    assert match.level1_ok and match.level2_ok
    assert match.note_zh  # every reinterpretation is shown


@pytest.mark.parametrize(
    ("l1", "l2"),
    [("投入指标", "数量指标"), ("投入指标", "数量"), ("过程指标", "质量"), ("预算绩效", "服务对象满意度")],
)
def test_unknown_written_level1_is_never_overridden(l1: str, l2: str) -> None:
    match = resolve_framework(l1, l2)
    assert match.level1 == l1 and not match.level1_ok


@pytest.mark.parametrize(
    ("l1", "l2"), [("效益指标", "成本指标"), ("产出指标", "满意度"), ("效益指标", "数量")]
)
def test_a_current_level1_is_not_moved_by_the_level2(l1: str, l2: str) -> None:
    """A current 一级 with a 二级 of another 一级 is R103 material, not a silent move."""
    match = resolve_framework(l1, l2)
    assert match.level1 == l1 and match.level1_ok and not match.level2_ok


def test_a_wildcard_alias_row_never_applies_to_a_written_unknown_level1() -> None:
    wildcard_level2 = {a.raw_level2 for a in reference().framework_aliases if a.raw_level1 == "*"}
    for l2 in sorted(wildcard_level2):
        assert not resolve_framework("投入指标", l2).level1_ok, l2


def test_real_rows_in_a_workbook(tmp_path: Path) -> None:
    """The real labelled rows as a department would file them: only the justified labels are R102, no R103,
    and every reinterpreted row carries its note."""
    real = [r for r in load_realdata() if r["level1"] and r["level2"] and r["name"]]
    if not real:
        pytest.skip("../shared/realdata not present")
    rows = [
        {
            "project": f"项目{i // 8}",
            "function_code": "2010101",
            "level1": r["level1"],
            "level2": r["level2"],
            "name": r["name"],
            "definition": r["definition"] or "说明",
            "symbol": "定性" if not r["value"] else "",
            "target": r["value"] or "达到预期",
            "unit": r["unit"],
        }
        for i, r in enumerate(real)
    ]
    path = tmp_path / "real.xlsx"
    written = write_workbook(path, default_info(), [], rows)
    result = validate_workbooks([read_workbook(path)], year=2026)
    r102 = [f for f in result.findings if f.code == "R102"]
    assert {f.value for f in r102} <= JUSTIFIED_ERRORS
    assert not [f for f in result.findings if f.code == "R103"]
    # The satisfaction and percentage rules on real rows: every 满意度 is filed under 满意度指标, and the only
    # rate above 100 % is the OCR-garbled "292%" (≥92%) of a 合格率.
    assert not [f for f in result.findings if f.code == "W218"]
    assert [f.value.split()[0] for f in result.findings if f.code == "R115"] == ["292%"]
    noted_rows = {f.row for f in result.findings if f.code == "I401"}
    for excel_row, r in zip(written.data_rows["project"], real, strict=True):
        match = resolve_framework(r["level1"], r["level2"])
        if match.note_zh and r["level1"] not in JUSTIFIED_ERRORS:
            assert excel_row in noted_rows, r
