"""Export: the published library as a workbook an official can filter, or one CSV file.

`indicators export [--repo PATH] [--format xlsx|csv] [--out FILE]` (CONTRACT §4). Reads PATH/library (a
bureau's repo, or a county's pulled copy) and writes, through pipelines.common.xlsx_out (neutralized cells,
deterministic bytes, atomic write):
- xlsx: one sheet per scope with the active indicators (共性指标 / 部门整体指标 / 项目指标), a sheet 已退出
  for retired and merged ones, a sheet 使用情况 with every usage of the library's latest year (each
  department's own target, 历史值, 数据来源, 取值方式, 设定依据, 评分标准, 绩效目标, classification, the row's
  own wording and the cells under unknown headers), a sheet 参考值 (pipelines.store.reference_values: per
  indicator × year × unit the count, min, median and max of the numeric targets, all years; 国家标准, 行业标准
  and their source), and a 说明 sheet (release, year, counts); Chinese column titles, frozen header row,
  autofilter, lists joined with 、.
- csv: one UTF-8 (BOM) file with every indicator (every indicator column), its 指标范围 and 状态 as
  columns. One file holds one table: usages and reference values are in the workbook (and in full, all
  years, in the Parquet files of library/).
Usages of the latest year only: it is the year the indicator sheets describe (使用部门 = the last active
year), a year's rows stay far below a sheet's 1,048,576-row limit at province scale where all years would
not, and the earlier years' targets are summed up on 参考值 (their rows stay in library/usages/<year>/).
Rows are ordered by scope, 功能分类, the framework's 一级/二级 order and indicator_id. A library written by
an older or newer 1.x version exports the same way (pipelines.store.shape: columns it lacks are empty).
"""

from __future__ import annotations

import json
from pathlib import Path

import git
import pandas as pd

from pipelines.common import csv_out, xlsx_out
from pipelines.store.publish import LIBRARY_DIR, read_manifest
from pipelines.store.reference_values import ReferenceValues, reference_values
from pipelines.store.repo import release_tags
from pipelines.store.shape import read_release_table, release_version
from schemas.library import SCOPES, STATUS_ZH, TITLES_ZH
from schemas.vocab import reference

FORMATS = ("xlsx", "csv")
SCOPE_SHEETS = {"共性": "共性指标", "部门整体": "部门整体指标", "项目": "项目指标"}
RETIRED_SHEET = "已退出"
USAGE_SHEET = "使用情况"
REFERENCE_SHEET = "参考值"
_SHEETS = [*SCOPE_SHEETS.values(), RETIRED_SHEET, USAGE_SHEET, REFERENCE_SHEET]
ABOUT_SHEET = "说明"
UPSTREAM_STATE = ".indicators-upstream.json"  # written by pipelines.county.upstream

EXTRA_TITLES = {
    "function_class_name": "功能分类名称（类）",
    "department_names": "使用部门名称",
    "department_count": "使用部门数",
    "merged_into_name": "并入指标名称",
    "indicator_name": "库内指标名称",
    "target_count": "目标值个数",
    "target_departments": "设定目标的部门数",
    "target_min": "目标值最小值",
    "target_median": "目标值中位数",
    "target_max": "目标值最大值",
}
TITLES = {**TITLES_ZH, **EXTRA_TITLES}

_ACTIVE_COLUMNS = [
    "indicator_id",
    "function_code",
    "function_class",
    "function_class_name",
    "level1",
    "level2",
    "name",
    "definition",
    "formula",
    "symbol",
    "unit",
    "nature",
    "keywords",
    "national_standard",
    "industry_standard",
    "standard_source",
    "indicator_source",
    "aliases",
    "department_count",
    "departments",
    "department_names",
    "first_year",
    "last_year",
    "last_change_year",
    "last_change_type",
    "last_change_reason",
    "origin",
]
_PROJECT_ONLY = ("function_code", "function_class", "function_class_name")
_RETIRED_COLUMNS = [
    "indicator_id",
    "scope",
    "status",
    "function_code",
    "level1",
    "level2",
    "name",
    "definition",
    "unit",
    "aliases",
    "first_year",
    "last_year",
    "retired_year",
    "retire_reason",
    "merged_into",
    "merged_into_name",
    "departments",
    "department_names",
]
_CSV_COLUMNS = [
    "scope",
    "status",
    *_ACTIVE_COLUMNS,
    "retired_year",
    "retire_reason",
    "merged_into",
    "merged_into_name",
]
# 使用情况: who used what this year and how, in the order the department's workbook had its rows.
_USAGE_COLUMNS = [
    "indicator_id",
    "indicator_name",
    "year",
    "dept_code",
    "dept_name",
    "scope",
    "project",
    "project_category",
    "project_nature",
    "project_goal",
    "strategic_goal",
    "sector",
    "industry",
    "fund_use",
    "phased",
    "function_code",
    "level1",
    "level2",
    "name",
    "definition",
    "formula",
    "nature",
    "keywords",
    "symbol",
    "target",
    "target_value",
    "unit",
    "weight",
    "history",
    "data_source",
    "value_method",
    "value_basis",
    "scoring_rule",
    "national_standard",
    "industry_standard",
    "standard_source",
    "indicator_source",
    "change_type",
    "change_reason",
    "extra",
    "source_file",
    "source_sheet",
    "source_row",
]
_USAGE_ORDER = ["dept_code", "source_file", "source_sheet", "source_row", "indicator_id"]
_REFERENCE_COLUMNS = [
    "indicator_id",
    "name",
    "status",
    "scope",
    "level1",
    "level2",
    "year",
    "unit",
    "target_count",
    "target_departments",
    "target_min",
    "target_median",
    "target_max",
    "national_standard",
    "industry_standard",
    "standard_source",
]
_TEXT_COLUMNS = ("indicator_id", "function_code", "function_class", "merged_into", "dept_code")


class ExportError(RuntimeError):
    """Nothing to export (no published library at PATH) or a bad request: exit 2."""


def _prepared(library_dir: Path) -> pd.DataFrame:
    """The indicators table with display columns added, in export order."""
    ind = read_release_table(library_dir, "indicators")
    deps = read_release_table(library_dir, "departments")
    dept_names = dict(zip(deps["dept_code"], deps["dept_name"], strict=True))
    ref = reference()
    classes = {c: f.name for c, f in ref.function_codes.items() if f.level == "类"}
    names = dict(zip(ind["indicator_id"], ind["name"], strict=True))
    order = {l2: i for i, (_l1, l2) in enumerate(ref.framework)}
    l1_order = {l1: i for i, l1 in enumerate(ref.level1_values)}
    out = ind.assign(
        function_class_name=[classes.get(c, "") for c in ind["function_class"]],
        department_names=[[dept_names.get(d, d) for d in ds] for ds in ind["departments"]],
        department_count=[len(ds) for ds in ind["departments"]],
        merged_into_name=[names.get(m, "") if m else "" for m in ind["merged_into"]],
        _scope=ind["scope"].map({s: i for i, s in enumerate(SCOPES)}).fillna(len(SCOPES)),
        _l1=ind["level1"].map(l1_order).fillna(len(l1_order)),
        _l2=ind["level2"].map(order).fillna(len(order)),
    )
    out = out.sort_values(
        ["_scope", "function_code", "_l1", "_l2", "indicator_id"], kind="mergesort"
    ).reset_index(drop=True)
    return out.drop(columns=["_scope", "_l1", "_l2"])


def _json_text(text: str, key_suffix: str = "") -> str:
    """A stored JSON object ({"2024": "95%"}, {header: value}) as a clerk reads it: 2024年：95%；…
    Text that is not a JSON object is shown as it is; an empty object as blank."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    return "；".join(f"{k}{key_suffix}：{v}" for k, v in data.items())


def _usage_sheet(usages: pd.DataFrame, frame: pd.DataFrame) -> tuple[int | None, pd.DataFrame]:
    """The latest year's usages, in the departments' own row order, with the library's indicator name."""
    if usages.empty:
        return None, usages.reindex(columns=_USAGE_COLUMNS)
    year = int(usages["year"].max())
    rows = usages[usages["year"] == year].sort_values(_USAGE_ORDER, kind="mergesort")
    names = dict(zip(frame["indicator_id"], frame["name"], strict=True))
    rows = rows.assign(
        indicator_name=[names.get(i, "") for i in rows["indicator_id"]],
        history=[_json_text(h, "年") for h in rows["history"]],
        extra=[_json_text(e) for e in rows["extra"]] if "extra" in rows.columns else "",
    )
    return year, rows.reindex(columns=_USAGE_COLUMNS, fill_value="").reset_index(drop=True)


def _reference_sheet(ref: ReferenceValues, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator × year × unit with numeric targets (standards repeated on each, so a filter
    keeps them), and one row for an indicator with standards but no numeric target; export order."""
    spread = ref.spread.rename(
        columns={c: f"target_{c}" for c in ("count", "departments", "min", "median", "max")}
    )
    rows = spread.merge(ref.standards, on="indicator_id", how="outer")
    for c in ("national_standard", "industry_standard", "standard_source", "unit"):
        rows[c] = rows[c].fillna("").astype(str)
    position = {iid: k for k, iid in enumerate(frame["indicator_id"])}
    info = frame.loc[:, ["indicator_id", "name", "status", "scope", "level1", "level2"]]
    rows = rows.merge(_localized(info), on="indicator_id", how="inner")
    rows = rows.assign(_at=rows["indicator_id"].map(position), year=rows["year"].astype("Int64"))
    rows = rows.sort_values(["_at", "year", "unit"], kind="mergesort", na_position="first")
    return rows.loc[:, _REFERENCE_COLUMNS].reset_index(drop=True)


def _release_name(repo: Path, manifest: dict) -> str:
    """The release the library is: the manifest's, a county pull's, or the tag at an unmodified HEAD."""
    if manifest.get("release"):
        return str(manifest["release"])
    state = repo / UPSTREAM_STATE
    if state.is_file():
        try:
            tag = json.loads(state.read_text(encoding="utf-8")).get("tag")
        except (OSError, ValueError, AttributeError):
            tag = None
        if tag:
            return str(tag)
    try:
        r = git.Repo(repo)
        head = r.head.commit.hexsha
        if not r.git.status("--porcelain", "--", LIBRARY_DIR):
            tags = [t.tag for t in release_tags(r) if t.sha == head]
            if tags:
                return tags[-1]
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError, git.GitCommandError):
        pass
    return "（未标注发布版本）"


def _about(repo: Path, manifest: dict, frame: pd.DataFrame, usage_year: int | None) -> pd.DataFrame:
    active = frame[frame["status"] == "active"]
    tables = manifest.get("tables") or {}
    rows: list[tuple[str, object]] = [
        ("内容", "预算绩效指标库（导出）"),
        ("发布版本", _release_name(repo, manifest)),
        ("发布年度", manifest.get("year")),
        ("数据格式版本", str(release_version(manifest))),
        ("在用指标", len(active)),
    ]
    rows += [(f"　其中{s}", int((active["scope"] == s).sum())) for s in SCOPES]
    rows += [(f"{STATUS_ZH[s]}指标", int((frame["status"] == s).sum())) for s in ("retired", "merged")]
    rows += [
        ("指标总数", len(frame)),
        ("使用记录（各年合计）", tables.get("usages")),
        ("部门", tables.get("departments")),
        ("工作表", "、".join(_SHEETS) + "：每表首行为标题，可用筛选按钮筛选"),
        (
            USAGE_SHEET,
            f"{usage_year or '（无）'} 年度各部门的每条使用记录（目标值、历史值、数据来源、取值方式等）",
        ),
        (
            REFERENCE_SHEET,
            "各年度数值型目标值的个数、最小值、中位数、最大值（按指标、年度、计量单位），及国家标准、行业标准和标准来源",
        ),
        ("多值单元格", "曾用名/同义名称、使用部门等多个取值以“、”分隔"),
        ("以 ' 开头的单元格", "原文以 = + - @ 开头；为防止被表格软件当作公式执行，导出时加了前缀 '"),
        ("完整数据", "各年度的全部使用记录见 library/usages/ 目录下的 Parquet 文件"),
    ]
    return pd.DataFrame({"item": [r[0] for r in rows], "value": [r[1] for r in rows]}, dtype=object)


def _localized(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(status=[STATUS_ZH.get(s, s) for s in frame["status"]])


def _text_formats(columns: list[str]) -> dict[str, str]:
    return {c: "text" for c in columns if c in _TEXT_COLUMNS}


def default_out(repo: Path, fmt: str, year: object) -> Path:
    return Path(repo) / f"指标库导出_{year if year else '未知年度'}.{fmt}"


def _write_xlsx(path: Path, repo: Path, manifest: dict, frame: pd.DataFrame) -> Path:
    library_dir = repo / LIBRARY_DIR
    usages = read_release_table(library_dir, "usages")
    usage_year, used = _usage_sheet(usages, frame)
    reference = _reference_sheet(reference_values(frame, usages), frame)
    year = manifest.get("year")
    with xlsx_out.xlsx_book(path, title=f"{year or ''}预算绩效指标库", subject="指标库导出") as book:
        active = frame[frame["status"] == "active"]
        for scope in SCOPES:
            cols = [c for c in _ACTIVE_COLUMNS if scope == "项目" or c not in _PROJECT_ONLY]
            part = active.loc[active["scope"] == scope, cols]
            xlsx_out.write_table(
                book, SCOPE_SHEETS[scope], part, TITLES, column_formats=_text_formats(cols), freeze_cols=1
            )
        for sheet, table in (
            (RETIRED_SHEET, _localized(frame[frame["status"] != "active"]).loc[:, _RETIRED_COLUMNS]),
            (USAGE_SHEET, used),
            (REFERENCE_SHEET, reference),
        ):
            formats = _text_formats(list(table.columns))
            xlsx_out.write_table(book, sheet, table, TITLES, column_formats=formats, freeze_cols=1)
        xlsx_out.write_table(
            book,
            ABOUT_SHEET,
            _about(repo, manifest, frame, usage_year),
            {"item": "项目", "value": "内容"},
            widths={"item": 22, "value": 70},
            column_formats={"value": "wrap"},
            autofilter=False,
        )
    return path


def export_library(repo: Path, fmt: str = "xlsx", out: Path | None = None) -> Path:
    """Write the library at repo/library as xlsx (sheets per scope, usages, reference values) or csv
    (the indicators); returns the file written.

    Default out: <repo>/指标库导出_<year>.<fmt>. Same library → byte-identical file.
    """
    repo = Path(repo)
    if fmt not in FORMATS:
        raise ExportError(f"不支持的导出格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    library_dir = repo / LIBRARY_DIR
    try:
        manifest = read_manifest(library_dir)
    except (OSError, ValueError) as exc:
        raise ExportError(f"{library_dir / 'manifest.json'} 无法读取：{exc}") from None
    if manifest is None:
        raise ExportError(
            f"{repo} 中没有已发布的指标库（缺少 library/manifest.json）。"
            "请用 --repo 指定指标库仓库，或先运行 indicators rebuild / indicators pull"
        )
    frame = _prepared(library_dir)
    path = Path(out) if out else default_out(repo, fmt, manifest.get("year"))
    if fmt == "csv":
        return csv_out.write_csv(path, _localized(frame).loc[:, _CSV_COLUMNS], TITLES)
    return _write_xlsx(path, repo, manifest, frame)
