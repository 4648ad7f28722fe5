"""A zip part deflated in blocks on several threads (pipelines/common/block_deflate.py): any input comes back
exactly; the bytes do not depend on the threads nor on how the input arrives; a part shorter than a block is
the stream zipfile's own compressor makes; a real package through write_package reads back (CRC checked)."""

from __future__ import annotations

import io
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from zlib_ng import zlib_ng

from pipelines.common import block_deflate
from pipelines.common.block_deflate import BlockDeflate
from pipelines.common.xlsx_package import write_package

# Texts with repeats (so matches reach back across block cuts) and random bytes.
PIECES = st.lists(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from([b'<c t="s"><v>12</v></c>', "指标名称".encode(), b"\x00" * 50]),
    ),
    max_size=60,
)


def deflated(pieces: list[bytes], block: int, workers: int, cuts: int = 1) -> bytes:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        compressor = BlockDeflate(pool, block=block)
        data = b"".join(pieces)
        step = max(1, len(data) // cuts) if data else 1
        out = [compressor.compress(data[k : k + step]) for k in range(0, len(data), step)]
        return b"".join(out) + compressor.flush()


@settings(max_examples=120, deadline=None)
@given(PIECES, st.integers(16, 2048), st.integers(1, 3), st.integers(1, 7))
def test_any_input_comes_back_and_the_bytes_do_not_depend_on_threads_or_cuts(
    pieces: list[bytes], block: int, workers: int, cuts: int
) -> None:
    data = b"".join(pieces)
    out = deflated(pieces, block, workers, cuts)
    assert zlib.decompress(out, -15) == data
    assert out == deflated(pieces, block, 1, 1)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000))
def test_a_part_shorter_than_a_block_is_the_stream_zipfile_makes(data: bytes) -> None:
    reference = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    assert deflated([data], block=len(data) + 1, workers=2) == reference.compress(data) + reference.flush()


def test_a_long_part_is_deflated_by_zlib_ng_at_its_level_and_any_inflater_reads_it() -> None:
    rows = "".join(f'<row><c t="s"><v>{k % 97}</v></c></row>' for k in range(3000))
    text = rows.encode() + "受益群众满意度".encode() * 2000
    block = 4096
    blocks = [text[k : k + block] for k in range(0, len(text), block)]
    expected = []
    for n, part in enumerate(blocks):
        window = text[max(0, n * block - block_deflate.WINDOW) : n * block]
        c = (
            zlib_ng.compressobj(block_deflate.FAST_LEVEL, zlib_ng.DEFLATED, -15, zdict=window)
            if window
            else (zlib_ng.compressobj(block_deflate.FAST_LEVEL, zlib_ng.DEFLATED, -15))
        )
        last = n == len(blocks) - 1
        expected.append(c.compress(part) + c.flush(zlib_ng.Z_FINISH if last else zlib_ng.Z_SYNC_FLUSH))
    out = deflated([text], block=block, workers=2, cuts=5)
    assert out == b"".join(expected)
    assert zlib.decompress(out, -15) == text  # the standard library's inflater reads zlib-ng's stream
    reference = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    assert out != reference.compress(text) + reference.flush()  # not zlib's stream: zlib-ng's


def test_matches_reach_back_across_a_cut() -> None:
    text = ("<row><c><v>受益群众满意度</v></c></row>" * 4000).encode()
    primed = deflated([text], block=4096, workers=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        cold = b"".join(
            block_deflate._deflate(text[k : k + 4096], b"", 6, False) for k in range(0, len(text), 4096)
        )
    del pool
    assert len(primed) < len(cold)  # each block primed with the input before it


@pytest.mark.parametrize("workers", [1, 3])
def test_a_package_with_a_long_part_reads_back_the_same_whatever_the_threads(
    workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(block_deflate, "BLOCK", 4096)
    skeleton = io.BytesIO()
    with zipfile.ZipFile(skeleton, "w") as z:
        z.writestr("[Content_Types].xml", b"<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"")
    rows = [f'<row r="{k}"><c t="s"><v>{k % 97}</v></c></row>' for k in range(20000)]
    monkeypatch.setattr(block_deflate, "threads", lambda: workers)
    write_package(
        tmp_path / "a.xlsx",
        skeleton.getvalue(),
        {"xl/worksheets/sheet1.xml": ["<sheetData>", *rows, "</sheetData>"]},
    )
    with zipfile.ZipFile(tmp_path / "a.xlsx") as z:
        assert z.testzip() is None  # every CRC right
        assert z.read("xl/worksheets/sheet1.xml") == ("<sheetData>" + "".join(rows) + "</sheetData>").encode()
        assert z.read("[Content_Types].xml") == b"<Types/>"
    monkeypatch.setattr(block_deflate, "threads", lambda: 1)
    write_package(
        tmp_path / "b.xlsx",
        skeleton.getvalue(),
        {"xl/worksheets/sheet1.xml": ["<sheetData>" + "".join(rows), "</sheetData>"]},
    )
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_a_zipfile_entry_takes_the_block_compressor_and_another_is_left_alone() -> None:
    class Entry:
        _compressor = None

    with ThreadPoolExecutor(max_workers=1) as pool, zipfile.ZipFile(io.BytesIO(), "w") as z:
        info = zipfile.ZipInfo("a.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w") as entry:
            assert block_deflate.attach(entry, pool) is True  # this Python's zipfile: write_package uses it
            entry.write(b"<a/>" * 1000)
        assert z.read("a.xml") == b"<a/>" * 1000
        assert block_deflate.attach(Entry(), pool) is False
