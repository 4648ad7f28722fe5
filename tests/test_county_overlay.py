"""A county builds its own library on top of the city's published release (issue: county bureaus).

A bare "city" repo with two releases; the county pulls v2025, builds its overlay (上级 usages, 本级 ids in
its own namespace), then pulls v2026 in which the city added an indicator the county also had: the
county's id merges into the city's (old id kept as history), and the report says so.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.defs.run import run_rebuild
from pipelines.store.shape import read_release_table
from tests.xlsx_builders import default_info, project_row, write_workbook


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def _row(name: str, l2: str = "数量指标", unit: str = "公里", **kw: object) -> dict[str, object]:
    return project_row(
        project="农村公路养护",
        function_code="2140106",
        name=name,
        level1="产出指标",
        level2=l2,
        unit=unit,
        **kw,
    )


CITY_ROWS = [_row("农村公路养护里程"), _row("养护工程验收合格率", "质量指标", "%")]
COUNTY_ONLY = _row("村级道路巡查次数", unit="次")


def test_county_overlay_across_two_city_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instance = dg.DagsterInstance.ephemeral()
    city, bare, county = tmp_path / "city", tmp_path / "city.git", tmp_path / "county"

    # The city publishes v2025 and pushes it to the bare repo counties read from.
    inbox = tmp_path / "city-2025"
    inbox.mkdir()
    write_workbook(
        inbox / "traffic.xlsx",
        default_info(year=2025, dept_code="301", dept_name="市交通运输局"),
        [],
        CITY_ROWS,
    )
    assert run_rebuild(2025, inbox, city, finance_dept="101", instance=instance).success
    _git("init", "-q", "--bare", str(bare))
    _git("-C", str(city), "push", "-q", str(bare), "main", "--tags")

    # The county pulls v2025 and rebuilds its own year with one city indicator and one of its own.
    county.mkdir()
    (county / "indicators.toml").write_text(
        f'finance_dept = "901"\nid_namespace = "TZ"\nupstream = "{bare}"\n', encoding="utf-8"
    )
    assert main(["pull", str(bare), "--into", str(county / "upstream")]) == 0
    capsys.readouterr()
    c_inbox = tmp_path / "county-2025"
    c_inbox.mkdir()
    write_workbook(
        c_inbox / "roads.xlsx",
        default_info(year=2025, dept_code="9301", dept_name="县交通运输局"),
        [],
        [CITY_ROWS[0], COUNTY_ONLY],
    )
    first = run_rebuild(2025, c_inbox, county, instance=instance)
    assert first.success, (first.errors, first.failed_checks)
    ind = read_release_table(county / "library", "indicators").set_index("indicator_id")
    city_ids = read_release_table(city / "library", "indicators").set_index("name")["indicator_id"]
    city_id = city_ids["农村公路养护里程"]
    assert ind.loc[city_id, "origin"] == "上级" and ind.loc[city_id, "departments"] == ["9301"]
    own = ind[ind["origin"] == "本级"]
    assert own["name"].tolist() == ["村级道路巡查次数"] and own.index[0].startswith("TZ-X")
    county_id = own.index[0]
    usages = read_release_table(county / "library", "usages")
    assert sorted(usages["indicator_id"]) == sorted([city_id, county_id])  # no duplicate of the city's

    # The city adds the county's indicator in v2026; the county pulls it and rebuilds.
    inbox26 = tmp_path / "city-2026"
    inbox26.mkdir()
    write_workbook(
        inbox26 / "traffic.xlsx",
        default_info(year=2026, dept_code="301", dept_name="市交通运输局"),
        [],
        [*CITY_ROWS, COUNTY_ONLY],
    )
    assert run_rebuild(2026, inbox26, city, finance_dept="101", instance=instance).success
    _git("-C", str(city), "push", "-q", str(bare), "main", "--tags")
    assert main(["pull", str(bare), "--into", str(county / "upstream")]) == 0
    pulled = capsys.readouterr().out
    new_city_id = read_release_table(city / "library", "indicators").set_index("name")["indicator_id"][
        "村级道路巡查次数"
    ]
    assert "v2026" in pulled and new_city_id in pulled  # what changed since the county's release

    c_inbox26 = tmp_path / "county-2026"
    c_inbox26.mkdir()
    write_workbook(
        c_inbox26 / "roads.xlsx",
        default_info(year=2026, dept_code="9301", dept_name="县交通运输局"),
        [],
        [CITY_ROWS[0], COUNTY_ONLY],
    )
    second = run_rebuild(2026, c_inbox26, county, instance=instance)
    assert second.success, (second.errors, second.failed_checks)
    ind = read_release_table(county / "library", "indicators").set_index("indicator_id")
    assert ind.loc[county_id, "status"] == "merged" and ind.loc[county_id, "merged_into"] == new_city_id
    assert ind.loc[new_city_id, "origin"] == "上级" and "9301" in ind.loc[new_city_id, "departments"]
    usages = read_release_table(county / "library", "usages")
    assert set(usages.loc[usages["year"] == 2026, "indicator_id"]) == {city_id, new_city_id}
    assert set(usages.loc[usages["year"] == 2025, "indicator_id"]) == {
        city_id,
        county_id,
    }  # history stays readable

    html = (county / "reports" / "2026" / "review.html").read_text(encoding="utf-8")
    assert 'id="upstream"' in html and county_id in html and new_city_id in html
