"""The annual rebuild as assets: submissions → parsed → validated → normalized → consolidated →
release candidate (blocking checks) → annual report → published release; beside them, from the
validation alone, the departments' feedback in the outbox (not part of the release).

Each asset calls one step of pipelines/rebuild.py (the one composition of the rebuild; `rebuild.run` calls
the same steps without Dagster) and adds what the UI shows: counts, previews, log lines.
"""

# No `from __future__ import annotations`: Dagster reads the parameters' annotations to bind resources.
import dagster as dg
import pandas as pd

from pipelines import rebuild
from pipelines.consolidate.build import Consolidation
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import (
    HANDOFF_IO_MANAGER,
    FinanceBureauResource,
    InboxResource,
    LibraryRepoResource,
)
from pipelines.intake.inbox import SubmissionFile, list_inbox
from pipelines.intake.parse_cache import ParseStats
from pipelines.intake.workbook import Workbook
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


# Handed to validation alone (validation keeps what the feedback shows): in the CLI's in-memory run the value
# is let go once validation has loaded it, so the parsed workbooks do not stay for the rest of the run.
@dg.asset(
    partitions_def=yearly_partitions,
    group_name="submissions",
    kinds={"xlsx"},
    io_manager_key=HANDOFF_IO_MANAGER,
)
def parsed_workbooks(
    context: dg.AssetExecutionContext,
    submission_files: list[SubmissionFile],
    library_repo: LibraryRepoResource,
) -> list[Workbook]:
    """Every workbook read with provenance; unchanged files (same sha256 and name) come from the parse cache."""
    parsed = rebuild.read(submission_files, library_repo.deployment().cache_dir)
    context.log.info(
        f"读取工作簿 {len(submission_files)} 个：新解析 {len(parsed.stats.parsed)} 个，"
        f"缓存 {len(parsed.stats.cached)} 个"
    )
    context.add_output_metadata(_parse_metadata(parsed.workbooks, parsed.stats))
    return parsed.workbooks


def _parse_metadata(workbooks: list[Workbook], stats: ParseStats) -> dict[str, object]:
    rows = sum(len(s.frame) for wb in workbooks for s in wb.sheets.values())
    return {
        "workbooks": len(workbooks),
        "unreadable": sum(not wb.readable for wb in workbooks),
        "rows": rows,
        "parsed": dg.MetadataValue.json(stats.parsed),
        "from_cache": dg.MetadataValue.json(stats.cached),
    }


@dg.asset(partitions_def=yearly_partitions, group_name="validation", kinds={"pandera"})
def validated_submissions(
    context: dg.AssetExecutionContext,
    parsed_workbooks: list[Workbook],
    library_repo: LibraryRepoResource,
    finance_bureau: FinanceBureauResource,
    inbox: InboxResource,
) -> ValidationResult:
    """CONTRACT §3: located findings and one outcome per row (library / noncore / excluded / rejected).
    Keeps what the feedback shows (layouts and cells), no whole workbook."""
    deployment = library_repo.deployment(finance_bureau.dept_code)
    previous = rebuild.load_previous(deployment, _year(context))
    result = rebuild.validate(parsed_workbooks, previous, deployment, _year(context))
    rebuild.record_validation(deployment, _year(context), inbox.folder_for(_year(context)), previous)
    counts = result.counts()
    context.log.info("校验完成：" + "，".join(f"{k}={v}" for k, v in counts.items()))
    severities = pd.Series([f.severity for f in result.findings], dtype=str).value_counts().to_dict()
    context.add_output_metadata(
        {
            **{f"rows_{k}": v for k, v in counts.items()},
            **{f"findings_{k}": int(v) for k, v in severities.items()},
            "files_set_aside": dg.MetadataValue.json([f.file for f in result.files if f.set_aside]),
            "rejected_preview": _preview(
                result.rows[result.rows["outcome"] == "rejected"],
                ["source_file", "source_sheet", "source_row", "name", "reasons"],
            ),
        }
    )
    return result


@dg.asset(partitions_def=yearly_partitions, group_name="validation", kinds={"xlsx"})
def department_feedback(
    context: dg.AssetExecutionContext,
    validated_submissions: ValidationResult,
    library_repo: LibraryRepoResource,
    finance_bureau: FinanceBureauResource,
) -> list[str]:
    """outbox/<Y>/: one feedback workbook per submitted file, where departments collect them (git-ignored,
    never part of a release). From the validation alone, so written whether or not the release is
    published; `indicators feedback --year Y` writes the same bytes again."""
    deployment = library_repo.deployment(finance_bureau.dept_code)
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
    parsed_workbooks,
    validated_submissions,
    department_feedback,
    normalized_rows,
    consolidated_library,
    release_candidate,
    annual_report,
    published_release,
]
