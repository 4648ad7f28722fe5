"""New indicators: their ids, the order they are issued in, and what their record says (identity step 6).

indicator_id format: <namespace>-<G|B|X><6 digits> (G 共性, B 部门整体, X 项目: the scope it was issued
under — an indicator later made 共性 keeps its X or B), e.g. ZB-X000123. The number is the next after the
highest ever issued in that namespace and letter; retired and merged rows stay in the table, so an id is
never reused. Ids are issued in a fixed order (共性 first, then by function class, framework order, name,
department, file and row), so the same inputs give the same ids whatever order the files were read in.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from pipelines.common.frames import text_array
from pipelines.consolidate.key_index import class_free, map_text
from pipelines.consolidate.per_indicator import most_common_per_id, representative_names, variants_per_id
from pipelines.consolidate.records import Records
from pipelines.normalize.canonical import definition_form
from schemas.library import SCOPE_LETTER
from schemas.vocab import reference


class IdAllocator:
    """Hands out never-reused ids: the next number after the highest ever issued per namespace+letter."""

    def __init__(self, namespace: str, existing: Iterable[str]) -> None:
        self.namespace = namespace
        self.next: dict[str, int] = {}
        prefix = f"{namespace}-"
        for iid in existing:
            if iid.startswith(prefix) and len(iid) == len(prefix) + 7:
                letter, number = iid[len(prefix)], int(iid[len(prefix) + 1 :])
                self.next[letter] = max(self.next.get(letter, 1), number + 1)

    def issue(self, scope: str) -> str:
        letter = SCOPE_LETTER[scope]
        number = self.next.get(letter, 1)
        self.next[letter] = number + 1
        return f"{self.namespace}-{letter}{number:06d}"


_ISSUE_ORDER = [
    "scope_order", "function_class", "l2_order", "match_name", "key", "dept_code", "source_file",
    "source_row", "pos",
]  # fmt: skip


def rows_to_issue(norm: pd.DataFrame, todo: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """The rows still without an indicator (positions `todo`), in the order ids are issued. `columns`: the
    identity's per-row arrays (scope, match_name, key, common_key, cfk, dept_code), all rows long."""
    fresh = pd.DataFrame(
        {
            "pos": todo,
            "scope": columns["scope"][todo],
            "function_class": text_array(norm["function_class"])[todo],
            "level2": text_array(norm["level2"])[todo],
            "match_name": columns["match_name"][todo],
            "key": columns["key"][todo],
            "common_key": columns["common_key"][todo],
            "cfk": columns["cfk"][todo],
            "definition": _definition_forms(norm)[todo] if "definition" in norm else "",
            "dept_code": columns["dept_code"][todo],
            "source_file": text_array(norm["source_file"])[todo],
            "source_row": pd.to_numeric(norm["source_row"], errors="coerce").fillna(0).to_numpy()[todo],
        }
    )
    fresh["scope_order"] = fresh["scope"].map({"共性": 0, "部门整体": 1, "项目": 2}).fillna(3).astype(int)
    framework_order = {l2: i for i, (_, l2) in enumerate(reference().framework)}
    fresh["l2_order"] = fresh["level2"].map(framework_order).fillna(99).astype(int)
    return fresh.sort_values(_ISSUE_ORDER, kind="stable")


def _definition_forms(norm: pd.DataFrame) -> np.ndarray:
    return map_text(norm["definition"], definition_form)


def key_definitions(fresh: pd.DataFrame) -> dict[str, str]:
    """Each new key's explanation: the one written most often (ties: the smallest); keys without one are
    left out."""
    written = fresh[fresh["definition"] != ""]
    counts = written.groupby(["key", "definition"]).size().reset_index(name="n")
    counts = counts.sort_values(["key", "n", "definition"], ascending=[True, False, True], kind="stable")
    return dict(counts.drop_duplicates("key")[["key", "definition"]].itertuples(index=False))


def released_by_explanation(key_index: pd.DataFrame, records: Records) -> dict[tuple[str, str], str]:
    """Released active 项目 indicators by (class-free key, explanation form): a new class's row joins them."""
    cross: dict[tuple[str, str], str] = {}
    if key_index.empty:
        return cross
    own = key_index[~key_index["is_alias"].astype(bool)]
    for iid, key in sorted(zip(own["indicator_id"], own["key"], strict=True)):
        rec = records[iid]
        definition = definition_form(str(rec.get("definition", "") or ""))
        if rec["status"] == "active" and rec["scope"] == "项目" and definition:
            cross.setdefault((class_free(str(key)), definition), str(iid))
    return cross


NEW_FROM_ROWS = {  # indicator field → the normalized row column its most common value comes from
    "level1": "level1",
    "level2": "level2",
    "definition": "definition",
    "formula": "formula",
    "symbol": "symbol",
    "unit": "unit_norm",
    "nature": "nature",
    "function_code": "function_code",
    "keywords": "keywords",
    "national_standard": "national_standard",
    "industry_standard": "industry_standard",
    "standard_source": "standard_source",
    "indicator_source": "indicator_source",
    "last_change_reason": "change_reason",
}


def create_new(
    records: Records,
    norm: pd.DataFrame,
    new_ids: list[str],
    year: int,
    scopes: dict[str, str] | None = None,
) -> None:
    """A new indicator takes, field by field, the value most departments wrote; its scope is the scope of
    the row that issued it (`scopes`: a 共性 row when there is one, whatever order the files were read in)."""
    if not new_ids:
        return
    id_code = pd.Index(new_ids).get_indexer(norm["indicator_id"])  # -1: a row of an existing indicator
    n = len(new_ids)
    values = {
        field: most_common_per_id(id_code, n, norm[column])
        if column in norm
        else np.full(n, "", dtype=object)
        for field, column in NEW_FROM_ROWS.items()
    }  # a column the rows lack (rows made before it existed) gives ""
    names = representative_names(id_code, n, norm)
    mine = np.flatnonzero(id_code >= 0)
    _, first = np.unique(id_code[mine], return_index=True)
    first_scopes = norm["scope"].to_numpy(dtype=object)[mine[first]]
    variants = variants_per_id(id_code, n, norm["name_norm"])
    columns = {field: found.tolist() for field, found in values.items()}  # lists: no numpy scalar per value
    for k, iid in enumerate(new_ids):
        scope, name = (scopes or {}).get(iid, first_scopes[k]), names[k]
        record: dict[str, object] = {field: str(found[k]) for field, found in columns.items()}
        code = str(record["function_code"]) if scope == "项目" else ""
        record.update(
            indicator_id=iid,
            scope=scope,
            name=name,
            function_code=code,
            function_class=code[:3],
            aliases=[v for v in variants[k] if v not in (name, "")],
            departments=[],
            first_year=year,
            last_year=year,
            status="active",
            retired_year=None,
            retire_reason="",
            merged_into="",
            last_change_year=year,
            last_change_type="新增",
            origin="本级",
        )
        records[iid] = record
