"""The annual review's look back at targets against what self-evaluation found (issue 14, 从严从高):
indicators met by a wide margin three evaluated years running (targets set too low) and indicators missed
in two or more evaluated years.

The actual values and completion rates are the published self-evaluations (library/evaluations/<Y>/usages,
pipelines/store/evaluations.py) of the years up to the review's year, read from the deployment repo's library/
(inputs.repo_root, as the rebuild's other readers of evaluations); the targets' numbers are the release's
usages. A usage is one department's indicator in one project; a row whose 完成值 had a finding is left out
(it says nothing about what was achieved). Deterministic: sorted on department, indicator, project.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.intake.targets import shown_target
from pipelines.report.model import ReportInputs, ReviewTable
from pipelines.store.evaluations import evaluated_years, read_evaluation
from pipelines.store.publish import LIBRARY_DIR

WIDE_MARGIN = 0.2  # actual ≥ 1.2 × target (≥ targets) or ≤ 0.8 × target (≤ targets)
RUNNING_YEARS = 3  # consecutive evaluated years met by a wide margin
MISSED_YEARS = 2  # evaluated years with completion below 100 %
KEYS = ["dept_code", "indicator_id", "project"]
RATED_RULES = ("direct", "proportional", "satisfaction")

TOO_LOW_TITLES = {
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "indicator_id": "库内编号",
    "name": "指标名称",
    "project": "项目",
    "years": "连续年度",
    "targets": "各年目标值",
    "actuals": "各年完成值",
}
MISSED_TITLES = {
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "indicator_id": "库内编号",
    "name": "指标名称",
    "project": "项目",
    "missed": "未完成年数",
    "evaluated": "自评年数",
    "years": "未完成的年度及完成率",
}
TOO_LOW_NOTE = (
    "规则：同一部门同一项目的同一指标，连续 3 个已自评年度完成值都远超目标——“≥”“>”类目标完成值不低于目标值的 120%，"
    "“≤”“<”类目标完成值不高于目标值的 80%——说明目标可能定得偏低，下一年度应从严从高设定。"
    "只计数值型目标和填写无误的完成值。"
)
MISSED_NOTE = (
    "规则：同一部门同一项目的同一指标，在 2 个及以上已自评年度完成率低于 100%（定量和是/否指标按自评的完成率，"
    "满意度指标按满意度 ÷ 目标值；定性指标不计），请部门分析原因，核实目标是否合理、措施是否到位。"
)
NO_EVALUATION = "（指标库中尚无 {year} 年及以前的绩效自评结果。）"


def evaluated_usages(inputs: ReportInputs) -> pd.DataFrame:
    """Every published self-evaluated usage of the years up to inputs.year, clean rows only, with the
    release's numeric target (target_value); empty without a repo or an evaluation."""
    library = Path(inputs.repo_root) / LIBRARY_DIR if inputs.repo_root is not None else None
    years = [y for y in evaluated_years(library) if y <= inputs.year] if library is not None else []
    frames = [read_evaluation(library, y, "usages") for y in years] if library is not None else []
    found = [f for f in frames if f is not None and len(f)]
    if not found:
        return pd.DataFrame(columns=[*KEYS, "year", "target_value"])
    usages = pd.concat(found, ignore_index=True)
    usages = usages[usages["findings"] == ""]
    targets = inputs.tables.usages.loc[:, [*KEYS, "year", "target_value"]]
    targets = targets.drop_duplicates([*KEYS, "year"], keep="first")
    out = usages.merge(targets.astype({"year": "int64"}), on=[*KEYS, "year"], how="left")
    return out.sort_values([*KEYS, "year"], kind="mergesort").reset_index(drop=True)


DEPT_WIDE = "（部门整体）"  # the project shown for a 部门整体 usage


def _key(key: tuple) -> dict[str, object]:
    out = dict(zip(KEYS, key, strict=True))
    return out | {"project": out["project"] or DEPT_WIDE}


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _runs(years: list[int], all_years: list[int]) -> list[int] | None:
    """The last run of RUNNING_YEARS adjacent evaluated years among `years`, or None."""
    position = {y: i for i, y in enumerate(all_years)}
    best = None
    for i in range(len(years) - RUNNING_YEARS + 1):
        window = years[i : i + RUNNING_YEARS]
        if position[window[-1]] - position[window[0]] == RUNNING_YEARS - 1:
            best = window
    return best


def too_low(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Usages met by a wide margin in RUNNING_YEARS consecutive evaluated years."""
    value, actual = evaluated["target_value"].astype("float64"), evaluated["actual_value"].astype("float64")
    greater, less = evaluated["symbol"].isin(("≥", ">")), evaluated["symbol"].isin(("≤", "<"))
    wide = (
        value.notna()
        & actual.notna()
        & (
            (greater & (value > 0) & (actual >= (1 + WIDE_MARGIN) * value))
            | (less & (actual <= (1 - WIDE_MARGIN) * value))
        )
    )
    all_years = sorted(set(evaluated["year"].astype(int)))
    records = []
    for key, group in evaluated[wide].groupby(KEYS, sort=True):
        run = _runs(sorted(group["year"].astype(int)), all_years)
        if run is None:
            continue
        rows = group[group["year"].isin(run)]
        last = rows.iloc[-1]
        records.append(
            _key(key)
            | {
                "dept_name": last["dept_name"],
                "name": last["name"],
                "years": "、".join(map(str, run)),
                "targets": " / ".join(
                    shown_target(str(s), str(t)) for s, t in zip(rows["symbol"], rows["target"], strict=True)
                ),
                "actuals": " / ".join(_num(a) for a in rows["actual_value"]),
            }
        )
    return pd.DataFrame(records, columns=list(TOO_LOW_TITLES))


def completion(evaluated: pd.DataFrame) -> pd.Series:
    """The completion rate in percent per row: the scorer's rate; a 满意度 row's satisfaction ÷ its target."""
    rate = evaluated["rate"].astype("float64").where(evaluated["rule"].isin(RATED_RULES))
    satisfaction = evaluated["rule"] == "satisfaction"
    target = evaluated["target_value"].astype("float64")
    ratio = 100 * evaluated["actual_value"].astype("float64") / target.where(target > 0)
    return rate.where(~satisfaction, ratio)


def missed(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Usages with completion below 100 % in MISSED_YEARS or more evaluated years."""
    frame = evaluated.assign(completion=completion(evaluated))
    frame = frame[frame["completion"].notna()]
    records = []
    for key, group in frame.groupby(KEYS, sort=True):
        below = group[group["completion"] < 100 - 1e-9]
        if len(below) < MISSED_YEARS:
            continue
        last = group.iloc[-1]
        years = "；".join(
            f"{y} 年 {_num(c)}%" for y, c in zip(below["year"], below["completion"], strict=True)
        )
        records.append(
            _key(key)
            | {
                "dept_name": last["dept_name"],
                "name": last["name"],
                "missed": len(below),
                "evaluated": len(group),
                "years": years,
            }
        )
    return pd.DataFrame(records, columns=list(MISSED_TITLES))


def target_reviews(inputs: ReportInputs) -> list[ReviewTable]:
    """The two tables of the section 目标值与完成情况 (after the trend)."""
    evaluated = evaluated_usages(inputs)
    empty = NO_EVALUATION.format(year=inputs.year) if evaluated.empty else ""
    low = too_low(evaluated) if len(evaluated) else pd.DataFrame(columns=list(TOO_LOW_TITLES))
    miss = missed(evaluated) if len(evaluated) else pd.DataFrame(columns=list(MISSED_TITLES))
    return [
        ReviewTable(
            "targets_too_low", "目标偏低", "连续三年大幅超额完成的指标（目标可能偏低）", low, TOO_LOW_TITLES,
            note=TOO_LOW_NOTE + empty,
        ),
        ReviewTable(
            "targets_missed", "多年未完成", "两年及以上未完成目标的指标", miss, MISSED_TITLES, ("missed", "evaluated"),
            note=MISSED_NOTE + empty,
        ),
    ]  # fmt: skip
