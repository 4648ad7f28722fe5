"""Per-distinct work at a province's size: the normalize step's name forms and identity's explanation forms
made in two halves (the second in a forked child), and the as-written fallback chosen once per distinct
combination, give exactly what the one-pass, per-row ways give — on real rows nobody here wrote
(tests/data/*_names.csv)."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.common import halves
from pipelines.common.background import fork_supported
from pipelines.consolidate.build import _or_written
from pipelines.consolidate.new_indicators import key_definitions
from pipelines.normalize.canonical import default_rules, definition_form, normalize_name
from pipelines.normalize.keys import NameForms, normalize_rows
from pipelines.normalize.suffixes import suffix_table
from tests.forking import forks_on  # noqa: F401  (autouse: forking on in this module)

DATA = Path(__file__).parent / "data"


def _real_rows() -> pd.DataFrame:
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(glob.glob(str(DATA / "*_names.csv")))
    ]
    real = pd.concat(frames, ignore_index=True)
    columns = ["scope", "level1", "level2", "name", "unit", "function_code", "definition"]
    out = real[columns].copy()
    out["target_unit"] = ""
    # Written again with the names' characters reversed: more distinct names, the same kinds of text.
    twice = out.assign(name=out["name"].map(lambda s: s[::-1]))
    return pd.concat([out, twice, out.iloc[::3]], ignore_index=True)


@pytest.mark.skipif(not fork_supported(), reason="no fork here: the name forms are made in one pass")
def test_name_forms_made_in_halves_equal_one_pass_and_the_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _real_rows()
    assert frame["name"].nunique() > 2_000
    forks: list[int] = []
    plain_forked = halves.forked

    def counted(fn, *args):  # type: ignore[no-untyped-def]
        forks.append(1)
        return plain_forked(fn, *args)

    monkeypatch.setattr(halves, "forked", counted)
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    split = normalize_rows(frame, compact=True)
    assert forks == [1]  # the name forms' second half was made in a child
    monkeypatch.setenv("INDICATORS_FORK", "0")
    one_pass = normalize_rows(frame, compact=True)
    assert forks == [1]
    pd.testing.assert_frame_equal(split, one_pass, check_exact=True)
    # And both are the functions' values, row by row (a half joined in the wrong order would not be).
    rules, classify = default_rules(), suffix_table().classify
    for name, name_norm, unit, match_name, applied, suffix in zip(
        split["name"].astype(str),
        split["name_norm"].astype(str),
        split["unit_from_name"].astype(str),
        split["match_name"].astype(str),
        split["match_rules"].astype(str),
        split["suffix_class"].astype(str),
        strict=True,
    ):
        assert (name_norm, unit) == normalize_name(name)
        assert (match_name, applied) == tuple(str(v) for v in rules.match_form(name_norm))
        assert suffix == classify(match_name)


def test_below_split_min_the_name_forms_are_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    forks: list[int] = []
    monkeypatch.setattr(halves, "forked", lambda fn, *args: forks.append(1))
    out = normalize_rows(_real_rows().iloc[:500], compact=True)  # under halves.SPLIT_MIN distinct names
    assert forks == [] and len(out) == 500


def _per_row(canonical: pd.Series, written: pd.Series) -> pd.Series:
    """The as-written fallback computed row by row (the way before it was chosen per combination)."""
    value = canonical.astype(str).to_numpy(dtype=object)
    return pd.Series(
        np.where(value != "", value, written.astype(str).to_numpy(dtype=object)),
        index=canonical.index,
        dtype=str,
    )


@pytest.mark.parametrize("categorical", [True, False])
def test_as_written_fallback_per_combination_equals_per_row(categorical: bool) -> None:
    canonical_values = ["实际值", "", "历史标准", None, "", "计划标准", "实际值", ""] * 25
    written_values = ["", "按实际", "歷史標準", "年度计划", None, "", "=1+1", "按实际"] * 25
    canonical = pd.Series(canonical_values, dtype="category" if categorical else object)
    written = pd.Series(written_values, dtype="category" if categorical else str)
    canonical.index = written.index = pd.RangeIndex(7, 7 + len(canonical_values))
    found = _or_written(canonical, written)
    pd.testing.assert_series_equal(found, _per_row(canonical, written), check_exact=True)
    assert found.iloc[1] == "按实际" and found.iloc[0] == "实际值" and found.iloc[6] == "实际值"


@pytest.mark.skipif(not fork_supported(), reason="no fork here: the forms are made in one pass")
def test_key_definitions_in_halves_equal_one_pass_and_the_function(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _real_rows()
    frame["definition"] = frame["definition"].where(frame.index % 4 != 0, frame["name"] + "（反映情况）")
    scope = frame["scope"].to_numpy(dtype=object)
    assert (scope == "项目").sum() > 1_000 and frame["definition"].nunique() > 1_000
    pos = np.arange(len(frame))[::-1]  # every row, in another order than the frame's
    key_code, keys = pd.factorize(frame["name"].to_numpy(dtype=object)[pos])
    forks: list[int] = []
    plain_forked = halves.forked
    monkeypatch.setattr(halves, "forked", lambda fn, *args: forks.append(1) or plain_forked(fn, *args))
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)
    split = key_definitions(frame, pos, key_code, len(keys), scope)
    assert forks == [1]
    monkeypatch.setenv("INDICATORS_FORK", "0")
    assert split.tolist() == key_definitions(frame, pos, key_code, len(keys), scope).tolist()
    # Each key's explanation is the form of one of its 项目 rows' explanations ("" for a key with none).
    texts = frame["definition"].to_numpy(dtype=object)[pos]
    for code, form in enumerate(split.tolist()):
        rows = np.flatnonzero((key_code == code) & (scope[pos] == "项目"))
        assert form in ({definition_form(t) for t in texts[rows]} if len(rows) else {""})


def test_names_already_known_are_looked_up_here_not_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _real_rows()
    first = normalize_rows(frame, compact=True)
    known = NameForms.of(first)
    assert known is not None
    forks: list[int] = []
    monkeypatch.setattr(halves, "forked", lambda fn, *args: forks.append(1))
    monkeypatch.setattr(halves, "SPLIT_MIN", 2)  # every name known: nothing to make, so no child either
    again = normalize_rows(frame, compact=True, known=known)
    assert forks == []
    pd.testing.assert_frame_equal(again, first, check_exact=True)
