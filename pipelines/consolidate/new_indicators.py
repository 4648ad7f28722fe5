"""New indicators: their ids, the order they are issued in, and what their record says (identity step 6).

indicator_id format: <namespace>-<G|B|X><6 digits> (G 共性, B 部门整体, X 项目: the scope it was issued
under — an indicator later made 共性 keeps its X or B), e.g. ZB-X000123. The number is the next after the
highest ever issued in that namespace and letter; retired and merged rows stay in the table, so an id is
never reused. Ids are issued in a fixed order (共性 first, then by function class, framework order, name,
department, file and row), so the same inputs give the same ids whatever order the files were read in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.common import halves
from pipelines.common.frames import is_categorical, text_array
from pipelines.consolidate.key_index import class_free
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


@dataclass(frozen=True)
class ToIssue:
    """The rows still without an indicator, in the order ids are issued (`pos`: their positions), each with
    its key's code (`key_code`: keys numbered by their first row in that order), and per key code what
    issuing reads: its first row's scope, key, common key and class-free key, and its explanation."""

    pos: np.ndarray
    key_code: np.ndarray
    scope: list[str]
    key: list[str]
    common_key: list[str]
    cfk: list[str]
    definition: list[str]


def rows_to_issue(norm: pd.DataFrame, todo: np.ndarray, columns: dict[str, np.ndarray]) -> ToIssue:
    """The rows still without an indicator (positions `todo`) in the order ids are issued, by key. `columns`:
    the identity's per-row arrays (scope, match_name, key, common_key, dept_code), all rows long."""
    pos = todo[_issue_order(norm, todo, columns)]
    key_code, keys = pd.factorize(columns["key"][pos])  # codes in order of first appearance
    first = np.empty(len(keys), dtype=np.int64)
    first[key_code[::-1]] = np.arange(len(pos) - 1, -1, -1)  # the first row of each code
    lead = pos[first]
    return ToIssue(
        pos=pos,
        key_code=key_code,
        scope=columns["scope"][lead].tolist(),
        key=columns["key"][lead].tolist(),
        common_key=columns["common_key"][lead].tolist(),
        cfk=[class_free(k) for k in columns["key"][lead].tolist()],
        definition=key_definitions(norm, pos, key_code, len(keys), columns["scope"]).tolist(),
    )


def _issue_order(norm: pd.DataFrame, todo: np.ndarray, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Positions into `todo` in issue order: scope (共性 first), function class, framework order of the 二级,
    matching name, key, department, file, row, then position (`todo` ascending: one stable sort). Integer
    ranks, one lexsort: no frame of text columns built and sorted."""
    framework_order = {l2: i for i, (_, l2) in enumerate(reference().framework)}
    row = pd.to_numeric(norm["source_row"], errors="coerce").fillna(0).to_numpy()[todo]

    def rank(column: str) -> np.ndarray:
        return _text_ranks(norm[column])[todo] if column in norm else np.zeros(len(todo), dtype=np.int64)

    keys = [
        row,
        rank("source_file"),
        rank("dept_code"),
        rank("key"),
        rank("match_name"),
        _looked_up(text_array(norm["level2"])[todo], framework_order, 99),
        rank("function_class"),
        _looked_up(columns["scope"][todo], {"共性": 0, "部门整体": 1, "项目": 2}, 3),
    ]
    return np.lexsort(keys)  # the last key sorts first


def _text_ranks(values: pd.Series) -> np.ndarray:
    """Each row's text's rank among the column's texts in code-point order (equal texts, a missing value as
    "", the same rank): a categorical's categories ranked, not its rows' texts hashed and sorted."""
    if is_categorical(values):
        texts = np.append(np.asarray(values.cat.categories.astype(str), dtype=object), "")
        codes = values.cat.codes.to_numpy()  # -1 (missing): the "" at the end
    else:
        codes, texts = pd.factorize(text_array(values))
    return pd.factorize(texts, sort=True)[0][codes]


def _looked_up(values: np.ndarray, mapping: dict[str, int], default: int) -> np.ndarray:
    """mapping of each text (default when not in it), looked up once per distinct text."""
    codes, distinct = pd.factorize(values)
    return np.array([mapping.get(v, default) for v in distinct.tolist()] + [default], dtype=np.int64)[codes]


def key_definitions(
    norm: pd.DataFrame, pos: np.ndarray, key_code: np.ndarray, n_keys: int, scope: np.ndarray
) -> np.ndarray:
    """Per key code, the explanation (definition_form) its rows `pos` write most often (ties: the smallest),
    "" when none. Issuing reads a 项目 key's alone (rows of one explanation join across classes): the
    explanations of the other rows are not made."""
    if "definition" not in norm:
        return np.full(n_keys, "", dtype=object)
    project = np.flatnonzero(scope[pos] == "项目")
    codes, distinct = pd.factorize(text_array(norm["definition"])[pos[project]])
    texts = distinct.tolist()
    # Each form its text's alone: a province's ≈ 200k distinct explanations in two halves (the second in a
    # forked child; 1M rows: 1.65 s in one pass, past the text cache, which holds 65k).
    forms = np.array([*halves.mapped(definition_form, texts), ""], dtype=object)[codes]
    return most_common_per_id(key_code[project], n_keys, pd.Series(forms, dtype=object))


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
    # Column by column, then one dict per indicator from a row of them (no per-field lookups per record).
    fields = list(values)
    rows = zip(*([str(v) for v in found.tolist()] for found in values.values()), strict=True)
    given = scopes or {}
    for iid, row, first_scope, name, wordings in zip(
        new_ids, rows, first_scopes.tolist(), names.tolist(), variants, strict=True
    ):
        scope = given.get(iid, first_scope)
        record: dict[str, object] = dict(zip(fields, row, strict=True))
        code = str(record["function_code"]) if scope == "项目" else ""
        record.update(
            indicator_id=iid,
            scope=scope,
            name=name,
            function_code=code,
            function_class=code[:3],
            aliases=[v for v in wordings if v not in (name, "")],
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
