"""Where the process holds too much for merge_review.xlsx in a thread beside every file (1M rows), but the
page's child fits under background.FORK_TREE_MAX_MIB, write_annual_report writes the library page in a
forked child beside the review files and merge_review.xlsx after them in this process: the same bytes
and the same returned order as in-process; a killed child is replaced by an in-process page; the gate
reads what the page adds, per usage row."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.common import background
from pipelines.common.background import fork_supported
from pipelines.report import build
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from tests.test_report import YEAR, report_in_process, sample_inputs, written_tree

RETURNED = (
    "review.html",
    "review.xlsx",
    "CHANGELOG.md",
    "merge_review.xlsx",
    "library.html",
)  # in this order

pytestmark = pytest.mark.skipif(not fork_supported(), reason="no fork on this platform")


@pytest.fixture(scope="module")
def inputs() -> ReportInputs:
    return sample_inputs()


@pytest.fixture(scope="module")
def in_process(inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return report_in_process(inputs, tmp_path_factory.mktemp("inline") / str(YEAR))


def _above_the_thread_gate(
    monkeypatch: pytest.MonkeyPatch, page_limit_mib: float, prepared: bool = False
) -> None:
    """As at 1M rows: no fork under FORK_MAX_RESIDENT_MIB, no thread beside every file; `prepared`: room in
    the tree for merge_review.xlsx's prepared pairs beside the page's child (else none: the order's way)."""
    monkeypatch.delenv("INDICATORS_FORK", raising=False)
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    monkeypatch.setattr(background, "THREAD_MAX_RESIDENT_MIB", 0)
    monkeypatch.setattr(background, "FORK_TREE_MAX_MIB", page_limit_mib)
    if not prepared:
        monkeypatch.setattr(build, "PREPARED_BYTES_PER_PAIR", 1 << 50)


def test_the_page_is_written_in_a_child_and_the_bytes_are_the_same(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _above_the_thread_gate(monkeypatch, 1 << 30)
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert _who(log)["page"] != os.getpid()  # the page: in a child
    assert _who(log)["merge_review"] == os.getpid()  # merge_review.xlsx: here, in this thread
    assert _who(log)["changelog"] == os.getpid()  # CHANGELOG.md: here, beside the page's child
    assert written_tree(out, files) == in_process
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in files)  # no temporary left


def test_below_the_page_gate_nothing_forks(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _above_the_thread_gate(monkeypatch, 0)  # the page's estimate does not fit: the partial or serial way
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert _who(log) == {"page": os.getpid(), "merge_review": os.getpid(), "changelog": os.getpid()}
    assert written_tree(out, files) == in_process


def test_the_gate_adds_the_page_estimate_per_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INDICATORS_FORK", raising=False)
    held = background.resident_mib()
    assert background.fork_allowed(100, held + 200)
    assert not background.fork_allowed(300, held + 200)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert not background.fork_allowed(0, held * 10)


@pytest.mark.parametrize(
    ("writer", "prepared"),
    [("write_library_page", False), ("write_review_html", True)],
    ids=["the page's child", "the review files' child (prepared path)"],
)
def test_a_killed_child_is_replaced_in_process(
    writer: str,
    prepared: bool,
    inputs: ReportInputs,
    in_process: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _above_the_thread_gate(monkeypatch, 1 << 30, prepared=prepared)
    parent = os.getpid()
    real = getattr(build, writer)

    def killed_in_the_child(*args: Any) -> Path:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args)

    monkeypatch.setattr(build, writer, killed_in_the_child)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert written_tree(out, files) == in_process


def test_with_room_merge_review_is_prepared_beside_the_page_and_the_review_files_go_to_a_child(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """merge_review.xlsx's pairs sorted and coded here while the page's child runs; then review.html and
    review.xlsx in a child of their own while merge_review.xlsx is written here: the same bytes and order."""
    _above_the_thread_gate(monkeypatch, 1 << 30, prepared=True)
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log, prepared=True)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    who = _who(log)
    assert who["page"] != os.getpid() and who["review files"] != os.getpid()
    assert who["page"] != who["review files"]  # two children, one after the other
    assert who["prepare"] == who["merge_review"] == who["changelog"] == os.getpid()
    assert written_tree(out, files) == in_process
    assert tuple(p.name for p in files) == RETURNED
    assert sorted(p.name for p in out.iterdir()) == sorted(RETURNED)  # no temporary left


def test_without_room_for_the_review_files_child_they_are_written_here_first(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _above_the_thread_gate(monkeypatch, 1 << 30, prepared=True)
    monkeypatch.setattr(build, "REVIEW_FILES_CHILD_MIB", 1 << 50)  # the tree has no room for that child
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log, prepared=True)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    who = _who(log)
    assert who["page"] != os.getpid()
    assert who["review files"] == who["prepare"] == who["merge_review"] == os.getpid()
    assert written_tree(out, files) == in_process


def test_without_room_for_the_prepared_pairs_the_order_is_made_beside_the_page(
    inputs: ReportInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate adds PREPARED_BYTES_PER_PAIR per pair to the page's estimate: no room, the older way."""
    _above_the_thread_gate(monkeypatch, 1 << 30, prepared=True)
    pairs = len(inputs.candidates)
    page = build.PAGE_FORK_BYTES_PER_USAGE * len(inputs.tables.usages) / 2**20
    room = background.resident_mib() + page + build.ORDER_BYTES_PER_PAIR * pairs / 2**20 + 1
    monkeypatch.setattr(background, "FORK_TREE_MAX_MIB", room)
    monkeypatch.setattr(
        build, "PREPARED_BYTES_PER_PAIR", build.ORDER_BYTES_PER_PAIR + (2 << 20) / max(pairs, 1)
    )
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log, prepared=True)
    write_annual_report(tmp_path / str(YEAR), inputs)
    assert "prepare" not in _who(log)
    assert _who(log)["review files"] == os.getpid()  # beside the page's child, here


def _writers(monkeypatch: pytest.MonkeyPatch, log: Path, prepared: bool = False) -> None:
    """The page's, merge_review.xlsx's and CHANGELOG.md's writers log their process id to a file
    (children included); `prepared`: also merge_review's first part and the review files' writer."""
    real_page, real_review, real_changelog = (
        build.write_library_page,
        build.write_merge_review,
        build.write_changelog,
    )

    def page(*args: Any) -> Path:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"page {os.getpid()}\n")
        return real_page(*args)

    def review(candidates: Any, path: Path, known: Any = None) -> Path:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"merge_review {os.getpid()}\n")
        return real_review(candidates, path, known)

    def changelog(out_dir: Path, inputs: ReportInputs) -> Path:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"changelog {os.getpid()}\n")
        return real_changelog(out_dir, inputs)

    real_prepare, real_files = build.prepare_merge_review, build._review_pair

    def prepare(candidates: Any, **options: Any) -> Any:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"prepare {os.getpid()}\n")
        return real_prepare(candidates, **options)

    def review_files(*args: Any) -> Any:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"review_files {os.getpid()}\n")
        return real_files(*args)

    def written(out_dir: Path, inputs: ReportInputs, known: Any = None, prepared: Any = None) -> Path:
        if prepared is not None:  # the prepared way writes it here, from what prepare made
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"merge_review {os.getpid()}\n")
        return real_written(out_dir, inputs, known, prepared)

    real_written = build.write_merge_review_file
    monkeypatch.setattr(build, "write_library_page", page)
    monkeypatch.setattr(build, "write_merge_review", review)
    monkeypatch.setattr(build, "write_changelog", changelog)
    if prepared:
        monkeypatch.setattr(build, "prepare_merge_review", prepare)
        monkeypatch.setattr(build, "_review_pair", review_files)
        monkeypatch.setattr(build, "write_merge_review_file", written)


def _who(log: Path) -> dict[str, int]:
    lines = log.read_text(encoding="utf-8").splitlines()
    return {k.replace("_files", " files"): int(v) for k, v in (line.split() for line in lines)}


@pytest.mark.parametrize("merge_review_in", ["child", "thread"])
def test_below_the_gates_the_page_and_merge_review_each_have_their_own_worker(
    merge_review_in: str,
    inputs: ReportInputs,
    in_process: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A city (merge_review.xlsx in a forked child) or a province (in a thread): the page in a child of its
    # own, the review files here — the same bytes and order as in-process.
    monkeypatch.setenv("INDICATORS_FORK", "1" if merge_review_in == "child" else "")
    if merge_review_in == "thread":
        monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    who = _who(log)
    assert who["page"] != os.getpid()
    assert (who["merge_review"] != os.getpid()) == (merge_review_in == "child")
    assert who["page"] != who["merge_review"]
    assert written_tree(out, files) == in_process
    assert tuple(p.name for p in files) == RETURNED


def test_the_page_child_waits_for_room_in_the_process_tree(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "1")
    monkeypatch.setattr(build, "PAGE_CHILD_MAX_TREE_MIB", 0)  # no room: the page here, after the review files
    log = tmp_path / "log.txt"
    _writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    assert _who(log)["page"] == os.getpid()
    assert written_tree(out, files) == in_process


def test_merge_review_s_order_is_made_while_the_page_s_child_runs(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pairs' order and factorized texts are made in this process before the page's child is joined
    (its core idle until then) and handed to merge_review.xlsx: the same bytes."""
    _above_the_thread_gate(monkeypatch, 1 << 30)
    log = tmp_path / "log.txt"
    _timed_writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    events = _events(log)
    assert events["order"][0] == os.getpid() and events["page end"][0] != os.getpid()
    assert events["order"][1] < events["page end"][1]  # made while the child still ran (it sleeps)
    assert events["merge_review"] == (os.getpid(), 1.0)  # written with it
    assert written_tree(out, files) == in_process


def test_without_room_for_the_order_merge_review_makes_it_itself(
    inputs: ReportInputs, in_process: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _above_the_thread_gate(monkeypatch, 1 << 30)
    monkeypatch.setattr(build, "ORDER_BYTES_PER_PAIR", 1 << 50)  # the tree has no room for it
    log = tmp_path / "log.txt"
    _timed_writers(monkeypatch, log)
    out = tmp_path / str(YEAR)
    files = write_annual_report(out, inputs)
    events = _events(log)
    assert "order" not in events and events["page end"][0] != os.getpid()  # the page still in a child
    assert events["merge_review"] == (os.getpid(), 0.0)
    assert written_tree(out, files) == in_process


def _timed_writers(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """The page's writer (slowed: it sleeps after writing), the order's maker and merge_review.xlsx's writer
    log their process id and a clock (merge_review: whether it was given the order)."""
    real_page, real_order, real_review = (
        build.write_library_page,
        build.review_order,
        build.write_merge_review,
    )

    def note(what: str, value: float) -> None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{what}\t{os.getpid()}\t{value}\n")

    def page(*args: Any) -> Path:
        path = real_page(*args)
        time.sleep(1.0)
        note("page end", time.monotonic())
        return path

    def order(candidates: Any) -> Any:
        note("order", time.monotonic())
        return real_order(candidates)

    def review(candidates: Any, path: Path, known: Any = None) -> Path:
        note("merge_review", float(known is not None))
        return real_review(candidates, path, known)

    monkeypatch.setattr(build, "write_library_page", page)
    monkeypatch.setattr(build, "review_order", order)
    monkeypatch.setattr(build, "write_merge_review", review)


def _events(log: Path) -> dict[str, tuple[int, float]]:
    lines = (line.split("\t") for line in log.read_text(encoding="utf-8").splitlines())
    return {what: (int(pid), float(value)) for what, pid, value in lines}
