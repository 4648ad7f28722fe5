"""docs/LIBRARY.md, generated from the pandera models of schemas/library.py: the published tables, their files
and columns, so the documentation cannot drift from what publish writes.

    python -m schemas.library_doc > docs/LIBRARY.md      (tests/test_library_doc.py fails until they agree)
"""

from __future__ import annotations

import pandera.pandas as pa

from schemas.library import (
    SCHEMA_MINOR,
    SCHEMA_VERSION,
    SINCE,
    TITLES_ZH,
    DepartmentTable,
    IndicatorTable,
    SetAsideTable,
    UsageTable,
)

TABLES: list[tuple[str, type[pa.DataFrameModel], str]] = [
    (
        "indicators",
        IndicatorTable,
        "`library/indicators/<function class>.parquet`, `common.parquet` (共性), `dept.parquet` (部门整体)",
    ),
    ("usages", UsageTable, "`library/usages/<year>/…` partitioned the same way"),
    ("departments", DepartmentTable, "`library/departments.parquet`"),
    ("set_aside", SetAsideTable, "`library/set_aside/<year>.parquet`"),
]


# How a reader (pandas, duckdb, Excel after export) meets each stored type.
_TYPE_WORDS = {
    "string[pyarrow]": "text",
    "str": "text",
    "int64": "integer",
    "Int64": "integer",
    "float64": "number",
    "object": "list of text",
}


def _type(column: pa.Column) -> str:
    kind = _TYPE_WORDS.get(str(column.dtype), str(column.dtype))
    return f"{kind}, may be empty" if column.nullable else kind


def table_markdown(name: str, model: type[pa.DataFrameModel], files: str) -> list[str]:
    schema = model.to_schema()
    doc = (model.__doc__ or "").strip().splitlines()
    lines = [f"## {name}", "", f"{doc[0] if doc else ''} Files: {files}.", ""]
    lines += ["| column | 中文 | type | since |", "|---|---|---|---|"]
    for column_name, column in schema.columns.items():
        since = (column.metadata or {}).get(SINCE, 0)
        title = TITLES_ZH.get(column_name, "")
        lines.append(f"| `{column_name}` | {title} | {_type(column)} | {SCHEMA_VERSION}.{since} |")
    return [*lines, ""]


def library_markdown() -> str:
    lines = [
        "# The published library: tables and columns",
        "",
        "Generated from `schemas/library.py` by `python -m schemas.library_doc`; do not edit by hand. Layout and",
        "guarantees: `docs/CONTRACT.md` §5; how the format changes between versions: `docs/SCHEMA_VERSIONS.md`.",
        f"This is format version {SCHEMA_VERSION}.{SCHEMA_MINOR}; `since` is the version that added a column.",
        "`library/manifest.json` lists every published file (library/ and reports/) with its sha256 and size.",
        "",
    ]
    for name, model, files in TABLES:
        lines += table_markdown(name, model, files)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    print(library_markdown(), end="")
