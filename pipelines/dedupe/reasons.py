"""The 理由 of a candidate pair in words a finance clerk reads: what differs, what agrees, what to check.

Written for all listed pairs at once (hundreds of thousands in a province): each clause is a column of
texts, "" where it does not apply, and the clauses are joined column by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat

import numpy as np

from pipelines.dedupe.features import COLUMN

_SEP = "；"
GROUP_CONFLICT = "对象不同：两个名称所指的人群或机构不同，多为不同的指标"
COUNT_CONFLICT = "计数对象不同：两个名称统计的不是同一种事物，多为不同的指标"


@dataclass(frozen=True)
class Side:
    """What the reason says about one side of the pairs: object arrays of text, one entry per pair."""

    unit: np.ndarray
    suffix: np.ndarray
    scope: np.ndarray
    level2: np.ndarray
    fclass: np.ndarray
    origin: np.ndarray
    groups: np.ndarray  # the groups of people its name names (objects.group_words), "" for none


@dataclass(frozen=True)
class Difference:
    """How the two names of each pair differ (patterns.py): the pattern text, the number of differing
    segments, the characters they change, and the first segment's text (what a qualifier adds)."""

    pattern: np.ndarray
    segments: np.ndarray
    changed: np.ndarray
    first: np.ndarray


def _texts(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object)


def _put(out: np.ndarray, cond: np.ndarray, *pieces: str | np.ndarray) -> np.ndarray:
    """Write "".join(pieces) where cond holds; a piece is a string or one text per pair (only the pairs
    written are formatted)."""
    rows = np.flatnonzero(cond)
    if not len(rows):
        return out
    if all(isinstance(p, str) for p in pieces):
        out[rows] = "".join(pieces)  # type: ignore[arg-type]
        return out
    columns = [p[rows] if isinstance(p, np.ndarray) else repeat(p, len(rows)) for p in pieces]
    out[rows] = list(map("".join, zip(*columns, strict=False)))
    return out


def _when(cond: np.ndarray, *pieces: str | np.ndarray) -> np.ndarray:
    """The pieces joined where cond holds, "" elsewhere."""
    return _put(_texts(len(cond)), cond, *pieces)


def _or(values: np.ndarray, fallback: str) -> np.ndarray:
    return np.where(values != "", values, fallback)


def percent(values: np.ndarray) -> np.ndarray:
    """f"{v:.0f}" of each value: rint rounds half to even as Python's formatting does."""
    distinct, inverse = np.unique(np.rint(values), return_inverse=True)
    return np.array([f"{v:.0f}" for v in distinct.tolist()], dtype=object)[inverse.ravel()]


def _joined(parts: list[np.ndarray], sep: str) -> list[str]:
    """Each pair's non-empty parts, in order, joined by sep."""
    return [sep.join(filter(None, row)) for row in zip(*parts, strict=True)]


def _name_part(d: Difference, x: np.ndarray) -> np.ndarray:
    said = np.select(
        [
            d.segments == 0,
            x[:, COLUMN["order_ratio"]] == 1.0,
            x[:, COLUMN["near_synonym"]] != 0,
            (x[:, COLUMN["prefix_added"]] != 0) | (x[:, COLUMN["inner_added"]] != 0),
            d.changed == 1,
        ],
        [0, 1, 2, 3, 4],
        5,
    )
    out = _when(said == 0, "规范化后名称相同")
    _put(out, said == 1, "名称用字相同，仅语序不同：", d.pattern)
    _put(out, said == 2, "名称仅近义词不同：", d.pattern)
    _put(out, said == 3, "名称仅多一个限定词“", d.first, "”：", d.pattern)
    _put(out, said == 4, "名称仅差一字：", d.pattern)
    other = said == 5
    similarity = _texts(len(out))
    similarity[other] = percent(100 * x[other, COLUMN["name_ratio"]])
    return _put(out, other, "名称相似度", similarity, "，差异：", d.pattern)


def _groups(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """对象不同, quoting each side's groups where both are read (the feature reads the same stems)."""
    conflict = x[:, COLUMN["group_conflict"]] != 0
    named = conflict & (a.groups != "") & (b.groups != "")
    clause = _when(conflict & ~named, GROUP_CONFLICT)
    return _put(clause, named, "对象不同：A为“", a.groups, "”，B为“", b.groups, "”，多为不同的指标")


def _warnings(d: Difference, x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    both = x[:, COLUMN["def_both"]] != 0
    similarity = _texts(len(both))
    similarity[both] = percent(100 * x[both, COLUMN["def_sim"]])
    definition = _when(both, "指标解释相似度", similarity)
    definition[~both] = "指标解释缺失，无法比较"
    return [
        _when(
            (x[:, COLUMN["measure_word"]] != 0) & (d.segments > 0),
            "差异词说明计量方式或口径（如及时、足额、合格、平均），可能是不同的指标",
        ),
        _when(
            x[:, COLUMN["contrast"]] != 0,
            "差异词常表示不同的计量内容（如开工/完工、增/减、城市/农村），请核对",
        ),
        _when(x[:, COLUMN["number_diff"]] != 0, "差异含数字（期间、序号或数量不同），多为不同指标"),
        # objects.py: the pair model scores these pairs lower; the clerk reads why.
        _groups(x, a, b),
        _when(x[:, COLUMN["count_conflict"]] != 0, COUNT_CONFLICT),
        definition,
    ]


def _unit_and_suffix(x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    has_a, has_b = a.unit != "", b.unit != ""
    same = a.unit == b.unit
    unit = _when(has_a & has_b & same, "单位相同（", a.unit, "）")
    # Two units of one family (万元 / 元) are one quantity in two scales; of two families (人 / 个), two quantities.
    family = x[:, COLUMN["unit_family_conflict"]] != 0  # both given, so never same
    one_family = has_a & has_b & ~same & ~family
    _put(unit, one_family, "单位不同：A为“", a.unit, "”，B为“", b.unit, "”，不能自动合并")
    _put(unit, family, "单位类别不同：A为“", a.unit, "”，B为“", b.unit, "”，计量的不是同一种量，不能自动合并")
    _put(unit, has_a & ~has_b, "B未填单位")
    _put(unit, ~has_a & has_b, "A未填单位")
    _put(unit, ~has_a & ~has_b, "双方均未填单位")
    alike = (a.suffix != "") & (a.suffix == b.suffix)
    conflict = ~alike & (x[:, COLUMN["suffix_conflict"]] != 0)
    compatible = ~alike & ~conflict & ((a.suffix != "") | (b.suffix != ""))
    suffix = _when(alike, "后缀同为“", a.suffix, "”")
    _put(suffix, conflict, "后缀不同：“", a.suffix, "”与“", b.suffix, "”，多为不同的计量对象")
    _put(suffix, compatible, "后缀相容：“", _or(a.suffix, "未识别"), "”与“", _or(b.suffix, "未识别"), "”")
    return [unit, suffix]


def _filing(x: np.ndarray, a: Side, b: Side) -> list[np.ndarray]:
    level2 = _when(
        a.level2 != b.level2,
        "二级指标不同：A在“",
        _or(a.level2, "未填"),
        "”，B在“",
        _or(b.level2, "未填"),
        "”",
    )
    differs = a.scope != b.scope
    scope = _when(differs, "范围不同：A为", _or(a.scope, "未填"), "指标，B为", _or(b.scope, "未填"), "指标")
    _put(
        scope,
        ~differs & (x[:, COLUMN["class_diff"]] != 0),
        "功能分类不同（",
        a.fclass,
        "类、",
        b.fclass,
        "类）：若为同一指标，可合并，或设为共性指标供各部门使用",
    )
    return [
        level2,
        scope,
        _when(a.origin == "existing", "A为上一版指标库中的指标"),
        _when(a.scope == "共性", "A为共性指标：若相同，B应作为该共性指标的使用"),
    ]


def reasons(d: Difference, x: np.ndarray, a: Side, b: Side, score: np.ndarray) -> np.ndarray:
    """The 理由 of each pair (x: its features, FEATURES columns; score: 0–100, clipped)."""
    clipped = np.where(np.isnan(score), 100.0, np.clip(score, 0.0, 100.0))  # as max(0, min(100, v))
    parts = [
        _name_part(d, x),
        *_warnings(d, x, a, b),
        *_unit_and_suffix(x, a, b),
        *_filing(x, a, b),
        _when(np.ones(len(clipped), dtype=bool), "估计为同一指标的可能性", percent(clipped), "%"),
    ]
    return np.array(_joined(parts, _SEP), dtype=object)


def flags(x: np.ndarray, a: Side, b: Side) -> np.ndarray:
    """The machine-readable flags of each pair, ";"-joined (unit_conflict, level2_diff …)."""
    on = [
        ("unit_conflict", x[:, COLUMN["unit_conflict"]] != 0),
        ("unit_missing", x[:, COLUMN["unit_missing"]] != 0),
        ("number", x[:, COLUMN["number_diff"]] != 0),
        ("suffix_conflict", x[:, COLUMN["suffix_conflict"]] != 0),
        ("contrast", x[:, COLUMN["contrast"]] != 0),
        ("level2_diff", a.level2 != b.level2),
        ("scope_diff", a.scope != b.scope),
        ("class_diff", x[:, COLUMN["class_diff"]] != 0),
    ]
    return np.array(_joined([_when(cond, name) for name, cond in on], ";"), dtype=object)
