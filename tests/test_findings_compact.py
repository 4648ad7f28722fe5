"""Findings a rebuild holds until its report, made smaller without changing them: slots (no per-object
dict) and one string per file and sheet name; the same values, order and cells, pickled and unpickled
alike, and a finding pickled before slots read back by name."""

from __future__ import annotations

import pickle

from pipelines.common.findings import Finding, make_finding


def test_findings_share_file_and_sheet_names() -> None:
    # Texts built at run time (as Arrow columns give them): equal, not the same object, until the Finding.
    file_a, file_b = "".join(["101_甲", ".xlsx"]), "".join(["101_", "甲.xlsx"])
    assert file_a == file_b and file_a is not file_b
    one = make_finding("W209", file_a, sheet="".join(["部门", "整体"]), row=5, column="C", value="x")
    two = make_finding("W209", file_b, sheet="".join(["部", "门整体"]), row=6, column="C", value="x")
    assert one.file is two.file and one.sheet is two.sheet
    assert not hasattr(one, "__dict__")
    again = pickle.loads(pickle.dumps([one, two], protocol=pickle.HIGHEST_PROTOCOL))
    assert again == [one, two] and again[0].file is again[1].file
    assert sorted([two, one]) == [one, two] and one.cell == "C5"


def test_a_finding_pickled_before_slots_reads_back_by_name() -> None:
    finding = make_finding("W209", "101_甲.xlsx", sheet="部门整体", row=5, column="C", value="x")
    state = {name: getattr(finding, name) for name in reversed(Finding.__slots__)}  # another order
    restored = Finding.__new__(Finding)
    restored.__setstate__(state)
    assert restored == finding
    restored = Finding.__new__(Finding)
    restored.__setstate__(finding.__getstate__())
    assert restored == finding
