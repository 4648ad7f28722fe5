"""Coverage of the library: active indicators and this year's usages by function class (类) and by the
indicator framework (一级 / 二级 × scope)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.common.frames import distinct_counts
from pipelines.report.departments import distinct_values
from pipelines.report.finding_tally import first_seen
from pipelines.report.model import ReportInputs, ReviewTable
from schemas.library import SCOPES
from schemas.vocab import reference

CLASS_TITLES = {
    "function_class": "类编码",
    "class_name": "类名称",
    "active": "在用项目指标",
    "usages": "本年度使用次数",
    "departments": "使用部门",
    "projects": "项目数",
}
LEVEL_TITLES = {
    "level1": "一级指标",
    "level2": "二级指标",
    **{s: f"在用：{s}" for s in SCOPES},
    "active": "在用合计",
    "usages": "本年度使用次数",
}
UNKNOWN_CLASS = "（参考目录中无此类）"
UNFILLED = "（未填）"


def _by_class_plain(active: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """Project indicators per function class: active ones, and this year's uses, departments, projects
    (pandas on the texts: any column, missing values included)."""
    function_codes = reference().function_codes
    project = active[(active["scope"] == "项目") & (active["function_class"] != "")]
    cls_active = project.groupby("function_class").size()
    use_cls = usages["function_code"].astype(str).str[:3]
    proj_uses = usages[(usages["scope"] == "项目") & (use_cls != "")].assign(cls=use_cls)
    cls_uses = proj_uses.groupby("cls").size()
    cls_depts = proj_uses.groupby("cls")["dept_code"].nunique()
    cls_projects = (
        proj_uses.assign(pk=proj_uses["dept_code"] + "|" + proj_uses["project"])
        .groupby("cls")["pk"]
        .nunique()
    )
    classes = sorted(set(cls_active.index) | set(cls_uses.index))
    return pd.DataFrame(
        [
            {
                "function_class": c,
                "class_name": function_codes[c].name if c in function_codes else UNKNOWN_CLASS,
                "active": int(cls_active.get(c, 0)),
                "usages": int(cls_uses.get(c, 0)),
                "departments": int(cls_depts.get(c, 0)),
                "projects": int(cls_projects.get(c, 0)),
            }
            for c in classes
        ],
        columns=list(CLASS_TITLES),
    )


def _by_level_plain(active: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """Every framework pair (the reference's, then any other seen), active indicators per scope and uses
    (pandas on the texts: any column, missing values included)."""
    pairs = list(reference().framework)
    levels = pd.concat([active[["level1", "level2"]], usages[["level1", "level2"]]]).drop_duplicates()
    seen = set(zip(levels["level1"], levels["level2"], strict=True))
    pairs += sorted(seen - set(pairs))
    counts = active.groupby(["level1", "level2", "scope"]).size()
    use_counts = usages.groupby(["level1", "level2"]).size()
    return _level_records(pairs, counts.to_dict(), use_counts.to_dict())


def _level_records(
    pairs: list[tuple[str, str]],
    counts: dict[tuple[str, str, str], int],
    use_counts: dict[tuple[str, str], int],
) -> pd.DataFrame:
    records = []
    for l1, l2 in pairs:
        rec: dict[str, object] = {"level1": l1 or UNFILLED, "level2": l2 or UNFILLED}
        for scope in SCOPES:
            rec[scope] = int(counts.get((l1, l2, scope), 0))
        rec["active"] = sum(int(rec[s]) for s in SCOPES)  # type: ignore[call-overload]
        rec["usages"] = int(use_counts.get((l1, l2), 0))
        records.append(rec)
    return pd.DataFrame(records, columns=list(LEVEL_TITLES))


def coverage_tables(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Active indicators and this year's usages by function class (类) and by framework level."""
    # The columns read, then the rows: filtering the wide tables took every column (0.5 s at 300k rows).
    indicators = inputs.tables.indicators
    active = indicators[["scope", "function_class", "level1", "level2"]][indicators["status"] == "active"]
    usages = inputs.tables.usages
    used = ["function_code", "scope", "dept_code", "project", "level1", "level2"]
    this_year = usages["year"] == inputs.year
    # A first release's usages are all of this year: counted where they are, no filtered copy of 884k
    # rows' six columns (0.07-0.3 s at 1M rows).
    usages = usages[used] if this_year.all() else usages[used][this_year]
    return _by_class(active, usages), _by_level(active, usages)


def _texts(frame: pd.DataFrame, columns: list[str]) -> dict[str, tuple[np.ndarray, list[str]]] | None:
    """Each column's values numbered among its distinct ones, and those values; None unless every column
    is of the str dtype and has no missing value (the library's tables are: the plain code takes the rest)."""
    coded = {}
    for c in columns:
        values = frame[c]
        if not isinstance(values.dtype, pd.StringDtype) or values.hasnans:
            return None
        codes, distinct = pd.factorize(values)
        coded[c] = (np.asarray(codes, dtype=np.intp), distinct.tolist())
    return coded


def _numbers(coded: tuple[np.ndarray, list[str]], *values: str) -> np.ndarray:
    """The rows whose text is one of `values`."""
    codes, distinct = coded
    return np.isin(codes, [k for k, v in enumerate(distinct) if v in values])


def _pairs(a: np.ndarray, b: np.ndarray, n_b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs of two code columns (in order), and how often each occurs."""
    n_b = max(n_b, 1)
    combined = a.astype(np.int64) * n_b + b
    span = (int(a.max()) + 1) * n_b if len(a) else 0
    if span <= max(4 * len(combined), 1 << 16):  # a count per possible pair: no sort
        counts = np.bincount(combined, minlength=span)
        distinct = np.flatnonzero(counts)
        counts = counts[distinct]
    else:
        distinct, counts = distinct_counts(combined)
    return distinct // n_b, distinct % n_b, counts


def _by_class(active: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """_by_class_plain on the columns' codes: per class a count, and distinct departments and projects
    as distinct pairs of codes (1M rows: the groupbys' factorizing and nunique were most of 0.4 s)."""
    act = _texts(active, ["scope", "function_class"])
    use = _texts(usages, ["function_code", "scope", "dept_code", "project"])
    if act is None or use is None:
        return _by_class_plain(active, usages)
    function_codes = reference().function_codes
    a_class, a_classes = act["function_class"]
    kept = _numbers(act["scope"], "项目") & ~_numbers(act["function_class"], "")
    active_n = np.bincount(a_class[kept], minlength=len(a_classes))
    cls_active = {a_classes[k]: int(active_n[k]) for k in np.flatnonzero(active_n).tolist()}
    # A use's class: its function code's first three characters (per distinct code, not per row).
    fc, fcs = use["function_code"]
    cls_of_code, classes_used = first_seen([v[:3] for v in fcs], len(fcs))
    cls = np.asarray(cls_of_code, dtype=np.intp)[fc]
    uses = _numbers(use["scope"], "项目") & np.isin(cls, [k for k, v in enumerate(classes_used) if v != ""])
    cls = cls[uses]
    n_cls = len(classes_used)
    uses_n = np.bincount(cls, minlength=n_cls)
    dept, depts = use["dept_code"]
    dept = dept[uses]
    n_depts = max(len(depts), 1)
    dept_n = np.bincount(distinct_values(cls.astype(np.int64) * n_depts + dept) // n_depts, minlength=n_cls)
    # A project is its department and name joined ("dept|project", as the plain code counts them): one per
    # distinct (department, name) pair unless a text holds the "|" (the plain code then).
    project, projects = use["project"]
    span = len(depts) * len(projects)
    if span * n_cls >= 2**62 or "|" in "".join(depts) or "|" in "".join(projects):
        return _by_class_plain(active, usages)
    pairs = distinct_values(
        cls.astype(np.int64) * span + dept.astype(np.int64) * len(projects) + project[uses]
    )
    project_n = np.bincount(pairs // max(span, 1), minlength=n_cls)
    cls_uses = {
        classes_used[k]: (int(uses_n[k]), int(dept_n[k]), int(project_n[k]))
        for k in np.flatnonzero(uses_n).tolist()
    }
    classes = sorted(set(cls_active) | set(cls_uses))
    return pd.DataFrame(
        [
            {
                "function_class": c,
                "class_name": function_codes[c].name if c in function_codes else UNKNOWN_CLASS,
                "active": cls_active.get(c, 0),
                "usages": cls_uses.get(c, (0, 0, 0))[0],
                "departments": cls_uses.get(c, (0, 0, 0))[1],
                "projects": cls_uses.get(c, (0, 0, 0))[2],
            }
            for c in classes
        ],
        columns=list(CLASS_TITLES),
    )


def _by_level(active: pd.DataFrame, usages: pd.DataFrame) -> pd.DataFrame:
    """_by_level_plain on the columns' codes: the pairs seen and their counts as distinct code pairs."""
    act = _texts(active, ["level1", "level2", "scope"])
    use = _texts(usages, ["level1", "level2"])
    if act is None or use is None:
        return _by_level_plain(active, usages)
    (a1, a1s), (a2, a2s), (sc, scs) = act["level1"], act["level2"], act["scope"]
    (u1, u1s), (u2, u2s) = use["level1"], use["level2"]
    a_pair, a_scope, a_n = _pairs(a1.astype(np.int64) * max(len(a2s), 1) + a2, sc, len(scs))
    counts: dict[tuple[str, str, str], int] = {}
    for pair, scope, n in zip(a_pair.tolist(), a_scope.tolist(), a_n.tolist(), strict=True):
        l1, l2 = divmod(pair, max(len(a2s), 1))
        counts[(a1s[l1], a2s[l2], scs[scope])] = n
    u_1, u_2, u_n = _pairs(u1, u2, len(u2s))
    use_counts = {
        (u1s[a], u2s[b]): n for a, b, n in zip(u_1.tolist(), u_2.tolist(), u_n.tolist(), strict=True)
    }
    pairs = list(reference().framework)
    seen = {(l1, l2) for l1, l2, _ in counts} | set(use_counts)
    pairs += sorted(seen - set(pairs))
    return _level_records(pairs, counts, use_counts)


def coverage_reviews(inputs: ReportInputs) -> list[ReviewTable]:
    by_class, by_level = coverage_tables(inputs)
    return [
        ReviewTable(
            "coverage_class",
            "覆盖_功能分类",
            "按支出功能分类（类）",
            by_class,
            CLASS_TITLES,
            ("active", "usages", "departments", "projects"),
        ),
        ReviewTable(
            "coverage_level",
            "覆盖_指标框架",
            "按指标框架（一级 / 二级）",
            by_level,
            LEVEL_TITLES,
            (*SCOPES, "active", "usages"),
        ),
    ]
