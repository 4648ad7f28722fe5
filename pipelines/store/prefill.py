"""A department's pre-filled workbook for year Y from the published library (CONTRACT §4, `indicators
template --dept CODE [--year Y] [--pick FILE]`).

It lives in store, not intake: it reads the published release (store.shape, any 1.x version in today's
columns), which the intake layer may not import; intake/template.py writes the workbook it describes
(a TemplateFill), so the sheets, columns, drop-downs and 填报说明 are the blank template's.

What the workbook holds:
- 部门信息: 填报年度 Y, 部门编码, and the department's other 部门信息 from departments.parquet.
- Its current indicators: the department's usages of its latest year before Y (not 退出) whose indicator
  is active (an id merged since is written as the indicator it went into), each on the sheet the
  department wrote it on (a 共性 usage stays where the department used it), in last year's order, with
  库内编号, 变更类型 沿用 and what it wrote on that row: target, symbol, unit, weight, project fields and
  every other column the release keeps for the usage (a 1.0 release has none: the indicator's wording
  fills the shared fields). 历史值 (prefill_history.py) from its own usages: the published self-evaluation
  actual values first (library/evaluations/), else what it wrote, else its targets.
- Picked indicators (prefill_pick.py): the library's wording with their 库内编号 and 沿用, on the sheet
  of their scope; the cells the department must still fill (project, 功能分类科目编码, target …) are
  highlighted and listed, and exactly they fail validation until filled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from pipelines.common.columns import col_letter
from pipelines.common.config import load_settings
from pipelines.common.errors import UsageError
from pipelines.intake.sheets import match_sheets
from pipelines.intake.template import EXTRA, SheetFill, TemplateFill, shown_value, write_template
from pipelines.store.evaluations import published_actuals
from pipelines.store.prefill_history import DepartmentHistory
from pipelines.store.prefill_pick import PickedRows, check_picks, picked_rows, read_pick_file
from pipelines.store.publish import SPECS, read_manifest, table_files
from pipelines.store.shape import (
    columns_at,
    concat,
    library_version,
    read_parquet,
    read_release_table,
    to_frame,
)
from schemas.vocab import INDICATOR_SHEETS, Reference, reference

SCOPE_SHEET = {"部门整体": "core", "项目": "project", "共性": "project"}
# Template columns whose value a pre-filled row sets itself (not copied from the usage or indicator).
OWN_COLUMNS = ("seq", "history", "include", "change_type", "change_reason", "library_id", "weight")
# Shared fields: the department's wording; the indicator's when the release's usages do not keep it (1.0).
SHARED_FIELDS = (
    "level1", "level2", "name", "definition", "formula", "symbol", "unit", "nature", "keywords",
    "national_standard", "industry_standard", "standard_source", "indicator_source",
)  # fmt: skip
_NUMBER = re.compile(r"^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,6})?$")
_FILE_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class Prefilled:
    """What was written: the file, the year, the rows per sheet kind, and what the department must fill."""

    path: Path
    year: int
    dept_code: str
    dept_name: str
    kept: dict[str, int] = field(default_factory=dict)  # kind → current indicators written
    picked: int = 0
    to_fill: list[str] = field(default_factory=list)  # Chinese lines: sheet, row and cells to fill
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Library:
    """The tables of one release the prefill reads, and its year."""

    indicators: pd.DataFrame  # indexed by indicator_id
    usages: pd.DataFrame  # the department's own, every year
    departments: pd.DataFrame
    year: int
    unwritten: frozenset[str] = frozenset()  # usage columns the release's version did not have yet
    actuals: pd.DataFrame | None = None  # the department's published actual values (library/evaluations)


def department_usages(library_dir: Path, dept: str) -> pd.DataFrame:
    """The department's usages of every year, filtered file by file before they become a DataFrame (a
    province's release holds millions of usages; one department a few hundred)."""
    version = library_version(library_dir)  # refuses a release of another major version, in Chinese
    parts = []
    for path in table_files(library_dir, "usages"):
        table = read_parquet(path, "usages", version)
        parts.append(table.filter(pc.equal(table["dept_code"], dept)))
    return to_frame(concat(parts, "usages"), "usages")


def read_library(repo: Path, dept: str) -> Library:
    """The published release under repo/library (UsageError when there is none or it cannot be read),
    with the usages of `dept` only."""
    library_dir = Path(repo) / "library"
    manifest = read_manifest(library_dir) if library_dir.is_dir() else None
    if manifest is None:
        raise UsageError(
            f"{library_dir} 中没有已发布的指标库（缺少 manifest.json）。请用 --repo 指定财政局的指标库仓库，"
            "或先运行 indicators rebuild 发布指标库"
        )
    usages = department_usages(library_dir, dept)
    indicators = read_release_table(library_dir, "indicators").set_index("indicator_id", drop=False)
    return Library(
        indicators,
        usages,
        read_release_table(library_dir, "departments"),
        int(manifest.get("year") or 0),
        frozenset(SPECS["usages"].columns) - set(columns_at("usages", library_version(library_dir))),
        _department_actuals(library_dir, dept),
    )


def _department_actuals(library_dir: Path, dept: str) -> pd.DataFrame:
    """The department's actual values of every evaluated year (empty before any self-evaluation)."""
    actuals = published_actuals(library_dir)
    return actuals[actuals["dept_code"] == dept].reset_index(drop=True)


def resolve(iid: str, indicators: pd.DataFrame) -> str:
    """The indicator an id stands for now: a merged id followed to the one it went into."""
    seen = {iid}
    while iid in indicators.index and indicators.at[iid, "status"] == "merged":
        nxt = str(indicators.at[iid, "merged_into"])
        if not nxt or nxt in seen:
            break
        seen.add(nxt)
        iid = nxt
    return iid


def sheet_kind(source_sheet: str, scope: str) -> str:
    """The template sheet a usage was written on (its source sheet as read), else the one of its scope."""
    matched, _ = match_sheets([source_sheet]) if source_sheet else ({}, {})
    kind = next((k for k in matched if k in INDICATOR_SHEETS), "")
    return kind or SCOPE_SHEET.get(scope, "project")


def current_usages(library: Library, dept: str, year: int) -> pd.DataFrame:
    """The department's usages of its latest year before `year` whose indicator is still active, with
    `target_id` (the active indicator) and `kind` (the sheet), in the order it wrote them."""
    usages = library.usages
    mine = usages[(usages["dept_code"] == dept) & (usages["year"] < year)]
    if mine.empty:
        return mine.assign(target_id=pd.Series(dtype=str), kind=pd.Series(dtype=str))
    latest = mine[(mine["year"] == mine["year"].max()) & (mine["change_type"] != "退出")]
    target = [resolve(str(i), library.indicators) for i in latest["indicator_id"]]
    latest = latest.assign(target_id=target)
    active = latest["target_id"].map(library.indicators["status"]).eq("active")
    latest = latest[active.to_numpy()]
    pairs = list(zip(latest["source_sheet"].astype(str), latest["scope"].astype(str), strict=True))
    known = {pair: sheet_kind(*pair) for pair in set(pairs)}  # a few distinct sheets per department
    kinds = [known[pair] for pair in pairs]
    latest = latest.assign(kind=kinds)
    order = latest["kind"].map({k: i for i, k in enumerate(INDICATOR_SHEETS)})
    return (
        latest.assign(_order=order)
        .sort_values(["_order", "source_file", "source_row"])
        .drop(columns="_order")
    )


def cell(text: object) -> object:
    """A plain number as a number (Excel shows it as one), any other text as written."""
    value = "" if text is None or (isinstance(text, float) and text != text) else str(text)
    if _NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value


def _column_value(
    ref: Reference,
    kind: str,
    column: str,
    usage: Mapping[str, object],
    ind: Mapping[str, object],
    fallback: Collection[str],
) -> object:
    own = usage.get(column, "")
    own = "" if own is None or (isinstance(own, float) and own != own) else str(own)
    if not own and column in fallback:
        own = str(ind.get(column, "") or "")
    if column == "name" and usage.get("indicator_id") != ind["indicator_id"]:
        own = str(ind["name"])  # merged since: the name of the indicator it went into
    vocab = ref.column(kind, column).vocab
    return shown_value(ref, vocab, own) if vocab else cell(own) if column == "target" else own


def kept_row(
    ref: Reference,
    kind: str,
    usage: Mapping[str, object],
    ind: Mapping[str, object],
    history: str,
    fallback: Collection[str] = (),
) -> dict:
    """One current indicator as a row of sheet `kind`: 沿用 its 库内编号 with what the department wrote;
    the `fallback` columns, which the release's usages do not have, in the indicator's wording."""
    row = {
        s.column: _column_value(ref, kind, s.column, usage, ind, fallback)
        for s in ref.columns[kind]
        if s.column not in OWN_COLUMNS
    }
    weight = usage.get("weight")
    row |= {
        "history": history,
        "include": "是",
        "change_type": "沿用",
        "library_id": str(ind["indicator_id"]),
        "weight": None if weight is None or pd.isna(weight) else float(weight),  # type: ignore[arg-type]
        EXTRA: extra_cells(usage.get("extra")),
    }
    return row


def extra_cells(text: object) -> dict[str, str]:
    """The usage's cells under headers the template does not know ({header: value} JSON; "" when none)."""
    try:
        found = json.loads(str(text)) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def department_info(library: Library, dept: str, year: int) -> tuple[dict[str, object], list[str]]:
    """部门信息 values from departments.parquet (every 部门信息 item the release keeps: contact details are not
    published), and the info columns left to fill (a department the library does not know yet: its name)."""
    info: dict[str, object] = {"year": str(year), "dept_code": dept}
    known = library.departments[library.departments["dept_code"] == dept]
    if known.empty:
        return info, ["dept_name"]
    record = known.iloc[0]
    fields = [s.column for s in reference().columns["info"] if s.column not in info]
    info |= {c: str(record[c]) for c in fields if c in record.index and str(record[c])}
    return info, []


def _file_name(year: int, dept: str, name: str) -> str:
    return f"{year}年度预算绩效指标_{dept}{_FILE_UNSAFE.sub('', name)[:40]}.xlsx"


def kept_rows(library: Library, dept: str, year: int) -> tuple[dict[str, list[dict]], set[str]]:
    """The department's current indicators as rows per sheet kind, and their ids."""
    ref = reference()
    current = current_usages(library, dept, year)
    dept_usages = library.usages[library.usages["dept_code"] == dept]
    resolved = {str(i): resolve(str(i), library.indicators) for i in pd.unique(dept_usages["indicator_id"])}
    history = DepartmentHistory(dept_usages, resolved, year, library.actuals)
    fallback = set(SHARED_FIELDS) & library.unwritten  # an older release: the indicator's wording
    rows: dict[str, list[dict]] = {k: [] for k in INDICATOR_SHEETS}
    wanted = pd.unique(current["target_id"]).tolist()
    records = library.indicators.loc[wanted].to_dict("index") if wanted else {}
    for usage in current.to_dict("records"):
        target = str(usage["target_id"])
        ind = records[target]
        text = history.cell(target, str(usage["project"]))
        rows[usage["kind"]].append(kept_row(ref, usage["kind"], usage, ind, text, fallback))
    return rows, set(current["target_id"])


def build_fill(
    library: Library,
    dept: str,
    year: int,
    picks: list[tuple[int, str]],
    finance_dept: str | None,
    pick_label: str = "",
) -> tuple[TemplateFill, Prefilled]:
    """The workbook's content for `dept` and year `year`, and the summary the command prints."""
    ref = reference()
    info, info_to_fill = department_info(library, dept, year)
    check_picks(pick_label, picks, library.indicators)  # a bad pick file stops before any other work
    rows, have = kept_rows(library, dept, year)
    summary = Prefilled(Path(), year, dept, str(info.get("dept_name", "")))
    summary.kept = {k: len(v) for k, v in rows.items() if v}
    picked = picked_rows(ref, library.indicators, picks, have, kind_of=_pick_kind(dept, finance_dept))
    rows, to_fill = place_picks(rows, picked)
    summary.picked, summary.notes = len(picked.rows), list(picked.notes)
    summary.to_fill = _to_fill_lines(ref, to_fill, info_to_fill)
    for kind_rows in rows.values():
        for i, row in enumerate(kind_rows, 1):
            row["seq"] = str(i)
    sheets = {k: SheetFill(rows[k], to_fill[k]) for k in INDICATOR_SHEETS if rows[k]}
    name = _file_name(year, dept, summary.dept_name)
    return TemplateFill(info, sheets, info_to_fill, name), summary


def place_picks(
    rows: dict[str, list[dict]], picked: PickedRows
) -> tuple[dict[str, list[dict]], dict[str, list[tuple[int, str]]]]:
    """The sheets' rows with the picked ones placed, and the cells to fill as (row position, column).

    On the sheets with a 项目名称 column the picked rows go first: the reader takes a blank 项目名称 for
    "same as above" (merged cells), so below a project they would silently join it; at the top their
    blank cells stay blank, and validation names them until the department fills them."""
    placed: dict[str, list[dict]] = {}
    to_fill: dict[str, list[tuple[int, str]]] = {}
    for kind in INDICATOR_SHEETS:
        mine = [(row, cells) for k, row, cells in picked.rows if k == kind]
        first = any(s.column == "project" for s in reference().columns[kind])
        start = 0 if first else len(rows[kind])
        placed[kind] = [r for r, _ in mine] + rows[kind] if first else rows[kind] + [r for r, _ in mine]
        to_fill[kind] = [(start + i, c) for i, (_, cells) in enumerate(mine) for c in cells]
    return placed, to_fill


def _pick_kind(dept: str, finance_dept: str | None) -> Mapping[str, str]:
    """The sheet a picked indicator goes on, by scope: a 共性 one on the 共性指标 sheet only for the bureau."""
    return SCOPE_SHEET | ({"共性": "common"} if finance_dept and dept == finance_dept else {})


def _to_fill_lines(
    ref: Reference, to_fill: Mapping[str, list[tuple[int, str]]], info_to_fill: list[str]
) -> list[str]:
    """'项目支出指标 第 27 行：项目名称（B27）、目标值（O27）' per row with cells to fill."""
    lines = []
    if info_to_fill:
        rows = {s.column: i + 2 for i, s in enumerate(ref.columns["info"])}  # 项目 | 内容 from row 2
        names = "、".join(f"{ref.header_zh('info', c)}（B{rows[c]}）" for c in info_to_fill)
        lines.append(f"{ref.sheets['info'].name_zh}：{names}")
    for kind, cells in to_fill.items():
        letters = {s.column: i for i, s in enumerate(ref.columns[kind])}
        by_row: dict[int, list[str]] = {}
        for i, column in cells:
            letter = col_letter(letters[column])
            by_row.setdefault(i + 2, []).append(f"{ref.header_zh(kind, column)}（{letter}{i + 2}）")
        for excel_row, parts in sorted(by_row.items()):
            lines.append(f"{ref.sheets[kind].name_zh} 第 {excel_row} 行：{'、'.join(parts)}")
    return lines


def prefill_workbook(
    repo: Path, dept: str, out_dir: Path, *, year: int | None = None, pick_file: Path | None = None
) -> Prefilled:
    """Write `dept`'s pre-filled workbook for `year` (default: the release year + 1) into out_dir."""
    dept = dept.strip()
    if not dept.isdigit():
        raise UsageError(f"部门编码“{dept}”无效：部门编码只能是数字")
    library = read_library(repo, dept)
    year = year or library.year + 1
    picks = read_pick_file(pick_file) if pick_file is not None else []
    known = (library.departments["dept_code"] == dept).any() or (library.usages["dept_code"] == dept).any()
    if not known and not picks:
        raise UsageError(
            f"指标库中没有部门编码 {dept} 的记录。请核对部门编码；新部门请用空白模板"
            "（indicators template），或用 --pick 选取指标生成预填工作簿"
        )
    finance = load_settings(Path(repo)).finance_dept
    fill, summary = build_fill(library, dept, year, picks, finance, str(pick_file or ""))
    summary.path = write_template(out_dir, year=year, fill=fill)
    if not summary.kept:
        summary.notes.insert(0, f"部门 {dept} 在 {year} 年以前的指标库中没有在用指标")
    return summary
