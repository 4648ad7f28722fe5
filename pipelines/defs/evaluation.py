"""The self-evaluation in Dagster (SPEC §7, issue 14): two assets per year partition, blocking checks between
them, a job and a schedule the morning after the bureau's deadline (indicators.toml `self_eval_deadline`,
MM-DD of the year after the one evaluated).

    self_evaluation_scores   the year's workbooks in <repo>/self_evaluation/<Y>/ scored against the
                             published usages (pipelines.evaluate.run.evaluate_folder)
      checks                 evaluation_coverage, evaluation_points (pipelines.evaluate.release.CHECKS):
                             blocking, so nothing is published when one fails
    self_evaluation_release  the report (pipelines.report.self_evaluation) and the tables published,
                             committed and tagged vY-eval (pipelines.evaluate.release)

score_year and publish_year are the same two steps as plain functions: `indicators evaluate` calls them.
"""

# No `from __future__ import annotations`: Dagster reads the asset and check functions' annotations.
import datetime
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd

from pipelines.common.config import load_settings
from pipelines.common.errors import UsageError
from pipelines.defs.partitions import check_year, yearly_partitions
from pipelines.defs.resources import LibraryRepoResource
from pipelines.evaluate.release import CHECKS as CHECK_DESCRIPTIONS
from pipelines.evaluate.release import EvaluationRelease, blocking_checks, publish_evaluation
from pipelines.evaluate.run import evaluate_folder
from pipelines.evaluate.tables import EvaluationTables
from pipelines.report.self_evaluation import self_evaluation_reports
from pipelines.store.publish import LIBRARY_DIR, read_manifest
from pipelines.store.release import head_sha
from pipelines.store.shape import read_release_table

SUBMISSIONS_DIR = "self_evaluation"  # <repo>/self_evaluation/<Y>/*.xlsx for the scheduled run
GROUP = "self_evaluation"
MAX_SHOWN = 50
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=Warning
)


@dataclass
class ScoredYear:
    """One year's evaluation before publishing: the tables and the release usages they were scored from."""

    year: int
    usages: pd.DataFrame
    tables: EvaluationTables
    base_sha: str  # the commit the usages were read at: publishing refuses if the library moved on


def score_year(repo_root: Path, year: int, submissions: Path) -> ScoredYear:
    """Score the workbooks in `submissions` against the release of `repo_root` (UsageError when there is
    no release or no such folder)."""
    library = Path(repo_root) / LIBRARY_DIR
    if read_manifest(library) is None:
        raise UsageError(f"{repo_root} 中还没有发布的指标库：请先运行 indicators rebuild，或检查 --repo")
    if not Path(submissions).is_dir():
        raise UsageError(f"找不到自评表所在的文件夹：{submissions}")
    base_sha = head_sha(Path(repo_root))
    usages = read_release_table(library, "usages")
    of_year = usages[usages["year"] == year].reset_index(drop=True)
    if of_year.empty:
        raise UsageError(f"指标库中没有 {year} 年度的指标：请检查 --year")
    return ScoredYear(year, of_year, evaluate_folder(of_year, year, Path(submissions)), base_sha)


def publish_year(repo_root: Path, scored: ScoredYear, *, wait: float = 0.0) -> EvaluationRelease:
    """Write the report, publish the tables, commit and tag (pipelines.evaluate.release)."""
    reports = self_evaluation_reports(scored.tables, scored.year)
    return publish_evaluation(
        repo_root, scored.year, scored.tables, reports, scored.usages, wait=wait, base_sha=scored.base_sha
    )


# --- Dagster ------------------------------------------------------------------------------------------


@dg.asset(
    partitions_def=yearly_partitions,
    group_name=GROUP,
    description="绩效自评：<仓库>/self_evaluation/<年度>/ 中各部门的自评表按财政部规则评分",
)
def self_evaluation_scores(
    context: dg.AssetExecutionContext, library_repo: LibraryRepoResource
) -> ScoredYear:
    year = int(context.partition_key)
    scored = score_year(library_repo.root, year, library_repo.root / SUBMISSIONS_DIR / str(year))
    context.add_output_metadata(
        {
            "departments": len(scored.tables.departments),
            "submitted": int(scored.tables.departments["submitted"].sum()),
            "usages": len(scored.tables.usages),
            "findings": len(scored.tables.findings),
        }
    )
    return scored


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            name,
            asset=self_evaluation_scores,
            blocking=True,
            description=text,
            partitions_def=yearly_partitions,
        )
        for name, text in CHECK_DESCRIPTIONS.items()
    ],
    name="self_evaluation_checks",
)
def self_evaluation_checks(self_evaluation_scores: ScoredYear) -> Iterator[dg.AssetCheckResult]:
    scored = self_evaluation_scores
    for outcome in blocking_checks(scored.usages, scored.year, scored.tables):
        yield dg.AssetCheckResult(
            check_name=outcome.name,
            asset_key=dg.AssetKey("self_evaluation_scores"),
            passed=outcome.passed,
            metadata={
                "problems": dg.MetadataValue.json(outcome.problems[:MAX_SHOWN]),
                "problem_count": dg.MetadataValue.int(len(outcome.problems)),
            },
        )


@dg.asset(
    partitions_def=yearly_partitions,
    group_name=GROUP,
    description="发布自评结果：library/evaluations/<年度>/、reports/<年度>/self_evaluation.*，提交并打标签 v年度-eval",
)
def self_evaluation_release(
    context: dg.AssetExecutionContext, library_repo: LibraryRepoResource, self_evaluation_scores: ScoredYear
) -> EvaluationRelease:
    done = publish_year(library_repo.root, self_evaluation_scores)
    context.add_output_metadata(
        {"committed": done.committed, "tag": done.tag or "", "sha": done.sha, "files": list(done.files)}
    )
    return done


self_evaluation_job = dg.define_asset_job(
    "self_evaluation",
    selection=dg.AssetSelection.groups(GROUP),
    partitions_def=yearly_partitions,
    description="绩效自评：评分 → 阻断检查 → 报告、发布并打标签",
)


def deadline_cron(deadline: str) -> str:
    """06:00 on the day after `deadline` (MM-DD); UsageError for a date that does not exist."""
    try:
        month, day = (int(part) for part in deadline.strip().split("-"))
        after = datetime.date(2001, month, day) + datetime.timedelta(days=1)  # 2001: not a leap year
    except ValueError:
        raise UsageError(
            f"indicators.toml 的 self_eval_deadline “{deadline}” 不是“月-日”（如 03-31）"
        ) from None
    return f"0 6 {after.day} {after.month} *"


def evaluation_schedule(repo: object) -> dg.ScheduleDefinition:
    """The schedule for the repo's deadline (`repo` a path, or a dg.EnvVar read from the environment now:
    the cron is fixed when the code location loads)."""
    path = os.environ.get(repo.env_var_name, ".") if isinstance(repo, dg.EnvVar) else str(repo)
    cron = deadline_cron(load_settings(Path(path)).self_eval_deadline)

    @dg.schedule(
        job=self_evaluation_job,
        cron_schedule=cron,
        execution_timezone="Asia/Shanghai",
        name="self_evaluation_schedule",
    )
    def self_evaluation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        year = context.scheduled_execution_time.year - 1  # the deadline falls in the year after
        check_year(year)
        return dg.RunRequest(
            partition_key=str(year), run_key=f"self-eval-{year}", tags={"trigger": "schedule"}
        )

    return self_evaluation_schedule


EVALUATION_ASSETS = [self_evaluation_scores, self_evaluation_release]
EVALUATION_CHECKS = [self_evaluation_checks]
