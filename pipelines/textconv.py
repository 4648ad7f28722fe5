"""The git diff driver: a Parquet file of the library as sorted text, one row per line.

`git log -p library/` and `git diff vA vB -- library/` call `python -m pipelines.textconv FILE`
(configured by pipelines.store.repo.configure_textconv). A failing textconv aborts the whole git diff,
so on a file it cannot read this prints one explanatory line and still exits 0.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

LIST_SEP = "、"

# Tables recognized by columns only they have (git passes temp file names, so the path says nothing).
# Kept free of pandas/pandera imports: git starts this once per file and version.
# kind, Chinese title, columns that identify it, key columns shown first on each line (tab-separated)
_KINDS: tuple[tuple[str, str, frozenset[str], tuple[str, ...]], ...] = (
    ("indicators", "规范指标", frozenset({"indicator_id", "name", "status"}), ("indicator_id", "name")),
    (
        "usages",
        "指标使用",
        frozenset({"indicator_id", "year", "dept_code", "source_row"}),
        ("indicator_id", "dept_code", "project", "source_file", "source_sheet", "source_row"),
    ),
    (
        "set_aside",
        "未入库行",
        frozenset({"outcome", "dept_code", "source_row"}),
        ("dept_code", "source_file", "source_sheet", "source_row", "outcome"),
    ),
    ("departments", "部门", frozenset({"dept_code", "dept_name"}), ("dept_code", "dept_name")),
)


def _kind(columns: list[str]) -> tuple[str, str, tuple[str, ...]]:
    have = set(columns)
    for kind, title, marks, keys in _KINDS:
        if marks <= have:
            return kind, title, tuple(k for k in keys if k in have)
    return "parquet", "Parquet 表", ()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, list | tuple):
        return LIST_SEP.join(_text(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    # one row per line: escape what would break it
    return str(value).replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _sort_key(row: dict, keys: tuple[str, ...]) -> tuple:
    out = []
    for k in keys:
        v = row.get(k)
        # numbers sort as numbers (row 10 after row 9), everything else as text
        out.append((0, v, "") if isinstance(v, int | float) and not isinstance(v, bool) else (1, 0, _text(v)))
    return tuple(out)


def render(path: Path | str) -> str:
    """The file as text: a header line, then one sorted line per row. Raises on unreadable files."""
    table = pq.ParquetFile(path).read()  # not read_table: that loads pyarrow.dataset and pandas (slow start)
    columns = table.column_names
    kind, title, keys = _kind(columns)
    rows = table.to_pylist()
    rest = [c for c in columns if c not in keys]

    def line(row: dict) -> str:
        fields = "; ".join(f"{c}={_text(row.get(c))}" for c in rest)
        return "\t".join([*(_text(row.get(k)) for k in keys), fields]) if keys else fields

    # key first (numbers as numbers), then the whole line: a total, stable order
    body = [text for _, text in sorted(((_sort_key(r, keys), line(r)) for r in rows), key=lambda p: p)]
    header = f"# {title}（{kind}），共 {table.num_rows} 行；每行一条，按 {'、'.join(keys) or '全部列'} 排序"
    return "\n".join([header, *body]) + "\n"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """`python -m pipelines.textconv FILE`: print the text; on a file it cannot read, one line, exit 0."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("用法：python -m pipelines.textconv FILE（git 的 Parquet 差异显示程序）\n")
        return 2
    path = Path(args[0])
    try:
        if not path.is_file():
            raise FileNotFoundError("文件不存在")
        text = render(path)
    except Exception as exc:  # noqa: BLE001 - git diff must never abort because of this driver
        text = f"（无法以文本显示 {path.name}：不是可读取的 Parquet 文件 — {_one_line(exc)}）\n"
    try:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
