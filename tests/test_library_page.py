"""reports/<Y>/library.html, the library browser page, in Debian's headless Chromium driven by Playwright
(executable_path=/usr/bin/chromium: no browser download).

A small library with known rows: a Simplified name found by a Traditional query and by a full-width one,
filters that narrow the list, a card with three years of targets, a chart and the change history, the
pick basket's CSV download. Submitted text is hostile (markup pointing at a canary listener): nothing
may reach the listener or be requested at all, even with a raw <img> planted (the CSP stops it). The
30,000-indicator page stays under 10 MB and opens and answers a search in under 1 s.
"""

from __future__ import annotations

import base64
import copy
import csv
import http.server
import io
import json
import re
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.bench_library_page import YEAR, synthetic_tables
from pipelines.consolidate.changes import ChangeSet
from pipelines.report.library_page import all_events, changeset_events, write_library_page
from pipelines.report.library_page.events import EVENT_COLUMNS, release_events
from pipelines.report.library_page.fold import char_map, fold
from pipelines.report.library_page.page import page_data
from pipelines.store import publish
from pipelines.store.query.diff import diff
from tests.reference_library import COUNT, EFFECT, RATE, STANDARD_SOURCE, ReferenceRepo, reference_repo

__all__ = ["reference_repo"]  # the session fixture, imported for pytest

CHROMIUM = Path("/usr/bin/chromium")
browser_needed = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="chromium is not installed (apt-get install chromium)"
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


@pytest.fixture()
def canary() -> Iterator[tuple[int, list[str]]]:
    """An HTTP listener on 127.0.0.1 that records every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def small_library(port: int = 9) -> tuple[object, pd.DataFrame]:
    """40 synthetic indicators; row 0 is 医院病床使用率 (Simplified, three years of targets, modified
    once), row 1 is 5G基站覆盖率, row 2 carries hostile markup, row 3 a name a spreadsheet would run."""
    tables, events = synthetic_tables(40, seed=3)
    ind = tables.indicators
    ids = ind["indicator_id"].tolist()
    base = f"http://127.0.0.1:{port}"
    ind.loc[0, ["name", "status", "scope", "definition"]] = [
        "医院病床使用率",
        "active",
        "项目",
        "反映病床使用情况",
    ]
    ind.loc[0, "origin"] = "上级"  # a county library: this one comes from the city's release
    ind.loc[1, ["name", "status", "scope"]] = ["5G基站覆盖率", "active", "共性"]
    ind.loc[2, ["name", "status", "definition"]] = [
        f'<img src="{base}/img-in-name">',
        "active",
        f'</script><script>fetch("{base}/script-in-definition")</script><iframe src="{base}/iframe">',
    ]
    ind.loc[3, ["name", "status"]] = ['=HYPERLINK("x","点我"),"含逗号"', "active"]
    events = pd.concat(
        [
            events,
            pd.DataFrame(
                [[ids[0], YEAR, f"v{YEAR}", "修改", "依据卫健委口径统一", "计量单位：个 → %"]],
                columns=EVENT_COLUMNS,
            ),
        ],
        ignore_index=True,
    )
    return tables, events


@pytest.fixture()
def page_file(tmp_path: Path, canary: tuple[int, list[str]]) -> Path:
    tables, events = small_library(canary[0])
    return write_library_page(tmp_path / "reports" / str(YEAR), tables, events, YEAR)  # type: ignore[arg-type]


@pytest.fixture()
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")  # the test extra; the other tests run without it
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, path: Path, requests: list[str] | None = None):  # type: ignore[no-untyped-def]
    """The page, loaded; `requests` collects every request the page made that was not blocked by the
    CSP before leaving the renderer (Playwright reports an attempt the CSP blocked as a failed request)."""
    tab = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    if requests is not None:
        tab.on("requestfinished", lambda r: requests.append(r.url))
        tab.on(
            "requestfailed", lambda r: None if "csp" in (r.failure or "").lower() else requests.append(r.url)
        )
    tab.goto(path.resolve().as_uri())
    tab.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    assert errors == []
    return tab


def search(tab, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    tab.fill("#q", query)
    tab.wait_for_function("q => document.getElementById('count').dataset.query === q", arg=query)
    return tab.locator("#list .row .c-name").all_inner_texts()


def shown_count(tab) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r"显示 (\d+) 个", tab.inner_text("#count")).group(1))  # type: ignore[union-attr]


# ---- without a browser ----


def test_fold_map_and_index_text() -> None:
    m = char_map()
    assert m["醫"] == "医" and m["資"] == "资" and m["“"] == '"'
    assert "医" not in m  # Simplified characters stay
    assert fold("醫院病床使用率（％）ＡＢ") == "医院病床使用率(%)ab"


def test_page_is_deterministic_and_reads_an_older_library(tmp_path: Path) -> None:
    tables, events = small_library()
    a = write_library_page(tmp_path / "a", tables, events, YEAR).read_bytes()  # type: ignore[arg-type]
    b = write_library_page(tmp_path / "b", tables, events, YEAR).read_bytes()  # type: ignore[arg-type]
    assert a == b
    # A release written before standard_source / indicator_source existed: the page is still written.
    old = tables.indicators.drop(columns=["standard_source", "indicator_source"])  # type: ignore[attr-defined]
    tables.indicators = old  # type: ignore[attr-defined]
    assert write_library_page(tmp_path / "c", tables, events, YEAR).stat().st_size > 10_000  # type: ignore[arg-type]
    csp = re.search(rb'Content-Security-Policy" content="([^"]+)"', a).group(1).decode()  # type: ignore[union-attr]
    assert "default-src 'none'" in csp and "connect-src" not in csp and "unsafe-inline'" in csp
    assert "script-src 'sha256-" in csp and "script-src 'unsafe" not in csp


def test_series_show_actuals_once_evaluated() -> None:
    """Self-evaluation actuals (pipelines.store.reference_values.ACTUAL_COLUMNS) join the series text."""
    tables, events = small_library()
    first = tables.usages.iloc[0]  # type: ignore[attr-defined]
    actuals = pd.DataFrame(
        [{**{k: first[k] for k in ("indicator_id", "year", "dept_code", "project")}, "actual_value": 97.5}]
    )
    by_year = page_data(tables, events, YEAR, actuals).year_json  # type: ignore[arg-type]
    docs = {year: json.loads(zlib.decompress(base64.b64decode(doc))) for year, doc in by_year}
    texts = [
        (year, s[1]) for year, doc in docs.items() for row in doc["se"] if row for s in row if len(s) > 1
    ]
    assert [year for year, t in texts if "（完成 97.5）" in t] == [int(first["year"])]


def test_past_years_are_the_same_bytes_in_a_later_page() -> None:
    """The history is one deflated document per year: next year's page carries this year's documents
    byte for byte (git then stores the new page as a delta), only its own year is new."""
    tables, events = small_library()
    last = int(tables.usages["year"].max())  # type: ignore[attr-defined]
    earlier = copy.copy(tables)
    earlier.usages = tables.usages[tables.usages["year"] < last]  # type: ignore[attr-defined]
    before = dict(page_data(earlier, events[events["year"] < last], last - 1).year_json)  # type: ignore[arg-type]
    after = dict(page_data(tables, events, last).year_json)  # type: ignore[arg-type]
    assert set(after) - set(before) == {last} and len(before) >= 2
    assert all(after[year] == doc for year, doc in before.items())


def test_no_release_yet_means_no_history(tmp_path: Path) -> None:
    """A deployment's first rebuild: no repo yet, or a repo without any release tag."""
    assert release_events(tmp_path / "nothing-here", 2024).empty
    subprocess.run(["git", "init", "-q", str(tmp_path / "fresh")], check=True)
    assert release_events(tmp_path / "fresh", 2024).empty
    added = ChangeSet(
        "",
        "2024 年度",
        added=pd.DataFrame(
            {
                "indicator_id": ["ZB-X000001"],
                "name": ["甲"],
                "scope": ["项目"],
                "departments": ["101"],
                "reason": [""],
            }
        ),
    )
    events = all_events(tmp_path / "fresh", 2024, added)
    assert events[["indicator_id", "year", "tag", "type"]].values.tolist() == [
        ["ZB-X000001", 2024, "v2024", "新增"]
    ]


def test_changeset_events_carry_reasons_and_fields() -> None:
    cs = ChangeSet(
        "v2025",
        "v2026",
        added=pd.DataFrame(
            {
                "indicator_id": ["ZB-X000002"],
                "name": ["新"],
                "scope": ["项目"],
                "departments": [""],
                "reason": [""],
            }
        ),
        modified=pd.DataFrame(
            {
                "indicator_id": ["ZB-X000001"] * 2,
                "name": ["甲"] * 2,
                "field": ["unit", "definition"],
                "old": ["个", "旧"],
                "new": ["人次", "新"],
                "reason": ["口径调整", "口径调整"],
            }
        ),
        merged=pd.DataFrame(
            {
                "indicator_id": ["ZB-X000003"],
                "name": ["乙"],
                "into_id": ["ZB-X000001"],
                "into_name": ["甲"],
                "reason": ["同义"],
            }
        ),
    )
    ev = changeset_events(cs, 2026, "v2026").set_index(["indicator_id", "type"])
    assert ev.loc[("ZB-X000001", "修改"), "reason"] == "口径调整"
    assert ev.loc[("ZB-X000001", "修改"), "detail"] == "计量单位：个 → 人次；指标解释：旧 → 新"
    assert ev.loc[("ZB-X000003", "合并"), "detail"] == "并入 ZB-X000001 甲"
    assert ev.loc[("ZB-X000001", "并入本指标"), "detail"] == "ZB-X000003 乙 并入本指标"
    assert set(ev["year"]) == {2026}


# ---- in Chromium ----


@browser_needed
def test_search_ignores_traditional_and_full_width(browser, page_file: Path) -> None:  # type: ignore[no-untyped-def]
    tab = open_page(browser, page_file)
    assert search(tab, "醫院病床使用率")[:1] == ["医院病床使用率"]
    first_id = tab.evaluate("document.querySelector('#list .row .c-id').textContent")
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in first_id)  # ＺＢ－Ｘ０…
    assert search(tab, wide)[:1] == ["医院病床使用率"]
    assert search(tab, "５Ｇ基站")[:1] == ["5G基站覆盖率"]
    assert search(tab, "  醫院　病床 ") == ["医院病床使用率"]  # spaces, ideographic space: two terms
    assert search(tab, "不存在的指标名称") == []


@browser_needed
def test_filters_narrow_the_list(browser, page_file: Path) -> None:  # type: ignore[no-untyped-def]
    tab = open_page(browser, page_file)
    everything = shown_count(tab)
    tab.select_option("#f-scope", label="共性")
    common = shown_count(tab)
    assert 0 < common < everything
    assert set(tab.locator("#list .row .c-scope").all_inner_texts()) == {"共性"}
    tab.select_option("#f-scope", value="")
    tab.select_option("#f-status", value="")  # 全部状态: retired and merged ones too
    assert shown_count(tab) > everything
    tab.click("#reset")
    assert shown_count(tab) == everything
    tab.select_option("#f-cls", index=1)  # 功能分类（类）, then a 款 under it
    in_class = shown_count(tab)
    assert 0 < in_class < everything
    kuan = tab.locator("#f-kuan option").all_inner_texts()[1:]
    chosen = tab.locator("#f-cls option").nth(1).inner_text()[:3]
    assert kuan and all(k.startswith(chosen) for k in kuan)
    tab.select_option("#f-kuan", index=1)
    assert 0 < shown_count(tab) <= in_class
    tab.click("#reset")
    counts = []
    for option in tab.locator("#f-dept option").all()[1:20]:
        tab.select_option("#f-dept", value=option.get_attribute("value"))
        counts.append(shown_count(tab))
    assert 0 < max(counts) < everything  # departments use a few indicators each


@browser_needed
def test_card_shows_targets_chart_and_history(browser, page_file: Path) -> None:  # type: ignore[no-untyped-def]
    tab = open_page(browser, page_file)
    search(tab, "医院病床使用率")
    tab.click("#list .row >> nth=0")
    tab.wait_for_selector("#card h2")
    card = tab.inner_text("#card")
    assert tab.inner_text("#card h2") == "医院病床使用率"
    assert "反映病床使用情况" in card and "来源层级：上级" in tab.inner_text("#card .meta")
    years = tab.locator("#card table.spread tbody tr td:first-child").all_inner_texts()
    assert years == ["2024", "2025", "2026"]
    assert tab.locator("#card svg.chart circle").count() == 3
    assert "各部门目标值" in card and tab.locator("#card table.series tbody tr").count() >= 1
    history = tab.locator("#card ol.history li").all_inner_texts()
    assert any("修改" in h and "依据卫健委口径统一" in h and "计量单位：个 → %" in h for h in history)
    assert any("新增" in h for h in history)


@browser_needed
def test_basket_exports_the_pick_csv(browser, page_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = open_page(browser, page_file)
    picked = []
    for query in ("医院病床使用率", "HYPERLINK"):
        search(tab, query)
        tab.click("#list .row .pick >> nth=0")
        picked.append(tab.locator("#list .row .c-id").first.inner_text())
    assert tab.inner_text("#bcount") == "2"
    with tab.expect_download() as info:
        tab.click("#export")
    download = info.value
    assert download.url.startswith("blob:")
    assert download.suggested_filename == f"pick_{YEAR}.csv"
    raw = Path(download.path()).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["indicator_id", "name"]
    assert [r[0] for r in rows[1:]] == picked
    assert rows[1][1] == "医院病床使用率"
    assert rows[2][1] == '\'=HYPERLINK("x","点我"),"含逗号"'  # quoted, and a spreadsheet will not run it


@browser_needed
def test_page_makes_no_request(
    browser, page_file: Path, canary: tuple[int, list[str]], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    port, hits = canary
    requests: list[str] = []
    tab = open_page(browser, page_file, requests)
    search(tab, "img")
    tab.click("#list .row >> nth=0")
    tab.wait_for_selector("#card h2")
    assert "<img" in tab.inner_text("#card h2")  # shown as text, not markup
    blocked = tab.evaluate(f"fetch('http://127.0.0.1:{port}/fetch').then(() => 'sent', e => 'blocked')")
    assert blocked == "blocked"
    tab.wait_for_timeout(300)
    assert requests == [page_file.resolve().as_uri()]
    assert hits == []
    # The CSP alone stops a fetch that escaping would have let through: a raw <img> after the head.
    planted = tmp_path / "planted.html"
    text = page_file.read_text(encoding="utf-8")
    planted.write_text(
        text.replace("</head>", f'</head><img src="http://127.0.0.1:{port}/planted">', 1), encoding="utf-8"
    )
    again: list[str] = []
    open_page(browser, planted, again).wait_for_timeout(300)
    assert again == [planted.resolve().as_uri()] and hits == []
    # Control: the same detectors see a page that does fetch.
    control = tmp_path / "control.html"
    control.write_text(
        f'<!DOCTYPE html><body data-ready="1"><img src="http://127.0.0.1:{port}/control">', encoding="utf-8"
    )
    seen: list[str] = []
    open_page(browser, control, seen).wait_for_timeout(300)
    assert f"http://127.0.0.1:{port}/control" in seen and hits == ["/control"]


@browser_needed
def test_thirty_thousand_indicators_under_budget(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Under 10 MB; opens (navigation start → list drawn, measured by the page) and answers a search in
    under 1 s. Best of three loads: the machine is shared, and a slow outlier is another process's."""
    tables, events = synthetic_tables(30_000)
    page = write_library_page(tmp_path, tables, events, YEAR)
    assert page.stat().st_size < 10_000_000
    opened, searched = [], []
    for query in ("滿意度", "道路", "農村"):
        tab = open_page(browser, page)
        opened.append(float(tab.get_attribute("body", "data-ready-at")))  # ms since navigation start
        assert shown_count(tab) > 25_000
        assert tab.locator("#list .row").count() < 100  # virtualised: only the rows in view exist
        started = time.perf_counter()
        names = search(tab, query)
        searched.append((time.perf_counter() - started) * 1000)  # typing → count shown, from outside
        assert names and all(fold(query) in n for n in names[:5])
        tab.close()
    assert min(opened) < 1000, opened
    assert min(searched) < 1000, searched


@browser_needed
def test_page_of_a_real_third_year(browser, reference_repo: ReferenceRepo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Three real rebuilds: the 2026 page as the report writes it (history from the tags before 2026
    plus the year's own change set) shows 培训人次's targets of three years, its departments' series and
    the history; 培训合格率 its standards and their source."""
    root = reference_repo.root
    assert set(release_events(root, 2026)["tag"]) == {"v2024", "v2025"}
    this_year = diff(root, "v2025", "v2026")
    events = all_events(root, 2026, this_year, "v2026")
    assert set(events["tag"]) == {"v2024", "v2025"} | (set() if this_year.empty else {"v2026"})
    tables = publish.load_library(root / "library")
    page = write_library_page(tmp_path, tables, events, 2026)
    tab = open_page(browser, page)
    search(tab, COUNT)
    tab.click("#list .row >> nth=0")
    tab.wait_for_selector("#card h2")
    assert tab.inner_text("#card h2") == COUNT
    spread = [r.split("\t") for r in tab.locator("#card table.spread tbody tr").all_inner_texts()]
    assert [(r[0], r[2], r[3], r[4], r[5], r[6]) for r in spread] == [
        ("2024", "3", "3", "100", "200", "300"),
        ("2025", "4", "4", "90", "185", "310"),
        ("2026", "3", "2", "50", "150", "320"),
    ]
    assert tab.locator("#card svg.chart circle").count() == 3
    series = tab.locator("#card table.series tbody tr").all_inner_texts()
    education = next(r for r in series if "教育局" in r)
    assert "100" in education and "120" in education and "150" in education and "、" in education
    assert any("新增" in h and "2024" in h for h in tab.locator("#card ol.history li").all_inner_texts())
    tab.select_option("#f-status", value="")  # 培训合格率 was retired in 2026: shown under 全部状态
    search(tab, RATE)
    tab.click("#list .row >> nth=0")
    tab.wait_for_function("() => document.querySelector('#card h2').textContent.includes('合格率')")
    card = tab.inner_text("#card")
    assert "国家标准" in card and "90" in card and STANDARD_SOURCE in card


def test_every_release_publishes_its_page(reference_repo: ReferenceRepo) -> None:
    """The rebuild writes reports/<Y>/library.html into each release it tags, the manifest lists it with its
    sha256 (so a county's pull verifies it), and the page of each year is its own."""
    import hashlib
    import json
    import subprocess

    root = reference_repo.root
    pages = {}
    for year in (2024, 2025, 2026):
        tag = f"v{year}"
        blob = subprocess.run(
            ["git", "-C", str(root), "show", f"{tag}:reports/{year}/library.html"],
            capture_output=True,
            check=True,
        ).stdout
        manifest = json.loads(
            subprocess.run(
                ["git", "-C", str(root), "show", f"{tag}:library/manifest.json"],
                capture_output=True,
                check=True,
            ).stdout
        )
        listed = manifest["reports"][f"{year}/library.html"]
        assert listed["sha256"] == hashlib.sha256(blob).hexdigest()
        assert b"Content-Security-Policy" in blob
        pages[year] = blob
    assert len(set(pages.values())) == 3


@browser_needed
def test_the_basket_of_a_published_page_feeds_the_prefilled_workbook(  # type: ignore[no-untyped-def]
    browser, reference_repo: ReferenceRepo, tmp_path: Path
) -> None:
    """一键勾选 end to end: on the page a rebuild published, a clerk of 卫健委 (202) picks 培训效果 (used by
    教育局 only) into the basket and exports it; `template --dept 202 --pick` reads that very file and
    writes the indicator with its 库内编号 into 202's pre-filled workbook."""
    import openpyxl

    from pipelines.store.prefill import prefill_workbook

    root = reference_repo.root
    tab = open_page(browser, root / "reports" / "2026" / "library.html")
    assert search(tab, EFFECT) == [EFFECT]
    tab.click("#list .row .pick >> nth=0")
    with tab.expect_download() as info:
        tab.click("#export")
    pick = tmp_path / "pick.csv"
    pick.write_bytes(Path(info.value.path()).read_bytes())
    done = prefill_workbook(root, "202", tmp_path / "out", pick_file=pick)
    assert done.picked == 1 and done.year == 2027
    cells = {
        str(c.value)
        for ws in openpyxl.load_workbook(done.path, read_only=True).worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }
    assert reference_repo.ids[EFFECT] in cells and EFFECT in cells
