"""The report step's faster paths give what the plain ones give:
- ordering._text_order (Arrow's sort of UTF-8 bytes) is Python's code-point order of str, for texts that
  could tell them apart (astral characters vs the BMP's top, trailing NULs, combining marks, empty text);
  a text UTF-8 cannot encode (a lone surrogate) goes to numpy's compare, in the same order;
- _sort_order equals pandas' multi-key sort on such texts, duplicate id pairs included;
- write_annual_report gives the same files whether merge_review.xlsx is written in a thread beside the
  others (no fork: a large year) or after them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipelines.dedupe.ordering import _sort_order, _sort_order_pandas, _text_order
from pipelines.dedupe.review import write_merge_review
from pipelines.report import build
from pipelines.report.build import write_annual_report
from tests.test_report import YEAR, merge_review_threads, sample_inputs, sha_tree

TRICKY = [
    "",
    "a",
    "a\x00",
    "a\x00b",
    "ab",
    "\uffff",
    "\U0001f600",
    "\U00010000",
    "\ue000",
    "é",
    "e\u0301",
    "指标",
    "指标\x00",
    "Z",
    "z",
    " ",
    "\t",
]


def test_text_order_is_code_point_order() -> None:
    distinct = np.array(TRICKY, dtype=object)
    assert [TRICKY[i] for i in _text_order(distinct)] == sorted(TRICKY)


def test_a_lone_surrogate_is_ordered_all_the_same() -> None:
    texts = [*TRICKY, "\ud800", "a\udfff"]
    distinct = np.array(texts, dtype=object)
    assert [texts[i] for i in _text_order(distinct)] == sorted(texts)


def _frame(n: int, seed: int, texts: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda: rng.choice(np.array(texts, dtype=object), size=n)  # noqa: E731
    return pd.DataFrame(
        {
            "id_a": pick(),
            "name_a": pick(),
            "id_b": pick(),
            "name_b": pick(),
            "score": rng.choice([0.0, -0.0, 40.0, 55.5, 90.0], size=n),
            "pattern": pick(),
            "pattern_group": pick(),
            "reason": [f"r{k}" for k in range(n)],
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sort_order_equals_pandas_on_tricky_texts(seed: int) -> None:
    frame = _frame(500, seed, TRICKY)  # few texts: ids repeat, so the names are ranked too
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame))  # type: ignore[arg-type]


def test_distinct_id_pairs_leave_the_names_out() -> None:
    frame = _frame(len(TRICKY) ** 2, 3, TRICKY)
    frame["id_a"] = np.repeat(np.array(TRICKY, dtype=object), len(TRICKY))
    frame["id_b"] = np.tile(np.array(TRICKY, dtype=object), len(TRICKY))
    frame["name_a"] = None  # never looked at: no two rows share both ids
    assert np.array_equal(_sort_order(frame), _sort_order_pandas(frame.fillna("")))  # type: ignore[arg-type]


def test_merge_review_in_a_thread_gives_the_serial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "0")  # as in a large year: no fork
    inputs = sample_inputs()
    threads = merge_review_threads(monkeypatch)
    files = write_annual_report(tmp_path / "thread" / str(YEAR), inputs)
    assert len(threads) == 1 and threads[0] != threading.main_thread().name
    serial = tmp_path / "serial" / str(YEAR)
    serial.mkdir(parents=True)
    tables = build.review_tables(inputs)
    build.write_review_html(serial, inputs, tables)
    build.write_review_xlsx(serial, inputs, tables)
    build.write_changelog(serial, inputs)
    write_merge_review(inputs.candidates, serial / "merge_review.xlsx")
    build.write_library_page(
        serial,
        inputs.tables,
        build.all_events(inputs.repo_root, inputs.year, inputs.changes),
        inputs.year,
        inputs.actuals,
    )
    assert sha_tree(tmp_path / "thread" / str(YEAR)) == sha_tree(serial)
    assert [p.name for p in files] == [
        "review.html",
        "review.xlsx",
        "CHANGELOG.md",
        "merge_review.xlsx",
        "library.html",
    ]


def test_an_error_in_the_thread_reaches_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INDICATORS_FORK", "0")

    def broken(candidates: Any, path: Path, known: Any = None) -> Path:
        raise OSError("磁盘已满")

    monkeypatch.setattr(build, "write_merge_review", broken)
    with pytest.raises(OSError, match="磁盘已满"):
        write_annual_report(tmp_path / str(YEAR), sample_inputs())
    assert not (tmp_path / str(YEAR) / "merge_review.xlsx").exists()


def _rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = lambda *values: rng.choice(np.array(values, dtype=object), size=n)  # noqa: E731
    return pd.DataFrame(
        {
            "source_file": pick("甲.xlsx", "乙.xlsx", "丙.xlsx", "nan"),
            "outcome": pick("library", "noncore", "excluded", "rejected"),
            "sheet_kind": pick("core", "project", "other"),
            "project": pick("", "项目一", "项目二", "项目三"),
            "complexity": pick("", "", "", "复杂", "单一"),
        }
    )


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype("category")
    return out.assign(source_file=out["source_file"].cat.add_categories(["未用.xlsx"]))  # an unused one


@pytest.mark.parametrize(
    "make",
    [
        lambda: _rows(300, 0),
        lambda: _categorical(_rows(300, 1)),
        lambda: _categorical(_rows(300, 2)).assign(
            complexity=lambda f: f["complexity"].cat.set_categories(["复杂", "单一"])
        ),  # "" not a category: missing values, read as "nan" by astype(str)
        lambda: _rows(200, 3).assign(project=lambda f: pd.Categorical([1, "1", 2, ""] * 50)),  # 1 and "1"
        lambda: _categorical(_rows(100, 4)).drop(columns=["project", "complexity"]),
        lambda: _rows(1, 5),
    ],
)
def test_per_file_counts_are_the_reference_counts(make: Any) -> None:
    # The reference: the counts on the columns as texts (astype(str) of every column, value_counts), as
    # _per_file counted before it read category codes; it stays the path for columns the codes cannot serve.
    from pipelines.report.departments import _per_file, _per_file_texts

    rows = make()
    expected = _per_file_texts(rows).to_dict("index")
    assert _per_file(rows).to_dict("index") == expected
    assert len(expected) >= 1


@pytest.mark.parametrize("seed", [0, 4])
def test_the_sort_hands_over_the_factorizations_of_the_sorted_columns(seed: int) -> None:
    from pipelines.dedupe.ordering import sort_candidates

    for frame in (_frame(400, seed, TRICKY), _frame(60, seed, [f"t{k}" for k in range(1000)])):
        coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        ordered = sort_candidates(frame, coded)
        assert {"pattern_group", "pattern", "id_a", "id_b"} <= set(coded)
        for column, (codes, distinct) in coded.items():
            expected_codes, expected = pd.factorize(ordered[column])
            assert np.array_equal(codes, expected_codes), column
            assert list(distinct) == list(expected), column


@pytest.mark.parametrize("name", ["hostile", "special", "arrow", "one pair", "no likely column"])
def test_merge_review_with_the_sort_s_codes_is_the_xlsxwriter_file(name: str, tmp_path: Path) -> None:
    from pipelines.dedupe.review import write_merge_review
    from tests.test_merge_review_direct import FRAMES, assert_same_workbook, written

    raw = FRAMES[name]()
    reference, _ = written(raw, tmp_path)  # xlsxwriter's file, written cell by cell
    assert_same_workbook(reference, write_merge_review(raw, tmp_path / "merge_review.xlsx").read_bytes())
