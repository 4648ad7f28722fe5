"""One verification of a release: what the blocking checks run before publishing, what publish_release
runs again before the swap, and what `pull` runs on a city's release. Files are held to the schema of the
version their manifest names (pipelines/store/shape.py: an older or newer minor of today's major is sound).

Every problem is named in Chinese and filed under the blocking check it belongs to (CHECKS), so the
Dagster checks, `rebuild.run` and `pull` report the same findings from one reading of the files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.common.hashing import sha256_file, sha256_text
from pipelines.store.evaluations import evaluation_file_problems, is_evaluation_file
from pipelines.store.parts import indicator_files
from pipelines.store.publish import (
    ACCOUNTING_KEYS,
    MANIFEST,
    REPORTS_KEY,
    SPECS,
    TableSpec,
    arrow_to_frame,
    files_under,
    indicator_parts,
    read_manifest,
)
from pipelines.store.shape import (
    Version,
    conform,
    current_version,
    release_version,
    schema_problems,
    version_problem,
)

FILES = "manifest_matches_files"
SCHEMA = "library_schema"
IDS = "unique_ids"
ACCOUNTING = "row_accounting"
PRESENT = "submissions_present"
# The blocking checks, in the order they are reported, with what each one guards (shown in Dagster).
CHECKS: dict[str, str] = {
    SCHEMA: "各文件的目录结构、列和类型固定，四张表均符合指标库的 pandera 模型",
    IDS: "indicator_id 唯一，每条使用记录和合并去向都指向存在的指标，且放在指标所在的分区文件",
    ACCOUNTING: "读取行数 = 入库 + 非核心 + 阶段性 + 退回，且与写出的表一致",
    FILES: "manifest.json 列出的文件与磁盘上的文件及其 sha256、行数完全一致",
    PRESENT: "本年度至少有一行可入库：空收件箱或全部文件无法读取时不发布，以免全部指标被自动退出",
}
NOTHING_TO_PUBLISH = "本年度没有任何可入库的行：请检查收件箱路径和各部门的文件"
MAX_PER_KIND = 10

_LAYOUT = (
    ("indicators", re.compile(r"^indicators/([0-9a-z]+)\.parquet$")),
    ("usages", re.compile(r"^usages/(\d{4})/([0-9a-z]+)(?:\.us)?\.parquet$")),  # parts.USAGE_SUFFIX, or older
    ("departments", re.compile(r"^departments\.parquet$")),
    ("set_aside", re.compile(r"^set_aside/(\d{4})\.parquet$")),
)


@dataclass(frozen=True)
class Problem:
    check: str  # a key of CHECKS
    message: str  # Chinese, names the file, row or id


@dataclass
class CheckResult:
    """One blocking check's verdict on a staged release."""

    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # the manifest's row accounting


def _clip(check: str, messages: list[str], label: str) -> list[Problem]:
    shown = messages[:MAX_PER_KIND]
    if len(messages) > MAX_PER_KIND:
        shown.append(f"{label}：另有 {len(messages) - MAX_PER_KIND} 项同类问题")
    return [Problem(check, m) for m in shown]


# --- the release --------------------------------------------------------------------------------------


def verify_release(library_dir: Path) -> list[str]:
    """Everything wrong with the release in library_dir, in Chinese; [] when it is sound."""
    return [p.message for p in verify_library(library_dir)]


def verify_library(library_dir: Path) -> list[Problem]:
    """Everything wrong with the release in library_dir, each under its check; [] when it is sound."""
    return _verify(Path(library_dir))[0]


def _verify(library_dir: Path) -> tuple[list[Problem], str]:
    """verify_library's problems, and the fingerprint of what it read ("" when it read no file)."""
    if not library_dir.is_dir():
        return [Problem(FILES, f"指标库目录不存在：{library_dir}")], ""
    try:
        manifest = read_manifest(library_dir)
    except (OSError, ValueError) as exc:
        return [Problem(FILES, f"manifest.json 无法读取或不是合法 JSON：{exc}")], ""
    if manifest is None:
        return [Problem(FILES, f"缺少 manifest.json：{library_dir}")], ""
    unreadable = version_problem(manifest)
    if unreadable:  # another major version: nothing in it can be read as today's tables
        return [Problem(SCHEMA, unreadable)], ""
    version = release_version(manifest)
    problems: list[Problem] = []
    listed: dict[str, dict] = manifest.get("files") or {}
    digests = _digests(library_dir)
    damaged = _file_problems(library_dir, listed, digests, problems)
    tables = _read_tables(library_dir, listed, list(digests), version, problems)
    problems += _table_problems(tables, manifest, skip_counts=bool(damaged))
    problems += _id_problems(tables)
    problems += _accounting_problems(tables, manifest)
    return problems, _fingerprint(manifest, digests)


def _digests(library_dir: Path) -> dict[str, str]:
    """rel → sha256 of every file of the release but manifest.json, in path order (each read once)."""
    present = sorted(
        rel
        for p in library_dir.rglob("*")
        if p.is_file() and (rel := p.relative_to(library_dir).as_posix()) != MANIFEST
    )
    return {rel: sha256_file(library_dir / rel) for rel in present}


def _fingerprint(manifest: dict, digests: dict[str, str]) -> str:
    """What a verification's verdict depends on: every file's bytes, the manifest but its list of
    reports/ (which verify_library does not read), and this code's schema version."""
    read = {k: v for k, v in manifest.items() if k != REPORTS_KEY}
    return sha256_text(
        json.dumps([str(current_version()), read, digests], ensure_ascii=False, sort_keys=True)
    )


def _file_problems(
    library_dir: Path, listed: dict[str, dict], digests: dict[str, str], out: list[Problem]
) -> set[str]:
    """The manifest lists exactly what is there, byte for byte; returns the damaged files."""
    present = list(digests)
    out += _clip(
        FILES, [f"文件不在 manifest.json 中：{rel}" for rel in present if rel not in listed], "多余文件"
    )
    out += _clip(
        FILES,
        [f"manifest.json 列出的文件不存在：{rel}" for rel in sorted(listed) if rel not in present],
        "缺失文件",
    )
    damaged: set[str] = set()
    for rel in sorted(set(listed) & set(present)):
        path, meta = library_dir / rel, listed[rel]
        if path.stat().st_size != meta.get("bytes") or digests[rel] != meta.get("sha256"):
            out.append(Problem(FILES, f"文件内容与 manifest.json 的 sha256 不符（被改动或损坏）：{rel}"))
            damaged.add(rel)
    return damaged


def _table_of(rel: str) -> tuple[str, re.Match] | None:
    for name, rx in _LAYOUT:
        m = rx.match(rel)
        if m:
            return name, m
    return None


def _read_tables(
    library_dir: Path, listed: dict[str, dict], present: list[str], version: Version, out: list[Problem]
) -> dict[str, list[pd.DataFrame]]:
    """Each file held to its table's schema at the release's version and read in today's shape, its rows
    checked against its partition; each table's files then made one DataFrame (one conversion a table,
    not one a file). The usages' rows carry _part and _rel (the partition file they came from) for the
    placement check."""
    files: dict[str, list[tuple[str, str, pa.Table]]] = {name: [] for name in SPECS}
    for rel in present:
        if is_evaluation_file(rel):  # library/evaluations/<Y>/: the self-evaluation's own tables
            out += [Problem(SCHEMA, m) for m in evaluation_file_problems(library_dir, rel, listed)]
            continue
        found = _table_of(rel)
        if found is None:
            out.append(Problem(SCHEMA, f"文件不属于指标库的目录结构：{rel}"))
            continue
        name, m = found
        table = _read_file(library_dir, rel, SPECS[name], version, listed, out)
        if table is None:
            continue
        out += _partition_problems(name, m, rel, table)
        files[name].append((rel, m.group(2) if name == "usages" else "", table))
        del table
    return {name: [_frame(name, parts)] if parts else [] for name, parts in files.items()}


def _frame(name: str, parts: list[tuple[str, str, pa.Table]]) -> pd.DataFrame:
    """One table's files (conformed to today's schema) as one DataFrame, in file order. Empties `parts`:
    each Arrow column is let go once converted (arrow_to_frame), not held beside the whole frame."""
    spec = SPECS[name]
    counts = [t.num_rows for _, _, t in parts]
    names, rels = [p for _, p, _ in parts], [r for r, _, _ in parts]
    df = arrow_to_frame(_taken(parts), spec)
    if name == "usages":
        df["_part"] = np.repeat(np.array(names, dtype=object), counts)
        df["_rel"] = np.repeat(np.array(rels, dtype=object), counts)
    return df


def _taken(parts: list[tuple[str, str, pa.Table]]) -> pa.Table:
    """The parts' tables as one, `parts` emptied (the returned table is then their only holder)."""
    table = pa.concat_tables([t for _, _, t in parts])
    parts.clear()
    return table


def _read_file(
    library_dir: Path,
    rel: str,
    spec: TableSpec,
    version: Version,
    listed: dict[str, dict],
    out: list[Problem],
) -> pa.Table | None:
    """The file in today's shape (conform), or None when it cannot be read as its table."""
    try:
        table = pq.read_table(library_dir / rel)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one problem, not a crash
        out.append(Problem(SCHEMA, f"无法读取 Parquet 文件 {rel}：{exc}"))
        return None
    wrong = schema_problems(table.schema, spec.name, version, rel)
    if wrong:
        out += [Problem(SCHEMA, w) for w in wrong]
        return None
    if table.schema.metadata and b"pandas" in table.schema.metadata:
        out.append(Problem(SCHEMA, f"文件 {rel} 含有 pandas 元数据（应去除以保证逐字节可复现）"))
    if rel in listed and listed[rel].get("rows") != table.num_rows:
        out.append(
            Problem(
                FILES,
                f"文件 {rel} 的行数 {table.num_rows} 与 manifest.json 记录的 {listed[rel].get('rows')} 不符",
            )
        )
    return conform(table, spec.name, version)


def _partition_problems(name: str, m: re.Match, rel: str, table: pa.Table) -> list[Problem]:
    """Rows in a file their partition does not hold (read from the file's conformed Arrow table)."""
    if name == "indicators":
        codes, labels = indicator_files(table.column("scope"), table.column("function_class"))
        elsewhere = np.array([label != m.group(1) for label in labels], dtype=bool)[codes]
        wrong = table.column("indicator_id").filter(pa.array(elsewhere)).to_pylist() if labels else []
        return _clip(SCHEMA, [f"指标 {i} 不应存放在 {rel}" for i in wrong], f"{rel} 分区错误")
    if name in ("usages", "set_aside"):
        n_bad = pc.sum(pc.not_equal(table.column("year"), int(m.group(1)))).as_py() or 0
        if n_bad:
            return [Problem(SCHEMA, f"文件 {rel} 中有 {n_bad} 行的年度不是 {m.group(1)}")]
    return []


def _table_problems(
    frames: dict[str, list[pd.DataFrame]], manifest: dict, *, skip_counts: bool
) -> list[Problem]:
    """Each whole table against its pandera model and the manifest's row count."""
    problems: list[Problem] = []
    for name, spec in SPECS.items():
        parts = frames[name]
        if len(parts) == 1:  # _read_tables makes one frame a table: no concat (a copy) of it
            df = parts[0]
        elif parts:
            df = pd.concat(parts, ignore_index=True)
        else:
            df = arrow_to_frame(spec.arrow_schema.empty_table(), spec)
        problems += _pandera_problems(df[spec.columns], spec)
        frames[name] = [df]
        recorded = (manifest.get("tables") or {}).get(name)
        if recorded != len(df) and not skip_counts:
            problems.append(
                Problem(FILES, f"{spec.title_zh}表共 {len(df)} 行，manifest.json 记录为 {recorded!r}")
            )
    return problems


def _pandera_problems(df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    try:
        spec.model.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        key = spec.sort_keys[0]
        lines = []
        for rec in cases.head(MAX_PER_KIND).to_dict("records"):
            idx = rec.get("index")
            # name the row by its key (indicator_id, dept_code …): row numbers of a concat mean nothing
            where = f"{key}={df[key].iloc[int(idx)]}" if pd.notna(idx) and int(idx) < len(df) else "整列"
            lines.append(
                f"{spec.title_zh}表（{spec.name}）列 {rec.get('column')} {where}："
                f"不符合规则 {rec.get('check')}（值 {rec.get('failure_case')!r}）"
            )
        if len(cases) > MAX_PER_KIND:
            lines.append(f"{spec.title_zh}表：共 {len(cases)} 处不符合 schemas/library.py")
        return [Problem(SCHEMA, line) for line in lines]
    except pandera.errors.SchemaError as exc:  # lazy mode raises SchemaErrors; kept for safety
        return [Problem(SCHEMA, f"{spec.title_zh}表（{spec.name}）不符合 schemas/library.py：{exc}")]
    return []


def _id_problems(frames: dict[str, list[pd.DataFrame]]) -> list[Problem]:
    ind, use = frames["indicators"][0], frames["usages"][0]
    dup = sorted(set(ind["indicator_id"][ind["indicator_id"].duplicated()]))
    problems = _clip(IDS, [f"指标编号重复：{i}" for i in dup], "指标编号重复")
    # Python lists, not the Series: iterating Arrow-backed strings one by one is several times slower
    ids, used = ind["indicator_id"].tolist(), use["indicator_id"].tolist()
    known = set(ids)
    orphans = sorted(set(used) - known)
    problems += _clip(IDS, [f"使用记录引用了不存在的指标编号：{i}" for i in orphans], "不存在的指标编号")
    targets = sorted({t for t in ind["merged_into"].tolist() if t} - known)
    problems += _clip(IDS, [f"合并去向指标不存在：{t}" for t in targets], "不存在的合并去向")
    if "_part" in use.columns:
        misplaced = sorted({f"{rel}：{i}" for i, rel in _misplaced(ind, use)})
        problems += _clip(IDS, [f"使用记录放错了分区文件 {m}" for m in misplaced], "使用记录分区错误")
    return problems


def _misplaced(ind: pd.DataFrame, use: pd.DataFrame) -> list[tuple[str, str]]:
    """(id, file) of the usages in another partition than their indicator's (the last row of an id that
    repeats); a usage of an id the table lacks is reported as such, not here."""
    ids = pa.array(ind["indicator_id"], type=pa.string())
    if len(ids) and pc.count_distinct(ids, mode="all").as_py() < len(ids):
        ind = ind.iloc[::-1]  # index_in finds the first: the last row of a repeated id first
        ids = pa.array(ind["indicator_id"], type=pa.string())
    parts = indicator_parts(ind).to_numpy(dtype=object)
    used = pa.array(use["indicator_id"], type=pa.string())
    at = np.asarray(pc.index_in(used, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(at >= 0)
    wrong = rows[parts[at[rows]] != use["_part"].to_numpy(dtype=object)[rows]]
    return list(
        zip(
            use["indicator_id"].to_numpy(dtype=object)[wrong],
            use["_rel"].to_numpy(dtype=object)[wrong],
            strict=True,
        )
    )


def _accounting_problems(frames: dict[str, list[pd.DataFrame]], manifest: dict) -> list[Problem]:
    use, sa = frames["usages"][0], frames["set_aside"][0]
    rows = manifest.get("rows") or {}
    if any(not isinstance(rows.get(k), int) for k in ACCOUNTING_KEYS):
        return [Problem(ACCOUNTING, f"manifest.json 的行数统计不完整，应包含 {', '.join(ACCOUNTING_KEYS)}")]
    problems: list[str] = []
    parts_sum = sum(rows[k] for k in ACCOUNTING_KEYS[1:])
    if rows["read"] != parts_sum:
        problems.append(
            f"行数对不上：读取 {rows['read']} 行，入库 {rows['library']} + 非核心 {rows['noncore']} "
            f"+ 阶段性排除 {rows['excluded']} + 退回 {rows['rejected']} = {parts_sum}"
        )
    year = manifest.get("year")
    in_year = int((use["year"] == year).sum())
    if rows["library"] != in_year:
        problems.append(
            f"manifest.json 记录入库 {rows['library']} 行，但 {year} 年度的使用记录有 {in_year} 行"
        )
    for outcome, label in (("noncore", "非核心"), ("excluded", "阶段性排除"), ("rejected", "退回")):
        n = int(((sa["year"] == year) & (sa["outcome"] == outcome)).sum())
        if rows[outcome] != n:
            problems.append(
                f"manifest.json 记录{label} {rows[outcome]} 行，但 {year} 年度未入库清单中有 {n} 行"
            )
    return [Problem(ACCOUNTING, p) for p in problems]


# --- the blocking checks ------------------------------------------------------------------------------


def blocking_checks(library_dir: Path) -> list[CheckResult]:
    """Every blocking check on a staged release, read from its files (what would be published), in the
    order of CHECKS. Publishing goes ahead only when all passed. The verdict is kept for
    verify_again."""
    problems, fingerprint = _verify(Path(library_dir))
    _remember(Path(library_dir), fingerprint, problems)
    try:
        manifest = read_manifest(library_dir) or {}
    except (OSError, ValueError):
        manifest = {}
    rows = {k: int(v) for k, v in (manifest.get("rows") or {}).items() if isinstance(v, int)}
    results = []
    for name in CHECKS:
        mine = [p.message for p in problems if p.check == name]
        if name == PRESENT and rows.get("library", 0) <= 0:
            mine.append(NOTHING_TO_PUBLISH)
        results.append(CheckResult(name, passed=not mine, problems=mine, rows=rows))
    return results


_CHECKED: dict[Path, tuple[str, list[Problem]]] = {}  # folder → fingerprint and problems, as last checked
KEPT_VERDICTS = 8


def _remember(library_dir: Path, fingerprint: str, problems: list[Problem]) -> None:
    if not fingerprint:
        return
    _CHECKED.pop(library_dir.resolve(), None)
    _CHECKED[library_dir.resolve()] = (fingerprint, list(problems))
    while len(_CHECKED) > KEPT_VERDICTS:
        del _CHECKED[next(iter(_CHECKED))]


def verify_again(library_dir: Path) -> list[str]:
    """verify_release once more, right before publishing: when every file and the manifest (its reports/
    list apart, which verification does not read) are byte for byte what blocking_checks read in this
    process, its verdict, without reading the tables again; otherwise a whole verification."""
    library_dir = Path(library_dir)
    seen = _CHECKED.get(library_dir.resolve())
    if seen is not None:
        try:
            manifest = read_manifest(library_dir)
        except (OSError, ValueError):
            manifest = None
        if manifest is not None and _fingerprint(manifest, _digests(library_dir)) == seen[0]:
            return [p.message for p in seen[1]]
    return verify_release(library_dir)


# --- reports/ -----------------------------------------------------------------------------------------


def verify_reports(reports_dir: Path, manifest: dict) -> list[str]:
    """reports/ against manifest.json's reports list, both ways and byte for byte; [] when sound.
    A manifest without the list (an older release) gives one problem saying reports are not covered."""
    listed = manifest.get(REPORTS_KEY)
    if not isinstance(listed, dict):
        return ["manifest.json 没有 reports/ 的逐个文件校验值（旧版本的发布），reports/ 无法核对"]
    present = files_under(reports_dir)
    problems = [f"文件不在 manifest.json 中：reports/{rel}" for rel in present if rel not in listed]
    problems += [
        f"manifest.json 列出的文件不存在：reports/{rel}" for rel in sorted(listed) if rel not in present
    ]
    for rel in sorted(set(listed) & set(present)):
        meta = listed[rel] if isinstance(listed[rel], dict) else {}
        path = present[rel]
        if path.stat().st_size != meta.get("bytes") or sha256_file(path) != meta.get("sha256"):
            problems.append(f"文件内容与 manifest.json 的 sha256 不符（被改动或损坏）：reports/{rel}")
    return [p.message for p in _clip(FILES, problems, "reports/ 校验")]
