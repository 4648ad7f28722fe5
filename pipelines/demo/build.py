"""Sample submissions for `indicators demo`: three years of a fictional city's department workbooks.

The content is data (demo_data/*.csv, read by catalogue.py); plan.py decides each year's rows, change types
and 库内编号; departments.py writes each department's workbook in its own habits; this module writes a
year's folder, including the files that are not readable workbooks, and builds the id lookup the next
year needs from a published library.

Deterministic: the same year and lookup give byte-identical files (fixed document properties, fixed zip
timestamps, no randomness).
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.demo.catalogue import DEMO_YEARS, Department, catalogue
from pipelines.demo.departments import render_workbook
from pipelines.demo.plan import DemoYear, History, Lookup, dropped_indicators, plan_year, year_offset
from pipelines.normalize.canonical import normalize_name

# --- files that are not workbooks ---------------------------------------------------------------------


def _ole_bytes() -> bytes:
    """An Excel 97-2003 (.xls) compound-file header: the "saved in the old format" case."""
    header = bytearray(4096)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:34] = b"\x3e\x00\x03\x00\xfe\xff\x09\x00\x06\x00"
    return bytes(header)


def _html_bytes(dept: Department) -> bytes:
    """An HTML table saved as .xls, as business systems "export to Excel"."""
    lines = [line for line in catalogue().lines if line.dept_code == dept.code and line.kind == "project"]
    cells = ["项目名称", "一级指标", "二级指标", "三级指标", "指标值", "计量单位"]
    out = [
        '<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel">',
        '<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>',
        '<table border="1">',
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>",
    ]
    for line in lines:
        f = line.fields
        values = [f["project"], f["level1"], f["level2"], f["name"], f["symbol"] + f["target"], f["unit"]]
        out.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in values) + "</tr>")
    out.append("</table></body></html>")
    return "\n".join(out).encode("utf-8")


def _broken_name(dept: Department, year: int, kind: str) -> str:
    stem = Path(dept.file(year)).stem
    return {"ole": f"{stem}.xls", "html": f"{stem}（系统导出）.xls", "truncated": f"{stem}（副本）.xlsx"}[
        kind
    ]


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def render_demo_year(
    out_dir: Path,
    year: int,
    lookup: Lookup | None = None,
    *,
    first_year: int = DEMO_YEARS[0],
    history: History | None = None,
) -> DemoYear:
    """Write the sample submissions of `year` into out_dir/<year>/ and say what each row is meant to show.

    lookup(name, 部门编码) → 库内编号 of the indicator in the release built from the previous year (None when
    unknown); without it the 沿用/修改/退出 rows carry no 库内编号. history: the 历史值 of the departments'
    pre-filled workbooks (plan.History), once self-evaluations have published actual values.
    """
    offset = year_offset(year, first_year)
    cat = catalogue()
    directory = Path(out_dir) / str(year)
    directory.mkdir(parents=True, exist_ok=True)
    result = DemoYear(year, directory)
    planned = plan_year(year, lookup, first_year=first_year, history=history)
    result.dropped = dropped_indicators(year, first_year=first_year)
    written: dict[str, bytes] = {}
    for code, dept in cat.departments.items():
        if offset in dept.years:
            rows = [r for r in planned if r.dept_code == code]
            data = render_workbook(dept, year, rows)
            written[code] = data
            result.files.append(atomic_write_bytes(directory / dept.file(year), data))
            result.rows += rows
        kind = dept.broken.get(offset)
        if kind:
            if kind == "ole":
                data = _ole_bytes()
            elif kind == "html":
                data = _html_bytes(dept)
            else:  # a copy interrupted half-way: the zip's central directory is missing
                full = written.get(code) or render_workbook(
                    dept, year, [r for r in planned if r.dept_code == code]
                )
                data = full[: len(full) // 2]
            name = _broken_name(dept, year, kind)
            result.files.append(atomic_write_bytes(directory / name, data))
            result.unreadable.append(name)
    return result


def write_demo_year(
    out_dir: Path, year: int, lookup: Lookup | None = None, *, first_year: int = DEMO_YEARS[0]
) -> Path:
    """Write one year's sample submissions; returns out_dir/<year>/ (the folder to rebuild from)."""
    return render_demo_year(out_dir, year, lookup, first_year=first_year).directory


def lookup_from_indicators(indicators: pd.DataFrame) -> Lookup:
    """A lookup over a published indicators table: (name or alias, 部门编码) → indicator_id.

    Names are compared in their published form (繁→简, half-width brackets…). Only indicators the
    department uses or used are found; active ones first, then retired ones (a department may modify or
    bring back what it dropped). Merged indicators are left out: their rows go to the one they merged into.
    """
    table: dict[tuple[str, str], str] = {}
    rank = {"active": 0, "retired": 1}
    ordered = indicators[indicators["status"].isin(list(rank))]
    ordered = ordered.assign(_rank=ordered["status"].map(rank)).sort_values(["_rank", "indicator_id"])
    for iid, name, aliases, departments in zip(
        ordered["indicator_id"], ordered["name"], ordered["aliases"], ordered["departments"], strict=True
    ):
        for variant in [name, *_as_list(aliases)]:
            for dept in _as_list(departments):
                table.setdefault((normalize_name(variant)[0], dept), str(iid))

    def lookup(name: str, dept_code: str) -> str | None:
        return table.get((normalize_name(name)[0], str(dept_code)))

    return lookup


def _as_list(value: object) -> list[str]:
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in list(value)]  # type: ignore[call-overload]
