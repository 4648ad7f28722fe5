"""Above background's fork gate, where a child fits (build.review_child_fits), write_annual_report writes
review.html and review.xlsx in a forked child from the tables computed in this process, while this process
writes the changelog and merge_review.xlsx: the same files, bytes and order as in-process. The gate: never
under the fork gate (there merge_review.xlsx is forked), never with INDICATORS_FORK=0, only while what the
process holds with both working sets stays under REVIEW_CHILD_MAX_TREE_MIB."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pipelines.common import background
from pipelines.common.background import fork_supported
from pipelines.report import build
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from tests.test_report import YEAR, sample_inputs, sha_tree

pytestmark = pytest.mark.skipif(not fork_supported(), reason="no fork on this platform")


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


def _above_the_fork_gate(monkeypatch: pytest.MonkeyPatch, room_mib: float) -> None:
    """INDICATORS_FORK unset, the process over the fork gate, `room_mib` under the child's limit."""
    monkeypatch.delenv("INDICATORS_FORK", raising=False)
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", 0)  # no thread beside every file
    monkeypatch.setattr(build, "MERGE_REVIEW_BASE_MIB", 0)
    monkeypatch.setattr(build, "MERGE_REVIEW_BYTES_PER_PAIR", 0)
    monkeypatch.setattr(build, "REVIEW_CHILD_MIB", 0)
    monkeypatch.setattr(build, "REVIEW_CHILD_MAX_TREE_MIB", background.resident_mib() + room_mib)


def _recorded(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """The pids that run build.<name> from now on (a child's calls are recorded in its copy only)."""
    pids: list[int] = []
    real = getattr(build, name)

    def recorded(*args: Any) -> Any:
        pids.append(os.getpid())
        return real(*args)

    monkeypatch.setattr(build, name, recorded)
    return pids


def test_review_workbooks_in_a_child_are_the_same_files(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as serial:
        serial.setenv("INDICATORS_FORK", "0")
        alone = tmp_path / "alone" / str(YEAR)
        files = write_annual_report(alone, inputs)
    _above_the_fork_gate(monkeypatch, 1024)
    workbooks = _recorded(monkeypatch, "write_review_xlsx")
    merge = _recorded(monkeypatch, "write_merge_review")
    child = tmp_path / "child" / str(YEAR)
    forked = write_annual_report(child, inputs)
    assert workbooks == []  # written in the child
    assert merge == [os.getpid()]  # written here, meanwhile
    assert sha_tree(child) == sha_tree(alone)
    assert [p.relative_to(child) for p in forked] == [p.relative_to(alone) for p in files]


def test_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    _above_the_fork_gate(monkeypatch, 64)
    assert build.review_child_fits(0, 0)
    assert not build.review_child_fits(0, 128)  # over the limit with merge_review.xlsx's working set
    monkeypatch.setattr(build, "REVIEW_CHILD_MIB", 128)
    assert not build.review_child_fits(0, 0)  # over it with the child's
    monkeypatch.setattr(build, "REVIEW_CHILD_MIB", 0)
    held = background.resident_mib()
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", held + 64)
    assert not build.review_child_fits(0, 0)  # a thread beside every file fits: that instead
    assert build.review_child_fits(128, 0)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert not build.review_child_fits(128, 0)
    monkeypatch.setenv("INDICATORS_FORK", "1")  # under the fork gate: _beside forks merge_review.xlsx
    assert not build.review_child_fits(128, 0)


def test_a_failing_child_is_raised_here(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _above_the_fork_gate(monkeypatch, 1024)

    def broken(*args: Any) -> Any:
        raise RuntimeError("写入失败")

    monkeypatch.setattr(build, "write_review_xlsx", broken)
    with pytest.raises(RuntimeError, match="写入失败"):
        write_annual_report(tmp_path / str(YEAR), inputs)
