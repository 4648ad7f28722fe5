"""drop_one_table_pairs reads the project tables by integer codes (pipelines/dedupe/same_table.py): the same pairs
as the texts of project_tables + drop_same_table, whatever the columns' types and the texts' quirks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe.patterns import SAME_NAME
from pipelines.dedupe.same_table import drop_one_table_pairs, drop_same_table, project_tables


def _by_text(candidates: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """The reference: the tables as texts, read for the candidates' indicators."""
    ids = set(candidates["id_a"]) | set(candidates["id_b"])
    return drop_same_table(candidates, project_tables(usages[usages["indicator_id"].isin(ids)]))


def _random_case(seed: int, categorical: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"ZB-{k:04d}" for k in range(60)]
    # Projects that read alike once joined ("a|b" + "c" and "a" + "b|c") or stripped ("装备 " and "装备").
    depts = ["101", "102", "10|1", "1"]
    projects = ["装备", "装备 ", " ", "", "1|装备", "培训", "车辆"]
    rows = []
    for iid in ids[:50]:  # ids 50..59: candidates without usages
        home = (2026, str(rng.choice(depts)), "项目", str(rng.choice(projects)))
        for _ in range(int(rng.integers(1, 4))):
            stray = rng.random() < 0.15  # another table, year or scope now and then
            year = int(rng.choice([2025, 2026])) if stray else home[0]
            scope = str(rng.choice(["项目", "部门整体", "共性"])) if stray else home[2]
            rows.append((iid, year, home[1], scope, home[3]))
    usages = pd.DataFrame(rows, columns=["indicator_id", "year", "dept_code", "scope", "project"])
    if categorical:
        for column in ("dept_code", "scope", "project"):
            usages[column] = usages[column].astype("category")
    m = 1000
    candidates = pd.DataFrame(
        {
            "id_a": rng.choice(ids, m),
            "id_b": rng.choice(ids, m),
            "pattern": rng.choice([SAME_NAME, "合格→及时", "∅→办公"], m),
            "score": rng.random(m),
        }
    )
    return candidates, usages


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_codes_drop_the_pairs_the_texts_drop(seed: int, categorical: bool) -> None:
    candidates, usages = _random_case(seed, categorical)
    want = _by_text(candidates, usages)
    got = drop_one_table_pairs(candidates, usages)
    assert len(want) < len(candidates)  # the case drops pairs: the comparison means something
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_texts_that_read_alike_are_one_table() -> None:
    """("10|1", "装备") and ("10", "1|装备") are one text "2026|10|1|装备" in project_tables: one table."""
    usages = pd.DataFrame(
        {
            "indicator_id": ["A", "B", "C"],
            "year": [2026, 2026, 2026],
            "dept_code": ["10|1", "10", "10"],
            "scope": ["项目"] * 3,
            "project": ["装备", "1|装备", "1|装备 "],
        }
    )
    candidates = pd.DataFrame({"id_a": ["A", "A"], "id_b": ["B", "C"], "pattern": ["x→y", "x→y"]})
    got = drop_one_table_pairs(candidates, usages)
    assert got.empty  # B's project and C's stripped are one text with A's
    pd.testing.assert_frame_equal(got, _by_text(candidates, usages), check_exact=True)


def test_no_table_leaves_the_frame_as_it_is() -> None:
    usages = pd.DataFrame(
        {
            "indicator_id": ["A", "B"],
            "year": [2026, 2026],
            "dept_code": ["1", "1"],
            "scope": ["部门整体"] * 2,
            "project": ["", ""],
        }
    )
    candidates = pd.DataFrame({"id_a": ["A"], "id_b": ["B"], "pattern": ["x→y"]}, index=[7])
    assert drop_one_table_pairs(candidates, usages) is candidates
