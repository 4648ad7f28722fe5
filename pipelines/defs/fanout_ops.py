"""The per-workbook work as Dagster ops: plan shards → process each shard (a dynamic output) → merge.

A shard is an executor-level unit: a list of the batches of pipelines.fanout, run by one step on its own
cores (run_batches). With the in-process executor there is one shard and the batches go to a local
process pool; with the multiprocess executor (or dagster-k8s, dagster-celery) the resource `fanout`
asks for K shards, each its own step — its own process, pod or worker. The batches are the same fixed
batches whatever K, and the merge puts them in batch order, so the result is byte-identical.

`validated_submissions` (assets.py) is the graph of these three ops; its value is the merged
ValidationResult, whose feedback workbooks are staged beside the outbox for `department_feedback`.
"""

# No `from __future__ import annotations`: Dagster reads the parameters' annotations to bind resources.
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from pipelines import rebuild
from pipelines.defs.resources import FanoutResource, FinanceBureauResource, InboxResource, LibraryRepoResource
from pipelines.fanout import Batch, BatchResult, BatchSettings, auto_workers, merge_batches, plan_batches
from pipelines.fanout import run_batches as run_batches_here
from pipelines.fanout.merge import batch_seconds, parse_stats
from pipelines.fanout.pool import start_forkserver, stop_forkserver
from pipelines.intake.inbox import SubmissionFile, submission_files
from pipelines.validate.runner import ValidationResult


@dataclass(frozen=True)
class Shard:
    index: int
    batches: tuple[Batch, ...]
    settings: BatchSettings
    workers: int  # processes for this shard's batches (0: automatic)
    bytes: int  # of its workbooks, for the automatic choice


@dataclass(frozen=True)
class ShardResult:
    settings: BatchSettings
    results: list[BatchResult]


def split(batches: Sequence[Batch], shards: int) -> list[tuple[Batch, ...]]:
    """The batches in at most `shards` consecutive groups of near-equal counts (at least one group)."""
    count = max(1, min(shards, len(batches)))
    size, extra = divmod(len(batches), count)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        groups.append(tuple(batches[start:end]))
        start = end
    return groups


@dg.op(out=dg.DynamicOut(Shard))
def plan_shards(
    context: dg.OpExecutionContext,
    submission_files: list[SubmissionFile],
    library_repo: LibraryRepoResource,
    finance_bureau: FinanceBureauResource,
    inbox: InboxResource,
    fanout: FanoutResource,
) -> Iterator[dg.DynamicOutput[Shard]]:
    """The year's settings (the last release's 库内编号, the actuals), the outbox's staging folder, the
    fixed batches of the inbox, cut into `fanout.shards` shards."""
    year = int(context.partition_key)
    total = sum(f.bytes for f in submission_files)
    if (fanout.workers or auto_workers(total, len(submission_files))) > 1 and _in_process(context):
        # The shard's pool runs in this process: its forkserver imports while the previous release is
        # loaded and the batches planned, not after (a step of a multiprocess executor would start its
        # own in its own process).
        start_forkserver()
    deployment = library_repo.deployment(finance_bureau.dept_code)
    previous = rebuild.load_previous(deployment, year)
    rebuild.record_validation(deployment, year, inbox.folder_for(year), previous)
    staged = rebuild.staging_outbox(deployment.outbox(year))
    settings = rebuild.batch_settings(deployment, year, previous.known_indicators(), outbox=staged)
    sizes = {f.path.name: f.bytes for f in submission_files}
    batches = plan_batches([f.path for f in submission_files])
    groups = split(batches, fanout.shards)
    context.log.info(f"工作簿 {len(submission_files)} 个，分 {len(batches)} 批、{len(groups)} 组处理")
    for i, group in enumerate(groups):
        nbytes = sum(sizes.get(p.name, 0) for b in group for p in b.paths)
        yield dg.DynamicOutput(Shard(i, group, settings, fanout.workers, nbytes), mapping_key=f"shard_{i}")


def start_pool_early(inbox: InboxResource, year: int, workers: int) -> None:
    """For a run whose steps share this process (the CLI's in-process run): the batch workers'
    forkserver started before Dagster builds and launches the job (≈ 1 s wall before plan_shards starts),
    not in plan_shards, so its imports (≈ 0.85 s CPU) are done when the pool starts. Only where the pool
    will run: `workers` (0: automatic, as plan_shards chooses) more than one."""
    if workers == 1:
        return
    folder = inbox.folder_for(year)
    paths = submission_files([folder]) if folder.is_dir() else []
    if (workers or auto_workers(sum(p.stat().st_size for p in paths), len(paths))) > 1:
        start_forkserver()


def _in_process(context: dg.OpExecutionContext) -> bool:
    """Whether the steps run in this process (the CLI's execute_in_process), not each in its own
    (multiprocess, k8s, celery: anything else is taken as not)."""
    name = context.job_def.executor_def.name
    return name in ("execute_in_process_executor", "in_process")


@dg.op
def process_shard(context: dg.OpExecutionContext, shard: Shard) -> ShardResult:
    """Each batch of the shard read, validated and answered (pipelines.fanout.run_batches)."""
    workers = shard.workers or auto_workers(shard.bytes, len(shard.batches))
    results = run_batches_here(shard.batches, shard.settings, workers)
    context.log.info(
        f"第 {shard.index + 1} 组：{sum(len(b) for b in shard.batches)} 个工作簿，{workers} 个进程"
    )
    return ShardResult(shard.settings, results)


@dg.op
def merge_shards(context: dg.OpExecutionContext, shards: list[ShardResult]) -> ValidationResult:
    """Every batch's result in batch order, F007 over all of them: the year's validation."""
    stop_forkserver()  # every batch is done: its imports need not live through the later steps
    results = [r for s in shards for r in s.results]
    settings = shards[0].settings
    result = merge_batches(results, settings)
    stats = parse_stats(results)
    counts = result.counts()
    context.log.info("校验完成：" + "，".join(f"{k}={v}" for k, v in counts.items()))
    severities = pd.Series([f.severity for f in result.findings], dtype=str).value_counts().to_dict()
    rejected = result.rows[result.rows["outcome"] == "rejected"] if len(result.rows) else result.rows
    shown = [c for c in ("source_file", "source_sheet", "source_row", "name", "reasons") if c in rejected]
    preview = rejected[shown].head(20)
    context.add_output_metadata(
        {
            **{f"rows_{k}": v for k, v in counts.items()},
            **{f"findings_{k}": int(v) for k, v in severities.items()},
            "files_set_aside": dg.MetadataValue.json([f.file for f in result.files if f.set_aside]),
            "parsed": dg.MetadataValue.json(stats.parsed),
            "from_cache": dg.MetadataValue.json(stats.cached),
            "seconds": dg.MetadataValue.json({k: round(v, 2) for k, v in batch_seconds(results).items()}),
            "rejected_preview": dg.MetadataValue.md(
                preview.to_markdown(index=False) if len(preview) else "（无）"
            ),
        }
    )
    return result
