"""The annual rebuild, one plain composition of its steps (docs/ARCHITECTURE.md draws the journey).

    list_inbox → read → load_previous → validate → normalize → consolidate → changes → stage
    → check (the blocking checks) → report → publish

Each step is a typed function of the previous steps' outputs. The Dagster assets (pipelines/defs/assets.py)
wrap these same functions one asset each and add metadata; the blocking checks there and `check` here run
the one verification of pipelines/store/verify.py; `run` calls every step in order for any caller without
Dagster (the benchmarks). Nothing here reads the environment: the deployment is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

import pandas as pd

from pipelines.common.config import Settings, load_settings
from pipelines.consolidate import build as consolidation
from pipelines.consolidate.build import Consolidation
from pipelines.consolidate.changes import ChangeSet
from pipelines.county.upstream import upstream_indicators, upstream_state
from pipelines.intake.inbox import SubmissionFile, list_inbox
from pipelines.intake.parse_cache import ParseStats, read_submissions
from pipelines.intake.workbook import Workbook
from pipelines.normalize.canonical import MatchRules, load_rules
from pipelines.report.build import write_annual_report
from pipelines.report.model import ReportInputs
from pipelines.store import release, verify
from pipelines.store.lock import rebuild_lock
from pipelines.store.release import PreviousRelease, StagedRelease
from pipelines.store.repo import CommitResult
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
        known = tables.indicators if tables is not None else None
        if self.upstream is None:
            return known
        upstream = self.upstream.assign(origin=UPSTREAM_ORIGIN)
        return pd.concat([k for k in (known, upstream) if k is not None], ignore_index=True)


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
    """CONTRACT §3: located findings and one outcome per row (library / noncore / excluded / rejected)."""
    return validate_workbooks(
        workbooks,
        year=year,
        finance_dept=deployment.finance_dept,
        indicators=previous.known_indicators(),
        rules_dir=deployment.rules_dir,
        reference_dir=deployment.reference_dir,
    )


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
    return consolidation.consolidate_year(
        validation,
        normalized,
        previous.release,
        year=year,
        rules=rules,
        namespace=deployment.settings.id_namespace,
        upstream=previous.upstream,
        upstream_tag=previous.upstream_tag,
    )


def changes(result: Consolidation) -> ChangeSet:
    """What the year changed, against the last release of an earlier year."""
    return result.changes()


def stage(
    deployment: Deployment, result: Consolidation, validation: ValidationResult, year: int
) -> StagedRelease:
    """The new release written to a staging folder, where the blocking checks read it."""
    return release.stage_release(
        deployment.root, result.tables, year=year, accounting=validation.counts(), base_sha=result.base_sha
    )


def check(staged: StagedRelease) -> list[CheckResult]:
    """The blocking checks on the staged files (what would be published); all must pass to publish."""
    return verify.blocking_checks(staged.library_dir)


def report(
    staged: StagedRelease,
    result: Consolidation,
    changed: ChangeSet,
    validation: ValidationResult,
    workbooks: list[Workbook],
    year: int,
) -> list[Path]:
    """reports/<Y>/: review, changelog, merge review, per-department feedback (staged with the release)."""
    inputs = ReportInputs(
        year=year,
        changes=changed,
        validation=validation,
        workbooks=workbooks,
        candidates=result.candidates,
        tables=result.tables,
        previous=result.previous,
        overlay=result.overlay,
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
    parsed: Parsed
    previous: Previous
    validation: ValidationResult
    normalized: pd.DataFrame
    consolidation: Consolidation
    changes: ChangeSet
    staged: StagedRelease
    checks: list[CheckResult]
    reports: list[Path] = field(default_factory=list)
    commit: CommitResult | None = None


def run(
    year: int,
    inbox: Path,
    repo: Path,
    *,
    finance_dept: str | None = None,
    parse_cache: bool = True,
    step: StepRunner = _call,
) -> Rebuild:
    """Every step in order, holding the repo's rebuild lock; ChecksFailedError (nothing published) when
    a blocking check fails. `inbox`: the folder of this year's workbooks."""
    deployment = Deployment.open(repo, finance_dept)
    deployment.root.mkdir(parents=True, exist_ok=True)
    with rebuild_lock(deployment.root):
        files = step("list", lambda: list_inbox(inbox))
        parsed = step("read", lambda: read(files, deployment.cache_dir if parse_cache else None))
        previous = step("load_previous", lambda: load_previous(deployment, year))
        validation = step("validate", lambda: validate(parsed.workbooks, previous, deployment, year))
        rules = deployment.rules()
        normalized = step("normalize", lambda: normalize(validation, rules))
        result = step(
            "consolidate", lambda: consolidate(validation, normalized, previous, deployment, year, rules)
        )
        changed = step("changes", lambda: changes(result))
        staged = step("stage", lambda: stage(deployment, result, validation, year))
        checks = step("check", lambda: check(staged))
        done = Rebuild(year, files, parsed, previous, validation, normalized, result, changed, staged, checks)
        failed = [c for c in checks if not c.passed]
        if failed:
            raise ChecksFailedError(failed)
        done.reports = step(
            "report", lambda: report(staged, result, changed, validation, parsed.workbooks, year)
        )
        done.commit = step("publish", lambda: publish(staged, changed))
    return done
