"""Run the annual_rebuild job: what `indicators rebuild` and `indicators demo` call.

The CLI does not have a second code path: it materialises the same assets, with the same checks, as
`dagster dev` and the schedule do — only the resources point at the command's arguments. Two executors:
in-process (the default: one step at a time, the per-workbook batches on a local process pool, values
handed over in memory) and Dagster's multiprocess executor (each step its own process, the batches in
shards that run side by side, values through the filesystem IO manager) — the layout a cluster's
executor (dagster-k8s, dagster-celery) uses. Both give the same bytes; docs/ARCHITECTURE.md has the
figures that chose the default.

One writer at a time: the whole run, from reading the base release to the tag, holds the repo's rebuild
lock (the steps join it). A repo with manual edits in library/ or reports/ is refused before Dagster
starts. With `log_file`, Dagster's own log (INFO and above, with any stack trace) goes to that file
instead of the screen.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, cast

import dagster as dg

from pipelines.common import errors
from pipelines.common.config import load_settings
from pipelines.common.gc_policy import rebuild_gc, tune_process
from pipelines.defs.definitions import make_definitions
from pipelines.defs.fanout_ops import start_pool_early
from pipelines.defs.instance import rebuild_instance
from pipelines.defs.jobs import REBUILD_ASSETS
from pipelines.defs.partitions import check_year
from pipelines.defs.resources import InboxResource
from pipelines.store import lock, publish
from pipelines.store.lock import rebuild_lock
from pipelines.store.repo import ensure_clean, latest_release_tag, open_repo

DRY_RUN_SKIPS = ("published_release",)
# The assets _outcome reads after an in-process run: their values stay; the others go after their last reader.
OUTCOME_ASSETS = (
    "validated_submissions",
    "department_feedback",
    "consolidated_library",
    "release_candidate",
    "published_release",
)
# Written into a dagster.yaml this product creates: a finance bureau's deployment sends nothing out, and
# Dagster's first-run banner would otherwise be the last thing `indicators rebuild` prints.
DAGSTER_YAML = (
    "# 指标库重建用的 Dagster 实例（运行记录在本文件夹，git 忽略）\ntelemetry:\n  enabled: false\n"
    "# 进度（各步骤已处理的工作簿数、用时）写入运行日志\n"
    "python_logs:\n  managed_python_loggers:\n    - indicators.progress\n"
)
EXECUTORS = ("auto", "in_process", "multiprocess")
MULTIPROCESS_SHARDS = 2  # shards of batches for the multiprocess executor: one step per core here
# The step processes of a multiprocess run join the run's rebuild lock through this variable.
LOCK_TOKEN_ENV = "INDICATORS_RUN_LOCK_TOKEN"


@dataclass(frozen=True)
class StepError:
    """A failed step as Dagster reports it: its exception's class and message, then its causes'."""

    step: str
    cls_name: str
    message: str
    causes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RebuildOutcome:
    year: int
    success: bool
    dry_run: bool
    accounting: dict[str, int] = field(default_factory=dict)
    published: dict[str, object] = field(default_factory=dict)  # committed, sha, tag
    failed_checks: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    step_errors: list[StepError] = field(default_factory=list)
    changes_zh: str = ""
    reports_dir: Path | None = None
    run_id: str = ""
    feedback: list[Path] = field(default_factory=list)  # the outbox's workbooks, written this run


def instance_for(repo: Path) -> dg.DagsterInstance:
    """A persistent instance in the deployment repo (git-ignored) so run history survives, unless the
    operator has pointed DAGSTER_HOME elsewhere; Dagster's SQLite storage written with fewer disk
    flushes (pipelines/defs/instance.py) unless its dagster.yaml names a storage."""
    if not os.environ.get("DAGSTER_HOME"):
        home = Path(repo).resolve() / ".dagster_home"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"  # else defaults: SQLite run and event storage in this folder
        if not config.is_file() or config.stat().st_size == 0:
            config.write_text(DAGSTER_YAML, encoding="utf-8")
        os.environ["DAGSTER_HOME"] = str(home)
    return rebuild_instance(Path(os.environ["DAGSTER_HOME"]))


def run_rebuild(
    year: int,
    submissions: Path,
    repo: Path,
    *,
    finance_dept: str | None = None,
    dry_run: bool = False,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
    progress: Callable[[str], None] | None = None,
    wait: float = 0.0,
    log_file: TextIO | None = None,
    on_event: Callable[[Any], None] | None = None,
    workers: int | None = None,
    executor: str = "auto",
) -> RebuildOutcome:
    """One rebuild of `year`. Raises UsageError (year outside the partitions), LockBusyError (another
    run holds the repo; waits up to `wait` seconds first), RepoDirtyError (manual edits), OSError (the
    repo cannot be written) before Dagster starts; step failures are collected in the outcome.
    on_event: a listener of the run's events (the CLI's progress; in-process runs). workers: processes
    for the per-workbook work (None: automatic). executor: "auto" (= in_process), "in_process" or
    "multiprocess"."""
    check_year(year)
    if executor not in EXECUTORS:
        raise errors.UsageError(f"未知的执行方式：{executor}（可选 {'、'.join(EXECUTORS)}）")
    repo = Path(repo).resolve()
    repo.mkdir(parents=True, exist_ok=True)
    with rebuild_lock(repo, wait=wait) as lock_path:
        git_repo = open_repo(repo)
        publish.recover_interrupted(repo)
        ensure_clean(git_repo)  # refused here, in one Chinese message, not inside a Dagster step
        load_settings(repo)  # likewise an unreadable indicators.toml (the steps read it again)
        level = "INFO" if log_file is not None else log_level
        to_log = contextlib.redirect_stderr(log_file) if log_file is not None else contextlib.nullcontext()
        head_before = git_repo.head.commit.hexsha if git_repo.head.is_valid() else ""
        dagster_instance = instance or instance_for(repo)
        run_config = {"loggers": {"console": {"config": {"log_level": level}}}}
        with to_log, rebuild_gc():  # the collector's settings for the run: pipelines/common/gc_policy.py
            try:
                job = _Job(
                    year, submissions, repo, finance_dept, dry_run, workers, dagster_instance, run_config
                )
                outcome = _execute(job, executor, lock_path, on_event)
            except Exception as exc:
                _published_anyway(git_repo, head_before, exc)
                raise
            finally:
                if instance is None:  # ours: its databases closed (the run log checkpointed) now
                    dagster_instance.dispose()
    if progress:
        progress(f"运行编号 {outcome.run_id}")
    return outcome


@dataclass(frozen=True)
class _Job:
    """One rebuild run's arguments, as the executors take them."""

    year: int
    submissions: Path
    repo: Path
    finance_dept: str | None
    dry_run: bool
    workers: int | None
    instance: dg.DagsterInstance
    run_config: dict[str, Any]


def _execute(
    job: _Job, executor: str, lock_path: Path, on_event: Callable[[Any], None] | None
) -> RebuildOutcome:
    """The run on the chosen executor ("auto" is in-process), and what it did."""
    if executor == "multiprocess":
        with _multiprocess(job, lock_path) as result:
            stored = Path(job.instance.storage_directory())
            return _outcome(result, job.year, job.dry_run, job.repo, stored)
    result = _in_process(job, on_event)
    return _outcome(result, job.year, job.dry_run, job.repo)


def _in_process(job: _Job, on_event: Callable[[Any], None] | None) -> dg.ExecuteInProcessResult:
    """The job in this process, one step at a time; the batches on a local pool of `job.workers`."""
    inbox_path = str(Path(job.submissions).resolve()) if job.submissions else ""
    start_pool_early(InboxResource(path=inbox_path, repo=str(job.repo)), job.year, job.workers or 0)
    defs = make_definitions(
        job.repo,
        job.submissions,
        job.finance_dept,
        in_memory=True,
        workers=job.workers or 0,
        keep=OUTCOME_ASSETS,
    )
    run_id = str(uuid.uuid4())
    if on_event is not None:
        job.instance.add_event_listener(run_id, on_event)
    return defs.resolve_job_def("annual_rebuild").execute_in_process(
        partition_key=str(job.year),
        instance=job.instance,
        run_id=run_id,
        raise_on_error=False,
        asset_selection=_selection(defs, job.dry_run),
        run_config=job.run_config,
    )


@contextlib.contextmanager
def _multiprocess(job: _Job, lock_path: Path) -> Iterator[Any]:
    """The job on Dagster's multiprocess executor: every step a process (the shards side by side), values
    through the filesystem IO manager. The step processes rebuild the job from rebuild_job's arguments
    and join this run's lock (LOCK_TOKEN_ENV)."""
    args = (
        str(job.repo),
        str(Path(job.submissions).resolve()),
        job.finance_dept or "",
        MULTIPROCESS_SHARDS,
        job.workers or 1,
    )
    reconstructable = dg.build_reconstructable_job(
        "pipelines.defs.run", "rebuild_job", reconstructable_args=cast(tuple[object], args)
    )
    defs = make_definitions(job.repo, job.submissions, job.finance_dept)
    config = {
        **job.run_config,
        "execution": {"config": {"multiprocess": {"max_concurrent": MULTIPROCESS_SHARDS}}},
    }
    previous = os.environ.get(LOCK_TOKEN_ENV)
    os.environ[LOCK_TOKEN_ENV] = str(json.loads(lock_path.read_text(encoding="utf-8"))["token"])
    try:
        with dg.execute_job(
            reconstructable,
            instance=job.instance,
            run_config=config,
            tags={"dagster/partition": str(job.year)},
            asset_selection=_selection(defs, job.dry_run),
            raise_on_error=False,
        ) as result:
            yield result
    finally:
        if previous is None:
            os.environ.pop(LOCK_TOKEN_ENV, None)
        else:
            os.environ[LOCK_TOKEN_ENV] = previous


def rebuild_job(
    repo: str, submissions: str, finance_dept: str, shards: int, workers: int
) -> dg.JobDefinition:
    """The annual_rebuild job as a multiprocess run's step processes rebuild it (build_reconstructable_job):
    filesystem IO manager, `shards` shards of batches on `workers` processes each."""
    adopt_run_lock(Path(repo))
    if os.environ.get(LOCK_TOKEN_ENV):  # a step process: the run's collector settings
        tune_process()
    defs = make_definitions(repo, submissions, finance_dept or None, shards=shards, workers=workers)
    return defs.resolve_job_def("annual_rebuild")


def adopt_run_lock(repo: Path) -> None:
    """In a step process of a multiprocess run: the run's rebuild lock (held by the process that started
    the run, named by LOCK_TOKEN_ENV) counts as held here, so the steps join it as in-process steps do.
    Anything else — no token, another run's lock — changes nothing: the steps take the lock themselves."""
    token = os.environ.get(LOCK_TOKEN_ENV)
    if token:
        lock.join_held_lock(Path(repo), token)


def _selection(defs: dg.Definitions, dry_run: bool) -> list[dg.AssetKey] | None:
    """Every asset, or for a dry run every asset but the publishing one."""
    if not dry_run:
        return None
    graph = defs.resolve_asset_graph()
    rebuild_assets = REBUILD_ASSETS.resolve(graph)  # the job's own assets, not the self-evaluation's
    return sorted(
        (k for k in rebuild_assets if k.to_user_string() not in DRY_RUN_SKIPS),
        key=lambda k: k.to_user_string(),
    )


def _outcome(result: Any, year: int, dry_run: bool, repo: Path, stored: Path | None = None) -> RebuildOutcome:
    """What the run did, from its events and its assets' values (in memory, or for a multiprocess run
    as the filesystem IO manager stored them under `stored`)."""
    outcome = RebuildOutcome(year=year, success=result.success, dry_run=dry_run, run_id=result.run_id)
    _collect_failures(result, outcome)
    validation = _output(result, "validated_submissions", stored, year)
    if validation is not None:
        outcome.accounting = validation.counts()
    outbox = _output(result, "department_feedback", stored, year)
    if outbox is not None:
        outcome.feedback = [Path(p) for p in outbox]
    consolidation = _output(result, "consolidated_library", stored, year)
    if consolidation is not None:
        outcome.changes_zh = consolidation.changes().counts_zh()
    if dry_run:
        staged = _output(result, "release_candidate", stored, year)
        outcome.reports_dir = staged.reports_dir if staged is not None else None
    else:
        outcome.published = _output(result, "published_release", stored, year) or {}
        outcome.success = outcome.success and bool(outcome.published)
        outcome.reports_dir = repo / "reports" / str(year)
    return outcome


def _collect_failures(result: dg.ExecuteInProcessResult, outcome: RebuildOutcome) -> None:
    """Failed steps (with their root cause) and failed blocking checks (with their metadata)."""
    for event in result.all_events:
        if not (event.is_step_failure and event.step_failure_data and event.step_failure_data.error):
            continue
        top = error = event.step_failure_data.error
        causes = []
        while error.cause is not None:  # Dagster wraps the step's own exception: show the root cause
            error = error.cause
            causes.append((error.cls_name or "", error.message.strip()))
        if error.cls_name != "DagsterAssetCheckFailedError":  # reported below, with its metadata
            outcome.errors.append(f"{event.step_key}: {error.message.strip()}")
            outcome.step_errors.append(
                StepError(str(event.step_key), top.cls_name or "", top.message.strip(), causes)
            )
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            meta = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
            outcome.failed_checks.append((evaluation.check_name, meta))
    if outcome.failed_checks:
        outcome.success = False


class PublishedButUnrecordedError(RuntimeError):
    """The release was committed and tagged, then Dagster could not record the run (e.g. a full disk)."""


def _published_anyway(git_repo: Any, head_before: str, exc: Exception) -> None:
    """Dagster failed outside a step (its run storage). The whole run held the repo's lock, so a commit
    made since head_before is this run's: say it was published instead of "nothing changed"."""
    try:
        head = git_repo.head.commit.hexsha if git_repo.head.is_valid() else ""
        last = latest_release_tag(git_repo)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        return
    if not head or head == head_before or last is None or last.sha != head:
        return
    verdict = errors.classify(exc)
    reason = verdict.message if verdict else f"{type(exc).__name__}"
    raise PublishedButUnrecordedError(
        f"新版本已发布：{last.tag}（提交 {head[:10]}）。但随后 Dagster 无法写入本次运行的记录：{reason}".replace(
            "已发布的指标库保持不变。", ""
        )
        + "（指标库与标签已完整提交，重新运行同样的输入不会产生新提交）"
    ) from exc


def _materialized(result: Any) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key}


def _output(result: Any, node: str, stored: Path | None = None, year: int = 0) -> Any:
    """An asset's value, or None when the run stopped before it (a failed step or a blocking check).
    A multiprocess run's result cannot load a partitioned asset's value (it looks under the run's step
    outputs): it is read where the filesystem IO manager wrote it, <storage>/<asset>/<partition>."""
    try:
        return result.output_for_node(node)
    except Exception:
        path = stored / node / str(year) if stored is not None else None
        if path is None or not path.is_file() or node not in _materialized(result):
            return None  # not this run's value: an earlier run's, left in the storage
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - written by this run's own steps, in the deployment's instance
