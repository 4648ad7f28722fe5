"""沿用 keeps an indicator as published (CONTRACT §3): R116 when the name is none of that indicator's names
(normalized), W219 when the definition or the unit differs. Both wordings are named: a rename needs 修改.

Vectorised over the rows (most rows of a second year are 沿用); the library side once per indicator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.common.frames import map_distinct
from pipelines.normalize.canonical import base_form, normalize_name, normalize_unit
from pipelines.validate.hits import hits, no_hits
from pipelines.validate.rules.base import RuleContext, rule, shared
from pipelines.validate.rules.library_refs import referencing_rows
from schemas.text import compact


def _name_form(text: str) -> str:
    return base_form(normalize_name(text)[0])


def _where_they_differ(a: str, b: str, width: int = 40) -> tuple[str, str]:
    """Two long texts shown from a little before their first difference, so a clerk sees what changed."""
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    start = max(0, start - 8) if start > width // 2 else 0

    def part(text: str) -> str:
        piece = text[start : start + width]
        return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")

    return part(a), part(b)


def _as_list(value: object) -> list[str]:
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [str(v) for v in value]
    return []


def _library_side(keeping: pd.DataFrame, library: pd.DataFrame) -> pd.DataFrame:
    """The name, definition and unit of the indicator each row cites, aligned with the rows."""
    lib = pd.DataFrame(index=keeping.index)
    for column in ("name", "definition", "unit"):
        source = library[column] if column in library.columns else pd.Series("", index=library.index)
        lib[column] = keeping["library_id"].map(source.astype(str)).fillna("").to_numpy()
    return lib


def _renamed(keeping: pd.DataFrame, library: pd.DataFrame, lib: pd.DataFrame) -> pd.Series:
    """Rows whose name (in the normalized matching form) is none of the cited indicator's names."""
    aliases = library["aliases"] if "aliases" in library.columns else pd.Series(None, index=library.index)
    known = {
        lib_id: {_name_form(str(name)), *(_name_form(a) for a in _as_list(alias))}
        for lib_id, name, alias in zip(
            library.index, library.get("name", pd.Series("", index=library.index)), aliases, strict=True
        )
    }
    forms = map_distinct(keeping["name"], _name_form)
    renamed = [
        bool(name) and bool(lib_name) and form not in known.get(lib_id, set())
        for name, lib_name, form, lib_id in zip(
            keeping["name"], lib["name"], forms, keeping["library_id"], strict=True
        )
    ]
    return pd.Series(renamed, index=keeping.index, dtype=bool)


def _differing_details(rest: pd.DataFrame, lib_rest: pd.DataFrame) -> pd.DataFrame:
    """W219 hits: the definition or the unit of a kept row differs from the library's."""
    definition_differs = (
        (rest["definition"] != "")
        & (lib_rest["definition"] != "")
        & (map_distinct(rest["definition"], compact) != map_distinct(lib_rest["definition"], compact))
    )
    unit_differs = (
        (rest["unit"] != "")
        & (lib_rest["unit"] != "")
        & (map_distinct(rest["unit"], normalize_unit) != map_distinct(lib_rest["unit"], normalize_unit))
    )
    differing = rest[definition_differs | unit_differs]
    details, columns = [], []
    for idx in differing.index:
        parts = []
        if definition_differs[idx]:
            ours, theirs = _where_they_differ(rest.at[idx, "definition"], lib_rest.at[idx, "definition"])
            parts.append(f"指标解释为“{ours}”，指标库为“{theirs}”")
        if unit_differs[idx]:
            parts.append(f"计量单位为“{rest.at[idx, 'unit']}”，指标库为“{lib_rest.at[idx, 'unit']}”")
        details.append("；".join(parts))
        columns.append("definition" if definition_differs[idx] else "unit")
    found = hits(differing.index, "W219", "definition", differing["library_id"], details)
    found["column"] = columns
    return found


def _kept(rows: pd.DataFrame, ctx: RuleContext) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series] | None:
    """The 沿用 rows citing a known indicator, the library side of each, and which were renamed: computed
    once per run for both rules."""
    if ctx.indicators is None:
        return None

    def compute() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series] | None:
        assert ctx.indicators is not None
        referencing = referencing_rows(rows)
        known = referencing["library_id"].isin(ctx.indicators["indicator_id"])
        keeping = referencing[known & (referencing["change_type"] == "沿用")]
        if keeping.empty:
            return None
        by_id = ctx.indicators.set_index("indicator_id")
        library = by_id[~by_id.index.duplicated()]  # the same id twice (a county's view): the first speaks
        lib = _library_side(keeping, library)
        return keeping, lib, _renamed(keeping, library, lib)

    return shared(ctx, "kept_wording", rows, compute)


def kept_name(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = _kept(rows, ctx)
    if kept is None:
        return no_hits()
    keeping, lib, renamed = kept
    return hits(
        keeping.index[renamed], "R116", "name", keeping.loc[renamed, "name"], lib.loc[renamed, "name"]
    )


def kept_details(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    kept = _kept(rows, ctx)
    if kept is None:
        return no_hits()
    keeping, lib, renamed = kept
    rest = keeping[~renamed]
    return _differing_details(rest, lib.loc[rest.index])


KEPT_WORDING = rule("kept_wording", "R116", "row_error", "rows", "沿用 keeps the name", check=kept_name)
KEPT_DETAILS = rule("kept_details", "W219", "warning", "rows", "沿用 keeps def/unit", check=kept_details)
