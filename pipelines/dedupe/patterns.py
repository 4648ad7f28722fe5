"""Difference patterns: which characters differ between two indicator names ("湿→耕", "∅→新增").

A pattern is what the review sheet groups by, so that one decision can cover every pair that differs the
same way; the pair model reads the same segments to tell a qualifier prefix from a changed measure.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz.distance import Levenshtein

EMPTY = "∅"  # an insertion or deletion in a pattern: "∅→新增"
SAME_NAME = (
    "名称相同"  # the pattern of a pair whose names match (and whose 二级, scope, class or unit differ)
)


@lru_cache(maxsize=1 << 16)  # the features and the reason of one pair read the same names
def diff_spans(b: str, a: str) -> tuple[tuple[str, str, int, int], ...]:
    """Differing segments from B to A with their positions in B: [("湿", "耕", 0, 1)]; adjacent edits joined."""
    ops: list[tuple[str, str, int, int]] = []
    last_end = (-1, -1)
    for op in Levenshtein.opcodes(b, a):
        if op.tag == "equal":
            continue
        seg_b, seg_a = b[op.src_start : op.src_end], a[op.dest_start : op.dest_end]
        if ops and last_end == (op.src_start, op.dest_start):
            x, y, start, _ = ops[-1]
            ops[-1] = (x + seg_b, y + seg_a, start, op.src_end)
        else:
            ops.append((seg_b, seg_a, op.src_start, op.src_end))
        last_end = (op.src_end, op.dest_end)
    return tuple(ops)


def diff_ops(b: str, a: str) -> list[tuple[str, str]]:
    """The differing segments from name B to name A: [("湿", "耕")] for 湿地执行率 → 耕地执行率."""
    return [(x, y) for x, y, _, _ in diff_spans(b, a)]


def pattern_of(ops: list[tuple[str, str]]) -> str:
    """The pattern text of differing segments: "湿→耕", "∅→新增", "参→培；率→度" ("" when none differ)."""
    return "；".join(f"{x or EMPTY}→{y or EMPTY}" for x, y in ops)


def diff_pattern(b: str, a: str) -> str:
    """The difference pattern shown and grouped on the review sheet: "湿→耕", "∅→新增", "参→培；率→度"."""
    return pattern_of(diff_ops(b, a))
