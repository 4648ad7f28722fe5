"""Per-pair work on both cores: the pairs in two halves, the second computed in a forked child
(pipelines.common.background.run_forked) — or, where no fork is made, in a thread — while this process
computes the first.

Only for work whose every output row depends on its own pair alone (the features, the reasons): the halves
joined in order are then exactly what one pass over all pairs gives, whatever the split or the machine.
Below SPLIT_MIN pairs, one pass in-process (a fork and the answer's pickling cost more than they save there).

The thread (threads=True, for work whose heavy parts release the GIL: rapidfuzz's cpdist, numpy on whole
columns, the model's BLAS): a large year's process holds above the fork gate, and without it consolidation
left one core of two idle. It adds little memory: the two halves' temporaries together are about one pass's
and the thread shares the parent's pages (300k rows' features: peak +69 MiB over one pass, the halves writing
into the one matrix). The GIL is held ≈ 53 % of the features' time and ≈ 17 % of the similarity passes'
(py-spy --gil at 300k rows): that share does not overlap. It is used only while the process
holds under background.THREAD_MAX_RESIDENT_MIB, like the report's thread, and not with INDICATORS_THREADS=0.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

import numpy as np

from pipelines.common.background import fork_available, run_forked, thread_available

T = TypeVar("T")

SPLIT_MIN = 50_000  # pairs from which the work is split (a city's ≈ 27k pairs: one pass is as quick)
# Pairs up to which a thread is used (300k rows: 724k pairs). At 1M rows (2.36M pairs) the threaded features
# cost memory the process kept afterwards (consolidation peak 3,435 -> 3,682 MiB, the descriptions starting
# 400 MiB higher) and ≈ 20 % more CPU (consolidate_steps --fork, one run each): one pass there, and one
# thread for worth scoring's cpdist and the similarity passes (blocking.PASSES_THREAD_MAX) too.
THREAD_MAX_PAIRS = 1_500_000

Split = Literal["fork", "thread", ""]


def split_of(n: int, *, threads: bool = False) -> Split:
    """How in_halves runs n pairs: "fork" (the second half in a child), "thread" (in a thread, when no fork
    is made, threads=True and n ≤ THREAD_MAX_PAIRS) or "" (one pass in-process)."""
    if n < max(SPLIT_MIN, 2):
        return ""
    if fork_available():
        return "fork"
    return "thread" if threads and n <= THREAD_MAX_PAIRS and threads_allowed() else ""


def threads_allowed() -> bool:
    """Whether per-pair work may use a thread beside this one: under background.THREAD_MAX_RESIDENT_MIB,
    unless INDICATORS_THREADS=0 (one thread, to compare the two ways on one machine)."""
    return os.environ.get("INDICATORS_THREADS", "") != "0" and thread_available()


def splits(n: int) -> bool:
    """Whether in_halves forks for n pairs (else it runs one pass in-process, or a thread)."""
    return split_of(n) == "fork"


def shared_rows(n: int, width: int) -> np.ndarray:
    """An (n, width) float array in memory shared with the forked children (anonymous MAP_SHARED): a child
    writes its rows there instead of sending them back pickled (no second copy of a large matrix)."""
    buffer = mmap.mmap(-1, max(n * width * 8, 1))
    return np.frombuffer(buffer, dtype=np.float64, count=n * width).reshape(n, width)


def in_halves(
    part: Callable[[int, int], T],
    n: int,
    join: Callable[[T, T, int], T],
    *,
    threads: bool = False,
    split: Split | None = None,
) -> T:
    """part(lo, hi) of pairs lo..hi-1, over all n pairs: part(0, n), or join(part(0, h), part(h, n), h)
    with the second half computed meanwhile in a forked child or, threads=True and no fork made, in a
    thread (h: where the second half starts). part must be safe to run in a thread then. split: the
    caller's split_of(n, ...) when it prepared for it (memory may cross a gate between two calls)."""
    split = split_of(n, threads=threads) if split is None else split
    if not split:
        return part(0, n)
    h = n // 2
    if split == "fork":
        with run_forked(part, h, n) as child:
            first = part(0, h)
            second = child.result()
        return join(first, second, h)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="halves") as pool:
        later = pool.submit(part, h, n)
        first = part(0, h)
        return join(first, later.result(), h)
