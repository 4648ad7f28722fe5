"""`indicators evaluate` and `indicators template --self-eval` (CONTRACT §4, §7): argument handling and
printing only; the steps are pipelines.defs.evaluation.score_year / publish_year (the same functions the
Dagster assets run) and pipelines.evaluate.workbook.write_self_evaluation.

evaluate's exit codes follow rebuild's: 0 when the evaluation was published (or was already, unchanged) —
workbooks or rows with errors are reported and score 0, they do not stop the others; 1 when a blocking check
or a refusal stopped publishing; 2 bad usage (no release, no such folder or year, the repo locked).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.common.errors import EXIT_INPUT, EXIT_OK, UsageError
from pipelines.common.findings import SEVERITY_ZH, Finding, group_findings


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="绩效自评：按财政部规则为各部门的自评表评分，发布结果并提交到 git")
    p.add_argument("--year", type=int, required=True, help="自评的年度（指标所属的年度）")
    p.add_argument("--submissions", required=True, metavar="DIR", help="各部门自评表所在文件夹")
    p.add_argument("--repo", default=".", help="指标库仓库（默认当前文件夹）")
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="另一个重建或自评正在运行时最多等待的秒数（默认 0：立即停止并说明）",
    )
    p.set_defaults(func=cmd_evaluate)


def findings_text(findings: list[Finding]) -> list[str]:
    """The findings by workbook, grouped like `indicators validate` prints them."""
    lines: list[str] = []
    for file in sorted({f.file for f in findings}):
        mine = [f for f in findings if f.file == file]
        errors = sum(f.severity in ("file_error", "row_error") for f in mine)
        lines.append(f"■ {file}：错误 {errors} 个，提示 {len(mine) - errors} 个")
        for g in group_findings(mine):
            where = f"工作表“{g.sheet}” " if g.sheet else ""
            cells = f"{g.cells_zh}：" if g.cells else ""
            lines.append(f"  [{g.code}] {SEVERITY_ZH[g.severity]} {where}{cells}{g.message}")
            lines.append(f"         处理：{g.fix}")
    return lines


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pipelines.defs.evaluation import publish_year, score_year
    from pipelines.defs.partitions import check_year
    from pipelines.evaluate.release import EvaluationBlocked
    from pipelines.evaluate.run import scorecard

    if args.wait < 0:
        raise UsageError("--wait 应为不小于 0 的秒数")
    check_year(args.year)
    repo = Path(args.repo)
    scored = score_year(repo, args.year, Path(args.submissions))
    tables = scored.tables
    for dept in tables.departments["dept_code"]:
        print(scorecard(tables, str(dept)))
        print()
    for line in findings_text(tables.findings):
        print(line)
    try:
        done = publish_year(repo, scored, wait=args.wait)
    except EvaluationBlocked as exc:
        for problem in exc.problems[:20]:
            print(f"  {problem}")
        print(f"未发布：{exc}")
        return EXIT_INPUT
    depts = tables.departments
    summary = (
        f"{len(depts)} 个部门（提交自评表 {int(depts['submitted'].sum())} 个），{len(tables.projects)} 个项目，"
        f"{len(tables.usages)} 条指标，问题 {len(tables.findings)} 条"
    )
    if done.committed:
        print(f"已发布 {args.year} 年度绩效自评结果，标签 {done.tag}（提交 {done.sha[:10]}）：{summary}")
    else:
        shown = f"，仍为 {done.tag}" if done.tag else ""
        print(f"{args.year} 年度绩效自评结果与已发布的相同，未产生新提交{shown}：{summary}")
    return EXIT_OK


def cmd_template_self_eval(args: argparse.Namespace) -> int:
    """`indicators template --self-eval --dept CODE --year Y`: the department's pre-filled self-evaluation
    workbook from the published usages of year Y."""
    from pipelines.evaluate.workbook import department_usages, write_self_evaluation
    from pipelines.store.publish import LIBRARY_DIR, read_manifest
    from pipelines.store.shape import read_release_table

    if not args.dept or args.year is None:
        raise UsageError("--self-eval 需要 --dept 部门编码 和 --year 自评年度")
    if args.pick:
        raise UsageError("--pick 只用于填报工作簿，不能与 --self-eval 一起使用")
    library = Path(args.repo) / LIBRARY_DIR
    if read_manifest(library) is None:
        raise UsageError(f"{args.repo} 中还没有发布的指标库：请检查 --repo")
    usages = read_release_table(library, "usages")
    usages = usages[usages["year"] == args.year].reset_index(drop=True)
    try:
        path = write_self_evaluation(usages, str(args.dept), args.year, Path(args.out))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    mine = department_usages(usages, str(args.dept), args.year)
    projects = mine["project_label"].nunique()
    print(f"已生成 {args.dept} {args.year} 年度绩效自评表：{path}")
    print(
        f"  {len(mine)} 条指标、{projects} 个项目；黄色单元格为需填写的内容（完成值或评判等级，预算执行情况）"
    )
    return EXIT_OK
