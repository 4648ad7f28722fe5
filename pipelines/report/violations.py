"""Rule violations of the year (file errors, row errors, warnings): per file, per rule, and grouped detail.

The rule and fix texts come from the finding catalogue (reference().findings), with their placeholders
blanked: a table row speaks of the rule, not of one occurrence of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import numpy as np
import pandas as pd

from pipelines.common.findings import SEVERITY_ORDER, SEVERITY_ZH
from pipelines.report.finding_tally import FindingTally, Groups
from pipelines.report.model import ReportInputs, ReviewTable, file_statuses
from pipelines.report.text_columns import texts_column
from schemas.vocab import reference

VIOLATION_SEVERITIES = ("file_error", "row_error", "warning")
BY_FILE_TITLES = {
    "dept_code": "部门编码",
    "dept_name": "部门名称",
    "file": "报送文件",
    "file_error": "文件错误",
    "row_error": "行错误",
    "warning": "提示",
    "total": "合计",
    "main": "主要问题",
}
BY_RULE_TITLES = {
    "code": "代码",
    "severity": "类别",
    "rule": "规则",
    "count": "次数",
    "departments": "涉及文件",
    "fix": "处理建议",
}
DETAIL_TITLES = {
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
}


def _generic(template: str) -> str:
    """A finding rule with its placeholders blanked: the rule itself, not one occurrence of it."""
    return template.replace("{value}", "…").replace("{column}", "…").replace("{detail}", "…")


def rule_text(code: str) -> str:
    spec = reference().findings.get(code)
    return _generic(spec.rule_zh) if spec else code


def fix_text(code: str) -> str:
    spec = reference().findings.get(code)
    return _generic(spec.fix_zh) if spec else ""


class _RuleTally(TypedDict):
    code: str
    severity: str
    count: int
    files: set[str]


def _by_file(tally: Mapping[tuple[str, str, str], int], dept_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """One row per file with violations: counts per severity and its three most frequent rules."""
    per_file: dict[str, dict[str, object]] = {}
    code_counts: dict[str, dict[str, int]] = {}
    for (file, severity, rule), n in tally.items():
        code, name = dept_of.get(file, ("", ""))
        rec = per_file.setdefault(
            file,
            {"dept_code": code, "dept_name": name, "file": file, **dict.fromkeys(VIOLATION_SEVERITIES, 0)},
        )
        rec[severity] = int(rec[severity]) + n  # type: ignore[call-overload]
        counts = code_counts.setdefault(file, {})
        counts[rule] = counts.get(rule, 0) + n
    texts: dict[str, str] = {}  # each rule's text once (1M rows: 2,900 look-ups of 19 rules)
    for file, rec in per_file.items():
        rec["total"] = sum(int(rec[s]) for s in VIOLATION_SEVERITIES)  # type: ignore[call-overload]
        top = sorted(code_counts[file].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        for c, _ in top:
            if c not in texts:
                texts[c] = rule_text(c)
        rec["main"] = "；".join(f"{c} {texts[c]} ×{n}" for c, n in top)
    frame = pd.DataFrame(list(per_file.values()), columns=[*BY_FILE_TITLES])
    return frame.sort_values(["dept_code", "file"], kind="stable").reset_index(drop=True)


def _by_rule(tally: Mapping[tuple[str, str, str], int]) -> pd.DataFrame:
    """One row per rule: how often it was broken and in how many files; errors first, then by count. A
    rule's severity is that of its first finding."""
    rules: dict[str, _RuleTally] = {}
    for (file, severity, code), n in tally.items():
        tally_ = rules.setdefault(code, {"code": code, "severity": severity, "count": 0, "files": set()})
        tally_["count"] = int(tally_["count"]) + n
        tally_["files"].add(file)
    frame = pd.DataFrame(
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
        columns=[*BY_RULE_TITLES, "_order"],
    )
    frame = frame.sort_values(["_order", "count", "code"], ascending=[True, False, True], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _details_of(groups: Groups, dept_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """The findings grouped (one rule on one column of one sheet is one row, with its cells)."""
    if not len(groups):  # typed as before: empty lists would make float columns
        return pd.DataFrame([], columns=list(DETAIL_TITLES))
    files, file_names = groups.texts["file"]
    severities, severity_names = groups.texts["severity"]
    frame = pd.DataFrame(
        {
            "dept_code": texts_column(files, [dept_of.get(f, ("", ""))[0] for f in file_names]),
            "file": texts_column(files, file_names),
            "sheet": texts_column(*groups.texts["sheet"]),
            "code": texts_column(*groups.texts["code"]),
            "severity": texts_column(severities, [SEVERITY_ZH.get(s, s) for s in severity_names]),
            "field": texts_column(*groups.texts["field"]),
            "message": texts_column(*groups.texts["message"]),
            "cells": texts_column(None, groups.cells_zh),
            "count": groups.count.astype(np.int64),
            "fix": texts_column(None, groups.fix),
            "_order": np.array([SEVERITY_ORDER.get(s, 9) for s in severity_names], dtype=np.int64)[
                severities
            ],
        },
        columns=[*DETAIL_TITLES, "_order"],
    )
    frame = frame.sort_values(["dept_code", "file", "_order", "sheet", "code", "field"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def violation_tables(
    inputs: ReportInputs, findings: FindingTally | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Rule violations (file errors, row errors, warnings): per file, per rule, and grouped detail; from
    the year's findings read once (review_tables passes the tally its other tables read too)."""
    dept_of = {s.file: (s.dept_code, s.dept_name) for s in file_statuses(inputs)}
    if findings is None:
        findings = FindingTally(inputs.validation.findings)
    tally = findings.tally(VIOLATION_SEVERITIES)
    return (
        _by_file(tally, dept_of),
        _by_rule(tally),
        _details_of(findings.groups(VIOLATION_SEVERITIES), dept_of),
    )


def violation_reviews(inputs: ReportInputs, findings: FindingTally | None = None) -> list[ReviewTable]:
    by_file, by_rule, details = violation_tables(inputs, findings)
    return [
        ReviewTable(
            "violations",
            "问题_按部门",
            "各部门规则问题",
            by_file,
            BY_FILE_TITLES,
            ("file_error", "row_error", "warning", "total"),
        ),
        ReviewTable("rules", "问题_按规则", "按规则汇总", by_rule, BY_RULE_TITLES, ("count", "departments")),
        ReviewTable(
            "details",
            "问题明细",
            "问题明细（同一规则同一列合并为一行）",
            details,
            DETAIL_TITLES,
            ("count",),
            "各部门的逐行反馈见部署仓库 outbox/<年度>/ 中的反馈工作簿（不随版本发布）。",
        ),
    ]
