"""Export: the published library as a workbook an official can filter, or one CSV file.

`indicators export [--repo PATH] [--format xlsx|csv] [--out FILE]` (CONTRACT §4). Reads PATH/library (a
bureau's repo, or a county's pulled copy) and writes, through pipelines.common.xlsx_out (neutralized cells,
deterministic bytes, atomic write):
- xlsx: one sheet per scope with the active indicators (共性指标 / 部门整体指标 / 项目指标), a sheet 已退出
  for retired and merged ones, and a 说明 sheet (release, year, counts); Chinese column titles, frozen
  header row, autofilter, lists joined with 、.
- csv: one UTF-8 (BOM) file with every indicator, its 指标范围 and 状态 as columns.
Rows are ordered by scope, 功能分类, the framework's 一级/二级 order and indicator_id. A library written by
an older or newer 1.x version exports the same way (pipelines.store.shape: columns it lacks are empty).
"""

from __future__ import annotations

import json
from pathlib import Path

import git
import pandas as pd

from pipelines.common import xlsx_out
from pipelines.store.publish import LIBRARY_DIR, read_manifest
from pipelines.store.repo import release_tags
from pipelines.store.shape import read_release_table, release_version
from schemas.library import SCOPES, STATUS_ZH, TITLES_ZH
from schemas.vocab import reference

FORMATS = ("xlsx", "csv")
SCOPE_SHEETS = {"共性": "共性指标", "部门整体": "部门整体指标", "项目": "项目指标"}
RETIRED_SHEET = "已退出"
ABOUT_SHEET = "说明"
UPSTREAM_STATE = ".indicators-upstream.json"  # written by pipelines.county.upstream

EXTRA_TITLES = {
    "function_class_name": "功能分类名称（类）",
    "department_names": "使用部门名称",
    "department_count": "使用部门数",
    "merged_into_name": "并入指标名称",
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
_TEXT_COLUMNS = ("indicator_id", "function_code", "function_class", "merged_into")


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


def _about(repo: Path, manifest: dict, frame: pd.DataFrame) -> pd.DataFrame:
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
        ("工作表", "、".join([*SCOPE_SHEETS.values(), RETIRED_SHEET]) + "：每表首行为标题，可用筛选按钮筛选"),
        ("多值单元格", "曾用名/同义名称、使用部门等多个取值以“、”分隔"),
        ("以 ' 开头的单元格", "原文以 = + - @ 开头；为防止被表格软件当作公式执行，导出时加了前缀 '"),
        ("完整数据", "各年度的使用记录（目标值、部门、项目）见 library/ 目录下的 Parquet 文件"),
    ]
    return pd.DataFrame({"item": [r[0] for r in rows], "value": [r[1] for r in rows]}, dtype=object)


def _localized(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(status=[STATUS_ZH.get(s, s) for s in frame["status"]])


def _text_formats(columns: list[str]) -> dict[str, str]:
    return {c: "text" for c in columns if c in _TEXT_COLUMNS}


def default_out(repo: Path, fmt: str, year: object) -> Path:
    return Path(repo) / f"指标库导出_{year if year else '未知年度'}.{fmt}"


def export_library(repo: Path, fmt: str = "xlsx", out: Path | None = None) -> Path:
    """Write the library at repo/library as xlsx (sheets per scope) or csv; returns the file written.

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
        cols = _CSV_COLUMNS
        return xlsx_out.write_csv(path, _localized(frame).loc[:, cols], TITLES)

    year = manifest.get("year")
    with xlsx_out.xlsx_book(path, title=f"{year or ''}预算绩效指标库", subject="指标库导出") as book:
        active = frame[frame["status"] == "active"]
        for scope in SCOPES:
            cols = [c for c in _ACTIVE_COLUMNS if scope == "项目" or c not in _PROJECT_ONLY]
            part = active.loc[active["scope"] == scope, cols]
            xlsx_out.write_table(
                book, SCOPE_SHEETS[scope], part, TITLES, column_formats=_text_formats(cols), freeze_cols=1
            )
        gone = _localized(frame[frame["status"] != "active"]).loc[:, _RETIRED_COLUMNS]
        xlsx_out.write_table(
            book,
            RETIRED_SHEET,
            gone,
            TITLES,
            column_formats=_text_formats(_RETIRED_COLUMNS),
            freeze_cols=1,
        )
        about = _about(repo, manifest, frame)
        xlsx_out.write_table(
            book,
            ABOUT_SHEET,
            about,
            {"item": "项目", "value": "内容"},
            widths={"item": 22, "value": 70},
            column_formats={"value": "wrap"},
            autofilter=False,
        )
    return path
