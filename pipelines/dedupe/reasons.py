"""The 理由 of a candidate pair in words a finance clerk reads: what differs, what agrees, what to check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """What the reason says about one side of a pair."""

    unit: str
    suffix: str
    scope: str
    level2: str
    fclass: str
    origin: str


def _name_part(pattern: str, ops: list[tuple[str, str]], f: dict[str, float]) -> str:
    changed = sum(max(len(x), len(y)) for x, y in ops)
    if not ops:
        return "规范化后名称相同"
    if f["order_ratio"] == 1.0:
        return f"名称用字相同，仅语序不同：{pattern}"
    if f["near_synonym"]:
        return f"名称仅近义词不同：{pattern}"
    if f["prefix_added"] or f["inner_added"]:
        added = next(x or y for x, y in ops)
        return f"名称仅多一个限定词“{added}”：{pattern}"
    if changed == 1:
        return f"名称仅差一字：{pattern}"
    return f"名称相似度{100 * f['name_ratio']:.0f}，差异：{pattern}"


def _warnings(ops: list[tuple[str, str]], f: dict[str, float]) -> list[str]:
    parts = []
    if f["measure_word"] and ops:
        parts.append("差异词说明计量方式或口径（如及时、足额、合格、平均），可能是不同的指标")
    if f["contrast"]:
        parts.append("差异词常表示不同的计量内容（如开工/完工、增/减、城市/农村），请核对")
    if f["number_diff"]:
        parts.append("差异含数字（期间、序号或数量不同），多为不同指标")
    if f["def_both"]:
        parts.append(f"指标解释相似度{100 * f['def_sim']:.0f}")
    else:
        parts.append("指标解释缺失，无法比较")
    return parts


def _unit_and_suffix(f: dict[str, float], a: Side, b: Side) -> list[str]:
    parts = []
    if a.unit and b.unit:
        parts.append(
            f"单位相同（{a.unit}）"
            if a.unit == b.unit
            else f"单位不同：A为“{a.unit}”，B为“{b.unit}”，不能自动合并"
        )
    elif a.unit or b.unit:
        parts.append(f"{'B' if a.unit else 'A'}未填单位")
    else:
        parts.append("双方均未填单位")
    if a.suffix and a.suffix == b.suffix:
        parts.append(f"后缀同为“{a.suffix}”")
    elif f["suffix_conflict"]:
        parts.append(f"后缀不同：“{a.suffix}”与“{b.suffix}”，多为不同的计量对象")
    elif a.suffix or b.suffix:
        parts.append(f"后缀相容：“{a.suffix or '未识别'}”与“{b.suffix or '未识别'}”")
    return parts


def _filing(f: dict[str, float], a: Side, b: Side) -> list[str]:
    parts = []
    if a.level2 != b.level2:
        parts.append(f"二级指标不同：A在“{a.level2 or '未填'}”，B在“{b.level2 or '未填'}”")
    if a.scope != b.scope:
        parts.append(f"范围不同：A为{a.scope or '未填'}指标，B为{b.scope or '未填'}指标")
    elif f["class_diff"]:
        parts.append(
            f"功能分类不同（{a.fclass}类、{b.fclass}类）：若为同一指标，可合并，或设为共性指标供各部门使用"
        )
    if a.origin == "existing":
        parts.append("A为上一版指标库中的指标")
    if a.scope == "共性":
        parts.append("A为共性指标：若相同，B应作为该共性指标的使用")
    return parts


def reason(
    pattern: str, ops: list[tuple[str, str]], f: dict[str, float], a: Side, b: Side, score: float
) -> str:
    """The 理由 of a pair (f: its features by name; score: 0–100)."""
    parts = [
        _name_part(pattern, ops, f),
        *_warnings(ops, f),
        *_unit_and_suffix(f, a, b),
        *_filing(f, a, b),
        f"估计为同一指标的可能性{score:.0f}%",
    ]
    return "；".join(parts)


def flags(f: dict[str, float], a: Side, b: Side) -> str:
    """The machine-readable flags of a pair, ";"-joined (unit_conflict, level2_diff …)."""
    return ";".join(
        name
        for name, on in (
            ("unit_conflict", f["unit_conflict"]),
            ("unit_missing", f["unit_missing"]),
            ("number", f["number_diff"]),
            ("suffix_conflict", f["suffix_conflict"]),
            ("contrast", f["contrast"]),
            ("level2_diff", a.level2 != b.level2),
            ("scope_diff", a.scope != b.scope),
            ("class_diff", f["class_diff"]),
        )
        if on
    )
