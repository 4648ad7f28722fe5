"""Two rows of one project's goal table are two indicators: the department itself listed them apart.

A department fills one row per indicator of a project; when the same year's table of one project holds
设备验收合格率 and 设备验收及时率, or 车辆购置成本 and 办公设备购置成本, the department has said they are two
measures. Listing such a pair for review asks a clerk to undo what the department wrote: of the 340 labelled
real pairs of two differently worded 项目 rows of one source table (tests/data/*_pairs.csv), 2 are duplicates
(tests/test_dedupe_same_table.py counts them). So a candidate pair is not listed when
each of its indicators is used only in one and the same project table (one department, one project, one
year), unless the two are the same wording filed differently (always worth a look, as the matcher keeps them).
A pair across departments, projects or years (a rename from last year, a 共性 indicator) is never touched.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from pipelines.dedupe.patterns import SAME_NAME

PROJECT_SCOPE = "项目"


def project_tables(usages: pd.DataFrame) -> dict[str, str]:
    """Indicator id -> its one project table ("year|department|project") for the indicators whose every
    usage is a 项目 row of that one table; indicators used elsewhere (another table, year, department, a
    部门整体 or 共性 row, or no project name) are absent."""
    if usages.empty:
        return {}
    frame = usages[["indicator_id", "year", "dept_code", "scope", "project"]].astype(str)
    table = frame["year"] + "|" + frame["dept_code"] + "|" + frame["project"].str.strip()
    table = table.where((frame["scope"] == PROJECT_SCOPE) & (frame["project"].str.strip() != ""), "")
    per_id = pd.DataFrame({"id": frame["indicator_id"], "table": table}).drop_duplicates()
    counts = per_id.groupby("id")["table"].transform("size")
    single = per_id[(counts == 1) & (per_id["table"] != "")]
    return dict(zip(single["id"], single["table"], strict=True))


def same_table(candidates: pd.DataFrame, table_of: Mapping[str, str]) -> pd.Series:
    """True for the candidate pairs whose two indicators are used only in one and the same project table
    and whose wordings differ (the pairs drop_same_table removes)."""
    a = candidates["id_a"].map(table_of)
    b = candidates["id_b"].map(table_of)
    return (a.notna() & (a == b) & (candidates["pattern"] != SAME_NAME)).astype(bool)


def drop_same_table(candidates: pd.DataFrame, table_of: Mapping[str, str]) -> pd.DataFrame:
    """The candidates without the pairs of one project table (see the module docstring)."""
    if candidates.empty or not table_of:
        return candidates
    return candidates[~same_table(candidates, table_of).to_numpy()].reset_index(drop=True)


def drop_one_table_pairs(candidates: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """drop_same_table with the tables read from usage rows (indicator_id, year, dept_code, scope, project:
    this year's rows and the earlier releases'); only the candidates' indicators are looked at, so that a
    national library's usage history costs one filter."""
    if candidates.empty or usages.empty:
        return candidates
    ids = set(candidates["id_a"]) | set(candidates["id_b"])
    return drop_same_table(candidates, project_tables(usages[usages["indicator_id"].isin(ids)]))
