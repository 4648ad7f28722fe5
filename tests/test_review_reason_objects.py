"""The 理由 of merge_review.xlsx names the group, count and unit-family conflicts the pair model reads
(pipelines/dedupe/objects.py): a clerk sees why a listed pair may be two indicators."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from pipelines.dedupe.blocking import BlockingConfig
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.review import REVIEW_COLUMNS, write_merge_review
from pipelines.dedupe.scoring import ModelScoring
from tests.test_match import clusters


def _reasons(tmp_path: Path, *records: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """理由 clauses of every pair of the records, read from the merge_review.xlsx written for them."""
    frame = clusters(*records)
    listed = find_candidates(
        frame, None, config=BlockingConfig(min_cosine=0.0), scoring=ModelScoring(min_score=0, per_name=0)
    )
    path = write_merge_review(listed, tmp_path / "merge_review.xlsx")
    sheet = load_workbook(path, read_only=True).worksheets[0]
    rows = sheet.iter_rows(min_row=2, values_only=True)
    name_a, name_b, reason = (REVIEW_COLUMNS.index(c) for c in ("指标名称A", "指标名称B", "理由"))
    return {(r[name_a], r[name_b]): str(r[reason]).split("；") for r in rows}


def _clauses(reasons: dict[tuple[str, str], list[str]], one: str, other: str) -> list[str]:
    found = [v for (a, b), v in reasons.items() if {a, b} == {one, other}]
    assert len(found) == 1, sorted(reasons)
    return found[0]


GROUPS = "对象不同：A为“学生”，B为“学生家长”，多为不同的指标"  # each side's groups quoted
COUNTS = "计数对象不同：两个名称统计的不是同一种事物，多为不同的指标"


def test_group_and_count_conflicts_are_named(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "学生满意度", "unit": "%"},
        {"name": "学生家长满意度", "unit": "%"},
        {"name": "保障村干部人数", "unit": "人"},
        {"name": "保障遗属人数", "unit": "人"},
    )
    groups = _clauses(reasons, "学生满意度", "学生家长满意度")
    assert GROUPS in groups and COUNTS not in groups, groups
    assert (
        groups[0] == "名称仅多一个限定词“家长”：家长→∅" and groups[1] == GROUPS
    )  # the clause follows the name's
    counts = _clauses(reasons, "保障村干部人数", "保障遗属人数")
    assert COUNTS in counts and GROUPS not in counts, counts
    assert "单位相同（人）" in counts


def test_unit_family_conflict_names_both_units_and_a_scale_does_not(tmp_path: Path) -> None:
    reasons = _reasons(
        tmp_path,
        {"name": "受益对象数量", "unit": "人"},
        {"name": "受益对象数量", "unit": "个"},
        {"name": "项目总投资", "unit": "万元"},
        {"name": "项目总投资", "unit": "元"},
    )
    people = _clauses(reasons, "受益对象数量", "受益对象数量")
    assert [c for c in people if c.startswith("单位")] == [
        "单位类别不同：A为“人”，B为“个”，计量的不是同一种量，不能自动合并"
    ], people
    # 万元 / 元: one quantity in two scales, no unit-family clause.
    money = _clauses(reasons, "项目总投资", "项目总投资")
    assert [c for c in money if c.startswith("单位")] == ["单位不同：A为“万元”，B为“元”，不能自动合并"], money
    assert not any("类别" in c or "同一种量" in c for c in money)


def test_group_words_are_read_whole_in_the_names_order() -> None:
    from pipelines.dedupe.objects import group_words

    assert group_words("学生家长满意度") == "学生家长"  # the longer word, not 学生 and 家长
    assert group_words("教师和学生满意度") == "教师、学生"
    assert group_words("学生及学生家长满意度") == "学生、学生家长"
    assert group_words("项目完成率") == ""


def test_a_group_conflict_without_readable_groups_keeps_the_general_clause() -> None:
    import numpy as np

    from pipelines.dedupe.features import COLUMN, FEATURES
    from pipelines.dedupe.reasons import GROUP_CONFLICT, Side, _groups

    x = np.zeros((3, len(FEATURES)))
    x[:2, COLUMN["group_conflict"]] = 1

    def side(groups: list[str]) -> Side:
        empty = np.array([""] * 3, dtype=object)
        return Side(empty, empty, empty, empty, empty, empty, np.array(groups, dtype=object))

    got = _groups(x, side(["学生", "", "教师"]), side(["教师", "学生", "学生"]))
    assert list(got) == ["对象不同：A为“学生”，B为“教师”，多为不同的指标", GROUP_CONFLICT, ""]
