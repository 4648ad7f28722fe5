"""Template markers in names (issue 11, point 5): pipelines.validate.markers.strip_markers, a pure function."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.validate.markers import strip_markers


@pytest.mark.parametrize(
    ("written", "name", "removed"),
    [
        ("★★★受益建档立卡贫困人口数≥**人", "受益建档立卡贫困人口数", ("★★★", "≥**人")),
        ("指标1:补助发放率", "补助发放率", ("指标1:",)),
        ("指标1：补助发放率", "补助发放率", ("指标1:",)),
        ("指标一、补助发放率", "补助发放率", ("指标一、",)),
        ("种植作物成活率(≥**%)", "种植作物成活率", ("(≥**%)",)),
        ("种植作物成活率（≥95％）", "种植作物成活率", ("(≥95%)",)),
        ("验收合格率≥95%", "验收合格率", ("≥95%",)),
        ("将成果推广至**国家或地区", "将成果推广至国家或地区", ("**",)),
        ("1、培训人次", "培训人次", ("1、",)),
        ("(2)培训人次", "培训人次", ("(2)",)),
        ("①培训人次", "培训人次", ("①",)),
        ("※ 培訓人次", "培训人次", ("※",)),
    ],
)
def test_markers_are_removed_and_named(written: str, name: str, removed: tuple[str, ...]) -> None:
    result = strip_markers(written)
    assert (result.name, result.removed) == (name, removed)
    assert result.changed


@pytest.mark.parametrize(
    ("written", "blanks"),
    [
        ("提高**对**的重视程度", ("**", "**")),
        ("提高＊＊对＊＊的重视程度", ("**", "**")),
        ("××村道路硬化长度", ("××",)),
        ("将成果推广至**国家或地区", ("**",)),
        ("★★★受益建档立卡贫困人口数≥**人", ()),  # a target at the end: only a note
        ("种植作物成活率(≥**%)", ()),
        ("完成率**", ()),
    ],
)
def test_placeholders_before_the_end_of_a_name_are_blanks(written: str, blanks: tuple[str, ...]) -> None:
    result = strip_markers(written)
    assert result.changed and result.blanks == blanks
    assert "*" not in result.name and "××" not in result.name


@pytest.mark.parametrize(
    "written",
    [
        "受益人口数",
        "1.5米宽道路长度",
        "10千伏线路长度",
        "PM2.5浓度≤35微克/立方米天数比例",
        "空气质量优良天数比例(AQI≤100)",
        "培训人次(人次)",  # a unit in brackets is the normalizer's business (and shown as I404 there)
        "★★★",  # nothing left: only cleaned, the empty name is R101's business
        "",
    ],
)
def test_real_names_are_left_alone(written: str) -> None:
    result = strip_markers(written)
    assert not result.changed and result.removed == ()


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="★*指标1:：、(（)）≥≤%人受益数率 ①.", max_size=20))
def test_never_empties_a_name_and_removes_every_star(text: str) -> None:
    once = strip_markers(text)
    if once.changed:
        assert once.name.strip()
        assert "★" not in once.name and "**" not in once.name
    else:
        assert once.removed == ()
