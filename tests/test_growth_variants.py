"""benchmarks.growth_variants: the storage choices it replays write what they claim (the figures in
benchmarks/RESULTS.md rest on them)."""

from __future__ import annotations

import base64
import io
import json
import zlib

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.growth_variants import _repeats_once, _slots
from pipelines.report.library_page.page import packed
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
