"""The self-evaluation results in the library (SPEC §7): library/evaluations/<year>/{usages,projects,
departments}.parquet, written with the library's own Parquet settings (same tables → same bytes) and listed
in manifest.json like every other file (files: sha256, bytes, rows), plus the manifest key `evaluations`:
year → the row count of each table.

This module holds the files' layout, bytes, reading and verification; the run that scores and commits them is
pipelines/evaluate/release.py. The library's own verification (verify.py) and a rebuild's staging
(release.py) reach the evaluation files through evaluation_file_problems and carry_evaluations.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.errors
import pandera.pandas as pa_schema
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.common.hashing import sha256_bytes
from pipelines.store.publish import MANIFEST, arrow_type, manifest_text, parquet_bytes, read_manifest
from schemas.evaluation import DepartmentEvaluationTable, ProjectEvaluationTable, UsageEvaluationTable

EVALUATIONS_DIR = "evaluations"
EVALUATIONS_KEY = "evaluations"  # manifest.json: {"<year>": {"usages": n, "projects": n, "departments": n}}
MODELS: dict[str, type[pa_schema.DataFrameModel]] = {
    "usages": UsageEvaluationTable,
    "projects": ProjectEvaluationTable,
    "departments": DepartmentEvaluationTable,
}
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "usages": ("dept_code", "project", "indicator_id"),
    "projects": ("dept_code", "project"),
    "departments": ("dept_code",),
}
TITLES_ZH = {"usages": "指标自评结果", "projects": "项目自评结果", "departments": "部门自评结果"}
# reports/<Y>/ files written by the evaluation (pipelines/report/self_evaluation.py), not by a rebuild
REPORT_FILES = ("self_evaluation.html", "self_evaluation.xlsx")
_REL = re.compile(r"^evaluations/(\d{4})/(usages|projects|departments)\.parquet$")


def arrow_schema(name: str) -> pa.Schema:
    """The fixed Arrow schema of one evaluation table, from its pandera model."""
    columns = MODELS[name].to_schema().columns
    return pa.schema([pa.field(c, arrow_type(str(s.dtype), c), nullable=True) for c, s in columns.items()])


def columns(name: str) -> list[str]:
    return list(MODELS[name].to_schema().columns)


def is_evaluation_file(rel: str) -> bool:
    """A path relative to library/ that belongs to the evaluations."""
    return rel.startswith(EVALUATIONS_DIR + "/")


def rel_path(year: int, name: str) -> str:
    return f"{EVALUATIONS_DIR}/{int(year)}/{name}.parquet"


def evaluation_bytes(name: str, frame: pd.DataFrame) -> bytes:
    """One table's Parquet bytes: its model's columns, rows sorted on fixed keys, no pandas metadata."""
    cols = columns(name)
    out = frame.loc[:, cols]
    if out.empty:
        return parquet_bytes(arrow_schema(name).empty_table())
    others = [c for c in cols if c not in SORT_KEYS[name]]
    out = out.sort_values([*SORT_KEYS[name], *others], kind="mergesort", na_position="last")
    table = pa.Table.from_pandas(out.reset_index(drop=True), schema=arrow_schema(name), preserve_index=False)
    return parquet_bytes(table.replace_schema_metadata(None))


def evaluation_files(year: int, frames: dict[str, pd.DataFrame]) -> dict[str, tuple[bytes, int]]:
    """rel → (bytes, rows) of the year's three files, in a fixed order."""
    return {
        rel_path(year, name): (evaluation_bytes(name, frames[name]), len(frames[name])) for name in MODELS
    }


def frame_of(name: str, table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas with the dtypes the pandera model expects."""
    out: dict[str, Any] = {}
    for col, spec in MODELS[name].to_schema().columns.items():
        values = table.column(col).to_pylist()
        dtype = str(spec.dtype)
        if dtype == "int64":
            out[col] = pd.Series(values, dtype="int64")
        elif dtype == "float64":
            out[col] = pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
        elif dtype == "bool":
            out[col] = pd.Series(values, dtype=bool)
        else:
            out[col] = pd.Series(values, dtype="str")
    return pd.DataFrame(out, columns=columns(name))


def read_evaluation(library_dir: Path, year: int, name: str) -> pd.DataFrame | None:
    """One published evaluation table of `year`, or None when the year has not been evaluated."""
    path = Path(library_dir) / rel_path(year, name)
    if not path.is_file():
        return None
    return frame_of(name, pq.read_table(path, schema=arrow_schema(name)))


def evaluated_years(library_dir: Path) -> list[int]:
    folder = Path(library_dir) / EVALUATIONS_DIR
    return (
        sorted(int(p.name) for p in folder.glob("[0-9][0-9][0-9][0-9]") if p.is_dir())
        if folder.is_dir()
        else []
    )


# --- verification -------------------------------------------------------------------------------------


def evaluation_file_problems(library_dir: Path, rel: str, listed: dict[str, dict]) -> list[str]:
    """Everything wrong with one file under library/evaluations/ (layout, schema, model, year, rows against
    the manifest), in Chinese; [] when sound. Its sha256 is checked with every other file (verify.py)."""
    m = _REL.match(rel)
    if m is None:
        return [f"文件不属于指标库的目录结构：{rel}"]
    year, name = int(m.group(1)), m.group(2)
    try:
        table = pq.read_table(Path(library_dir) / rel)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one problem, not a crash
        return [f"无法读取 Parquet 文件 {rel}：{exc}"]
    if not table.schema.remove_metadata().equals(arrow_schema(name)):
        return [f"文件 {rel} 的列或类型与 schemas/evaluation.py 不一致"]
    problems = []
    if table.schema.metadata and b"pandas" in table.schema.metadata:
        problems.append(f"文件 {rel} 含有 pandas 元数据（应去除以保证逐字节可复现）")
    if rel in listed and listed[rel].get("rows") != table.num_rows:
        problems.append(
            f"文件 {rel} 的行数 {table.num_rows} 与 manifest.json 记录的 {listed[rel].get('rows')} 不符"
        )
    frame = frame_of(name, table)
    if int((frame["year"] != year).sum()):
        problems.append(f"文件 {rel} 中有 {int((frame['year'] != year).sum())} 行的年度不是 {year}")
    try:
        MODELS[name].validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases.head(5).to_dict("records")
        problems += [
            f"{TITLES_ZH[name]}（{rel}）列 {c.get('column')}：不符合规则 {c.get('check')}（值 {c.get('failure_case')!r}）"
            for c in cases
        ]
    return problems


def evaluation_problems(library_dir: Path) -> list[str]:
    """Every evaluation file of the release in library_dir checked, and the manifest's `evaluations` key
    against the files; [] when sound (also when the release has no evaluations)."""
    library_dir = Path(library_dir)
    manifest = read_manifest(library_dir) or {}
    listed: dict[str, dict] = manifest.get("files") or {}
    present = sorted(
        p.relative_to(library_dir).as_posix()
        for p in (library_dir / EVALUATIONS_DIR).rglob("*")
        if p.is_file()
    )
    problems = [p for rel in present for p in evaluation_file_problems(library_dir, rel, listed)]
    recorded = manifest.get(EVALUATIONS_KEY) or {}
    years = {str(y) for y in evaluated_years(library_dir)}
    if set(recorded) != years:
        problems.append(
            f"manifest.json 记录的自评年度 {sorted(recorded)} 与 evaluations/ 中的 {sorted(years)} 不符"
        )
    for year in sorted(set(recorded) & years):
        for name in MODELS:
            rows = (listed.get(rel_path(int(year), name)) or {}).get("rows")
            if (recorded[year] or {}).get(name) != rows:
                problems.append(
                    f"manifest.json 记录 {year} 年度{TITLES_ZH[name]} {recorded[year].get(name)!r} 行，文件为 {rows!r} 行"
                )
    return problems


# --- writing into a release ---------------------------------------------------------------------------


def add_to_manifest(manifest: dict, year: int, files: dict[str, tuple[bytes, int]]) -> dict:
    """The manifest with the year's evaluation files and counts set (others kept); a new dict."""
    out = dict(manifest)
    listed = {
        rel: meta
        for rel, meta in (out.get("files") or {}).items()
        if not rel.startswith(f"{EVALUATIONS_DIR}/{year}/")
    }
    for rel, (data, rows) in files.items():
        listed[rel] = {"sha256": sha256_bytes(data), "bytes": len(data), "rows": rows}
    out["files"] = dict(sorted(listed.items()))
    counts = dict(out.get(EVALUATIONS_KEY) or {})
    counts[str(int(year))] = {name: files[rel_path(year, name)][1] for name in MODELS}
    out[EVALUATIONS_KEY] = dict(sorted(counts.items()))
    return out


def carry_evaluations(library_dir: Path, staging_dir: Path) -> dict | None:
    """A rebuild's staged release keeps the published evaluations: copy library/evaluations/ into the
    staging folder and list its files in the staged manifest.json (rewritten); returns the new manifest, or
    None when there is nothing to carry. The files are copied byte for byte, so they keep their sha256."""
    library_dir, staging_dir = Path(library_dir), Path(staging_dir)
    published = read_manifest(library_dir) or {}
    source = library_dir / EVALUATIONS_DIR
    if not source.is_dir() or not published.get(EVALUATIONS_KEY):
        return None
    staged = read_manifest(staging_dir)
    if staged is None:
        raise ValueError(f"缺少 manifest.json：{staging_dir}")
    shutil.copytree(source, staging_dir / EVALUATIONS_DIR, dirs_exist_ok=False)
    listed = dict(staged.get("files") or {})
    listed |= {rel: meta for rel, meta in (published.get("files") or {}).items() if is_evaluation_file(rel)}
    staged["files"] = dict(sorted(listed.items()))
    staged[EVALUATIONS_KEY] = published[EVALUATIONS_KEY]
    (staging_dir / MANIFEST).write_bytes(manifest_text(staged).encode("utf-8"))
    return staged


def carry_evaluation_reports(year_reports: Path, staged_reports: Path) -> list[str]:
    """A rebuild re-publishing a year keeps that year's self-evaluation report: copy reports/<Y>/'s
    REPORT_FILES into the staged report folder (the rebuild's own report files are other names); the names
    copied."""
    copied = []
    for name in REPORT_FILES:
        source = Path(year_reports) / name
        if source.is_file():
            Path(staged_reports).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, Path(staged_reports) / name)
            copied.append(name)
    return copied


ACTUAL_COLUMNS = ("indicator_id", "year", "dept_code", "project", "actual_value")


def published_actuals(library_dir: Path) -> pd.DataFrame:
    """The actual value of every evaluated usage of every evaluated year, in the shape the reference values
    take (pipelines/store/reference_values.py ACTUAL_COLUMNS): one row per usage with a numeric 完成值 read
    without a finding (a row whose cell was wrong scored 0 and says nothing about what was achieved)."""
    frames = []
    for year in evaluated_years(library_dir):
        usages = read_evaluation(library_dir, year, "usages")
        if usages is not None and len(usages):
            frames.append(usages[usages["actual_value"].notna() & (usages["findings"] == "")])
    if not frames:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="float64" if c == "actual_value" else "int64" if c == "year" else "str")
                for c in ACTUAL_COLUMNS
            }
        )
    out = pd.concat(frames, ignore_index=True).loc[:, list(ACTUAL_COLUMNS)]
    return out.sort_values(list(ACTUAL_COLUMNS[:4]), kind="stable").reset_index(drop=True)


LAST_ACTUAL_COLUMNS = ("indicator_id", "dept_code", "project", "year", "actual_value", "unit")


def last_actuals(library_dir: Path, before_year: int) -> pd.DataFrame:
    """The latest evaluated year before `before_year`: each usage's numeric 完成值 with its unit (what
    validation holds a new target against, W215 从严从高); empty when no earlier year was evaluated."""
    years = [y for y in evaluated_years(library_dir) if y < before_year]
    usages = read_evaluation(library_dir, years[-1], "usages") if years else None
    if usages is None or usages.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="float64" if c == "actual_value" else "str") for c in LAST_ACTUAL_COLUMNS}
        )
    kept = usages[usages["actual_value"].notna() & (usages["findings"] == "")]
    return kept.loc[:, list(LAST_ACTUAL_COLUMNS)].reset_index(drop=True)
