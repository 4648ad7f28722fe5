"""The library page's documents are deflated on threads (page.packed_all): the same strings, in the same
order, as packing them one at a time — whatever the documents' sizes, so threads finishing out of order
cannot reorder them — and a whole page is the same bytes with one thread or several."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from pipelines.report.library_page import page
from pipelines.report.library_page.data import safe_json
from tests.test_report import sample_inputs


def _documents() -> list[object]:
    rng = random.Random(16)
    docs: list[object] = []
    for k in range(60):
        n = rng.choice((1, 10, 5_000, 60_000))  # large ones deflate long after small ones queued behind them
        docs.append({"k": k, "names": [f"指标{k}-{i}-{rng.random():.6f}" for i in range(n)]})
    return docs


def test_packed_all_equals_one_at_a_time_in_order() -> None:
    docs = _documents()
    serial = [page.packed(safe_json(d)) for d in docs]
    assert page.packed_all([(lambda d=d: d) for d in docs]) == serial
    assert len(set(serial)) == len(serial)  # distinct: an order swap would show


def test_the_page_is_the_same_bytes_with_one_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.report.library_page import all_events, write_library_page

    inputs = sample_inputs()
    events = all_events(inputs.repo_root, inputs.year, inputs.changes)

    def written(threads: int, name: str) -> str:
        monkeypatch.setattr(page, "PACK_THREADS", threads)
        path = write_library_page(tmp_path / name, inputs.tables, events, inputs.year, inputs.actuals)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    assert written(1, "one") == written(2, "two") == written(4, "four")
