"""CONTRACT §3, nothing changed silently: a note on the row for every reinterpretation — old or short framework
labels (I401), a 一级 filled from an empty cell, template markers taken out of a name, a unit read from the
end of a name (I404). A placeholder taken from before the end of a name ("提高**对**的重视程度") is not a note but a
warning (W220): part of the name was never filled in. Rows of a workbook set aside get none; rejected rows do:
they explain what was judged."""

from __future__ import annotations

import pandas as pd

from pipelines.common.frames import map_distinct
from pipelines.normalize.canonical import normalize_name
from pipelines.validate.hits import hits, no_hits
from pipelines.validate.markers import strip_markers
from pipelines.validate.rules.base import RuleContext, rule


def framework_labels(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    noted = rows.loc[(rows["file_error"] == "") & (rows["framework_note"] != ""), "framework_note"]
    return hits(noted.index, "I401", "level1", detail=noted)


def _level1_inferred(rows: pd.DataFrame) -> pd.DataFrame:
    inferred = rows[rows["level1_inferred"]]
    detail = [
        f"“{l1}”（由二级指标“{l2}”推定）"
        for l1, l2 in zip(inferred["level1"], inferred["level2_as_written"], strict=True)
    ]
    return hits(inferred.index, "I404", "level1", "（空）", detail)


def _has_blanks(written: str) -> bool:
    return bool(strip_markers(written).blanks)


def _left_blank(rows: pd.DataFrame) -> pd.Series:
    """Rows whose name as written had a placeholder before its end (strip_markers is cached: no new work)."""
    marked = rows["name_as_written"] != ""
    blank = pd.Series(False, index=rows.index)
    blank[marked] = map_distinct(rows.loc[marked, "name_as_written"], _has_blanks).astype(bool)
    return blank


def placeholder_left(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    readable = rows.loc[rows["file_error"] == "", ["name", "name_as_written"]]
    blank = readable[_left_blank(readable)]
    return hits(blank.index, "W220", "name", blank["name_as_written"], blank["name"])


def _markers_removed(rows: pd.DataFrame) -> pd.DataFrame:
    marked = rows[(rows["name_as_written"] != "") & ~_left_blank(rows)]  # those are W220
    detail = [
        f"“{name}”（去掉了模板标记 {removed}）"
        for name, removed in zip(marked["name"], marked["name_markers"], strict=True)
    ]
    return hits(marked.index, "I404", "name", marked["name_as_written"], detail)


def _unit_from_name(name: str) -> str:
    return normalize_name(name)[1]


def _unit_read_from_name(rows: pd.DataFrame) -> pd.DataFrame:
    bracketed = rows[rows["name"].str.endswith(")")]  # a unit can only be read from a closing bracket
    units = map_distinct(bracketed["name"], _unit_from_name)
    with_unit = bracketed[units != ""]
    detail = [
        f"“{normalize_name(name)[0]}”，末尾括号中的“{unit}”作为计量单位"
        for name, unit in zip(with_unit["name"], units[with_unit.index], strict=True)
    ]
    return hits(with_unit.index, "I404", "name", with_unit["name"], detail)


_READ = ("level1", "level1_inferred", "level2_as_written", "name", "name_as_written", "name_markers")


def reinterpreted(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    readable = rows.loc[rows["file_error"] == "", list(_READ)]  # only what the notes read: rows are wide
    found = [_level1_inferred(readable), _markers_removed(readable), _unit_read_from_name(readable)]
    found = [f for f in found if not f.empty]
    return pd.concat(found, ignore_index=True) if found else no_hits()


FRAMEWORK_LABEL = rule(
    "framework_label", "I401", "info", "warnings", "old/short labels", check=framework_labels
)
PLACEHOLDER_LEFT = rule(
    "placeholder_left", "W220", "warning", "warnings", "a ** blank inside a name", check=placeholder_left
)
REINTERPRETED = rule("reinterpreted", "I404", "info", "warnings", "marker, 一级, unit", check=reinterpreted)
