"""Without a fork, write_annual_report writes merge_review.xlsx in a thread only while the process holds
under background.THREAD_MAX_RESIDENT_MIB; above it the workbook is written after the other files, in the
caller's thread (the two working sets do not add). Same bytes and the same returned order either way."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from pipelines.common import background
from pipelines.report import build
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from tests.test_report import YEAR, sample_inputs, sha_tree


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


def _written(
    inputs: ReportInputs, out: Path, monkeypatch: pytest.MonkeyPatch, limit_mib: int
) -> tuple[dict[str, str], list[str], list[str]]:
    """(file → sha256 and the returned order, the thread that wrote merge_review.xlsx, the call order)."""
    monkeypatch.setenv("INDICATORS_FORK", "0")
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", limit_mib)
    monkeypatch.setattr(background, "THREAD_PART_MAX_RESIDENT_MIB", limit_mib)  # the partial gate alike
    threads: list[str] = []
    calls: list[str] = []
    real_review, real_page = build.write_merge_review, build.write_library_page

    def review(candidates: Any, path: Path, known: Any = None) -> Path:
        threads.append(threading.current_thread().name)
        calls.append("merge_review")
        return real_review(candidates, path, known)

    def page(*args: Any) -> Path:
        calls.append("library_page")
        return real_page(*args)

    monkeypatch.setattr(build, "write_merge_review", review)
    monkeypatch.setattr(build, "write_library_page", page)
    files = write_annual_report(out, inputs)
    tree = {**sha_tree(out), "(order)": " ".join(str(p.relative_to(out)) for p in files)}
    return tree, threads, calls


def test_above_the_limit_the_merge_review_is_written_last_in_the_callers_thread(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded, beside, _ = _written(inputs, tmp_path / "thread" / str(YEAR), monkeypatch, 1 << 30)
    serial, inline, calls = _written(inputs, tmp_path / "serial" / str(YEAR), monkeypatch, 0)
    assert beside and beside[0].startswith("merge-review")
    assert inline == [threading.current_thread().name]
    assert calls == ["library_page", "merge_review"]  # after the other files, not beside them
    assert serial == threaded
    assert "merge_review.xlsx" in serial["(order)"]


def test_the_limit_reads_this_process_now(monkeypatch: pytest.MonkeyPatch) -> None:
    held = background.resident_mib()
    assert held > 0
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held * 4)
    assert background.thread_available()
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held / 4)
    assert not background.thread_available()
