"""`indicators …`: argument parsing and printing only; every step lives in its own module (CONTRACT §4).

Exit codes: 0 ok; 1 the input has errors / a blocking check or refusal stopped publishing; 2 bad usage,
an unreadable input or an environment the command cannot work in (read-only or full disk, permissions,
the repo locked by another rebuild); 3 an internal error, whose traceback goes to a log file, never to
the screen (pipelines.common.errors). The last lines printed are the outcome and its reason, in Chinese.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.cli_evaluate import add_evaluate_parser, cmd_template_self_eval
from pipelines.cli_rebuild import cmd_demo, cmd_feedback, cmd_rebuild
from pipelines.cli_validate import cmd_validate
from pipelines.common.errors import EXIT_INTERNAL, EXIT_OK, UsageError


def _print_err(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# template
# --------------------------------------------------------------------------------------------------


def cmd_template(args: argparse.Namespace) -> int:
    if args.self_eval:
        return cmd_template_self_eval(args)
    if args.dept is None:
        if args.pick:
            raise UsageError("--pick 需要与 --dept 一起使用：选取的指标加入该部门的预填工作簿")
        from pipelines.intake.template import write_template

        path = write_template(Path(args.out), year=args.year)
        print(f"已生成填报模板：{path}")
        return EXIT_OK
    from pipelines.store.prefill import prefill_workbook

    done = prefill_workbook(
        Path(args.repo),
        args.dept,
        Path(args.out),
        year=args.year,
        pick_file=Path(args.pick) if args.pick else None,
    )
    kept = "，".join(f"{_SHEET_ZH[k]} {n}" for k, n in done.kept.items())
    who = f"{done.dept_code} {done.dept_name}" if done.dept_name else done.dept_code
    print(f"已生成 {who} {done.year} 年度预填工作簿：{done.path}")
    print(f"  沿用本部门在用指标 {sum(done.kept.values())} 个" + (f"（{kept}）" if kept else ""))
    if done.picked:
        print(f"  加入选取的指标 {done.picked} 个（库内编号、指标库的名称和解释已填好）")
    for note in done.notes:
        print(f"  提示：{note}")
    if done.to_fill:
        print("  以下单元格仍需部门填写（已用黄色标出，未填写时校验会逐项列出）：")
        for line in done.to_fill:
            print(f"    {line}")
    if done.kept:
        print(
            "  目标值为上年目标；历史值取本部门以往填报的历史值，未填报的年度取当年目标值。请按本年度情况核对修改。"
        )
    return EXIT_OK


_SHEET_ZH = {"core": "部门整体", "project": "项目", "common": "共性"}


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
    import contextlib

    from pipelines.store.lock import LockBusyError, rebuild_lock

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"找不到审核表：{path}")
    if args.wait < 0:
        raise UsageError("--wait 应为不小于 0 的秒数")
    repo = Path(args.repo)
    year = args.year or _year_of_review(path)
    # The rebuild's lock for the whole write-and-commit: rules/ written while a rebuild reads them, or a
    # rules commit between a rebuild's commit and its tag, would mix the two.
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(rebuild_lock(repo, wait=args.wait))
        except LockBusyError as exc:
            raise LockBusyError(f"审核表未应用，rules/ 保持不变。{exc}") from exc
        return _apply_review(path, repo, year)


def _apply_review(path: Path, repo: Path, year: int) -> int:
    from pipelines.dedupe.decisions import apply_review
    from pipelines.store.release import commit_rules
    from pipelines.store.repo import open_repo

    open_repo(repo)

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
    _add_submission_commands(sub)
    _add_rebuild_commands(sub)
    add_evaluate_parser(sub)
    _add_library_commands(sub)
    _add_sharing_commands(sub)
    return parser


def _add_submission_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template", help="生成填报模板工作簿（空白，或按指标库为一个部门预填）")
    p.add_argument("--out", default=".", help="输出文件夹（默认当前文件夹）")
    p.add_argument("--dept", metavar="CODE", help="部门编码：按已发布的指标库预填该部门的工作簿")
    p.add_argument("--year", type=int, help="填报年度（预填时默认为指标库最新发布年度的下一年）")
    p.add_argument("--repo", default=".", help="指标库仓库（预填时读取其中的 library/）")
    p.add_argument(
        "--pick",
        metavar="FILE",
        help="选取的指标：浏览页面导出的 CSV（indicator_id,name），或每行一个库内编号",
    )
    p.add_argument(
        "--self-eval",
        action="store_true",
        help="生成该部门 --year 年度的绩效自评表（按已发布的指标预填，需 --dept 和 --year）",
    )
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("validate", help="检查部门填报的工作簿")
    p.add_argument("files", nargs="+", metavar="FILE", help="工作簿或文件夹")
    p.add_argument("--year", type=int, help="汇总年度：填报年度必须一致")
    p.add_argument("--repo", help="指标库仓库：用于核对库内编号")
    p.add_argument("--finance-dept", help="财政局的部门编码（只有它可以填报共性指标）")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--feedback", metavar="DIR", help="为每个工作簿写出反馈工作簿到此文件夹")
    p.set_defaults(func=cmd_validate)


def _workers(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("应为不小于 1 的整数")
    return value


def _add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help="并行读取、校验工作簿的进程数（默认自动：CPU 核数，至多 4；工作簿很少时为 1）",
    )


def _add_rebuild_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rebuild", help="年度重建：校验、合并、发布指标库并提交到 git")
    p.add_argument("--year", type=int, required=True, help="汇总年度")
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
    _add_workers(p)
    p.add_argument(
        "--executor",
        choices=("auto", "in_process", "multiprocess"),
        default="auto",
        help="Dagster 执行方式（默认 auto：单进程执行，工作簿在本机多进程并行处理）",
    )
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser(
        "feedback", help="重新生成某年度各部门的反馈工作簿（写入 outbox/<年度>/，不纳入版本库）"
    )
    p.add_argument("--year", type=int, required=True, help="反馈所属年度")
    p.add_argument("--repo", default=".", help="指标库仓库（默认当前文件夹）")
    p.add_argument("--out", metavar="DIR", help="输出文件夹（默认 <仓库>/outbox/<年度>/）")
    p.add_argument("--submissions", metavar="DIR", help="提交文件夹（默认上次重建读取的文件夹）")
    p.add_argument("--finance-dept", help="财政局的部门编码（默认上次重建所用的）")
    _add_workers(p)
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("demo", help="示例：三年的示例填报 → 三次年度重建 → 指标库、git 历史、年度报告")
    p.add_argument("--out", default="demo-output", help="输出文件夹（默认 ./demo-output，已被 git 忽略）")
    p.set_defaults(func=cmd_demo)


def _add_library_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="两个版本之间的指标变化（默认最近两个标签）")
    p.add_argument("ref_a", nargs="?", metavar="REF_A")
    p.add_argument("ref_b", nargs="?", metavar="REF_B")
    p.add_argument("--repo", default=".")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("history", help="一个指标在各版本中的变化及理由，各年度目标值分布与标准值")
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
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="重建正在运行时最多等待的秒数（默认 0：立即停止并说明）",
    )
    p.set_defaults(func=cmd_review)


def _add_sharing_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pull", help="县级财政局：拉取已发布的版本并逐个文件核对 sha256")
    p.add_argument("source", metavar="SOURCE", help="市级指标库仓库：路径、file://、ssh 或 https 地址")
    p.add_argument(
        "--ref", metavar="TAG", help="版本标签（默认最新的 vY 或 vY.N；含自评结果的版本用 vY-eval）"
    )
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
