"""A realistic, deterministic corpus of department submission workbooks for benchmarks.

    python -m benchmarks.corpus --rows 100000 --out /tmp/corpus --year 2026 [--seed 1] [--departments N]
    python -m benchmarks.corpus --rows 100000 --out /tmp/series --year 2026 --years 10 [--churn 0.05]

Each department gets one workbook (部门信息, 部门整体核心指标, 项目支出指标; the finance bureau also 共性指标)
of ~100 to several thousand rows, drawn by corpus_plan.py (names, duplicates across departments, wording
variants, ~1% bad rows) and written here through the shared synthetic writer (pipelines/demo/workbook.py)
with the mess officials write: title rows, merged 项目名称/一级/二级 cells or "same as above" blanks,
shuffled columns, header aliases, Traditional Chinese, full-width digits, targets with sign and unit in one
cell, numbers stored as text, trailing 填表人 rows.

Year-to-year churn (--years, churn_department): year N+1 is year N with, per department, ~churn/3 of the
project rows retired (whole projects end), ~churn/3 renamed (another object or measure: a different
indicator) and ~churn/3 added (new projects, half of them on topics never seen before); 10% of targets
move and 2% of explanations are reworded. The corpus has no 库内编号 (ids exist only after a release), so
carried rows are 沿用 without an id and matched by key; a renamed indicator therefore arrives as a new
indicator and the old one is auto-retired when no department uses it any more — what a library sees
when departments reword instead of filing 修改 with an id.

The same parameters give byte-identical files. manifest.json records the parameters and per-file counts
(rows, deliberately bad rows); truth.csv.gz maps every indicator row (file, sheet, Excel row) to the
indicator it really is (the generator's clean name, unit, 二级指标, scope and 类), the ground truth for
dedupe precision and recall.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import io
import json
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.corpus_plan import (
    DepartmentPlan,
    Vocabulary,
    churn_department,
    department_sizes,
    plan_department,
    plan_departments,
)
from pipelines.demo.workbook import (
    OFFICIAL_RUNS,
    Cell,
    Grid,
    IndicatorSheet,
    InfoSheet,
    Value,
    indicator_grid,
    info_grid,
    info_label,
    sheet_name,
    to_traditional,
    workbook_bytes,
)
from schemas.text import compact
from schemas.vocab import reference

MANIFEST = "manifest.json"
TRUTH = "truth.csv.gz"
CORPUS_VERSION = 3  # bump when the generator's output changes, so stale corpora are rebuilt
FIXED_TIME = dt.datetime(2025, 11, 30, 9, 0, 0)  # document properties: no wall clock in the files

# Header aliases some departments use instead of the template's headers.
HEADER_ALIASES = {
    "name": "三级指标名称",
    "target": "指标值",
    "unit": "度量单位",
    "definition": "指标说明",
    "history": "历史数据",
}

SHEET_KINDS = ("core", "project", "common")


@dataclass
class DepartmentFile:
    file: str
    dept_code: str
    dept_name: str
    core_rows: int
    project_rows: int
    common_rows: int
    bad_rows: int
    style: list[str] = field(default_factory=list)


@dataclass
class Corpus:
    directory: Path
    rows: int
    year: int
    seed: int
    files: list[DepartmentFile]

    @property
    def paths(self) -> list[Path]:
        return [self.directory / f.file for f in self.files]

    @property
    def total_rows(self) -> int:
        return sum(f.core_rows + f.project_rows + f.common_rows for f in self.files)


# --------------------------------------------------------------------------------------------------
# One year
# --------------------------------------------------------------------------------------------------


def generate_corpus(
    out_dir: Path, rows: int, year: int, seed: int = 1, departments: int | None = None
) -> Corpus:
    """Write department workbooks holding `rows` indicator rows in all (core + project + common) into
    out_dir, with manifest.json and truth.csv.gz. Reuses out_dir untouched when its manifest has the
    same parameters."""
    out_dir = Path(out_dir)
    params = _params(rows, year, seed, departments)
    existing = load_corpus(out_dir)
    if existing is not None and existing[0] == params and all(p.exists() for p in existing[1].paths):
        return existing[1]
    writer = _YearWriter(out_dir, year, seed)
    for plan in plan_departments(rows, seed, departments):
        writer.add(plan)
    return writer.close(params)


def generate_series(
    out_root: Path,
    rows: int,
    first_year: int,
    years: int,
    *,
    churn: float = 0.05,
    seed: int = 1,
    departments: int | None = None,
) -> list[Corpus]:
    """`years` consecutive corpora in out_root/<year>/ (the inbox layout `indicators rebuild` reads): the
    first as generate_corpus makes it, each next one churned from the one before (churn_department).
    One department is held in memory at a time. Reuses years whose manifest matches."""
    out_root = Path(out_root)
    params = [
        _params(rows, first_year + k, seed, departments) | {"series_first_year": first_year, "churn": churn}
        for k in range(years)
    ]
    existing = [load_corpus(out_root / str(first_year + k)) for k in range(years)]
    if all(
        e is not None and e[0] == p and all(x.exists() for x in e[1].paths)
        for e, p in zip(existing, params, strict=True)
    ):
        return [e[1] for e in existing]  # type: ignore[index]
    vocab = Vocabulary.for_rows(rows)
    writers = [_YearWriter(out_root / str(first_year + k), first_year + k, seed) for k in range(years)]
    for plan in plan_departments(rows, seed, departments, vocab):
        for k, writer in enumerate(writers):
            if k:
                plan = churn_department(plan, vocab, year=first_year + k, churn=churn, seed=seed)
            writer.add(plan)
    return [w.close(p) for w, p in zip(writers, params, strict=True)]


def rewrite_department(corpus_dir: Path, index: int, churn: float = 0.3) -> Path:
    """Replace department `index`'s workbook of an existing corpus by a changed version of the same year
    (its rows churned at `churn`): one department re-submitting, for incremental rebuilds. The manifest
    and truth file are left as they were."""
    params, corpus = load_corpus(corpus_dir)  # type: ignore[misc]
    rows, seed, year = int(params["rows"]), int(params["seed"]), int(params["year"])
    vocab = Vocabulary.for_rows(rows)
    size = department_sizes(random.Random(seed), rows, params["departments"])[index]
    plan = plan_department(index, size, vocab, random.Random(f"{seed}:{index}:plan"))
    plan = churn_department(plan, vocab, year=year, churn=churn, seed=seed + 1)
    dept_file, _ = _write_department(
        Path(corpus_dir), plan, year, random.Random(f"{seed}:{year}:{index}:rewrite")
    )
    return Path(corpus_dir) / dept_file.file


def _params(rows: int, year: int, seed: int, departments: int | None) -> dict[str, object]:
    return {"version": CORPUS_VERSION, "rows": rows, "year": year, "seed": seed, "departments": departments}


def load_corpus(out_dir: Path) -> tuple[dict[str, Any], Corpus] | None:
    """(parameters, Corpus) from an existing corpus directory's manifest, or None."""
    manifest_path = Path(out_dir) / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    params = manifest["params"]
    files = [DepartmentFile(**f) for f in manifest["files"]]
    return params, Corpus(Path(out_dir), params["rows"], params["year"], params["seed"], files)


def load_truth(out_dir: Path) -> dict[tuple[str, str, int], str]:
    """(file, sheet kind, Excel row) → the indicator the row really is."""
    with gzip.open(Path(out_dir) / TRUTH, "rt", encoding="utf-8", newline="") as fh:
        return {(r["file"], r["sheet"], int(r["row"])): r["truth"] for r in csv.DictReader(fh)}


class _YearWriter:
    """Writes one year's workbooks as department plans arrive, then the manifest and the truth file."""

    def __init__(self, out_dir: Path, year: int, seed: int) -> None:
        self.out_dir, self.year, self.seed = Path(out_dir), year, seed
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for old in self.out_dir.glob("*.xlsx"):
            old.unlink()
        self.files: list[DepartmentFile] = []
        self.truth = io.StringIO()
        self.truth_csv = csv.writer(self.truth, lineterminator="\n")
        self.truth_csv.writerow(["file", "sheet", "row", "truth"])

    def add(self, plan: DepartmentPlan) -> None:
        rng = random.Random(f"{self.seed}:{self.year}:{plan.index}:write")
        dept_file, truth = _write_department(self.out_dir, plan, self.year, rng)
        self.files.append(dept_file)
        self.truth_csv.writerows(truth)

    def close(self, params: dict[str, object]) -> Corpus:
        corpus = Corpus(self.out_dir, int(params["rows"]), self.year, self.seed, self.files)  # type: ignore[call-overload]
        with open(self.out_dir / TRUTH, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(self.truth.getvalue().encode("utf-8"))
        manifest = {
            "params": params,
            "total_rows": corpus.total_rows,
            "files": [asdict(f) for f in self.files],
        }
        (self.out_dir / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        return corpus


# --------------------------------------------------------------------------------------------------
# Writing: the department's habits, laid out and written by pipelines/demo/workbook.py
# --------------------------------------------------------------------------------------------------

_FULLWIDTH = str.maketrans({**{chr(c): chr(c + 0xFEE0) for c in range(0x30, 0x3A)}, "%": "％"})
TRADITIONAL_SHEET_NAMES = {"info": "部門信息", "core": "部門整體核心指標", "project": "表2 項目支出指標",
                           "common": "共性指標"}  # fmt: skip
# Columns whose runs of equal values are merged or left blank ("same as above").
RUN_COLUMNS = ("project", "project_category", "function_code", "level1", "level2")


def _write_department(
    out_dir: Path, plan: DepartmentPlan, year: int, rng: random.Random
) -> tuple[DepartmentFile, list[tuple[str, str, int, str]]]:
    """Write the plan as `<code>_<name>_<year>.xlsx`; return its counts and its truth rows."""
    style = plan.style
    file = f"{plan.code}_{plan.name}_{year}.xlsx"
    core, projects, common = (plan.sheets[k] for k in SHEET_KINDS)
    grids = [_info_grid(plan.code, plan.name, year, style, len(core))]
    truth: list[tuple[str, str, int, str]] = []
    for kind, rows in zip(SHEET_KINDS, (core, projects, common), strict=True):
        if rows or kind != "common":
            grid, placed = indicator_grid(_indicator_sheet(year, kind, rows, style, rng))
            grids.append(grid)
            truth += [(file, kind, excel_row, str(row.get("_truth", ""))) for row, excel_row in
                      zip(rows, placed.data_rows, strict=True)]  # fmt: skip
    # Streaming (inline strings, low memory) cannot merge cells across rows; departments that merge
    # cells are written whole, with a shared-strings table like Excel's.
    data = workbook_bytes(
        grids, created=FIXED_TIME, properties={"author": "benchmarks.corpus"}, streaming="merged" not in style
    )
    (out_dir / file).write_bytes(data)
    counts = DepartmentFile(
        file, plan.code, plan.name, len(core), len(projects), len(common), plan.bad_rows, sorted(style)
    )
    return counts, truth


def _info_grid(code: str, name: str, year: int, style: set[str], n_core: int) -> Grid:
    items: list[tuple[str, str | int]] = [
        ("year", year),
        ("部门编码：" if "aliases" in style else "dept_code", code),
        ("dept_name", name),
        ("contact", "王五"),
        ("phone", "0571-88880000"),
        ("complexity", "复杂" if n_core > 6 else "单一"),
    ]
    rows: list[tuple[Value, Value]] = [
        (info_label(key), value if "text_numbers" not in style else str(value)) for key, value in items
    ]
    sheet = InfoSheet(
        rows,
        name=TRADITIONAL_SHEET_NAMES["info"] if "traditional" in style else sheet_name("info"),
        title=f"{name}基本信息" if "title" in style else None,
        merge_title=False,
    )
    return info_grid(sheet)[0]


def _styled_value(rng: random.Random, row: dict[str, object], column: str, style: set[str]) -> Cell:
    value = row.get(column, "")
    if value in ("", None):
        return ""
    if column == "target" and isinstance(value, int | float):
        symbol = row.get("symbol", "")
        unit = row.get("unit", "")
        if "combined_targets" in style and rng.random() < 0.5:
            value = rng.choice(
                (
                    f"{symbol}{value:g}{unit}",
                    f"{'不低于' if symbol == '≥' else '不超过'}{value:g}{unit}",
                    f"{value:g}{unit}{'以上' if symbol == '≥' else '以内'}",
                )
            )
        elif "text_numbers" in style:
            value = f"{value:g}"
    if (
        column == "function_code"
        and "text_numbers" not in style
        and isinstance(value, str)
        and value.isdigit()
    ):
        value = int(value)  # numbers stored as numbers: 2010101.0 must read back as "2010101"
    if isinstance(value, str):
        if "traditional" in style and column in ("level1", "level2", "name", "definition", "project"):
            value = to_traditional(value)
        if "fullwidth" in style and column in ("target", "unit", "history"):
            value = value.translate(_FULLWIDTH)
    return value if isinstance(value, str | int | float | bool) else str(value)


def _headers(kind: str, columns: list[str], style: set[str]) -> dict[str, Value]:
    ref = reference()
    headers: dict[str, Value] = {}
    for column in columns:
        header = ref.header_zh(kind, column)
        alias = HEADER_ALIASES.get(column, "")
        if "aliases" in style and ref.header_lookup[kind].get(compact(alias)) == column:
            header = alias  # only aliases the template accepts for this sheet
        headers[column] = to_traditional(header) if "traditional" in style else header
    return headers


def _indicator_sheet(
    year: int, kind: str, rows: list[dict[str, object]], style: set[str], rng: random.Random
) -> IndicatorSheet:
    """One sheet as the department writes it (rng draws in a fixed order: the files stay the same)."""
    columns = [spec.column for spec in reference().columns[kind]]
    if "shuffled" in style:
        head, tail = columns[:2], columns[2:]
        rng.shuffle(tail)
        columns = head + tail
    titles = []
    if "title" in style:
        titles = [f"{sheet_name(kind)}（{rng.choice((str(year), f'{year}年度'))}）", "金额单位：万元"]
    rows = [{**row, "seq": i + 1} for i, row in enumerate(rows)]
    styled: list[Mapping[str, Value]] = [
        {c: _styled_value(rng, row, c, style) for c in columns} for row in rows
    ]
    notes: list[list[Value]] = []
    gap = 0
    if "notes" in style:
        gap = rng.choice((0, 1))
        date = rng.choice((f"{year - 1}年11月20日", f"{year - 1}-11-28"))
        notes = [["填表人：张三", None, None, "审核人：李四", None, None, f"填报日期：{date}"],
                 ["注：目标值请填写数值，计量单位单独填写。"]]  # fmt: skip
    repeats = "merged" in style or "blanks" in style
    return IndicatorSheet(
        kind,
        styled,
        columns=columns,
        headers=_headers(kind, columns, style),
        name=TRADITIONAL_SHEET_NAMES[kind] if "traditional" in style else sheet_name(kind),
        titles=titles,
        merged_titles=1 if "merged" in style else 0,
        runs={c: OFFICIAL_RUNS[c] for c in RUN_COLUMNS if c in columns} if repeats else {},
        merge_runs="merged" in style,
        notes_gap=gap,
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成基准测试用的部门填报工作簿（确定性，可复现）")
    parser.add_argument("--rows", type=int, required=True, help="指标行总数")
    parser.add_argument(
        "--out", type=Path, required=True, help="输出目录（--years 时为各年度子目录的上级目录）"
    )
    parser.add_argument("--year", type=int, default=2026, help="填报年度（--years 时为第一年）")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（同一种子生成相同文件）")
    parser.add_argument("--departments", type=int, default=None, help="部门数（默认按行数自动确定）")
    parser.add_argument("--years", type=int, default=1, help="连续生成的年度数（逐年变动）")
    parser.add_argument("--churn", type=float, default=0.05, help="逐年变动的项目指标行比例（默认 0.05）")
    args = parser.parse_args(argv)
    if args.years > 1:
        corpora = generate_series(
            args.out,
            args.rows,
            args.year,
            args.years,
            churn=args.churn,
            seed=args.seed,
            departments=args.departments,
        )
    else:
        corpora = [generate_corpus(args.out, args.rows, args.year, args.seed, args.departments)]
    for corpus in corpora:
        bad = sum(f.bad_rows for f in corpus.files)
        print(
            f"{corpus.year}: {len(corpus.files)} workbooks, {corpus.total_rows} rows ({bad} deliberately bad)"
            f" in {corpus.directory}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
