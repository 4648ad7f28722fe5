"""`indicators rebuild` and `indicators demo`: run the annual rebuild (the Dagster job in-process,
pipelines/defs/run.py) and print its outcome, its last line the row accounting (CONTRACT §4)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pipelines.common.errors import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, UsageError

if TYPE_CHECKING:  # Dagster is imported only when a rebuild runs
    from pipelines.defs.progress_hooks import StepStages
    from pipelines.defs.run import RebuildOutcome


FEEDBACK_STEP = "department_feedback"  # the Dagster asset that writes the outbox


def _print_err(message: str) -> None:
    print(message, file=sys.stderr)


def accounting_line(counts: dict[str, int]) -> str:
    """CONTRACT §4: the rebuild's last line, read by scripts."""
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
    workers: int | None = None,
    executor: str = "auto",
    quiet: bool = False,
) -> int:
    """Run one rebuild and print its outcome. Dagster's log goes to PATH/.dagster_home/logs/ (the
    screen with verbose); refusals and OS errors before or during the run end in one Chinese message.
    workers, executor: run_rebuild's (None, "auto": automatic). quiet: no progress on screen."""
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
            with showing_progress(log_file, verbose=verbose, quiet=quiet) as stages:
                outcome = run_rebuild(
                    year,
                    submissions,
                    repo,
                    finance_dept=finance_dept,
                    dry_run=dry_run,
                    progress=lambda m: print("  " + m, flush=True),
                    wait=wait,
                    log_file=log_file,
                    on_event=stages,
                    workers=workers,
                    executor=executor,
                )
        except Exception as exc:  # noqa: BLE001 - every failure ends in a Chinese sentence
            return _print_failure(exc, repo, log_file, log_path)
    return _print_outcome(outcome, repo, dry_run, log_path)


def _print_failure(exc: Exception, repo: Path, log_file: TextIO | None, log_path: Path | None) -> int:
    """A run that raised: one Chinese sentence; the stack trace in the log file (or a crash log)."""
    from pipelines.common import errors

    verdict = errors.classify(exc)
    if verdict is None:
        if log_file is not None:
            traceback.print_exception(exc, file=log_file)
            log_file.flush()
            shown = log_path
        else:
            shown = errors.write_crash_log(exc, repo, "rebuild")
        verdict = errors.Verdict(EXIT_INTERNAL, errors.internal_message(f"{type(exc).__name__}", shown))
    _print_err(f"错误：{verdict.message}")
    return verdict.exit_code


@contextlib.contextmanager
def showing_progress(
    log_file: TextIO | None = None, *, verbose: bool = False, quiet: bool = False
) -> Iterator[StepStages]:
    """The run's stages while it runs: a bar on stderr when it is a terminal (not with verbose, whose
    Dagster log shares stderr), else plain lines on stdout before the outcome; plain lines with the time
    of day in the log file (but those a step's run log captures: Dagster's log writes them there).
    Yields the listener that makes Dagster's steps stages. Every display is closed (no half-drawn bar)
    before the caller prints the outcome or an error. quiet: nothing on screen (the log file keeps them)."""
    from pipelines.common import progress
    from pipelines.defs.progress_hooks import StepStages

    tty = not verbose and sys.stderr.isatty()
    stages = StepStages()
    with contextlib.ExitStack() as stack:
        if not quiet:
            stack.enter_context(progress.show(sys.stderr if tty else sys.stdout, tty=tty, indent="  "))
        if log_file is not None:
            stack.enter_context(progress.show(log_file, tty=False, clock=True, skip_captured=True))
        stack.callback(stages.close)  # a run that broke off mid-step: its open stages end as failed
        yield stages


def _print_outcome(outcome: RebuildOutcome, repo: Path, dry_run: bool, log_path: Path | None) -> int:
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
        if step.step == FEEDBACK_STEP:  # beside the release: it neither stops nor undoes a publish
            print(
                f"    各部门反馈工作簿未写出；可运行 indicators feedback --year {outcome.year} --repo {repo} 重新生成"
            )
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
    _print_feedback(outcome, repo)
    print(accounting_line(c))
    if outcome.success:
        return EXIT_OK
    return max(codes) if codes else EXIT_INPUT


def _print_feedback(outcome: RebuildOutcome, repo: Path) -> None:
    """Where the departments' feedback is: the outbox, not the release."""
    if outcome.feedback:
        folder = outcome.feedback[0].parent
        print(
            f"  各部门反馈工作簿：{folder}（{len(outcome.feedback)} 个；不纳入版本库，"
            f"可用 indicators feedback --year {outcome.year} --repo {repo} 重新生成）"
        )


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
        workers=getattr(args, "workers", None),
        executor=getattr(args, "executor", "auto"),
        quiet=getattr(args, "quiet", False),
    )


# --------------------------------------------------------------------------------------------------
# feedback
# --------------------------------------------------------------------------------------------------


def cmd_feedback(args: argparse.Namespace) -> int:
    """Write the year's feedback workbooks again (CONTRACT §4): the same bytes the rebuild wrote."""
    from pipelines.defs.partitions import check_year
    from pipelines.rebuild import regenerate_feedback

    check_year(args.year)
    repo = Path(args.repo)
    if not (repo / ".git").exists():
        raise UsageError(f"{repo} 不是指标库仓库（没有 .git）")
    submissions = Path(args.submissions) if args.submissions else None
    if submissions is not None and not submissions.is_dir():
        raise UsageError(f"提交文件夹不存在：{submissions}")
    from pipelines.common import progress

    with (
        showing_progress(quiet=getattr(args, "quiet", False)),
        progress.stage("feedback", f"{args.year} 年度反馈工作簿（读取、校验、写出）"),
    ):
        run = regenerate_feedback(
            repo,
            args.year,
            out=Path(args.out) if args.out else None,
            inbox=submissions,
            finance_dept=args.finance_dept,
            workers=getattr(args, "workers", None),
        )
    if not run.recorded:
        print(f"提示：没有找到 {args.year} 年度上次重建的记录，按当前已发布的指标库核对库内编号")
    print(f"已从 {run.inbox} 的 {len(run.files)} 个工作簿写出反馈工作簿：{run.folder}")
    return EXIT_OK


# --------------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------------

DEMO_MARKER = ".indicators-demo"


DEMO_SCORECARD_DEPT = "207"  # the department whose scorecard and pre-filled workbook the demo prints


def _demo_evaluation(repo: Path, year: int, folder: Path) -> int:
    """The demo's self-evaluation of `year`: every department's workbook filled by the seeded plan
    (pipelines/demo/self_eval.py), scored and published like `indicators evaluate` (tag vY-eval)."""
    from pipelines.defs.evaluation import publish_year, score_year
    from pipelines.demo.self_eval import write_demo_self_evaluations
    from pipelines.evaluate.run import scorecard

    written = write_demo_self_evaluations(repo, year, folder)
    scored = score_year(repo, year, folder)
    done = publish_year(repo, scored)
    depts = scored.tables.departments
    grades = "、".join(f"{g} {int((depts['grade'] == g).sum())} 个" for g in ("优", "良", "中", "差"))
    print(
        f"\n══ {year} 年度绩效自评：{len(written)} 份自评表（{folder}），部门等级：{grades}，标签 {done.tag}"
    )
    print(f"$ indicators evaluate --year {year} --submissions {folder} --repo {repo}（其中一个部门的评分卡）")
    for line in scorecard(scored.tables, DEMO_SCORECARD_DEPT).splitlines():
        print(f"  {line}")
    return EXIT_OK if done.tag else EXIT_INPUT


def _demo_results(out: Path, repo: Path, submissions: Path) -> None:
    """What the demo made, where: the library, the reports, the self-evaluations, a pre-filled workbook."""
    import subprocess

    from pipelines.demo.catalogue import DEMO_YEARS
    from pipelines.store.prefill import prefill_workbook

    last = DEMO_YEARS[-1]
    prefilled = prefill_workbook(repo, DEMO_SCORECARD_DEPT, out / "prefilled")
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--oneline", "--decorate"], capture_output=True, text=True, check=True
    ).stdout
    print("\n══ 结果")
    print(f"  示例填报：{submissions}")
    print(f"  指标库仓库：{repo}（library/ 为发布的指标库，library/evaluations/ 为绩效自评结果）")
    print(
        f"  年度报告：{repo / 'reports' / str(last) / 'review.html'}（“七、目标值与完成情况”对照绩效自评结果；"
        "从严从高的提示见“四、规则问题”）"
    )
    print(f"  指标库浏览页面：{repo / 'reports' / str(last) / 'library.html'}")
    for year in DEMO_YEARS[:2]:
        print(
            f"  {year} 年度绩效自评报告：{repo / 'reports' / str(year) / 'self_evaluation.html'}（及 .xlsx）"
        )
    print(
        f"  {prefilled.year} 年度预填工作簿（部门 {DEMO_SCORECARD_DEPT}，历史值含自评完成值）：{prefilled.path}"
    )
    print(f"  版本差异：indicators diff --repo {repo}")
    print("\n$ git log --oneline --decorate")
    print(log.rstrip())


def cmd_demo(args: argparse.Namespace) -> int:
    """Sample submissions → three annual rebuilds, self-evaluations of the first two years → library, git
    history, reports, a pre-filled workbook (README's first command)."""
    import shutil

    from pipelines.demo import build as demo
    from pipelines.demo.catalogue import DEMO_YEARS, FINANCE_DEPT
    from pipelines.demo.self_eval import prefilled_history
    from pipelines.store.publish import load_library
    from pipelines.store.release import commit_paths
    from pipelines.store.repo import open_repo
    from pipelines.validate.rules.baseline import STRICT_TARGET

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
        f'# 示例市财政局的部署配置\nfinance_dept = "{FINANCE_DEPT}"\nid_namespace = "ZB"\ninbox = "inbox"\n',
        encoding="utf-8",
    )
    commit_paths(repo, ("indicators.toml",), "部署配置：财政局部门编码、指标编号前缀")

    lookup = None
    for year in DEMO_YEARS:
        # after the first year the departments start from their pre-filled workbooks (历史值 = actuals)
        history = prefilled_history(repo, year) if year > DEMO_YEARS[0] else None
        story = demo.render_demo_year(submissions, year, lookup, history=history)
        print(f"\n══ {year} 年：示例填报 {len(story.files)} 个文件（{story.directory}）")
        lines = story.story_zh()
        strict = STRICT_TARGET.codes[0]  # W215: the flow-back's row is always shown
        for line in lines[:12] + [ln for ln in lines[12:] if strict in ln]:
            print(f"  · {line}")
        code = run_rebuild_command(year, story.directory, repo, FINANCE_DEPT, False)
        if code == EXIT_OK and year in DEMO_YEARS[:2]:
            code = _demo_evaluation(repo, year, out / "self_evaluation" / str(year))
        if code != EXIT_OK:
            return code
        tables = load_library(repo / "library")
        lookup = demo.lookup_from_indicators(tables.indicators) if tables is not None else None
    _demo_results(out, repo, submissions)
    return EXIT_OK
