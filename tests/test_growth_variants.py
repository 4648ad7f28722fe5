"""benchmarks.growth_variants: the storage choices it replays write what they claim (the figures in
benchmarks/RESULTS.md rest on them)."""

from __future__ import annotations

import base64
import io
import json
import random
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import python_calamine

from benchmarks.growth_names import pack_name_hash, renamer, upgraded
from benchmarks.growth_variants import _id_blocks, _inlined, _pack_after, _repeats_once, _slots
from pipelines.common.xlsx_out import xlsx_book
from pipelines.common.xlsx_table_block import write_table_block
from pipelines.common.xlsx_zip import redeflated
from pipelines.report.library_page.page import packed
from pipelines.store.parts import PART_COMMON, PART_DEPT, PART_OTHER, usage_file, usage_file_part
from pipelines.store.publish import WRITER_OPTIONS


def parquet(values: list[str | None]) -> bytes:
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"project": pa.array(values, pa.string())}), buf, **WRITER_OPTIONS)
    return bytes(buf.getvalue().to_pybytes())


def dictionary(data: bytes) -> list[str]:
    table = pq.ParquetFile(io.BytesIO(data), read_dictionary=["project"]).read()
    return table["project"].combine_chunks().dictionary.to_pylist()


def test_slots_keep_last_years_indexes() -> None:
    """A value keeps its place in the dictionary; a vanished value's place goes to the first new one."""
    last = _slots("library/usages/2024/201.parquet", parquet(["甲", "乙", "丙", "乙"]), {})
    assert dictionary(last) == ["甲", "乙", "丙"]
    rows = ["丁", "丙", None, "甲", "戊"]
    now = _slots("library/usages/2025/201.parquet", parquet(rows), {"library/usages/2024/201.parquet": last})
    assert dictionary(now) == ["甲", "丁", "丙", "戊"]  # 乙's place to 丁, 戊 after
    assert pq.read_table(io.BytesIO(now))["project"].to_pylist() == rows
    other = _slots(
        "library/usages/2025/202.parquet", parquet(rows), {"library/usages/2024/201.parquet": last}
    )
    assert dictionary(other) == ["丁", "丙", "甲", "戊"]  # no file of its class last year: first appearance


def test_repeated_targets_rewritten_once() -> None:
    def doc(year: int, se: list) -> tuple[int, str]:
        ids = [f"ZB-X00000{k + 1}" for k in range(len(se))]
        d = {"year": year, "ids": ids, "unit": [], "dept": ["d1", "d2"], "sp": [0] * len(se), "se": se}
        return year, packed(json.dumps(d, ensure_ascii=False))

    years = [doc(2024, [[[0, "≥95%"], [1, "10"]]]), doc(2025, [[[0, "≥95%"], [1, "12"]]])]
    out = [json.loads(zlib.decompress(base64.b64decode(text))) for _, text in _repeats_once(years)]
    assert out[0]["se"] == [[[0, "≥95%"], [1, "10"]]] and out[1]["se"] == [[[0], [1, "12"]]]
    assert out[1]["ids"] == ["ZB-X", 6, 1, 1]
    again = _repeats_once(
        [(y, packed(json.dumps(d, ensure_ascii=False))) for y, d in zip((2024, 2025), out, strict=True)]
    )
    assert [t for _, t in again] == [packed(json.dumps(d, ensure_ascii=False)) for d in out]  # left as it is


def review_like(path: Path) -> bytes:
    """A workbook written as review.xlsx is (compact rows, redeflated), texts shared across sheets."""
    frame = pd.DataFrame(
        {
            "dept": ["100001", "100002", "100001", " 前后空格 ", "A&B <c>", "_x0041_"],
            "file": ["100001_市财政局_2026.xlsx"] * 3 + ["x.xlsx", "y.xlsx", "z.xlsx"],
            "count": [8, 26, 2.5, 0, -1, 3],
        }
    )
    titles = {"dept": "部门编码", "file": "报送文件", "count": "数量"}
    with xlsx_book(path, title="审核", subject="年度审核") as book:
        write_table_block(book, "问题明细", frame, titles, compact=True)
        write_table_block(book, "部门审核", frame.iloc[::-1], titles, compact=True)
    return redeflated(path.read_bytes())


def cells(path: Path) -> list[object]:
    book = openpyxl.load_workbook(path)
    normal = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    book = openpyxl.load_workbook(path, read_only=True)
    read_only = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    book.close()
    calamine = python_calamine.CalamineWorkbook.from_path(str(path))
    return [normal, read_only, {n: calamine.get_sheet_by_name(n).to_python() for n in calamine.sheet_names}]


def test_inlined_reads_the_same_cells(tmp_path: Path) -> None:
    """review-inline: the readers see the cells of the shared-string workbook; no shared strings, every
    part stored, the same package gives the same bytes. But for one case: a text that looks like an
    escape (_x0041_), which xlsxwriter writes _x005F_x0041_: openpyxl undoes that in shared strings only,
    so from an inline cell it reads the escaped form (calamine reads both right). A writer of inline
    texts would have to leave such a text unescaped for openpyxl."""
    data = review_like(tmp_path / "review.xlsx")
    inline = _inlined(data)
    (tmp_path / "inline.xlsx").write_bytes(inline)
    before, after = cells(tmp_path / "review.xlsx"), cells(tmp_path / "inline.xlsx")
    assert before[2] == after[2] and before[0]["问题明细"][4][0] == " 前后空格 "
    for reader in (0, 1):
        assert before[reader]["问题明细"][6][0] == "_x0041_"
        assert after[reader]["问题明细"][6][0] == "_x005F_x0041_"
        after[reader]["问题明细"][6][0] = after[reader]["部门审核"][1][0] = "_x0041_"
        assert before[reader] == after[reader]
    with zipfile.ZipFile(io.BytesIO(inline)) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        assert b"sharedStrings" not in z.read("[Content_Types].xml") + z.read("xl/_rels/workbook.xml.rels")
        assert b't="inlineStr"><is><t>A&amp;B &lt;c&gt;</t></is>' in z.read("xl/worksheets/sheet1.xml")
    assert _inlined(data) == inline


def test_id_blocks_cut_row_groups_at_id_blocks() -> None:
    ids = ["ZB-X000001", "ZB-X000001", "ZB-X000063", "ZB-X000064", "ZB-X000200", "ZB-X000255", "ZB-X000256"]
    buf = pa.BufferOutputStream()
    table = pa.table({"indicator_id": ids, "n": list(range(len(ids)))})
    pq.write_table(table, buf, **WRITER_OPTIONS)
    out = pq.ParquetFile(io.BytesIO(_id_blocks(bytes(buf.getvalue().to_pybytes()), 64)))
    groups = [out.metadata.row_group(k).num_rows for k in range(out.metadata.num_row_groups)]
    assert groups == [3, 1, 2, 1] and out.read().equals(table)


def test_pack_after_counts_the_delta(tmp_path: Path) -> None:
    """A file committed after a like one costs its delta, alone its whole (compressed) self."""
    old = random.Random(1).randbytes(50_000)
    new = old[:20_000] + b"changed" + old[20_000:]
    assert _pack_after(tmp_path / "a", [old, new]) < 2_000 < 45_000 < _pack_after(tmp_path / "b", [new])


def test_usages_names_sort_by_class_whatever_the_year() -> None:
    """A usages file's name (parts.usage_file) gives every year of a class one hash in git's delta order
    (pack_name_hash), a hash of its own per class, apart from indicators/ and from every other file the
    library holds; the names before it (<part>.parquet) did neither."""
    classes = [f"{c}" for c in range(200, 240)] + [PART_COMMON, PART_DEPT, PART_OTHER]

    def hashes(name: Callable[[str], str]) -> dict[str, set[int]]:
        return {
            c: {pack_name_hash(f"library/usages/{y}/{name(c)}") for y in range(2000, 2200)} for c in classes
        }

    now = hashes(usage_file)
    assert all(len(h) == 1 for h in now.values())
    assert len({h for hs in now.values() for h in hs}) == len(classes)
    others = {pack_name_hash(f"library/indicators/{c}.parquet") for c in classes}
    others |= {pack_name_hash(f"library/{p}") for p in ("departments.parquet", "manifest.json")}
    others |= {pack_name_hash(f"library/set_aside/{y}.parquet") for y in range(2000, 2200)}
    assert not others & {h for hs in now.values() for h in hs}
    before = hashes(lambda c: f"{c}.parquet")
    assert any(len(h) > 1 for h in before.values())  # the year's digit counted, and turned at each decade
    assert all(usage_file_part(usage_file(c)) == usage_file_part(f"{c}.parquet") == c for c in classes)
    renamed = renamer("us", 6)("library/usages/2026/201.parquet")
    assert renamed == f"library/usages/2032/{usage_file('201')}"
    assert renamer("asis", 0)("library/usages/2026/201.us.parquet") == "library/usages/2026/201.us.parquet"
    rename = upgraded("us", 0, 1)  # the first release with the old names, the next renamed
    releases = [
        [rename(p) for p in ("library/manifest.json", "library/usages/2025/201.us.parquet")] for _ in "ab"
    ]
    assert [r[1] for r in releases] == [
        "library/usages/2025/201.parquet",
        "library/usages/2025/201.us.parquet",
    ]


def test_pack_name_hash_is_gits_order() -> None:
    """pack_name_hash sorts as git does: in a pack of two blobs under two names, the one whose name hashes
    higher comes first in the delta search, so the other is stored as a delta against it."""
    import subprocess
    import tempfile

    base = bytes(range(256)) * 64
    other = base[:8000] + b"changed" + base[8000:]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["git", "init", "-q", tmp], check=True)
        shas = [
            subprocess.run(
                ["git", "-C", tmp, "hash-object", "-w", "--stdin"], input=b, capture_output=True, check=True
            )
            .stdout.decode()
            .strip()
            for b in (base, other)
        ]
        for first, second in (
            ("a/201.us.parquet", "z/indicators/201.parquet"),
            ("z/indicators/201.parquet", "a/201.us.parquet"),
        ):
            for p in Path(tmp, ".git", "objects", "pack").glob("p-*"):
                p.unlink()
            order = sorted([(first, shas[0]), (second, shas[1])], key=lambda e: -pack_name_hash(e[0]))
            listing = "".join(f"{sha} {name}\n" for name, sha in [(first, shas[0]), (second, shas[1])])
            subprocess.run(
                ["git", "-C", tmp, "pack-objects", "-q", str(Path(tmp, ".git", "objects", "pack", "p"))],
                input=listing.encode(),
                check=True,
                capture_output=True,
            )
            index = next(Path(tmp, ".git", "objects", "pack").glob("p-*.idx"))
            verified = subprocess.run(
                ["git", "-C", tmp, "verify-pack", "-v", str(index)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            deltas = [line.split()[0] for line in verified.splitlines() if len(line.split()) > 6]
            assert deltas == [order[1][1]]  # the later one in git's order is the delta
