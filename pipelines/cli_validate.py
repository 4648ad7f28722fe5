"""`indicators validate`: check department workbooks and print their findings (text or JSON, CONTRACT §4)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.common.errors import UsageError
from pipelines.common.findings import SEVERITY_ZH, group_findings

if TYPE_CHECKING:  # the command imports pandas and the validator only when it runs
    import pandas as pd

    from pipelines.validate.runner import ValidationResult


def _finance_dept(args: argparse.Namespace) -> str | None:
    from pipelines.common.config import load_settings

    if getattr(args, "finance_dept", None):
        return str(args.finance_dept)
    return load_settings(Path(args.repo)).finance_dept if getattr(args, "repo", None) else None


def _published_indicators(repo: str | None) -> pd.DataFrame | None:
    if not repo:
        return None
    from pipelines.store.publish import load_library

    tables = load_library(Path(repo) / "library")
    return None if tables is None else tables.indicators


def _own_reference(repo: str | None) -> Path | None:
    """The deployment's rules/reference/ (the same folder the rebuild reads), when --repo names one."""
    own = Path(repo) / "rules" / "reference" if repo else None
    return own if own is not None and own.is_dir() else None


def _last_actuals(repo: str | None, year: int | None) -> pd.DataFrame | None:
    """With --repo and --year: the last evaluated year's actual values, so W215 holds targets to them."""
    if not repo or year is None:
        return None
    from pipelines.store.evaluations import last_actuals

    return last_actuals(Path(repo) / "library", year)


def cmd_validate(args: argparse.Namespace) -> int:
    from pipelines.intake.inbox import submission_files
    from pipelines.intake.safe_parse import read_workbooks
    from pipelines.validate.runner import validate_workbooks

    files = submission_files([Path(p) for p in args.files])
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        raise UsageError("找不到文件：" + "、".join(missing))
    if not files:
        raise UsageError("没有找到要检查的工作簿（.xlsx）")
    workbooks = read_workbooks(files)  # in worker processes: a hostile file costs only itself
    result = validate_workbooks(
        workbooks,
        year=args.year,
        finance_dept=_finance_dept(args),
        indicators=_published_indicators(args.repo),
        rules_dir=Path(args.repo) / "rules" if args.repo else None,
        reference_dir=_own_reference(args.repo),
        actuals=_last_actuals(args.repo, args.year),
    )
    if args.feedback:
        from pipelines.report.feedback import write_feedback

        out = Path(args.feedback)
        for wb in workbooks:
            write_feedback(wb, [f for f in result.findings if f.file == wb.file], out)
    if args.format == "json":
        print(json.dumps(validation_json(result), ensure_ascii=False, indent=2))
    else:
        print(validation_text(result, feedback_dir=args.feedback))
    return result.exit_code


def validation_json(result: ValidationResult) -> dict:
    files = []
    for status in result.files:
        mine = [f for f in result.findings if f.file == status.file]
        counts = {sev: sum(f.severity == sev for f in mine) for sev in SEVERITY_ZH}
        rows = result.rows[result.rows["source_file"] == status.file] if len(result.rows) else result.rows
        files.append(
            {
                "file": status.file,
                "sha256": status.sha256,
                "readable": status.readable,
                "set_aside": status.set_aside,
                "dept_code": status.dept_code,
                "dept_name": status.dept_name,
                "rows": {
                    o: int((rows["outcome"] == o).sum())
                    for o in ("library", "noncore", "excluded", "rejected")
                }
                | {"read": len(rows)},
                "counts": counts,
                "groups": [g.__dict__ for g in group_findings(mine)],
                "findings": [f.as_dict() for f in mine],
            }
        )
    return {"exit_code": result.exit_code, "rows": result.counts(), "files": files}


def validation_text(result: ValidationResult, feedback_dir: str | None = None) -> str:
    lines: list[str] = []
    for status in result.files:
        mine = [f for f in result.findings if f.file == status.file]
        errors = sum(f.severity in ("file_error", "row_error") for f in mine)
        warnings = sum(f.severity == "warning" for f in mine)
        who = f"（{status.dept_code} {status.dept_name}）" if status.dept_code else ""
        verdict = (
            "无法读取"
            if not status.readable
            else "整个工作簿未通过"
            if status.set_aside
            else "有错误"
            if errors
            else "通过"
        )
        lines.append(
            f"■ {status.file}{who}：{verdict}，错误 {errors} 个，提示 {warnings} 个，数据行 {status.rows_read} 行"
        )
        for g in group_findings(mine):
            if g.severity == "info":
                continue
            where = f"工作表“{g.sheet}” " if g.sheet else ""
            cells = f"{g.cells_zh}：" if g.cells else ""
            lines.append(f"  [{g.code}] {SEVERITY_ZH[g.severity]} {where}{cells}{g.message}")
            lines.append(f"         处理：{g.fix}")
    c = result.counts()
    lines.append("")
    lines.append(
        f"合计：读取 {c['read']} 行，可入库 {c['library']}，非核心 {c['noncore']}，阶段性不入库 {c['excluded']}，退回 {c['rejected']}"
    )
    if feedback_dir:
        lines.append(f"反馈工作簿已写入：{feedback_dir}")
    return "\n".join(lines)
