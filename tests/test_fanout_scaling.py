"""What keeps the fan-out's fixed costs small at a province's size (issue 15): the batch workers' forkserver
imports the feedback writer without the whole report, the batches write the feedback the report's writer
would, and the merge joins the batches' categoricals by their codes exactly as pandas' concat would."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.fanout import BatchSettings, plan_batches, run_batches
from pipelines.fanout.batches import write_feedback_workbooks
from pipelines.fanout.merge import _concat_column, batch_seconds
from pipelines.report import build
from tests.test_fanout import FINANCE, YEAR, demo_like_inbox

ROOT = Path(__file__).resolve().parents[1]


def test_the_batch_workers_preload_leaves_the_report_out() -> None:
    """The forkserver's imports are paid before any batch starts, on one core: pipelines.report.build
    pulls in dedupe (sklearn, scipy), the library page and git (≈ 1.5 s CPU) that no batch uses."""
    code = (
        "import sys, pipelines.intake.parse_preload, pipelines.fanout.preload\n"
        "print(sorted(m for m in ('pipelines.report.build', 'pipelines.dedupe.review', 'sklearn', 'scipy')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "pipelines.report.feedback" in _imported(["pipelines.fanout.preload"])


def _imported(modules: list[str]) -> set[str]:
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_batches_and_the_report_write_feedback_with_one_function() -> None:
    # One writer for the outbox whether the batches or the report write it (it lives in report.feedback, which
    # the workers may import without the whole report).
    assert write_feedback_workbooks is build.write_feedback_workbooks
    assert write_feedback_workbooks.__module__ == "pipelines.report.feedback"


def _pandas_concat(parts: list[pd.Series]) -> pd.Series:
    """The merge before it joined codes (e4f20a9): pandas' concat, after set_categories(sorted union)
    when the parts' categorical dtypes differ."""
    if all(p.dtype == parts[0].dtype for p in parts):
        return pd.concat(parts, ignore_index=True)
    plain = [p.cat.categories.dtype for p in parts]
    target = next((d for d in plain if isinstance(d, pd.StringDtype)), plain[0])
    union = pd.Index(sorted({v for p in parts for v in p.cat.categories}), dtype=target)
    return pd.concat([p.cat.set_categories(union) for p in parts], ignore_index=True)


WORDS = ["", "a", "b", "Z", "z", "10", "9", "预算", "绩效", "甲乙", "ａ"]


@st.composite
def categorical_parts(draw: st.DrawFn) -> list[pd.Series]:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        values = draw(st.lists(st.sampled_from([*WORDS, None]), max_size=8))
        series = pd.Series(values, dtype=draw(st.sampled_from(["str", "object"])), name="c")
        cat = pd.Categorical(series)
        if draw(st.booleans()) and "" not in cat.categories:
            cat = cat.add_categories([""])  # as frames.text_or_empty does: not sorted any more
        if draw(st.booleans()):
            cat = cat.reorder_categories(list(cat.categories)[::-1])
        parts.append(pd.Series(cat, name="c"))
    return parts


@settings(max_examples=300, deadline=None)
@given(parts=categorical_parts())
def test_categoricals_are_joined_as_pandas_concat_joins_them(parts: list[pd.Series]) -> None:
    expected, got = _pandas_concat(parts), _concat_column(parts)
    assert got.equals(expected)
    assert list(got.cat.categories) == list(expected.cat.categories)
    assert got.cat.categories.dtype == expected.cat.categories.dtype
    assert got.cat.codes.dtype == expected.cat.codes.dtype
    assert pickle.dumps(got) == pickle.dumps(expected)  # the same bytes downstream


def test_many_parts_of_one_dtype_keep_it() -> None:
    dtype = pd.CategoricalDtype(pd.Index(["x", "y"], dtype="str"))
    parts = [
        pd.Series(pd.Categorical(["y", "x", None][: i % 3 + 1], dtype=dtype), name="c") for i in range(50)
    ]
    got = _concat_column(parts)
    assert got.dtype == dtype and len(got) == sum(len(p) for p in parts)
    assert np.array_equal(got.cat.codes.to_numpy(), np.concatenate([p.cat.codes for p in parts]))


def test_each_batch_reports_the_cpu_of_the_process_that_ran_it(tmp_path: Path) -> None:
    """The benchmarks tell the workers' CPU from the parent's by it (a worker's CPU is no child's of the
    parent's: the forkserver's)."""
    inbox = demo_like_inbox(tmp_path / "inbox")
    batches = plan_batches(sorted(inbox.glob("*.xlsx")), max_files=3)
    results = run_batches(batches, BatchSettings(year=YEAR, finance_dept=FINANCE), 2)
    assert len(results) == len(batches) > 2
    assert all(r.seconds["cpu"] > 0 for r in results)
    assert batch_seconds(results)["cpu"] == sum(r.seconds["cpu"] for r in results)
