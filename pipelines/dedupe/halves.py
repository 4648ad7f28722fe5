"""Per-pair work on both cores: the pairs in two halves, the second computed in a forked child
(pipelines.common.background.run_forked) while this process computes the first.

Only for work whose every output row depends on its own pair alone (the features, the reasons): the halves
joined in order are then exactly what one pass over all pairs gives, whatever the split or the machine.
Below SPLIT_MIN pairs, or where there is no fork, one pass in-process (a fork and the answer's pickling cost
more than they save there).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from pipelines.common.background import fork_available, run_forked

T = TypeVar("T")

SPLIT_MIN = 50_000  # pairs from which the work is split (a city's ≈ 27k pairs: one pass is as quick)


def splits(n: int) -> bool:
    """Whether in_halves splits n pairs (else it runs one pass in-process)."""
    return n >= max(SPLIT_MIN, 2) and fork_available()


def shared_rows(n: int, width: int) -> np.ndarray:
    """An (n, width) float array in memory shared with the forked children (anonymous MAP_SHARED): a child
    writes its rows there instead of sending them back pickled (no second copy of a large matrix)."""
    buffer = mmap.mmap(-1, max(n * width * 8, 1))
    return np.frombuffer(buffer, dtype=np.float64, count=n * width).reshape(n, width)


def in_halves(part: Callable[[int, int], T], n: int, join: Callable[[T, T, int], T]) -> T:
    """part(lo, hi) of pairs lo..hi-1, over all n pairs: part(0, n), or join(part(0, h), part(h, n), h)
    with the second half computed in a forked child meanwhile (h: where the second half starts)."""
    if not splits(n):
        return part(0, n)
    h = n // 2
    with run_forked(part, h, n) as child:
        first = part(0, h)
        second = child.result()
    return join(first, second, h)
