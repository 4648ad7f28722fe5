"""The per-workbook work of a rebuild — read, validate, write the feedback — in batches, in parallel.

Every workbook is read, validated and answered on its own but for one rule: F007, one workbook per
部门编码, which only all workbooks together can decide. So the sorted inbox is cut into fixed batches
(`plan_batches`: by count and bytes, never by the number of workers, so nothing can depend on them);
each batch is read (parse cache, else parsed in the batch's process), validated and its feedback written
into the outbox's staging folder by `process_batch`, which hands back only the compact result (rows,
findings, file statuses, 部门信息) — no workbook, no cells. `merge_batches` puts the results together in
batch order, decides F007 over every workbook and validates again only the workbooks it sets aside.
`run_batches` runs the batches in a pool of worker processes under the parse workers' memory and time
limits (pipelines.intake.safe_parse); a batch whose worker dies or times out is redone here through the
safe path, so one hostile workbook costs one workbook. The Dagster assets (pipelines/defs/fanout_ops.py)
map the same functions over shards of batches, one executor step each.
"""

from pipelines.fanout.batches import (
    Batch,
    BatchResult,
    BatchSettings,
    plan_batches,
    process_batch,
    process_safely,
)
from pipelines.fanout.merge import merge_batches
from pipelines.fanout.pool import auto_workers, run_batches

__all__ = [
    "Batch",
    "BatchResult",
    "BatchSettings",
    "auto_workers",
    "merge_batches",
    "plan_batches",
    "process_batch",
    "process_safely",
    "run_batches",
]
