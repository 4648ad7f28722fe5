"""parse_target and parse_history: targets and history as officials write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.intake.targets import parse_history, parse_target
from schemas.vocab import reference
from tests.read_helpers import read_ok
from tests.xlsx_builders import (
    core_row,
    default_info,
    project_row,
    write_workbook,
)

# --- parse_target / parse_history ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit_hint", "expected"),
    [
        ("≥95%", "", ("≥", 95.0, "%")),
        ("不低于 90 %", "", ("≥", 90.0, "%")),
        ("≤ 3 天", "", ("≤", 3.0, "天")),
        ("≥100百分比", "", ("≥", 100.0, "%")),
        ("292%", "", ("", 292.0, "%")),
        (">92%", "", (">", 92.0, "%")),
        ("-0%", "", ("", 0.0, "%")),
        ("100%", "", ("", 100.0, "%")),
        ("1000标箱", "", ("", 1000.0, "标箱")),
        ("2280次", "次", ("", 2280.0, "次")),
        ("1,000", "人次", ("", 1000.0, "人次")),
        ("95%以上", "", ("≥", 95.0, "%")),
        ("3天以内", "", ("≤", 3.0, "天")),
        ("5个工作日内", "", ("≤", 5.0, "个工作日")),
        ("≥99%（另一处写作≤99%）", "", ("≥", 99.0, "%")),
        ("100（人次）", "", ("", 100.0, "人次")),
        ("效果明显", "", ("", None, "")),
        ("是", "", ("", None, "")),
        ("不超预算", "", ("≤", None, "")),
        ("大于等于95%", "", ("≥", 95.0, "%")),
        ("＞＝９５％", "", ("≥", 95.0, "%")),
        ("≧95", "%", ("≥", 95.0, "%")),
        ("95", "百分比", ("", 95.0, "%")),
        ("=100%", "", ("=", 100.0, "%")),
        ("为民服务", "", ("", None, "")),
        ("2024年底前完成", "", ("", None, "")),
        ("90%-95%", "", ("", None, "")),
        ("定性", "", ("定性", None, "")),
        ("", "%", ("", None, "%")),
        ("12.5万元", "", ("", 12.5, "万元")),
    ],
)
def test_parse_target(text: str, unit_hint: str, expected: tuple[str, float | None, str]) -> None:
    parsed = parse_target(text, unit_hint)
    assert (parsed.symbol, parsed.value, parsed.unit) == expected
    assert parsed.text == (text and parsed.text)  # qualitative text kept
    if text in ("效果明显", "不超预算"):
        assert parsed.text == text


def test_parse_target_symbols_come_from_the_vocabulary() -> None:
    for alias, symbol in reference().vocab_lookup["symbol"].items():
        if symbol == "定性":
            continue
        parsed = parse_target(f"{alias}5")
        assert (parsed.symbol, parsed.value) == (symbol, 5.0), alias


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024年:95%;2025年:97%", {"2024": "95%", "2025": "97%"}),
        ("2023年95%，2024年96%", {"2023": "95%", "2024": "96%"}),
        ("2024：90", {"2024": "90"}),
        ("2024年度：1,000；2025年度：1,200", {"2024": "1,000", "2025": "1,200"}),
        ("95%", {"": "95%"}),
        ("", {}),
        ("  ", {}),
    ],
)
def test_parse_history(text: str, expected: dict[str, str]) -> None:
    assert parse_history(text) == expected


def test_history_json_is_sorted(tmp_path: Path) -> None:
    row = project_row(history="2025年:97%;2023年:90%")
    frame = (
        read_ok(write_workbook(tmp_path / "hj.xlsx", default_info(), [core_row()], [row]).path)
        .sheets["project"]
        .frame
    )
    assert frame["history_json"].tolist() == ['{"2023": "90%", "2025": "97%"}']
