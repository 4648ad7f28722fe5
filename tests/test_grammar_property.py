"""Crash-freedom as a property: any workbook the template's grammar allows validates without a traceback.

`indicators validate` on a workbook written by tests.grammar_strategies must exit 0, 1 or 2, and account
for every data row the strategy wrote: read = library + noncore + excluded + rejected = rows written.
CI runs a few examples; `HYPOTHESIS_PROFILE=long` runs many (the benchmark's run).
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipelines.cli import main
from tests.grammar_strategies import SheetSpec, WorkbookSpec, workbook_specs, write_spec
from tests.xlsx_builders import core_row, default_info

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
EXAMPLES = 400 if LONG else 25
OUTCOMES = ("library", "noncore", "excluded", "rejected")


def run_validate(path: Path, feedback: Path | None = None) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["validate", str(path), "--format", "json", "--year", "2026"]
    if feedback is not None:
        argv += ["--feedback", str(feedback)]
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    payload = json.loads(out.getvalue()) if out.getvalue().strip().startswith("{") else {}
    return code, payload, err.getvalue()


def assert_accounted(spec: WorkbookSpec, path: Path, feedback: Path | None = None) -> None:
    code, payload, err = run_validate(path, feedback)
    assert code in (0, 1, 2), f"exit {code}: {err[-2000:]}"
    (file,) = payload["files"]
    assert file["readable"], file["findings"]
    rows = file["rows"]
    assert rows["read"] == sum(rows[o] for o in OUTCOMES), rows
    assert rows["read"] == spec.data_rows, (rows, spec.data_rows, file["findings"][:5])
    assert payload["rows"]["read"] == spec.data_rows if "read" in payload["rows"] else True
    if spec.info is None:
        assert any(f["code"] == "F003" for f in file["findings"])


def _full_sheet(kind: str, title: str, shape: str, rows: list | None = None) -> SheetSpec:
    """A sheet with every column of the template, under its template header."""
    from schemas.vocab import reference

    columns = [s.column for s in reference().columns[kind]]
    headers = [reference().header_zh(kind, c) for c in columns]
    if rows is None:
        return SheetSpec(kind, title, shape, columns=columns, headers=headers)
    return SheetSpec(kind, title, shape, columns=columns, headers=headers, rows=rows)


def core_only_spec() -> WorkbookSpec:
    """Issue 11 point 1: a department filing only 部门整体核心指标, its 项目支出指标 sheet header-only."""
    core = _full_sheet("core", "部门整体核心指标", "rows", [core_row()])
    project = _full_sheet("project", "项目支出指标", "header_only")
    return WorkbookSpec(
        dict(default_info()),
        "部门信息",
        False,
        {"core": core, "project": project},
        ["info", "core", "project"],
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@example(spec=core_only_spec(), with_feedback=False)
@given(spec=workbook_specs(), with_feedback=st.booleans())
def test_validate_never_raises_and_accounts_for_every_row(
    spec: WorkbookSpec, with_feedback: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("grammar")
    path = write_spec(folder / "市测试局.xlsx", spec)
    assert_accounted(spec, path, folder / "feedback" if with_feedback else None)


def test_core_only_workbook_validates(tmp_path: Path) -> None:
    """The crash of point 1 as a plain regression (KeyError 'project_category' in canonicalize_rows)."""
    spec = core_only_spec()
    assert_accounted(spec, write_spec(tmp_path / "core_only.xlsx", spec))


def test_the_strategy_writes_what_it_says(tmp_path: Path) -> None:
    """The accounting above is only as good as the spec's own row count: check it on a fixed example."""
    from pipelines.intake.read import read_workbook

    spec = core_only_spec()
    book = read_workbook(write_spec(tmp_path / "w.xlsx", spec))
    assert len(book.sheets["core"].frame) == 1 and len(book.sheets["project"].frame) == 0
