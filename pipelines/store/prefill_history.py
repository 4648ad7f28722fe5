"""历史值 of a pre-filled row (pipelines/store/prefill.py), from the department's own usages.

For one indicator and project of one department: the values it wrote as 历史值 over the years (a later
workbook's value for a year over an earlier one's), then, for each earlier year it used the indicator with
no written value, that year's value from its series (pipelines/store/reference_values.py): the actual
value once self-evaluation records one, else the target it set. Written as the template's grammar
("2024年:95%;2025年:97%"); only entries the reader (pipelines/intake/targets.py) parses back to the same
year and value are kept, so validating the workbook reads exactly these values.
"""

from __future__ import annotations

import json
import math

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


def _point_value(actual: object, target_value: object, target: object, unit: object) -> str:
    for number in (actual, target_value):
        if number is not None and not (isinstance(number, float) and math.isnan(number)):
            return number_text(float(number)) + str(unit or "")  # type: ignore[arg-type]
    return str(target or "").strip()


def history_values(series: pd.DataFrame, written: pd.DataFrame, year: int) -> dict[str, str]:
    """year → value before `year`: the written 历史值 (latest workbook wins), then the series' values for
    the years with none. `series`: department_series rows; `written`: usages (year, history)."""
    values: dict[str, str] = {}
    for history in written.sort_values("year")["history"]:
        values |= _written(history)
    for y, actual, value, target, unit in zip(
        series["year"],
        series["actual_value"],
        series["target_value"],
        series["target"],
        series["unit"],
        strict=True,
    ):
        text = _point_value(actual, value, target, unit)
        if text:
            values.setdefault(str(int(y)), text)
    return {y: v for y, v in sorted(values.items()) if int(y) < year}


def history_cell(values: dict[str, str]) -> str:
    """The 历史值 cell: entries the reader parses back unchanged, joined with ";"."""
    kept = [(y, v) for y, v in values.items() if parse_history(f"{y}年:{v}") == {y: v}]
    text = ";".join(f"{y}年:{v}" for y, v in kept)
    return text if parse_history(text) == dict(kept) else ""


def history_text(dept_usages: pd.DataFrame, ids: set[str], project: str, year: int) -> str:
    """The 历史值 cell of one row: the department's usages of the indicator (`ids`: its id and the ids
    merged into it) in the same project."""
    mine = dept_usages[dept_usages["indicator_id"].isin(ids) & (dept_usages["project"] == project)]
    mine = mine[mine["year"] < year]
    if mine.empty:
        return ""
    return history_cell(history_values(department_series(mine), mine, year))
