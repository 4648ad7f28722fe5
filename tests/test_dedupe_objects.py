"""Group, count and unit-family conflicts of a pair (pipelines/dedupe/objects.py): what the pair model reads to
tell one measure of two groups, or counts of two things, from one measure worded twice."""

from __future__ import annotations

import numpy as np

from pipelines.dedupe.features import COLUMN
from pipelines.dedupe.model import load_model
from pipelines.dedupe.objects import count_conflict, group_conflict, unit_family_conflict
from tests.test_pair_model import features


def _pairs(rows: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    texts = np.array([t for row in rows for t in row], dtype=object)
    return texts, np.arange(0, len(texts), 2), np.arange(1, len(texts), 2)


def test_group_conflict() -> None:
    stems, i, j = _pairs(
        [
            ("学生家长满意度", "学生满意度"),  # a group added: two groups
            ("政府满意度", "群众满意度"),
            ("学生满意度", "学生满意率"),  # one group
            ("服务对象满意度", "受益单位满意度"),  # no group named on either side
            ("资助对象满意度", "学生满意度"),  # one side names none
        ]
    )
    assert group_conflict(stems, i, j).tolist() == [True, True, False, False, False]


def test_count_conflict() -> None:
    stems, i, j = _pairs(
        [
            ("保障村干部人数", "保障遗属人数"),
            ("补贴渔船数", "补贴特校数"),
            ("完成调研报告数量", "调研报告完成数量"),  # the counted thing is in the other name
            ("培训人次", "培训人数"),  # one thing counted two ways (the suffix classes tell those apart)
            ("补贴渔船数", "渔船补贴率"),  # not both counts
        ]
    )
    assert count_conflict(stems, i, j).tolist() == [True, True, False, False, False]


def test_unit_family_conflict() -> None:
    a = np.array(["人", "人", "%", "万元", "元/生", "公里", "人", "", "场"], dtype=object)
    b = np.array(["个", "户", "万元", "元", "元/生.年", "米", "人", "个", "次"], dtype=object)
    conflict = unit_family_conflict(a, b).tolist()
    # People against things, households or money against a share: two measures; two scales of one quantity, one
    # unit twice, a unit missing or two words for events: not.
    assert conflict == [True, True, True, False, False, False, False, False, False]


def test_the_model_reads_them_against_a_duplicate() -> None:
    """Two groups' satisfaction scores lower than the same group's satisfaction worded twice, and the features
    are in the matrix the model scores."""
    f = features(
        groups=("学生家长满意度", "学生满意度"),
        same=("学生满意度", "学生满意率"),
        citizens=("市民满意度", "居民满意度"),
    )
    assert f["groups"]["group_conflict"] == 1 and f["same"]["group_conflict"] == 0
    assert f["citizens"]["group_conflict"] == 0  # read on canonical words: 市民 and 居民 are one group
    model = load_model()
    rows = np.array([[f[k][n] for n in model.features] for k in ("groups", "same")])
    p = model.probability(rows)
    assert p[0] < p[1] and model.coef[COLUMN["group_conflict"]] < 0, p
    assert model.coef[COLUMN["unit_family_conflict"]] < 0
