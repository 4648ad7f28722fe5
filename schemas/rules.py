"""Cross-row rules of SPEC §3 that keep a row but warn (project composition, counts, weights, baselines).

Each rule is a named, pure function over the canonicalised rows of every readable workbook at once and
returns "hits": a DataFrame with columns idx (row label), code, column, value, detail. A project is
identified within its workbook (PROJECT_KEY = file + project name) and a department by its workbook, so
every rule is a few grouped, vectorised operations: linear in the rows. validate.py turns hits into
located findings. RULES lists them in the order they are reported.
"""

from __future__ import annotations

import json
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


PROJECT_KEY = "_project_key"


def with_project_key(rows: pd.DataFrame) -> pd.DataFrame:
    """Projects of different departments may share a name: a project is (workbook, project name)."""
    return rows.assign(**{PROJECT_KEY: rows["source_file"] + "\x1f" + rows["project"]})


def _projects(rows: pd.DataFrame) -> pd.DataFrame:
    """Project rows that count for composition: kept rows of the 项目支出指标 sheet."""
    return rows[(rows["sheet_kind"] == "project") & (rows["project"] != "") & ~rows["rejected"]]


def _first_row_per_project(projects: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The first row of each project flagged in `mask` (indexed by project key): where the warning points."""
    first = projects[~projects[PROJECT_KEY].duplicated()]
    return first[first[PROJECT_KEY].map(mask).fillna(False).astype(bool)]


def project_indicator_count(rows: pd.DataFrame) -> pd.DataFrame:
    """W201: a project with more than project_max_indicators indicators."""
    projects = _projects(rows)
    counts = projects.groupby(PROJECT_KEY, sort=False).size()
    first = _first_row_per_project(projects, counts > _REF.limits["project_max_indicators"])
    return _hits(first, "W201", "project", first["project"], first[PROJECT_KEY].map(counts).astype(str))


def _composition(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per project: which 一级 and 二级 it has (one boolean column per label). Three rules need it, so
    run_rules computes it once and leaves it in rows.attrs."""
    cached = rows.attrs.get("_composition")
    if cached is not None:
        return cached
    projects = _projects(rows)
    has = projects.groupby([PROJECT_KEY, "level1"], sort=False).size().unstack(fill_value=0).gt(0)
    has2 = projects.groupby([PROJECT_KEY, "level2"], sort=False).size().unstack(fill_value=0).gt(0)
    return projects, has.join(has2, how="outer", rsuffix="_2").fillna(False)


def _has(has: pd.DataFrame, label: str) -> pd.Series:
    return has[label] if label in has else pd.Series(False, index=has.index)


def project_has_output_and_effect(rows: pd.DataFrame) -> pd.DataFrame:
    """W202 no 产出指标, W203 no 效益指标, W204 产出 without 数量 or 质量."""
    projects, has = _composition(rows)
    if projects.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    out = []
    no_output = ~_has(has, "产出指标")
    for code, mask in (("W202", no_output), ("W203", ~_has(has, "效益指标"))):
        first = _first_row_per_project(projects, mask)
        out.append(_hits(first, code, "project", first["project"]))
    missing = pd.Series("", index=has.index, dtype=str)
    missing = missing.mask(~_has(has, "数量指标"), "数量指标")
    missing = missing.mask(~_has(has, "质量指标"), missing.where(missing == "", missing + "、") + "质量指标")
    first = _first_row_per_project(projects, ~no_output & (missing != ""))
    out.append(_hits(first, "W204", "level2", first["project"], first[PROJECT_KEY].map(missing)))
    return pd.concat(out, ignore_index=True)


def construction_has_cost(rows: pd.DataFrame) -> pd.DataFrame:
    """W205: 工程基建类 / 大型修缮及购置类 projects must carry a 成本指标."""
    projects, has = _composition(rows)
    if projects.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    category = projects.groupby(PROJECT_KEY, sort=False)["project_category"].first()
    needs_cost = category.isin(("工程基建类", "大型修缮及购置类")).reindex(has.index, fill_value=False)
    first = _first_row_per_project(projects, needs_cost & ~_has(has, "成本指标"))
    return _hits(first, "W205", "project", first["project"], first[PROJECT_KEY].map(category))


def core_count_limit(rows: pd.DataFrame) -> pd.DataFrame:
    """W206: department core indicators over 6 (单一) or 10 (复杂; also when unstated)."""
    core = rows[(rows["sheet_kind"] == "core") & ~rows["rejected"] & (rows["include"] != "否")]
    if core.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    position = core.groupby("source_file", sort=False).cumcount()
    size = core.groupby("source_file", sort=False)["source_file"].transform("size")
    limit = core["complexity"].map(
        lambda c: _REF.limits["core_max_single" if c == "单一" else "core_max_complex"]
    )
    first = core[position == limit]  # point at the first row over the limit
    return _hits(first, "W206", "name", size[first.index].astype(str), limit[first.index].astype(str))


def weight_split(rows: pd.DataFrame) -> pd.DataFrame:
    """W207: weights given but not the MoF split of 一级 shares (schemas/reference/weight_split.csv)."""
    projects, has = _composition(rows)
    weighted = projects[projects["weight_value"].notna()]
    if weighted.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    actual = (
        weighted.groupby([PROJECT_KEY, "level1"], sort=False)["weight_value"].sum().unstack(fill_value=0.0)
    )
    first = weighted[~weighted[PROJECT_KEY].duplicated()].set_index(PROJECT_KEY)
    has_cost, has_satisfaction = _has(has, "成本指标"), _has(has, "满意度指标")
    out = []
    for key in actual.index:  # one pass per weighted project, each O(levels)
        expected = _REF.weight_split[(bool(has_cost[key]), bool(has_satisfaction[key]))]
        wrong = {l1: (float(actual.at[key, l1]) if l1 in actual else 0.0, w) for l1, w in expected.items()}
        wrong = {l1: (a, w) for l1, (a, w) in wrong.items() if abs(a - w) > 0.01}
        if wrong:
            detail = "，".join(f"{l1} {a:g} 应为 {w}" for l1, (a, w) in wrong.items())
            row = first.loc[[key]]
            out.append(
                pd.DataFrame(
                    {
                        "idx": [row["_idx"].iloc[0]],
                        "code": "W207",
                        "column": "weight",
                        "value": [row["project"].iloc[0]],
                        "detail": [detail],
                    }
                )
            )
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
    if "function_code_listed" in rows:  # known in any list: shipped, older edition, the bureau's own
        mask = ~rows["rejected"] & (rows["function_code"].str.len() > 3) & ~rows["function_code_listed"]
        hit = rows.loc[mask, ["function_code", "function_code_parent"]]
        return _hits(hit, "W211", "function_code", hit["function_code"], hit["function_code_parent"])
    kept = rows[~rows["rejected"] & (rows["function_code"].str.len() > 3)]  # rows not from validate
    codes = _REF.function_codes
    hit = kept[~kept["function_code"].isin(codes.keys())]
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


def _rate_kinds(rows: pd.DataFrame) -> pd.Series:
    """What each row's name measures as a percentage (rate_names.csv): satisfaction / bounded / unbounded / "".
    validate.canonicalize_rows computes it once, vectorised (column rate_kind)."""
    if "rate_kind" in rows:
        return rows["rate_kind"]
    names = rows["name"]
    uniques = pd.unique(names)
    return names.map(dict(zip(uniques, (_REF.rate_kind(n)[0] for n in uniques), strict=True)))


def _rate_endings(rows: pd.DataFrame) -> pd.Series:
    if "rate_ending" in rows:
        return rows["rate_ending"]
    return rows["name"].map(lambda n: _REF.rate_kind(n)[1])


PERCENT_UNITS = frozenset({"%", "百分比", "百分率"})


def percent_target_over_100(rows: pd.DataFrame) -> pd.DataFrame:
    """R115 (row error): a 满意度 or part-of-a-whole rate (合格率, 覆盖率 …) whose percentage target is above
    100. Growth-like rates (增长率, 完成率 …) are declared unbounded in rate_names.csv and never judged."""
    candidates = rows[rows["target_value"].notna() & (rows["target_value"] > 100)]
    if candidates.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    kinds = _rate_kinds(candidates)
    unit = candidates["unit"].str.replace(" ", "", regex=False)
    percent = (
        unit.isin(PERCENT_UNITS)
        | (candidates["target_unit"] == "%")
        | ((unit == "") & (candidates["target_unit"] == ""))  # a rate with no unit is a percentage
    )
    hit = candidates[kinds.isin(("satisfaction", "bounded")) & percent]
    return _hits(hit, "R115", "target", hit["target"], _rate_endings(hit))


ROW_ERROR_RULES: dict[str, Rule] = {"percent_target_over_100": percent_target_over_100}


def satisfaction_filed_as_satisfaction(rows: pd.DataFrame) -> pd.DataFrame:
    """W218: a 满意度-like name (满意度, 满意率) filed under 产出指标 or 效益指标."""
    kept = rows[~rows["rejected"] & rows["level1"].isin(("产出指标", "效益指标"))]
    if kept.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    hit = kept[_rate_kinds(kept) == "satisfaction"]
    return _hits(hit, "W218", "name", hit["name"], hit["level1"])


_HISTORY_NUMBER = re.compile(r"^(?:[≥≤><]=?|=)?\s*(-?\d+(?:\.\d+)?)\s*(\S{0,6})$")


def _last_history(history_json: str) -> tuple[str, float, str] | None:
    """(year, value, unit) of the latest year of a 历史值 cell when it is a plain number, else None."""
    try:
        history = json.loads(history_json) if history_json else {}
    except ValueError:
        return None
    years = sorted(y for y in history if y)
    if not years:
        return None
    match = _HISTORY_NUMBER.match(str(history[years[-1]]).replace(" ", ""))
    if not match:
        return None
    return years[-1], float(match.group(1)), match.group(2)


def target_not_below_history(rows: pd.DataFrame) -> pd.DataFrame:
    """W215 (从严从高): a ≥ target below the latest 历史值 of the row, or a ≤ target above it (same unit)."""
    mask = (
        ~rows["rejected"]
        & rows["target_value"].notna()
        & rows["symbol"].isin(("≥", ">", "≤", "<"))
        & ~rows["history_json"].isin(("", "{}"))
    )
    kept = rows.loc[mask, ["target", "target_value", "symbol", "unit", "target_unit", "history_json"]]
    if kept.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    uniques = pd.unique(kept["history_json"]).tolist()
    parsed = {u: p for u in uniques if (p := _last_history(u)) is not None}
    kept = kept[kept["history_json"].isin(parsed.keys())]
    if kept.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    year = kept["history_json"].map({u: p[0] for u, p in parsed.items()})
    value = kept["history_json"].map({u: p[1] for u, p in parsed.items()}).astype(float)
    past_unit = kept["history_json"].map({u: p[2] for u, p in parsed.items()})
    same_unit = (
        (past_unit == "")
        | (past_unit == kept["unit"].str.replace(" ", "", regex=False))
        | (past_unit == kept["target_unit"])
    )
    looser = kept["symbol"].isin(("≥", ">"))
    worse = same_unit & (
        (looser & (kept["target_value"] < value)) | (~looser & (kept["target_value"] > value))
    )
    hit = kept[worse]
    detail = pd.Series(
        [f"{y}年 {v:g}{u}" for y, v, u in zip(year[worse], value[worse], past_unit[worse], strict=True)],
        index=hit.index,
        dtype=object,
    )
    return _hits(hit, "W215", "target", hit["target"], detail)


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
    "satisfaction_filed_as_satisfaction": satisfaction_filed_as_satisfaction,
    "target_not_below_history": target_not_below_history,
}


def run_rules(rows: pd.DataFrame) -> pd.DataFrame:
    """All warning rules over the rows of every readable workbook."""
    rows = with_project_key(rows).assign(_idx=rows.index)
    rows.attrs["_composition"] = _composition(rows)
    hits = [rule(rows) for rule in RULES.values()]
    rows.attrs.pop("_composition")
    hits = [h for h in hits if not h.empty]
    return pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(columns=HIT_COLUMNS)
