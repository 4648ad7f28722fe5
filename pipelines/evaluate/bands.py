"""The self-evaluation's scoring bands as data (schemas/reference/self_eval_bands.csv): a bureau changes a band
there, not in code."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.vocab import REFERENCE_DIR, read_reference_csv

BANDS_FILE = "self_eval_bands.csv"


@dataclass(frozen=True)
class Band:
    label: str
    low: float  # percent; -inf when the band has no lower bound
    high: float  # percent; +inf when none
    share: float  # percent of the points given in the band (threshold tables)


@dataclass(frozen=True)
class ScoringBands:
    proportional_pass: float  # completion rate (percent) below which 按完成比例赋分 scores 0
    proportional_cap: float  # completion rate (percent) above which no more points are given
    qualitative: tuple[Band, ...]  # the three 评判等级, each with the range of shares it allows
    satisfaction: tuple[Band, ...]  # top down
    budget: tuple[Band, ...]  # 未完成 (or over budget), by execution rate, top down
    budget_completed: Band  # completed within budget
    grades: tuple[Band, ...]  # 优 良 中 差, top down, by total
    budget_points: float  # 预算执行率's points
    project_points: float  # a project's total

    def qualitative_band(self, label: str) -> Band | None:
        return next((b for b in self.qualitative if b.label == label), None)


def _number(text: str, empty: float) -> float:
    return float(text) if text else empty


def threshold(bands: tuple[Band, ...], value: float) -> Band:
    """The first band, top down, whose lower bound `value` reaches (the last band has none)."""
    for band in bands:
        if value >= band.low:
            return band
    return bands[-1]


@cache
def scoring_bands(directory: str | None = None) -> ScoringBands:
    """The bands of the shipped reference, or of a bureau's own edition directory when it holds the file."""
    own = Path(directory) / BANDS_FILE if directory else None
    path = own if own is not None and own.is_file() else REFERENCE_DIR / BANDS_FILE
    tables: dict[str, list[Band]] = {}
    for r in read_reference_csv(path):
        band = Band(
            r["band"], _number(r["min"], -math.inf), _number(r["max"], math.inf), _number(r["share"], 0.0)
        )
        tables.setdefault(r["table"], []).append(band)
    points = {b.label: b.low for b in tables["points"]}
    passing = tables["proportional"][0]
    return ScoringBands(
        proportional_pass=passing.low,
        proportional_cap=passing.high,
        qualitative=tuple(tables["qualitative"]),
        satisfaction=tuple(tables["satisfaction"]),
        budget=tuple(tables["budget"]),
        budget_completed=tables["budget_completed"][0],
        grades=tuple(tables["grade"]),
        budget_points=points["预算执行率"],
        project_points=points["项目总分"],
    )
