"""Difference patterns: which characters differ between two indicator names ("湿→耕", "∅→新增").

A pattern is what the review sheet groups by, so that one decision can cover every pair that differs the
same way; the pair model reads the same segments to tell a qualifier prefix from a changed measure.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

from rapidfuzz.distance import Levenshtein

EMPTY = "∅"  # an insertion or deletion in a pattern: "∅→新增"
SAME_NAME = (
    "名称相同"  # the pattern of a pair whose names match (and whose 二级, scope, class or unit differ)
)


Span = tuple[str, str, int, int]


def spans_of(b: str, a: str) -> tuple[Span, ...]:
    """Differing segments from B to A with their positions in B: [("湿", "耕", 0, 1)]; adjacent edits joined
    (a run of non-equal opcodes is one segment: opcodes tile both names, so only an equal block parts two)."""
    ops: list[Span] = []
    run = False
    s0 = s1 = d0 = d1 = 0
    # Plain tuples (as_list): no Opcode attribute lookups in the loop.
    opcodes = cast("list[tuple[str, int, int, int, int]]", Levenshtein.opcodes(b, a).as_list())
    for tag, ss, se, ds, de in opcodes:
        if tag == "equal":
            if run:
                ops.append((b[s0:s1], a[d0:d1], s0, s1))
                run = False
        elif run:
            s1, d1 = se, de
        else:
            run, s0, s1, d0, d1 = True, ss, se, ds, de
    if run:
        ops.append((b[s0:s1], a[d0:d1], s0, s1))
    return tuple(ops)


# The reason and the pattern of one pair read the same names; single look-ups (review_pairs) are cached.
diff_spans = lru_cache(maxsize=1 << 16)(spans_of)


def diff_ops(b: str, a: str) -> list[tuple[str, str]]:
    """The differing segments from name B to name A: [("湿", "耕")] for 湿地执行率 → 耕地执行率."""
    return [(x, y) for x, y, _, _ in diff_spans(b, a)]


def pattern_of(ops: list[tuple[str, str]]) -> str:
    """The pattern text of differing segments: "湿→耕", "∅→新增", "参→培；率→度" ("" when none differ)."""
    return "；".join(f"{x or EMPTY}→{y or EMPTY}" for x, y in ops)


def diff_pattern(b: str, a: str) -> str:
    """The difference pattern shown and grouped on the review sheet: "湿→耕", "∅→新增", "参→培；率→度"."""
    return pattern_of(diff_ops(b, a))
