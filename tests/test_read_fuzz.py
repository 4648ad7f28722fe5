"""Hostile workbooks cost one workbook, never the run (issue 11 point 11).

Regression files for the four crashes of the held-out fuzzing campaign, zip-header and XML mutations of
the real template and bounded random mutations (hypothesis): every bad input is exactly one file finding
for its workbook and the good workbook beside it is read. Workers that abort, hog memory or hang:
tests/test_safe_parse.py.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.intake.read import read_workbook
from pipelines.intake.safe_parse import read_workbooks
from pipelines.validate.runner import validate_workbooks
from tests.hostile_seeds import (
    BILLION,
    CRASHES,
    SMALL_LIMITS,
    assert_one_file_error,
    assert_read_or_one_file_error,
    in_member,
    make_seeds,
    patch_headers,
    rezip,
)

FUZZ_EXAMPLES = int(
    os.environ.get(
        "INDICATORS_FUZZ_EXAMPLES", "250" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "15"
    )
)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return make_seeds(tmp_path_factory.mktemp("seeds"))


# --- the four crashes of the held-out campaign -------------------------------------------------------------


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
