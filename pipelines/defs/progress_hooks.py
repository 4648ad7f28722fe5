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
    """Dagster's step events → progress stages. A step is a stage from its start to its success or
    failure; a graph-backed asset's ops are one stage, from its first op's start to the success of the op
    that materializes it (or the first failure). The run's end ends whatever is still open."""

    def __init__(self) -> None:
        self._steps: dict[str, progress.Tracker] = {}
        self._graphs: dict[str, progress.Tracker] = {}  # graph-backed assets, open across their ops
        self._materializing: set[str] = set()  # ops that materialized their graph's asset

    def __call__(self, entry: Any) -> None:  # an EventLogEntry
        event = entry.dagster_event
        if event is None:
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
            self._steps[key] = progress.begin(*step_stage(key))
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and key in self._steps:
            self._steps.pop(key).end(ok=kind == "STEP_SUCCESS")

    def _graph_op(self, key: str, kind: str) -> None:
        asset, label = step_stage(key)
        if kind == "STEP_START" and asset not in self._graphs:
            self._graphs[asset] = progress.begin(asset, label)
        elif kind == "ASSET_MATERIALIZATION":
            self._materializing.add(key)
        elif asset in self._graphs and (
            kind == "STEP_FAILURE" or (kind == "STEP_SUCCESS" and key in self._materializing)
        ):
            self._graphs.pop(asset).end(ok=kind == "STEP_SUCCESS")

    def close(self, ok: bool = False) -> None:
        """End what is open: at the run's end (ok as the run), or when a run broke off (not ok)."""
        for tracker in [*self._steps.values(), *self._graphs.values()]:
            tracker.end(ok=ok)
        self._steps.clear()
        self._graphs.clear()
