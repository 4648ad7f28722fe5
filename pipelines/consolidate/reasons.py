"""The Chinese texts consolidation writes: change and retirement reasons recorded in the library, and why a
pair is listed in merge_review.xlsx. One place, so a clerk's wording is found and changed once."""

from __future__ import annotations

# Retirement and merging (recorded on the indicator: retire_reason / last_change_reason).
AUTO_RETIRE_REASON = "本年度无部门使用"
# Not used under its id only because its department's rows of its key went to another of its indicators (two
# of one department's indicators came to share a key without being certainly one): the department did use it,
# so AUTO_RETIRE_REASON would be untrue. {into}: the id(s) the rows went to (collapsed_retire_reason).
COLLAPSED_RETIRE_REASON = (
    "原使用部门本年度与本指标名称、单位、一级和二级指标相同的填报均归入 {into}，本编号因此未再使用；"
    "两者未确认为同一指标，已列入当年合并审核"
)
UPSTREAM_COVERS_REASON = "上级指标库已收录同一指标，本级指标并入上级指标（原编号保留为历史）"
REVIEW_MERGE_REASON = "经人工审核确认为同一指标，已合并"
COMMON_COVERS_REASON = (
    "与共性指标相同（名称、单位、一级和二级指标一致），作为该共性指标的使用，原编号保留为历史"
)
# Two active indicators of the same departments that now share a key (a synonym rule, a 修改) and the same
# explanation: certainly one, merged without a reviewer (pipelines/consolidate/merges.py).
SHARED_KEY_MERGE_REASON = (
    "与同一部门的另一在用指标名称、单位、一级和二级指标现已一致，且指标解释相同：自动合并，原编号保留为历史"
)

# An indicator made 共性 (a 修改 of its scope, keeping its id).
REVIEW_PROMOTED_REASON = "经人工审核设为共性指标：各部门、各功能分类的同一指标作为该共性指标的使用，编号不变"
PROMOTED_REASON = "财政部门将同一指标列为共性指标：本指标转为共性指标，编号不变"

# Pairs consolidation lists for review itself (merge_review.xlsx).
RENAME_REASON = (
    "疑似改名：本部门同一项目中，旧指标本年度未使用，新指标名称相近，"
    "如确为改名请在下年度填报中选“修改”并填写库内编号"
)
KEPT_APART_REASON = (
    "名称与部门未变，沿用原编号；但本年度填报的名称、单位和一二级指标与另一指标相同，请确认是否为同一指标"
)
CROSS_CLASS_KEPT_REASON = (
    "名称、单位、二级指标和指标解释都相同，但分属不同功能分类、各有编号（编号各自保留，未自动合并）："
    "请确认是否为同一指标（可合并，或设为共性指标）"
)
CROSS_CLASS_PAIR_REASON = (
    "名称、单位、二级指标相同，但功能分类不同且指标解释不一致或未填写，未自动合并："
    "请确认是否为同一指标（可合并，或设为共性指标）"
)


def shared_key_reason(why: str) -> str:
    """Two active indicators with one key kept apart (merges.certain_groups): `why` says what keeps them
    apart (分属不同部门, 指标解释不一致 …)."""
    return f"两个在用指标的名称、单位、一级和二级指标已相同，但{why}，未自动合并（编号各自保留）：请确认是否为同一指标"


def collapsed_retire_reason(into: list[str]) -> str:
    """The retire_reason of an indicator whose department's rows of its key went to `into` (usage.py)."""
    return COLLAPSED_RETIRE_REASON.format(into="、".join(into))


def collapsed_key_reason(why: str) -> str:
    """Two indicators of one department that came to share a key without being certainly one: its rows of
    that key all went to one of them, the other was retired (COLLAPSED_RETIRE_REASON;
    review_pairs._collapsed_pairs)."""
    return (
        f"本部门两个指标的名称、单位、一级和二级指标现已相同，但{why}，未自动合并；本年度该部门的填报均归入前者，"
        "后者因无使用而停用：如为同一指标请选“合并”，如不是请在填报中引用各自的库内编号"
    )
