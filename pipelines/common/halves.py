"""Per-pair work on both cores: the pairs in two halves, the second computed in a forked child while this
process computes the first — or, where no child is made, in a thread. Every consolidation gate of that kind
is here (split_of): the features' and the descriptions' halves (in_halves), the similarity passes
(blocking._passes, through beside) and rapidfuzz's worker count (workers). Here in common, not in dedupe,
because earlier stages use it too: the normalize step's name forms (normalize.keys._made_forms: a province's
200k distinct names), the identity's explanation forms (consolidate.new_indicators.key_definitions) and the
identity's review pairs found beside the matcher (consolidate.build._review_list, child_beside).

Only for work whose every output row depends on its own pair alone (the features, the reasons): the halves
joined in order are then exactly what one pass over all pairs gives, whatever the split or the machine.
Below SPLIT_MIN pairs, one pass in-process (a fork and the answer's pickling cost more than they save there).

Where the process holds under background's fork gate (a city, 100k rows, and a 300k rebuild today: ≈ 1.45 GiB
at its consolidation's peak), background.run_forked forks as it always did. Above it, up to 300k-sized work
(THREAD_MAX_PAIRS), the second half still goes to a forked child while the process with the child's estimated
memory (FORK_ADDS_MIB) stays under background.THREAD_MAX_RESIDENT_MIB: the features hold the GIL ≈ 53 % of
their time (py-spy --gil at 300k rows) and the descriptions are Python throughout, so a thread overlapped half
of the one and none of the other; the child sees the parent's tables copy-on-write and writes the feature rows
into shared memory. A thread is left where no child is made (no fork here, INDICATORS_FORK=0, no room for the
child) and the work releases the GIL (threads=True). At 1M rows the features' second half still goes to a
child (FEATURES_CHILD_MAX_PAIRS: the rows come back in shared memory, the parent's half holds half the
temporaries); past the thread's bounds the descriptions' second half and the first similarity pass go to a child
too while the process tree has room (child_beside: a thread's leftovers stayed in the process, a child's leave
with it; the descriptions' child sends its 理由 compressed), and rapidfuzz's cpdist takes every core whatever
the pairs (workers: no memory added).
INDICATORS_THREADS=0 turns the above-gate work off (one core, as before 47998f2), INDICATORS_FORK=0 the forks.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

import numpy as np

from pipelines.common import background
from pipelines.common.background import Forked, fork_available, fork_supported, run_forked, thread_available

T = TypeVar("T")
U = TypeVar("U")

SPLIT_MIN = 50_000  # pairs from which the work is split (a city's ≈ 27k pairs: one pass is as quick)
# Pairs up to which the work is split above the fork gate (300k rows: 724k pairs scored, 464k described). At
# 1M rows the threaded features (2.36M pairs) cost memory the process kept afterwards (consolidation peak
# 3,435 -> 3,682 MiB) and ≈ 20 % more CPU, and the descriptions of 1.44M pairs in a child 8 s more CPU (the
# answer pickled, the parent's pages copied) for no wall time (consolidate_steps, one run each, load 16): no
# thread there; the features, the descriptions (their 理由 sent packed) and the first similarity pass in a child
# (FEATURES_CHILD_MAX_PAIRS, child_beside).
THREAD_MAX_PAIRS = 1_000_000
# What a half's child may add to the process tree above the fork gate (its temporaries and the parent's pages
# it touches). 300k rows (consolidate_steps' find_candidates, PSS sampled every 50 ms): the tree's peak
# 1,209-1,249 MiB with the children against 1,132-1,191 with the threads, the child ≈ 250 MiB of it.
FORK_ADDS_MIB = 600.0
# Pairs up to which the features' second half still goes to a child above the fork gate (split_of's
# child_most; never a thread there): 1M rows' 2.34M pairs. The child writes its rows into shared memory and
# sends back next to nothing; the parent's own half needs half the one pass's temporaries.
FEATURES_CHILD_MAX_PAIRS = 3_000_000

# Above background's fork gate and past the thread's bounds, work whose working set is the largest part of what
# it holds may still go to a child that leaves with it: the similarity passes' first pass at 1M rows (207k
# names: its sparse products' temporaries, ≈ 0.2 GiB) and the descriptions' second half (1.4M pairs), where
# the process holds ≈ 0.8 GiB below the consolidation's peak (the candidate frame and its sort, after both).
# The child's pages are counted with the parent's (background.fork_allowed: the process with `adds_mib` under
# FORK_TREE_MAX_MIB), up to `most` items. 1M e2e, tree PSS every 0.5 s: 1,965 MiB with the passes' child, 3,344
# with the descriptions' (3,646 in the worker when their 理由 came back as str), the step's peak 3,868 (the
# features' child) against 3,949 before; consolidate 88.0 -> 76.1 s.
PASSES_CHILD_MAX_NAMES = 400_000
PASSES_CHILD_ADDS_MIB = 600.0
DESCRIBE_CHILD_MAX_PAIRS = 3_000_000
DESCRIBE_CHILD_ADDS_MIB = 600.0

Split = Literal["fork", "thread", ""]


def split_of(
    n: int,
    *,
    threads: bool = False,
    child: bool = True,
    least: int | None = None,
    most: int | None = None,
    child_most: int = 0,
) -> Split:
    """How n items (pairs; names for the passes) are split: "fork" (the second half in a child), "thread"
    (in a thread: threads=True where no child is made) or "" (one pass in-process). From `least`
    (SPLIT_MIN) on; above background's fork gate only up to `most` (THREAD_MAX_PAIRS) — or, with a child,
    up to `child_most` where that is more —, while beside_allowed(), and with a child there only if `child`
    (False: work that releases the GIL enough for a thread to do as well without the child's answer and
    copied pages)."""
    if n < max(SPLIT_MIN if least is None else least, 2):
        return ""
    if fork_available():
        return "fork"
    limit = THREAD_MAX_PAIRS if most is None else most
    if n > max(limit, child_most if child else 0) or not beside_allowed():
        return ""
    if child and _may_fork() and thread_available(FORK_ADDS_MIB):
        return "fork"
    return "thread" if threads and n <= limit and thread_available() else ""


def child_beside(n: int, adds_mib: float, most: int, least: int | None = None) -> Split:
    """split_of where it makes no split above background's fork gate: "fork" for n items (least..most) whose
    child adds `adds_mib` to the process tree while background.fork_allowed says the tree has room for it (its
    FORK_TREE_MAX_MIB), "" otherwise — never with INDICATORS_THREADS=0 or INDICATORS_FORK=0."""
    if n < max(SPLIT_MIN if least is None else least, 2) or n > most:
        return ""
    if not beside_allowed() or not _may_fork():
        return ""
    return "fork" if background.fork_allowed(adds_mib) else ""


def _may_fork() -> bool:
    return os.environ.get("INDICATORS_FORK", "") != "0" and fork_supported()


def beside_allowed() -> bool:
    """Whether work may run beside this thread above the fork gate (INDICATORS_THREADS=0: one core, to compare
    the two ways on one machine)."""
    return os.environ.get("INDICATORS_THREADS", "") != "0"


def threads_allowed() -> bool:
    """Whether a thread may run beside this one: beside_allowed and under background.THREAD_MAX_RESIDENT_MIB."""
    return beside_allowed() and thread_available()


def workers(n: int) -> int:
    """rapidfuzz's workers for n pairs (process.cdist/cpdist): every core (-1, outside the GIL, each pair's
    score its own; its threads write into the one result array, so more pairs cost no more memory), one with
    INDICATORS_THREADS=0."""
    return -1 if beside_allowed() else 1


def splits(n: int) -> bool:
    """Whether in_halves forks for n pairs (else it runs one pass in-process, or a thread)."""
    return split_of(n) == "fork"


def shared_rows(n: int, width: int) -> np.ndarray:
    """An (n, width) float array in memory shared with the forked children (anonymous MAP_SHARED): a child
    writes its rows there instead of sending them back pickled (no second copy of a large matrix). Column by
    column in memory (Fortran order), as feature matrices are written and read (see columns)."""
    buffer = mmap.mmap(-1, max(n * width * 8, 1))
    return np.frombuffer(buffer, dtype=np.float64, count=n * width).reshape(width, n).T


def columns(n: int, width: int) -> np.ndarray:
    """An (n, width) float array of zeros stored column by column (Fortran order). A feature matrix is
    written and read one feature (column) at a time: in row order, each column's n values lie width × 8
    bytes apart, one cache line and at 1M rows one page-table walk each (2.3M pairs × 52 features: 1.0 s
    to write every column once, 0.08 s in column order)."""
    return np.zeros((n, width), order="F")


def rows_taken(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows] (rows: a mask or positions) of a matrix, column-ordered as `columns` makes them: gathered one
    column at a time. numpy's x[rows] reads a column-ordered matrix row by row, a page apart per value (1M
    rows, 1.3M of 2.3M pairs: 1.5 s against 0.2)."""
    positions = np.flatnonzero(rows) if rows.dtype == bool else rows
    out = np.empty((len(positions), x.shape[1]), order="F")
    for k in range(x.shape[1]):
        np.take(x[:, k], positions, out=out[:, k])
    return out


def forked(fn: Callable[..., T], *args: object) -> Forked[T]:
    """fn(*args) in a forked child: background.run_forked under its gate, else its child all the same (split_of
    decided the fork is worth its memory here)."""
    if fork_available() or not fork_supported():
        return run_forked(fn, *args)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child, under background's rules: compute, answer, leave
        os.close(read_fd)
        background._child(fn, args, write_fd)
    os.close(write_fd)
    return Forked(fn, args, pid, read_fd)


def beside(other: Callable[[], T], here: Callable[[], U], split: Split) -> tuple[T, U]:
    """(other(), here()): other in a forked child ("fork") or a thread ("thread") while this thread runs
    here, else one after the other."""
    if split == "fork":
        with forked(other) as child:
            mine = here()
            return child.result(), mine
    if split == "thread":
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="halves") as pool:
            later = pool.submit(other)
            mine = here()
            return later.result(), mine
    first = other()
    return first, here()


def in_halves(
    part: Callable[[int, int], T],
    n: int,
    join: Callable[[T, T, int], T],
    *,
    threads: bool = False,
    split: Split | None = None,
    child_share: float = 0.5,
) -> T:
    """part(lo, hi) of pairs lo..hi-1, over all n pairs: part(0, n), or join(part(0, h), part(h, n), h)
    with the second half computed meanwhile in a forked child or, threads=True and no child made, in a
    thread (h: where the second half starts). part must be safe to run in a thread then. split: the
    caller's split_of(n, ...) when it prepared for it (memory may cross a gate between two calls).
    child_share: the second part's share of the items when it goes to a child whose answer costs more to
    send than the parent's (a smaller share: both end together); a thread's is always half."""
    split = split_of(n, threads=threads) if split is None else split
    if not split:
        return part(0, n)
    h = int(n * (1.0 - child_share)) if split == "fork" else n // 2
    second, first = beside(lambda: part(h, n), lambda: part(0, h), split)
    return join(first, second, h)


def mapped(fn: Callable[[U], T], items: Sequence[U]) -> list[T]:
    """[fn(item) for item in items], from SPLIT_MIN items in two halves (in_halves: the second in a forked
    child): for work where each result is its item's alone (a name's forms, an explanation's form)."""

    def part(lo: int, hi: int) -> list[T]:
        return [fn(item) for item in items[lo:hi]]

    def both(first: list[T], second: list[T], _h: int) -> list[T]:
        return first + second

    return in_halves(part, len(items), both)
