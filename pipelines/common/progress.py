"""Progress of a long run: a stage starts, advances (workbooks done / total), ends, each with the elapsed time.

The steps only emit (`stage(name, label, total)` → `Tracker.advance(n)`); who shows them is the caller's
choice. Every event goes to the in-process watchers (`watch`; the CLI's `show` is one: a bar redrawn on a
terminal, plain lines otherwise), and the fewer events worth a line — start, end, and an advance every 10 %
or 5 s — go to the logger "indicators.progress" at INFO, which a Dagster instance captures into its run log
when the logger is one of its managed Python loggers. With no watcher the cost is a few comparisons per
advance and one log record per line.
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

LOGGER_NAME = "indicators.progress"
log = logging.getLogger(LOGGER_NAME)
log.setLevel(logging.INFO)  # lines reach any handler (and a Dagster run log) without the root's WARNING

LINE_EVERY_FRACTION = 0.1  # an advance is a line (logger, plain display) every 10 % of the total ...
LINE_EVERY_SECONDS = 5.0  # ... or every 5 s, whichever comes first
REDRAW_SECONDS = 0.1  # a terminal bar is redrawn at most 10 times a second on advances
TICK_SECONDS = 0.5  # and every 0.5 s while a stage runs, so the elapsed time moves without advances
UNIT = "个工作簿"


@dataclass(frozen=True)
class ProgressEvent:
    """One event of a stage. `n` is what this advance added (stages of one name from several trackers add
    up); `line` says whether it is worth a line in a log."""

    kind: str  # start | advance | end
    stage: str
    label: str  # what the clerk reads, in Chinese
    done: int
    total: int | None
    elapsed: float
    n: int = 0
    ok: bool = True
    line: bool = True
    unit: str = UNIT
    logs: bool = True  # its tracker puts lines on the logger

    @property
    def text(self) -> str:
        return event_text(self.kind, self.label, self.done, self.total, self.elapsed, self.ok, self.unit)


def event_text(
    kind: str, label: str, done: int, total: int | None, elapsed: float, ok: bool = True, unit: str = UNIT
) -> str:
    """The line a plain log shows for an event."""
    count = f"{done}/{total} {unit}" if total else ""
    if kind == "start":
        return f"▶ {label}" + (f"（共 {total} {unit}）" if total else "")
    if kind == "advance":
        return f"  {label}：{count or done}，已用 {elapsed:.1f} 秒"
    if not ok:
        return f"✗ {label}：未完成，已用 {elapsed:.1f} 秒"
    return f"✓ {label}：" + (f"{count}，" if count else "") + f"用时 {elapsed:.1f} 秒"


_LINES = (
    ("start", re.compile(r"▶ (?P<label>.+?)(?:（共 (?P<total>\d+) (?P<unit>\S+)）)?")),
    (
        "advance",
        re.compile(r"  (?P<label>.+?)：(?P<done>\d+)(?:/(?P<total>\d+) (?P<unit>\S+))?，已用 \d+\.\d 秒"),
    ),
    ("end", re.compile(r"(?P<mark>[✓✗]) (?P<label>.+?)：.*")),
)


@dataclass(frozen=True)
class Line:
    """An event read back from its line (a run log written by another process)."""

    kind: str
    label: str
    done: int | None
    total: int | None
    unit: str
    ok: bool


def parse_line(text: str) -> Line | None:
    """The inverse of event_text, for the fields a display needs; None for any other text."""
    for kind, pattern in _LINES:
        match = pattern.fullmatch(text)
        if match:
            found = match.groupdict()
            done, total = (int(found[k]) if found.get(k) else None for k in ("done", "total"))
            unit = found.get("unit") or UNIT
            return Line(kind, found["label"], done, total, unit, found.get("mark") != "✗")
    return None


Watcher = Callable[[ProgressEvent], None]
_watchers: list[Watcher] = []


@contextmanager
def watch(watcher: Watcher) -> Iterator[None]:
    """Every event of this process goes to `watcher` inside the block."""
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)


@dataclass
class Tracker:
    """One running stage: `advance` after each unit of work (a workbook, a batch of workbooks)."""

    name: str
    label: str
    total: int | None
    unit: str = UNIT
    lines: bool = True  # also lines on the logger (not for stages read back from a run log: circular)
    done: int = 0
    started: float = field(default_factory=lambda: time.perf_counter())
    closed: bool = False
    _line_at: float = 0.0
    _line_done: int = 0

    def __post_init__(self) -> None:
        self._line_at = self.started

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        line = self._worth_a_line(now)
        if line:
            self._line_at, self._line_done = now, self.done
        _emit(self, "advance", n=n, line=line)

    def _worth_a_line(self, now: float) -> bool:
        if now - self._line_at >= LINE_EVERY_SECONDS:
            return True
        if not self.total:
            return False
        if self.done >= self.total:
            return self._line_done < self.total
        step = max(1, int(self.total * LINE_EVERY_FRACTION))
        return self.done // step > self._line_done // step

    def end(self, ok: bool = True) -> None:
        """The stage is over (once; a second call does nothing)."""
        if not self.closed:
            self.closed = True
            _emit(self, "end", ok=ok)


def _emit(tracker: Tracker, kind: str, *, n: int = 0, ok: bool = True, line: bool = True) -> None:
    to_log = line and tracker.lines and log.isEnabledFor(logging.INFO)
    if not (_watchers or to_log):
        return
    event = ProgressEvent(
        kind,
        tracker.name,
        tracker.label,
        tracker.done,
        tracker.total,
        tracker.elapsed,
        n,
        ok,
        line,
        tracker.unit,
        tracker.lines,
    )
    for watcher in tuple(_watchers):
        watcher(event)
    if to_log:
        payload = {"event": kind, "stage": tracker.name, "label": tracker.label, "ok": ok}
        payload.update({"done": tracker.done, "total": tracker.total, "elapsed": round(event.elapsed, 3)})
        log.info(event.text, extra={"progress": payload})


def begin(
    name: str, label: str, total: int | None = None, unit: str = UNIT, *, lines: bool = True
) -> Tracker:
    """A stage whose end is another call's business (`Tracker.end`): e.g. a Dagster step's start and end.
    lines=False: the watchers only, no line on the logger."""
    tracker = Tracker(name, label, total, unit, lines)
    _emit(tracker, "start")
    return tracker


@contextmanager
def stage(name: str, label: str, total: int | None = None, unit: str = UNIT) -> Iterator[Tracker]:
    """A stage of the run: start and end events around the block (a failed end if it raises)."""
    tracker = begin(name, label, total, unit)
    try:
        yield tracker
    except BaseException:
        tracker.end(ok=False)
        raise
    tracker.end()


# --------------------------------------------------------------------------------------------------
# showing the events
# --------------------------------------------------------------------------------------------------


@dataclass
class _Shown:
    """A stage as a display sees it: stages of one name (several trackers, e.g. batches) are one."""

    label: str
    total: int | None
    unit: str
    depth: int
    started: float = field(default_factory=lambda: time.perf_counter())
    done: int = 0
    open: int = 1
    trackers: int = 1  # one: its lines are the tracker's own, as the logger (and a run log) has them
    ok: bool = True


def cells(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, width: int) -> str:
    while text and cells(text) > width:
        text = text[:-1]
    return text


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
BAR_CELLS = 24
LABEL_CELLS = 8  # the least of a label a narrow terminal keeps


class Display:
    """Shows the events on a stream: on a terminal one bar line redrawn with \\r (the stages' start and end
    as lines above it), elsewhere the plain lines (those worth a line: start, end, every 10 % or 5 s)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: bool = False,
        indent: str = "",
        skip_captured: bool = False,
    ) -> None:
        self.stream = stream
        self.tty = bool(stream.isatty()) if tty is None else tty
        self.clock = clock  # a time of day before each plain line (a log file)
        # a log file that Dagster's own log also goes to: a stage whose events the logger hands to a
        # handler (a Dagster step capturing the logger into its run log) is already there
        self.skip_captured = skip_captured
        self.indent = indent  # before every line and the bar (the CLI nests the stages under its title)
        self._stages: dict[str, _Shown] = {}
        self._lock = threading.RLock()
        self._bar_shown = False
        self._broken = False
        self._drawn_at = 0.0
        self._tick = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # events -----------------------------------------------------------------------------------------
    def __call__(self, event: ProgressEvent) -> None:
        if self.skip_captured and event.logs and log.handlers and event.stage not in self._stages:
            return
        with self._lock:
            if event.kind == "start":
                self._start(event)
            elif event.kind == "advance":
                self._advance(event)
            else:
                self._end(event)

    def _start(self, event: ProgressEvent) -> None:
        shown = self._stages.get(event.stage)
        if shown is not None:  # another tracker of a stage already shown (a batch): one stage
            shown.open += 1
            shown.trackers += 1
            shown.total = max(shown.total or 0, event.total or 0) or None
            return
        self._stages[event.stage] = _Shown(event.label, event.total, event.unit, len(self._stages))
        self._line(self._stages[event.stage].depth, event.text)

    def _advance(self, event: ProgressEvent) -> None:
        shown = self._stages.get(event.stage)
        if shown is None:
            return
        shown.done += event.n
        if self.tty:
            finished = bool(shown.total) and shown.done >= (shown.total or 0)
            if finished or time.perf_counter() - self._drawn_at >= REDRAW_SECONDS:
                self._draw()
        elif event.line:
            self._line(shown.depth, self._text(shown, event, "advance"))

    def _end(self, event: ProgressEvent) -> None:
        shown = self._stages.get(event.stage)
        if shown is None:
            return
        shown.open -= 1
        shown.ok = shown.ok and event.ok
        if shown.open > 0:
            return
        del self._stages[event.stage]
        self._line(
            shown.depth,
            self._text(shown, event, "end"),
        )

    @staticmethod
    def _text(shown: _Shown, event: ProgressEvent, kind: str) -> str:
        """A stage of one tracker: the tracker's own line; of several (batches): their sum, our time."""
        if shown.trackers == 1:
            return event_text(kind, event.label, event.done, event.total, event.elapsed, shown.ok, event.unit)
        done = shown.done or event.done
        return event_text(kind, shown.label, done, shown.total, _since(shown), shown.ok, shown.unit)

    # output -----------------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        """Showing progress never stops a run: a stream that cannot be written (a full disk, a closed
        terminal) is given up."""
        if self._broken:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self._broken = True

    def _line(self, depth: int, text: str) -> None:
        """A line above the bar: the bar is cleared first and drawn again after."""
        prefix = datetime.now().strftime("%H:%M:%S ") if self.clock else ""
        self._clear()
        self._write(prefix + self.indent + "  " * depth + text + "\n")
        if self.tty and self._stages:
            self._draw()

    def _clear(self) -> None:
        if self._bar_shown:
            self._write("\r\x1b[K")
            self._bar_shown = False

    def _draw(self) -> None:
        if not self._stages:
            return
        self._write("\r\x1b[K" + self.indent + self.bar_text())
        self._bar_shown = True
        self._drawn_at = time.perf_counter()

    def bar_text(self) -> str:
        """The innermost counted stage as a bar, else the innermost stage with a spinner; with its time.
        ASCII bar: block characters are two columns wide on a Chinese terminal."""
        stages = list(self._stages.values())
        counted = [s for s in stages if s.total]
        shown = counted[-1] if counted else stages[-1]
        width = shutil.get_terminal_size((80, 24)).columns - 1 - cells(self.indent)
        tail = f" {_since(shown):.1f} 秒"
        if shown.total:
            tail = f" {min(shown.done, shown.total)}/{shown.total}" + tail
            cells_left = min(BAR_CELLS, width - LABEL_CELLS - cells(tail) - 3)
            if cells_left >= 5:
                filled = cells_left * min(shown.done, shown.total) // shown.total
                tail = " [" + "#" * filled + "-" * (cells_left - filled) + "]" + tail
        else:
            tail = f" {SPINNER[self._tick % len(SPINNER)]}" + tail
        room = max(LABEL_CELLS, width - cells(tail))
        path = " › ".join(s.label for s in stages[: stages.index(shown) + 1])  # the step, then its part
        return _clip(path if cells(path) <= room else shown.label, room) + tail

    def _run_ticker(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self._lock:
                self._tick += 1
                if self._stages:
                    self._draw()

    # lifetime ---------------------------------------------------------------------------------------
    def open(self) -> None:
        if self.tty:
            self._ticker = threading.Thread(target=self._run_ticker, name="progress-bar", daemon=True)
            self._ticker.start()

    def close(self) -> None:
        """Stop redrawing; stages still open (an interrupted run) are left as a line each; no bar remains."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            for shown in sorted(self._stages.values(), key=lambda s: -s.depth):
                self._clear()
                text = f"■ {shown.label}：中断，已用 {_since(shown):.1f} 秒"
                self._write(self.indent + "  " * shown.depth + text + "\n")
            self._stages.clear()
            self._clear()


def _since(shown: _Shown) -> float:
    return time.perf_counter() - shown.started


@contextmanager
def show(
    stream: TextIO | None = None,
    *,
    tty: bool | None = None,
    clock: bool = False,
    indent: str = "",
    skip_captured: bool = False,
) -> Iterator[Display]:
    """Show this process's progress on `stream` (default stderr) inside the block."""
    display = Display(
        stream if stream is not None else sys.stderr,
        tty=tty,
        clock=clock,
        indent=indent,
        skip_captured=skip_captured,
    )
    display.open()
    try:
        with watch(display):
            yield display
    finally:
        display.close()
