"""Batches of workbooks: planned from the sorted inbox, each read, validated and answered on its own.

A batch's result is what the rest of the rebuild needs and no more: its rows (compact), findings, file
statuses, departments, and each readable workbook's canonical 部门信息 with where its cells are (for F007,
decided over all batches by pipelines.fanout.merge). The feedback workbooks are written by the batch into
the outbox's staging folder; the parsed workbooks die with the batch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.common.findings import Finding
from pipelines.intake.parse_cache import cache_entry, load_cached, read_submissions, store_cached
from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import Parse, parse_here
from pipelines.intake.workbook import Workbook

# report.feedback, not report.build: build imports the whole report (dedupe's sklearn and scipy, the library
# page, git), ≈ 1.3 s CPU more in the workers' forkserver, on one core before any batch starts.
from pipelines.report.feedback import write_feedback_workbooks
from pipelines.validate.canonicalize import canonical_info
from pipelines.validate.runner import FileStatus, ValidationResult, validate_workbooks

# A batch closes at this many files or bytes, whichever comes first (the last two batches are cut again
# in halves: plan_batches). Fixed sizes, never derived from the number of workers: the results cannot
# depend on them. Validating a batch costs ≈ 0.15 s CPU whatever its size (the rules' pandas set-up) plus
# ≈ 3 ms per 100-row workbook. Larger batches pay that fixed cost less often (bench_per_workbook at load
# 9, 300k: batches' CPU 63.8 → 61.0 s with 256 files / 4 MiB) but on a quiet machine, end to end, the
# workers' CPU rose with them (300k e2e, four runs: 256 / 4 MiB 52.9, 59.1, 45.9 s; 128 / 2 MiB 48.2,
# 43.8 s; a worker's peak 403 → 498 MiB), so the batches stay at 128 files / 2 MiB.
BATCH_FILES = 128
BATCH_BYTES = 2 << 20
# Other sizes, for tests and tuning (read by every process of a run, the multiprocess executor's too).
BATCH_FILES_ENV, BATCH_BYTES_ENV = "INDICATORS_BATCH_FILES", "INDICATORS_BATCH_BYTES"

InfoEntry = tuple[Workbook, dict[str, str]]  # a workbook's layout of 部门信息 (no sheets), canonical 部门信息


@dataclass(frozen=True)
class Batch:
    index: int  # position in the plan: results are put together in this order
    paths: tuple[Path, ...]  # sorted by file name, as read_submissions orders them

    def __len__(self) -> int:
        return len(self.paths)


@dataclass(frozen=True)
class BatchSettings:
    """What every batch of one run is validated with, and where its feedback goes (picklable: sent to the
    worker processes once)."""

    year: int | None = None
    finance_dept: str | None = None
    indicators: pd.DataFrame | None = None  # the 库内编号 a row may name (rebuild.Previous.known_indicators)
    rules_dir: Path | None = None
    reference_dir: Path | None = None
    actuals: pd.DataFrame | None = None  # last evaluated year's actuals, for W215
    cache_dir: Path | None = None  # the parse cache; None: every workbook is parsed
    outbox: Path | None = None  # the staging folder the feedback workbooks go to; None: no feedback
    parse: Parse = read_workbook  # a module-level function (tests pass one that misbehaves)

    def validate(self, workbooks: Sequence[Workbook], across: Sequence[Finding]) -> ValidationResult:
        return validate_workbooks(
            workbooks,
            year=self.year,
            finance_dept=self.finance_dept,
            indicators=self.indicators,
            rules_dir=self.rules_dir,
            reference_dir=self.reference_dir,
            actuals=self.actuals,
            across=across,
        )


@dataclass
class BatchResult:
    index: int
    rows: pd.DataFrame
    findings: list[Finding]
    files: list[FileStatus]
    departments: pd.DataFrame
    infos: list[InfoEntry]  # every readable workbook, in order
    parsed: list[str] = field(default_factory=list)  # file names parsed this time
    cached: list[str] = field(default_factory=list)  # file names from the parse cache
    feedback: list[str] = field(default_factory=list)  # feedback workbooks written (names)
    # read / validate / feedback (wall), and "cpu": the CPU of the process that ran the batch, this batch's
    seconds: dict[str, float] = field(default_factory=dict)

    # Pickled (a worker's answer, a Dagster step's output) with the findings as columns: a batch has
    # ≈ 13,000 of them, and pickling each object (its __getstate__/__setstate__ in Python) cost ≈ 22 ms
    # to send and ≈ 35 ms to receive a batch, the receiving in the parent while both workers run.
    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "findings": finding_columns(self.findings)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        findings = state["findings"]  # a list: pickled before the columns (a Dagster store's older output)
        columns = isinstance(findings, tuple)
        self.__dict__.update(state, findings=findings_from_columns(findings) if columns else findings)


FINDING_FIELDS = Finding.__slots__
_FINDING_SETTERS = [getattr(Finding, name).__set__ for name in FINDING_FIELDS]


def finding_columns(findings: Sequence[Finding]) -> tuple[list[Any], ...]:
    """The findings' fields, one list a field (in Finding.__slots__ order)."""
    return tuple(list(map(attrgetter(name), findings)) for name in FINDING_FIELDS)


def findings_from_columns(columns: tuple[list[Any], ...]) -> list[Finding]:
    """finding_columns back to equal Findings, their slots set directly (as Finding.__setstate__ does,
    without a Python call a finding)."""
    new = object.__new__
    findings = [new(Finding) for _ in range(len(columns[0]))]
    for setter, values in zip(_FINDING_SETTERS, columns, strict=True):
        for finding, value in zip(findings, values, strict=True):
            setter(finding, value)
    return findings


def plan_batches(
    paths: Sequence[Path], *, max_files: int | None = None, max_bytes: int | None = None
) -> list[Batch]:
    """The files sorted by name, cut into consecutive batches of at most `max_files` files and, past its
    first file, `max_bytes` bytes (default: BATCH_FILES and BATCH_BYTES, or their variables); the files
    of the last two such batches cut again with half those bounds."""
    max_files = max_files or int(os.environ.get(BATCH_FILES_ENV) or BATCH_FILES)
    max_bytes = max_bytes or int(os.environ.get(BATCH_BYTES_ENV) or BATCH_BYTES)
    sized = [(path, path.stat().st_size) for path in sorted((Path(p) for p in paths), key=lambda p: p.name)]
    groups = _cut(sized, max_files, max_bytes)
    if len(groups) >= 2:
        # The last two batches cut again in halves: the batches still running when the others are done
        # are short, so the workers finish close together (≈ a quarter of a batch apart at most, for
        # two more batches' fixed cost), whatever the remainder the inbox leaves for the last batch.
        groups[-2:] = _cut(groups[-2] + groups[-1], max(1, max_files // 2), max(1, max_bytes // 2))
    return [Batch(i, tuple(path for path, _ in group)) for i, group in enumerate(groups)]


def _cut(sized: list[tuple[Path, int]], max_files: int, max_bytes: int) -> list[list[tuple[Path, int]]]:
    """Consecutive groups of at most `max_files` files and, past their first file, `max_bytes` bytes."""
    groups: list[list[tuple[Path, int]]] = []
    current: list[tuple[Path, int]] = []
    size = 0
    for path, nbytes in sized:
        if current and (len(current) >= max_files or size + nbytes > max_bytes):
            groups.append(current)
            current, size = [], 0
        current.append((path, nbytes))
        size += nbytes
    if current:
        groups.append(current)
    return groups


def process_batch(
    batch: Batch, settings: BatchSettings, tick: Callable[[], None] | None = None
) -> BatchResult:
    """Read (parse cache, else parsed here with every Python exception a file error), validate and
    answer one batch. Runs in a worker process (the process is the isolation): `tick` after each
    workbook read tells the parent it is alive."""
    started, cpu = time.perf_counter(), time.process_time()
    workbooks: list[Workbook] = []
    parsed: list[str] = []
    cached: list[str] = []
    for path in batch.paths:
        entry = cache_entry(path, settings.cache_dir)
        wb = load_cached(path, entry)
        if wb is None:
            wb = parse_here(path, settings.parse)
            store_cached(entry, wb)
            parsed.append(path.name)
        else:
            cached.append(path.name)
        workbooks.append(wb)
        if tick is not None:
            tick()
    result = finish_batch(batch.index, workbooks, settings, parsed, cached, time.perf_counter() - started)
    result.seconds["cpu"] = time.process_time() - cpu  # the worker's own CPU (benchmarks: workers apart)
    return result


def process_safely(batch: Batch, settings: BatchSettings) -> BatchResult:
    """The batch in this process, each workbook not in the parse cache parsed in an isolated worker
    (safe_parse): for a batch whose worker died, and for a run without a pool."""
    started, cpu = time.perf_counter(), time.process_time()
    workbooks, stats = read_submissions(list(batch.paths), settings.cache_dir, settings.parse)
    result = finish_batch(
        batch.index, workbooks, settings, stats.parsed, stats.cached, time.perf_counter() - started
    )
    result.seconds["cpu"] = time.process_time() - cpu  # this process's: the parse workers' CPU apart
    return result


def finish_batch(
    index: int,
    workbooks: list[Workbook],
    settings: BatchSettings,
    parsed: list[str],
    cached: list[str],
    read_seconds: float,
    across: Sequence[Finding] = (),
) -> BatchResult:
    """Validate the batch's workbooks and write their feedback. The rules across workbooks (F007) are
    the merge's: `across` holds what it decided for these workbooks (none for a first pass)."""
    started = time.perf_counter()
    result = settings.validate(workbooks, across=across)
    directory = str(settings.reference_dir) if settings.reference_dir else None
    infos = [(info_layout(wb), canonical_info(wb.info, directory)) for wb in workbooks if wb.readable]
    workbooks.clear()  # the validation keeps what the feedback shows
    validated = time.perf_counter()
    written = write_feedback_workbooks(settings.outbox, result) if settings.outbox is not None else []
    seconds = {
        "read": read_seconds,
        "validate": validated - started,
        "feedback": time.perf_counter() - validated,
    }
    return BatchResult(
        index,
        result.rows,
        result.findings,
        result.files,
        result.departments,
        infos,
        parsed,
        cached,
        [p.name for p in written],
        seconds,
    )


def info_layout(wb: Workbook) -> Workbook:
    """What a finding about 部门信息 needs of a workbook: its path, name, sheet and cells, no rows."""
    return Workbook(
        path=wb.path,
        file=wb.file,
        sha256=wb.sha256,
        readable=wb.readable,
        info=dict(wb.info),
        info_cells=dict(wb.info_cells),
        info_sheet=wb.info_sheet,
    )
