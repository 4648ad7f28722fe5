"""library.html's year documents (issue 15, repo growth): a year's targets that equal the year before's
are sent as a reference (`same` / `gone`), so a release's new year document is smaller, and the page
shows the same targets.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_library_page import YEAR, synthetic_tables
from pipelines.report.library_page import write_library_page
from pipelines.report.library_page.page import page_data
from tests.test_library_page import browser, browser_needed, open_page, search

__all__ = ["browser"]  # the fixture, imported for pytest

FIRST = YEAR - 2
# The first indicator's targets by department and year: kept, changed then kept, dropped, new.
PLAN = {
    "100": {FIRST: "50", FIRST + 1: "50", YEAR: "50"},
    "101": {FIRST: "60", FIRST + 1: "65", YEAR: "65"},
    "102": {FIRST: "70", FIRST + 1: "70"},
    "103": {YEAR: "80"},
}


def planned_library() -> tuple[object, pd.DataFrame, str, str]:
    """The synthetic library, its first indicator's usages as PLAN; the second's the same every year."""
    tables, events = synthetic_tables(60, seed=5)
    ind = tables.indicators
    first, second = (str(i) for i in ind["indicator_id"].iloc[:2])
    ind.loc[0, ["name", "status"]] = ["河道保洁达标率", "active"]
    usages = tables.usages
    template = usages.iloc[0]
    rows = [
        {**template.to_dict(), "indicator_id": first, "year": y, "dept_code": d, "target": t}
        for d, by_year in PLAN.items()
        for y, t in by_year.items()
    ]
    rows += [
        {**template.to_dict(), "indicator_id": second, "year": y, "dept_code": d, "target": "9"}
        for d in ("104", "105")
        for y in (FIRST, FIRST + 1, YEAR)
    ]
    kept = usages[~usages["indicator_id"].isin([first, second])]
    tables.usages = pd.concat([kept, pd.DataFrame(rows)], ignore_index=True)
    tables.usages["symbol"] = "≥"
    tables.usages["unit"] = "%"
    ind.at[0, "departments"] = ["100", "101", "103"]
    ind.at[1, "departments"] = ["104", "105"]
    return tables, events, first, second


def year_docs(tables: object, events: pd.DataFrame) -> dict[int, dict]:
    data = page_data(tables, events, YEAR)  # type: ignore[arg-type]
    return {y: json.loads(zlib.decompress(base64.b64decode(doc))) for y, doc in data.year_json}


def resolved(docs: dict[int, dict], iid: str) -> dict[int, dict[str, str]]:
    """What the page's seriesOf makes of the documents: per year, department code → target."""
    out: dict[int, dict[str, str]] = {}
    for year in sorted(docs):
        doc = docs[year]
        k = doc["ids"].index(iid)
        own = {doc["dept"][d]: t for d, t in doc["se"][k] or []}
        if doc.get("same") and doc["same"][k]:
            skip = set(own) | set(doc["gone"][k] or [])
            own |= {d: t for d, t in out[year - 1].items() if d not in skip}
        out[year] = own
    return out


def test_repeated_targets_are_references_that_resolve_to_the_same_series() -> None:
    tables, events, first, second = planned_library()
    docs = year_docs(tables, events)
    expected = {y: {d: f"≥{t}%" for d, by in PLAN.items() for yy, t in by.items() if yy == y} for y in docs}
    assert resolved(docs, first) == expected
    assert resolved(docs, second) == {y: {"104": "≥9%", "105": "≥9%"} for y in docs}
    # Only the new or changed targets are sent again; the rest by reference.
    last = docs[YEAR]
    k = last["ids"].index(first)
    assert last["same"][k] == 1 and last["gone"][k] == ["102"]
    assert sorted(last["dept"][d] for d, _ in last["se"][k]) == ["103"]
    k2 = last["ids"].index(second)
    assert last["same"][k2] == 1 and last["se"][k2] == 0 and last["gone"][k2] == 0
    assert "same" not in docs[FIRST]  # the first year has nothing to refer to


@browser_needed
def test_card_shows_referenced_targets_in_every_year(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables, events, first, _ = planned_library()
    page = write_library_page(tmp_path, tables, events, YEAR)  # type: ignore[arg-type]
    tab = open_page(browser, page)
    search(tab, "河道保洁达标率")
    tab.click("#list .row >> nth=0")
    tab.wait_for_selector("#card table.series")
    head = tab.locator("#card table.series thead th").all_inner_texts()
    assert head == ["部门"] + [f"{y} 年" for y in (FIRST, FIRST + 1, YEAR)]
    rows = [r.split("\t") for r in tab.locator("#card table.series tbody tr").all_inner_texts()]
    shown = {r[0].split()[0]: r[1:] for r in rows}
    assert shown == {
        d: [f"≥{by[y]}%" if y in by else "—" for y in (FIRST, FIRST + 1, YEAR)] for d, by in PLAN.items()
    }


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(pytest.main([__file__, "-q"]))
