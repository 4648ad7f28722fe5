"""`indicators …`: argument parsing and printing only; every step lives in its own module (SPEC §4).

Exit codes: 0 ok; 1 the input has errors / a blocking check or refusal stopped publishing; 2 bad usage,
an unreadable input or an environment the command cannot work in (read-only or full disk, permissions,
the repo locked by another rebuild); 3 an internal error, whose traceback goes to a log file, never to
the screen (pipelines.common.errors). The last lines printed are the outcome and its reason, in Chinese.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from pipelines.common.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError
from pipelines.common.findings import SEVERITY_ZH, group_findings

__all__ = ["EXIT_INPUT", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "UsageError", "main"]


def _print_err(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# template / validate
# --------------------------------------------------------------------------------------------------


def cmd_template(args: argparse.Namespace) -> int:
    from pipelines.intake.template import write_template

    path = write_template(Path(args.out))
    print(f"已生成填报模板：{path}")
    return EXIT_OK


def _finance_dept(args: argparse.Namespace) -> str | None:
    from pipelines.common.config import load_settings

    if getattr(args, "finance_dept", None):
        return str(args.finance_dept)
    return load_settings(Path(args.repo)).finance_dept if getattr(args, "repo", None) else None


def _published_indicators(repo: str | None):
    if not repo:
        return None
    from pipelines.store.publish import load_library

    tables = load_library(Path(repo) / "library")
    return None if tables is None else tables.indicators


def cmd_validate(args: argparse.Namespace) -> int:
    from pipelines.intake.safe_parse import read_workbooks
    from pipelines.validate.runner import submission_files, validate_workbooks

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


def validation_json(result) -> dict:
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


def validation_text(result, feedback_dir: str | None = None) -> str:
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


# --------------------------------------------------------------------------------------------------
# rebuild
# --------------------------------------------------------------------------------------------------


def accounting_line(counts: dict[str, int]) -> str:
    """SPEC §4: the rebuild's last line, read by scripts."""
    keys = ("read", "library", "noncore", "excluded", "rejected")
    return "rows: " + " ".join(f"{k}={int(counts.get(k, 0))}" for k in keys)


def run_rebuild_command(
    year: int,
    submissions: Path,
    repo: Path,
    finance_dept: str | None,
    dry_run: bool,
    *,
    wait: float = 0.0,
    verbose: bool = False,
) -> int:
    """Run one rebuild and print its outcome. Dagster's log goes to PATH/.dagster_home/logs/ (the
    screen with verbose); refusals and OS errors before or during the run end in one Chinese message."""
    from pipelines.common import errors
    from pipelines.defs.partitions import check_year
    from pipelines.defs.run import run_rebuild

    check_year(year)
    if not submissions.is_dir():
        raise UsageError(f"提交文件夹不存在：{submissions}")
    print(
        f"▶ {year} 年度重建：提交文件夹 {submissions}，指标库仓库 {repo}{'（试运行，不发布）' if dry_run else ''}",
        flush=True,
    )
    log_path = None if verbose else errors.new_log_path(errors.log_dir(repo), f"rebuild-{year}")
    with contextlib.ExitStack() as stack:
        log_file = None
        if log_path is not None:
            log_file = stack.enter_context(open(log_path, "a", encoding="utf-8"))  # noqa: SIM115
        try:
            outcome = run_rebuild(
                year,
                submissions,
                repo,
                finance_dept=finance_dept,
                dry_run=dry_run,
                progress=lambda m: print("  " + m, flush=True),
                wait=wait,
                log_file=log_file,
            )
        except Exception as exc:  # noqa: BLE001 - every failure ends in a Chinese sentence
            verdict = errors.classify(exc)
            if verdict is None:
                if log_file is not None:
                    traceback.print_exception(exc, file=log_file)
                    log_file.flush()
                    shown = log_path
                else:
                    shown = errors.write_crash_log(exc, repo, "rebuild")
                verdict = errors.Verdict(
                    EXIT_INTERNAL, errors.internal_message(f"{type(exc).__name__}", shown)
                )
            _print_err(f"错误：{verdict.message}")
            return verdict.exit_code
    return _print_outcome(outcome, repo, dry_run, log_path)


def _print_outcome(outcome, repo: Path, dry_run: bool, log_path: Path | None) -> int:
    from pipelines.common import errors

    c = outcome.accounting
    if c:
        print(
            f"  读取 {c['read']} 行：入库 {c['library']}，非核心 {c['noncore']}，阶段性不入库 {c['excluded']}，退回 {c['rejected']}"
        )
    if outcome.changes_zh:
        print(f"  指标变更：{outcome.changes_zh}")
    for name, meta in outcome.failed_checks:
        print(f"  ✗ 阻断检查未通过：{name} {json.dumps(meta, ensure_ascii=False, default=str)[:500]}")
    codes = [EXIT_INPUT] if outcome.failed_checks else []
    for step in outcome.step_errors:
        verdict = errors.classify_step(step.cls_name, step.message, step.causes)
        if verdict is None:
            where = log_path if log_path is not None else "上方的 Dagster 日志"
            cls = step.causes[-1][0] if step.causes else step.cls_name
            verdict = errors.Verdict(
                EXIT_INTERNAL, errors.internal_message(f"步骤 {step.step} 出现 {cls}", where)
            )
        codes.append(verdict.exit_code)
        print(f"  ✗ {verdict.message}")
    if log_path is not None:
        print(f"  运行日志：{log_path}")
    if outcome.published:
        p = outcome.published
        status = (
            f"已发布 {p['tag']}（提交 {str(p['sha'])[:10]}）"
            if p["committed"]
            else f"输入与上次相同，未产生新提交（当前 {str(p['sha'])[:10]}）"
        )
        print(f"  {status}")
        print(f"  指标库：{repo / 'library'}")
        print(f"  年度报告：{outcome.reports_dir}")
    elif dry_run and outcome.success:
        print(f"  试运行完成：未发布、未提交；报告草稿在 {outcome.reports_dir}")
    elif not outcome.success:
        print("  本次未发布：已发布的指标库保持不变")
    print(accounting_line(c))
    if outcome.success:
        return EXIT_OK
    return max(codes) if codes else EXIT_INPUT


def cmd_rebuild(args: argparse.Namespace) -> int:
    if args.wait < 0:
        raise UsageError("--wait 应为不小于 0 的秒数")
    return run_rebuild_command(
        args.year,
        Path(args.submissions),
        Path(args.repo),
        args.finance_dept,
        args.dry_run,
        wait=args.wait,
        verbose=args.verbose,
    )


# --------------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------------

DEMO_MARKER = ".indicators-demo"


def cmd_demo(args: argparse.Namespace) -> int:
    """Sample submissions → three annual rebuilds → library, git history, report (README's first command)."""
    import shutil
    import subprocess

    from pipelines.demo import build as demo
    from pipelines.store.publish import load_library
    from pipelines.store.release import commit_paths
    from pipelines.store.repo import open_repo

    out = Path(args.out).resolve()
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARKER).exists():
            raise UsageError(f"{out} 不是空文件夹，也不是以前生成的示例目录；请用 --out 指定另一个文件夹")
        shutil.rmtree(out)  # a previous demo: start again from scratch
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("indicators demo: scratch output, safe to delete\n", encoding="utf-8")
    (out / ".gitignore").write_text("*\n", encoding="utf-8")  # never committed by a surrounding repo
    submissions, repo = out / "submissions", out / "library-repo"
    open_repo(repo)
    (repo / "indicators.toml").write_text(
        f'# 示例市财政局的部署配置\nfinance_dept = "{demo.FINANCE_DEPT}"\nid_namespace = "ZB"\ninbox = "inbox"\n',
        encoding="utf-8",
    )
    commit_paths(repo, ("indicators.toml",), "部署配置：财政局部门编码、指标编号前缀")

    lookup = None
    for year in demo.DEMO_YEARS:
        story = demo.render_demo_year(submissions, year, lookup)
        print(f"\n══ {year} 年：示例填报 {len(story.files)} 个文件（{story.directory}）")
        for line in story.story_zh()[:12]:
            print(f"  · {line}")
        code = run_rebuild_command(year, story.directory, repo, demo.FINANCE_DEPT, False)
        if code != EXIT_OK:
            return code
        tables = load_library(repo / "library")
        lookup = demo.lookup_from_indicators(tables.indicators) if tables is not None else None

    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--oneline", "--decorate"], capture_output=True, text=True, check=True
    ).stdout
    last = demo.DEMO_YEARS[-1]
    print("\n══ 结果")
    print(f"  示例填报：{submissions}")
    print(f"  指标库仓库：{repo}（library/ 为发布的指标库）")
    print(f"  年度报告：{repo / 'reports' / str(last) / 'review.html'}")
    print(f"  版本差异：indicators diff --repo {repo}")
    print("\n$ git log --oneline --decorate")
    print(log.rstrip())
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# diff / history / search / review
# --------------------------------------------------------------------------------------------------


def _emit(data: dict, text: str, fmt: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str) if fmt == "json" else text.rstrip("\n"))


def cmd_diff(args: argparse.Namespace) -> int:
    from pipelines.store.query import diff as query

    changes = query.diff(Path(args.repo), args.ref_a, args.ref_b)
    _emit(query.diff_json(changes), query.render_diff_text(changes), args.format)
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from pipelines.store.query import history as query

    found = query.history(Path(args.repo), args.indicator_id)
    _emit(query.history_json(found), query.render_history_text(found), args.format)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    from pipelines.store.query import search as query

    hits = query.search(
        Path(args.repo),
        args.query,
        level1=args.level1,
        function_class=args.function_class,
        limit=args.limit,
        include_retired=args.all,
    )
    _emit(query.search_json(hits), query.render_search_text(hits), args.format)
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    from pipelines.dedupe.decisions import apply_review
    from pipelines.store.repo import open_repo

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"找不到审核表：{path}")
    repo = Path(args.repo)
    open_repo(repo)
    year = args.year or _year_of_review(path)
    from pipelines.store.release import commit_rules

    summary = apply_review(path, repo / "rules", year)
    print("已应用审核表 " + summary.message_zh())
    for warning in summary.warnings:
        print("提示：" + warning)
    sha = commit_rules(
        repo,
        f"{year}年度疑似重复审核：合并 {summary.merged}，不合并 {summary.not_merged}，"
        f"设为共性指标 {summary.promoted}（{summary.file}）",
    )
    print(
        f"规则已写入 {repo / 'rules'}"
        + (f" 并提交（{sha[:10]}）" if sha else "（无变化）")
        + "；下次重建时生效。"
    )
    return EXIT_OK


def _year_of_review(path: Path) -> int:
    """reports/<Y>/merge_review.xlsx → Y; otherwise the current year."""
    import datetime

    parent = path.resolve().parent.name
    return int(parent) if parent.isdigit() and len(parent) == 4 else datetime.date.today().year


# --------------------------------------------------------------------------------------------------
# county: pull / export
# --------------------------------------------------------------------------------------------------


def cmd_pull(args: argparse.Namespace) -> int:
    from pipelines.county.pull import pull, pull_summary_text

    result = pull(args.source, args.ref, Path(args.into))
    print(pull_summary_text(result))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.store.export import export_library

    path = export_library(Path(args.repo), args.format, Path(args.out) if args.out else None)
    print(f"已导出：{path}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# textconv
# --------------------------------------------------------------------------------------------------


def cmd_textconv(args: argparse.Namespace) -> int:
    from pipelines.textconv import main as textconv_main

    return textconv_main([args.file])


# --------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="indicators", description="预算绩效指标库：填报模板、校验、年度重建、版本历史与检索"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("template", help="生成填报模板工作簿")
    p.add_argument("--out", default=".", help="输出文件夹（默认当前文件夹）")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("validate", help="检查部门填报的工作簿")
    p.add_argument("files", nargs="+", metavar="FILE", help="工作簿或文件夹")
    p.add_argument("--year", type=int, help="汇总年度：填报年度必须一致")
    p.add_argument("--repo", help="指标库仓库：用于核对库内编号")
    p.add_argument("--finance-dept", help="财政局的部门编码（只有它可以填报共性指标）")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--feedback", metavar="DIR", help="为每个工作簿写出反馈工作簿到此文件夹")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("rebuild", help="年度重建：校验、合并、发布指标库并提交到 git")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--submissions", required=True, metavar="DIR", help="本年度各部门工作簿所在文件夹")
    p.add_argument("--repo", default=".", help="指标库仓库（不存在时新建）")
    p.add_argument("--finance-dept", help="财政局的部门编码（默认取 indicators.toml）")
    p.add_argument("--dry-run", action="store_true", help="只校验和生成报告草稿，不发布、不提交")
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="另一个重建正在运行时最多等待的秒数（默认 0：立即停止并说明）",
    )
    p.add_argument(
        "--verbose",
        action="store_true",
        help="把 Dagster 的运行日志显示在屏幕上（默认写入 .dagster_home/logs/）",
    )
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("demo", help="示例：三年的示例填报 → 三次年度重建 → 指标库、git 历史、年度报告")
    p.add_argument("--out", default="demo-output", help="输出文件夹（默认 ./demo-output，已被 git 忽略）")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("diff", help="两个版本之间的指标变化（默认最近两个标签）")
    p.add_argument("ref_a", nargs="?", metavar="REF_A")
    p.add_argument("ref_b", nargs="?", metavar="REF_B")
    p.add_argument("--repo", default=".")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("history", help="一个指标在各版本中的变化及理由")
    p.add_argument("indicator_id", metavar="INDICATOR_ID")
    p.add_argument("--repo", default=".")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("search", help="按名称、关键词、解释检索指标（繁简均可）")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--repo", default=".")
    p.add_argument("--level1", help="一级指标，如 产出指标")
    p.add_argument("--class", dest="function_class", metavar="CODE", help="功能分类科目编码（类/款/项）")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--all", action="store_true", help="包括已退出的指标")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("review", help="应用填写好的疑似重复审核表（合并 / 不合并）")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--repo", default=".")
    p.add_argument("--year", type=int, help="审核所属年度（默认取 reports/<年度>/ 目录名）")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("pull", help="县级财政局：拉取已发布的版本并逐个文件核对 sha256")
    p.add_argument("source", metavar="SOURCE", help="市级指标库仓库：路径、file://、ssh 或 https 地址")
    p.add_argument("--ref", metavar="TAG", help="版本标签（默认最新的 vY）")
    p.add_argument("--into", default="upstream", metavar="DIR", help="本地副本文件夹（默认 ./upstream）")
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("export", help="导出可筛选的 Excel / CSV")
    p.add_argument("--repo", default=".")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--out", metavar="FILE")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("textconv", help="git 比较驱动：把 Parquet 文件显示为排序后的文本行")
    p.add_argument("file")
    p.set_defaults(func=cmd_textconv)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage already; keep its code
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `indicators diff | head`: the reader left, nothing more to say
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python's exit flush quiet
        return EXIT_OK
    except Exception as exc:
        return _report_error(exc, args)


def _report_error(exc: Exception, args: argparse.Namespace) -> int:
    """Every failure ends in one Chinese message and its exit code; a bug's traceback goes to a log file."""
    from pipelines.common import errors
    from pipelines.county.mirror import PullError

    if isinstance(exc, PullError):
        _print_err(f"错误：{exc}")
        return int(exc.exit_code)
    verdict = errors.classify(exc)
    if verdict is None:
        repo = Path(args.repo) if getattr(args, "repo", None) else None
        log = errors.write_crash_log(exc, repo, str(getattr(args, "command", "")))
        verdict = errors.Verdict(EXIT_INTERNAL, errors.internal_message(type(exc).__name__, log))
    _print_err(f"错误：{verdict.message}")
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
