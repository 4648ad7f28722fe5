"""Consolidation at a million rows, where its cost had grown faster than the rows (issue 15), with the same
results as before:

- identity.merge_into_common with no continuity to follow (a first year) makes no department keys of the rows
  (1M rows: ≈ 2 s of joined texts for nothing), and merges as before when there is some.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.consolidate import identity
from pipelines.consolidate.build import Consolidation, consolidate
from pipelines.consolidate.reasons import COMMON_COVERS_REASON
from pipelines.intake.read import read_workbook
from pipelines.validate.runner import validate_workbooks
from schemas.library import LibraryTables
from tests.xlsx_builders import default_info, project_row, write_workbook

FIN = "101"
MEETING = dict(
    name="会议次数", level1="产出指标", level2="数量指标", unit="次", definition="反映组织会议的次数"
)


def _year(tmp: Path, year: int, previous: LibraryTables | None) -> Consolidation:
    """The bureau's 共性 row and two departments' project rows equal to it, in real workbooks."""
    folder = tmp / str(year)
    folder.mkdir()
    files = [("fin.xlsx", FIN, [], [project_row(project="", function_code="", **MEETING)])]
    files += [
        (f"{d}.xlsx", d, [project_row(project="医生培训", function_code="2100401", **MEETING)], None)
        for d in ("202", "203")
    ]
    for name, dept, projects, common in files:
        write_workbook(
            folder / name, default_info(year, dept, f"部门{dept}"), [], projects, common_rows=common
        )
    workbooks = [read_workbook(folder / name) for name, *_ in files]
    indicators = previous.indicators if previous is not None else None
    validation = validate_workbooks(workbooks, year=year, finance_dept=FIN, indicators=indicators)
    assert (validation.rows["outcome"] == "library").all()
    return consolidate(validation.rows, validation.departments, year=year, previous=previous)


def test_common_usages_of_a_first_year_make_no_department_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    joined: list[int] = []
    join_rows = identity.join_rows

    def counted(columns: list[np.ndarray], sep: str) -> np.ndarray:
        joined.append(len(columns[0]))
        return join_rows(columns, sep)

    monkeypatch.setattr(identity, "join_rows", counted)
    first = _year(tmp_path, 2024, None)
    ind = first.tables.indicators
    assert len(ind) == 1 and ind["scope"].item() == "共性"  # the departments' rows are its usages
    assert set(first.tables.usages["indicator_id"]) == {ind["indicator_id"].item()}
    assert joined == []  # no continuity: merge_into_common made no department keys

    # A later year follows continuity: a department's indicator of an older release merges into the 共性 one.
    legacy = ind.assign(
        indicator_id="ZB-X000009", scope="项目", function_code="2100401", function_class="210"
    )
    legacy["departments"] = [["202"]]
    usages = first.tables.usages
    usages = usages[usages["dept_code"] == "202"].assign(indicator_id="ZB-X000009")
    previous = LibraryTables(
        pd.concat([ind, legacy], ignore_index=True), usages, first.tables.departments, first.tables.set_aside
    )
    second = _year(tmp_path, 2025, previous)
    after = second.tables.indicators.set_index("indicator_id")
    assert joined  # the department keys were made for the continuity
    assert after.loc["ZB-X000009", "status"] == "merged"
    assert after.loc["ZB-X000009", "merged_into"] == ind["indicator_id"].item()
    assert after.loc["ZB-X000009", "retire_reason"] == COMMON_COVERS_REASON
