"""Parsing in worker processes (pipelines.intake.safe_parse): a worker that aborts, exits, runs out of memory
or time, or raises costs its own workbook (F012) and nothing else; results equal an in-process read."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import WorkerLimits, read_workbooks
from tests.hostile_parse import hostile_parse
from tests.hostile_seeds import (
    CRASHES,
    SMALL_LIMITS,
    assert_one_file_error,
    make_seeds,
)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return make_seeds(tmp_path_factory.mktemp("seeds"))


def test_the_shared_strings_bomb_itself_kills_only_its_worker(
    seeds: dict[str, bytes], tmp_path: Path
) -> None:
    """Without the container check, calamine aborts the process; in a worker that is one workbook's F012."""
    good = tmp_path / "a_good.xlsx"
    good.write_bytes(seeds["filled"])
    bomb = tmp_path / "native_bomb.xlsx"
    bomb.write_bytes(CRASHES["shared_strings_count"](seeds))
    books = read_workbooks([good, bomb, good], limits=SMALL_LIMITS, parse=hostile_parse)
    assert books[0].readable and books[2].readable
    assert_one_file_error(books[1])
    assert books[1].findings[0].code == "F012"


# --- workers that die, hog memory or hang -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("abort.xlsx", "异常终止"),
        ("exit.xlsx", "异常终止"),
        ("hog.xlsx", "内存"),
        ("sleep.xlsx", "秒"),
        ("raise.xlsx", "RuntimeError"),
    ],
)
def test_a_worker_lost_costs_one_workbook(
    bad: str, words: str, seeds: dict[str, bytes], tmp_path: Path
) -> None:
    names = ["a.xlsx", "b.xlsx", bad, "c.xlsx", "d.xlsx"]
    for name in names:
        (tmp_path / name).write_bytes(seeds["filled"])
    limits = WorkerLimits(memory_bytes=1 << 30, timeout_seconds=3 if bad == "sleep.xlsx" else 60, workers=2)
    started = time.monotonic()
    books = read_workbooks([tmp_path / n for n in names], limits=limits, parse=hostile_parse)
    assert time.monotonic() - started < 60
    assert [b.file for b in books] == names
    for book in books:
        if book.file == bad:
            assert_one_file_error(book)
            assert book.findings[0].code == "F012"
            assert words in book.findings[0].message
            assert book.sha256  # the set-aside workbook is still identified
        else:
            assert book.readable and book.findings == [] and len(book.sheets["project"].frame) == 1


def test_a_batch_of_only_killers_ends_with_one_f012_each(seeds: dict[str, bytes], tmp_path: Path) -> None:
    names = [f"abort{i}.xlsx" for i in range(5)] + ["exit.xlsx", "z_good.xlsx"]
    for name in names:
        (tmp_path / name).write_bytes(seeds["filled"])
    books = read_workbooks([tmp_path / n for n in names], limits=SMALL_LIMITS, parse=hostile_parse)
    assert [b.findings[0].code for b in books[:-1]] == ["F012"] * 6
    assert books[-1].readable


def test_results_equal_an_in_process_read(seeds: dict[str, bytes], tmp_path: Path) -> None:
    paths = []
    for i, seed in enumerate(("filled", "template", "filled")):
        (path := tmp_path / f"{i}.xlsx").write_bytes(seeds[seed])
        paths.append(path)
    books = read_workbooks(paths, limits=SMALL_LIMITS)
    for book, path in zip(books, paths, strict=True):
        here = read_workbook(path)
        assert (book.file, book.sha256, book.readable, book.findings, book.info) == (
            here.file,
            here.sha256,
            here.readable,
            here.findings,
            here.info,
        )
        assert book.sheets.keys() == here.sheets.keys()
        for kind in book.sheets:
            assert book.sheets[kind].frame.equals(here.sheets[kind].frame)


def test_no_worker_pool_falls_back_to_reading_here(
    seeds: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.intake.safe_parse as safe_parse

    def no_processes() -> object:
        raise OSError("no processes allowed here")

    monkeypatch.setattr(safe_parse, "_context", no_processes)
    (good := tmp_path / "good.xlsx").write_bytes(seeds["filled"])
    (bad := tmp_path / "bad.xlsx").write_bytes(CRASHES["zip_version"](seeds))
    books = read_workbooks([bad, good], limits=SMALL_LIMITS)
    assert_one_file_error(books[0])
    assert books[1].readable


def test_relative_paths_after_a_change_of_directory(
    seeds: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forkserver keeps the directory it started in; the caller's relative paths must still work."""
    (tmp_path / "warm.xlsx").write_bytes(seeds["filled"])
    read_workbooks([tmp_path / "warm.xlsx"], limits=SMALL_LIMITS)  # the forkserver starts here, if not before
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.xlsx").write_bytes(seeds["filled"])
    monkeypatch.chdir(tmp_path / "sub")
    (book,) = read_workbooks([Path("a.xlsx")], limits=SMALL_LIMITS)
    assert book.readable and book.path == Path("a.xlsx") and book.findings == []
