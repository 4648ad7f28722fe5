"""Consolidation at a million rows, where its cost had grown faster than the rows (issue 15), with the same
results as before:

- identity.merge_into_common with no continuity to follow (a first year) makes no department keys of the rows
  (1M rows: ≈ 2 s of joined texts for nothing), and merges as before when there is some;

Above background's fork gate (a 1M-row consolidation), the work that had been one pass there goes to a forked
child while the process tree has room (halves.child_beside), with the same results as one in-process pass:

- the pairs' descriptions: the second half in a child that sends its 理由 compressed (described.PackedReasons);
  every column of find_candidates equal, bit for bit, with and without reviewers' do-not-merge rules;
- the similarity passes past PASSES_THREAD_MAX names: the first pass in a child, the same pairs;
- no child with INDICATORS_THREADS=0, INDICATORS_FORK=0, or when background.fork_allowed says no room.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common import background, halves
from pipelines.common.background import fork_supported
from pipelines.consolidate import identity
from pipelines.consolidate.build import Consolidation, consolidate
from pipelines.consolidate.reasons import COMMON_COVERS_REASON
from pipelines.dedupe import blocking, candidates
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.described import Described, PackedReasons
from pipelines.intake.read import read_workbook
from pipelines.validate.runner import validate_workbooks
from schemas.library import LibraryTables
from tests.dedupe_fixtures import clusters, first_pass_in_a_child_same_pairs, refusing_rules
from tests.xlsx_builders import default_info, project_row, write_workbook

needs_fork = pytest.mark.skipif(not fork_supported(), reason="no fork here: one pass")

FIN = "101"
MEETING = dict(
    name="会议次数", level1="产出指标", level2="数量指标", unit="次", definition="反映组织会议的次数"
)


def _year(tmp: Path, year: int, previous: LibraryTables | None) -> Consolidation:
    """The bureau's 共性 row and two departments' project rows equal to it, in real workbooks."""
    folder = tmp / str(year)
    folder.mkdir()
    files = [("fin.xlsx", FIN, [], [project_row(project="", function_code="", **MEETING)])]
    files += [
        (f"{d}.xlsx", d, [project_row(project="医生培训", function_code="2100401", **MEETING)], None)
        for d in ("202", "203")
    ]
    for name, dept, projects, common in files:
        write_workbook(
            folder / name, default_info(year, dept, f"部门{dept}"), [], projects, common_rows=common
        )
    workbooks = [read_workbook(folder / name) for name, *_ in files]
    indicators = previous.indicators if previous is not None else None
    validation = validate_workbooks(workbooks, year=year, finance_dept=FIN, indicators=indicators)
    assert (validation.rows["outcome"] == "library").all()
    return consolidate(validation.rows, validation.departments, year=year, previous=previous)


def test_common_usages_of_a_first_year_make_no_department_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    joined: list[int] = []
    join_rows = identity.join_rows

    def counted(columns: list[np.ndarray], sep: str) -> np.ndarray:
        joined.append(len(columns[0]))
        return join_rows(columns, sep)

    monkeypatch.setattr(identity, "join_rows", counted)
    first = _year(tmp_path, 2024, None)
    ind = first.tables.indicators
    assert len(ind) == 1 and ind["scope"].item() == "共性"  # the departments' rows are its usages
    assert set(first.tables.usages["indicator_id"]) == {ind["indicator_id"].item()}
    assert joined == []  # no continuity: merge_into_common made no department keys

    # A later year follows continuity: a department's indicator of an older release merges into the 共性 one.
    legacy = ind.assign(
        indicator_id="ZB-X000009", scope="项目", function_code="2100401", function_class="210"
    )
    legacy["departments"] = [["202"]]
    usages = first.tables.usages
    usages = usages[usages["dept_code"] == "202"].assign(indicator_id="ZB-X000009")
    previous = LibraryTables(
        pd.concat([ind, legacy], ignore_index=True), usages, first.tables.departments, first.tables.set_aside
    )
    second = _year(tmp_path, 2025, previous)
    after = second.tables.indicators.set_index("indicator_id")
    assert joined  # the department keys were made for the continuity
    assert after.loc["ZB-X000009", "status"] == "merged"
    assert after.loc["ZB-X000009", "merged_into"] == ind["indicator_id"].item()
    assert after.loc["ZB-X000009", "retire_reason"] == COMMON_COVERS_REASON


@pytest.fixture
def above_gate(monkeypatch: pytest.MonkeyPatch) -> dict[str, bool]:
    """As a 1M-row consolidation: background's fork gate closed (the process holds above it), past the
    thread's bounds; `room["tree"]` says whether background.fork_allowed finds room for a child."""
    monkeypatch.delenv("INDICATORS_FORK", raising=False)
    monkeypatch.delenv("INDICATORS_THREADS", raising=False)
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", 0)
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    monkeypatch.setattr(halves, "THREAD_MAX_PAIRS", 1)
    monkeypatch.setattr(blocking, "PASSES_SPLIT_MIN", 1)
    monkeypatch.setattr(blocking, "PASSES_THREAD_MAX", 1)
    room = {"tree": True}
    monkeypatch.setattr(background, "fork_allowed", lambda adds_mib, limit_mib=None: room["tree"])
    return room


def test_child_beside_forks_only_with_room_and_when_allowed(
    monkeypatch: pytest.MonkeyPatch, above_gate: dict[str, bool]
) -> None:
    fork = "fork" if fork_supported() else ""
    assert halves.child_beside(100, 1.0, most=1_000) == fork
    assert halves.child_beside(1, 1.0, most=1_000) == ""  # below SPLIT_MIN
    assert halves.child_beside(1_001, 1.0, most=1_000) == ""  # past `most`
    assert halves.child_beside(5, 1.0, most=1_000, least=10) == ""
    above_gate["tree"] = False
    assert halves.child_beside(100, 1.0, most=1_000) == ""
    above_gate["tree"] = True
    monkeypatch.setenv("INDICATORS_THREADS", "0")
    assert halves.child_beside(100, 1.0, most=1_000) == ""
    monkeypatch.delenv("INDICATORS_THREADS")
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert halves.child_beside(100, 1.0, most=1_000) == ""


def test_packed_reasons_give_back_the_same_texts() -> None:
    packed = PackedReasons()
    chunks = [
        np.array(["名称相近（87%）", "", "指标解释相同；单位不同"], dtype=object),
        np.array([], dtype=object),
        np.array(["含分隔符\x00的理由", "另一条"], dtype=object),  # not packable: kept as it is
        np.array(["最后一条"], dtype=object),
    ]
    for chunk in chunks:
        packed.add(chunk)
    assert [type(p).__name__ for p in packed.parts] == ["TextChunks", "TextChunks", "ndarray", "TextChunks"]
    back = packed.texts()
    assert back.dtype == object
    assert back.tolist() == [t for chunk in chunks for t in chunk.tolist()]
    assert all(type(t) is str for t in back)


@needs_fork
def test_descriptions_above_the_gate_in_a_child_equal_one_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, above_gate: dict[str, bool]
) -> None:
    frame = clusters()
    new, existing = frame.iloc[::2], frame.iloc[1::2]
    seen: list[tuple[int, bool]] = []  # (pid, second half's 理由 packed) of each join
    join = candidates.join_described

    def joined(first: Described, second: Described, h: int) -> Described:
        seen.append((os.getpid(), isinstance(second.reasons, PackedReasons)))
        return join(first, second, h)

    monkeypatch.setattr(candidates, "join_described", joined)
    split = find_candidates(new, existing)
    assert len(split) > 180
    assert seen == [(os.getpid(), True)]  # split, the child's half sent packed
    rules = refusing_rules(tmp_path, split)
    split_refused = find_candidates(new, existing, rules)
    assert 0 < len(split_refused) < len(split)
    assert len(seen) == 2 and seen[1][1]

    above_gate["tree"] = False  # no room: one pass, as before this change
    seen.clear()
    one = find_candidates(new, existing)
    assert seen == []
    pd.testing.assert_frame_equal(split, one, check_exact=True)
    monkeypatch.setenv("INDICATORS_FORK", "0")
    pd.testing.assert_frame_equal(split_refused, find_candidates(new, existing, rules), check_exact=True)
    assert seen == []


@needs_fork
def test_similarity_passes_past_the_thread_bound_in_a_child_give_the_same_pairs(
    monkeypatch: pytest.MonkeyPatch, above_gate: dict[str, bool]
) -> None:
    # one core (INDICATORS_THREADS=0) the second time: every pass here
    first_pass_in_a_child_same_pairs(monkeypatch, lambda: monkeypatch.setenv("INDICATORS_THREADS", "0"))
