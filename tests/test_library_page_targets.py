"""The library page shows each department's target as written: the parsed symbol and unit are added only where
the cell lacks them (seen in the growth run's pages: "≥≥90%%", "≥98%以上%", "定性明显提高")."""

from __future__ import annotations

import pandas as pd

from pipelines.report.library_page.reference import dept_series


def _series(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator_id": [f"ZB-B{i:06d}" for i in range(len(rows))],
            "dept_code": "201",
            "year": 2026,
            "symbol": [r[0] for r in rows],
            "target": [r[1] for r in rows],
            "unit": [r[2] for r in rows],
            "actual_value": [r[3] for r in rows],
        }
    )


def test_targets_read_as_written_with_symbol_and_unit_added_only_where_missing() -> None:
    rows = [
        ("≥", "≥90%", "%", None),  # symbol and unit written in the cell
        ("≥", "98%以上", "%", None),  # unit in the cell, a word after it
        ("≥", "不低于 95%", "%", None),  # the symbol in words
        ("≥", "42%", "%", None),  # unit only
        ("≥", "12600", "人", None),  # a bare number
        ("≤", "1.2", "万元", 1.1),  # a bare number, evaluated
        ("定性", "明显提高", "", None),  # qualitative: 定性 is not a comparison
        ("=", "100", "%", None),
    ]
    shown = dept_series(_series(rows)).sort_values("indicator_id")["target"].tolist()
    assert shown == [
        "≥90%",
        "98%以上",
        "不低于 95%",
        "≥42%",
        "≥12600人",
        "≤1.2万元（完成 1.1）",
        "明显提高",
        "=100%",
    ]


def test_one_rule_for_every_reader_of_a_target() -> None:
    # The review's "targets fell" table shows targets with the same rule (it printed ≥≥90% before).
    from pipelines.intake.targets import shown_target

    assert shown_target("≥", "≥90%") == "≥90%"
    assert shown_target("≥", "90") == "≥90"
    assert shown_target("≥", "90", "%") == "≥90%"
    assert shown_target("≤", "3天以内", "天") == "3天以内"
    assert shown_target("定性", "明显提高") == "明显提高"
