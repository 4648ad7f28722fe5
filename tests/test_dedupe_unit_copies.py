"""Candidate generation pairs a name's copy in the other side's unit (blocking.BlockingConfig.unit_copies).

The similarity passes compare one row per distinct name, its best ranked. A name filed in two units meets
another name only through that row: labelled_pairs.csv's 完成调研报告数量 (个 and 篇) / 调研报告完成数量 (篇), a
duplicate, was scored only as 个 against 篇 (two measures to the model) and never listed."""

from __future__ import annotations

import numpy as np

from pipelines.dedupe.blocking import BlockingConfig, _with_unit_copies, generate_pairs, prepare_rows
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.scoring import ModelScoring
from pipelines.normalize.canonical import default_rules
from tests.test_match import clusters, pair_set

FILLERS = ("培训人次", "会议场次", "档案数字化率", "道路养护里程", "路灯维修数量", "设备购置数量")


def _frame():
    return clusters(
        {"name": "完成调研报告数量", "unit": "个", "id": "R1"},  # the best-ranked copy (id order)
        {"name": "完成调研报告数量", "unit": "篇", "id": "R2"},
        {"name": "调研报告完成数量", "unit": "篇", "id": "R3"},
        *({"name": n, "unit": "个"} for n in FILLERS),
    )


def test_the_copy_in_the_other_unit_is_generated_and_listed() -> None:
    frame = _frame()
    rows = prepare_rows(frame, "new", default_rules())
    at = {i: k for k, i in enumerate(rows["id"])}
    reordered = (at["R2"], at["R3"])
    without = generate_pairs(rows, BlockingConfig(unit_copies=False))
    assert reordered not in set(zip(without["i"], without["j"], strict=True))  # only R1 (个) met R3
    found = generate_pairs(rows, BlockingConfig())
    assert reordered in set(zip(found["i"], found["j"], strict=True))
    assert len(found) <= len(without) + 2  # at most the copies of the one pair of two units
    listed = find_candidates(frame, None, default_rules())
    assert frozenset(("R2", "R3")) in pair_set(listed)
    every = find_candidates(frame, None, default_rules(), BlockingConfig(unit_copies=False), ModelScoring())
    assert frozenset(("R2", "R3")) not in pair_set(every)


def test_unit_copies_add_only_pairs_of_two_units_whose_copy_exists() -> None:
    form = np.array([0, 0, 1, 2])  # rows 0 and 1: one name in two units
    unit = np.array(["个", "篇", "篇", "个"])
    rank = np.arange(4)
    q, c = (
        np.array([0, 2, 0]),
        np.array([2, 3, 3]),
    )  # 个/篇 with a 篇 copy; 篇/个 without a 个 copy of 1; 个/个
    s = np.array([0.5, 0.4, 0.3], dtype=np.float32)
    qa, ca, sa = _with_unit_copies(q, c, s, form, unit, rank)
    added = set(zip(qa[3:].tolist(), ca[3:].tolist(), strict=True))
    assert added == {(1, 2)} and sa[3] == np.float32(0.5)  # the 篇 copy of name 0 against row 2
    assert list(qa[:3]) == list(q) and list(ca[:3]) == list(c)  # the generated pairs stay
