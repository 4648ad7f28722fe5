"""What the year's report is made of: its inputs (ReportInputs) and its unit, the ReviewTable.

Every table module (departments, changes, violations, coverage, trend, upstream) turns ReportInputs into
ReviewTables; review.html and review.xlsx are both rendered from the same ReviewTables (CONTRACT §6).
The small helpers here are shared by several tables: a column that may be missing, every input file's
status, findings grouped by file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.consolidate.changes import ChangeSet
from pipelines.consolidate.upstream import Overlay
from pipelines.intake.workbook import Workbook
from pipelines.validate.runner import FileStatus, ValidationResult
from schemas.library import LibraryTables

HTML_ROW_LIMIT = (
    500  # rows per table on the page; review.xlsx has them all (pairs: review_xlsx.XLSX_PAIR_LIMIT)
)
# The likely duplicate pairs review.xlsx lists (the most similar; merge_review.xlsx has them all): a province
# lists ≈ 120,000 pairs per 100,000 rows.
PAIRS_SHOWN = 1000
# Where a submitted row went (CONTRACT §3), as the review names it.
OUTCOME_ZH = {
    "library": "入库",
    "noncore": "非核心（部门自留）",
    "excluded": "阶段性不入库",
    "rejected": "退回",
}
ROW_OUTCOMES = ("library", "noncore", "excluded", "rejected")  # every row read has exactly one


@dataclass
class ReportInputs:
    year: int
    changes: ChangeSet
    validation: ValidationResult
    workbooks: list[Workbook]
    candidates: pd.DataFrame
    tables: LibraryTables  # the new release
    previous: LibraryTables | None = None  # the last release, or None
    # The trend is derived from the tables themselves (usages per year, first_year / retired_year): no
    # git needed. Optional per-release counts {"year": Y, "added": …, "retired": …, "merged": …} override
    # the derived indicator counts of their year (the tables forget a retirement undone later).
    history: list[dict] = field(default_factory=list)
    overlay: Overlay | None = None  # a county library: its relation to the upstream (city) release
    repo_root: Path | None = None  # the deployment repo: the library page reads its release tags
    actuals: pd.DataFrame | None = None  # self-evaluated actual values per usage (library/evaluations)


@dataclass
class ReviewTable:
    """One table of the review: a sheet of review.xlsx and a table of review.html."""

    key: str  # html id "t-<key>"
    sheet: str  # sheet name in review.xlsx
    title: str  # caption
    frame: pd.DataFrame  # English columns, sorted, display-ready values
    titles: dict[str, str]  # English column → Chinese header (order = column order)
    numeric: tuple[str, ...] = ()  # right-aligned columns
    note: str = ""
    total: int | None = None  # the table's rows where `frame` holds only its first ones (the pairs)

    @property
    def rows(self) -> int:
        """The table's rows: `total`, or the frame's."""
        return len(self.frame) if self.total is None else self.total

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.head(HTML_ROW_LIMIT)

    @property
    def truncated(self) -> bool:
        return self.rows > HTML_ROW_LIMIT

    def records(self) -> list[dict[str, object]]:
        return self.shown[list(self.titles)].to_dict("records")


def column(frame: pd.DataFrame, name: str, default: object = "") -> pd.Series:
    """A column, or a constant one when the frame lacks it (an empty validation has few columns)."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(default, index=frame.index, dtype=object if default != "" else str)


def file_statuses(inputs: ReportInputs) -> list[FileStatus]:
    """Every input file; rows whose file has no status (inputs built by hand) get one from the rows."""
    statuses = list(inputs.validation.files)
    known = {s.file for s in statuses}
    rows = inputs.validation.rows
    if len(rows) and "source_file" in rows.columns:
        unknown = rows[~rows["source_file"].isin(known)]
        for file, group in unknown.groupby("source_file", sort=True):
            code = str(column(group, "dept_code").iloc[0])
            name = str(column(group, "dept_name").iloc[0])
            statuses.append(FileStatus(str(file), "", True, code, name, [], len(group)))
    return sorted(statuses, key=lambda s: (s.dept_code, s.file))
