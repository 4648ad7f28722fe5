"""The faster paths of validation give exactly what the plain pandas ones gave (issue 15: same outputs)."""

from __future__ import annotations

import pickle
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.common.frames import map_distinct
from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import RowColumns
from pipelines.validate import canonicalize, cells, runner
from pipelines.validate.canonicalize import stack_rows
from pipelines.validate.rules.base import RuleContext
from pipelines.validate.runner import validate_workbooks
from schemas.text import clean_text, clean_texts
from tests.xlsx_builders import core_row, default_info, project_row, write_workbook

TEXTS = st.text(alphabet="a 繁體臺灣頭髮后發乾隆ＡＢ１２，：（）≧％\x1f\u3000\t", max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXTS, max_size=30))
def test_clean_texts_is_clean_text_of_each(texts: list[str]) -> None:
    assert clean_texts(texts) == [clean_text(t) for t in texts]


def _old_stack(parts: list[tuple[pd.DataFrame, dict[str, str]]]) -> pd.DataFrame:
    """stack_rows as it was: pandas' concat, then the constant columns, then "" for missing text."""
    rows = pd.concat([frame for frame, _ in parts], ignore_index=True)
    lengths = np.array([len(frame) for frame, _ in parts])
    for column in parts[0][1]:
        rows[column] = np.repeat(np.array([c[column] for _, c in parts], dtype=object), lengths).astype(str)
    text = [c for c in rows.columns if not pd.api.types.is_numeric_dtype(rows[c])]
    return rows.fillna(dict.fromkeys(text, ""))


def _sheet(columns: list[str], n: int, seed: int) -> pd.DataFrame:
    data: dict[str, object] = {}
    for c in columns:
        if c == "source_row":
            data[c] = np.arange(n, dtype=np.int64) + seed
        elif c == "target_value":
            data[c] = np.where(np.arange(n) % 2 == 0, np.nan, float(seed))
        else:
            data[c] = pd.array([None if (i + seed) % 3 == 0 else f"{c}{i}" for i in range(n)], dtype="str")
    return pd.DataFrame(data)


def test_stack_rows_is_pandas_concat() -> None:
    """Sheets with different columns in different orders (a column some lack, numbers and text)."""
    layouts = [
        ["name", "source_row", "target_value", "level1"],
        ["level1", "project", "name", "source_row"],
        ["name", "source_row", "target_value", "level1"],
        ["extra", "name", "source_row"],
    ]
    parts = [
        (_sheet(cols, n, i), {"sheet_kind": f"k{i}", "dept_code": str(i)})
        for i, (cols, n) in enumerate(zip(layouts, [3, 1, 4, 2], strict=True))
    ]
    expected = _old_stack(parts)
    got = stack_rows(parts)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.columns) == list(expected.columns)


def test_stack_rows_unusual_types_fall_back_to_pandas() -> None:
    """An object column, or one whose type changes between sheets, goes through pandas' own rules."""
    a = pd.DataFrame({"name": pd.array(["x"], dtype="str"), "flag": np.array([True])})
    b = pd.DataFrame({"name": pd.array(["y", None], dtype="str"), "flag": pd.array(["t", "u"], dtype="str")})
    parts = [(a, {"sheet_kind": "core"}), (b, {"sheet_kind": "project"})]
    pd.testing.assert_frame_equal(stack_rows(parts), _old_stack(parts), check_exact=True)


def test_cell_rules_run_directly_find_what_pandera_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cell rule failing somewhere, in each sheet kind (and a 部门信息 failure): the cell rules run
    directly give the same findings and rows as pandera's own lazy validation."""
    bad = [
        {"name": ""},
        {"level1": "预算绩效", "level2": "预算管理"},
        {"level1": "效益指标", "level2": "数量指标"},
        {"symbol": "约等于"},
        {"target": "效果明显"},
        {"change_type": "修改", "library_id": "ZB-X000001"},
        {"change_type": "退出", "change_reason": "不再开展"},
    ]
    project_bad = [{"function_code": "21401x6"}, {"function_code": "9990101"}]
    core = [core_row(), *(core_row(**b) for b in bad)]
    projects = [project_row(), *(project_row(**b) for b in [*bad, *project_bad])]
    common = [project_row(project="共性", **b) for b in [{}, *bad]]
    paths = []
    infos = [default_info(dept_code="100001"), default_info(dept_code="12A", dept_name=""), default_info()]
    for i, info in enumerate(infos):
        paths.append(write_workbook(tmp_path / f"wb{i}.xlsx", info, core, projects, common).path)
    workbooks = [read_workbook(p) for p in paths]
    ran: list[bool] = []
    run_directly = cells.direct_failures
    spy = lambda *a: (lambda r: (ran.append(r is not None), r)[1])(run_directly(*a))  # noqa: E731
    monkeypatch.setattr(cells, "direct_failures", spy)
    direct = validate_workbooks(workbooks, year=2026, finance_dept="100001")
    assert ran and all(ran)  # every sheet kind and 部门信息 ran directly, none fell back to pandera
    monkeypatch.setattr(cells, "direct_failures", lambda *_: None)
    through_pandera = validate_workbooks(workbooks, year=2026, finance_dept="100001")
    assert {f.code for f in direct.findings} >= {f"R1{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 11)}
    assert direct.findings == through_pandera.findings
    pd.testing.assert_frame_equal(direct.rows, through_pandera.rows, check_exact=True)


class _NoCopyContext(RuleContext):
    """A run's context that must never be deep-copied (it holds the reference data)."""

    def __deepcopy__(self, memo: dict[int, object]) -> _NoCopyContext:
        raise AssertionError("the RuleContext was deep-copied")


def test_first_direct_run_copies_no_rule_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process (no shape seen yet) runs the cell rules directly without deep-copying the checks'
    context (pandera's remove_columns/update_columns did: ≈ 0.3–1 s per process), and finds the same."""
    core = [core_row(), core_row(name=""), core_row(symbol="约等于")]
    path = write_workbook(tmp_path / "wb.xlsx", default_info(), core, [project_row()], []).path
    workbooks = [read_workbook(path)]
    through_pandera_run = cells.direct_failures
    monkeypatch.setattr(cells, "direct_failures", lambda *_: None)
    expected = validate_workbooks(workbooks, year=2026, finance_dept="100001")
    monkeypatch.setattr(cells, "direct_failures", through_pandera_run)
    monkeypatch.setattr(cells, "_SHAPES_SEEN", set())
    monkeypatch.setattr(runner, "RuleContext", _NoCopyContext)
    got = validate_workbooks(workbooks, year=2026, finance_dept="100001")
    assert cells._SHAPES_SEEN  # the shapes were judged in this run
    assert "R101" in {f.code for f in got.findings}
    assert got.findings == expected.findings


@pytest.mark.parametrize(
    "values",
    [
        [1.0, np.nan],
        np.array([1, 2], dtype=np.int64),
        pd.array(["1", "2"], dtype="str"),
        np.array([True, False]),
        pd.array([1.0, None], dtype="Float64"),
    ],
)
def test_plain_shape_judges_dtypes_as_pandera(values: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether the direct run may go ahead is pandera's own verdict on the columns' dtypes."""
    monkeypatch.setattr(cells, "_SHAPES_SEEN", set())
    schema = pa.DataFrameSchema(
        {"name": pa.Column(str), "target_value": pa.Column(float, nullable=True)}, name="core"
    )
    frame = pd.DataFrame({"name": pd.array(["a", "b"], dtype="str"), "target_value": values})
    try:
        schema.validate(frame, lazy=True)
        valid = True
    except pa.errors.SchemaErrors:
        valid = False
    assert cells._plain_shape(frame, schema, set()) is valid
    assert cells._plain_shape(frame, schema, set()) is valid  # the second time from the seen shapes


def test_sheet_rows_are_read_as_columns_and_stacked_without_a_frame(tmp_path: Path) -> None:
    """The reader hands its columns on (no DataFrame per sheet); the frame, built when asked for, has
    the frame's dtypes and values, survives pickling, and stacking the columns equals stacking frames."""
    projects = [project_row(), project_row(name="維修驗收合格率", target="≥95%", unit="%", sector="")]
    path = write_workbook(tmp_path / "wb.xlsx", default_info(), [core_row()], projects).path
    book = read_workbook(path)
    sheet = book.sheets["project"]
    assert isinstance(sheet.rows, RowColumns) and sheet.row_count() == 2
    assert sheet.column_values("name") == ["日常维修维护次数", "維修驗收合格率"]
    assert sheet.column_values("source_row") == [2, 3] and sheet.column_values("nope") is None
    copy = pickle.loads(pickle.dumps(book)).sheets["project"]
    frame = sheet.frame
    assert sheet.rows is frame  # built once, then kept
    assert str(frame["name"].dtype) == "str" and str(frame["source_row"].dtype) == "int64"
    assert frame["sector"].tolist() == ["", ""] and frame["target_value"].tolist() == [200.0, 95.0]
    assert isinstance(copy.rows, RowColumns)
    pd.testing.assert_frame_equal(copy.frame, frame, check_exact=True)
    parts = [(s.rows, {"sheet_kind": k}) for k, s in read_workbook(path).sheets.items()]
    frames = [(s.frame, {"sheet_kind": k}) for k, s in book.sheets.items()]
    assert all(isinstance(p, RowColumns) for p, _ in parts)
    pd.testing.assert_frame_equal(stack_rows(parts), _old_stack(frames), check_exact=True)
    mixed = [parts[0], frames[1]]
    pd.testing.assert_frame_equal(stack_rows(mixed), _old_stack(frames), check_exact=True)


def test_folded_text_example_read_from_columns(tmp_path: Path) -> None:
    """I402's example comes from the sheet's columns, with no frame built for it."""
    projects = [project_row(), project_row(name="維修驗收合格率")]
    path = write_workbook(tmp_path / "wb.xlsx", default_info(), [core_row()], projects).path
    book = read_workbook(path)
    result = validate_workbooks([book], year=2026, finance_dept="100001")
    notes = [f for f in result.findings if f.code == "I402"]
    assert len(notes) == 1 and "“維修驗收合格率”→“维修验收合格率”" in notes[0].message
    assert all(isinstance(s.rows, RowColumns) for s in book.sheets.values())


def _old_soft(rows: pd.DataFrame, column: str) -> None:
    """A soft drop-down column as canonicalize resolved it before (pandas over every row)."""
    canonical = partial(canonicalize._canonical_or_empty, canonicalize.VOCAB_OF.get(column, column), None)
    rows[f"{column}_raw"] = rows[column]
    resolved = map_distinct(rows[column], canonical)
    rows[f"{column}_unknown"] = (rows[column] != "") & (resolved == "")
    rows[column] = resolved.where(resolved != "", canonicalize.DEFAULTS.get(column, ""))


@pytest.mark.parametrize("column", ["include", "project_category", "value_method"])
def test_soft_vocabularies_resolved_per_distinct_value(column: str) -> None:
    """Known, unknown and empty values: the same canonical values, defaults, _raw and _unknown columns,
    in the same order, as pandas over every row gave."""
    texts = ["", "是", "否", "不知道", "是", "", "Y", "年度考核", "其他", "不知道"]
    values = pd.array(texts, dtype="str")
    base = pd.DataFrame({"name": pd.array(["n"] * len(texts), dtype="str"), column: values})
    expected, got = base.copy(), base.copy()
    _old_soft(expected, column)
    canonical = partial(canonicalize._canonical_or_empty, canonicalize.VOCAB_OF.get(column, column), None)
    canonicalize._resolve_soft(got, column, canonical)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert list(got.columns) == ["name", column, f"{column}_raw", f"{column}_unknown"]
    assert got[f"{column}_unknown"].any()
