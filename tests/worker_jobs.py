"""Jobs for the worker-process base's tests (tests/test_workers.py), by name: workers import this small
module, not the test module (which would cost each fresh worker pytest's imports)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def job(state: int, task: object, tick: Callable[[], None]) -> object:
    """A number: times `state`; a word: misbehave as it says."""
    if task == "abort":
        os.abort()
    if task == "exit":
        os._exit(3)
    if task == "hog":
        hog = bytearray(4 << 30)  # far beyond the test's budget: MemoryError under RLIMIT_AS
        hog[-1] = 1
    if task == "sleep":
        time.sleep(120)
    if task == "raise":
        raise RuntimeError("a bug")
    if task == "ticking":  # longer than the timeout in all, never longer than it between ticks
        for _ in range(6):
            time.sleep(0.3)
            tick()
        return "ticked"
    if task == "pid":
        return os.getpid()
    assert isinstance(task, int)
    return task * state
