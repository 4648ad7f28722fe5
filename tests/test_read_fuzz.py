"""Hostile workbooks cost one workbook, never the run (issue 11 point 11).

Regression files for the four crashes of the held-out fuzzing campaign, zip-header and XML mutations of
the real template, bounded random mutations (hypothesis), and workers that abort, hog memory or hang:
every bad input is exactly one file finding for its workbook and the good workbook beside it is read.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import struct
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.demo.build import DEMO_YEARS, write_demo_year
from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import WorkerLimits, read_workbooks
from pipelines.intake.template import write_template
from pipelines.intake.workbook import Workbook
from pipelines.validate.runner import submission_files, validate_workbooks
from schemas.vocab import reference
from tests.hostile_parse import hostile_parse
from tests.xlsx_builders import core_row, default_info, english_columns, header_zh, project_row

SMALL_LIMITS = WorkerLimits(memory_bytes=1 << 30, timeout_seconds=60, workers=2)
REFUSED = {"F001", "F002", "F012"}
FUZZ_EXAMPLES = int(
    os.environ.get(
        "INDICATORS_FUZZ_EXAMPLES", "250" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "15"
    )
)


# --- seeds -----------------------------------------------------------------------------------------------


def write_seed(path: Path) -> Path:
    """A filled workbook as Excel writes it (shared strings, a date-formatted cell in the project sheet)."""
    wb = xlsxwriter.Workbook(path)
    info = wb.add_worksheet("部门信息")
    info.write_row(0, 0, ["项目", "内容"])
    info_zh = {spec.column: spec.header_zh for spec in reference().columns["info"]}
    for r, (key, value) in enumerate(default_info().items(), start=1):
        info.write_row(r, 0, [info_zh.get(key, key), value])
    for kind, row, name in (
        ("core", core_row(), "部门整体核心指标"),
        ("project", project_row(), "项目支出指标"),
    ):
        ws = wb.add_worksheet(name)
        cols = english_columns(kind)
        ws.write_row(0, 0, [header_zh(kind, c) for c in cols])
        ws.write_row(1, 0, [row.get(c) for c in cols])
    ws.write_datetime(
        1, len(cols) + 1, datetime.datetime(2024, 1, 1), wb.add_format({"num_format": "[h]:mm:ss"})
    )
    wb.close()
    return path


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    demo = submission_files([write_demo_year(folder / "demo", DEMO_YEARS[0])])
    readable = [p for p in demo if read_workbook(p).readable]
    return {
        "template": write_template(folder / "template.xlsx").read_bytes(),
        "filled": write_seed(folder / "filled.xlsx").read_bytes(),
        # A department's habits: merged cells, title rows, percent formats, Traditional text.
        "demo": max(readable, key=lambda p: p.stat().st_size).read_bytes(),
    }


def rezip(data: bytes, edit: Callable[[str, bytes], bytes]) -> bytes:
    """The same members, each passed through edit(name, bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit(info.filename, src.read(info)))
    return out.getvalue()


def in_member(member: str, fn: Callable[[bytes], bytes]) -> Callable[[str, bytes], bytes]:
    return lambda name, body: fn(body) if name == member else body


def patch_headers(
    data: bytes, signature: bytes, offset: int, fmt: str, value: int, *, first_only: bool = True
) -> bytes:
    """Overwrite a field of the zip's local (PK\\3\\4) or central (PK\\1\\2) headers."""
    out = bytearray(data)
    for m in re.finditer(re.escape(signature), data):
        struct.pack_into(fmt, out, m.start() + offset, value)
        if first_only:
            break
    return bytes(out)


def project_sheet(name: str, body: bytes) -> bool:
    return name == "xl/worksheets/sheet3.xml"


def assert_one_file_error(book: Workbook) -> None:
    assert not book.readable
    assert len(book.findings) == 1, book.findings
    (finding,) = book.findings
    assert finding.code in REFUSED and finding.severity == "file_error"
    assert finding.file == book.file and finding.message and not finding.message.isascii()


def assert_read_or_one_file_error(book: Workbook) -> None:
    if not book.readable:
        assert_one_file_error(book)


# --- the four crashes of the held-out campaign -------------------------------------------------------------

BILLION = b"4294967295"
CRASHES: dict[str, Callable[[dict[str, bytes]], bytes]] = {
    # calamine reserved memory for the declared count: "memory allocation of 103079215080 bytes failed".
    "shared_strings_count": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/sharedStrings.xml",
            lambda b: re.sub(rb'uniqueCount="\d+"', b'uniqueCount="' + BILLION + b'"', b),
        ),
    ),
    # zipfile: NotImplementedError("zip file version 25.5").
    "zip_version": lambda s: patch_headers(s["filled"], b"PK\x01\x02", 6, "<H", 255),
    # ElementTree: ValueError("multi-byte encodings are not supported").
    "multibyte_encoding": lambda s: rezip(
        s["filled"],
        in_member("xl/workbook.xml", lambda b: re.sub(rb'encoding="[^"]*"', b'encoding="GBK"', b)),
    ),
    # calamine's duration conversion: OverflowError("days=2147483647; must have magnitude <= 999999999").
    "date_overflow": lambda s: rezip(
        s["filled"],
        in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b"<v>45292</v>", b"<v>2147483647</v>")),
    ),
}


@pytest.mark.parametrize("crash", sorted(CRASHES))
def test_each_campaign_crash_is_one_file_error(crash: str, seeds: dict[str, bytes], tmp_path: Path) -> None:
    bad = tmp_path / f"{crash}.xlsx"
    bad.write_bytes(CRASHES[crash](seeds))
    book = read_workbook(bad)
    assert_one_file_error(book)
    assert book.findings[0].code == "F001"


def test_campaign_crashes_in_one_batch_leave_the_good_workbooks_read(
    seeds: dict[str, bytes], tmp_path: Path
) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(seeds["filled"])
    paths = [good]
    for crash, make in sorted(CRASHES.items()):
        (path := tmp_path / f"{crash}.xlsx").write_bytes(make(seeds))
        paths.append(path)
    paths.append(tmp_path / "template.xlsx")
    paths[-1].write_bytes(seeds["template"])
    books = read_workbooks(paths, limits=SMALL_LIMITS)
    assert [b.file for b in books] == [p.name for p in paths]  # input order
    assert books[0].readable and books[-1].readable and len(books[0].sheets["project"].frame) == 1
    for book in books[1:-1]:
        assert_one_file_error(book)


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


# --- structured mutations: zip headers and XML ------------------------------------------------------------

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>"
)
MUST_REFUSE: dict[str, Callable[[dict[str, bytes]], bytes]] = {
    "central_signature": lambda s: s["template"].replace(b"PK\x01\x02", b"PK\x01\x09"),
    "central_method": lambda s: patch_headers(s["template"], b"PK\x01\x02", 10, "<H", 99, first_only=False),
    "central_flags_encrypted": lambda s: patch_headers(
        s["template"], b"PK\x01\x02", 8, "<H", 1, first_only=False
    ),
    "local_signature": lambda s: s["template"].replace(b"PK\x03\x04", b"PK\x03\x05"),
    "end_record_cut": lambda s: s["template"][:-30],
    "truncated_half": lambda s: s["template"][: len(s["template"]) // 2],
    "unique_count_negative": lambda s: rezip(
        s["template"],
        in_member("xl/sharedStrings.xml", lambda b: re.sub(rb'uniqueCount="\d+"', b'uniqueCount="-1"', b)),
    ),
    "count_billions": lambda s: rezip(
        s["template"],
        in_member(
            "xl/sharedStrings.xml", lambda b: re.sub(rb' count="\d+"', b' count="' + BILLION + b'"', b)
        ),
    ),
    "utf16_declared": lambda s: rezip(
        s["template"],
        in_member("xl/workbook.xml", lambda b: re.sub(rb'encoding="[^"]*"', b'encoding="UTF-16"', b)),
    ),
    "big5_declared": lambda s: rezip(
        s["template"],
        in_member("xl/workbook.xml", lambda b: re.sub(rb'encoding="[^"]*"', b'encoding="big5"', b)),
    ),
    "billion_laughs": lambda s: rezip(
        s["template"],
        in_member(
            "xl/workbook.xml",
            lambda b: LAUGHS + re.sub(rb"<\?xml[^>]*\?>", b"", b).replace(b"<sheets>", b"<sheets>&lol9;"),
        ),
    ),
    "row_far_away": lambda s: rezip(
        s["filled"],
        in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b'<row r="2"', b'<row r="4294967295"')),
    ),
    "cell_far_away": lambda s: rezip(
        s["filled"], in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b'r="B2"', b'r="XFD1048576"'))
    ),
    "duration_huge": lambda s: rezip(
        s["filled"],
        in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b"<v>45292</v>", b"<v>1e300</v>")),
    ),
}
MAY_READ: dict[str, Callable[[dict[str, bytes]], bytes]] = {
    "local_version": lambda s: patch_headers(s["template"], b"PK\x03\x04", 4, "<H", 255, first_only=False),
    "local_method": lambda s: patch_headers(s["template"], b"PK\x03\x04", 8, "<H", 99),
    "dimension_huge": lambda s: rezip(
        s["template"],
        in_member(
            "xl/worksheets/sheet3.xml",
            lambda b: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', b),
        ),
    ),
    "merge_huge": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/worksheets/sheet3.xml",
            lambda b: b.replace(
                b"</sheetData>",
                b'</sheetData><mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>',
            ),
        ),
    ),
    "deep_nesting": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/worksheets/sheet3.xml",
            lambda b: b.replace(b"</sheetData>", b"</sheetData>" + b"<x>" * 50_000 + b"</x>" * 50_000),
        ),
    ),
    "deep_nesting_workbook": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/workbook.xml",
            lambda b: b.replace(b"</sheets>", b"</sheets>" + b"<x>" * 50_000 + b"</x>" * 50_000),
        ),
    ),
    "external_entity": lambda s: rezip(
        s["template"],
        in_member(
            "xl/sharedStrings.xml",
            lambda b: (
                b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + re.sub(rb"<\?xml[^>]*\?>", b"", b).replace(b"<t>", b"<t>&x;", 1)
            ),
        ),
    ),
    "shared_index_out_of_range": lambda s: rezip(
        s["filled"],
        in_member(
            "xl/worksheets/sheet3.xml",
            lambda b: re.sub(rb't="s"><v>\d+</v>', b't="s"><v>99999999</v>', b, count=3),
        ),
    ),
    "style_index_out_of_range": lambda s: rezip(
        s["filled"], in_member("xl/worksheets/sheet3.xml", lambda b: b.replace(b' s="1"', b' s="4294967295"'))
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUST_REFUSE))
def test_a_broken_container_is_one_file_error(mutation: str, seeds: dict[str, bytes], tmp_path: Path) -> None:
    (bad := tmp_path / f"{mutation}.xlsx").write_bytes(MUST_REFUSE[mutation](seeds))
    assert_one_file_error(read_workbook(bad))


def test_every_structured_mutation_in_one_batch(seeds: dict[str, bytes], tmp_path: Path) -> None:
    (good := tmp_path / "0_good.xlsx").write_bytes(seeds["filled"])
    paths = [good]
    for name, make in sorted({**MUST_REFUSE, **MAY_READ}.items()):
        (path := tmp_path / f"{name}.xlsx").write_bytes(make(seeds))
        paths.append(path)
    books = read_workbooks(paths, limits=SMALL_LIMITS)
    assert books[0].readable and len(books[0].sheets["project"].frame) == 1
    for book in books[1:]:
        if book.file.removesuffix(".xlsx") in MUST_REFUSE:
            assert_one_file_error(book)
        else:
            assert_read_or_one_file_error(book)
            assert not any(f.code == "F012" for f in book.findings), (book.file, book.findings)


# --- bounded random mutations ------------------------------------------------------------------------------


@st.composite
def byte_mutants(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a few random edits: flipped bytes, overwritten runs, a cut, a duplicated run."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "run", "cut", "dup"]))
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "run":
            run = draw(st.binary(min_size=1, max_size=16))
            data[at : at + len(run)] = run
        elif op == "cut" and len(data) > 100:
            data = data[:at] + data[at + draw(st.integers(1, 64)) :]
        else:
            data = data[:at] + data[at : at + 32] + data[at:]
    return bytes(data)


XML_EDITS = [
    (rb'count="\d+"', b'count="99999999999"'),
    (rb'r="[A-Z]+\d+"', b'r="ZZZZ99999999"'),
    (rb"<v>[^<]*</v>", b"<v>1e309</v>"),
    (rb"<v>[^<]*</v>", b"<v>-2147483648</v>"),
    (rb'ref="[^"]*"', b'ref="A1:XFD1048576"'),
    (rb'encoding="[^"]*"', b'encoding="gb2312"'),
    (rb"<t>", b"<t>&undefined;"),
    (rb"</row>", b""),
    (rb"<c ", b"<c><c "),
    (rb't="s"', b't="e"'),
    (rb't="s"', b't="d"'),
    (rb'name="[^"]*"', b'name=""'),
]


@st.composite
def xml_mutants(draw: st.DrawFn, seed: bytes) -> bytes:
    """One member's XML edited where a parser trusts it: counts, references, values, encodings, tags."""
    with zipfile.ZipFile(io.BytesIO(seed)) as zf:
        members = [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]
    member = draw(st.sampled_from(sorted(members)))
    pattern, replacement = draw(st.sampled_from(XML_EDITS))
    count = draw(st.integers(0, 3))
    return rezip(seed, in_member(member, lambda b: re.sub(pattern, replacement, b, count=count)))


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_mutants_never_raise_and_never_take_the_good_one_down(
    data: st.DataObject, seeds: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("mutants")
    (good := folder / "good.xlsx").write_bytes(seeds["filled"])
    paths = [good]
    for i in range(3):
        seed = seeds[data.draw(st.sampled_from(["template", "filled", "demo"]))]
        mutant = data.draw(byte_mutants(seed) if i == 0 else xml_mutants(seed))
        (path := folder / f"mutant{i}.xlsx").write_bytes(mutant)
        paths.append(path)
    books = read_workbooks(paths, limits=SMALL_LIMITS)
    assert books[0].readable and len(books[0].sheets["project"].frame) == 1
    for book in books[1:]:
        assert_read_or_one_file_error(book)
    # What the reader let through, validation takes without a traceback, and every row read is accounted.
    result = validate_workbooks(books, year=2026)
    assert sum(result.counts()[o] for o in ("library", "noncore", "excluded", "rejected")) == len(result.rows)


# --- the parse cache -----------------------------------------------------------------------------------------


def test_cache_hits_skip_the_workers_and_a_lost_workbook_is_not_cached(
    seeds: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.intake.parse_cache as parse_cache
    from pipelines.intake.parse_cache import read_submissions

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("b.xlsx", "a.xlsx"):
        (folder / name).write_bytes(seeds["filled"])
    (folder / "c.xlsx").write_bytes(CRASHES["zip_version"](seeds))
    cache = tmp_path / "cache"
    paths = sorted(folder.iterdir(), reverse=True)
    first, stats = read_submissions(paths, cache)
    assert [b.file for b in first] == ["a.xlsx", "b.xlsx", "c.xlsx"] and stats.parsed == [
        "a.xlsx",
        "b.xlsx",
        "c.xlsx",
    ]

    def no_workers(paths: list[Path], **_: object) -> list[Workbook]:
        assert not paths, "a cache hit must not reach the workers"
        return []

    monkeypatch.setattr(parse_cache, "read_workbooks", no_workers)
    again, stats = read_submissions(paths, cache)
    assert stats.cached == ["a.xlsx", "b.xlsx", "c.xlsx"] and stats.parsed == []
    assert [(b.file, b.readable, b.findings) for b in again] == [
        (b.file, b.readable, b.findings) for b in first
    ]

    # A worker lost on a new file (abort.xlsx): F012, and nothing written to the cache for it.
    (folder / "a.xlsx").rename(folder / "abort.xlsx")
    lost = read_workbooks([folder / "abort.xlsx"], limits=SMALL_LIMITS, parse=hostile_parse)
    monkeypatch.setattr(parse_cache, "read_workbooks", lambda paths, **_: lost if paths else [])
    books, stats = read_submissions(sorted(folder.iterdir()), cache)
    assert stats.parsed == ["abort.xlsx"] and books[0].findings[0].code == "F012"
    assert len(list(cache.glob("*.pkl"))) == 3  # a, b, c from the first run; the F012 was not kept


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
