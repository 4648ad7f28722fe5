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

import numpy as np
import pandas as pd

from pipelines.common.frames import combination_codes, distinct_counts
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
    national library's usage history costs one filter. The same pairs as project_tables + drop_same_table,
    by integer codes: texts are made once per distinct value, not per usage row and pair (a million rows)."""
    drop = one_table_pairs(candidates, usages)
    if drop is None:
        return candidates  # as drop_same_table with no table: the frame as it is
    return candidates[~drop].reset_index(drop=True)


def one_table_pairs(candidates: pd.DataFrame, usages: pd.DataFrame) -> np.ndarray | None:
    """The pairs drop_one_table_pairs drops (True), or None where it keeps the frame as it is (no pair, no
    usage, no indicator of one table): a caller that also sorts the list takes the kept rows once."""
    if candidates.empty or usages.empty:
        return None
    n = len(candidates)
    both = np.concatenate(
        [candidates["id_a"].to_numpy(dtype=object), candidates["id_b"].to_numpy(dtype=object)]
    )
    pair_ids, ids = pd.factorize(both)
    table = _one_table_codes(usages, pd.Index(ids))
    if not (table >= 0).any():
        return None
    ta, tb = table[pair_ids[:n]], table[pair_ids[n:]]
    return np.asarray((ta >= 0) & (ta == tb) & (candidates["pattern"].to_numpy(dtype=object) != SAME_NAME))


def _distinct_text(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(code of each row's value, the distinct values as project_tables' text): astype(str) once per
    distinct value, not per row (a categorical or repeated id is converted once)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, pd.Series(uniques, dtype=column.dtype).astype(str)


def _one_table_codes(usages: pd.DataFrame, ids: pd.Index) -> np.ndarray:
    """project_tables by integer codes: per id of `ids`, a code of its one project table (codes equal when
    the "year|department|project" texts are), -1 when it has none."""
    found = np.full(len(ids), -1, dtype=np.int64)
    id_code, id_text = _distinct_text(usages["indicator_id"])
    row_id = ids.get_indexer(id_text.to_numpy(dtype=object))[id_code]  # -1: not a candidate's id
    mine = np.flatnonzero(row_id >= 0)
    if not len(mine):
        return found
    sub = usages.iloc[mine]
    year, year_text = _distinct_text(sub["year"])
    dept, dept_text = _distinct_text(sub["dept_code"])
    scope, scope_text = _distinct_text(sub["scope"])
    project, project_text = _distinct_text(sub["project"])
    stripped = project_text.str.strip()
    valid = (scope_text == PROJECT_SCOPE).to_numpy()[scope] & (stripped != "").to_numpy()[project]
    table = np.full(len(mine), -1, dtype=np.int64)
    if valid.any():
        combo, first = combination_codes(
            [pd.Series(year[valid]), pd.Series(dept[valid]), pd.Series(project[valid])]
        )
        at = np.flatnonzero(valid)[first]
        texts = (
            year_text.take(year[at]).reset_index(drop=True)
            + "|"
            + dept_text.take(dept[at]).reset_index(drop=True)
            + "|"
            + stripped.take(project[at]).reset_index(drop=True)
        )
        text_code = pd.factorize(texts)[0]  # two combinations may read as one text ("a|b" + "c", "a" + "b|c")
        table[valid] = text_code[combo]
    width = int(table.max()) + 2
    pairs = distinct_counts(row_id[mine] * width + (table + 1))[
        0
    ]  # distinct (id, table) sorted, "" tables as 0
    per_id, table_of = pairs // width, pairs % width - 1
    single = (np.bincount(per_id, minlength=len(ids))[per_id] == 1) & (table_of >= 0)
    found[per_id[single]] = table_of[single]
    return found
