"""Progress of a long run, as events on one logger ("indicators.progress"): a stage starts, advances
(workbooks done / total), ends, each with the elapsed time.

The steps only emit; who shows them is the caller's choice: the CLI draws a bar on a terminal and plain
lines in a log, and a Dagster run carries the same lines in its run log (the logger is one of the
instance's managed Python loggers). With no handler installed nothing is shown and the cost is a few
function calls per workbook batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

LOGGER_NAME = "indicators.progress"
log = logging.getLogger(LOGGER_NAME)


@dataclass
class Tracker:
    """One running stage: `advance` after each unit of work (a workbook, a batch of workbooks)."""

    name: str
    label: str  # what the clerk reads, in Chinese
    total: int | None
    done: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def advance(self, n: int = 1) -> None:
        self.done += n
        _emit(self, "advance")


def _emit(tracker: Tracker, event: str) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    if event == "start":
        text = f"▶ {tracker.label}" + (f"（共 {tracker.total} 个工作簿）" if tracker.total else "")
    elif event == "advance":
        text = f"  {tracker.label}：{tracker.done}/{tracker.total or '?'}，已用 {tracker.elapsed:.1f} 秒"
    else:
        text = f"✓ {tracker.label}：用时 {tracker.elapsed:.1f} 秒"
    payload: dict[str, object] = {"event": event, "stage": tracker.name, "label": tracker.label}
    payload.update({"done": tracker.done, "total": tracker.total, "elapsed": round(tracker.elapsed, 3)})
    log.info(text, extra={"progress": payload})


@contextmanager
def stage(name: str, label: str, total: int | None = None) -> Iterator[Tracker]:
    """A stage of the run: start and end events around the block; advance() inside it."""
    tracker = Tracker(name, label, total)
    _emit(tracker, "start")
    yield tracker
    _emit(tracker, "end")
