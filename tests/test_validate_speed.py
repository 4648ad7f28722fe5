"""The faster paths of validation give exactly what the plain pandas ones gave (issue 15: same outputs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.validate.canonicalize import stack_rows
from schemas.text import clean_text, clean_texts

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
