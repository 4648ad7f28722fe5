"""The annual rebuild as assets: submissions → validated (read, validated and answered per workbook, a
graph fanned out over shards of batches: fanout_ops.py) → normalized → consolidated → release candidate
(blocking checks) → annual report → published release; beside them, from the validation alone, the
departments' feedback in the outbox (not part of the release).

Each asset calls one step of pipelines/rebuild.py (the one composition of the rebuild; `rebuild.run` calls
the same steps without Dagster) and adds what the UI shows: counts, previews, log lines.
"""

# No `from __future__ import annotations`: Dagster reads the parameters' annotations to bind resources.
import dagster as dg
import pandas as pd

from pipelines import rebuild
from pipelines.consolidate.build import Consolidation
from pipelines.defs.fanout_ops import merge_shards, plan_shards, process_shard
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import FinanceBureauResource, InboxResource, LibraryRepoResource
from pipelines.intake.inbox import SubmissionFile, list_inbox
from pipelines.store.release import StagedRelease
from pipelines.validate.runner import ValidationResult

PREVIEW_ROWS = 20


def _year(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key)


def _preview(frame: pd.DataFrame, columns: list[str]) -> dg.MetadataValue:
    shown = frame[[c for c in columns if c in frame.columns]].head(PREVIEW_ROWS)
    return dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "（无）")


@dg.asset(partitions_def=yearly_partitions, group_name="submissions", kinds={"xlsx"})
def submission_files(context: dg.AssetExecutionContext, inbox: InboxResource) -> list[SubmissionFile]:
    """The workbooks departments put in the year's inbox, with their sha256 (the parse cache's key)."""
    folder = inbox.folder_for(_year(context))
    files = list_inbox(folder)
    context.log.info(f"收件箱 {folder}：{len(files)} 个文件")
    listing = pd.DataFrame([(f.name, f.bytes, f.sha256) for f in files], columns=["name", "bytes", "sha256"])
    context.add_output_metadata(
        {"files": len(files), "inbox": str(folder), "list": _preview(listing, ["name", "bytes", "sha256"])}
    )
    return files


@dg.graph_asset(partitions_def=yearly_partitions, group_name="validation", kinds={"pandera"})
def validated_submissions(submission_files: list[SubmissionFile]) -> ValidationResult:
    """CONTRACT §3: every workbook read (parse cache: only changed files are parsed), validated —
    located findings and one outcome per row (library / noncore / excluded / rejected) — and answered
    (its feedback workbook staged for the outbox), in fixed batches: planned, mapped over shards (one
    executor step each, its batches on its own cores), merged. No workbook is kept."""
    shards = plan_shards(submission_files)
    return merge_shards(shards.map(process_shard).collect())


@dg.asset(partitions_def=yearly_partitions, group_name="validation", kinds={"xlsx"})
def department_feedback(
    context: dg.AssetExecutionContext,
    validated_submissions: ValidationResult,
    library_repo: LibraryRepoResource,
    finance_bureau: FinanceBureauResource,
) -> list[str]:
    """outbox/<Y>/: one feedback workbook per submitted file, where departments collect them (git-ignored,
    never part of a release). Written with the validation (staged beside the outbox), swapped in here
    whether or not the release is published; `indicators feedback --year Y` writes the same bytes again
    (and runs here when the staged folder is gone: this asset materialized on its own)."""
    deployment = library_repo.deployment(finance_bureau.dept_code)
    staged = validated_submissions.feedback_staged
    if staged is not None and not staged.is_dir():
        files = rebuild.regenerate_feedback(deployment.root, _year(context)).files
    else:
        files = rebuild.feedback(deployment, validated_submissions, _year(context))
    folder = deployment.outbox(_year(context))
    context.log.info(f"反馈工作簿 {len(files)} 个：{folder}")
    context.add_output_metadata(
        {"files": len(files), "folder": str(folder), "list": dg.MetadataValue.json([p.name for p in files])}
    )
    return [str(p) for p in files]


@dg.asset(partitions_def=yearly_partitions, group_name="library")
def normalized_rows(
    context: dg.AssetExecutionContext,
    validated_submissions: ValidationResult,
    library_repo: LibraryRepoResource,
) -> pd.DataFrame:
    """Rows bound for the library: 繁→简, widths, units out of names, synonyms applied, canonical keys."""
    frame = rebuild.normalize(validated_submissions, library_repo.deployment().rules())
    context.add_output_metadata(
        {"rows": len(frame), "distinct_keys": int(frame["key"].nunique()) if len(frame) else 0}
    )
    return frame


@dg.asset(partitions_def=yearly_partitions, group_name="library")
def consolidated_library(
    context: dg.AssetExecutionContext,
    validated_submissions: ValidationResult,
    normalized_rows: pd.DataFrame,
    library_repo: LibraryRepoResource,
) -> Consolidation:
    """Match to the last release, merge certain duplicates, apply change requests, issue ids, retire."""
    deployment = library_repo.deployment()
    previous = rebuild.load_previous(deployment, _year(context))
    result = rebuild.consolidate(
        validated_submissions, normalized_rows, previous, deployment, _year(context), deployment.rules()
    )
    changes = rebuild.changes(result)
    context.log.info("合并完成：" + changes.counts_zh())
    context.add_output_metadata(
        {
            **{f"changes_{k}": v for k, v in changes.counts().items()},
            "indicators_active": int((result.tables.indicators["status"] == "active").sum()),
            "merge_candidates": len(result.candidates),
            "preview": _preview(
                result.tables.indicators, ["indicator_id", "scope", "level2", "name", "unit", "status"]
            ),
        }
    )
    return result


@dg.asset(partitions_def=yearly_partitions, group_name="release")
def release_candidate(
    context: dg.AssetExecutionContext,
    consolidated_library: Consolidation,
    validated_submissions: ValidationResult,
    library_repo: LibraryRepoResource,
) -> StagedRelease:
    """The new release written to a staging folder; the blocking checks read it before anything is published."""
    staged = rebuild.stage(
        library_repo.deployment(), consolidated_library, validated_submissions, _year(context)
    )
    context.add_output_metadata(
        {"files": len(staged.manifest["files"]), "rows": dg.MetadataValue.json(staged.manifest["rows"])}
    )
    return staged


@dg.asset(partitions_def=yearly_partitions, group_name="release", kinds={"html", "xlsx"})
def annual_report(
    context: dg.AssetExecutionContext,
    release_candidate: StagedRelease,
    consolidated_library: Consolidation,
    validated_submissions: ValidationResult,
) -> list[str]:
    """reports/<Y>/: review, changelog, merge review (staged with the release; the feedback is not)."""
    files = rebuild.report(
        release_candidate,
        consolidated_library,
        rebuild.changes(consolidated_library),
        validated_submissions,
        _year(context),
    )
    context.add_output_metadata(
        {
            "files": dg.MetadataValue.json(sorted(p.name for p in files)),
            "folder": str(release_candidate.reports_dir),
        }
    )
    return [str(p) for p in files]


@dg.asset(partitions_def=yearly_partitions, group_name="release", kinds={"git"})
def published_release(
    context: dg.AssetExecutionContext,
    release_candidate: StagedRelease,
    annual_report: list[str],
    consolidated_library: Consolidation,
) -> dict[str, object]:
    """Swap the checked release in, commit library/ and reports/, tag vY — no commit when nothing changed."""
    changes = rebuild.changes(consolidated_library)
    result = rebuild.publish(release_candidate, changes)
    tag = result.tag or ""
    context.log.info(
        f"发布：{'新提交 ' + tag if result.committed else '输入未变，未产生新提交'} {result.sha[:10]}"
    )
    context.add_output_metadata(
        {"committed": result.committed, "commit": result.sha, "tag": tag, "changes": changes.counts_zh()}
    )
    return {
        "committed": result.committed,
        "sha": result.sha,
        "tag": tag,
        "rows": release_candidate.accounting,
    }


ASSETS = [
    submission_files,
    validated_submissions,
    department_feedback,
    normalized_rows,
    consolidated_library,
    release_candidate,
    annual_report,
    published_release,
]
