"""Consolidation's shortcuts of issue 15 (twelfth session) give what the plain computation gives, exactly.

- bigram_dice's code strings are made from the forms' code points at once (numpy): the same overlap as
  intersecting each form's bigram set, for empty and one-character forms, characters beyond the BMP and a
  lone surrogate; the set path (more distinct bigrams than code points) the same too;
- contained is looked for only where the shorter name is a subsequence of the longer: the same column as
  `a in b or b in a` over every pair;
- new indicators' issue order is one lexsort of ranks (categories ranked, not rows' texts sorted): the same
  order as sorting the frame of texts it replaced, with missing values, "" and unknown scopes and 二级;
- ids are issued once per key at its first row: rows of one key in several files and departments, and a 共性
  key covering departments' rows, still get one id per key, in issue order (real workbooks).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.consolidate import new_indicators
from pipelines.consolidate.build import consolidate
from pipelines.consolidate.new_indicators import _issue_order, _text_ranks
from pipelines.dedupe import bigrams
from pipelines.dedupe.features import COLUMN, DifferenceWords, Sides, pair_features
from pipelines.intake.read import read_workbook
from pipelines.validate.runner import validate_workbooks
from schemas.vocab import reference
from tests.xlsx_builders import default_info, project_row, write_workbook


def _random_forms(seed: int, count: int) -> np.ndarray:
    rng = random.Random(seed)
    alphabet = "ab率c及时𠀀\ud800"
    found = {"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(count)}
    return np.array(sorted(found), dtype=object)


def _set_overlap(forms: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    grams = [bigrams.bigrams(f) for f in forms]
    pairs = zip(ia.tolist(), ib.tolist(), strict=True)
    return np.array([2 * len(grams[i] & grams[j]) / max(len(grams[i]) + len(grams[j]), 1) for i, j in pairs])


def test_bigram_dice_from_code_points_equals_set_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    forms = _random_forms(3, 600)
    assert "" in set(forms) and any(len(f) == 1 for f in forms)
    rng = np.random.default_rng(5)
    ia, ib = rng.integers(0, len(forms), 5000), rng.integers(0, len(forms), 5000)
    want = _set_overlap(forms, ia, ib)
    assert np.array_equal(bigrams.bigram_dice(forms, ia, ib), want)
    monkeypatch.setattr(bigrams, "_BIGRAM_CODES", 3)  # more distinct bigrams than that: the set path
    assert bigrams._coded_bigrams(forms) is None
    assert np.array_equal(bigrams.bigram_dice(forms, ia, ib), want)


def test_contained_equals_plain_membership() -> None:
    forms = _random_forms(11, 300)
    rng = np.random.default_rng(2)
    ia, ib = rng.integers(0, len(forms), 4000), rng.integers(0, len(forms), 4000)
    a, b = forms[ia], forms[ib]
    blank = np.full(len(ia), "", dtype=object)

    def side(match: np.ndarray) -> Sides:
        return Sides(match, blank, blank, blank, blank, blank)

    x = pair_features(DifferenceWords((), ()), side(a), side(b))
    plain = np.array([(p in q or q in p) and p != q for p, q in zip(a, b, strict=True)], dtype=float)
    assert plain.sum() > 50 and (1 - plain).sum() > 50
    assert np.array_equal(x[:, COLUMN["contained"]], plain)


def _plain_issue_order(norm: pd.DataFrame, scope: np.ndarray) -> np.ndarray:
    """The frame of texts sorted as before (pandas' multi-key sort)."""

    def text(column: str) -> np.ndarray:
        return norm[column].astype(object).where(norm[column].notna(), "").astype(str).to_numpy(dtype=object)

    framework = {l2: i for i, (_, l2) in enumerate(reference().framework)}
    frame = pd.DataFrame(
        {
            "pos": np.arange(len(norm)),
            "scope_order": pd.Series(scope).map({"共性": 0, "部门整体": 1, "项目": 2}).fillna(3).astype(int),
            "function_class": text("function_class"),
            "l2_order": pd.Series(text("level2")).map(framework).fillna(99).astype(int),
            "match_name": text("match_name"),
            "key": text("key"),
            "dept_code": text("dept_code"),
            "source_file": text("source_file"),
            "source_row": pd.to_numeric(norm["source_row"], errors="coerce").fillna(0).to_numpy(),
        }
    )
    keys = ["scope_order", "function_class", "l2_order", "match_name", "key", "dept_code", "source_file"]
    return frame.sort_values([*keys, "source_row", "pos"], kind="stable")["pos"].to_numpy()


def test_issue_order_equals_sorting_the_texts() -> None:
    rng = random.Random(7)
    n = 400
    level2 = [l2 for _, l2 in reference().framework][:3] + ["不在框架内", ""]

    def pick(values: list[str | None]) -> list[str | None]:
        return [rng.choice(values) for _ in range(n)]

    norm = pd.DataFrame(
        {
            "function_class": pd.Categorical(pick(["205", "", None, "201"]), categories=["205", "", "201"]),
            "level2": pd.Categorical(pick(level2)),
            "match_name": pick(["率b", "率a", "a", "", "𠀀"]),
            "key": pd.Categorical(pick(["k2", "k1", None, "k10"])),
            "dept_code": pd.Categorical(pick(["102", "101", "1010"])),
            "source_file": pick(["b.xlsx", "a.xlsx"]),
            "source_row": pick(["3", "12", "x", None]),
        }
    )
    scope = np.array(pick(["项目", "共性", "部门整体", "其他"]), dtype=object)
    todo = np.arange(n)
    assert np.array_equal(_issue_order(norm, todo, {"scope": scope}), _plain_issue_order(norm, scope))
    part = np.array(sorted(rng.sample(range(n), 150)))
    plain = _plain_issue_order(norm.iloc[part].reset_index(drop=True), scope[part])
    assert np.array_equal(_issue_order(norm, part, {"scope": scope}), plain)


def test_text_ranks_tie_equal_texts() -> None:
    values = pd.Series(pd.Categorical(["b", None, "", "a", "b"], categories=["b", "", "a"]))
    assert _text_ranks(values).tolist() == [2, 0, 0, 1, 2]
    assert _text_ranks(pd.Series(["b", None, "", "a"], dtype=object)).tolist() == [2, 0, 0, 1]


def _meeting(name: str, project: str = "会议保障", code: str = "2010101") -> dict[str, object]:
    return project_row(project=project, function_code=code, name=name, unit="次", definition=f"反映{name}")


def test_one_id_per_key_in_issue_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows of one key in several files and departments (read in no particular order) get one id; a 共性
    row's key is issued first and the departments' rows equal to it are its usages."""
    files = [
        ("c.xlsx", "203", [_meeting("培训人次"), _meeting("验收次数", "验收")], None),
        ("a.xlsx", "202", [_meeting("验收次数"), _meeting("培训人次", "培训"), _meeting("巡查次数")], None),
        ("f.xlsx", "101", [], [_meeting("培训人次", "", "")]),
        ("b.xlsx", "204", [_meeting("巡查次数", "巡查"), _meeting("验收次数")], None),
    ]
    for name, dept, projects, common in files:
        write_workbook(
            tmp_path / name, default_info(2026, dept, f"部门{dept}"), [], projects, common_rows=common
        )
    validation = validate_workbooks(
        [read_workbook(tmp_path / f[0]) for f in files], year=2026, finance_dept="101"
    )
    assert (validation.rows["outcome"] == "library").all()
    issued: list[str] = []
    original = new_indicators.IdAllocator.issue

    def issue(self: new_indicators.IdAllocator, scope: str) -> str:
        issued.append(scope)
        return original(self, scope)

    monkeypatch.setattr(new_indicators.IdAllocator, "issue", issue)
    result = consolidate(validation.rows, validation.departments, year=2026, previous=None)
    usages = result.tables.usages
    by_name = usages.groupby("name")["indicator_id"].agg(lambda ids: sorted(set(ids)))
    # 共性 first, then by matching name (巡查 < 验收 in code points): one id per key, whatever the rows' order
    assert issued == ["共性", "项目", "项目"]
    assert by_name.to_dict() == {
        "培训人次": ["ZB-G000001"],
        "巡查次数": ["ZB-X000001"],
        "验收次数": ["ZB-X000002"],
    }
    assert sorted(result.new_ids) == ["ZB-G000001", "ZB-X000001", "ZB-X000002"]
