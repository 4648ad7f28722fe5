"""The rebuild's stages as the clerk sees them: Dagster's own step events (a step starts, succeeds, fails)
turned into progress stages (pipelines/common/progress.py), with one Chinese label per asset.

`StepStages` is an instance event listener: `run_rebuild(..., on_event=StepStages())` registers it for the
run it starts, so the stages come from the same events the run log stores, as they are stored, whatever
the assets do. The steps' own progress (workbooks done / total) comes from their `progress.stage` calls.
A run whose steps are other processes (the multiprocess executor) stores its events there, not here:
`following` reads them back from the run's event log as they are stored.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from pipelines.common import progress

# One label per step of the rebuild and of the self-evaluation (a step's key is its asset's or check's name).
STAGE_LABELS: dict[str, str] = {
    "submission_files": "收件箱",
    "validated_submissions": "读取与校验",
    "department_feedback": "反馈工作簿",
    "normalized_rows": "规范化",
    "consolidated_library": "合并",
    "release_candidate": "候选版本",
    "release_candidate_checks": "阻断检查",
    "annual_report": "年度报告",
    "published_release": "发布",
    "self_evaluation_scores": "绩效自评评分",
    "self_evaluation_checks": "绩效自评检查",
    "self_evaluation_release": "绩效自评发布",
}
RUN_ENDS = {"PIPELINE_SUCCESS": True, "PIPELINE_FAILURE": False, "PIPELINE_CANCELED": False}


def step_stage(step_key: str) -> tuple[str, str]:
    """The stage a step belongs to and its label: an op of a graph-backed asset ("asset.op[3]") is part
    of its asset's stage, so a fan-out over shards shows as one stage."""
    asset = step_key.split(".", 1)[0].split("[", 1)[0]
    return asset, f"{STAGE_LABELS.get(asset, asset)}（{asset}）"


class StepStages:
    """Dagster's step events → progress stages (for the watchers: the run log has the events already). A
    step is a stage from its start to its success or failure; a graph-backed asset's ops are one stage, from its first op's start to the success of the op
    that materializes it (or the first failure). The run's end ends whatever is still open."""

    def __init__(self, replay_lines: bool = False) -> None:
        # replay_lines: the steps' own progress lines read back from the run log (steps in other processes)
        self.replay_lines = replay_lines
        self._parts: dict[tuple[str, str], progress.Tracker] = {}
        self._steps: dict[str, progress.Tracker] = {}
        self._graphs: dict[str, progress.Tracker] = {}  # graph-backed assets, open across their ops
        self._materializing: set[str] = set()  # ops that materialized their graph's asset

    def __call__(self, entry: Any) -> None:  # an EventLogEntry
        event = entry.dagster_event
        if event is None:
            if self.replay_lines and entry.step_key:
                self._replay(entry.step_key, progress.parse_line(entry.user_message or ""))
            return
        kind = event.event_type_value
        if kind in RUN_ENDS:
            self.close(ok=RUN_ENDS[kind])
        elif event.step_key and "." in event.step_key:
            self._graph_op(event.step_key, kind)
        elif event.step_key:
            self._step(event.step_key, kind)

    def _step(self, key: str, kind: str) -> None:
        if kind == "STEP_START":
            self._steps[key] = progress.begin(*step_stage(key), lines=False)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and key in self._steps:
            self._steps.pop(key).end(ok=kind == "STEP_SUCCESS")

    def _graph_op(self, key: str, kind: str) -> None:
        asset, label = step_stage(key)
        if kind == "STEP_START" and asset not in self._graphs:
            self._graphs[asset] = progress.begin(asset, label, lines=False)
        elif kind == "ASSET_MATERIALIZATION":
            self._materializing.add(key)
        elif asset in self._graphs and (
            kind == "STEP_FAILURE" or (kind == "STEP_SUCCESS" and key in self._materializing)
        ):
            self._graphs.pop(asset).end(ok=kind == "STEP_SUCCESS")

    def _replay(self, step_key: str, line: progress.Line | None) -> None:
        """A step's own progress line as the stage it was in its process (shards of one label add up)."""
        key = (step_key, line.label) if line else ("", "")
        if line is None:
            return
        if line.kind == "start":
            self._parts[key] = progress.begin(
                f"part:{line.label}", line.label, line.total, line.unit, lines=False
            )
        elif key in self._parts and line.kind == "advance" and line.done is not None:
            tracker = self._parts[key]
            if line.done > tracker.done:
                tracker.advance(line.done - tracker.done)
        elif key in self._parts and line.kind == "end":
            self._parts.pop(key).end(ok=line.ok)

    def close(self, ok: bool = False) -> None:
        """End what is open: at the run's end (ok as the run), or when a run broke off (not ok)."""
        for tracker in [*self._parts.values(), *self._steps.values(), *self._graphs.values()]:
            tracker.end(ok=ok)
        self._parts.clear()
        self._steps.clear()
        self._graphs.clear()


PROGRESS_TAG = "indicators/progress"  # names a followed run before Dagster gives it an id
FOLLOW_SECONDS = 0.5


@contextlib.contextmanager
def following(
    instance: Any, listener: Callable[[Any], None], interval: float = FOLLOW_SECONDS
) -> Iterator[dict[str, str]]:
    """The stored events of a run started inside the block, in order, to `listener` (from a thread, every
    `interval` seconds, and once more at the end). Yields the tags the run must be started with. A
    StepStages listener replays the steps' progress lines: their trackers ran in the steps' processes."""
    if isinstance(listener, StepStages):
        listener.replay_lines = True
    token = uuid.uuid4().hex
    stop = threading.Event()
    thread = threading.Thread(
        target=_follow, args=(instance, token, listener, stop, interval), name="progress-follow", daemon=True
    )
    thread.start()
    try:
        yield {PROGRESS_TAG: token}
    finally:
        stop.set()
        thread.join()


def _follow(
    instance: Any, token: str, listener: Callable[[Any], None], stop: threading.Event, interval: float
) -> None:
    state: dict[str, str | None] = {"run_id": None, "cursor": None}
    while True:
        last = stop.wait(interval)
        with contextlib.suppress(Exception):  # showing progress never stops a run: try again next time
            _poll(instance, token, listener, state)
        if last:
            return


def _poll(instance: Any, token: str, listener: Callable[[Any], None], state: dict[str, str | None]) -> None:
    """The followed run's events stored since the last poll, to the listener."""
    import dagster as dg

    if state["run_id"] is None:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={PROGRESS_TAG: token}), limit=1)
        state["run_id"] = runs[0].run_id if runs else None
    while state["run_id"] is not None:
        page = instance.get_records_for_run(state["run_id"], cursor=state["cursor"], limit=1000)
        for record in page.records:
            listener(record.event_log_entry)
        state["cursor"] = page.cursor
        if not page.has_more:
            return
