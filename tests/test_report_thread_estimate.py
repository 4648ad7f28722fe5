"""The report's merge_review thread is gated on what the process holds plus what the thread would add (its
pairs × build.THREAD_BYTES_PER_PAIR): a process under background.THREAD_MAX_RESIDENT_MIB whose review
list would take it over writes the workbook last, in the caller's thread; the same bytes either way."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from pipelines.common import background
from pipelines.report import build
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from tests.test_report import YEAR, merge_review_threads, sample_inputs, sha_tree


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


def _writer_thread(
    inputs: ReportInputs, out: Path, monkeypatch: pytest.MonkeyPatch, bytes_per_pair: float
) -> tuple[str, dict[str, str]]:
    monkeypatch.setenv("INDICATORS_FORK", "0")
    # Room for 64 MiB more than the process holds now (the partial gate's too: its own test below).
    held = background.resident_mib()
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held + 64)
    monkeypatch.setattr(background, "THREAD_PART_MAX_RESIDENT_MIB", held + 64)
    monkeypatch.setattr(build, "MERGE_REVIEW_BASE_MIB", 0)
    monkeypatch.setattr(build, "MERGE_REVIEW_BYTES_PER_PAIR", bytes_per_pair)
    monkeypatch.setattr(build, "THREAD_BYTES_PER_PAIR", bytes_per_pair)
    names = merge_review_threads(monkeypatch)
    write_annual_report(out, inputs)
    return names[0], sha_tree(out)


def test_a_review_list_that_would_pass_the_limit_is_written_last(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pairs = len(inputs.candidates)
    assert pairs > 0
    small, threaded = _writer_thread(inputs, tmp_path / "a" / str(YEAR), monkeypatch, 0.0)
    # The list would add 128 MiB in all: over the 64 MiB of room.
    big, serial = _writer_thread(inputs, tmp_path / "b" / str(YEAR), monkeypatch, 2**20 * 128 / pairs)
    assert small.startswith("merge-review")
    assert big == threading.current_thread().name
    assert threaded == serial


def test_thread_available_counts_what_the_thread_adds(monkeypatch: pytest.MonkeyPatch) -> None:
    held = background.resident_mib()
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held + 100)
    assert background.thread_available()
    assert background.thread_available(50)
    assert not background.thread_available(400)


def test_a_list_too_large_beside_everything_is_written_beside_the_review_files_then_joined(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above THREAD_MAX_RESIDENT_MIB but under THREAD_PART_MAX_RESIDENT_MIB with its own working set, the
    workbook is written in the thread beside the review files, and joined before the library page."""
    monkeypatch.setenv("INDICATORS_FORK", "0")
    held = background.resident_mib()
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held - 1)  # never beside everything
    monkeypatch.setattr(background, "THREAD_PART_MAX_RESIDENT_MIB", held + 64)
    monkeypatch.setattr(build, "MERGE_REVIEW_BASE_MIB", 0)
    names = merge_review_threads(monkeypatch)
    done_before_page: list[bool] = []
    real_page = build.write_library_page

    def page(out_dir: Path, *args: object) -> Path:
        done_before_page.append((out_dir / "merge_review.xlsx").exists())
        return real_page(out_dir, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(build, "write_library_page", page)
    write_annual_report(tmp_path / "part" / str(YEAR), inputs)
    assert names[0].startswith("merge-review") and done_before_page == [True]
    # with its own working set over the partial limit, written last, after the library page
    monkeypatch.setattr(build, "MERGE_REVIEW_BASE_MIB", 128)
    names.clear()
    done_before_page.clear()
    write_annual_report(tmp_path / "last" / str(YEAR), inputs)
    assert names == [threading.current_thread().name] and done_before_page == [False]
    assert sha_tree(tmp_path / "part" / str(YEAR)) == sha_tree(tmp_path / "last" / str(YEAR))
