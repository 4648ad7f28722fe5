"""The annual rebuild as assets: submissions → parsed → validated → normalized → consolidated →
release candidate (blocking checks) → annual report → published release. Each asset calls one step."""

from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.consolidate.build import Consolidation, consolidate, normalize_accepted
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import (
    FinanceBureauResource,
    InboxResource,
    LibraryRepoResource,
    upstream_release,
)
from pipelines.intake.parse_cache import ParseStats, file_sha256, read_submissions
from pipelines.intake.read import Workbook
from pipelines.normalize.canonical import MatchRules
from pipelines.report.build import ReportInputs, write_annual_report
from pipelines.store.release import StagedRelease, load_previous, publish_release, stage_release
from pipelines.validate.runner import ValidationResult

PREVIEW_ROWS = 20


def _year(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key)


def _preview(frame: pd.DataFrame, columns: list[str]) -> dg.MetadataValue:
    shown = frame[[c for c in columns if c in frame.columns]].head(PREVIEW_ROWS)
    return dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "（无）")


def _rules(repo: LibraryRepoResource) -> MatchRules:
    from pipelines.normalize.canonical import load_rules

    return load_rules(repo.rules_dir)


@dg.asset(partitions_def=yearly_partitions, group_name="submissions", kinds={"xlsx"})
def submission_files(context: dg.AssetExecutionContext, inbox: InboxResource) -> list[dict[str, object]]:
    """The workbooks departments put in the year's inbox, with their sha256 (the parse cache's key)."""
    folder = inbox.folder_for(_year(context))
    files = [
        {"path": str(p), "name": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in inbox.files_for(_year(context))
    ]
    context.log.info(f"收件箱 {folder}：{len(files)} 个文件")
    listing = pd.DataFrame(files, columns=["name", "bytes", "sha256"])
    context.add_output_metadata(
        {"files": len(files), "inbox": str(folder), "list": _preview(listing, ["name", "bytes", "sha256"])}
    )
    return files


@dg.asset(partitions_def=yearly_partitions, group_name="submissions", kinds={"xlsx"})
def parsed_workbooks(
    context: dg.AssetExecutionContext,
    submission_files: list[dict[str, object]],
    library_repo: LibraryRepoResource,
) -> list[Workbook]:
    """Every workbook read with provenance; unchanged files (same sha256 and name) come from the parse cache."""
    files = [Path(str(f["path"])) for f in submission_files]
    workbooks, stats = read_submissions(files, library_repo.cache_dir)
    context.log.info(
        f"读取工作簿 {len(files)} 个：新解析 {len(stats.parsed)} 个，缓存 {len(stats.cached)} 个"
    )
    context.add_output_metadata(_parse_metadata(workbooks, stats))
    return workbooks


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
) -> ValidationResult:
    """SPEC §3: located findings and one outcome per row (library / noncore / excluded / rejected)."""
    from pipelines.validate.runner import validate_workbooks

    previous = load_previous(library_repo.root, _year(context)).tables
    upstream, _ = upstream_release(library_repo)
    known = previous.indicators if previous is not None else None
    if upstream is not None:  # a county: rows may name the city's ids too
        known = pd.concat(
            [k for k in (known, upstream.assign(origin="上级")) if k is not None], ignore_index=True
        )
    result = validate_workbooks(
        parsed_workbooks,
        year=_year(context),
        finance_dept=finance_bureau.code(library_repo),
        indicators=known,
        rules_dir=library_repo.root / "rules",
    )
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


@dg.asset(partitions_def=yearly_partitions, group_name="library")
def normalized_rows(
    context: dg.AssetExecutionContext,
    validated_submissions: ValidationResult,
    library_repo: LibraryRepoResource,
) -> pd.DataFrame:
    """Rows bound for the library: 繁→简, widths, units out of names, synonyms applied, canonical keys."""
    frame = normalize_accepted(validated_submissions.rows, _rules(library_repo))
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
    prior = load_previous(library_repo.root, _year(context))
    upstream, upstream_tag = upstream_release(library_repo)
    pending = [f.dept_code for f in validated_submissions.files if f.set_aside and f.dept_code]
    result = consolidate(
        validated_submissions.rows,
        validated_submissions.departments,
        year=_year(context),
        previous=prior.tables,
        namespace=library_repo.settings().id_namespace,
        rules=_rules(library_repo),
        pending_departments=pending,
        normalized=normalized_rows,
        upstream=upstream,
        upstream_tag=upstream_tag,
    )
    result.base_sha, result.baseline, result.baseline_tag = prior.base_sha, prior.baseline, prior.baseline_tag
    changes = result.changes()
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
    staged = stage_release(
        library_repo.root,
        consolidated_library.tables,
        year=_year(context),
        accounting=validated_submissions.counts(),
        base_sha=consolidated_library.base_sha,
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
    parsed_workbooks: list[Workbook],
) -> list[str]:
    """reports/<Y>/: review, changelog, merge review, per-department feedback (staged with the release)."""
    inputs = ReportInputs(
        year=_year(context),
        changes=consolidated_library.changes(),
        validation=validated_submissions,
        workbooks=parsed_workbooks,
        candidates=consolidated_library.candidates,
        tables=consolidated_library.tables,
        previous=consolidated_library.previous,
        overlay=consolidated_library.overlay,
    )
    files = write_annual_report(release_candidate.reports_dir, inputs)
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
    changes = consolidated_library.changes()
    result = publish_release(release_candidate, changes)
    outcome = {
        "committed": result.committed,
        "sha": result.sha,
        "tag": result.tag or "",
        "rows": release_candidate.accounting,
    }
    context.log.info(
        f"发布：{'新提交 ' + (result.tag or '') if result.committed else '输入未变，未产生新提交'} {result.sha[:10]}"
    )
    context.add_output_metadata(
        {
            "committed": result.committed,
            "commit": result.sha,
            "tag": result.tag or "",
            "changes": changes.counts_zh(),
        }
    )
    return outcome


ASSETS = [
    submission_files,
    parsed_workbooks,
    validated_submissions,
    normalized_rows,
    consolidated_library,
    release_candidate,
    annual_report,
    published_release,
]
