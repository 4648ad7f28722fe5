"""The report's faster paths give what the plain ones give:
- the review's grouping (finding_tally.FindingTally.groups) equals group_findings (the groups, their order, counts, first cells and rows) on
  findings out of order, with rows missing, cells missing, mixed severities under one key, groups larger
  than the sample, and rows and columns that tie;
- trend._distinct counts what len(set(a) | set(b)) counts, a missing value included."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH, Finding, FindingGroup, group_findings
from pipelines.report.finding_tally import FindingTally
from pipelines.report.trend import _distinct
from pipelines.report.violations import DETAIL_TITLES, _details_of


def _grouped(found: list[Finding]) -> list[FindingGroup]:
    """The groups the review's detail table is made of."""
    return FindingTally(found).groups().as_groups()


def _details(found: list[Finding], dept_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """The review's detail table of these findings, whatever their severities."""
    return _details_of(FindingTally(found).groups(), dept_of)


def _findings(seed: int, n: int) -> list[Finding]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        out.append(
            Finding(
                file=rnd.choice(["101_2026.xlsx", "205_2026.xlsx", "9_2026.xlsx"]),
                code=rnd.choice(["R101", "W208", "F001"]),
                severity=rnd.choice(["row_error", "warning", "file_error", "odd"]),
                sheet=rnd.choice(["", "项目支出指标", "部门整体指标"]),
                row=rnd.choice([None, 0, 5, 12, 12, 300]),
                column=rnd.choice(["", "E", "P", "AA"]),
                field=rnd.choice(["", "三级指标", "数据来源"]),
                value=str(rnd.randrange(3)),
                message=rnd.choice(["缺少", "项目“甲”缺少", "项目“丙”缺少"]),
                fix=rnd.choice(["补填", "改正"]),
            )
        )
    return out


def test_grouped_is_group_findings() -> None:
    for seed in range(30):
        found = _findings(seed, 400 if seed % 2 else 25)
        assert _grouped(found) == group_findings(found)
    assert _grouped([]) == []
    # several groups beyond the sample of 5 cells, so "等 N 处" and the cut are exercised
    assert any(g.count > 5 and len(g.cells) == 5 for g in _grouped(_findings(1, 400)))


def _details_plain(found: list[Finding], dept_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """_details as it was: a record per group_findings group."""
    frame = pd.DataFrame(
        [
            {
                "dept_code": dept_of.get(g.file, ("", ""))[0],
                "file": g.file,
                "sheet": g.sheet,
                "code": g.code,
                "severity": SEVERITY_ZH.get(g.severity, g.severity),
                "field": g.field,
                "message": g.message,
                "cells": g.cells_zh,
                "count": g.count,
                "fix": g.fix,
                "_order": SEVERITY_ORDER.get(g.severity, 9),
            }
            for g in group_findings(found)
        ],
        columns=[*DETAIL_TITLES, "_order"],
    )
    frame = frame.sort_values(["dept_code", "file", "_order", "sheet", "code", "field"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def test_details_frame_as_before() -> None:
    dept_of = {"101_2026.xlsx": ("101", "甲"), "205_2026.xlsx": ("205", "乙")}
    for found in (_findings(3, 400), _findings(4, 7), []):
        pd.testing.assert_frame_equal(
            _details(found, dept_of), _details_plain(found, dept_of), check_exact=True
        )


def test_distinct_counts_as_a_set() -> None:
    a = pd.Series(["101", "205", "101"], dtype="str")
    b = pd.Series(["205", "9"], dtype="str")
    assert _distinct(a, b) == len(set(a) | set(b)) == 3
    assert _distinct(a.iloc[:0], b.iloc[:0]) == 0
    c = pd.Series(["205", np.nan, np.nan], dtype="str")
    assert _distinct(a, c) == len(set(a) | set(c))
