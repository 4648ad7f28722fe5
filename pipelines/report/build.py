"""Report: the year's review files under reports/<Y>/ (CONTRACT §6), written by `write_annual_report`.

review.html and review.xlsx carry the same tables, computed once (tables.review_tables) and rendered by
review_html / review_xlsx. CHANGELOG.md comes from the same ChangeSet as `indicators diff`;
merge_review.xlsx lists likely duplicates for a person (written by pipelines.dedupe). The feedback — one
workbook per submitted file (feedback.py) — is not part of the report: `write_outbox` writes it to the
deployment's outbox (git-ignored), from the validation alone.

Everything is deterministic (sorted, no clock), so rebuilding an unchanged year makes no git change.
Submitted text reaches the page only through Jinja2 autoescaping or charts.esc, and the workbooks only
through pipelines.common.xlsx_out (formula triggers neutralized).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pipelines.common import background
from pipelines.common.background import (
    fork_allowed,
    fork_available,
    run_forked,
    start_forked,
    thread_available,
)
from pipelines.common.frames import give_back_memory
from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.consolidate.changes import changes_markdown
from pipelines.dedupe.review import (
    PreparedReview,
    ReviewOrder,
    prepare_merge_review,
    review_order,
    write_merge_review,
)
from pipelines.report.feedback import write_feedback_workbooks
from pipelines.report.library_page import all_events, write_library_page
from pipelines.report.model import ReportInputs, ReviewTable
from pipelines.report.review_html import write_review_html
from pipelines.report.review_xlsx import write_review_xlsx
from pipelines.report.tables import review_tables
from pipelines.validate.runner import ValidationResult


def write_changelog(out_dir: Path, inputs: ReportInputs) -> Path:
    path = out_dir / "CHANGELOG.md"
    text = changes_markdown(inputs.changes, f"{inputs.year} 年度指标库变更记录")
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_merge_review_file(
    out_dir: Path,
    inputs: ReportInputs,
    known: ReviewOrder | None = None,
    prepared: PreparedReview | None = None,
) -> Path:
    """merge_review.xlsx; `known`: its pairs' order made earlier, `prepared`: its pairs sorted and coded
    earlier (prepare_merge_review) — the same bytes either way."""
    path = out_dir / "merge_review.xlsx"
    if prepared is None:
        write_merge_review(inputs.candidates, path, known)
    else:
        prepared.write(path)
    return path


def write_outbox(folder: Path, validation: ValidationResult) -> list[Path]:
    """The feedback workbooks as a whole folder: written beside it (or already written there, in
    validation.feedback_staged, by a run in batches), then swapped in, so `folder` holds either the last
    complete set or this one (a workbook withdrawn from the inbox leaves no stale feedback). Returns the
    paths in `folder`."""
    folder = Path(folder)
    staged = validation.feedback_staged
    if staged is not None and not Path(staged).is_dir():
        raise FileNotFoundError(f"反馈工作簿的暂存文件夹不存在：{staged}")
    fresh = Path(staged) if staged is not None else folder.with_name(f".{folder.name}.new.{os.getpid()}")
    old = folder.with_name(f".{folder.name}.old.{os.getpid()}")
    if staged is None:
        shutil.rmtree(fresh, ignore_errors=True)
    try:
        if staged is None:
            written = write_feedback_workbooks(fresh, validation)
        else:
            written = sorted(p for p in fresh.iterdir() if p.is_file())
        if folder.exists():
            folder.rename(old)
        fresh.rename(folder)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return [folder / p.name for p in written]


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class _Pending(Protocol[T_co]):
    def result(self) -> T_co: ...


class _Later(Generic[T]):
    """fn(*args) run when its result is asked for: after the caller's other work, not beside it."""

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        self.fn, self.args = fn, args

    def result(self) -> T:
        # What the other files freed goes back first (Arrow's pool, glibc's holes): fn's working set is
        # then not added on top of it. (fn first instead: 1M peak +1,369 MiB over the start, not +1,293.)
        give_back_memory()
        return self.fn(*self.args)


# What writing merge_review.xlsx in the thread adds to the report's peak over writing it last, per pair:
# 1M rows' inputs (1.16M pairs, the rebuild's held columns; one run each, no fork): peak +1,964 MiB over
# the start in the thread, +1,200 MiB last (688 bytes a pair); 300k: +233 MiB at 369k pairs (661).
THREAD_BYTES_PER_PAIR = 700
# merge_review.xlsx's own working set (write_merge_review alone, peak over its start): 257 MiB at 300k
# rows' 423k pairs, 629 MiB at 1M rows' 1.34M pairs (the sorted copy let go before the rows are written).
MERGE_REVIEW_BASE_MIB, MERGE_REVIEW_BYTES_PER_PAIR = 96, 420


def _merge_review_mib(pairs: int) -> float:
    """merge_review.xlsx's own working set for `pairs` pairs (MERGE_REVIEW_*)."""
    return MERGE_REVIEW_BASE_MIB + MERGE_REVIEW_BYTES_PER_PAIR * pairs / 2**20


# What forking the library page adds to the process tree's peak PSS over write_annual_report's start, per
# usage row: the child's own pages, the review files written beside it, and every page either process
# dirties while both live (copied: counted twice). 1M rows' saved inputs (884k usages, bench_report --whole
# --merge-review review): +1,130 and +1,287 MiB with the C heap trimmed at the fork (+1,282, +1,351
# without); merge_review.xlsx after it, alone, +917. A 1M rebuild's report started at 2,932 MiB (e2e,
# 2026-12-05), over FORK_TREE_MAX_MIB with 1,349 more; since the review list holds its 理由 packed and no
# longer keeps the matcher's whole frame alive (consolidate.review_pairs.reported) it starts at ≈ 2,500
# MiB and the page is forked there (the 1M run's process tree peaked at 3,984-4,007 MiB, in consolidation).
PAGE_FORK_BYTES_PER_USAGE = 1600
# What merge_review.xlsx's order and factorized texts (dedupe.review.review_order) add to this process while
# it makes them beside the page's child, per pair (traced, 1M rows' inputs, 1.40M pairs: 172 MiB at the
# peak, 129 bytes a pair; 107 MiB held until merge_review.xlsx is written).
ORDER_BYTES_PER_PAIR = 130
# What merge_review.xlsx's pairs sorted and coded (dedupe.review.prepare_merge_review, the 理由 left packed)
# add to the process tree, per pair, beside the page's child (_prepared_beside; the review files are not written
# beside it then): a 1M e2e run (1.40M pairs) forced that way peaked at 3,887 MiB in the report, 1,483 over its
# start (≈ 2,404 MiB), 133 MiB over PAGE_FORK_BYTES_PER_USAGE's estimate: 99 bytes a pair, 140 with a margin.
PREPARED_BYTES_PER_PAIR = 140
# What review.html and review.xlsx add in a child of their own beside merge_review.xlsx's numbering and writing
# (_prepared_beside; that child's PSS grew 375 MiB in a sampled 1M run), on top of merge_review.xlsx's own
# working set (MERGE_REVIEW_BASE_MIB, MERGE_REVIEW_BYTES_PER_PAIR).
REVIEW_FILES_CHILD_MIB = 400
# Where merge_review.xlsx runs beside the other files (a child or a thread), the page goes to a child of its
# own while the process tree, with both, stays under this: the 300k target's 3 GiB, with room to spare.
PAGE_CHILD_MAX_TREE_MIB = 2816


@contextlib.contextmanager
def _beside(
    fn: Callable[..., T], *args: Any, adds_mib: float = 0.0, own_mib: float = 0.0
) -> Iterator[tuple[_Pending[T], bool]]:
    """fn(*args) run beside the caller: in a forked child where background.run_forked forks, else in a
    thread. The thread shares the GIL, but not the deflating of merge_review.xlsx's 300 MB of XML (zlib
    releases the GIL): that overlaps the other files' Python. Leaving the block waits for the thread
    (fn writes its file atomically; an exception is raised by result()). Measured on 300k rows' inputs
    (write_annual_report, no fork, min of 3 alternated): wall 14.6 -> 11.4 s, CPU 15.2 -> 15.6 s, peak
    1,532 -> 1,765 MiB; 1M (one run, old report code vs new): wall 54.9 -> 41.2 s, peak +480 MiB. So the
    thread only while the process holds, with what the thread adds (adds_mib), under
    background.THREAD_MAX_RESIDENT_MIB (300k keeps it); above, fn runs when result() is called, after the
    other files (serial: the two working sets do not add) — or, while the process with fn's own working
    set (own_mib) holds under THREAD_PART_MAX_RESIDENT_MIB, in a thread the caller joins before its
    largest file (yielded with True: see write_annual_report)."""
    if fork_available():
        with run_forked(fn, *args) as forked:
            yield forked, False
        return
    part = not thread_available(adds_mib)
    if part and not thread_available(own_mib, background.THREAD_PART_MAX_RESIDENT_MIB):
        yield _Later(fn, *args), False
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="merge-review") as pool:
        yield pool.submit(fn, *args), part


def write_annual_report(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """Every report file of the year; deterministic, so an unchanged year makes no git change.

    merge_review.xlsx (the largest) is written beside the others (_beside): in a forked child while
    this process holds little (pipelines.common.background: copy-on-write, no pickling of the pairs),
    else in a thread; joined before returning. While the process tree has room for it
    (PAGE_CHILD_MAX_TREE_MIB: a city, a province), CHANGELOG.md and the library page go to a child of
    their own (_three_ways) — or, where the process holds too much for the thread
    beside every other file (1M rows), beside the review files only, joined before the library page
    (whose working set is the report's largest) is written; or, there, while the process tree holds the
    page's child (_page_forked), the page in a child beside the review files and merge_review.xlsx last.
    Measured on 100k rows' inputs (CPU s): serial 8.0; parent 3.6 beside the child's 4.6, the same bytes.
    The cost: both working sets at once, the process tree's peak PSS 850 → 1037 MiB."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = len(inputs.candidates)
    adds = THREAD_BYTES_PER_PAIR * pairs / 2**20
    own = _merge_review_mib(pairs)
    page_adds = PAGE_FORK_BYTES_PER_USAGE * len(inputs.tables.usages) / 2**20
    if not fork_available() and not thread_available(adds) and fork_allowed(page_adds):
        order = fork_allowed(page_adds + ORDER_BYTES_PER_PAIR * pairs / 2**20)
        prepared = fork_allowed(page_adds + PREPARED_BYTES_PER_PAIR * pairs / 2**20)
        return _page_forked(out_dir, inputs, order, prepared)
    with _beside(write_merge_review_file, out_dir, inputs, adds_mib=adds, own_mib=own) as (
        merge_review,
        part,
    ):
        # merge_review.xlsx's child or thread holds its working set from here on (own or adds)
        limit = min(PAGE_CHILD_MAX_TREE_MIB, background.FORK_TREE_MAX_MIB)
        if fork_allowed(page_adds + max(own, adds), limit):
            return _three_ways(out_dir, inputs, merge_review, part)
        html, xlsx, changelog = _review_files(out_dir, inputs)
        review = merge_review.result() if part else None  # joined before the largest working set
        page = write_library_page(
            out_dir,
            inputs.tables,
            all_events(inputs.repo_root, inputs.year, inputs.changes),
            inputs.year,
            inputs.actuals,
        )
        return [html, xlsx, changelog, review or merge_review.result(), page]


def _three_ways(out_dir: Path, inputs: ReportInputs, merge_review: _Pending[Path], part: bool) -> list[Path]:
    """CHANGELOG.md and the library page in a forked child, merge_review.xlsx beside (_beside's child or
    thread), review.html and review.xlsx here: three parts of similar size (100k rows' inputs, CPU s: the
    review files 0.76, the page 0.70, merge_review.xlsx 1.59; 10k: 0.24, 0.17, 0.21), so two cores stay busy
    where the page after the review files made this process's part the longest. The page's working set is
    the child's and dies with it."""
    with start_forked(True, _child_files, out_dir, inputs) as child:
        html, xlsx = _review_pair(out_dir, inputs)
        review = merge_review.result() if part else None
        changelog, page = child.result()
    return [html, xlsx, changelog, review or merge_review.result(), page]


def _page_forked(
    out_dir: Path, inputs: ReportInputs, order_beside: bool = False, prepared_beside: bool = False
) -> list[Path]:
    """The library page in a forked child beside review.html, review.xlsx and CHANGELOG.md, then
    merge_review.xlsx alone (or, where the tree has room for merge_review.xlsx's prepared pairs,
    `prepared_beside`: _prepared_beside's order): where the process holds too much for merge_review.xlsx
    in a thread beside every file but the tree stays under background.FORK_TREE_MAX_MIB with the page's
    child (PAGE_FORK_BYTES_PER_USAGE). The review files and merge_review.xlsx share this process's
    interpreter lock; the page (≈ 9 s of Python at 1M rows) gets the other core, and its working set is the child's, so the page's
    and merge_review's never add up. merge_review.xlsx's first part (its pairs' order, their texts factorized:
    ≈ 2 s at 1M rows, ≈ 110 MiB held) is made here while the child still runs, where the tree has room for it
    (`order_beside`): 1M e2e, report 24.90 -> 21.31 s beside the previous commit. The C heap's free pages go
    back first: a page free at the fork that either process then reuses would be copied (counted twice in the
    process tree), a returned one is not."""
    give_back_memory()
    # The review tables before the fork: they read every finding and the usages' objects, and a page either
    # process writes after the fork (a reference count) is copied, counted twice in the process tree. 1M e2e,
    # sampled: the tree peak 4,142-4,161 -> 3,887 MiB, for the tables' ≈ 2.4 s before the child starts.
    tables = review_tables(inputs)
    if prepared_beside:
        return _prepared_beside(out_dir, inputs, tables)
    with start_forked(True, _page_file, out_dir, inputs) as child:
        html, xlsx = _review_pair(out_dir, inputs, tables)
        del tables
        # CHANGELOG.md here, not in the child: the page is the longer part (1M rows, CPU s: the review files
        # 4.4 here beside the page's 8.0 there).
        changelog = write_changelog(out_dir, inputs)
        # What the review files freed goes back while the page's child still runs (the tree's peak is
        # there, at the page's end), and before merge_review's working set.
        give_back_memory()
        # merge_review.xlsx's first part — its pairs' order, their texts factorized — while the page's child
        # still runs (this core was idle until the page's end: 1M rows' inputs, ≈ 3 s), where the tree has
        # room for what it holds (ORDER_BYTES_PER_PAIR).
        known = review_order(inputs.candidates) if order_beside and len(inputs.candidates) else None
        page = child.result()
    review = write_merge_review_file(out_dir, inputs, known)
    return [html, xlsx, changelog, review, page]


def _prepared_beside(out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable]) -> list[Path]:
    """_page_forked where the tree has room for merge_review.xlsx's pairs sorted and coded beside the page's
    child (PREPARED_BYTES_PER_PAIR): CHANGELOG.md and merge_review.xlsx's first part (prepare_merge_review)
    here while the child writes the page; then, the page's working set gone with its child, review.html and
    review.xlsx in a child of their own while this process numbers and writes merge_review.xlsx — whose
    single-core numbering left the other core idle when it ran alone after the review files. 1M rows' saved
    inputs, alternated with the order's way (the five files the same bytes): 21.29, 23.44, 27.33 -> 20.46,
    21.04, 20.67 s, the process tree's peak 2,987-2,994 -> 3,050-3,065 MiB (benchmarks/RESULTS.md, the
    twenty-first session; end to end the 1M share moved within the machine's spread)."""
    with start_forked(True, _page_file, out_dir, inputs) as child:
        changelog = write_changelog(out_dir, inputs)
        give_back_memory()
        # the 理由 left packed: the room this takes beside the page's child is the tree's (≈ 220 MiB at 1M)
        prepared = prepare_merge_review(inputs.candidates, streamed=True)
        page = child.result()
    give_back_memory()  # the page's child is gone: its room is the review files' child's
    own = _merge_review_mib(len(inputs.candidates))
    # Without room for that child, the review files are written here first (start_forked: at once).
    with start_forked(
        fork_allowed(REVIEW_FILES_CHILD_MIB + own), _review_pair, out_dir, inputs, tables
    ) as files:
        del tables
        review = write_merge_review_file(out_dir, inputs, prepared=prepared)
        del prepared
        html, xlsx = files.result()
    return [html, xlsx, changelog, review, page]


def _child_files(out_dir: Path, inputs: ReportInputs) -> tuple[Path, Path]:
    return write_changelog(out_dir, inputs), _page_file(out_dir, inputs)


def _page_file(out_dir: Path, inputs: ReportInputs) -> Path:
    events = all_events(inputs.repo_root, inputs.year, inputs.changes)
    return write_library_page(out_dir, inputs.tables, events, inputs.year, inputs.actuals)


def _review_files(out_dir: Path, inputs: ReportInputs) -> tuple[Path, Path, Path]:
    """review.html, review.xlsx and CHANGELOG.md. Their shared tables die on return, before the library
    page and a serial merge review (_Later) start (1M rows' report: peak +1,429 -> +1,293 MiB)."""
    html, xlsx = _review_pair(out_dir, inputs)
    return html, xlsx, write_changelog(out_dir, inputs)


def _review_pair(
    out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable] | None = None
) -> tuple[Path, Path]:
    """review.html and review.xlsx from the tables they share (computed here unless given: then they die on
    return)."""
    tables = review_tables(inputs) if tables is None else tables
    return write_review_html(out_dir, inputs, tables), write_review_xlsx(out_dir, inputs, tables)
