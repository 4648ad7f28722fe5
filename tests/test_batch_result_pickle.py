"""A batch's result crosses a pipe (worker → parent) and Dagster's stores as a pickle: its findings travel as
columns, not as one pickled object each, and come back equal, field by field, in order."""

from __future__ import annotations

import pickle

import pytest

from pipelines.common.findings import Finding
from pipelines.fanout import BatchSettings, plan_batches, process_batch
from pipelines.fanout.batches import BatchResult, finding_columns, findings_from_columns
from tests.test_fanout import FINANCE, YEAR, demo_like_inbox


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    inbox = demo_like_inbox(tmp_path_factory.mktemp("pickle") / "inbox")
    (batch,) = plan_batches(sorted(inbox.glob("*.xlsx")), max_files=100)
    return process_batch(batch, BatchSettings(year=YEAR, finance_dept=FINANCE))


@pytest.mark.parametrize("protocol", [2, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_findings_come_back_equal_and_in_order(result: BatchResult, protocol: int) -> None:
    assert {"F007", "R115", "F001"} & {f.code for f in result.findings}  # real findings, of several kinds
    back = pickle.loads(pickle.dumps(result, protocol=protocol))
    assert back.findings == result.findings
    assert all(type(f) is Finding for f in back.findings)
    # every field, None rows and empty strings included (== on a dataclass compares the same fields)
    assert [f.__getstate__() for f in back.findings] == [f.__getstate__() for f in result.findings]
    assert back.files == result.files and back.infos[0][1] == result.infos[0][1]
    assert back.rows.equals(result.rows) and back.index == result.index


def test_findings_are_sent_as_columns_not_objects(result: BatchResult) -> None:
    blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"Finding" not in blob  # no class reference: no object pickled a finding
    assert len(blob) < len(pickle.dumps(result.__dict__, protocol=pickle.HIGHEST_PROTOCOL))


def test_columns_round_trip_edge_cases() -> None:
    assert findings_from_columns(finding_columns([])) == []
    odd = [
        Finding("a.xlsx", "F001", "file_error"),
        Finding("a.xlsx", "R101", "row_error", "项目支出指标", 7, "C", "指标名称", "", "缺", "补"),
        Finding("b.xlsx", "W201", "warning", row=None, value="0"),
    ]
    back = findings_from_columns(finding_columns(odd))
    assert back == odd and [f.row for f in back] == [None, 7, None]
    with pytest.raises(AttributeError):
        back[0].file = "x"  # type: ignore[misc]  # still frozen


def test_a_result_pickled_before_the_columns_still_loads(result: BatchResult) -> None:
    older = {**result.__dict__}  # the state a result had before __getstate__: findings as objects
    blob = pickle.dumps(older, protocol=pickle.HIGHEST_PROTOCOL)
    back = BatchResult.__new__(BatchResult)
    back.__setstate__(pickle.loads(blob))
    assert back.findings == result.findings
