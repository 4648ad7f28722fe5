"""The report's faster paths (fifteenth session) give what the plain ones give, checked against the plain
code kept here as the reference:
- CHANGELOG.md's tables escaped a column at a time (changes._escaped) as cell by cell;
- the library page's fold check as one pattern (data._joined_needs_fold) as the per-character set test;
- list cells read as they are (data.name_lists), years by whole columns (cards._years), a year's ids
  gathered in first-met order (cards.year_document), targets shown without actuals (reference._shown);
- a department's added indicators counted over one split (departments._code_counts);
- review.xlsx deflated once (review_xlsx.committed_book): the bytes of xlsx_book's file redeflated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.common.xlsx_out import xlsx_book
from pipelines.common.xlsx_table_block import write_table_block
from pipelines.common.xlsx_zip import redeflated
from pipelines.consolidate.changes import ChangeSet, _text, changes_markdown
from pipelines.intake.targets import shown_target
from pipelines.report import review_xlsx
from pipelines.report.departments import _code_counts, _split_codes
from pipelines.report.library_page import cards, data, reference
from pipelines.report.library_page.fold import odd_characters
from pipelines.report.tables import review_tables
from tests.test_report import YEAR, sample_inputs

# --- references: the plain code the faster paths replaced ---------------------------------------------


def markdown_rows(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    def esc(v: object) -> str:
        return _text(v).replace("|", "\\|").replace("\n", " ")

    return ["| " + " | ".join(esc(v) for v in r) + " |" for r in frame[columns].itertuples(index=False)]


def joined_needs_fold(joined: str) -> bool:
    sep = data.SEP
    return (
        not odd_characters().isdisjoint(joined)
        or "  " in joined
        or joined[:1] == " "
        or joined[-1:] == " "
        or sep + " " in joined
        or " " + sep in joined
    )


def code_counts(texts: list[object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in texts:
        for code in _split_codes(text):
            counts[code] = counts.get(code, 0) + 1
    return counts


# --- CHANGELOG.md -------------------------------------------------------------------------------------

CELL = st.text(alphabet=st.sampled_from(list("a指|\n\x00 -、")), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(CELL, CELL, st.one_of(CELL, st.none(), st.just(float("nan")))), max_size=8))
def test_changelog_rows_are_the_cell_by_cell_rows(rows: list[tuple[str, str, object]]) -> None:
    """Any text (pipes, line breaks, NULs that stop the joined pass), missing values and lists."""
    added = pd.DataFrame(
        {
            "indicator_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "scope": [r[2] for r in rows],
            "departments": [[r[0], r[1]] for r in rows],
            "reason": [len(r[1]) for r in rows],
        }
    )
    columns = ["indicator_id", "name", "scope", "departments", "reason"]
    text = changes_markdown(ChangeSet("v1", "v2", added=added), "t")
    if rows:
        body = text.split("| --- | --- | --- | --- | --- |\n")[1].split("\n\n")[0].splitlines()
        assert body == markdown_rows(added, columns)


def test_changelog_of_a_real_year_is_the_cell_by_cell_one() -> None:
    changes = sample_inputs().changes
    text = changes_markdown(changes, "t")
    for frame, columns in (
        (changes.added, ["indicator_id", "name", "scope", "departments", "reason"]),
        (changes.modified, ["indicator_id", "name", "field", "old", "new", "reason"]),
        (changes.retired, ["indicator_id", "name", "reason"]),
        (changes.merged, ["indicator_id", "name", "into_id", "into_name", "reason"]),
    ):
        assert len(frame)
        rows = markdown_rows(frame, columns)
        assert "\n".join(rows) in text


# --- the library page -----------------------------------------------------------------------------------

ODD = sorted(odd_characters())
FIELD = st.text(alphabet=st.sampled_from([*ODD[:40], *ODD[-10:], " ", "a", "指", "标", "\x02"]), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(FIELD, min_size=1, max_size=5))
def test_fold_pattern_is_the_set_check(fields: list[str]) -> None:
    joined = data.SEP.join(fields)
    assert data._joined_needs_fold(joined) == joined_needs_fold(joined)


def test_name_lists_are_names() -> None:
    plain = pd.Series([["b", "a"], [], ["指标"]], dtype=object)
    assert data.name_lists(plain) == [data.names(v) for v in plain]
    assert data.name_lists(plain)[0] is plain.iloc[0]  # read as it is
    for odd in (
        [["a"], [1, "b"]],
        [["a"], np.array(["x", "y"])],
        [["a"], None],
        [["a"], "x"],
        [float("nan")],
    ):
        column = pd.Series(odd, dtype=object)
        assert data.name_lists(column) == [data.names(v) for v in column]


def test_years_by_whole_columns() -> None:
    frame = pd.DataFrame(
        {
            "a": pd.Series([2024, 2025], dtype="int64"),
            "b": pd.Series([2024, None], dtype="Int64"),
            "c": pd.Series([2024.0, float("nan")]),
            "d": pd.Series([None, 2023], dtype=object),
        }
    )
    for name in ("a", "b", "c", "d", "missing"):
        got = cards._years(frame, name)
        want = [0] * 2 if name == "missing" else [0 if pd.isna(v) else int(v) for v in frame[name]]
        assert got == want and all(type(v) is int for v in got)


def test_year_ids_sorted_and_known() -> None:
    spread = pd.DataFrame(
        {"indicator_id": ["B2", "A1"], "year": 2025, "unit": "%", "count": 1, "departments": 1}
        | {c: [1.0, 2.0] for c in ("min", "median", "max")}
    )
    series = pd.DataFrame({"indicator_id": ["C3", "A1"], "dept_code": "101", "year": 2025, "target": "≥1"})
    events = pd.DataFrame(
        {"indicator_id": ["Z9", "D4", "B2"], "year": 2025}
        | {c: ["x"] * 3 for c in ("tag", "type", "reason", "detail")}
    )
    doc = cards.year_document(2025, spread, series, events, {"A1", "B2", "C3", "D4"})
    ids = sorted(({"B2", "A1"} | {"C3", "A1"} | {"Z9", "D4", "B2"}) & {"A1", "B2", "C3", "D4"})
    assert doc["ids"] == cards.id_runs(ids)


def test_shown_targets_without_actuals() -> None:
    series = pd.DataFrame(
        {
            "symbol": ["≥", "≥", "=", "≥"],
            "target": ["95", "95", "是", "80"],
            "unit": ["%", "%", "", "%"],
            "actual_value": [np.nan] * 4,
        }
    )
    columns = (series["symbol"], series["target"], series["unit"])
    want = [shown_target(s, t, u) for s, t, u in zip(*columns, strict=True)]
    assert reference._shown(series).tolist() == want
    evaluated = series.assign(actual_value=[96.0, np.nan, np.nan, 70.5])
    assert reference._shown(evaluated).tolist() == [
        f"{want[0]}（完成 96）",
        want[1],
        want[2],
        f"{want[3]}（完成 70.5）",
    ]


# --- review tables and review.xlsx -------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="12、a", max_size=8), st.none(), st.just(float("nan")))))
def test_code_counts_in_order(texts: list[object]) -> None:
    assert list(_code_counts(texts).items()) == list(code_counts(texts).items())


def _write_tables(book: object, tables: dict) -> None:
    for table in tables.values():
        frame = table.frame[list(table.titles)]
        write_table_block(book, table.sheet, frame, table.titles, compact=True)  # type: ignore[arg-type]


def test_committed_book_is_xlsx_book_redeflated(tmp_path: Path) -> None:
    tables = review_tables(sample_inputs())
    old, new = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    with xlsx_book(old, title="t", subject="s") as book:
        _write_tables(book, tables)
    with review_xlsx.committed_book(new, title="t", subject="s") as book:
        _write_tables(book, tables)
    assert new.read_bytes() == redeflated(old.read_bytes())
    with xlsx_book(old) as book:  # no sheet: xlsxwriter's Sheet1
        pass
    with review_xlsx.committed_book(new) as book:
        pass
    assert new.read_bytes() == redeflated(old.read_bytes())


def test_review_xlsx_is_the_redeflated_package(tmp_path: Path) -> None:
    inputs = sample_inputs()
    tables = review_tables(inputs)
    path = review_xlsx.write_review_xlsx(tmp_path, inputs, tables)
    plain = tmp_path / "plain.xlsx"
    with xlsx_book(plain, title=f"{YEAR} 年度预算绩效指标库审核报告", subject="年度审核") as book:
        for table in tables.values():
            frame = table.frame[list(table.titles)]
            if table.key == "candidates":
                frame = review_xlsx._capped_pairs(frame, table.rows)
            formats = review_xlsx._department_highlights(frame) if table.key == "departments" else {}
            write_table_block(book, table.sheet, frame, table.titles, cell_formats=formats, compact=True)
    assert path.read_bytes() == redeflated(plain.read_bytes())


USAGE_COLUMNS = {
    "indicator_id": st.sampled_from(["ZB-1", "ZB-2", "ZB-10"]),
    "dept_code": st.sampled_from(["101", "205"]),
    "year": st.sampled_from([2024, 2025]),
    "project": st.sampled_from(["甲", "乙", ""]),
    "unit": st.sampled_from(["%", "个", ""]),
    "target": st.sampled_from(["95", "90", "是", "100"]),
    "symbol": st.sampled_from(["≥", "=", "≤"]),
    "target_value": st.sampled_from([95.0, float("nan")]),
    "dept_name": st.just("部门"),
}
USAGE = st.fixed_dictionaries(USAGE_COLUMNS)


@settings(max_examples=150, deadline=None)
@given(st.lists(USAGE, max_size=25), st.booleans())
def test_direct_series_is_the_sorted_frame_way(rows: list[dict[str, object]], missing: bool) -> None:
    """reference_values without actuals (no frame sorted) against dept_series(department_series(...)):
    the same frame, index and dtypes; a missing project or unit takes the frame way."""
    from pipelines.store import reference_values as store

    usages = pd.DataFrame(rows, columns=list(USAGE_COLUMNS)).astype(
        {c: "str" for c in ("indicator_id", "dept_code", "project", "unit", "target", "symbol", "dept_name")}
        | {"year": "int64", "target_value": "float64"}
    )
    if missing and len(usages):
        usages.loc[usages.index[0], "project"] = None
    spread, series = reference.reference_values(pd.DataFrame(), usages)
    want = reference.dept_series(store.department_series(usages))
    pd.testing.assert_frame_equal(series, want, check_exact=True)
    pd.testing.assert_frame_equal(spread, store.target_spread(usages), check_exact=True)
    if len(usages) and not missing:
        assert reference._direct_series(usages) is not None
