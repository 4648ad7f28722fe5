"""Any stored release's tables in today's shape: the version policy of docs/SCHEMA_VERSIONS.md in code.

A release names its version in library/manifest.json: "schema_version" (major) and "schema_minor"
(minor; absent = 0). Read by this code (schemas.library.SCHEMA_VERSION / SCHEMA_MINOR):
- same major, older minor: a column added since (declared with schemas.library.added_in) reads as its
  declared default, the empty value of its type;
- same major, newer minor: columns this code does not know are left out, the rest read as usual;
- another major, or no readable version: refused with ReleaseShapeError (exit 2, Chinese message).
Every reader of a stored release goes through read_parquet, one Parquet file at a time: diff, history
and search (blobs from git objects), export and pull (files on disk, read_release_table).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import schemas.library as library_schema
from pipelines.common.errors import UsageError
from pipelines.store.publish import SPECS, arrow_to_frame, read_manifest, table_files


class ReleaseShapeError(UsageError):
    """A release this code cannot read as today's tables (another major version, a column its own
    version requires is missing): exit 2 with the reason in Chinese."""


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


def current_version() -> Version:
    """The version this code writes and reads in full (looked up at call time: tests raise it)."""
    return Version(library_schema.SCHEMA_VERSION, library_schema.SCHEMA_MINOR)


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def release_version(manifest: Mapping[str, Any] | None, where: str = "") -> Version:
    """The version of the release whose manifest this is; ReleaseShapeError when this code cannot read it.
    No manifest (a commit before the first release) reads as today's version: it has no tables."""
    if manifest is None:
        return current_version()
    major, minor = _number(manifest.get("schema_version")), _number(manifest.get("schema_minor", 0))
    place = f"（{where}）" if where else ""
    if major is None or minor is None:
        raise ReleaseShapeError(
            f"指标库{place}的 manifest.json 中数据格式版本无法识别"
            f"（schema_version={manifest.get('schema_version')!r}，schema_minor={manifest.get('schema_minor')!r}），"
            "无法读取"
        )
    found, mine = Version(major, minor), current_version()
    if major > mine.major:
        raise ReleaseShapeError(
            f"指标库{place}的数据格式版本为 {found}，比本程序支持的 {mine} 新（主版本不同，旧程序无法正确读取）。"
            "请升级 indicators 程序后再读取"
        )
    if major < mine.major:
        raise ReleaseShapeError(
            f"指标库{place}的数据格式版本为 {found}，是较早的主版本，本程序（{mine}）不能读取。"
            f"请用支持 {major}.x 版本的 indicators 程序读取，或请发布方按新格式重新发布"
        )
    return found


def version_problem(manifest: Mapping[str, Any]) -> str | None:
    """Why a release cannot be read by this code (for verification's problem list); None when it can."""
    try:
        release_version(manifest)
    except ReleaseShapeError as exc:
        return str(exc)
    return None


def added_in(name: str, column: str) -> int:
    """The minor version that added a column of table `name` (0: there from the start)."""
    metadata = SPECS[name].schema.columns[column].metadata or {}
    return int(metadata.get(library_schema.SINCE, 0))


def columns_at(name: str, version: Version) -> list[str]:
    """The columns a release of `version` has in table `name`, as far as this code knows them."""
    return [c for c in SPECS[name].columns if added_in(name, c) <= version.minor]


def schema_problems(schema: pa.Schema, name: str, version: Version, rel: str) -> list[str]:
    """What is wrong with the columns of file `rel` for a release of `version`; [] when sound.
    A release of today's version must have today's exact schema; an older minor lacks the columns added
    since; a newer minor may carry columns this code does not know (they are ignored when read)."""
    today = SPECS[name].arrow_schema
    if version == current_version():
        if schema.equals(today, check_metadata=False):
            return []
        return [f"文件 {rel} 的列或类型与 {name} 表的固定结构不一致"]
    problems = []
    for column in columns_at(name, version):
        want = today.field(column).type
        if column not in schema.names:
            problems.append(f"文件 {rel} 缺少 {version} 版本 {name} 表应有的列 {column}")
        elif not schema.field(column).type.equals(want):
            problems.append(f"文件 {rel} 的列 {column} 类型为 {schema.field(column).type}，应为 {want}")
    if version < current_version():
        extra = [c for c in schema.names if c not in today.names]
        problems += [f"文件 {rel} 有 {version} 版本 {name} 表没有的列 {c}" for c in extra]
    return problems


def _default_column(name: str, field: pa.Field, rows: int) -> pa.Array:
    default = SPECS[name].schema.columns[field.name].default
    if default is None:
        return pa.nulls(rows, field.type)
    return pa.array([default] * rows, type=field.type)


def _cast(column: pa.ChunkedArray, field: pa.Field, name: str, version: Version) -> pa.ChunkedArray:
    try:
        return column.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise ReleaseShapeError(
            f"指标库 {name} 表的列 {field.name} 类型为 {column.type}，{version} 版本应为 {field.type}：发布版本已损坏"
        ) from None


def conform(table: pa.Table, name: str, version: Version, columns: Sequence[str] | None = None) -> pa.Table:
    """One file's table in today's shape (only `columns` when given): today's column order and types,
    a column added after `version` filled with its default, columns this code does not know left out."""
    today = SPECS[name].arrow_schema
    target = pa.schema([today.field(c) for c in columns]) if columns else today
    arrays = []
    for field in target:
        if field.name in table.column_names:
            arrays.append(_cast(table[field.name], field, name, version))
        elif added_in(name, field.name) > version.minor:
            arrays.append(_default_column(name, field, table.num_rows))
        else:
            raise ReleaseShapeError(
                f"指标库 {name} 表的文件缺少列 {field.name}，而它的数据格式版本 {version} 应有此列：发布版本已损坏"
            )
    return pa.Table.from_arrays(arrays, schema=target)


def read_parquet(
    source: Path | bytes, name: str, version: Version, columns: Sequence[str] | None = None
) -> pa.Table:
    """One Parquet file of table `name` (a path, or a blob's bytes) in today's shape."""
    # ParquetFile, not pq.read_table: no dataset machinery for an in-memory file
    parquet = pq.ParquetFile(pa.BufferReader(source) if isinstance(source, bytes) else source)
    present = set(parquet.schema_arrow.names)
    wanted = [c for c in (columns or SPECS[name].columns) if c in present]
    return conform(parquet.read(columns=wanted), name, version, columns)


def empty_table(name: str, columns: Sequence[str] | None = None) -> pa.Table:
    today = SPECS[name].arrow_schema
    return (pa.schema([today.field(c) for c in columns]) if columns else today).empty_table()


def concat(tables: list[pa.Table], name: str, columns: Sequence[str] | None = None) -> pa.Table:
    return pa.concat_tables(tables) if tables else empty_table(name, columns)


def to_frame(table: pa.Table, name: str) -> pd.DataFrame:
    """A whole table (today's shape) as the pandera model's DataFrame, rows in the order publish writes
    them: the table's keys, then every other scalar column as tie-breaker, empty values last."""
    spec = SPECS[name]
    if table.num_rows:
        scalar = [f.name for f in table.schema if not pa.types.is_list(f.type)]
        keys = list(spec.sort_keys) + [c for c in scalar if c not in spec.sort_keys]
        order = pc.sort_indices(table, [(k, "ascending", "at_end") for k in keys])
        table = table.take(order)
    return arrow_to_frame(table, spec)


def read_release_table(library_dir: Path, name: str) -> pd.DataFrame:
    """Table `name` of the release in library_dir (a bureau's library/, a county's pulled copy), whatever
    1.x version wrote it, in today's shape; ReleaseShapeError when this code cannot read that version."""
    version = library_version(library_dir)
    parts = [read_parquet(path, name, version) for path in table_files(library_dir, name)]
    return to_frame(concat(parts, name), name)


def library_version(library_dir: Path) -> Version:
    """The version of the release in library_dir (its manifest.json); ReleaseShapeError when this code
    cannot read it or the manifest is not JSON."""
    try:
        manifest = read_manifest(library_dir)
    except (OSError, ValueError) as exc:
        raise ReleaseShapeError(f"{Path(library_dir) / 'manifest.json'} 无法读取：{exc}") from None
    return release_version(manifest, where=str(library_dir))
