"""The annual rebuild, one plain composition of its steps (docs/ARCHITECTURE.md draws the journey).

    list_inbox → load_previous → read_validate_feedback (per workbook, in batches, in parallel)
    → feedback (the outbox swapped in, beside the release) → normalize → consolidate → changes → stage
    → check (the blocking checks) → report → publish

Each step is a typed function of the previous steps' outputs. Reading, validating and answering each
workbook is one fan-out (pipelines.fanout: fixed batches of the sorted inbox in worker processes, merged
into one ValidationResult; byte-identical whatever the number of workers). The feedback workbooks go to the deployment's
outbox (git-ignored, never part of a release): they depend on validation only, so they are written
whether or not the release is published (a department needs them most when its rows are rejected), and
`regenerate_feedback` (`indicators feedback`) writes the same bytes again from the inbox. The Dagster assets (pipelines/defs/assets.py)
wrap these same functions one asset each and add metadata; the blocking checks there and `check` here run
the one verification of pipelines/store/verify.py; `run` calls every step in order for any caller without
Dagster (the benchmarks). Nothing here reads the environment: the deployment is passed in.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import pandas as pd

from pipelines.common.config import Settings, load_settings
from pipelines.common.errors import UsageError
from pipelines.common.frames import give_back_memory
from pipelines.consolidate import build as consolidation
from pipelines.consolidate.build import Consolidation
from pipelines.consolidate.changes import ChangeSet
from pipelines.consolidate.review_pairs import reported
from pipelines.county.upstream import upstream_indicators, upstream_state
from pipelines.fanout import BatchSettings, auto_workers, merge_batches, plan_batches, run_batches
from pipelines.fanout.merge import batch_seconds, parse_stats
from pipelines.intake.inbox import SubmissionFile, list_inbox
from pipelines.intake.parse_cache import ParseStats, read_submissions
from pipelines.intake.workbook import Workbook
from pipelines.normalize.canonical import MatchRules, load_rules
from pipelines.report.build import write_annual_report, write_outbox
from pipelines.report.model import ReportInputs
from pipelines.store import release, verify
from pipelines.store.evaluations import last_actuals, published_actuals
from pipelines.store.lock import rebuild_lock
from pipelines.store.publish import LIBRARY_DIR, MANIFEST
from pipelines.store.query.git_read import indicators_at
from pipelines.store.release import PreviousRelease, StagedRelease
from pipelines.store.repo import OUTBOX_DIR, CommitResult, open_repo
from pipelines.store.verify import CheckResult
from pipelines.validate.runner import ValidationResult, validate_workbooks

T = TypeVar("T")
REFERENCE_SUBDIR = "reference"  # rules/reference/ in a deployment repo
UPSTREAM_ORIGIN = "上级"  # origin of a county's rows that name the city's indicators


class UpstreamError(RuntimeError):
    """A county repo's pulled city release is missing or not the one indicators.toml asks for."""


class ChecksFailedError(RuntimeError):
    """A blocking check failed: nothing was published (run() only; Dagster reports the checks itself)."""

    def __init__(self, failed: list[CheckResult]):
        self.failed = failed
        shown = "；".join(f"{c.name}：{'，'.join(c.problems[:3])}" for c in failed)
        super().__init__(f"新版本未通过阻断检查，未发布，已发布的指标库保持不变：{shown}")


@dataclass(frozen=True)
class Deployment:
    """The bureau's deployment repo and its settings (indicators.toml), with the command's overrides."""

    root: Path
    settings: Settings
    finance_dept: str | None  # the bureau's 部门编码: only its workbook may carry 共性指标

    @classmethod
    def open(cls, root: Path | str, finance_dept: str | None = None) -> Deployment:
        root = Path(root).resolve()
        settings = load_settings(root)
        return cls(root, settings, finance_dept or settings.finance_dept)

    @property
    def cache_dir(self) -> Path:
        return self.root / ".indicators-cache" / "parsed"

    @property
    def rules_dir(self) -> Path:
        return self.root / "rules"

    def outbox(self, year: int) -> Path:
        """outbox/<Y>/: the year's feedback workbooks, where departments collect them (git-ignored)."""
        return self.root / OUTBOX_DIR / str(year)

    def record_path(self, year: int) -> Path:
        """What the year's last validation used (record_validation), for `indicators feedback`."""
        return self.root / ".indicators-cache" / "validated" / f"{year}.json"

    def default_inbox(self, year: int) -> Path:
        """<repo>/<inbox of indicators.toml>/<Y>/, or the inbox itself when it has no year folders."""
        inbox = self.root / self.settings.inbox
        return inbox / str(year) if (inbox / str(year)).is_dir() else inbox

    @property
    def reference_dir(self) -> Path | None:
        """rules/reference/: the bureau's own edition of any schemas/reference file (framework, vocabularies,
        limits …); the files it holds replace the shipped ones for the rules, the others stay shipped."""
        own = self.rules_dir / REFERENCE_SUBDIR
        return own if own.is_dir() else None

    def rules(self) -> MatchRules:
        return load_rules(self.rules_dir)


@dataclass(frozen=True)
class Parsed:
    workbooks: list[Workbook]
    stats: ParseStats  # which files were parsed this time, which came from the parse cache


@dataclass(frozen=True)
class Previous:
    """What the year is built on: the last releases (see PreviousRelease) and, for a county, the city's."""

    release: PreviousRelease
    upstream: pd.DataFrame | None = None  # the pulled city release's indicators
    upstream_tag: str = ""

    def known_indicators(self) -> pd.DataFrame | None:
        """The ids a row may name: the last release's, and for a county the city's too."""
        tables = self.release.tables
        return known_indicators(tables.indicators if tables is not None else None, self.upstream)


def known_indicators(released: pd.DataFrame | None, upstream: pd.DataFrame | None) -> pd.DataFrame | None:
    """The indicators a row may name: a release's, and for a county its city's (marked 上级) too."""
    if upstream is None:
        return released
    marked = upstream.assign(origin=UPSTREAM_ORIGIN)
    return pd.concat([k for k in (released, marked) if k is not None], ignore_index=True)


# --- the steps, in order --------------------------------------------------------------------------------


def read(files: Sequence[SubmissionFile], cache_dir: Path | None) -> Parsed:
    """Every workbook read with provenance; unchanged files (same sha256 and name) from the parse cache."""
    workbooks, stats = read_submissions([f.path for f in files], cache_dir)
    return Parsed(workbooks, stats)


def load_previous(deployment: Deployment, year: int) -> Previous:
    """The releases the year builds on; refuses manual edits; a county's pulled city release."""
    previous = release.load_previous(deployment.root, year)
    upstream, tag = upstream_release(deployment)
    return Previous(previous, upstream, tag)


def upstream_release(deployment: Deployment) -> tuple[pd.DataFrame | None, str]:
    """A county repo (indicators.toml names an upstream): the pulled city release's indicators and tag."""
    settings = deployment.settings
    if not settings.upstream:
        return None, ""
    into = deployment.root / settings.upstream_dir
    state = upstream_state(into) or {}
    tag = str(state.get("tag", ""))
    if settings.upstream_ref and tag != settings.upstream_ref:
        raise UpstreamError(
            f"indicators.toml 要求上级版本 {settings.upstream_ref}，本地副本是 {tag or '（无）'}："
            f"请先运行 indicators pull {settings.upstream} --ref {settings.upstream_ref} --into {into}"
        )
    return upstream_indicators(into), tag


def validate(
    workbooks: Sequence[Workbook], previous: Previous, deployment: Deployment, year: int
) -> ValidationResult:
    """CONTRACT §3: located findings and one outcome per row (library / noncore / excluded / rejected).
    The result keeps what the feedback shows (layouts and cells), no whole workbook."""
    return validate_workbooks(
        workbooks,
        year=year,
        finance_dept=deployment.finance_dept,
        indicators=previous.known_indicators(),
        rules_dir=deployment.rules_dir,
        reference_dir=deployment.reference_dir,
        actuals=last_actuals(deployment.root / LIBRARY_DIR, year),
    )


@dataclass(frozen=True)
class PerWorkbook:
    """The fan-out's outcome: the validation (its feedback staged beside the outbox), what was parsed or
    taken from the parse cache, and the batches' own seconds reading, validating, writing feedback."""

    validation: ValidationResult
    stats: ParseStats
    seconds: dict[str, float]
    workers: int


def staging_outbox(folder: Path) -> Path:
    """An empty folder beside `folder` (outbox/<Y>/) for this run's feedback workbooks, swapped in whole
    by write_outbox; folders left by an interrupted run are removed (the rebuild lock is held)."""
    folder = Path(folder)
    for stale in folder.parent.glob(f".{folder.name}.new.*") if folder.parent.is_dir() else []:
        shutil.rmtree(stale, ignore_errors=True)
    staged = folder.with_name(f".{folder.name}.new.{os.getpid()}")
    staged.mkdir(parents=True)
    return staged


def batch_settings(
    deployment: Deployment,
    year: int,
    indicators: pd.DataFrame | None,
    *,
    outbox: Path | None,
    parse_cache: bool = True,
) -> BatchSettings:
    """What every batch of the year is validated with (as validate() does) and where its feedback goes."""
    return BatchSettings(
        year=year,
        finance_dept=deployment.finance_dept,
        indicators=indicators,
        rules_dir=deployment.rules_dir,
        reference_dir=deployment.reference_dir,
        actuals=last_actuals(deployment.root / LIBRARY_DIR, year),
        cache_dir=deployment.cache_dir if parse_cache else None,
        outbox=outbox,
    )


def read_validate_feedback(
    files: Sequence[SubmissionFile], settings: BatchSettings, workers: int | None = None
) -> PerWorkbook:
    """Every workbook read, validated and answered, in fixed batches (pipelines.fanout) on `workers`
    processes (None: auto_workers); the same result and bytes whatever the number of workers."""
    batches = plan_batches([f.path for f in files])
    count = workers if workers else auto_workers(sum(f.bytes for f in files), len(batches))
    results = run_batches(batches, settings, count)
    stats, seconds = parse_stats(results), batch_seconds(results)
    return PerWorkbook(merge_batches(results, settings), stats, seconds, count)


def record_validation(deployment: Deployment, year: int, inbox: Path, previous: Previous) -> Path:
    """What the year was validated with — the inbox folder, the finance department's code, the commit
    whose library the 库内编号 were checked against — so `indicators feedback` can validate the same way
    later, after the release has moved on. A local file beside the parse cache (git-ignored)."""
    record = {
        "inbox": str(Path(inbox).resolve()),
        "finance_dept": deployment.finance_dept or "",
        "base_sha": previous.release.base_sha,
    }
    path = deployment.record_path(year)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def feedback(deployment: Deployment, validation: ValidationResult, year: int) -> list[Path]:
    """outbox/<Y>/: one feedback workbook per submitted file, the folder replaced as a whole (the staged
    folder of read_validate_feedback swapped in)."""
    return write_outbox(deployment.outbox(year), validation)


def normalize(validation: ValidationResult, rules: MatchRules) -> pd.DataFrame:
    """Rows bound for the library: 繁→简, widths, units out of names, synonyms applied, canonical keys."""
    return consolidation.normalize_accepted(validation.rows, rules)


def consolidate(
    validation: ValidationResult,
    normalized: pd.DataFrame,
    previous: Previous,
    deployment: Deployment,
    year: int,
    rules: MatchRules,
) -> Consolidation:
    """Match to the last release, merge certain duplicates, apply change requests, issue ids, retire."""
    result = consolidation.consolidate_year(
        validation,
        normalized,
        previous.release,
        year=year,
        rules=rules,
        namespace=deployment.settings.id_namespace,
        upstream=previous.upstream,
        upstream_tag=previous.upstream_tag,
    )
    result.candidates = reported(result.candidates)  # held to the report: only what it reads
    return _given_back(result)


def changes(result: Consolidation) -> ChangeSet:
    """What the year changed, against the last release of an earlier year."""
    return result.changes()


def stage(
    deployment: Deployment, result: Consolidation, validation: ValidationResult, year: int
) -> StagedRelease:
    """The new release written to a staging folder, where the blocking checks read it."""
    return _given_back(
        release.stage_release(
            deployment.root,
            result.tables,
            year=year,
            accounting=validation.counts(),
            base_sha=result.base_sha,
        )
    )


def check(staged: StagedRelease) -> list[CheckResult]:
    """The blocking checks on the staged files (what would be published); all must pass to publish."""
    return _given_back(verify.blocking_checks(staged.library_dir))


def _given_back(value: T) -> T:
    """value, once the step's freed memory went back to the system: Arrow's pool (mimalloc) keeps what
    the step's Arrow tables freed, glibc the holes between the objects that stay, and neither is reused
    by the next steps' pandas/Python objects. Measured alone on 1M rows' tables: staging left +1,000
    MiB in Arrow's pool, the checks +550 MiB (pool 160, glibc 390), all given back here."""
    give_back_memory()
    return value


def report(
    staged: StagedRelease,
    result: Consolidation,
    changed: ChangeSet,
    validation: ValidationResult,
    year: int,
) -> list[Path]:
    """reports/<Y>/: review, changelog, merge review (staged with the release; the feedback is not)."""
    inputs = ReportInputs(
        year=year,
        changes=changed,
        validation=validation,
        workbooks=[],
        candidates=result.candidates,
        tables=result.tables,
        previous=result.previous,
        overlay=result.overlay,
        repo_root=staged.repo_root,
        actuals=published_actuals(staged.repo_root / LIBRARY_DIR),
    )
    return write_annual_report(staged.reports_dir, inputs)


def publish(staged: StagedRelease, changed: ChangeSet) -> CommitResult:
    """Swap the checked release in, commit library/ and reports/, tag vY — no commit when nothing changed."""
    return release.publish_release(staged, changed)


# --- all of them -----------------------------------------------------------------------------------------


class StepRunner(Protocol):
    """Runs one named step (the benchmarks time each one); the default just calls it."""

    def __call__(self, name: str, step: Callable[[], T], /) -> T: ...


def _call(_name: str, step: Callable[[], T], /) -> T:
    return step()


@dataclass
class Rebuild:
    """Every step's output of one run."""

    year: int
    files: list[SubmissionFile]
    parse_stats: ParseStats  # no workbook is kept: each batch's die with it
    previous: Previous
    validation: ValidationResult
    normalized: pd.DataFrame
    consolidation: Consolidation
    changes: ChangeSet
    staged: StagedRelease
    checks: list[CheckResult]
    reports: list[Path] = field(default_factory=list)
    commit: CommitResult | None = None
    feedback: list[Path] = field(default_factory=list)  # outbox/<Y>/
    per_workbook_seconds: dict[str, float] = field(default_factory=dict)  # read/validate/feedback, summed
    workers: int = 1


def run(
    year: int,
    inbox: Path,
    repo: Path,
    *,
    finance_dept: str | None = None,
    parse_cache: bool = True,
    step: StepRunner = _call,
    workers: int | None = None,
) -> Rebuild:
    """Every step in order, holding the repo's rebuild lock; ChecksFailedError (nothing published) when
    a blocking check fails. `inbox`: the folder of this year's workbooks; `workers`: processes for the
    per-workbook work (None: automatic, pipelines.fanout.auto_workers)."""
    deployment = Deployment.open(repo, finance_dept)
    deployment.root.mkdir(parents=True, exist_ok=True)
    with rebuild_lock(deployment.root):
        files = step("list", lambda: list_inbox(inbox))
        previous = step("load_previous", lambda: load_previous(deployment, year))
        settings = batch_settings(
            deployment,
            year,
            previous.known_indicators(),
            outbox=staging_outbox(deployment.outbox(year)),
            parse_cache=parse_cache,
        )
        fanned = step("read_validate_feedback", lambda: read_validate_feedback(files, settings, workers))
        validation = fanned.validation
        record_validation(deployment, year, inbox, previous)
        written = step("feedback", lambda: feedback(deployment, validation, year))
        rules = deployment.rules()
        normalized = step("normalize", lambda: normalize(validation, rules))
        result = step(
            "consolidate", lambda: consolidate(validation, normalized, previous, deployment, year, rules)
        )
        changed = step("changes", lambda: changes(result))
        staged = step("stage", lambda: stage(deployment, result, validation, year))
        checks = step("check", lambda: check(staged))
        done = Rebuild(
            year, files, fanned.stats, previous, validation, normalized, result, changed, staged, checks
        )
        done.feedback, done.per_workbook_seconds, done.workers = written, fanned.seconds, fanned.workers
        failed = [c for c in checks if not c.passed]
        if failed:
            raise ChecksFailedError(failed)
        done.reports = step("report", lambda: report(staged, result, changed, validation, year))
        done.commit = step("publish", lambda: publish(staged, changed))
    return done


# --- the outbox again ------------------------------------------------------------------------------------


def released_at(root: Path, sha: str | None) -> pd.DataFrame | None:
    """The indicators of the release at commit `sha`, from git objects (None: no release there yet)."""
    if not sha:
        return None
    repo = open_repo(root, create=False)
    if not repo.git.ls_tree(sha, "--", f"{LIBRARY_DIR}/{MANIFEST}"):
        return None
    return indicators_at(repo, sha)


@dataclass(frozen=True)
class FeedbackRun:
    """What `indicators feedback` wrote: the workbooks, and the inbox and base it validated with."""

    folder: Path
    files: list[Path]
    inbox: Path
    recorded: bool  # False: no record of the year's last validation; the current library was used


def regenerate_feedback(
    repo: Path,
    year: int,
    *,
    out: Path | None = None,
    inbox: Path | None = None,
    finance_dept: str | None = None,
    workers: int | None = None,
) -> FeedbackRun:
    """The year's feedback workbooks written again, byte for byte what its last rebuild wrote: the same
    inbox (read through the parse cache), validated with the same finance department against the same
    library (record_validation), into outbox/<Y>/ or `out`. Holds the repo's rebuild lock."""
    root = Path(repo).resolve()
    path = Deployment.open(root).record_path(year)
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    deployment = Deployment.open(root, finance_dept or record.get("finance_dept") or None)
    folder = Path(inbox or record.get("inbox") or deployment.default_inbox(year))
    if not list_inbox(folder):
        raise UsageError(
            f"{folder} 中没有 {year} 年度的提交工作簿，无法生成反馈；请用 --submissions 指定提交文件夹"
        )
    with rebuild_lock(deployment.root):
        files = list_inbox(folder)
        released = released_at(root, record.get("base_sha") if record else release.head_sha(root))
        upstream, _tag = upstream_release(deployment)
        target = Path(out) if out is not None else deployment.outbox(year)
        known = known_indicators(released, upstream)
        settings = batch_settings(deployment, year, known, outbox=staging_outbox(target))
        validation = read_validate_feedback(files, settings, workers).validation
        written = write_outbox(target, validation)
    return FeedbackRun(target, written, folder, bool(record))
