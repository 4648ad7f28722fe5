"""Progress of a rebuild (issue 15): each stage's start and end with its time, workbooks done / total, a bar
redrawn on a terminal and plain lines elsewhere, the same lines in the Dagster run log; the rebuild's last
line is still the row accounting."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.common import progress
from pipelines.defs.definitions import make_definitions
from pipelines.defs.progress_hooks import STAGE_LABELS, StepStages, following, step_stage
from tests.git_env import isolate_git, small_inbox

ROOT = Path(__file__).resolve().parents[1]
INDICATORS = [sys.executable, "-m", "pipelines.cli"]
YEAR = 2026


def rebuild_stages() -> set[str]:
    """The rebuild's assets (whatever their shape: one step, or a graph of ops) and its checks' step."""
    from pipelines.defs.jobs import REBUILD_ASSETS

    graph = make_definitions("/nonexistent", None, "101").resolve_asset_graph()
    return {k.to_user_string() for k in REBUILD_ASSETS.resolve(graph)} | {"release_candidate_checks"}


ACCOUNTING = "rows: read=9 library=9 noncore=0 excluded=0 rejected=0"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


class Events(list[progress.ProgressEvent]):
    """A watcher that keeps what it sees."""

    def __call__(self, event: progress.ProgressEvent) -> None:
        self.append(event)


# --- the events ----------------------------------------------------------------------------------------


def test_an_advance_is_a_line_every_tenth_of_the_total_and_every_event_reaches_the_watchers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen = Events()
    with (
        caplog.at_level(logging.INFO, logger=progress.LOGGER_NAME),
        progress.watch(seen),
        progress.stage("read", "读取", total=100) as tracker,
    ):
        for _ in range(100):
            tracker.advance()
    assert [e.kind for e in seen].count("advance") == 100  # the bar sees every advance
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "▶ 读取（共 100 个工作簿）"
    advances = [line for line in lines if line.startswith("  读取：")]
    assert [a.split("：")[1].split("，")[0] for a in advances] == [
        f"{10 * i}/100 个工作簿" for i in range(1, 11)
    ]
    assert re.fullmatch(r"✓ 读取：100/100 个工作簿，用时 \d+\.\d 秒", lines[-1])
    end = caplog.records[-1].progress  # type: ignore[attr-defined]
    assert end["event"] == "end" and end["done"] == end["total"] == 100 and end["ok"] is True


def test_a_slow_stage_is_a_line_every_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    seen = Events()
    with progress.watch(seen), progress.stage("report", "年度报告", total=1000) as tracker:
        for _ in range(30):  # 30 workbooks at 1 s each: 3 % of the total, six 5-second lines
            clock[0] += 1.0
            tracker.advance()
    assert [e.done for e in seen if e.kind == "advance" and e.line] == [5, 10, 15, 20, 25, 30]
    assert seen[-1].text == "✓ 年度报告：30/1000 个工作簿，用时 30.0 秒"


def test_a_stage_that_raises_ends_as_failed_and_a_second_end_is_nothing() -> None:
    seen = Events()
    with progress.watch(seen), pytest.raises(ValueError), progress.stage("validate", "校验"):
        raise ValueError("boom")
    assert [(e.kind, e.ok) for e in seen] == [("start", True), ("end", False)]
    assert seen[-1].text.startswith("✗ 校验：未完成，已用 ")
    tracker = progress.begin("x", "某步")
    tracker.end()
    tracker.end()
    assert tracker.closed


# --- the displays -----------------------------------------------------------------------------------------


def test_plain_lines_nest_a_steps_count_under_it_and_batches_of_one_stage_add_up() -> None:
    out = io.StringIO()
    with progress.show(out, tty=False, indent="  "):
        step = progress.begin("parsed_workbooks", "读取工作簿（parsed_workbooks）")
        for _ in range(2):  # two batches of one stage (a fan-out): one start, one end, counts added
            with progress.stage("read", "读取", total=20) as batch:
                batch.advance(10)
                if _ == 0:
                    with progress.stage("read", "读取", total=20) as second:
                        second.advance(10)
        step.end()
    lines = out.getvalue().splitlines()
    assert lines[0] == "  ▶ 读取工作簿（parsed_workbooks）"
    assert lines[1] == "    ▶ 读取（共 20 个工作簿）"
    assert [line.split("，")[0] for line in lines[2:4]] == [
        "      读取：10/20 个工作簿",
        "      读取：20/20 个工作簿",
    ]
    assert re.fullmatch(r"    ✓ 读取：20/20 个工作簿，用时 \d+\.\d 秒", lines[4])
    assert re.fullmatch(r"  ✓ 读取工作簿（parsed_workbooks）：用时 \d+\.\d 秒", lines[-1])
    assert "\r" not in out.getvalue()


def test_a_terminal_bar_is_redrawn_with_cr_at_most_ten_times_a_second_and_leaves_only_lines() -> None:
    out = io.StringIO()
    started = time.perf_counter()
    with progress.show(out, tty=True) as display:
        with progress.stage("read", "读取", total=5000) as tracker:
            for _ in range(5000):
                tracker.advance()
        assert display.tty
        progress.begin("report", "年度报告（annual_report）")  # left open: the run broke off
        time.sleep(progress.TICK_SECONDS * 2.5)  # the spinner and time move without events
    seconds = time.perf_counter() - started
    text = out.getvalue()
    draws = text.count("\r\x1b[K读取 ")
    assert 1 <= draws <= seconds / progress.REDRAW_SECONDS + 3, draws  # not 5,000 redraws
    assert "读取 [########################] 5000/5000" in text  # the last draw is the full bar
    assert text.count("\r\x1b[K年度报告") >= 2  # ticks
    screen = [line.rsplit("\r\x1b[K", 1)[-1] for line in text.split("\n")]  # what stays on screen
    assert screen[-2].startswith("■ 年度报告（annual_report）：中断，已用 ")
    assert screen[0] == "▶ 读取（共 5000 个工作簿）"
    assert re.fullmatch(r"✓ 读取：5000/5000 个工作簿，用时 \d+\.\d 秒", screen[1])
    assert screen[-1] == ""  # no half-drawn bar after the last line


def test_the_bar_fits_the_terminal_counting_chinese_as_two_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    display = progress.Display(io.StringIO(), tty=True)
    with progress.watch(display):
        progress.begin("s", "一个很长很长很长很长很长很长的步骤名称", total=10).advance(3)
        assert progress.cells(display.bar_text()) <= 39
        assert re.fullmatch(r"一个很长 \[#+-+\] 3/10 0\.0 秒", display.bar_text())
        inner = progress.begin("t", "读取", total=4)
        assert display.bar_text().startswith("读取 [")  # no room for the step's label: the part alone
        monkeypatch.setenv("COLUMNS", "120")
        assert display.bar_text().startswith("一个很长很长很长很长很长很长的步骤名称 › 读取 [")
        inner.end()
    display.close()


def test_a_log_display_leaves_out_what_a_handler_of_the_logger_already_records() -> None:
    out = io.StringIO()
    captured = logging.NullHandler()  # as a Dagster step's capture of the logger into its run log
    with progress.show(out, tty=False, skip_captured=True):
        step = progress.begin("validated_submissions", "读取与校验（validated_submissions）")
        progress.log.addHandler(captured)
        try:
            with progress.stage("per_workbook", "读取", total=2) as tracker:
                tracker.advance(2)
        finally:
            progress.log.removeHandler(captured)
        step.end()
    assert [line.split("：")[0] for line in out.getvalue().splitlines()] == [
        "▶ 读取与校验（validated_submissions）",
        "✓ 读取与校验（validated_submissions）",
    ]


def test_the_command_shows_plain_lines_on_stdout_off_a_terminal_and_nothing_when_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines.cli_rebuild import showing_progress

    log_file = io.StringIO()
    for quiet in (False, True):
        with showing_progress(log_file, quiet=quiet):
            progress.begin("annual_report", "年度报告（annual_report）").end()
        out = capsys.readouterr()
        assert out.err == ""
        assert out.out.splitlines() == (
            [] if quiet else ["  ▶ 年度报告（annual_report）", out.out.splitlines()[-1]]
        )
    assert (
        len(re.findall(r"^\d\d:\d\d:\d\d ✓ 年度报告（annual_report）：用时", log_file.getvalue(), re.M)) == 2
    )


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_stream_that_cannot_be_written_never_stops_the_run() -> None:
    with progress.show(FullDisk(), tty=True), progress.stage("read", "读取", total=3) as tracker:
        tracker.advance(3)
    assert tracker.closed and tracker.done == 3


# --- Dagster ------------------------------------------------------------------------------------------------


def test_step_keys_map_to_one_labelled_stage_per_asset() -> None:
    assert step_stage("annual_report") == ("annual_report", "年度报告（annual_report）")
    assert step_stage("parsed_workbooks.read_batch[3]")[0] == "parsed_workbooks"  # a fan-out's op
    assert rebuild_stages() <= set(STAGE_LABELS)


@dg.asset
def counted_workbooks() -> int:
    with progress.stage("read", "读取", total=4) as tracker:
        for _ in range(4):
            tracker.advance()
    return 4


@dg.asset
def after_them(counted_workbooks: int) -> int:
    return counted_workbooks


def test_a_dagster_run_shows_its_steps_as_stages_and_its_run_log_carries_the_progress_lines() -> None:
    """The instance's managed Python loggers include indicators.progress (as the CLI's dagster.yaml does):
    the steps' own lines are in the run log; the listener makes each step a stage, as it runs."""
    seen, stages, run_id = Events(), StepStages(), str(uuid.uuid4())
    overrides = {"python_logs": {"managed_python_loggers": [progress.LOGGER_NAME]}}
    defs = dg.Definitions(assets=[counted_workbooks, after_them], jobs=[dg.define_asset_job("counted")])
    job = defs.resolve_job_def("counted")
    with dg.instance_for_test(overrides=overrides) as instance, progress.watch(seen):
        instance.add_event_listener(run_id, stages)
        assert job.execute_in_process(instance=instance, run_id=run_id).success
        logged = [entry.user_message for entry in instance.all_logs(run_id) if not entry.is_dagster_event]
    order = [(e.kind, e.stage) for e in seen if e.kind != "advance"]
    assert order == [
        ("start", "counted_workbooks"),
        ("start", "read"),
        ("end", "read"),
        ("end", "counted_workbooks"),
        ("start", "after_them"),
        ("end", "after_them"),
    ]
    assert seen[0].label == "counted_workbooks（counted_workbooks）"  # no label: the asset's name
    assert logged[0] == "▶ 读取（共 4 个工作簿）"
    assert [line.split("，")[0] for line in logged[1:5]] == [f"  读取：{i}/4 个工作簿" for i in range(1, 5)]
    assert re.fullmatch(r"✓ 读取：4/4 个工作簿，用时 \d+\.\d 秒", logged[5])


@dg.op(out=dg.DynamicOut(int))
def plan_shards() -> Iterator[dg.DynamicOutput[int]]:
    for i in range(3):
        yield dg.DynamicOutput(i, mapping_key=str(i))


@dg.op
def process_shard(shard: int) -> int:
    with progress.stage("per_workbook", "读取、校验并生成反馈", total=2) as tracker:
        tracker.advance(2)
    return shard


@dg.op
def merge_shards(shards: list[int]) -> int:
    return sum(shards)


@dg.graph_asset
def fanned_out() -> int:
    return merge_shards(plan_shards().map(process_shard).collect())


@dg.asset
def downstream(fanned_out: int) -> int:
    return fanned_out


def test_a_graph_backed_asset_fanned_out_over_shards_is_one_stage() -> None:
    """A fan-out's ops (plan, one step per shard, merge) are one stage of their asset; the shards' own
    progress nests in it; the stage ends when the op that materializes the asset succeeds."""
    seen, stages, run_id = Events(), StepStages(), str(uuid.uuid4())
    defs = dg.Definitions(assets=[fanned_out, downstream], jobs=[dg.define_asset_job("fan")])
    with dg.instance_for_test() as instance, progress.watch(seen):
        instance.add_event_listener(run_id, stages)
        assert defs.resolve_job_def("fan").execute_in_process(instance=instance, run_id=run_id).success
    order = [(e.kind, e.stage) for e in seen if e.kind != "advance"]
    assert order[0] == ("start", "fanned_out") and order[-3:] == [
        ("end", "fanned_out"),
        ("start", "downstream"),
        ("end", "downstream"),
    ]
    assert order[1:-3] == [("start", "per_workbook"), ("end", "per_workbook")] * 3
    assert seen[0].label == "fanned_out（fanned_out）"


def test_a_run_whose_steps_run_elsewhere_is_followed_through_its_run_log() -> None:
    """The multiprocess executor's steps store their events from their own processes: the run log read
    back as it grows gives the same stages, and the steps' progress lines the same counts."""
    seen, stages = Events(), StepStages()
    overrides = {"python_logs": {"managed_python_loggers": [progress.LOGGER_NAME]}}
    defs = dg.Definitions(assets=[counted_workbooks, after_them], jobs=[dg.define_asset_job("counted")])
    with (
        dg.instance_for_test(overrides=overrides) as instance,
        progress.watch(seen),
        following(instance, stages, interval=0.05) as tags,
    ):
        assert defs.resolve_job_def("counted").execute_in_process(instance=instance, tags=tags).success
    followed = [e for e in seen if e.stage != "read"]  # "read": the step's own tracker, in this process
    assert [(e.kind, e.stage) for e in followed if e.kind != "advance"] == [
        ("start", "counted_workbooks"),
        ("start", "part:读取"),
        ("end", "part:读取"),
        ("end", "counted_workbooks"),
        ("start", "after_them"),
        ("end", "after_them"),
    ]
    assert followed[1].total == 4 and sum(e.n for e in followed if e.kind == "advance") == 4


def assert_one_stage_each(starts: list[str], ends: list[str]) -> None:
    """Every stage of the rebuild started once and ended once, from the inbox to the publication."""
    expected = rebuild_stages()
    starts, ends = [s for s in starts if s in expected], [s for s in ends if s in expected]
    assert sorted(starts) == sorted(ends) == sorted(expected)
    assert starts[0] == ends[0] == "submission_files" and starts[-1] == ends[-1] == "published_release"


# --- the command ------------------------------------------------------------------------------------------


def _cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home"), "COLUMNS": "100"}


STAGE_START = re.compile(r"^  ▶ (\S+)（(\w+)）$")
STAGE_END = re.compile(r"^  ✓ (\S+)（(\w+)）：用时 (\d+\.\d) 秒$")


def test_rebuild_in_a_log_shows_each_stage_with_its_time_and_ends_with_the_accounting(tmp_path: Path) -> None:
    inbox, repo = small_inbox(tmp_path / "inbox", YEAR), tmp_path / "repo"
    args = [
        "rebuild",
        "--year",
        str(YEAR),
        "--submissions",
        str(inbox),
        "--repo",
        str(repo),
        "--finance-dept",
        "101",
    ]
    run = subprocess.run(
        [*INDICATORS, *args], cwd=ROOT, capture_output=True, text=True, env=_cli_env(tmp_path), timeout=600
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.rstrip("\n").splitlines()
    assert lines[-1] == ACCOUNTING and "\r" not in run.stdout
    starts = [m.group(2) for m in map(STAGE_START.match, lines) if m]
    ends = [m.group(2) for m in map(STAGE_END.match, lines) if m]
    assert_one_stage_each(starts, ends)
    for step in starts:  # each stage ends after it starts, with its time
        start = lines.index(f"  ▶ {STAGE_LABELS[step]}（{step}）")
        end = next(i for i, line in enumerate(lines) if STAGE_END.match(line) and f"（{step}）" in line)
        assert start < end
    log_path = Path(re.search(r"运行日志：(\S+\.log)", run.stdout).group(1))  # type: ignore[union-attr]
    logged = log_path.read_text(encoding="utf-8")
    assert re.search(r"^\d\d:\d\d:\d\d ▶ \S+（validated_submissions）$", logged, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d ✓ 发布（published_release）：用时 \d+\.\d 秒$", logged, re.M)
    nested = [line.strip() for line in lines if re.match(r"^    [▶✓] ", line)]  # a step's own progress
    for line in nested:  # in the log once: the run log's copy (Dagster's log), not a second plain one
        assert logged.count(line) == 1, line


def test_rebuild_on_a_terminal_redraws_a_bar_and_leaves_the_outcome_as_the_last_lines(tmp_path: Path) -> None:
    inbox, repo = small_inbox(tmp_path / "inbox", YEAR), tmp_path / "repo"
    args = [
        "rebuild",
        "--year",
        str(YEAR),
        "--submissions",
        str(inbox),
        "--repo",
        str(repo),
        "--finance-dept",
        "101",
    ]
    env = _cli_env(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command with stdout and stderr on the pseudo-terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-m", "pipelines.cli", *args], env)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    screen = b"".join(chunks).decode("utf-8")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert "\r\x1b[K  年度报告（annual_report） " in screen  # the bar (a spinner and the time) redrawn
    kept = [line.rsplit("\r\x1b[K", 1)[-1] for line in screen.replace("\r\n", "\n").split("\n")]
    kept = [line for line in kept if line]
    assert kept[-1] == ACCOUNTING  # the outcome after the last stage, no bar left over
    assert any(STAGE_END.match(line) and "published_release" in line for line in kept)
    assert "\x1b" not in screen.rsplit("✓ 发布（published_release）", 1)[1]  # nothing redrawn after the end
