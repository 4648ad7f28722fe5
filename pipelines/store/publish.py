"""Publish: write one release of the library as deterministic Parquet + manifest, read it back, swap it in
(its verification: pipelines/store/verify.py; the stage → check → commit sequence: pipelines/store/release.py).

Layout (CONTRACT §5, schemas/library.py):
    library/indicators/<part>.parquet        part = 3-digit 功能分类 类 for 项目 ("other" when empty),
                                              "common" for 共性, "dept" for 部门整体
    library/usages/<year>/<part>.us.parquet  same part, taken from the usage's indicator (parts.USAGE_SUFFIX:
                                              why not <part>.parquet, as releases before 2026-12 wrote)
    library/departments.parquet
    library/set_aside/<year>.parquet
    library/manifest.json                    schema version, year, row accounting, sha256 per file

Determinism: rows sorted on fixed keys, one fixed Arrow schema per table (derived from the pandera
models, so every file of a table has the same schema and `pandas.read_parquet(dir)` reads it whole),
no pandas metadata, fixed writer settings. Same tables → byte-identical files, so an unchanged part
makes no git change. A usages part's and the set-aside's wide text columns are numbered as the year
before's file numbered them (slots.py: git then stores a year against another with smaller deltas).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa_schema
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.common.errors import first_problems
from pipelines.common.hashing import sha256_bytes, sha256_file
from pipelines.store.parts import PART_COMMON as PART_COMMON
from pipelines.store.parts import PART_DEPT as PART_DEPT
from pipelines.store.parts import PART_OTHER as PART_OTHER
from pipelines.store.parts import cut, encoded, indicator_files, sort_order, usage_file, usage_files
from pipelines.store.parts import indicator_part as indicator_part
from pipelines.store.slots import Numbering
from pipelines.store.swap import LIBRARY_DIR as LIBRARY_DIR
from pipelines.store.swap import PREVIOUS_DIR as PREVIOUS_DIR
from pipelines.store.swap import STAGING_DIR as STAGING_DIR
from pipelines.store.swap import _swap as _swap
from pipelines.store.swap import recover_interrupted as recover_interrupted
from schemas.library import (
    DepartmentTable,
    IndicatorTable,
    LibraryTables,
    SetAsideTable,
    UsageTable,
    manifest_version,
)

MANIFEST = "manifest.json"
REPORTS_DIR = "reports"
# manifest.json's list of every file under reports/ (paths relative to reports/, all years), added when
# the release is published; releases made before it have no such key (their reports are not covered).
REPORTS_KEY = "reports"
ACCOUNTING_KEYS = ("read", "library", "noncore", "excluded", "rejected")

# Fixed writer settings: changing any of them rewrites every file of every library once.
# Pages uncompressed, dictionary-encoded: git's own zlib and deltas then store a release's indicators/*
# (rewritten every year) and usages/<Y>/* (much like the year before) against the previous year's file —
# compressed pages defeat the delta. Ten releases of 100k rows (benchmarks.git_growth): library/ grows
# 1.83 MiB per release packed against 2.77 with zstd level 9; the working tree is ≈ 3× larger (79 MB
# against 25 MB after ten years) and reading it is no slower (no decompression).
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "NONE",
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "row_group_size": 1 << 22,  # one row group per file at the sizes a city produces
    "data_page_size": 1 << 20,
    "store_schema": True,  # ARROW:schema keeps list<string> etc. exact for readers; it is deterministic
    "write_page_index": False,
    "use_compliant_nested_type": True,
}


class PublishError(RuntimeError):
    """The staged release failed verification; the published library was left as it was."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"新版本指标库未通过校验，未发布，已发布的指标库保持不变：{first_problems(problems)}"
        )


# --- table specs ------------------------------------------------------------------------------------


def arrow_type(dtype: str, column: str) -> pa.DataType:
    """The Arrow type a pandera model's column is stored as (every table of library/, evaluations included)."""
    if dtype in ("str", "string", "string[pyarrow]", "string[python]"):
        return pa.string()
    if dtype in ("int64", "Int64"):
        return pa.int64()
    if dtype == "float64":
        return pa.float64()
    if dtype == "bool":
        return pa.bool_()
    if dtype == "object":  # the models use object only for list[str] columns
        return pa.list_(pa.string())
    raise TypeError(f"schemas column {column!r} has dtype {dtype!r} that publish cannot map")


@dataclass(frozen=True)
class TableSpec:
    name: str  # attribute of LibraryTables
    title_zh: str
    model: type[pa_schema.DataFrameModel]
    sort_keys: tuple[str, ...]

    @property
    def schema(self) -> pa_schema.DataFrameSchema:
        return self.model.to_schema()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    @property
    def arrow_schema(self) -> pa.Schema:
        return _ARROW_SCHEMAS[self.name]

    def pandas_dtype(self, column: str) -> str:
        return str(self.schema.columns[column].dtype)

    @property
    def order_by(self) -> list[str]:
        """The rows' fixed order: the table's keys, then every other scalar column as tie-breaker."""
        scalar = [c for c in self.columns if self.pandas_dtype(c) != "object"]
        return list(self.sort_keys) + [c for c in scalar if c not in self.sort_keys]


SPECS: dict[str, TableSpec] = {
    s.name: s
    for s in (
        TableSpec("indicators", "规范指标", IndicatorTable, ("indicator_id",)),
        TableSpec(
            "usages",
            "指标使用",
            UsageTable,
            ("indicator_id", "year", "dept_code", "project", "source_file", "source_sheet", "source_row"),
        ),
        TableSpec("departments", "部门", DepartmentTable, ("dept_code",)),
        TableSpec(
            "set_aside",
            "未入库行",
            SetAsideTable,
            ("year", "dept_code", "source_file", "source_sheet", "source_row", "outcome"),
        ),
    )
}
_ARROW_SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema(
        [
            pa.field(col, arrow_type(str(c.dtype), col), nullable=True)
            for col, c in spec.model.to_schema().columns.items()
        ]
    )
    for name, spec in SPECS.items()
}


def indicator_parts(indicators: pd.DataFrame) -> pd.Series:
    """The partition (file stem) of every indicator row (indicator_part once per scope and class)."""
    scopes, classes = (pa.array(indicators[c], type=pa.string()) for c in ("scope", "function_class"))
    codes, labels = indicator_files(scopes, classes)
    return pd.Series(np.array(labels, dtype=object)[codes], index=indicators.index, dtype=object)


def _usage_parts(usages: pd.DataFrame, indicators: pd.DataFrame) -> pd.Series:
    by_id = dict(zip(indicators["indicator_id"], indicator_parts(indicators), strict=True))
    # A usage whose indicator is missing still gets a file (from its own scope/code); verify reports it.
    own = [
        indicator_part(s, str(f)[:3]) for s, f in zip(usages["scope"], usages["function_code"], strict=True)
    ]
    return pd.Series(
        [by_id.get(i, o) for i, o in zip(usages["indicator_id"], own, strict=True)],
        index=usages.index,
        dtype=object,
    )


# --- writing ----------------------------------------------------------------------------------------


def _conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    cols = spec.columns
    missing = [c for c in cols if c not in df.columns]
    extra = [c for c in df.columns if c not in cols]
    if missing or extra:
        raise ValueError(
            f"{spec.title_zh}表（{spec.name}）的列与 schemas/library.py 不一致："
            f"缺少 {missing or '无'}，多出 {extra or '无'}"
        )
    return df.loc[:, cols]


def _sorted(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Rows in a fixed order: the table's keys, then every other scalar column as tie-breaker."""
    if df.empty:
        return df.reset_index(drop=True)
    return df.sort_values(by=spec.order_by, kind="mergesort", na_position="last").reset_index(drop=True)


def _list_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    return [str(v) for v in value]


_TEXTS = pa.list_(pa.string())


def _list_array(cells: pd.Series) -> pa.Array:
    """A list<string> column: straight from the cells when each is missing (None) or a list of texts, as
    consolidation makes them; else each cell through _list_cell (a value that is not a text written as
    text, NaN as missing)."""
    try:
        array = pa.array(cells.to_numpy(dtype=object), type=_TEXTS, from_pandas=False)
        if array.flatten().null_count == 0:  # _list_cell writes an element None as "None"
            return array
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return pa.array([_list_cell(v) for v in cells], type=_TEXTS)


def to_arrow(df: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """DataFrame → Arrow table with the table's fixed schema and no pandas metadata."""
    df = _conform(df, spec)
    if df.empty:  # pandas gives an empty list column float64; the schema alone says what it is
        return spec.arrow_schema.empty_table().replace_schema_metadata(None)
    list_cols = [c for c in spec.columns if spec.pandas_dtype(c) == "object"]
    if list_cols:
        df = df.assign(**{c: pd.arrays.ArrowExtensionArray(_list_array(df[c])) for c in list_cols})
    table = pa.Table.from_pandas(df, schema=spec.arrow_schema, preserve_index=False, safe=True)
    return table.replace_schema_metadata(None)


def parquet_bytes(table: pa.Table) -> bytes:
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, **WRITER_OPTIONS)
    return buf.getvalue().to_pybytes()


def _parts(tables: LibraryTables, year: int) -> Iterator[tuple[str, str, pa.Table]]:
    """(table name, relative path, rows) for every file of the release, in a fixed order. Each table is
    converted to Arrow once, sorted once with each row's file as the leading key, and its files are slices
    of it (parts.cut): the rows and order of sorting the whole table and taking each file's rows, so the
    same bytes as converting each file's rows on their own."""
    spec = SPECS["indicators"]
    ind = to_arrow(tables.indicators, spec)
    if ind.num_rows == 0:
        yield "indicators", f"indicators/{PART_OTHER}.parquet", ind
    parts, labels = indicator_files(ind.column("scope"), ind.column("function_class"))
    for label, rows in zip(labels, cut(ind, spec.order_by, parts, len(labels)), strict=True):
        yield "indicators", f"indicators/{label}.parquet", rows
    ids, parts = _written_order(ind, parts)
    del ind  # a table's copies are let go before the next table's are made

    use = to_arrow(tables.usages, SPECS["usages"])
    if use.num_rows == 0:
        yield "usages", f"usages/{year}/{usage_file(PART_OTHER)}", use
    files, keys = usage_files(use, ids, parts, labels)
    for key, rows in zip(keys, cut(use, SPECS["usages"].order_by, files, len(keys)), strict=True):
        year_dir, part = key.split("/")
        yield "usages", f"usages/{year_dir}/{usage_file(part)}", rows
    del use, ids, parts, files

    dep = to_arrow(tables.departments, SPECS["departments"])
    yield "departments", "departments.parquet", dep.take(sort_order(dep, SPECS["departments"].order_by))

    sa = to_arrow(tables.set_aside, SPECS["set_aside"])
    codes, values = encoded(sa.column("year"))
    years = sorted({int(y) for y in values[:-1]} | {year})  # values[-1]: the empty value's slot
    files = np.array([years.index(int(y)) for y in values[:-1]] + [-1], dtype=np.int64)[codes]
    for y, rows in zip(years, cut(sa, SPECS["set_aside"].order_by, files, len(years)), strict=True):
        yield "set_aside", f"set_aside/{y}.parquet", rows


def _written_order(ind: pa.Table, parts: np.ndarray) -> tuple[pa.ChunkedArray, np.ndarray]:
    """The indicators' ids and files for usage_files, whose usage takes the first equal id: when an id
    repeats (verify rejects that), the written rows last first, so a usage gets the file of its id's last
    written row, as the dict over the written rows gave it."""
    ids = ind.column("indicator_id")
    if pc.count_distinct(ids, mode="all").as_py() == len(ids):
        return ids, parts
    order = sort_order(ind, SPECS["indicators"].order_by).to_numpy()[::-1]
    return ids.take(pa.array(order)), parts[order]


def _check_accounting(accounting: dict[str, int]) -> dict[str, int]:
    missing = [k for k in ACCOUNTING_KEYS if k not in accounting]
    extra = [k for k in accounting if k not in ACCOUNTING_KEYS]
    if missing or extra:
        raise ValueError(
            f"行数统计应恰好包含 {', '.join(ACCOUNTING_KEYS)}；缺少 {missing or '无'}，多出 {extra or '无'}"
        )
    return {k: int(accounting[k]) for k in ACCOUNTING_KEYS}


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# manifest keys write_release sets itself (an `extra` key may not take one)
RESERVED_KEYS = frozenset(
    {"schema_version", "schema_minor", "year", "release", "rows", "tables", "files", "years", REPORTS_KEY}
)


def write_release(
    tables: LibraryTables,
    out_dir: Path,
    *,
    year: int,
    accounting: dict[str, int],
    extra: dict | None = None,
    release: str | None = None,
) -> dict:
    """Write one complete release into out_dir (new or empty); return the manifest written.

    `tables` are complete (every year's usages and set-aside rows): files of other years come out
    byte-identical to the previous release. `release` (a tag name) goes into the manifest only when
    given — leave it out if a rerun with the same inputs must make no commit. `extra` keys are merged
    into the manifest's top level (they must be JSON-serializable and deterministic).
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ValueError(f"发布目录 {out_dir} 不是空目录，拒绝写入")
    rows = _check_accounting(accounting)
    clash = sorted(RESERVED_KEYS & set(extra or {}))
    if clash:
        raise ValueError(f"manifest 附加字段与保留字段重名：{clash}")

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict] = {}
    counts = {name: 0 for name in SPECS}
    numbering = Numbering(WRITER_OPTIONS)  # a year's usages and set-aside texts numbered as the year before's
    for name, rel, table in _parts(tables, int(year)):
        data = numbering.file_bytes(name, rel, table)
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_file(path, data)
        files[rel] = {"sha256": sha256_bytes(data), "bytes": len(data), "rows": table.num_rows}
        counts[name] += table.num_rows

    years = sorted({int(y) for y in tables.usages["year"]} | {int(y) for y in tables.set_aside["year"]})
    manifest: dict[str, Any] = {
        **manifest_version(),
        "year": int(year),
        "rows": rows,
        "tables": counts,
        "files": files,
        "years": years,
    }
    if release:
        manifest["release"] = release
    manifest.update(extra or {})
    _write_file(out_dir / MANIFEST, manifest_text(manifest).encode("utf-8"))
    return manifest


def _write_file(path: Path, data: bytes) -> None:
    # A single seam for file writes (tests interrupt a publish here).
    path.write_bytes(data)


# --- reading ----------------------------------------------------------------------------------------


def table_files(library_dir: Path, name: str) -> list[Path]:
    """The files of one table, in a fixed order."""
    library_dir = Path(library_dir)
    if name == "departments":
        p = library_dir / "departments.parquet"
        return [p] if p.exists() else []
    pattern = {"indicators": "indicators/*.parquet", "usages": "usages/*/*.parquet"}.get(
        name, "set_aside/*.parquet"
    )
    return sorted(library_dir.glob(pattern))


def arrow_to_frame(table: pa.Table, spec: TableSpec) -> pd.DataFrame:
    """Arrow → pandas with the dtypes the pandera models expect (lists as Python lists).

    A caller that hands over its only reference to `table` (a temporary) has each Arrow column freed as
    soon as it is converted, so the whole table and the whole frame are never held at once."""
    out: dict[str, Any] = {}
    rest = table.select(spec.columns)
    del table
    for col in spec.columns:
        arr = rest.column(col)
        rest = rest.drop_columns([col])
        dtype = spec.pandas_dtype(col)
        if dtype == "object":
            out[col] = pd.Series(arr.to_pylist(), dtype=object)
        elif dtype == "Int64":
            out[col] = pd.Series(arr.to_pylist(), dtype="Int64")
        elif dtype == "int64":
            # an int column declared nullable (set_aside.source_row) needs pandas' nullable Int64
            nullable = spec.schema.columns[col].nullable
            out[col] = pd.Series(arr.to_pylist(), dtype="Int64" if nullable else "int64")
        elif dtype == "float64":
            out[col] = pd.Series(arr.to_numpy(zero_copy_only=False), dtype="float64")
        elif pa.types.is_string(arr.type):
            out[col] = _str_series(arr)
        else:
            out[col] = pd.Series(arr.to_pylist(), dtype="str")
    return pd.DataFrame(out, columns=spec.columns)


_STR = pd.Series([], dtype="str").dtype


def _str_series(arr: pa.ChunkedArray) -> pd.Series:
    """An Arrow string column as pandas' "str" Series without a Python object per value: the dtype,
    values and one-chunk storage of pd.Series(arr.to_pylist(), dtype="str"), ≈ 30× faster."""
    return pd.Series(arr.combine_chunks().to_pandas(types_mapper={arr.type: _STR}.get), dtype=_STR)


def read_table(library_dir: Path, name: str) -> pd.DataFrame:
    """One table of a release, all its files, rows in the canonical order, dtypes as the model."""
    spec = SPECS[name]
    parts = [pq.read_table(p, schema=spec.arrow_schema) for p in table_files(library_dir, name)]
    table = pa.concat_tables(parts) if parts else spec.arrow_schema.empty_table()
    return _sorted(arrow_to_frame(table, spec), spec)  # the whole table in its canonical order


def load_library(library_dir: Path) -> LibraryTables | None:
    """The published release in library_dir, or None when there is none yet (no manifest)."""
    library_dir = Path(library_dir)
    if not (library_dir / MANIFEST).is_file():
        return None
    return LibraryTables(**{name: read_table(library_dir, name) for name in SPECS})


def read_manifest(library_dir: Path) -> dict | None:
    path = Path(library_dir) / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


# --- reports -----------------------------------------------------------------------------------------


def file_entries(files: dict[str, Path]) -> dict[str, dict]:
    """rel → {"sha256", "bytes"} for manifest.json, in a fixed order."""
    return {rel: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for rel, p in sorted(files.items())}


def files_under(folder: Path) -> dict[str, Path]:
    """Every file under folder by its POSIX path relative to it ({} when the folder is missing)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def record_reports(library_dir: Path, reports: dict[str, Path]) -> dict:
    """Rewrite library_dir/manifest.json with the sha256 of every reports/ file (rel → path, relative
    to reports/); returns the new manifest."""
    manifest = read_manifest(library_dir)
    if manifest is None:
        raise ValueError(f"缺少 manifest.json：{library_dir}")
    manifest[REPORTS_KEY] = file_entries(reports)
    _write_file(Path(library_dir) / MANIFEST, manifest_text(manifest).encode("utf-8"))
    return manifest
