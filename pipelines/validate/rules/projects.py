"""A project's indicators as a whole (CONTRACT §3, MoF guidance): W201 more than 10, W202 no 产出, W203 no 效益,
W204 产出 without 数量 or 质量, W205 a construction project without 成本, W207 weights not the MoF split.

A project is identified within its workbook (file + project name: departments may share a name), so each
rule is a few grouped, vectorised operations, linear in the rows."""

from __future__ import annotations

import pandas as pd

from pipelines.validate.hits import HIT_COLUMNS, hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule, shared

PROJECT_KEY = "_project_key"
_PROJECT_COLUMNS = ("source_file", "project", "level1", "level2", "project_category", "weight_value")


def _projects(rows: pd.DataFrame) -> pd.DataFrame:
    """Project rows that count for composition: kept rows of the 项目支出指标 sheet, with their key."""
    kept = (rows["sheet_kind"] == "project") & (rows["project"] != "") & ~rows["rejected"]
    projects = rows.loc[kept, list(_PROJECT_COLUMNS)]  # only what the rules read: the rows are wide
    return projects.assign(**{PROJECT_KEY: projects["source_file"] + "\x1f" + projects["project"]})


def _composition(rows: pd.DataFrame, ctx: RuleContext) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The project rows, per project which 一级 and 二级 it has (one boolean column per label), and each
    project's first row (where its warnings point: five findings of four rules pick from them)."""

    def compute() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        projects = _projects(rows)
        has = projects.groupby([PROJECT_KEY, "level1"], sort=False).size().unstack(fill_value=0).gt(0)
        has2 = projects.groupby([PROJECT_KEY, "level2"], sort=False).size().unstack(fill_value=0).gt(0)
        first = projects[~projects[PROJECT_KEY].duplicated()]
        return projects, has.join(has2, how="outer", rsuffix="_2").fillna(False), first

    result: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] = shared(
        ctx, "project_composition", rows, compute
    )
    return result


def _has(has: pd.DataFrame, label: str) -> pd.Series:
    return has[label] if label in has else pd.Series(False, index=has.index)


def _first_row_per_project(first: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The first rows (_composition's) of the projects flagged in `mask` (indexed by project key): where
    the warning points."""
    return first[first[PROJECT_KEY].map(mask).fillna(False).astype(bool)]


def project_indicator_count(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    projects, _, firsts = _composition(rows, ctx)
    counts = projects.groupby(PROJECT_KEY, sort=False).size()
    first = _first_row_per_project(firsts, counts > ctx.ref.limits["project_max_indicators"])
    return hits(first.index, "W201", "project", first["project"], first[PROJECT_KEY].map(counts).astype(str))


def project_has_output_and_effect(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    projects, has, firsts = _composition(rows, ctx)
    if projects.empty:
        return no_hits()
    out = []
    no_output = ~_has(has, "产出指标")
    for code, mask in (("W202", no_output), ("W203", ~_has(has, "效益指标"))):
        first = _first_row_per_project(firsts, mask)
        out.append(hits(first.index, code, "project", first["project"]))
    missing = pd.Series("", index=has.index, dtype=str)
    missing = missing.mask(~_has(has, "数量指标"), "数量指标")
    missing = missing.mask(~_has(has, "质量指标"), missing.where(missing == "", missing + "、") + "质量指标")
    first = _first_row_per_project(firsts, ~no_output & (missing != ""))
    out.append(hits(first.index, "W204", "level2", first["project"], first[PROJECT_KEY].map(missing)))
    return pd.concat(out, ignore_index=True)


def construction_has_cost(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    projects, has, firsts = _composition(rows, ctx)
    if projects.empty:
        return no_hits()
    category = projects.groupby(PROJECT_KEY, sort=False)["project_category"].first()
    needs_cost = category.isin(("工程基建类", "大型修缮及购置类")).reindex(has.index, fill_value=False)
    first = _first_row_per_project(firsts, needs_cost & ~_has(has, "成本指标"))
    return hits(first.index, "W205", "project", first["project"], first[PROJECT_KEY].map(category))


def weight_split(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    """W207 against schemas/reference/weight_split.csv: the 一级 shares depend on whether the project has
    成本 and 满意度 indicators."""
    projects, has, _ = _composition(rows, ctx)
    weighted = projects[projects["weight_value"].notna()]
    if weighted.empty:
        return no_hits()
    actual = (
        weighted.groupby([PROJECT_KEY, "level1"], sort=False)["weight_value"].sum().unstack(fill_value=0.0)
    )
    first = weighted[~weighted[PROJECT_KEY].duplicated()]
    first = pd.Series(first.index, index=first[PROJECT_KEY].to_numpy())
    has_cost, has_satisfaction = _has(has, "成本指标"), _has(has, "满意度指标")
    out = []
    for key in actual.index:  # one pass per weighted project, each O(levels)
        expected = ctx.ref.weight_split[(bool(has_cost[key]), bool(has_satisfaction[key]))]
        wrong = {l1: (float(actual.at[key, l1]) if l1 in actual else 0.0, w) for l1, w in expected.items()}
        wrong = {l1: (a, w) for l1, (a, w) in wrong.items() if abs(a - w) > 0.01}
        if wrong:
            detail = "，".join(f"{l1} {a:g} 应为 {w}" for l1, (a, w) in wrong.items())
            out.append((first[key], "W207", "weight", weighted.at[first[key], "project"], detail))
    return pd.DataFrame(out, columns=HIT_COLUMNS) if out else no_hits()


PROJECT_COUNT = rule(
    "project_count", "W201", "warning", "warnings", "≤ 10 per project", check=project_indicator_count
)
PROJECT_COMPOSITION = rule(
    "project_composition",
    "W202 W203 W204",
    "warning",
    "warnings",
    "产出 and 效益; 数量 and 质量",
    check=project_has_output_and_effect,
)
CONSTRUCTION_COST = rule(
    "construction_cost", "W205", "warning", "warnings", "基建 has 成本", check=construction_has_cost
)
WEIGHT_SPLIT = rule("weight_split", "W207", "warning", "warnings", "MoF weight split", check=weight_split)
