"""Reference values per indicator (issue 13): the targets' spread by year and unit, each department's
series, the standards with their source.

The figures are checked against the hand-computed values of tests/reference_library.py, a small real
library built by three real rebuilds into a real git repo; the edge cases (units never mixed, even
counts, actual values) on plain frames, since the functions are pure.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipelines.store.reference_values import (
    ACTUAL_COLUMNS,
    SERIES_COLUMNS,
    SPREAD_COLUMNS,
    STANDARD_COLUMNS,
    IndicatorReference,
    SeriesPoint,
    Standards,
    YearSpread,
    department_series,
    read_reference_values,
    reference_values,
    standards,
    target_spread,
)
from pipelines.store.shape import read_release_table
from tests.reference_library import COUNT, EFFECT, RATE, STANDARD_SOURCE, ReferenceRepo, reference_repo

__all__ = ["reference_repo"]  # the session fixture, imported for pytest


def test_spread_by_year_matches_the_hand_computed_figures(reference_repo: ReferenceRepo) -> None:
    ref = read_reference_values(reference_repo.root / "library")
    assert tuple(ref.spread.columns) == SPREAD_COLUMNS
    count = ref.of(reference_repo.ids[COUNT])
    assert count.quantitative
    assert count.spread == (
        YearSpread(2024, "人次", 3, 3, 100.0, 200.0, 300.0),
        YearSpread(2025, "人次", 4, 4, 90.0, 185.0, 310.0),  # even count: mean of 120 and 250
        YearSpread(2026, "人次", 3, 2, 50.0, 150.0, 320.0),  # 201 set two targets (two projects)
    )
    rate = ref.of(reference_repo.ids[RATE])
    assert rate.spread == (YearSpread(2024, "%", 2, 2, 90.0, 92.5, 95.0),)


def test_each_departments_series(reference_repo: ReferenceRepo) -> None:
    ref = read_reference_values(reference_repo.root / "library")
    assert tuple(ref.series.columns) == SERIES_COLUMNS
    count = ref.of(reference_repo.ids[COUNT])
    assert [d.dept_code for d in count.departments] == ["201", "202", "203", "204"]
    edu = count.departments[0]
    assert edu.dept_name == "教育局"
    assert [(p.year, p.project, p.target_value) for p in edu.points] == [
        (2024, "教师培训", 100.0),
        (2025, "教师培训", 120.0),
        (2026, "教师培训", 150.0),
        (2026, "校长培训", 50.0),
    ]
    assert [p.project for p in edu.latest()] == ["教师培训", "校长培训"]
    assert all(p.symbol == "≥" and p.unit == "人次" and p.actual_value is None for p in edu.points)
    assert [(p.year, p.target_value) for p in count.departments[3].points] == [(2025, 90.0)]
    assert ref.series["actual_value"].isna().all()  # no self-evaluation yet: nothing invented


def test_qualitative_indicator_has_a_series_but_no_spread(reference_repo: ReferenceRepo) -> None:
    effect = read_reference_values(reference_repo.root / "library").of(reference_repo.ids[EFFECT])
    assert not effect.quantitative and effect.spread == ()
    (edu,) = effect.departments
    assert [(p.year, p.target, p.target_value) for p in edu.points] == [
        (2024, "显著提升", None),
        (2025, "显著提升", None),
        (2026, "显著提升", None),
    ]
    assert not effect.standards


def test_standards_with_their_source(reference_repo: ReferenceRepo) -> None:
    ref = read_reference_values(reference_repo.root / "library")
    assert tuple(ref.standards.columns) == STANDARD_COLUMNS
    assert ref.standards["indicator_id"].tolist() == [reference_repo.ids[RATE]]  # only those that have any
    assert ref.of(reference_repo.ids[RATE]).standards == Standards("≥90%", "≥92%", STANDARD_SOURCE)


def test_by_indicator_agrees_with_of_and_is_deterministic(reference_repo: ReferenceRepo) -> None:
    library = reference_repo.root / "library"
    ref = read_reference_values(library)
    every = ref.by_indicator()
    assert sorted(every) == sorted(reference_repo.ids.values())
    assert all(every[i] == ref.of(i) for i in every)
    again = reference_values(read_release_table(library, "indicators"), read_release_table(library, "usages"))
    pd.testing.assert_frame_equal(ref.spread, again.spread)
    pd.testing.assert_frame_equal(ref.series, again.series)
    pd.testing.assert_frame_equal(ref.standards, again.standards)
    assert ref.of("ZB-X999999") == IndicatorReference("ZB-X999999")


def _usages(rows: list[tuple[str, int, str, str, str, float | None]]) -> pd.DataFrame:
    """(indicator_id, year, dept_code, project, unit, target_value) rows as a usages frame."""
    frame = pd.DataFrame(
        rows, columns=["indicator_id", "year", "dept_code", "project", "unit", "target_value"]
    )
    return frame.assign(
        dept_name=["部门" + d for d in frame["dept_code"]],
        symbol="≥",
        target=["" if v is None or math.isnan(v) else f"{v:g}" for v in frame["target_value"]],
        target_value=frame["target_value"].astype("float64"),
    )


def test_units_are_never_mixed_and_blank_targets_are_left_out() -> None:
    use = _usages(
        [
            ("P-X000001", 2026, "1", "a", "万元", 10.0),
            ("P-X000001", 2026, "2", "b", "万元", 30.0),
            ("P-X000001", 2026, "3", "c", "元", 200000.0),
            ("P-X000001", 2026, "4", "d", "万元", None),
            ("P-X000001", 2025, "1", "a", "万元", 8.0),
        ]
    )
    spread = target_spread(use)
    assert spread.to_dict("records") == [
        {"indicator_id": "P-X000001", "year": 2025, "unit": "万元", "count": 1, "departments": 1}
        | {"min": 8.0, "median": 8.0, "max": 8.0},
        {"indicator_id": "P-X000001", "year": 2026, "unit": "万元", "count": 2, "departments": 2}
        | {"min": 10.0, "median": 20.0, "max": 30.0},
        {"indicator_id": "P-X000001", "year": 2026, "unit": "元", "count": 1, "departments": 1}
        | {"min": 200000.0, "median": 200000.0, "max": 200000.0},
    ]
    assert len(department_series(use)) == 5  # the blank target stays in its department's series


def test_empty_release_gives_empty_typed_frames() -> None:
    use = _usages([])
    spread = target_spread(use)
    assert list(spread.columns) == list(SPREAD_COLUMNS) and spread.empty
    assert spread["count"].dtype == "int64" and spread["median"].dtype == "float64"
    assert department_series(use).empty and standards(pd.DataFrame({"indicator_id": []})).empty
    assert reference_values(pd.DataFrame({"indicator_id": []}), use).by_indicator() == {}


def test_a_table_without_the_source_column_reads_it_as_empty() -> None:
    old = pd.DataFrame({"indicator_id": ["P-X000001", "P-X000002"], "national_standard": ["≥95%", ""]})
    old = old.assign(industry_standard="")
    assert standards(old).to_dict("records") == [
        {"indicator_id": "P-X000001", "national_standard": "≥95%", "industry_standard": ""}
        | {"standard_source": ""}
    ]


def test_actual_values_fill_the_slot_per_usage() -> None:
    use = _usages([("P-X000001", 2025, "1", "a", "%", 95.0), ("P-X000001", 2025, "1", "b", "%", 90.0)])
    actuals = pd.DataFrame([("P-X000001", 2025, "1", "a", 97.5)], columns=list(ACTUAL_COLUMNS))
    actuals = actuals.assign(actual="97.5%", rule="proportional")  # an evaluation's other columns: ignored
    ref = reference_values(pd.DataFrame({"indicator_id": ["P-X000001"]}), use, actuals)
    (dept,) = ref.of("P-X000001").departments
    assert dept.points == (
        SeriesPoint(2025, "a", "≥", "95", 95.0, "%", 97.5),
        SeriesPoint(2025, "b", "≥", "90", 90.0, "%", None),
    )


@pytest.mark.parametrize("values", [[3.0], [1.0, 2.0, 10.0], [4.0, 1.0, 3.0, 2.0]])
def test_median_is_the_middle_value(values: list[float]) -> None:
    use = _usages([("P-X000001", 2026, str(k), "p", "个", v) for k, v in enumerate(values)])
    ordered = sorted(values)
    mid = len(ordered) // 2
    expected = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    (row,) = target_spread(use).to_dict("records")
    assert (row["min"], row["median"], row["max"]) == (ordered[0], expected, ordered[-1])
