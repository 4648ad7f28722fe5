"""The annual rebuild job: every asset of the journey for one year partition."""

import dagster as dg

from pipelines.defs.partitions import yearly_partitions

# The rebuild's assets (the self-evaluation's have their own job, pipelines/defs/evaluation.py).
REBUILD_ASSETS = dg.AssetSelection.groups("submissions", "validation", "library", "release")

annual_rebuild = dg.define_asset_job(
    "annual_rebuild",
    selection=REBUILD_ASSETS,
    partitions_def=yearly_partitions,
    description="年度重建：收件箱 → 读取 → 校验 → 规范化 → 合并 → 候选版本（阻断检查）→ 年度报告 → 发布",
)
