"""reports/<Y>/library.html: the library browser page, one self-contained offline file (CONTRACT §6).

The page's script and style are the package's own files (assets/), inlined; its data is JSON
documents (data.py, cards.py), each deflated on its own, in non-executed <script> elements. Git stores
last year's page as a delta of the new one (the publish packs the pages so: store/page_pack.py), and it
cannot delta a deflated whole, so the documents are cut where last year's bytes repeat: the history (targets and changes) is one document per
year, the same bytes in every later page; what an indicator keeps (id, name, texts, standards) is in
blocks of consecutive ids (blocks.py), the same bytes while none of their indicators changes; the list
document (what changes yearly, in the list's order: status, departments, filters' codes) is plain JSON,
which git deltas (deflated, ≈ 146 KiB of new bytes per 100k-row release; plain, ≈ 44). The
Content-Security-Policy allows exactly the page's one script, by its sha256, and nothing that fetches:
default-src 'none' and no connect-src, so neither a request nor a planted <script> can run.
"""

from __future__ import annotations

import base64
import functools
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup

from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.report.html_page import content_security_policy, page_environment
from pipelines.report.library_page.blocks import CARD_STABLE, LIST_STABLE, cut_blocks, id_order
from pipelines.report.library_page.cards import card_document, year_documents
from pipelines.report.library_page.data import (
    CARD_CHUNK,
    PageData,
    list_document,
    ordered,
    safe_json,
    text_document,
)
from pipelines.report.library_page.fold import char_map
from pipelines.report.library_page.reference import reference_values
from pipelines.store.page_pack import PAGE_NAME
from schemas.library import STATUS_ZH, LibraryTables

FILTERS = (
    ("scope", "指标范围"),
    ("l1", "一级指标"),
    ("l2", "二级指标"),
    ("cls", "功能分类（类）"),
    ("kuan", "功能分类（款）"),
    ("dept", "使用部门"),
    ("status", "状态"),
)


@cache
def _asset(name: str) -> str:
    return files("pipelines.report.library_page").joinpath("assets", name).read_text(encoding="utf-8")


def packed(document: str) -> str:
    """A JSON document deflated (zlib level 6: deterministic bytes, 9 is twice as slow for 2 % less) and
    base64-encoded; the page inflates it with the browser's DecompressionStream. Chinese JSON shrinks
    about 3 to 10 times."""
    return base64.b64encode(zlib.compress(document.encode("utf-8"), 6)).decode("ascii")


PACK_THREADS = 2  # zlib lets go of the interpreter lock: one block deflates while the next is encoded


def packed_all(documents: Iterable[Callable[[], object]]) -> list[str]:
    """packed(safe_json(make())) of each document maker, in order, on PACK_THREADS threads: the same
    strings as one at a time. The JSON encoding holds the interpreter lock, the deflating does not, so a
    block's deflate overlaps the next one's encoding (1M rows' page: ≈ 730 documents, 0.8 s of
    deflating). A maker builds its document in the thread: only the documents in flight exist at once."""
    with ThreadPoolExecutor(max_workers=PACK_THREADS, thread_name_prefix="page-pack") as pool:
        return list(pool.map(lambda make: packed(safe_json(make())), documents))


def page_data(
    tables: LibraryTables,
    events: pd.DataFrame,
    year: int,
    actuals: pd.DataFrame | None = None,
) -> PageData:
    """The page's JSON documents from the release's tables and its change events; the reference
    values come from pipelines.store.reference_values, with self-evaluation actuals when given."""
    ind = ordered(tables.indicators).reset_index(drop=True)
    spread, series = reference_values(tables.indicators, tables.usages, actuals)
    doc = list_document(ind, tables.departments, year)
    labels = doc["labels"]
    assert isinstance(labels, dict)
    years = year_documents(ind["indicator_id"].astype(str).tolist(), spread, series, events, labels)
    # the frames go now, each year document once packed: 1M rows' page peak 854 -> 662 MiB over its start
    del spread, series
    doc["years"] = [y["year"] for y in years]
    by_year = []
    while years:
        y = years.pop(0)
        by_year.append((int(y["year"]), packed(safe_json(y))))  # type: ignore[call-overload]
    del y
    return split_documents(doc, text_document(ind), card_document(ind), by_year)


def split_documents(
    doc: dict[str, object],
    texts: dict[str, object],
    card: dict[str, object],
    by_year: list[tuple[int, str]],
) -> PageData:
    """The list, text and card documents as the page embeds them (blocks.py): their stable columns in
    id-order blocks, the rest in the list's order; each part deflated on its own."""
    rows = doc["rows"]
    assert isinstance(rows, dict)
    ids = id_order(rows["id"])
    list_blocks = cut_blocks({k: rows.pop(k) for k in LIST_STABLE}, ids)
    rows["runs"] = ids.runs
    doc["blocks"] = len(ids.sizes)
    card_blocks = cut_blocks({k: card.pop(k) for k in CARD_STABLE}, ids)  # type: ignore[misc]
    n = int(doc["n"])  # type: ignore[call-overload]
    chunks = [
        functools.partial(_card_chunk, card, start)  # type: ignore[arg-type]
        for start in range(0, max(n, 1), CARD_CHUNK)
    ]
    text_blocks = cut_blocks(texts, ids)  # type: ignore[arg-type]
    blocks = [char_map(), *list_blocks, *text_blocks]
    packs = packed_all([*map(_given, blocks), *chunks, *map(_given, card_blocks)])
    del blocks
    cuts = np.cumsum([1, len(list_blocks), len(text_blocks), len(chunks)]).tolist()
    return PageData(
        list_json=safe_json(doc),  # plain: most of it is last year's, which git deltas (module doc)
        fold_json=packs[0],
        list_blocks=packs[cuts[0] : cuts[1]],
        text_blocks=packs[cuts[1] : cuts[2]],
        card_json=packs[cuts[2] : cuts[3]],
        card_blocks=packs[cuts[3] :],
        count=n,
        year_json=by_year,
    )


def _given(document: object) -> Callable[[], object]:
    return lambda: document


def _card_chunk(card: dict[str, list[object]], start: int) -> dict[str, list[object]]:
    return {k: v[start : start + CARD_CHUNK] for k, v in card.items()}


def render_library_page(data: PageData, indicators: pd.DataFrame, year: int) -> str:
    env = page_environment("pipelines.report.library_page", "assets")
    script = _asset("library.js")
    counts = Counter(indicators["status"].astype(str))
    return env.get_template("library.html.j2").render(
        year=year,
        csp=Markup(content_security_policy(script)),  # our constant: quotes stay quotes
        css=_asset("library.css"),
        js=script,
        total=len(indicators),
        by_status=[(label, counts.get(s, 0)) for s, label in STATUS_ZH.items()],
        filters=FILTERS,
        list_json=Markup(data.list_json),  # safe_json: no <, > or & to end the element
        fold_json=data.fold_json,
        list_blocks=data.list_blocks,
        text_blocks=data.text_blocks,
        card_json=data.card_json,
        card_blocks=data.card_blocks,
        year_json=data.year_json,
    )


def write_library_page(
    out_dir: Path,
    tables: LibraryTables,
    events: pd.DataFrame,
    year: int,
    actuals: pd.DataFrame | None = None,
) -> Path:
    """Write reports/<Y>/library.html; deterministic bytes for the same inputs.

    tables: the release (indicators of every status, usages of every year, departments); events: every
    indicator's change history (events.all_events); actuals: self-evaluation results per usage
    (pipelines.store.reference_values.ACTUAL_COLUMNS), shown beside the targets once they exist."""
    data = page_data(tables, events, year, actuals)
    html = render_library_page(data, tables.indicators, year)
    return atomic_write_bytes(Path(out_dir) / PAGE_NAME, html.encode("utf-8"))
