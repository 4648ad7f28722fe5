"""write_annual_report writes merge_review.xlsx in a forked child (pipelines.common.background): the files
are the same bytes as in-process, a killed child is replaced by an in-process write with nothing
half-written left, and an error in the child's writer reaches the caller."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from pipelines.common.background import fork_supported
from pipelines.report import build
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from tests.forking import forks_on  # noqa: F401  (autouse: forking on in this module)
from tests.test_report import YEAR, report_in_process, sample_inputs, written_tree

pytestmark = pytest.mark.skipif(not fork_supported(), reason="no fork on this platform")


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


@pytest.fixture(scope="module")
def in_process(inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The report written without a fork: file → sha256, and "(order)" → the returned paths' order."""
    return report_in_process(inputs, tmp_path_factory.mktemp("inline") / str(YEAR))


def test_forked_and_in_process_reports_are_the_same_bytes(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: list[int] = []
    real = build.write_merge_review

    def recorded(candidates: Any, path: Path, known: Any = None) -> Path:
        writers.append(os.getpid())  # in a child: appended to the child's copy only
        return real(candidates, path, known)

    monkeypatch.setattr(build, "write_merge_review", recorded)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert writers == []  # the writer ran in the child: nothing recorded in this process
    assert written_tree(out, files) == in_process
    assert "merge_review.xlsx" in in_process and "merge_review.xlsx" in in_process["(order)"]


def test_a_killed_child_is_replaced_and_leaves_nothing_half_written(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    real = build.write_merge_review

    def killed_in_the_child(candidates: Any, path: Path, known: Any = None) -> Path:
        if os.getpid() != parent:
            path.with_suffix(".tmp.xlsx").write_bytes(b"PK half a workbook")
            os.kill(os.getpid(), signal.SIGKILL)
        return real(candidates, path, known)

    monkeypatch.setattr(build, "write_merge_review", killed_in_the_child)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert written_tree(out, files) == in_process  # no temporary file, the whole workbook


def test_an_error_in_the_merge_review_reaches_the_caller(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(candidates: Any, path: Path, known: Any = None) -> Path:
        raise OSError("磁盘已满")

    monkeypatch.setattr(build, "write_merge_review", broken)
    with pytest.raises(OSError, match="磁盘已满"):
        write_annual_report(tmp_path / str(YEAR), inputs)
    assert not (tmp_path / str(YEAR) / "merge_review.xlsx").exists()
