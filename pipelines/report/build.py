"""Report: the year's review files under reports/<Y>/ (SPEC §6).

review.html (one self-contained page: inline CSS and SVG charts, no script, a Content-Security-Policy
that forbids every network request) and review.xlsx carry the same tables, computed once here by
`review_tables`. CHANGELOG.md comes from the same ChangeSet as `indicators diff`; merge_review.xlsx lists
likely duplicates for a person; feedback/ holds one workbook per submitted file.

Everything is deterministic (sorted, no clock), so rebuilding an unchanged year makes no git change.
Submitted text reaches the page only through Jinja2 autoescaping or charts.esc, and the workbook only
through pipelines.common.xlsx_out (formula triggers neutralized).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any, TypedDict, cast

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH, Finding, group_findings
from pipelines.common.xlsx_out import atomic_write_bytes, write_table, xlsx_book
from pipelines.consolidate.build import Overlay
from pipelines.consolidate.changes import EVENT_ZH, ChangeSet, _text, changes_markdown
from pipelines.intake.read import Workbook
from pipelines.report import charts
from pipelines.validate.runner import FileStatus, ValidationResult
from schemas.library import SCOPES, TITLES_ZH, LibraryTables
from schemas.vocab import reference

# Columns shown without line breaks (codes, ids, file names): breaking them mid-token misleads.
CODE_COLUMNS = frozenset(
    {"dept_code", "indicator_id", "into_id", "id_a", "id_b", "file", "code", "function_class", "year"}
    | {"sheet", "severity", "field", "scope", "level1", "level2"}
)
HTML_ROW_LIMIT = 500  # rows per table on the page; review.xlsx always has them all
VIOLATION_SEVERITIES = ("file_error", "row_error", "warning")
CHART_TOP = 20  # bars per ranking chart (departments, rules)
OUTCOME_ZH = {
    "library": "入库",
    "noncore": "非核心（部门自留）",
    "excluded": "阶段性不入库",
    "rejected": "退回",
}


@dataclass
class ReportInputs:
    year: int
    changes: ChangeSet
    validation: ValidationResult
    workbooks: list[Workbook]
    candidates: pd.DataFrame
    tables: LibraryTables  # the new release
    previous: LibraryTables | None = None  # the last release, or None
    # The trend is derived from the tables themselves (usages per year, first_year / retired_year): no
    # git needed. Optional per-release counts {"year": Y, "added": …, "retired": …, "merged": …} override
    # the derived indicator counts of their year (the tables forget a retirement undone later).
    history: list[dict] = field(default_factory=list)
    overlay: Overlay | None = None  # a county library: its relation to the upstream (city) release


@dataclass
class ReviewTable:
    """One table of the review: a sheet of review.xlsx and a table of review.html."""

    key: str  # html id "t-<key>"
    sheet: str  # sheet name in review.xlsx
    title: str  # caption
    frame: pd.DataFrame  # English columns, sorted, display-ready values
    titles: dict[str, str]  # English column → Chinese header (order = column order)
    numeric: tuple[str, ...] = ()  # right-aligned columns
    note: str = ""

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.head(HTML_ROW_LIMIT)

    @property
    def truncated(self) -> bool:
        return len(self.frame) > HTML_ROW_LIMIT

    def records(self) -> list[dict[str, object]]:
        return self.shown[list(self.titles)].to_dict("records")


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _col(frame: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    """A column, or a constant one when the frame lacks it (an empty validation has few columns)."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object if default != "" else str)


def _generic(template: str) -> str:
    """A finding rule with its placeholders blanked: the rule itself, not one occurrence of it."""
    return template.replace("{value}", "…").replace("{column}", "…").replace("{detail}", "…")


def rule_text(code: str) -> str:
    spec = reference().findings.get(code)
    return _generic(spec.rule_zh) if spec else code


def fix_text(code: str) -> str:
    spec = reference().findings.get(code)
    return _generic(spec.fix_zh) if spec else ""


def _split_codes(text: object) -> list[str]:
    return [p for p in str(text or "").split("、") if p]


def core_limit(complexity: str) -> int:
    limits = reference().limits
    return limits["core_max_single"] if complexity == "单一" else limits["core_max_complex"]


def _file_findings(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.file, []).append(f)
    return out


def _statuses(inputs: ReportInputs) -> list[FileStatus]:
    """Every input file; rows whose file has no status (inputs built by hand) get one from the rows."""
    statuses = list(inputs.validation.files)
    known = {s.file for s in statuses}
    rows = inputs.validation.rows
    if len(rows) and "source_file" in rows.columns:
        unknown = rows[~rows["source_file"].isin(known)]
        for file, group in unknown.groupby("source_file", sort=True):
            code = str(_col(group, "dept_code").iloc[0])
            name = str(_col(group, "dept_name").iloc[0])
            statuses.append(FileStatus(str(file), "", True, code, name, [], len(group)))
    return sorted(statuses, key=lambda s: (s.dept_code, s.file))


# --------------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------------

DEPT_TITLES = {
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "file": "报送文件",
    "complexity": "职责复杂程度",
    "read": "读取行数",
    "library": "入库",
    "noncore": "非核心",
    "excluded": "阶段性不入库",
    "rejected": "退回",
    "warnings": "提示",
    "core": "核心指标数",
    "core_limit": "核心指标上限",
    "projects": "项目数",
    "added": "新增指标",
    "modified": "修改指标",
    "retired": "退出指标",
    "verdict": "审核意见",
}
DEPT_NUMERIC = (
    "read",
    "library",
    "noncore",
    "excluded",
    "rejected",
    "warnings",
    "core",
    "core_limit",
    "projects",
    "added",
    "modified",
    "retired",
)


def _per_file(rows: pd.DataFrame) -> pd.DataFrame:
    """Counts per source file in one pass (a city-sized year has 100,000 rows and 85 files)."""
    columns = ["read", "library", "noncore", "excluded", "rejected", "core", "projects", "complexity"]
    if rows.empty or "source_file" not in rows.columns:
        return pd.DataFrame(columns=columns)
    file = rows["source_file"].astype(str)
    outcome = _col(rows, "outcome").astype(str)
    kind = _col(rows, "sheet_kind").astype(str)
    project = _col(rows, "project").astype(str)
    complexity = _col(rows, "complexity").astype(str)
    out = pd.DataFrame({"read": file.value_counts()})
    for o in ("library", "noncore", "excluded", "rejected"):
        out[o] = file[outcome == o].value_counts()
    # Core indicators as the W206 rule counts them: not rejected, not marked non-core.
    out["core"] = file[(kind == "core") & outcome.isin(("library", "excluded"))].value_counts()
    is_project = (kind == "project") & (project != "")
    out["projects"] = (
        pd.DataFrame({"f": file[is_project], "p": project[is_project]}).groupby("f")["p"].nunique()
    )
    out = out.fillna(0).astype("int64")
    stated = complexity != ""
    out["complexity"] = complexity[stated].groupby(file[stated]).first()
    out["complexity"] = out["complexity"].fillna("").astype(str)
    return out


def _dept_changes(inputs: ReportInputs) -> dict[str, tuple[int, int, int]]:
    """Per department: indicators it brought in, and its 修改 / 退出 rows that changed the library."""
    changes = inputs.changes
    added: dict[str, int] = {}
    if len(changes.added):
        for depts in changes.added["departments"]:
            for code in _split_codes(depts):
                added[code] = added.get(code, 0) + 1
    usages = inputs.tables.usages
    usages = usages[(usages["year"] == inputs.year) & usages["change_type"].isin(("修改", "退出"))]
    modified_ids = set(changes.modified["indicator_id"]) if len(changes.modified) else set()
    retired_ids = set(changes.retired["indicator_id"]) if len(changes.retired) else set()
    modified = usages[(usages["change_type"] == "修改") & usages["indicator_id"].isin(modified_ids)]
    retired = usages[(usages["change_type"] == "退出") & usages["indicator_id"].isin(retired_ids)]
    n_mod = modified.groupby("dept_code")["indicator_id"].nunique()
    n_ret = retired.groupby("dept_code")["indicator_id"].nunique()
    codes = set(added) | set(n_mod.index) | set(n_ret.index)
    return {c: (added.get(c, 0), int(n_mod.get(c, 0)), int(n_ret.get(c, 0))) for c in codes}


def department_table(inputs: ReportInputs) -> pd.DataFrame:
    """The per-department review (in the spirit of the scheme's 论证审核表): one row per submitted file,
    plus departments of the library that sent nothing this year."""
    per_file = _per_file(inputs.validation.rows)
    by_file = _file_findings(inputs.validation.findings)
    dept_changes = _dept_changes(inputs)
    complexity_of = dict(
        zip(inputs.tables.departments["dept_code"], inputs.tables.departments["complexity"], strict=True)
    )
    zero = dict.fromkeys(("read", "library", "noncore", "excluded", "rejected", "core", "projects"), 0)

    records = []
    for status in _statuses(inputs):
        counts: dict[Any, Any] = (
            per_file.loc[status.file].to_dict()
            if status.file in per_file.index
            else {**zero, "complexity": ""}
        )
        complexity = str(counts["complexity"]) or str(complexity_of.get(status.dept_code, ""))
        found = by_file.get(status.file, [])
        file_errors = [f for f in found if f.severity == "file_error"]
        warnings = sum(f.severity == "warning" for f in found)
        added, modified, retired = (
            (0, 0, 0)
            if status.set_aside or not status.dept_code
            else dept_changes.get(status.dept_code, (0, 0, 0))
        )
        rejected = int(counts["rejected"])
        if status.set_aside:
            messages = "；".join(dict.fromkeys(f.message for f in file_errors)) or "；".join(
                dict.fromkeys(rule_text(c) for c in status.file_errors)
            )
            verdict = f"退回重报：{messages}"
        elif rejected:
            verdict = f"部分退回：{rejected} 行需按反馈修改后重报"
        elif warnings:
            verdict = f"通过（{warnings} 条提示请核对）"
        else:
            verdict = "通过"
        records.append(
            {
                "dept_code": status.dept_code,
                "dept_name": status.dept_name,
                "file": status.file,
                "complexity": complexity or "未填",
                **{k: int(counts[k]) for k in ("read", "library", "noncore", "excluded", "rejected")},
                "warnings": int(warnings),
                "core": int(counts["core"]),
                "core_limit": core_limit(complexity),
                "projects": int(counts["projects"]),
                "added": added,
                "modified": modified,
                "retired": retired,
                "verdict": verdict,
            }
        )
    submitted = {r["dept_code"] for r in records}
    deps = inputs.tables.departments
    for rec in deps[~deps["dept_code"].isin(submitted)].sort_values("dept_code").to_dict("records"):
        records.append(
            {
                **dict.fromkeys(DEPT_TITLES, 0),
                "dept_code": rec["dept_code"],
                "dept_name": rec["dept_name"],
                "file": "",
                "complexity": rec["complexity"] or "未填",
                "core_limit": core_limit(rec["complexity"]),
                "verdict": "本年度未报送",
            }
        )
    frame = pd.DataFrame(records, columns=list(DEPT_TITLES))
    return frame.sort_values(["dept_code", "file"], kind="stable").reset_index(drop=True)


def overview_table(inputs: ReportInputs, departments: pd.DataFrame) -> pd.DataFrame:
    counts = inputs.validation.counts()
    statuses = _statuses(inputs)
    indicators = inputs.tables.indicators
    active = indicators[indicators["status"] == "active"]
    change_counts = inputs.changes.counts()
    warnings = sum(f.severity == "warning" for f in inputs.validation.findings)
    items = [
        ("报送工作簿", len(statuses)),
        ("其中整本退回", sum(s.set_aside for s in statuses)),
        ("报送部门", len({s.dept_code for s in statuses if s.dept_code})),
        ("本年度未报送的部门", int((departments["verdict"] == "本年度未报送").sum())),
        ("读取行数", counts["read"]),
        *((OUTCOME_ZH[o], counts[o]) for o in ("library", "noncore", "excluded", "rejected")),
        ("提示（行保留）", warnings),
        ("在用指标", len(active)),
        *((f"在用指标：{scope}", int((active["scope"] == scope).sum())) for scope in SCOPES),
        *((f"{EVENT_ZH[k]}指标", change_counts[k]) for k in ("added", "modified", "retired", "merged")),
        ("恢复使用指标", change_counts["reactivated"]),
        ("待人工审核的疑似重复（对）", len(inputs.candidates)),
    ]
    return pd.DataFrame(items, columns=["item", "value"])


def _change_frames(changes: ChangeSet) -> dict[str, pd.DataFrame]:
    def take(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        if frame.empty:
            return pd.DataFrame(columns=columns)
        return frame[columns].map(_text).reset_index(drop=True)

    modified = take(changes.modified, ["indicator_id", "name", "field", "old", "new", "reason"])
    modified["field"] = [TITLES_ZH.get(f, f) for f in modified["field"]]
    return {
        "added": take(changes.added, ["indicator_id", "name", "scope", "departments", "reason"]),
        "modified": modified,
        "retired": take(changes.retired, ["indicator_id", "name", "reason"]),
        "merged": take(changes.merged, ["indicator_id", "name", "into_id", "into_name", "reason"]),
        "reactivated": take(changes.reactivated, ["indicator_id", "name", "reason"]),
    }


class _RuleTally(TypedDict):
    code: str
    severity: str
    count: int
    files: set[str]


def violation_tables(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rule violations (file errors, row errors, warnings): per department, per rule, and grouped detail."""
    dept_of = {s.file: (s.dept_code, s.dept_name) for s in _statuses(inputs)}
    found = [f for f in inputs.validation.findings if f.severity in VIOLATION_SEVERITIES]

    per_dept: dict[str, dict[str, object]] = {}
    code_counts: dict[str, dict[str, int]] = {}
    for f in found:
        code, name = dept_of.get(f.file, ("", ""))
        rec = per_dept.setdefault(
            f.file,
            {"dept_code": code, "dept_name": name, "file": f.file, **dict.fromkeys(VIOLATION_SEVERITIES, 0)},
        )
        rec[f.severity] = int(rec[f.severity]) + 1  # type: ignore[call-overload]
        counts = code_counts.setdefault(f.file, {})
        counts[f.code] = counts.get(f.code, 0) + 1
    for file, rec in per_dept.items():
        rec["total"] = sum(int(rec[s]) for s in VIOLATION_SEVERITIES)  # type: ignore[call-overload]
        top = sorted(code_counts[file].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rec["main"] = "；".join(f"{c} {rule_text(c)} ×{n}" for c, n in top)
    by_dept = pd.DataFrame(
        list(per_dept.values()),
        columns=["dept_code", "dept_name", "file", *VIOLATION_SEVERITIES, "total", "main"],
    ).sort_values(["dept_code", "file"], kind="stable")

    rules: dict[str, _RuleTally] = {}
    for f in found:
        tally = rules.setdefault(f.code, {"code": f.code, "severity": f.severity, "count": 0, "files": set()})
        tally["count"] = int(tally["count"]) + 1
        tally["files"].add(f.file)
    by_rule = pd.DataFrame(
        [
            {
                "code": c,
                "severity": SEVERITY_ZH.get(str(r["severity"]), str(r["severity"])),
                "rule": rule_text(c),
                "count": r["count"],
                "departments": len(r["files"]),
                "fix": fix_text(c),
                "_order": SEVERITY_ORDER.get(str(r["severity"]), 9),
            }
            for c, r in rules.items()
        ],
        columns=["code", "severity", "rule", "count", "departments", "fix", "_order"],
    )
    by_rule = by_rule.sort_values(["_order", "count", "code"], ascending=[True, False, True], kind="stable")
    by_rule = by_rule.drop(columns="_order")

    details = pd.DataFrame(
        [
            {
                "dept_code": dept_of.get(g.file, ("", ""))[0],
                "file": g.file,
                "sheet": g.sheet,
                "code": g.code,
                "severity": SEVERITY_ZH.get(g.severity, g.severity),
                "field": g.field,
                "message": g.message,
                "cells": g.cells_zh,
                "count": g.count,
                "fix": g.fix,
                "_order": SEVERITY_ORDER.get(g.severity, 9),
            }
            for g in group_findings(found)
        ],
        columns=[
            "dept_code",
            "file",
            "sheet",
            "code",
            "severity",
            "field",
            "message",
            "cells",
            "count",
            "fix",
            "_order",
        ],
    )
    details = details.sort_values(["dept_code", "file", "_order", "sheet", "code", "field"], kind="stable")
    return (
        by_dept.reset_index(drop=True),
        by_rule.reset_index(drop=True),
        details.drop(columns="_order").reset_index(drop=True),
    )


def coverage_tables(inputs: ReportInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Active indicators and this year's usages by function class (类) and by framework level."""
    ref = reference()
    indicators = inputs.tables.indicators
    active = indicators[indicators["status"] == "active"]
    usages = inputs.tables.usages
    usages = usages[usages["year"] == inputs.year]

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
    by_class = pd.DataFrame(
        [
            {
                "function_class": c,
                "class_name": ref.function_codes[c].name
                if c in ref.function_codes
                else "（参考目录中无此类）",
                "active": int(cls_active.get(c, 0)),
                "usages": int(cls_uses.get(c, 0)),
                "departments": int(cls_depts.get(c, 0)),
                "projects": int(cls_projects.get(c, 0)),
            }
            for c in classes
        ],
        columns=["function_class", "class_name", "active", "usages", "departments", "projects"],
    )

    pairs = list(ref.framework)
    levels = pd.concat([active[["level1", "level2"]], usages[["level1", "level2"]]]).drop_duplicates()
    seen = set(zip(levels["level1"], levels["level2"], strict=True))
    pairs += sorted(seen - set(pairs))
    counts = active.groupby(["level1", "level2", "scope"]).size()
    use_counts = usages.groupby(["level1", "level2"]).size()
    records = []
    for l1, l2 in pairs:
        rec: dict[str, object] = {"level1": l1 or "（未填）", "level2": l2 or "（未填）"}
        for scope in SCOPES:
            rec[scope] = int(counts.get((l1, l2, scope), 0))
        rec["active"] = sum(int(rec[s]) for s in SCOPES)  # type: ignore[call-overload]
        rec["usages"] = int(use_counts.get((l1, l2), 0))
        records.append(rec)
    by_level = pd.DataFrame(records, columns=["level1", "level2", *SCOPES, "active", "usages"])
    return by_class, by_level


def trend_table(inputs: ReportInputs) -> pd.DataFrame:
    """Per year, from the release's own tables: rows, departments, indicators added / retired / active."""
    ind = inputs.tables.indicators
    usages = inputs.tables.usages
    sa = inputs.tables.set_aside
    first = min(
        int(s.min())
        for s in (pd.Series([inputs.year]), ind["first_year"], usages["year"], sa["year"])
        if len(s)
    )
    retired_year = ind["retired_year"]
    recorded = {int(h["year"]): h for h in inputs.history if "year" in h}
    records = []
    for y in range(first, inputs.year + 1):
        u = usages[usages["year"] == y]
        s = sa[sa["year"] == y]
        ended = retired_year.notna() & (retired_year.fillna(0).astype("int64") == y)
        alive = (ind["first_year"] <= y) & (
            retired_year.isna() | (retired_year.fillna(0).astype("int64") > y)
        )
        records.append(
            {
                "year": str(y),
                "read": len(u) + len(s),
                "library": len(u),
                "noncore": int((s["outcome"] == "noncore").sum()),
                "excluded": int((s["outcome"] == "excluded").sum()),
                "rejected": int((s["outcome"] == "rejected").sum()),
                "departments": len(set(u["dept_code"]) | set(s["dept_code"])),
                "added": int((ind["first_year"] == y).sum()),
                "retired": int((ended & (ind["status"] == "retired")).sum()),
                "merged": int((ended & (ind["status"] == "merged")).sum()),
                "active": int(alive.sum()),
            }
        )
        known = recorded.get(y, {})
        records[-1].update({k: int(known[k]) for k in ("added", "retired", "merged") if k in known})
    return pd.DataFrame(records)


def candidates_table(candidates: pd.DataFrame) -> pd.DataFrame:
    columns = ["id_a", "name_a", "id_b", "name_b", "score", "reason"]
    if candidates is None or candidates.empty:
        return pd.DataFrame(columns=columns)
    frame = candidates[columns].copy()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").round(0)
    return frame.sort_values(
        ["score", "id_a", "id_b"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)


def review_tables(inputs: ReportInputs) -> dict[str, ReviewTable]:
    """Every table of the review, in page order; the HTML page and review.xlsx both come from these."""
    departments = department_table(inputs)
    changes = _change_frames(inputs.changes)
    by_dept, by_rule, details = violation_tables(inputs)
    by_class, by_level = coverage_tables(inputs)
    trend = trend_table(inputs)
    tables = [
        ReviewTable(
            "overview",
            "概况",
            "年度概况",
            overview_table(inputs, departments),
            {"item": "项目", "value": "数值"},
            ("value",),
        ),
        ReviewTable(
            "departments",
            "部门审核",
            "部门指标审核表",
            departments,
            DEPT_TITLES,
            DEPT_NUMERIC,
            "核心指标上限：职责单一的部门 {single} 个，职责复杂的部门 {complex} 个（未填按复杂）。".format(
                single=reference().limits["core_max_single"], complex=reference().limits["core_max_complex"]
            ),
        ),
        ReviewTable(
            "added",
            "新增指标",
            "新增指标",
            changes["added"],
            {
                "indicator_id": "指标编号",
                "name": "指标名称",
                "scope": "范围",
                "departments": "使用部门",
                "reason": "说明",
            },
        ),
        ReviewTable(
            "modified",
            "修改指标",
            "修改指标（逐字段）",
            changes["modified"],
            {
                "indicator_id": "指标编号",
                "name": "指标名称",
                "field": "字段",
                "old": "原值",
                "new": "新值",
                "reason": "理由",
            },
        ),
        ReviewTable(
            "retired",
            "退出指标",
            "退出指标",
            changes["retired"],
            {"indicator_id": "指标编号", "name": "指标名称", "reason": "退出原因"},
        ),
        ReviewTable(
            "merged",
            "合并指标",
            "合并的重复指标",
            changes["merged"],
            {
                "indicator_id": "指标编号",
                "name": "指标名称",
                "into_id": "并入编号",
                "into_name": "并入指标",
                "reason": "理由",
            },
        ),
        ReviewTable(
            "reactivated",
            "恢复使用",
            "恢复使用的指标",
            changes["reactivated"],
            {"indicator_id": "指标编号", "name": "指标名称", "reason": "说明"},
        ),
        ReviewTable(
            "candidates",
            "疑似重复",
            "待人工审核的疑似重复指标",
            candidates_table(inputs.candidates),
            {
                "id_a": "指标编号A",
                "name_a": "指标名称A",
                "id_b": "指标编号B",
                "name_b": "指标名称B",
                "score": "相似度",
                "reason": "理由",
            },
            ("score",),
            "请在 merge_review.xlsx 中逐对决定“合并”或“不合并”，再运行 indicators review。",
        ),
        ReviewTable(
            "violations",
            "问题_按部门",
            "各部门规则问题",
            by_dept,
            {
                "dept_code": "部门编码",
                "dept_name": "部门名称",
                "file": "报送文件",
                "file_error": "文件错误",
                "row_error": "行错误",
                "warning": "提示",
                "total": "合计",
                "main": "主要问题",
            },
            ("file_error", "row_error", "warning", "total"),
        ),
        ReviewTable(
            "rules",
            "问题_按规则",
            "按规则汇总",
            by_rule,
            {
                "code": "代码",
                "severity": "类别",
                "rule": "规则",
                "count": "次数",
                "departments": "涉及文件",
                "fix": "处理建议",
            },
            ("count", "departments"),
        ),
        ReviewTable(
            "details",
            "问题明细",
            "问题明细（同一规则同一列合并为一行）",
            details,
            {
                "dept_code": "部门编码",
                "file": "报送文件",
                "sheet": "工作表",
                "code": "代码",
                "severity": "类别",
                "field": "列",
                "message": "问题",
                "cells": "单元格",
                "count": "数量",
                "fix": "处理建议",
            },
            ("count",),
            "各部门的逐行反馈见 feedback/ 目录下的反馈工作簿。",
        ),
        ReviewTable(
            "coverage_class",
            "覆盖_功能分类",
            "按支出功能分类（类）",
            by_class,
            {
                "function_class": "类编码",
                "class_name": "类名称",
                "active": "在用项目指标",
                "usages": "本年度使用次数",
                "departments": "使用部门",
                "projects": "项目数",
            },
            ("active", "usages", "departments", "projects"),
        ),
        ReviewTable(
            "coverage_level",
            "覆盖_指标框架",
            "按指标框架（一级 / 二级）",
            by_level,
            {
                "level1": "一级指标",
                "level2": "二级指标",
                **{s: f"在用：{s}" for s in SCOPES},
                "active": "在用合计",
                "usages": "本年度使用次数",
            },
            (*SCOPES, "active", "usages"),
        ),
        ReviewTable(
            "trend",
            "年度趋势",
            "历年变化",
            trend,
            {
                "year": "年度",
                "read": "读取行数",
                "library": "入库",
                "noncore": "非核心",
                "excluded": "阶段性不入库",
                "rejected": "退回",
                "departments": "部门数",
                "added": "新增指标",
                "retired": "退出指标",
                "merged": "合并指标",
                "active": "年末在用指标",
            },
            (
                "read",
                "library",
                "noncore",
                "excluded",
                "rejected",
                "departments",
                "added",
                "retired",
                "merged",
                "active",
            ),
        ),
    ]
    if inputs.overlay is not None:
        tables += upstream_tables(inputs.overlay)
    return {t.key: t for t in tables}


def upstream_tables(overlay: Overlay) -> list[ReviewTable]:
    """A county repo's section: what it inherits from the city release and where the two meet."""
    summary = pd.DataFrame(
        [
            ("上级指标库版本", overlay.upstream_tag or "（未记录）"),
            ("在用上级指标", overlay.counts.get("上级", 0)),
            ("在用本级指标", overlay.counts.get("本级", 0)),
            ("本级指标已被上级收录（并入上级编号）", len(overlay.covered)),
            ("上级已退出但本级仍在使用", len(overlay.retired_in_use)),
            ("继承的上级指标定义变化（字段）", len(overlay.inherited)),
        ],
        columns=["item", "value"],
    ).astype({"value": str})
    return [
        ReviewTable(
            "upstream_summary", "上级_概况", "与上级指标库的关系", summary, {"item": "项目", "value": "数值"}
        ),
        ReviewTable(
            "upstream_covered",
            "上级_已收录",
            "本级指标已被上级收录：并入上级编号，原编号保留为历史",
            overlay.covered.sort_values("indicator_id"),
            {"indicator_id": "本级编号", "name": "本级名称", "into_id": "上级编号", "into_name": "上级名称"},
        ),
        ReviewTable(
            "upstream_retired",
            "上级_已退出仍使用",
            "上级已退出、本级仍在使用的指标",
            overlay.retired_in_use.sort_values("indicator_id"),
            {
                "indicator_id": "上级编号",
                "name": "名称",
                "reason": "上级退出原因",
                "departments": "仍在使用的本级部门",
            },
        ),
        ReviewTable(
            "upstream_inherited",
            "上级_定义变化",
            "继承的上级指标定义变化",
            overlay.inherited.sort_values(["indicator_id", "field"]),
            {"indicator_id": "上级编号", "name": "名称", "field": "字段", "old": "原值", "new": "新值"},
        ),
    ]


# --------------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------------


def review_charts(inputs: ReportInputs, tables: dict[str, ReviewTable]) -> dict[str, str]:
    counts = inputs.validation.counts()
    S = charts.Series
    out: dict[str, str] = {}
    out["outcomes"] = charts.share_bar(
        "chart-outcomes",
        f"{inputs.year} 年度报送行的去向（共 {charts.fmt_num(counts['read'])} 行）",
        [(OUTCOME_ZH[o], counts[o]) for o in ("library", "noncore", "excluded", "rejected")],
        unit=" 行",
    )
    deps = tables["departments"].frame
    deps = deps[deps["file"] != ""].sort_values(["read", "dept_code", "file"], ascending=[False, True, True])
    labels = [
        f"{c} {n}".strip() or f
        for c, n, f in zip(deps["dept_code"], deps["dept_name"], deps["file"], strict=True)
    ]
    out["departments"] = charts.hbar_chart(
        "chart-departments",
        "各部门报送行的去向（按读取行数排序）",
        labels,
        [
            S("入库", deps["library"].tolist(), charts.PALETTE[0]),
            S("非核心", deps["noncore"].tolist(), charts.PALETTE[1]),
            S("阶段性不入库", deps["excluded"].tolist(), charts.PALETTE[5]),
            S("退回", deps["rejected"].tolist(), charts.PALETTE[3]),
        ],
        unit=" 行",
    )
    c = inputs.changes.counts()
    keys = ("added", "modified", "retired", "merged", "reactivated")
    out["changes"] = charts.hbar_chart(
        "chart-changes",
        "本年度指标变更",
        [EVENT_ZH[k] for k in keys],
        [S("指标数", [c[k] for k in keys], charts.PALETTE[0])],
        label_width=80,
        unit=" 个",
    )
    viol = tables["violations"].frame.sort_values(
        ["total", "dept_code", "file"], ascending=[False, True, True]
    )
    viol = viol.head(CHART_TOP)
    out["violations"] = charts.hbar_chart(
        "chart-violations",
        f"问题最多的部门（前 {CHART_TOP} 个）",
        [
            f"{c} {n}".strip() or f
            for c, n, f in zip(viol["dept_code"], viol["dept_name"], viol["file"], strict=True)
        ],
        [
            S("文件错误", viol["file_error"].tolist(), charts.PALETTE[4]),
            S("行错误", viol["row_error"].tolist(), charts.PALETTE[3]),
            S("提示", viol["warning"].tolist(), charts.PALETTE[1]),
        ],
        unit=" 处",
    )
    rules = tables["rules"].frame.sort_values(["count", "code"], ascending=[False, True]).head(CHART_TOP)
    out["rules"] = charts.hbar_chart(
        "chart-rules",
        f"最常见的问题（前 {CHART_TOP} 条规则）",
        [f"{c} {r}" for c, r in zip(rules["code"], rules["rule"], strict=True)],
        [S("次数", rules["count"].tolist(), charts.PALETTE[3])],
        label_width=320,
        unit=" 处",
    )
    by_class = tables["coverage_class"].frame
    out["coverage_class"] = charts.hbar_chart(
        "chart-coverage-class",
        "在用项目指标按支出功能分类（类）",
        [f"{c} {n}" for c, n in zip(by_class["function_class"], by_class["class_name"], strict=True)],
        [S("在用项目指标", by_class["active"].tolist(), charts.PALETTE[0])],
        unit=" 个",
    )
    by_level = tables["coverage_level"].frame
    out["coverage_level"] = charts.hbar_chart(
        "chart-coverage-level",
        "在用指标按二级指标与范围",
        by_level["level2"].tolist(),
        [S(s, by_level[s].tolist(), charts.PALETTE[i]) for i, s in enumerate(SCOPES)],
        unit=" 个",
    )
    trend = tables["trend"].frame
    years = trend["year"].tolist()
    out["trend_changes"] = charts.column_chart(
        "chart-trend-changes",
        "历年新增与退出指标",
        years,
        [
            S("新增", trend["added"].tolist(), charts.PALETTE[2]),
            S("退出", trend["retired"].tolist(), charts.PALETTE[3]),
            S("合并", trend["merged"].tolist(), charts.PALETTE[5]),
        ],
        unit=" 个",
    )
    out["trend_rows"] = charts.column_chart(
        "chart-trend-rows",
        "历年报送行的去向",
        years,
        [
            S("入库", trend["library"].tolist(), charts.PALETTE[0]),
            S("非核心", trend["noncore"].tolist(), charts.PALETTE[1]),
            S("阶段性不入库", trend["excluded"].tolist(), charts.PALETTE[5]),
            S("退回", trend["rejected"].tolist(), charts.PALETTE[3]),
        ],
        unit=" 行",
    )
    out["trend_active"] = charts.line_chart(
        "chart-trend-active",
        "历年年末在用指标",
        years,
        [S("年末在用指标", trend["active"].tolist(), charts.PALETTE[0])],
        unit=" 个",
    )
    return out


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pipelines.report", "templates"),
        autoescape=True,  # every submitted text is escaped; charts arrive as Markup built by charts.py
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # cast: mypy has no numeric tower, so a numbers.Real is not a float to it
    env.filters["num"] = lambda v: (
        charts.fmt_num(cast(float, v)) if isinstance(v, Real) and not isinstance(v, bool) else v
    )
    return env


def render_review_html(inputs: ReportInputs, tables: dict[str, ReviewTable] | None = None) -> str:
    tables = tables or review_tables(inputs)
    counts = inputs.validation.counts()
    template = _environment().get_template("review.html.j2")
    return template.render(
        year=inputs.year,
        ref_a=inputs.changes.ref_a or "（无上一版本）",
        ref_b=inputs.changes.ref_b or f"{inputs.year} 年度版本",
        counts=counts,
        balanced=counts["read"] == sum(counts[o] for o in ("library", "noncore", "excluded", "rejected")),
        t=tables,
        charts=review_charts(inputs, tables),
        row_limit=HTML_ROW_LIMIT,
        code_columns=CODE_COLUMNS,
        bad_items=("其中整本退回", OUTCOME_ZH["rejected"]),
        good_items=(OUTCOME_ZH["library"],),
    )


def write_review_html(out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable]) -> Path:
    return atomic_write_bytes(out_dir / "review.html", render_review_html(inputs, tables).encode("utf-8"))


def write_review_xlsx(out_dir: Path, inputs: ReportInputs, tables: dict[str, ReviewTable]) -> Path:
    path = out_dir / "review.xlsx"
    with xlsx_book(path, title=f"{inputs.year} 年度预算绩效指标库审核报告", subject="年度审核") as book:
        for table in tables.values():
            frame = table.frame[list(table.titles)]
            cell_formats = {}
            if table.key == "departments":
                over = (frame["core"] > frame["core_limit"]).tolist()
                cell_formats = {(i, "core"): "warning" for i, o in enumerate(over) if o}
                cell_formats |= {
                    (i, "verdict"): "error"
                    for i, v in enumerate(frame["verdict"])
                    if str(v).startswith(("退回", "部分退回"))
                }
            write_table(book, table.sheet, frame, table.titles, cell_formats=cell_formats)
    return path


def write_changelog(out_dir: Path, inputs: ReportInputs) -> Path:
    path = out_dir / "CHANGELOG.md"
    text = changes_markdown(inputs.changes, f"{inputs.year} 年度指标库变更记录")
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_feedback_workbooks(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """One feedback workbook per submitted file, with the findings that name it."""
    from pipelines.report.feedback import write_feedback

    folder = out_dir / "feedback"
    folder.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[Finding]] = {}
    for finding in inputs.validation.findings:  # grouped once: not files × findings comparisons
        by_file.setdefault(finding.file, []).append(finding)
    return [
        write_feedback(wb, by_file.get(wb.file, []), folder)
        for wb in sorted(inputs.workbooks, key=lambda w: w.file)
    ]


def write_merge_review_file(out_dir: Path, inputs: ReportInputs) -> Path:
    from pipelines.dedupe.candidates import write_merge_review

    path = out_dir / "merge_review.xlsx"
    write_merge_review(inputs.candidates, path)
    return path


def write_annual_report(out_dir: Path, inputs: ReportInputs) -> list[Path]:
    """Every report file of the year; deterministic, so an unchanged year makes no git change."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = review_tables(inputs)
    files = [
        write_review_html(out_dir, inputs, tables),
        write_review_xlsx(out_dir, inputs, tables),
        write_changelog(out_dir, inputs),
        write_merge_review_file(out_dir, inputs),
    ]
    files += write_feedback_workbooks(out_dir, inputs)
    return files
