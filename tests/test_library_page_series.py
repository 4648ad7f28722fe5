"""The library page's department series (reference.dept_series): several projects of one department and
year joined into one text, now run by run over the sorted rows instead of a pandas groupby calling
"、".join per group — the same frame as the groupby gives, with a missing key left to the groupby's rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.report.library_page import reference
from pipelines.report.library_page.reference import SERIES_COLUMNS, dept_series

KEYS = ["indicator_id", "dept_code", "year"]


def _series(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "indicator_id": pd.Series([f"ZB{k:03d}" for k in rng.integers(0, 40, size=n)], dtype="str"),
            "dept_code": pd.Series([f"D{k}" for k in rng.integers(0, 5, size=n)], dtype="str"),
            "year": rng.integers(2024, 2027, size=n).astype("int64"),
            "symbol": rng.choice(["≥", "≤", "="], size=n),
            "target": [str(v) for v in rng.integers(1, 30, size=n)],
            "unit": rng.choice(["%", "人次", "个"], size=n),
            "actual_value": np.where(rng.random(n) < 0.3, rng.random(n) * 100, np.nan),
        }
    )


def _by_groupby(series: pd.DataFrame) -> pd.DataFrame:
    u = (
        series[KEYS]
        .assign(target=reference._shown(series))
        .drop_duplicates()
        .sort_values(KEYS, kind="stable")
    )
    several = u.duplicated(KEYS, keep=False)
    joined = u[several].groupby(KEYS, sort=True)["target"].agg("、".join).reset_index()
    out = pd.concat([u[~several], joined], ignore_index=True).sort_values(KEYS, kind="stable")
    return out[SERIES_COLUMNS]


@pytest.mark.parametrize("n", [1, 7, 400, 3000])
def test_the_runs_joined_are_the_groupby_s(n: int) -> None:
    series = _series(n, seed=n)
    expected = _by_groupby(series)
    got = dept_series(series)
    pd.testing.assert_frame_equal(got, expected)
    if n >= 400:  # several projects of one department and year met, joined in their order
        assert got["target"].str.contains("、").any()


def test_a_missing_key_follows_the_groupby() -> None:
    series = _series(500, seed=3)
    series.loc[::7, "dept_code"] = np.nan
    pd.testing.assert_frame_equal(dept_series(series), _by_groupby(series))


def test_the_runs_are_told_apart_by_every_key() -> None:
    """Consecutive runs sharing the id and department but not the year, or the year but not the id."""
    series = _series(6, seed=1).assign(
        indicator_id=["A", "A", "A", "A", "B", "B"],
        dept_code=["D", "D", "D", "D", "D", "D"],
        year=[2025, 2025, 2026, 2026, 2026, 2026],
        target=["1", "2", "3", "4", "5", "6"],
        symbol="=",
        unit="个",
        actual_value=np.nan,
    )
    got = dept_series(series)
    assert len(got) == 3 and got["target"].str.count("、").tolist() == [1, 1, 1]
    pd.testing.assert_frame_equal(got, _by_groupby(series))


def _shown_by_tuples(series: pd.DataFrame) -> pd.Series:
    """The targets as shown, each distinct (symbol, target, unit) a MultiIndex tuple (the old way)."""
    from pipelines.intake.targets import shown_target
    from pipelines.report.library_page.data import short_number

    parts = series[["symbol", "target", "unit"]].astype(str)
    codes, distinct = pd.factorize(pd.MultiIndex.from_frame(parts))
    texts = [shown_target(symbol, target, unit) for symbol, target, unit in distinct]
    text = pd.Series(pd.Index(texts, dtype=object).take(codes), index=series.index, dtype=object)
    actual = series["actual_value"]
    done = [f"（完成 {short_number(a)}）" if a == a and a is not None else "" for a in actual.tolist()]
    return text + pd.Series(done, index=series.index, dtype=object)


@pytest.mark.parametrize("n", [1, 50, 3000])
def test_targets_shown_once_per_distinct_triple(n: int) -> None:
    series = _series(n, seed=n + 1)
    series.index = series.index * 3 + 5  # the rows keep their labels
    expected = _shown_by_tuples(series)
    got = reference._shown(series)
    pd.testing.assert_series_equal(got, expected)
    assert got.str.contains("完成").any() == (series["actual_value"].notna().any())


def test_the_combined_codes_tell_every_triple_apart() -> None:
    """("1", "12") and ("11", "2") are different triples however the codes combine."""
    parts = pd.DataFrame(
        {"symbol": ["≥", "≥", "≥", "≥"], "target": ["1", "11", "1", "11"], "unit": ["2", "", "2", ""]}
    )
    codes, triples = reference._distinct_triples(parts)
    assert [triples[c] for c in codes] == [tuple(r) for r in parts.itertuples(index=False)]
    assert len(triples) == 2


def test_labels_numbered_as_first_met_row_by_row() -> None:
    from pipelines.report.library_page.data import Labels

    values = ["乙", "甲", "乙", "丙", "甲", "丁", "", "丙"]
    labels = Labels(["甲", "戊"])
    one_by_one = Labels(["甲", "戊"])
    assert labels.column(values) == [one_by_one.of(v) for v in values] == [2, 0, 2, 3, 0, 4, 5, 3]
    assert labels.items == one_by_one.items == ["甲", "戊", "乙", "丙", "丁", ""]
    assert labels.column(["己", "乙"]) == [6, 2] and labels.items[-1] == "己"


def _search_texts_field_by_field(ind: pd.DataFrame) -> list[object]:
    from pipelines.report.library_page.data import SEP, names, text
    from pipelines.report.library_page.fold import browser_fold, fold, needs_fold

    out: list[object] = []
    cols = zip(
        text(ind, "indicator_id"),
        text(ind, "name"),
        [" ".join(names(a)) for a in ind["aliases"]],
        text(ind, "keywords"),
        text(ind, "definition"),
        strict=True,
    )
    for fields in cols:
        if not any(needs_fold(f) for f in fields):
            out.append(0)
            continue
        folded = SEP.join((fields[0].lower(), *(fold(f) for f in fields[1:])))
        out.append(0 if folded == browser_fold(SEP.join(fields)) else folded)
    return out


def test_search_texts_looked_at_whole_as_field_by_field() -> None:
    """Edge and double spaces in any field, a mapped (繁体) character, empty fields, a field holding the
    separator itself: the same 0 or folded text as needs_fold field by field."""
    from pipelines.report.library_page.data import SEP, search_texts

    rng = np.random.default_rng(13)
    pieces = ["指标", "完成率", " ", "  ", "億", "臺", "Ａ", "ab", "", SEP, "\u3000", "x y", "\t"]
    n = 4000
    rows = {
        c: ["".join(rng.choice(pieces, size=rng.integers(0, 4))) for _ in range(n)]
        for c in ("indicator_id", "name", "keywords", "definition")
    }
    aliases = [list(rng.choice(pieces, size=rng.integers(0, 3))) for _ in range(n)]
    ind = pd.DataFrame({**rows, "aliases": aliases})
    got = search_texts(ind)
    assert got == _search_texts_field_by_field(ind)
    assert 0 < sum(v == 0 for v in got) < n  # both kinds met
