"""The rebuild's stages as the clerk sees them: Dagster's own step events (a step starts, succeeds, fails)
turned into progress stages (pipelines/common/progress.py), with one Chinese label per asset.

`StepStages` is an instance event listener: `run_rebuild(..., on_event=StepStages())` registers it for the
run it starts, so the stages come from the same events the run log stores, as they are stored, whatever
the assets do. The steps' own progress (workbooks done / total) comes from their `progress.stage` calls.
"""

from __future__ import annotations

from typing import Any

from pipelines.common import progress

# One label per step of the rebuild and of the self-evaluation (a step's key is its asset's or check's name).
STAGE_LABELS: dict[str, str] = {
    "submission_files": "收件箱",
    "parsed_workbooks": "读取工作簿",
    "validated_submissions": "校验",
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


def step_stage(step_key: str) -> tuple[str, str]:
    """The stage a step belongs to and its label: an op inside a graph-backed asset ("asset.op[3]") is
    part of its asset's stage, so a fan-out over batches shows as one stage."""
    asset = step_key.split(".", 1)[0].split("[", 1)[0]
    return asset, f"{STAGE_LABELS.get(asset, asset)}（{asset}）"


class StepStages:
    """Dagster's step events → progress stages; `close` ends what a broken run left open."""

    def __init__(self) -> None:
        self._open: dict[str, progress.Tracker] = {}

    def __call__(self, entry: Any) -> None:  # an EventLogEntry
        event = entry.dagster_event
        if event is None or not event.step_key:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            name, label = step_stage(event.step_key)
            self._open[event.step_key] = progress.begin(name, label)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            tracker = self._open.pop(event.step_key, None)
            if tracker is not None:
                tracker.end(ok=kind == "STEP_SUCCESS")

    def close(self) -> None:
        for tracker in self._open.values():
            tracker.end(ok=False)
        self._open.clear()
