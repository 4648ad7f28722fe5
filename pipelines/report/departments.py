"""The per-department review (in the spirit of the scheme's 论证审核表): one row per submitted file, with
where its rows went, its core indicators against the limit, what it changed in the library and a verdict;
plus the library's departments that sent nothing this year."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.common.findings import Finding, findings_by_file
from pipelines.common.frames import distinct_counts
from pipelines.report.finding_tally import FindingTally
from pipelines.report.model import (
    ROW_OUTCOMES,
    ReportInputs,
    ReviewTable,
    column,
    file_statuses,
)
from pipelines.report.text_columns import str_dtype
from pipelines.report.violations import rule_text
from pipelines.validate.rules.core_count import core_limit
from pipelines.validate.runner import FileStatus
from schemas.vocab import reference

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
NOT_SUBMITTED = "本年度未报送"


def _split_codes(text: object) -> list[str]:
    return [p for p in str(text or "").split("、") if p]


def _code_counts(texts: list[object]) -> dict[str, int]:
    """How often each code appears over _split_codes of every text, in order of first appearance: where
    every text is a str, all of them joined and split once (1M rows' first release: 207k added
    indicators' department lists, one split each before)."""
    if set(map(type, texts)) <= {str}:
        return dict(Counter(filter(None, "、".join(texts).split("、"))))  # type: ignore[arg-type]
    counts: dict[str, int] = {}
    for text in texts:
        for code in _split_codes(text):
            counts[code] = counts.get(code, 0) + 1
    return counts


def _added_counts(texts: pd.Series) -> dict[str, int]:
    """_code_counts of the column's values: a str column with no missing value split and counted by Arrow
    (1M rows' first release: 207k department lists, 80 ms in Python, 24 ms so)."""
    if texts.dtype != str_dtype() or texts.hasnans:
        return _code_counts(texts.tolist())
    parts = pc.list_flatten(pc.split_pattern(pa.array(texts.array), "、"))
    counted = pc.value_counts(parts.filter(pc.not_equal(parts, "")))
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))


def _text_codes(series: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """Each row's code into the distinct texts of series.astype(str), and those texts; None when a value
    is missing (astype(str) keeps it missing, with its own rules in comparisons and counts). A
    categorical column (the validated rows' are) is read through its codes: astype(str) of 300k rows was
    most of this table's time."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = np.asarray(series.cat.codes, dtype=np.intp)
        if len(codes) and codes.min() < 0:
            return None
        labels = series.cat.categories.astype(str)
        if labels.hasnans:
            return None
        merged, distinct = pd.factorize(np.asarray(labels, dtype=object))  # two may read the same
        return np.asarray(merged, dtype=np.intp)[codes], [str(v) for v in distinct]
    found, distinct = pd.factorize(np.asarray(series.astype(str), dtype=object))
    if len(found) and found.min() < 0:
        return None
    return np.asarray(found, dtype=np.intp), [str(v) for v in distinct]


def _is(coded: tuple[np.ndarray, list[str]], *values: str) -> np.ndarray:
    """The rows whose text is one of `values`."""
    codes, labels = coded
    return np.isin(codes, [k for k, label in enumerate(labels) if label in values])


_PER_FILE = ["read", *ROW_OUTCOMES, "core", "projects", "complexity"]


def _per_file(rows: pd.DataFrame) -> pd.DataFrame:
    """Counts per source file in one pass (a city-sized year has 100,000 rows and 85 files): on the
    columns' codes, each count a bincount; a column with a missing value goes to _per_file_texts."""
    if rows.empty or "source_file" not in rows.columns:
        return pd.DataFrame(columns=_PER_FILE)
    names = ("source_file", "outcome", "sheet_kind", "project", "complexity")
    coded = [_text_codes(column(rows, c)) for c in names]
    if any(c is None for c in coded):
        return _per_file_texts(rows)
    (file, files), outcome, kind, project, complexity = (c for c in coded if c is not None)
    n = len(files)

    counts = {"read": np.bincount(file, minlength=n)}
    # Every outcome's count per file from one count per (file, outcome) (a mask and a count per outcome
    # over 1M rows was 18 ms).
    n_outcomes = max(len(outcome[1]), 1)
    by_outcome = np.bincount(file * n_outcomes + outcome[0], minlength=n * n_outcomes).reshape(n, n_outcomes)
    for o in ROW_OUTCOMES:
        counts[o] = by_outcome[:, [k for k, label in enumerate(outcome[1]) if label == o]].sum(axis=1)
    # Core indicators as the W206 rule counts them: not rejected, not marked non-core.
    counts["core"] = np.bincount(file[_is(kind, "core") & _is(outcome, "library", "excluded")], minlength=n)
    is_project = _is(kind, "project") & ~_is(project, "")
    counts["projects"] = _distinct_per_file(file[is_project], project[0][is_project], n, len(project[1]))
    out = pd.DataFrame({k: v.astype("int64") for k, v in counts.items()}, index=pd.Index(files))
    stated = np.flatnonzero(~_is(complexity, ""))
    first = np.full(n, len(rows), dtype=np.intp)  # each file's first row stating its complexity
    np.minimum.at(first, file[stated], stated)
    shown = np.asarray([*complexity[1], ""], dtype=object)
    out["complexity"] = shown[np.append(complexity[0], len(complexity[1]))[first]]
    return out[out["read"] > 0]


def distinct_values(values: np.ndarray) -> np.ndarray:
    """The distinct values of an integer array, sorted: its runs of equal neighbours first, then a sort of
    the runs' first values only. Rows come file by file and a project's rows together, so the runs are
    long (1M rows' 700k project rows: a sort of every (file, project) pair was 60 ms)."""
    if not len(values):
        return values
    heads = values[np.flatnonzero(np.r_[True, values[1:] != values[:-1]])]
    return distinct_counts(heads)[0]


def _distinct_per_file(file: np.ndarray, value: np.ndarray, n_files: int, n_values: int) -> np.ndarray:
    """How many distinct values each file has (value codes below n_values)."""
    width = max(n_values, 1)
    pairs = distinct_values(file.astype(np.int64) * width + value)
    return np.bincount(pairs // width, minlength=n_files)


def _per_file_texts(rows: pd.DataFrame) -> pd.DataFrame:
    """_per_file on the columns as texts (astype(str)): any column, missing values included."""
    file = rows["source_file"].astype(str)
    outcome = column(rows, "outcome").astype(str)
    kind = column(rows, "sheet_kind").astype(str)
    project = column(rows, "project").astype(str)
    complexity = column(rows, "complexity").astype(str)
    out = pd.DataFrame({"read": file.value_counts()})
    for o in ROW_OUTCOMES:
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
        added = _added_counts(changes.added["departments"])
    usages = inputs.tables.usages
    changed = (usages["year"] == inputs.year) & usages["change_type"].isin(("修改", "退出"))
    usages = usages[["change_type", "indicator_id", "dept_code"]][changed]  # not every column
    modified_ids = set(changes.modified["indicator_id"]) if len(changes.modified) else set()
    retired_ids = set(changes.retired["indicator_id"]) if len(changes.retired) else set()
    modified = usages[(usages["change_type"] == "修改") & usages["indicator_id"].isin(modified_ids)]
    retired = usages[(usages["change_type"] == "退出") & usages["indicator_id"].isin(retired_ids)]
    # As dicts: a Series.get per department was 0.1 s of 1M rows' 972 departments.
    n_mod = modified.groupby("dept_code")["indicator_id"].nunique().to_dict()
    n_ret = retired.groupby("dept_code")["indicator_id"].nunique().to_dict()
    codes = set(added) | set(n_mod) | set(n_ret)
    return {c: (added.get(c, 0), int(n_mod.get(c, 0)), int(n_ret.get(c, 0))) for c in codes}


def _verdict(status: FileStatus, file_errors: list[Finding], rejected: int, warnings: int) -> str:
    """审核意见: the whole file sent back, some rows sent back, passed with warnings, or passed."""
    if status.set_aside:
        messages = "；".join(dict.fromkeys(f.message for f in file_errors)) or "；".join(
            dict.fromkeys(rule_text(c) for c in status.file_errors)
        )
        return f"退回重报：{messages}"
    if rejected:
        return f"部分退回：{rejected} 行需按反馈修改后重报"
    if warnings:
        return f"通过（{warnings} 条提示请核对）"
    return "通过"


def _file_record(
    status: FileStatus,
    counts: dict[Any, Any],
    file_errors: list[Finding],
    warnings: int,
    changed: tuple[int, int, int],
    complexity: str,
) -> dict[str, object]:
    """The review row of one submitted file: its file errors (in finding order) and count of warnings."""
    added, modified, retired = (0, 0, 0) if status.set_aside or not status.dept_code else changed
    return {
        "dept_code": status.dept_code,
        "dept_name": status.dept_name,
        "file": status.file,
        "complexity": complexity or "未填",
        **{k: int(counts[k]) for k in ("read", *ROW_OUTCOMES)},
        "warnings": int(warnings),
        "core": int(counts["core"]),
        "core_limit": core_limit(complexity),
        "projects": int(counts["projects"]),
        "added": added,
        "modified": modified,
        "retired": retired,
        "verdict": _verdict(status, file_errors, int(counts["rejected"]), warnings),
    }


def _absent_records(inputs: ReportInputs, submitted: set[str]) -> list[dict[str, object]]:
    """The library's departments that sent no file this year."""
    deps = inputs.tables.departments
    absent = deps[~deps["dept_code"].isin(submitted)].sort_values("dept_code")
    return [
        {
            **dict.fromkeys(DEPT_TITLES, 0),
            "dept_code": rec["dept_code"],
            "dept_name": rec["dept_name"],
            "file": "",
            "complexity": rec["complexity"] or "未填",
            "core_limit": core_limit(rec["complexity"]),
            "verdict": NOT_SUBMITTED,
        }
        for rec in absent.to_dict("records")
    ]


def department_table(inputs: ReportInputs, findings: FindingTally | None = None) -> pd.DataFrame:
    """One row per submitted file, plus departments of the library that sent nothing this year."""
    per_file = _per_file(inputs.validation.rows)
    # Only what a row reads: warnings counted, file errors kept, from the findings' tally (review_tables
    # passes the one its other tables read: 1M rows' 1.03M findings are walked once).
    if findings is None:
        findings = FindingTally(inputs.validation.findings)
    warnings_of = findings.per_file("warning")
    file_errors_of = findings_by_file(findings.of_severity("file_error"))
    dept_changes = _dept_changes(inputs)
    departments = inputs.tables.departments
    complexity_of = dict(zip(departments["dept_code"], departments["complexity"], strict=True))
    zero: dict[Any, Any] = {**dict.fromkeys(("read", *ROW_OUTCOMES, "core", "projects"), 0), "complexity": ""}
    counts_of = per_file.to_dict("index")  # one conversion, not a .loc per file (1,000 files a province)
    records = []
    for status in file_statuses(inputs):
        counts = counts_of.get(status.file, zero)
        complexity = str(counts["complexity"]) or str(complexity_of.get(status.dept_code, ""))
        changed = dept_changes.get(status.dept_code, (0, 0, 0))
        file_errors = file_errors_of.get(status.file, [])
        warnings = warnings_of.get(status.file, 0)
        records.append(_file_record(status, counts, file_errors, warnings, changed, complexity))
    records += _absent_records(inputs, {str(r["dept_code"]) for r in records})
    frame = pd.DataFrame(records, columns=list(DEPT_TITLES))
    return frame.sort_values(["dept_code", "file"], kind="stable").reset_index(drop=True)


def department_review(inputs: ReportInputs, findings: FindingTally | None = None) -> ReviewTable:
    limits = reference().limits
    return ReviewTable(
        "departments",
        "部门审核",
        "部门指标审核表",
        department_table(inputs, findings),
        DEPT_TITLES,
        DEPT_NUMERIC,
        "核心指标上限：职责单一的部门 {single} 个，职责复杂的部门 {complex} 个（未填按复杂）。".format(
            single=limits["core_max_single"], complex=limits["core_max_complex"]
        ),
    )
