"""Cross-row rules of SPEC §3 that keep a row but warn (project composition, counts, weights, baselines).

Each rule is a named, pure function over the canonicalised rows of ONE readable workbook and returns
"hits": a DataFrame with columns idx (row label), code, column, value, detail. validate.py turns hits
into located findings. RULES lists them in the order they are reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from schemas.vocab import reference

HIT_COLUMNS = ["idx", "code", "column", "value", "detail"]
Rule = Callable[[pd.DataFrame], pd.DataFrame]
_REF = reference()
PHASE_NAME = re.compile(
    r"(?:19|20)\d{2}\s*年|[一二三四1-4]\s*季度|第[一二三四五六七八九十\d]+\s*(?:阶段|期)|阶段性|上半年|下半年"
)


def _hits(
    frame: pd.DataFrame, code: str, column: str, value: pd.Series | str = "", detail: pd.Series | str = ""
) -> pd.DataFrame:
    out = pd.DataFrame({"idx": frame.index, "code": code, "column": column})
    out["value"] = value.to_numpy() if isinstance(value, pd.Series) else value
    out["detail"] = detail.to_numpy() if isinstance(detail, pd.Series) else detail
    return out[HIT_COLUMNS]


def _projects(rows: pd.DataFrame) -> pd.DataFrame:
    """Project rows that count for composition: kept rows of the 项目支出指标 sheet."""
    return rows[(rows["sheet_kind"] == "project") & (rows["project"] != "") & ~rows["rejected"]]


def _first_row_per_project(projects: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The first row of each project flagged in `mask` (indexed by project name): where the warning points."""
    first = projects[~projects["project"].duplicated()]
    return first[first["project"].map(mask).fillna(False).astype(bool)]


def project_indicator_count(rows: pd.DataFrame) -> pd.DataFrame:
    """W201: a project with more than project_max_indicators indicators."""
    projects = _projects(rows)
    counts = projects.groupby("project", sort=False).size()
    first = _first_row_per_project(projects, counts > _REF.limits["project_max_indicators"])
    return _hits(first, "W201", "project", first["project"], first["project"].map(counts).astype(str))


def _composition(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    projects = _projects(rows)
    has = pd.crosstab(projects["project"], projects["level1"]).gt(0)
    has2 = pd.crosstab(projects["project"], projects["level2"]).gt(0)
    return projects, has.join(has2, how="outer", rsuffix="_2").fillna(False)


def project_has_output_and_effect(rows: pd.DataFrame) -> pd.DataFrame:
    """W202 no 产出指标, W203 no 效益指标, W204 产出 without 数量 or 质量."""
    projects, has = _composition(rows)
    if projects.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)

    def col(name: str) -> pd.Series:
        return has[name] if name in has else pd.Series(False, index=has.index)

    out = []
    no_output, no_effect = ~col("产出指标"), ~col("效益指标")
    for code, mask in (("W202", no_output), ("W203", no_effect)):
        first = _first_row_per_project(projects, mask)
        out.append(_hits(first, code, "project", first["project"]))
    missing = pd.Series("", index=has.index)
    missing = missing.mask(~col("数量指标"), "数量指标")
    missing = missing.mask(~col("质量指标"), missing.where(missing == "", missing + "、") + "质量指标")
    partial = ~no_output & (missing != "")
    first = _first_row_per_project(projects, partial)
    out.append(
        _hits(
            first,
            "W204",
            "level2",
            first["project"],
            missing[partial].reindex(first["project"]).reset_index(drop=True),
        )
    )
    return pd.concat(out, ignore_index=True)


def construction_has_cost(rows: pd.DataFrame) -> pd.DataFrame:
    """W205: 工程基建类 / 大型修缮及购置类 projects must carry a 成本指标."""
    projects, has = _composition(rows)
    if projects.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    category = projects.groupby("project", sort=False)["project_category"].first()
    needs_cost = category.isin(("工程基建类", "大型修缮及购置类"))
    has_cost = has["成本指标"] if "成本指标" in has else pd.Series(False, index=has.index)
    mask = (needs_cost & ~has_cost.reindex(needs_cost.index, fill_value=False)).reindex(
        has.index, fill_value=False
    )
    first = _first_row_per_project(projects, mask)
    return _hits(
        first, "W205", "project", first["project"], category.reindex(first["project"]).reset_index(drop=True)
    )


def core_count_limit(rows: pd.DataFrame) -> pd.DataFrame:
    """W206: department core indicators over 6 (单一) or 10 (复杂; also when unstated)."""
    core = rows[(rows["sheet_kind"] == "core") & ~rows["rejected"] & (rows["include"] != "否")]
    if core.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    single = core["complexity"].iloc[0] == "单一"
    limit = _REF.limits["core_max_single" if single else "core_max_complex"]
    if len(core) <= limit:
        return pd.DataFrame(columns=HIT_COLUMNS)
    first = core.iloc[[limit]]  # point at the first row over the limit
    return _hits(first, "W206", "name", str(len(core)), str(limit))


def weight_split(rows: pd.DataFrame) -> pd.DataFrame:
    """W207: weights given but not the MoF split of 一级 shares (schemas/reference/weight_split.csv)."""
    projects = _projects(rows)
    weighted = projects[projects["weight_value"].notna()]
    if weighted.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    out = []
    for project, group in weighted.groupby("project", sort=False):
        levels = set(projects.loc[projects["project"] == project, "level1"])
        expected = _REF.weight_split[("成本指标" in levels, "满意度指标" in levels)]
        actual = group.groupby("level1")["weight_value"].sum()
        wrong = {
            l1: (actual.get(l1, 0.0), w) for l1, w in expected.items() if abs(actual.get(l1, 0.0) - w) > 0.01
        }
        if wrong:
            detail = "，".join(f"{l1} {a:g} 应为 {w}" for l1, (a, w) in wrong.items())
            out.append(_hits(group.iloc[[0]], "W207", "weight", project, detail))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=HIT_COLUMNS)


def data_source_present(rows: pd.DataFrame) -> pd.DataFrame:
    """W208: no 数据来源."""
    kept = rows[~rows["rejected"] & (rows["data_source"] == "")]
    return _hits(kept, "W208", "data_source")


def baseline_present(rows: pd.DataFrame) -> pd.DataFrame:
    """W209: 历史值, 国家标准 and 行业标准 all empty."""
    kept = rows[
        ~rows["rejected"]
        & (rows["history"] == "")
        & (rows["national_standard"] == "")
        & (rows["industry_standard"] == "")
    ]
    return _hits(kept, "W209", "history")


def phase_name_marked(rows: pd.DataFrame) -> pd.DataFrame:
    """W210: a name that looks phase-bound (a year, 季度, 阶段) not marked 是否阶段性=是."""
    kept = rows[~rows["rejected"] & (rows["phased"] != "是")]
    looks = kept["name"].str.contains(PHASE_NAME, na=False)
    hit = kept[looks]
    return _hits(hit, "W210", "name", hit["name"])


def function_code_in_catalogue(rows: pd.DataFrame) -> pd.DataFrame:
    """W211: a 款/项 code missing from the catalogue whose 类 is known (the list changes every year)."""
    codes = _REF.function_codes
    kept = rows[~rows["rejected"] & (rows["function_code"].str.len() > 3)]
    unknown = ~kept["function_code"].isin(codes.keys())
    hit = kept[unknown]
    parent = hit["function_code"].map(lambda c: c[:5] if c[:5] in codes and len(c) == 7 else c[:3])
    return _hits(hit, "W211", "function_code", hit["function_code"], parent)


def symbol_matches_target(rows: pd.DataFrame) -> pd.DataFrame:
    """W212: a sign written in the target cell that contradicts the 计算符号 column."""
    kept = rows[~rows["rejected"]]
    clash = (
        (kept["target_symbol"] != "")
        & (kept["symbol_given"] != "")
        & (kept["target_symbol"] != kept["symbol_given"])
    )
    hit = kept[clash]
    return _hits(hit, "W212", "target", hit["target_symbol"], hit["symbol_given"])


def quantitative_has_unit(rows: pd.DataFrame) -> pd.DataFrame:
    """W214: a quantitative indicator with no unit anywhere (column, name or target)."""
    kept = rows[
        ~rows["rejected"] & (rows["nature"] == "定量") & (rows["unit"] == "") & (rows["target_unit"] == "")
    ]
    return _hits(kept, "W214", "unit")


RULES: dict[str, Rule] = {
    "project_indicator_count": project_indicator_count,
    "project_has_output_and_effect": project_has_output_and_effect,
    "construction_has_cost": construction_has_cost,
    "core_count_limit": core_count_limit,
    "weight_split": weight_split,
    "data_source_present": data_source_present,
    "baseline_present": baseline_present,
    "phase_name_marked": phase_name_marked,
    "function_code_in_catalogue": function_code_in_catalogue,
    "symbol_matches_target": symbol_matches_target,
    "quantitative_has_unit": quantitative_has_unit,
}


def run_rules(rows: pd.DataFrame) -> pd.DataFrame:
    """All warning rules over one workbook's rows."""
    hits = [rule(rows) for rule in RULES.values()]
    hits = [h for h in hits if not h.empty]
    return pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(columns=HIT_COLUMNS)
