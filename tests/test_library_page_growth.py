"""library.html grows the repo by what changed, not by the whole library (issue 15).

A release commits a new page and git stores it as a delta against last year's; deflated bytes can only
be copied whole, so the page's documents are cut where last year's bytes repeat: what an indicator keeps
(id, name, texts, standards) in blocks of consecutive ids (library_page/blocks.py), and a department's
target written as the year before as [department] alone. Checked here: the blocks give back every column
in the list's order (as the page's script rebuilds them), next year's page carries the untouched blocks
byte for byte, and the card shows a repeated target in its year (headless Chromium).
"""

from __future__ import annotations

import base64
import copy
import json
import zlib
from pathlib import Path

import pandas as pd

from benchmarks.bench_library_page import YEAR, synthetic_tables
from pipelines.report.library_page import write_library_page
from pipelines.report.library_page.blocks import BLOCK_IDS, block_key, cut_blocks, id_order
from pipelines.report.library_page.cards import id_runs
from pipelines.report.library_page.data import ordered
from pipelines.report.library_page.page import page_data
from tests.test_library_page import browser, browser_needed, open_page, search, small_library

__all__ = ["browser"]  # the fixture, imported for pytest


def inflated(packed: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(packed)))


def in_list_order(blocks: list[dict], runs: list[int]) -> dict[str, list]:
    """The page script's rebuild (library.js blocks()): blocks joined in id order, read along the runs."""
    out = {}
    for key in blocks[0]:
        by_id = [v for b in blocks for v in b[key]]
        out[key] = [
            by_id[p] for start, n in zip(runs[::2], runs[1::2], strict=True) for p in range(start, start + n)
        ]
    return out


def test_blocks_give_back_the_list_order() -> None:
    ids = ["ZB-X001200", "ZB-B000002", "ZB-X000999", "无编号", "ZB-X001000", "ZB-B000001", "ZB-X000001"]
    names = [f"名称{i}" for i in range(len(ids))]
    order = id_order(ids)
    blocks = cut_blocks({"id": list(ids), "name": names}, order)
    assert [b["id"] for b in blocks] == [
        ["ZB-B000001", "ZB-B000002"],
        ["ZB-X000001", "ZB-X000999"],
        ["ZB-X001000", "ZB-X001200"],
        ["无编号"],
    ]
    assert in_list_order(blocks, order.runs) == {"id": ids, "name": names}
    assert block_key("ZB-X012345") == ("ZB-X", 12345 // BLOCK_IDS) and block_key("无编号") == ("", -1)
    empty = id_order([])
    assert cut_blocks({"id": []}, empty) == [{"id": []}] and empty.runs == []


def test_the_page_documents_rebuild_every_column() -> None:
    tables, events = synthetic_tables(2500, seed=5)
    data = page_data(tables, events, YEAR)
    doc = json.loads(data.list_json)  # plain JSON: git deltas it against last year's page
    rows = doc["rows"]
    assert doc["blocks"] == len(data.list_blocks) == len(data.text_blocks) == len(data.card_blocks) >= 3
    fixed = in_list_order([inflated(b) for b in data.list_blocks], rows["runs"])
    ind = ordered(tables.indicators)  # the list's order: active first, then retired, merged
    assert ind["status"].nunique() >= 2
    assert fixed["id"] == ind["indicator_id"].tolist() and fixed["name"] == ind["name"].tolist()
    texts = in_list_order([inflated(b) for b in data.text_blocks], rows["runs"])
    assert texts["def"] == ind["definition"].tolist()
    cards = in_list_order([inflated(b) for b in data.card_blocks], rows["runs"])
    assert cards["fy"] == ind["first_year"].astype(int).tolist()


def test_next_years_page_repeats_the_untouched_blocks() -> None:
    """One indicator retired and one added (the next id): only the blocks holding them change; the list
    document (order, status) changes, as it must."""
    tables, events = synthetic_tables(2500, seed=5)
    before = page_data(tables, events, YEAR)
    later = copy.copy(tables)
    ind = tables.indicators.copy()
    active = ind.index[ind["status"].eq("active")]
    retired = ind.loc[active[5], "indicator_id"]
    ind.loc[active[5], "status"] = "retired"
    new = ind.loc[[active[-1]]].assign(indicator_id="ZB-X999999", name="新增的指标")
    later.indicators = pd.concat([ind, new], ignore_index=True)
    after = page_data(later, events, YEAR)
    for name in ("list_blocks", "text_blocks", "card_blocks"):
        old, now = getattr(before, name), getattr(after, name)
        assert len(now) == len(old) + 1  # ZB-X999999 opens a block of its own
        assert now[:-1] == old, name  # retiring an indicator changes no block: its texts stay
    assert after.fold_json == before.fold_json
    assert after.list_json != before.list_json  # the order and status: the retired row moved down
    assert any(retired in inflated(b)["id"] for b in after.list_blocks[:-1])


def ids_of(runs: list) -> list[str]:
    """The page script's idsOf (library.js)."""
    out = []
    for prefix, width, start, count in zip(runs[::4], runs[1::4], runs[2::4], runs[3::4], strict=True):
        out += [prefix + str(start + j).zfill(width) if width else prefix for j in range(count)]
    return out


def test_a_years_ids_are_runs() -> None:
    ids = [
        "A-009",
        "A-010",
        "A-011",
        "A-1000",
        "A-1001",
        "B01",
        "B03",
        "无编号",
        "Z" + "9" * 16,
        "Z" + "9" * 17,
    ]
    runs = id_runs(ids)
    assert runs[:8] == ["A-", 3, 9, 3, "A-", 4, 1000, 2] and len(runs) == 4 * 7
    assert ids_of(runs) == ids


def repeated_target_library() -> tuple[object, pd.DataFrame, str, str]:
    """small_library with indicator 0's first department writing 2025's target as in 2024."""
    tables, events = small_library()
    use = tables.usages  # type: ignore[attr-defined]
    first = tables.indicators["indicator_id"].iloc[0]  # type: ignore[attr-defined]
    mine = use[use["indicator_id"].eq(first)]
    dept = str(mine["dept_code"].iloc[0])
    same = mine.index[mine["dept_code"].astype(str).eq(dept) & mine["year"].isin([YEAR - 2, YEAR - 1])]
    assert len(same) == 2
    use.loc[same, ["symbol", "target", "unit"]] = ["≥", "95", "%"]
    return tables, events, first, dept


def test_a_repeated_target_is_written_once() -> None:
    tables, events, first, dept = repeated_target_library()
    docs = {y: inflated(d) for y, d in page_data(tables, events, YEAR).year_json}  # type: ignore[arg-type]

    def entries(year: int) -> list[list]:
        doc = docs[year]
        return [s for s in doc["se"][ids_of(doc["ids"]).index(first)] if doc["dept"][s[0]] == dept]

    assert [len(s) for s in entries(YEAR - 2)] == [2] and entries(YEAR - 2)[0][1] == "≥95%"
    assert [len(s) for s in entries(YEAR - 1)] == [1]  # as the year before
    assert [len(s) for s in entries(YEAR)] == [2]
    assert all(len(s) == 2 for s in docs[min(docs)]["se"] for s in (s or []))  # the first year: all written


@browser_needed
def test_the_card_shows_a_repeated_target_in_its_year(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tables, events, first, dept = repeated_target_library()
    page = write_library_page(tmp_path / "reports" / str(YEAR), tables, events, YEAR)  # type: ignore[arg-type]
    tab = open_page(browser, page)
    search(tab, "医院病床使用率")
    tab.click("#list .row >> nth=0")
    tab.wait_for_selector("#card table.series")
    rows = tab.locator("#card table.series tbody tr").all()
    cells = [r.locator("td").all_inner_texts() for r in rows]
    mine = [c for c in cells if c[0].split(" ")[0] == dept]
    assert len(mine) == 1 and mine[0][1:3] == ["≥95%", "≥95%"] and mine[0][3] not in ("≥95%", "—")
