"""Blocking checks on the release candidate: publishing stops when any fails (SPEC §3, §5).

They read the staged files themselves, not the in-memory tables, so what is checked is what would be
published. Failure cases go into the check's metadata so the UI shows which rows or files.
"""

import hashlib
import warnings

import dagster as dg
import pandas as pd
import pandera.errors
import pandera.pandas as pa

from pipelines.defs.assets import release_candidate
from pipelines.defs.partitions import yearly_partitions
from pipelines.store import publish
from pipelines.store.release import StagedRelease
from schemas.library import DepartmentTable, IndicatorTable, SetAsideTable, UsageTable

MAX_SHOWN = 50
# Partitioned asset checks are a Dagster "preview" feature; without partitions_def a check would load
# every year's partition (see the issue). The API is pinned with dagster==1.13.27.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=Warning
)


def _table(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.head(MAX_SHOWN).to_markdown(index=False) if len(frame) else "（无）")


@dg.asset_check(
    asset=release_candidate,
    blocking=True,
    partitions_def=yearly_partitions,
    description="四张表均符合指标库的 pandera 模型",
)
def library_schema(release_candidate: StagedRelease) -> dg.AssetCheckResult:
    tables = publish.load_library(release_candidate.library_dir)
    if tables is None:
        return dg.AssetCheckResult(passed=False, metadata={"问题": "暂存目录中没有指标库"})
    failures = []
    models: dict[str, type[pa.DataFrameModel]] = {
        "indicators": IndicatorTable,
        "usages": UsageTable,
        "departments": DepartmentTable,
        "set_aside": SetAsideTable,
    }
    for name, model in models.items():
        try:
            model.validate(getattr(tables, name), lazy=True)
        except pandera.errors.SchemaErrors as err:
            cases = (
                err.failure_cases[["column", "check", "failure_case", "index"]].astype(str).assign(table=name)
            )
            failures.append(cases)
    cases = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
    return dg.AssetCheckResult(
        passed=cases.empty, metadata={"failures": len(cases), "failure_cases": _table(cases)}
    )


@dg.asset_check(
    asset=release_candidate,
    blocking=True,
    partitions_def=yearly_partitions,
    description="indicator_id 唯一，且每条使用记录指向存在的指标",
)
def unique_ids(release_candidate: StagedRelease) -> dg.AssetCheckResult:
    indicators = publish.read_table(release_candidate.library_dir, "indicators")
    usages = publish.read_table(release_candidate.library_dir, "usages")
    dup = indicators[indicators["indicator_id"].duplicated(keep=False)][["indicator_id", "name", "status"]]
    orphans = usages[~usages["indicator_id"].isin(indicators["indicator_id"])][
        ["indicator_id", "dept_code", "source_file", "source_row"]
    ]
    return dg.AssetCheckResult(
        passed=dup.empty and orphans.empty,
        metadata={
            "duplicate_ids": len(dup),
            "orphan_usages": len(orphans),
            "duplicates": _table(dup),
            "orphans": _table(orphans),
        },
    )


@dg.asset_check(
    asset=release_candidate,
    blocking=True,
    partitions_def=yearly_partitions,
    description="读取行数 = 入库 + 非核心 + 阶段性 + 退回，且与写出的表一致",
)
def row_accounting(release_candidate: StagedRelease) -> dg.AssetCheckResult:
    rows = release_candidate.manifest["rows"]
    year = release_candidate.year
    usages = publish.read_table(release_candidate.library_dir, "usages")
    set_aside = publish.read_table(release_candidate.library_dir, "set_aside")
    written = {
        "library": int((usages["year"] == year).sum()),
        "set_aside": int((set_aside["year"] == year).sum()),
    }
    sums = rows["library"] + rows["noncore"] + rows["excluded"] + rows["rejected"]
    problems = []
    if sums != rows["read"]:
        problems.append(f"读取 {rows['read']} ≠ 入库+非核心+阶段性+退回 {sums}")
    if written["library"] != rows["library"]:
        problems.append(f"使用记录 {written['library']} 行 ≠ 入库 {rows['library']} 行")
    if written["set_aside"] != rows["noncore"] + rows["excluded"] + rows["rejected"]:
        problems.append(f"未入库记录 {written['set_aside']} 行 ≠ 非核心+阶段性+退回")
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            **{f"rows_{k}": int(v) for k, v in rows.items()},
            "problems": dg.MetadataValue.json(problems),
        },
    )


@dg.asset_check(
    asset=release_candidate,
    blocking=True,
    partitions_def=yearly_partitions,
    description="manifest.json 列出的文件与磁盘上的文件及其 sha256 完全一致",
)
def manifest_matches_files(release_candidate: StagedRelease) -> dg.AssetCheckResult:
    root = release_candidate.library_dir
    listed = release_candidate.manifest["files"]
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.parquet")}
    problems = [{"file": f, "problem": "清单中有、磁盘上没有"} for f in sorted(set(listed) - on_disk)]
    problems += [{"file": f, "problem": "磁盘上有、清单中没有"} for f in sorted(on_disk - set(listed))]
    for rel in sorted(on_disk & set(listed)):
        if hashlib.sha256((root / rel).read_bytes()).hexdigest() != listed[rel]["sha256"]:
            problems.append({"file": rel, "problem": "sha256 不一致"})
    frame = pd.DataFrame(problems, columns=["file", "problem"])
    return dg.AssetCheckResult(passed=frame.empty, metadata={"files": len(listed), "problems": _table(frame)})


@dg.asset_check(
    asset=release_candidate,
    blocking=True,
    partitions_def=yearly_partitions,
    description="本年度至少有一行可入库：空收件箱或全部文件无法读取时不发布，以免全部指标被自动退出",
)
def submissions_present(release_candidate: StagedRelease) -> dg.AssetCheckResult:
    rows = release_candidate.manifest["rows"]
    return dg.AssetCheckResult(
        passed=rows["library"] > 0,
        metadata={
            "rows_read": int(rows["read"]),
            "rows_library": int(rows["library"]),
            "问题": "" if rows["library"] else "本年度没有任何可入库的行：请检查收件箱路径和各部门的文件",
        },
    )


CHECKS = [library_schema, unique_ids, row_accounting, manifest_matches_files, submissions_present]
