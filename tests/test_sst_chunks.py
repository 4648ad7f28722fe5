"""Shared strings told plain a chunk at a time (xlsx_table.plain_chunk): review.xlsx's sharedStrings.xml
(xlsx_rows._SharedStrings) and merge_review.xlsx's (xlsx_table.shared_strings_xml) are the bytes written
text by text, whether a chunk is plain (with "_" but no "_x", or none), or holds one text to escape."""

from __future__ import annotations

import io
import zipfile

import pytest

from pipelines.common import xlsx_rows, xlsx_table
from pipelines.common.xlsx_numbering import StringTable
from pipelines.common.xlsx_table import plain_chunk
from tests.xlsx_builders import strings_book

# Chunks of three (patched): plain, plain with "_", then one careful text among plain ones, and so on.
TEXTS = [
    "甲",
    "乙丙",
    "丁",
    "a_b",
    "snake_case",
    "尾_",
    "前",
    "_x0041_ look-alike",
    "后",
    "x_x",
    "y",
    "z",
    " lead",
    "中",
    "间",
    "a&b",
    "<r>",
    "c",
    "trail\u3000",
    "ctl\x01",
    "平",
]


def _joined(texts: list[str]) -> bytes:
    return ("<si><t>" + "</t></si><si><t>".join(texts) + "</t></si>").encode()


@pytest.mark.parametrize(
    ("texts", "plain"),
    [
        (["甲", "乙"], True),
        (["a_b", "尾_"], True),  # an underscore alone needs nothing
        (["a_x0041_b"], False),
        (["x_x"], False),  # any "_x" goes text by text (which writes it plain: not _xHHHH_)
        (["a&b"], False),
        (["a<b"], False),
        (["ctl\x01"], False),
        ([" lead"], False),
        (["trail\u3000"], False),
        (["tab\tinside", "line\nbreak"], True),
    ],
)
def test_plain_chunk(texts: list[str], plain: bool) -> None:
    assert plain_chunk(_joined(texts), len(texts)) is plain


def test_review_shared_strings_by_chunks_are_xlsxwriters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_rows, "_SST_CHUNK", 3)
    assert strings_book(TEXTS, fast=True) == strings_book(TEXTS, fast=False)


def test_merge_review_shared_strings_by_chunks_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """shared_strings_xml in chunks of three equals the same texts in one chunk written text by text."""
    strings = StringTable()
    for text in [*TEXTS, "\ufffe", "后来"]:
        strings.add(text)
    strings.finish()
    monkeypatch.setattr(xlsx_table, "SST_CHUNK", 3)
    chunked = b"".join(xlsx_table.shared_strings_xml(strings))
    monkeypatch.setattr(xlsx_table, "SST_CHUNK", 10**6)
    monkeypatch.setattr(xlsx_table, "plain_chunk", lambda data, n: False)
    each = b"".join(xlsx_table.shared_strings_xml(strings))
    assert chunked == each
    assert b"<t>a_b</t>" in chunked and b"_x005F_x0041_" in chunked and b"_xFFFE_" in chunked


def test_review_xlsx_package_reads_back() -> None:
    data = strings_book(TEXTS, fast=True)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.read("xl/sharedStrings.xml").count(b"<si>") == len(TEXTS)
