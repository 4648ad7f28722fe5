"""历史值 of a pre-filled row (pipelines/store/prefill.py), from the department's own usages.

For one indicator and project of one department, per earlier year: the actual value the self-evaluation
published for that year's usage (library/evaluations/, pipelines/store/evaluations.published_actuals) where
there is one — the flow-back of issue 14: next year's baselines are what was achieved —, else the value the
department wrote as 历史值 (a later workbook's value for a year over an earlier one's), else the target it
set that year. Written as the template's grammar
("2024年:95%;2025年:97%"); only entries the reader (pipelines/intake/targets.py) parses back to the same
year and value are kept, so validating the workbook reads exactly these values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import pandas as pd

from pipelines.intake.targets import parse_history
from pipelines.store.reference_values import department_series


def number_text(value: float) -> str:
    """95.0 → "95", 99.5 → "99.5", 1000000.0 → "1000000" (never an exponent)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:f}"
    return text[:-2] if text.endswith(".0") else text.rstrip("0").rstrip(".") if "." in text else text


def _written(history: object) -> dict[str, str]:
    try:
        found = json.loads(str(history)) if history else {}
    except ValueError:
        return {}
    return (
        {str(y): str(v) for y, v in found.items() if str(y).isdigit() and str(v).strip()}
        if isinstance(found, dict)
        else {}
    )


def _given(number: object) -> bool:
    return number is not None and not (isinstance(number, float) and math.isnan(number))


def _point_value(actual: object, target_value: object, target: object, unit: object) -> str:
    for number in (actual, target_value):
        if _given(number):
            return number_text(float(number)) + str(unit or "")  # type: ignore[arg-type]
    return str(target or "").strip()


# One earlier usage: (year, 历史值 JSON it wrote, actual value, target value, target as written, unit).
Point = tuple[int, str, object, object, str, str]


def history_values(points: list[Point], year: int) -> dict[str, str]:
    """year → value before `year`: the year's published actual value, else the written 历史值 (a later
    workbook's over an earlier one's), else the year's target."""
    values: dict[str, str] = {}
    ordered = sorted(points, key=lambda p: p[0])
    for point in ordered:
        values |= _written(point[1])
    for y, _history, actual, value, target, unit in ordered:
        if _given(actual):  # what was achieved outranks what anyone wrote
            values[str(y)] = _point_value(actual, None, "", unit)
            continue
        text = _point_value(None, value, target, unit)
        if text:
            values.setdefault(str(y), text)
    return {y: v for y, v in sorted(values.items()) if int(y) < year}


def history_cell(values: dict[str, str]) -> str:
    """The 历史值 cell: entries the reader parses back unchanged, joined with ";"."""
    kept = [(y, v) for y, v in values.items() if parse_history(f"{y}年:{v}") == {y: v}]
    text = ";".join(f"{y}年:{v}" for y, v in kept)
    return text if parse_history(text) == dict(kept) else ""


class DepartmentHistory:
    """The 历史值 cells of one department's rows, its usages grouped once by (indicator, project): a
    department with thousands of rows costs one pass, not one scan per row."""

    def __init__(
        self,
        dept_usages: pd.DataFrame,
        resolved: Mapping[str, str],
        year: int,
        actuals: pd.DataFrame | None = None,
    ) -> None:
        """`actuals`: published actual values per usage (evaluations.published_actuals), None when none."""
        self.year = year
        mine = dept_usages[dept_usages["year"] < year]
        series = department_series(mine, actuals)
        actual = {
            (i, int(y), p, str(t)): a
            for i, y, p, t, a in zip(
                series["indicator_id"], series["year"], series["project"], series["target"],
                series["actual_value"], strict=True,
            )
        }  # fmt: skip
        self.points: dict[tuple[str, str], list[Point]] = {}
        for i, y, p, h, v, t, u in zip(
            mine["indicator_id"], mine["year"], mine["project"], mine["history"], mine["target_value"],
            mine["target"], mine["unit"], strict=True,
        ):  # fmt: skip
            point = (int(y), str(h), actual.get((i, int(y), p, str(t))), v, str(t), str(u))
            self.points.setdefault((resolved.get(str(i), str(i)), str(p)), []).append(point)

    def cell(self, indicator_id: str, project: str) -> str:
        """The 历史值 cell of the department's row of `indicator_id` (ids merged into it included) in
        `project`: "" when it has no earlier usage there."""
        points = self.points.get((indicator_id, project))
        return history_cell(history_values(points, self.year)) if points else ""
