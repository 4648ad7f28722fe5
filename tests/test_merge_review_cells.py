"""merge_review.xlsx's cells computed a column at a time (pipelines/dedupe/review.py) are exactly those of
the cell-by-cell rules they replace: every text neutralized, scores rounded half to even, a missing
definition score blank, groups numbered by first appearance, one pattern row per pattern with its first
pair as example — for object and Arrow text columns alike, with hostile text."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from pipelines.common.formulas import neutralize
from pipelines.dedupe import review
from pipelines.dedupe.candidates import CANDIDATE_COLUMNS, sort_candidates
from pipelines.dedupe.review import PATTERN_SHEET, REVIEW_SHEET, write_merge_review

HOSTILE = ["=1+1", "＝SUM(A1)", " -5%", "\t@x", "　+3", "﹢1", "⁺2", "", "普通名称", "'=quoted", "+", "a&<b>"]


def candidates(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"指标{k}" for k in range(60)] + HOSTILE
    patterns = ["培→训", "湿→耕", "=→+", " 空→格", "服务→∅"]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        p = int(rng.integers(len(patterns)))
        rows.append(
            dict.fromkeys(CANDIDATE_COLUMNS, "")
            | {
                "id_a": f"ZB-{int(rng.integers(50)):04d}",
                "id_b": f"ZB-{int(rng.integers(50, 100)):04d}",
                "name_a": names[int(rng.integers(len(names)))],
                "name_b": names[int(rng.integers(len(names)))],
                "score": float(rng.choice([97.5, 96.5, 50.5, 0.5, 100.0, 63.25])),
                "reason": HOSTILE[i % len(HOSTILE)] + "；理由",
                "pattern": patterns[p],
                "pattern_group": f"组{p % 3}",
                "name_score": float(rng.integers(0, 1000)) / 10,
                "definition_score": np.nan if i % 7 == 0 else float(rng.integers(0, 100)),
                "cosine": 0.5,
                "unit_a": HOSTILE[i % 5],
                "unit_b": "%",
                "level2": "产出指标" if i % 2 else "=效益",
                "likely": bool(i % 3),
            }
        )
    return pd.DataFrame(rows, columns=list(dict.fromkeys([*CANDIDATE_COLUMNS, "likely"])))


def cell_by_cell(cands: pd.DataFrame, groups: dict[str, str]) -> list[list[Any]]:
    """The rules written out one cell at a time (the way the columns were built before)."""

    def text(v: str) -> str:
        return str(neutralize(v))

    out: list[list[Any]] = []
    for c in ("id_a", "name_a", "id_b", "name_b"):
        out.append([text(v) for v in cands[c].tolist()])
    out.append([float(int(round(v))) for v in cands["score"].tolist()])
    out += [[text(v) for v in cands[c].tolist()] for c in ("reason", "pattern")]
    out.append([text(groups[g]) for g in cands["pattern_group"].tolist()])
    out += [[text(v) for v in cands[c].tolist()] for c in ("unit_a", "unit_b", "level2")]
    out.append([float(v) for v in cands["name_score"].tolist()])
    out.append(["" if pd.isna(v) else float(v) for v in cands["definition_score"].tolist()])
    likely = cands["likely"].tolist() if "likely" in cands.columns else [True] * len(cands)
    out.append([review.LIKELY if v else review.POSSIBLE for v in likely])
    return out


def typed(columns: list[list[Any]]) -> list[list[tuple[type, Any]]]:
    return [[(type(v), v) for v in col] for col in columns]


def group_numbers(cands: pd.DataFrame) -> dict[str, str]:
    groups: dict[str, str] = {}
    for g in cands["pattern_group"]:
        groups.setdefault(g, f"G{len(groups) + 1:04d}")
    return groups


def arrow(frame: pd.DataFrame) -> pd.DataFrame:
    texts = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(texts, "string[pyarrow]"))


@pytest.mark.parametrize("make", [lambda f: f, arrow], ids=["object", "arrow"])
def test_the_columns_are_those_of_the_cell_by_cell_rules(make: Any) -> None:
    cands = make(sort_candidates(candidates()))
    groups = group_numbers(cands)
    assert typed(review._pair_columns(cands, groups)) == typed(cell_by_cell(cands, groups))
    without = cands.drop(columns="likely")  # an older frame: every pair likely
    assert review._pair_columns(without, groups)[-1] == [review.LIKELY] * len(cands)


def test_a_negative_score_rounding_to_zero_is_written_as_zero() -> None:
    cands = sort_candidates(candidates(20))
    cands.loc[0, "score"] = -0.4
    score = review._pair_columns(cands, group_numbers(cands))[4]
    assert score[0] == 0.0 and str(score[0]) == "0.0"  # not -0.0 (written "-0")


def test_neutralized_matches_neutralize_for_every_first_character() -> None:
    texts = [chr(c) + "1" for c in range(0x20000) if unicodedata.category(chr(c)) != "Cs"]
    texts += HOSTILE + [" =1", "\u3000＋1", "\n-1", "  ", "x"]
    assert review._neutralized(texts) == [str(neutralize(t)) for t in texts]


def test_the_written_workbook_reads_back_as_the_rules_say(tmp_path: Path) -> None:
    raw = candidates()
    cands = sort_candidates(raw)
    groups = group_numbers(cands)
    path = write_merge_review(raw, tmp_path / "merge_review.xlsx")
    assert write_merge_review(arrow(raw), tmp_path / "arrow.xlsx").read_bytes() == path.read_bytes()
    wb = openpyxl.load_workbook(path, read_only=True)
    body = list(wb[REVIEW_SHEET].iter_rows(min_row=2, values_only=True))
    expected = cell_by_cell(cands, groups)
    expected.insert(review._DECISION_COL, [None] * len(cands))
    for j, column in enumerate(expected):
        assert [row[j] for row in body] == column, j
    patterns = list(wb[PATTERN_SHEET].iter_rows(min_row=2, values_only=True))
    firsts: dict[str, int] = {}
    for i, p in enumerate(cands["pattern"]):
        firsts.setdefault(p, i)
    counts = cands["pattern"].value_counts()
    assert patterns == [
        (
            groups[cands.at[i, "pattern_group"]],
            str(neutralize(p)),
            int(counts[p]),
            str(neutralize(f"{cands.at[i, 'name_b']} → {cands.at[i, 'name_a']}")),
            None,
        )
        for p, i in firsts.items()
    ]
    wb.close()
