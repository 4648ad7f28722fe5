"""run_forked (pipelines/common/background.py): a forked child's result and exception come back, a child
that dies is replaced by an in-process run, a cancelled child is reaped, and the files are the same
whether forked or not."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipelines.common import background
from pipelines.common.background import fork_available, fork_supported, run_forked
from pipelines.common.xlsx_out import atomic_write_bytes
from tests.forking import forks_on  # noqa: F401  (autouse: forking on in this module)

pytestmark = pytest.mark.skipif(not fork_supported(), reason="no fork on this platform")


def _write(path: Path, n: int) -> tuple[int, str]:
    data = "".join(f"行{i}\n" for i in range(n)).encode("utf-8")
    atomic_write_bytes(path, data)
    return os.getpid(), "x" * n  # a large answer: more than the pipe holds at once


def test_the_child_computes_and_its_result_comes_back(tmp_path: Path) -> None:
    with run_forked(_write, tmp_path / "a.txt", 200_000) as handle:
        pid, text = handle.result()
    assert pid != os.getpid()  # it ran in another process
    assert text == "x" * 200_000
    assert (tmp_path / "a.txt").read_text("utf-8").count("\n") == 200_000
    assert not handle.fell_back
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temporary left


def test_the_same_bytes_forked_or_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_forked(_write, tmp_path / "forked.txt", 5_000).result()
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert not fork_available()
    handle = run_forked(_write, tmp_path / "inline.txt", 5_000)
    assert handle.result()[0] == os.getpid()  # ran here
    assert (tmp_path / "forked.txt").read_bytes() == (tmp_path / "inline.txt").read_bytes()


class _Refused(ValueError):
    pass


def _fail(message: str) -> None:
    raise _Refused(message)


def test_an_exception_in_the_child_is_raised_in_the_parent_with_its_traceback() -> None:
    handle = run_forked(_fail, "坏的输入")
    with pytest.raises(_Refused, match="坏的输入") as caught:
        handle.result()
    notes = "".join(getattr(caught.value, "__notes__", []))
    assert "子进程中的调用栈" in notes and "_fail" in notes
    assert not handle.fell_back


def test_a_child_killed_before_answering_is_replaced_by_an_in_process_run(tmp_path: Path) -> None:
    parent = os.getpid()

    def dies_in_the_child(path: Path) -> int:
        if os.getpid() != parent:
            path.with_suffix(".partial").write_text("half")  # as a killed writer would leave it
            os.kill(os.getpid(), signal.SIGKILL)
        atomic_write_bytes(path, b"complete")
        return os.getpid()

    handle = run_forked(dies_in_the_child, tmp_path / "out.bin")
    assert handle.result() == parent
    assert handle.fell_back
    assert (tmp_path / "out.bin").read_bytes() == b"complete"


def test_a_child_exiting_without_an_answer_is_replaced_too() -> None:
    parent = os.getpid()

    def exits(value: int) -> int:
        if os.getpid() != parent:
            os._exit(3)
        return value * 2

    handle = run_forked(exits, 21)
    assert handle.result() == 42 and handle.fell_back


def test_an_unpicklable_answer_is_an_error_not_a_hang() -> None:
    handle = run_forked(lambda: lambda: None)  # a function object cannot be pickled back
    with pytest.raises(RuntimeError, match="无法传回"):
        handle.result()


def test_a_cancelled_child_is_killed_and_reaped_at_once() -> None:
    started = time.monotonic()
    with run_forked(time.sleep, 60) as handle:
        pid = handle._pid
        assert pid is not None
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)
    handle.cancel()  # again: nothing to do


def test_the_parent_does_not_wait_for_ever_when_another_process_holds_the_pipe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fork made elsewhere at the same moment may keep a copy of the pipe's write end: the end of file
    # never comes, and the parent must notice the child's exit instead.
    monkeypatch.setattr(background, "_POLL_S", 0.05)
    real_pipe = os.pipe
    copies: list[int] = []

    def pipe_with_a_copy() -> tuple[int, int]:
        r, w = real_pipe()
        copies.append(os.dup(w))
        return r, w

    monkeypatch.setattr(os, "pipe", pipe_with_a_copy)
    try:
        assert run_forked(sum, [1, 2, 3]).result() == 6
    finally:
        for fd in copies:
            os.close(fd)


def test_a_pipe_above_selects_limit_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    # A process with many files open (a Dagster run, a pool) gets descriptors above 1024.
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1600:
        pytest.skip("too few descriptors allowed here")
    real_pipe = os.pipe

    def high_pipe() -> tuple[int, int]:
        r, w = real_pipe()
        os.dup2(r, 1500, inheritable=False)
        os.dup2(w, 1501, inheritable=False)
        os.close(r)
        os.close(w)
        return 1500, 1501

    monkeypatch.setattr(os, "pipe", high_pipe)
    assert run_forked(sum, range(10)).result() == 45


def test_forking_follows_the_setting_and_the_memory_held(monkeypatch: pytest.MonkeyPatch) -> None:
    # On 2 cores forking paid only while the process was small (background's docstring).
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert not fork_available()
    assert run_forked(os.getpid).result() == os.getpid()
    monkeypatch.setenv("INDICATORS_FORK", "1")
    assert fork_available() == fork_supported()
    monkeypatch.delenv("INDICATORS_FORK")
    assert 0 < background.resident_mib() < background.FORK_MAX_RESIDENT_MIB  # a test process is small
    assert fork_available() == fork_supported()
    monkeypatch.setattr(background, "FORK_MAX_RESIDENT_MIB", background.resident_mib() / 2)
    assert not fork_available()
    assert run_forked(os.getpid).result() == os.getpid()
