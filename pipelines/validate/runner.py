"""Validate: read workbooks → located findings and one outcome per row (SPEC §3).

Every data row ends in exactly one outcome: library, noncore, excluded or rejected. Problems are
collected lazily (all at once), each as a Finding naming file, sheet, Excel row and column letter.
Vocabulary cells are canonicalised first (繁→简, widths, aliases), then the pandera models of
schemas/submission.py check the rows, then the warning rules of schemas/rules.py run per workbook.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from pipelines.common.findings import Finding, make_finding
from pipelines.common.frames import compact_text_columns, release_free_memory
from pipelines.intake.workbook import PARSED_COLUMNS, Workbook
from pipelines.validate.markers import MARKER_HINT, Stripped, strip_markers
from schemas.rules import ROW_ERROR_RULES, run_rules
from schemas.submission import CHECK_CODES, ROW_MODELS, DeptInfoModel
from schemas.text import clean_text, compact
from schemas.vocab import (
    INDICATOR_SHEETS,
    function_codes,
    reference,
    resolve_framework,
    resolve_vocab,
)

OUTCOMES = ("library", "noncore", "excluded", "rejected")
# Closed vocabularies whose unknown values only warn (W213): the row can still be used.
SOFT_VOCABS = (
    "project_category",
    "value_method",
    "value_basis",
    "project_nature",
    "nature",
    "include",
    "phased",
    "change_type",
)
DEFAULTS = {"include": "是", "phased": "否"}
PROVENANCE = ["source_file", "source_sheet", "source_row"]


@dataclass
class FileStatus:
    """One input file's fate, for the accounting and the per-department review."""

    file: str
    sha256: str
    readable: bool
    dept_code: str = ""
    dept_name: str = ""
    file_errors: list[str] = field(default_factory=list)  # finding codes
    rows_read: int = 0

    @property
    def set_aside(self) -> bool:
        return not self.readable or bool(self.file_errors)


@dataclass
class ValidationResult:
    rows: pd.DataFrame  # every data row read, canonicalised, with outcome / reason_codes / reasons
    findings: list[Finding]
    files: list[FileStatus]
    departments: pd.DataFrame  # 部门信息 of the workbooks not set aside

    def counts(self) -> dict[str, int]:
        out = {"read": len(self.rows)}
        vc = self.rows["outcome"].value_counts() if len(self.rows) else pd.Series(dtype=int)
        out.update({o: int(vc.get(o, 0)) for o in OUTCOMES})
        return out

    @property
    def has_errors(self) -> bool:
        return any(f.severity in ("file_error", "row_error") for f in self.findings)

    @property
    def exit_code(self) -> int:
        """SPEC §4: 0 ok, 1 errors in the input, 2 when no input was a readable workbook at all."""
        if self.files and not any(f.readable for f in self.files):
            return 2
        return 1 if self.has_errors else 0


# --------------------------------------------------------------------------------------------------
# 部门信息
# --------------------------------------------------------------------------------------------------


def canonical_info(info: dict[str, str]) -> dict[str, str]:
    out = {k: clean_text(v) for k, v in info.items()}
    year = re.search(r"(19|20)\d{2}", compact(out.get("year", "")))
    out["year"] = year.group(0) if year else compact(out.get("year", ""))
    out["dept_code"] = compact(out.get("dept_code", ""))
    if out.get("complexity"):
        out["complexity"] = resolve_vocab("complexity", out["complexity"]) or out["complexity"]
    return out


def info_finding(code: str, wb: Workbook, key: str, value: object, detail: object = "") -> Finding:
    """A finding about one 部门信息 entry, located at the cell holding its value."""
    row, letter = wb.info_cells.get(key, (None, ""))
    field = reference().header_zh("info", key)
    return make_finding(
        code, wb.file, sheet=wb.info_sheet, row=row, column=letter, field=field, value=value, detail=detail
    )


def check_infos(
    entries: Sequence[tuple[Workbook, dict[str, str]]], year: int | None
) -> dict[str, list[Finding]]:
    """File errors of 部门信息 for every readable workbook at once: required keys (F005), code digits
    (F008), year (F006). One pandera validation over one row per workbook."""
    ref = reference()
    keys = [c.column for c in ref.columns["info"]]
    found: dict[str, list[Finding]] = {wb.file: [] for wb, _ in entries}
    if not entries:
        return found
    frame = pd.DataFrame([{k: info.get(k, "") for k in keys} for _, info in entries])
    try:
        DeptInfoModel.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        for position, check, column in zip(cases["index"], cases["check"], cases["column"], strict=True):
            wb, info = entries[int(position)]
            code = CHECK_CODES.get(str(check), (str(check), None))[0]
            found[wb.file].append(info_finding(code, wb, str(column), info.get(str(column), "")))
    for wb, info in entries:
        if year is not None and info.get("year") and info["year"] != str(year):
            found[wb.file].append(info_finding("F006", wb, "year", info["year"], detail=year))
    return found


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------


def workbook_rows(wb: Workbook, info: dict[str, str]) -> list[tuple[pd.DataFrame, dict[str, str]]]:
    """The data rows of one workbook's indicator sheets, each with the constant columns it will carry
    (kind, scope, department); stack_rows adds them once for all workbooks."""
    ref = reference()
    constant = {c: info.get(c, "") for c in ("dept_code", "dept_name", "complexity", "year")}
    return [
        (
            sheet.frame,
            {"sheet_kind": kind, "scope": ref.sheets[kind].scope, "source_sha256": wb.sha256, **constant},
        )
        for kind in INDICATOR_SHEETS
        if (sheet := wb.sheets.get(kind)) is not None and not sheet.frame.empty
    ]


def stack_rows(parts: list[tuple[pd.DataFrame, dict[str, str]]]) -> pd.DataFrame:
    """One frame of every sheet's rows; constant columns filled by repetition, not per small frame."""
    rows = pd.concat([frame for frame, _ in parts], ignore_index=True)
    lengths = np.array([len(frame) for frame, _ in parts])
    for column in parts[0][1]:
        rows[column] = np.repeat(
            np.array([const[column] for _, const in parts], dtype=object), lengths
        ).astype(str)
    return _fill_text(rows)


def _fill_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Empty text cells as "" (sheets without a column get NaN on concat); numbers keep NaN."""
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return frame.fillna(dict.fromkeys(text, ""))


def _map_unique(series: pd.Series, fn) -> pd.Series:
    """Apply a text function once per distinct value: workbooks repeat the same labels endlessly."""
    uniques = pd.unique(series)
    # One conversion to Python objects: iterating an Arrow-backed array value by value is slow.
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    return series.map(dict(zip(values, (fn(u) for u in values), strict=True)))


def indicator_columns() -> list[str]:
    """Every column any indicator sheet can carry, plus what the reader parses: a workbook may file only
    some sheets and some optional columns, and every rule must still find its columns (as empty)."""
    ref = reference()
    names = [c.column for kind in INDICATOR_SHEETS for c in ref.columns[kind]]
    return list(dict.fromkeys([*names, *PARSED_COLUMNS]))


def _with_all_columns(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in indicator_columns() if c not in rows.columns]
    if not missing:
        return rows
    filler = {c: (np.nan if c == "target_value" else "") for c in missing}
    return rows.assign(**filler)


def _mark_function_codes(rows: pd.DataFrame, rules_dir: str | None) -> None:
    """Which codes are known in any list (SPEC §3: current ∪ older edition ∪ PATH/rules/, overriding):
    function_class_listed (the 类, R105), function_code_listed and its known parent (W211)."""
    codes = function_codes(rules_dir)
    uniques = pd.unique(rows["function_code"])
    listed = {c: c in codes for c in uniques}
    classes = {c: c[:3] in codes for c in uniques}
    parents = {c: (c[:5] if len(c) == 7 and c[:5] in codes else c[:3]) for c in uniques}
    rows["function_code_listed"] = rows["function_code"].map(listed).astype(bool)
    rows["function_class_listed"] = rows["function_code"].map(classes).astype(bool)
    rows["function_code_parent"] = rows["function_code"].map(parents)


def canonicalize_rows(rows: pd.DataFrame, rules_dir: str | Path | None = None) -> pd.DataFrame:
    """Clean text and resolve every vocabulary to its canonical value (unknown values kept as typed).

    Names lose their template markers here, before any key is made; the wording as written is kept in
    name_as_written (empty when unchanged) and what was removed in name_markers.
    """
    rows = _with_all_columns(rows.copy())
    raw_names = rows["name"].astype(str)
    candidates = raw_names[raw_names.str.contains(MARKER_HINT, regex=True, na=False).to_numpy(dtype=bool)]
    stripped = _map_unique(candidates, strip_markers).reindex(rows.index)
    text_columns = [
        c
        for c in rows.columns
        if c not in (*PROVENANCE, "target_value", "source_sha256", "extra_json") and rows[c].dtype != float
    ]
    folded_cells = np.zeros(len(rows), dtype=np.int16)
    sheet_columns = set(indicator_columns())
    for column in text_columns:
        raw = rows[column].astype(str)
        uniques = pd.unique(raw)
        values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        cleaned = [clean_text(u) for u in values]
        rows[column] = raw.map(dict(zip(values, cleaned, strict=True)))
        if column in sheet_columns and column not in PARSED_COLUMNS:
            # I402 counts cells whose script or width was folded; only texts that cleaning changed can be.
            changed = [u for u, c in zip(values, cleaned, strict=True) if u != c and "\x1f" not in u]
            folded = {u for u, hit in zip(changed, _folded(changed), strict=True) if hit}
            if folded:
                # isin on object values: Arrow's isin builds one scalar per wanted value (slow)
                folded_cells += raw.astype(object).isin(folded).to_numpy(dtype=np.int16)
    rows["folded_cells"] = folded_cells
    changed = stripped.map(lambda s: isinstance(s, Stripped) and s.changed).astype(bool)
    rows["name_as_written"] = rows["name"].where(changed, "")
    rows["name_markers"] = (
        stripped[changed].map(lambda s: "、".join(s.removed)).reindex(rows.index).fillna("")
    )
    rows["name"] = stripped[changed].map(lambda s: s.name).reindex(rows.index).fillna(rows["name"])
    # What a percentage measures (R115, W218): the longest listed ending, one vectorised regex.
    ref = reference()
    endings = rows["name"].str.replace(" ", "", regex=False).str.extract(ref.rate_pattern, expand=False)
    rows["rate_ending"] = endings.fillna("").astype(object)
    rows["rate_kind"] = endings.map(dict(ref.rate_endings)).fillna("").astype(object)

    pairs = rows[["level1", "level2"]].drop_duplicates()
    resolved = {(a, b): resolve_framework(a, b) for a, b in pairs.itertuples(index=False)}
    keys = list(zip(rows["level1"], rows["level2"], strict=True))
    rows["framework_note"] = [resolved[k].note_zh for k in keys]
    rows["level1_inferred"] = [bool(not k[0] and resolved[k].level1_inferred) for k in keys]
    rows["level2_as_written"] = rows["level2"]
    rows["level1"] = [resolved[k].level1 if k[0] or resolved[k].level1_ok else "" for k in keys]
    rows["level2"] = [resolved[k].level2 if k[1] or resolved[k].level2_ok else "" for k in keys]

    symbol = _map_unique(rows["symbol"], lambda v: resolve_vocab("symbol", v) or v)
    rows["symbol_given"] = symbol
    rows["symbol"] = symbol.where(symbol != "", rows["target_symbol"])

    for column in SOFT_VOCABS:
        vocab = {"include": "yes_no", "phased": "yes_no"}.get(column, column)
        rows[f"{column}_raw"] = rows[column]
        resolved_col = _map_unique(rows[column], lambda v, vocab=vocab: resolve_vocab(vocab, v) or "")
        rows[f"{column}_unknown"] = (rows[column] != "") & (resolved_col == "")
        rows[column] = resolved_col.where(resolved_col != "", DEFAULTS.get(column, ""))

    inferred = pd.Series("", index=rows.index, dtype=str)
    inferred = inferred.mask(rows["target_value"].notna(), "定量").mask(rows["symbol"] == "定性", "定性")
    rows["nature"] = rows["nature"].where(rows["nature"] != "", inferred)

    rows["function_code"] = _map_unique(rows["function_code"], lambda v: re.sub(r"[\s\-.．·]", "", v))
    _mark_function_codes(rows, str(rules_dir) if rules_dir else None)
    rows["library_id"] = _map_unique(rows["library_id"], lambda v: compact(v).upper())
    rows["weight_value"] = pd.to_numeric(rows["weight"].str.rstrip("分%"), errors="coerce")
    return rows


Letters = dict[tuple[str, str], dict[str, str]]


def hits_to_findings(rows: pd.DataFrame, hits: pd.DataFrame, letters: Letters) -> list[Finding]:
    """Located findings for rule hits (idx, code, column, value, detail) without a per-row lookup.

    A hit whose value is None shows the cell's own content.
    """
    if hits.empty:
        return []
    ref = reference()
    at = rows.loc[hits["idx"].to_numpy(), ["source_file", "source_sheet", "source_row", "sheet_kind"]]
    headers = {(c.sheet, c.column): c.header_zh for specs in ref.columns.values() for c in specs}
    # The cell's own content for hits that give no value: one vectorised lookup per column.
    values = hits["value"].astype(object).to_numpy(copy=True)
    missing = pd.isna(hits["value"]).to_numpy()
    for column in hits.loc[missing, "column"].unique():
        if column in rows.columns:
            pick = missing & (hits["column"] == column).to_numpy()
            values[pick] = rows.loc[hits["idx"].to_numpy()[pick], column].to_numpy()
    out = []
    for (file, sheet, excel_row, kind), code, column, value, detail in zip(
        at.itertuples(index=False, name=None),
        hits["code"],
        hits["column"],
        values,
        hits["detail"],
        strict=True,
    ):
        out.append(
            make_finding(
                code,
                file,
                sheet=sheet,
                row=int(excel_row),
                column=letters.get((file, sheet), {}).get(column, ""),
                field=headers.get((kind, column), ""),
                value="" if value is None or (isinstance(value, float) and value != value) else value,
                detail=detail,
            )
        )
    return out


def _hits(
    idx: Iterable[object], code: str, column: str, value: object = None, detail: object = ""
) -> pd.DataFrame:
    idx = list(idx)
    return pd.DataFrame(
        {
            "idx": idx,
            "code": code,
            "column": column,
            "value": [value] * len(idx),
            "detail": [detail] * len(idx),
        }
    )


def schema_findings(rows: pd.DataFrame, letters: Letters) -> list[Finding]:
    """Row errors from the pandera models, one Finding per failing cell."""
    hits = []
    for kind, model in ROW_MODELS.items():
        part = rows[rows["sheet_kind"] == kind]
        if part.empty:
            continue
        try:
            model.validate(part, lazy=True)
        except pa.errors.SchemaErrors as err:
            cases = err.failure_cases.dropna(subset=["index"]).copy()
            wide = cases["check"].astype(str).map(CHECK_CODES)
            cases["code"] = [
                w[0] if isinstance(w, tuple) else str(c) for w, c in zip(wide, cases["check"], strict=True)
            ]
            cases["column"] = [
                w[1] if isinstance(w, tuple) and w[1] else c
                for w, c in zip(wide, cases["column"], strict=True)
            ]
            if not cases["code"].isin(reference().findings.keys()).all():
                raise err  # a dtype or missing-column failure is our bug, not the department's
            cases = cases.assign(idx=cases["index"].astype(int)).drop_duplicates(["code", "column", "idx"])
            # Messages about a missing reason/id quote the change type; R105 names the unknown 类.
            quote = {"R108": "change_type", "R111": "change_type"}
            cases["value"] = [
                rows.at[i, quote[c]] if c in quote else None
                for i, c in zip(cases["idx"], cases["code"], strict=True)
            ]
            cases["detail"] = [
                rows.at[i, "level1"]
                if c == "R103"
                else rows.at[i, "function_code"][:3]
                if c == "R105"
                else ""
                for i, c in zip(cases["idx"], cases["code"], strict=True)
            ]
            hits.append(cases[["idx", "code", "column", "value", "detail"]])
    return hits_to_findings(rows, pd.concat(hits, ignore_index=True), letters) if hits else []


def library_reference_findings(
    rows: pd.DataFrame, indicators: pd.DataFrame | None, finance_dept: str | None, letters: Letters
) -> list[Finding]:
    """R109 unknown 库内编号; R110 another department's indicator; R112 a common indicator touched by a
    department; R114 a county touching its city's (上级) indicator."""
    if indicators is None:
        return []
    referencing = rows[(rows["library_id"] != "") & (rows["change_type"] != "新增")]
    known = referencing["library_id"].isin(indicators["indicator_id"])
    hits = [_hits(referencing.index[~known], "R109", "library_id")]
    changing = referencing[
        known
        & referencing["change_type"].isin(("修改", "退出"))
        & (referencing["dept_code"] != (finance_dept or ""))
    ]
    by_id = indicators.set_index("indicator_id")
    keeping = referencing[known & (referencing["change_type"] == "沿用")]
    hits += kept_wording_hits(keeping, by_id)
    for idx, lib_id, dept in zip(changing.index, changing["library_id"], changing["dept_code"], strict=True):
        if "origin" in by_id.columns and by_id.at[lib_id, "origin"] == "上级":
            hits.append(_hits([idx], "R114", "library_id"))
        elif by_id.at[lib_id, "scope"] == "共性":
            hits.append(_hits([idx], "R112", "library_id"))
        elif dept not in list(by_id.at[lib_id, "departments"]):
            owners = "、".join(by_id.at[lib_id, "departments"]) or "无"
            hits.append(_hits([idx], "R110", "library_id", detail=owners))
    return hits_to_findings(rows, pd.concat(hits, ignore_index=True), letters)


def _name_form(text: str) -> str:
    from pipelines.normalize.canonical import base_form, normalize_name

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


def kept_wording_hits(keeping: pd.DataFrame, by_id: pd.DataFrame) -> list[pd.DataFrame]:
    """沿用 keeps an indicator as published: R116 when the name (normalized) is none of that indicator's
    names, W219 when the definition or the unit differs. Both wordings are named: a rename needs 修改.

    Vectorised over the rows (most rows of a second year are 沿用); the library side once per indicator."""
    if keeping.empty:
        return []
    from pipelines.normalize.canonical import normalize_unit

    library = by_id[~by_id.index.duplicated()]  # the same id twice (a county's view): the first speaks
    lib = pd.DataFrame(index=keeping.index)
    for column in ("name", "definition", "unit"):
        source = library[column] if column in library.columns else pd.Series("", index=library.index)
        lib[column] = keeping["library_id"].map(source.astype(str)).fillna("").to_numpy()
    # Every name the indicator is known by, in the normalized matching form.
    aliases = library["aliases"] if "aliases" in library.columns else pd.Series(None, index=library.index)
    known = {
        lib_id: {_name_form(str(name)), *(_name_form(a) for a in _as_list(alias))}
        for lib_id, name, alias in zip(
            library.index, library.get("name", pd.Series("", index=library.index)), aliases, strict=True
        )
    }
    forms = _map_unique(keeping["name"], _name_form)
    renamed = [
        bool(name) and bool(lib_name) and form not in known.get(lib_id, set())
        for name, lib_name, form, lib_id in zip(
            keeping["name"], lib["name"], forms, keeping["library_id"], strict=True
        )
    ]
    renamed_mask = pd.Series(renamed, index=keeping.index, dtype=bool)
    out = []
    if renamed_mask.any():
        found = _hits(keeping.index[renamed_mask], "R116", "name")
        found["value"] = keeping.loc[renamed_mask, "name"].to_numpy()
        found["detail"] = lib.loc[renamed_mask, "name"].to_numpy()
        out.append(found)

    rest = keeping[~renamed_mask]
    lib_rest = lib.loc[rest.index]
    definition_differs = (
        (rest["definition"] != "")
        & (lib_rest["definition"] != "")
        & (_map_unique(rest["definition"], compact) != _map_unique(lib_rest["definition"], compact))
    )
    unit_differs = (
        (rest["unit"] != "")
        & (lib_rest["unit"] != "")
        & (_map_unique(rest["unit"], normalize_unit) != _map_unique(lib_rest["unit"], normalize_unit))
    )
    differing = rest[definition_differs | unit_differs]
    if not differing.empty:
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
        found = _hits(differing.index, "W219", "definition")
        found["column"] = columns
        found["value"] = differing["library_id"].to_numpy()
        found["detail"] = details
        out.append(found)
    return out


def warning_findings(rows: pd.DataFrame, letters: Letters) -> list[Finding]:
    """Warnings and notes: the rules of schemas/rules.py, unknown soft vocabularies, framework notes."""
    ref = reference()
    hits = [run_rules(rows)]
    hits = [h.assign(value=h["value"].where(h["value"] != "", None)) for h in hits if not h.empty]
    kept = rows[~rows["rejected"]]
    for column in SOFT_VOCABS:
        unknown = kept[kept[f"{column}_unknown"]]
        if unknown.empty:
            continue
        vocab = {"include": "yes_no", "phased": "yes_no"}.get(column, column)
        found = _hits(unknown.index, "W213", column, detail="、".join(ref.vocab_values[vocab]))
        found["value"] = unknown[f"{column}_raw"].to_numpy()
        hits.append(found)
    hits += reinterpretation_hits(rows[rows["file_error"] == ""])
    return hits_to_findings(rows, pd.concat(hits, ignore_index=True), letters) if hits else []


def _unit_from_name(name: str) -> str:
    from pipelines.normalize.canonical import (
        normalize_name,  # the step that moves it; imported late (heavy module)
    )

    return normalize_name(name)[1]


def reinterpretation_hits(rows: pd.DataFrame) -> list[pd.DataFrame]:
    """SPEC §3, nothing changed silently: an info finding on the row for every reinterpretation — old or
    short framework labels (I401), a 一级 filled from an empty cell, template markers taken out of a name,
    a unit read from the end of a name (I404). Rejected rows get them too: they explain what was judged."""
    hits = []
    noted = rows[rows["framework_note"] != ""]
    if not noted.empty:
        found = _hits(noted.index, "I401", "level1")
        found["detail"] = noted["framework_note"].to_numpy()
        hits.append(found)
    inferred = rows[rows["level1_inferred"]]
    if not inferred.empty:
        found = _hits(inferred.index, "I404", "level1", value="（空）")
        found["detail"] = [
            f"“{l1}”（由二级指标“{l2}”推定）"
            for l1, l2 in zip(inferred["level1"], inferred["level2_as_written"], strict=True)
        ]
        hits.append(found)
    marked = rows[rows["name_as_written"] != ""]
    if not marked.empty:
        found = _hits(marked.index, "I404", "name")
        found["value"] = marked["name_as_written"].to_numpy()
        found["detail"] = [
            f"“{name}”（去掉了模板标记 {removed}）"
            for name, removed in zip(marked["name"], marked["name_markers"], strict=True)
        ]
        hits.append(found)
    bracketed = rows[rows["name"].str.endswith(")")]  # a unit can only be read from a closing bracket
    units = _map_unique(bracketed["name"], _unit_from_name)
    with_unit = bracketed[units != ""]
    if not with_unit.empty:
        from pipelines.normalize.canonical import normalize_name

        found = _hits(with_unit.index, "I404", "name")
        found["value"] = with_unit["name"].to_numpy()
        found["detail"] = [
            f"“{normalize_name(name)[0]}”，末尾括号中的“{unit}”作为计量单位"
            for name, unit in zip(with_unit["name"], units[with_unit.index], strict=True)
        ]
        hits.append(found)
    return hits


# Characters whose folding is worth a word (I402): Traditional Chinese and full-width letters and digits.
# Chinese full-width punctuation (，：（）) is ordinary writing and folded without a note.
_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _folded(values: list[str]) -> list[bool]:
    """Which texts hold Traditional characters or full-width letters/digits. One opencc call for all of
    them (joined by a separator no cell holds), per text only if the separator count is not kept."""
    from schemas.text import to_simplified

    joined = "\x1f".join(values)
    converted = to_simplified(joined).split("\x1f")
    if len(converted) != len(values):
        converted = [to_simplified(v) for v in values]
    return [
        bool(v) and (c != v or bool(_FULLWIDTH_ALNUM.search(v)))
        for v, c in zip(values, converted, strict=True)
    ]


def normalization_findings(rows: pd.DataFrame, workbooks: Sequence[Workbook]) -> list[Finding]:
    """I402, once per sheet (never per cell: a Traditional workbook would drown its real problems): how
    many cells were read as Simplified / half-width (counted by canonicalize_rows), with the first example."""
    flagged = rows[(rows["folded_cells"] > 0) & (rows["file_error"] == "")]
    if flagged.empty:
        return []
    sheets = {(wb.file, s.sheet_name): s for wb in workbooks for s in wb.sheets.values()}
    out = []
    for (file, sheet_name), group in flagged.groupby(["source_file", "source_sheet"], sort=True):
        example = ""
        sheet = sheets.get((file, sheet_name))
        if sheet is not None and "source_row" in sheet.frame:
            first = sheet.frame[sheet.frame["source_row"] == group["source_row"].min()]
            for column in [c for c in sheet.columns if c in first.columns]:
                text = str(first[column].iloc[0]) if len(first) else ""
                if text and "\x1f" not in text and _folded([text])[0]:
                    example = f"“{text[:20]}”→“{clean_text(text)[:20]}”"
                    break
        count = int(group["folded_cells"].sum())
        out.append(make_finding("I402", str(file), sheet=str(sheet_name), value=count, detail=example))
    return out


# --------------------------------------------------------------------------------------------------
# The whole step
# --------------------------------------------------------------------------------------------------


def validate_workbooks(
    workbooks: Sequence[Workbook],
    *,
    year: int | None = None,
    finance_dept: str | None = None,
    indicators: pd.DataFrame | None = None,
    rules_dir: str | Path | None = None,
) -> ValidationResult:
    """Validate a set of workbooks together (duplicate departments are only visible together).

    `rules_dir` is the deployment repo's rules/ folder: its function_classification.csv (the bureau's own
    list of the year) adds to and overrides the shipped lists of function codes.
    """
    findings: list[Finding] = []
    statuses: list[FileStatus] = []
    infos: dict[str, dict[str, str]] = {}
    for wb in workbooks:
        status = FileStatus(wb.file, wb.sha256, wb.readable)
        findings.extend(wb.findings)
        findings += [
            make_finding("W216", wb.file, sheet=name, value=name, detail=reference().sheets[kind].name_zh)
            for name, kind in sorted(wb.ignored_sheets.items())
        ]
        status.file_errors = [f.code for f in wb.findings if f.severity == "file_error"]
        if wb.readable:
            infos[wb.file] = canonical_info(wb.info)
            status.dept_code, status.dept_name = (
                infos[wb.file].get("dept_code", ""),
                infos[wb.file].get("dept_name", ""),
            )
        statuses.append(status)
    info_findings = check_infos([(wb, infos[wb.file]) for wb in workbooks if wb.readable], year)
    for status in statuses:
        mine = info_findings.get(status.file, [])
        findings.extend(mine)
        status.file_errors += [f.code for f in mine]

    # F007: two workbooks for one 部门编码 — both set aside, each error names the other files.
    by_code: dict[str, list[FileStatus]] = {}
    for status in statuses:
        if status.readable and status.dept_code:
            by_code.setdefault(status.dept_code, []).append(status)
    for code, group in by_code.items():
        if len(group) > 1:
            names = "、".join(s.file for s in group)
            for s in group:
                wb = next(w for w in workbooks if w.file == s.file)
                findings.append(info_finding("F007", wb, "dept_code", code, detail=names))
                s.file_errors.append("F007")

    # Rows of every readable workbook; those of a workbook set aside are read and rejected whole.
    frames = []
    letters: dict[tuple[str, str], dict[str, str]] = {}
    for wb, status in zip(workbooks, statuses, strict=True):
        if not wb.readable:
            continue
        for sheet in wb.sheets.values():
            letters[(wb.file, sheet.sheet_name)] = sheet.columns
        parts = workbook_rows(wb, infos[wb.file])
        status.rows_read = sum(len(frame) for frame, _ in parts)
        file_error = ";".join(dict.fromkeys(status.file_errors))
        frames += [(frame, {**const, "file_error": file_error}) for frame, const in parts]
    if not frames:
        empty = pd.DataFrame(columns=["outcome", "reason_codes", "reasons", *PROVENANCE])
        return ValidationResult(empty, findings, statuses, _departments(statuses, infos))
    rows = canonicalize_rows(stack_rows(frames), rules_dir)
    rows["rejected"] = rows["file_error"] != ""

    # R113: 共性指标 rows outside the finance bureau's workbook.
    foreign_common = (
        (rows["sheet_kind"] == "common") & (rows["dept_code"] != (finance_dept or "")) & ~rows["rejected"]
    )
    foreign = _hits(rows.index[foreign_common], "R113", "name")
    foreign["value"] = rows.loc[foreign_common, "dept_code"].to_numpy()  # the message names the department
    row_findings = hits_to_findings(rows, foreign, letters)
    checkable = rows[~rows["rejected"]]
    row_findings += schema_findings(checkable, letters)
    row_findings += library_reference_findings(checkable, indicators, finance_dept, letters)
    row_error_hits = [rule(checkable) for rule in ROW_ERROR_RULES.values()]
    row_error_hits = [h for h in row_error_hits if not h.empty]
    if row_error_hits:
        row_findings += hits_to_findings(rows, pd.concat(row_error_hits, ignore_index=True), letters)

    # Outcome: rejected (any row error) > noncore (纳入指标库=否) > excluded (phase, not one-off) > library.
    errors = pd.DataFrame(
        [(f.file, f.sheet, f.row, f.code, f.message) for f in row_findings if f.severity == "row_error"],
        columns=["source_file", "source_sheet", "source_row", "code", "message"],
    )
    reasons = errors.groupby(["source_file", "source_sheet", "source_row"]).agg(
        reason_codes=("code", lambda s: ";".join(dict.fromkeys(s))),
        reasons=("message", lambda s: "；".join(dict.fromkeys(s))),
    )
    rows = rows.join(reasons, on=["source_file", "source_sheet", "source_row"])
    rows["reason_codes"] = rows["reason_codes"].fillna("")
    rows["reasons"] = rows["reasons"].fillna("")
    file_reject = rows["file_error"] != ""
    rows.loc[file_reject, "reason_codes"] = rows.loc[file_reject, "file_error"]
    rows.loc[file_reject, "reasons"] = (
        rows.loc[file_reject, "source_file"]
        .map(set_aside_reasons(findings))
        .fillna("整个工作簿未通过文件检查")
    )
    rows["rejected"] = rows["reason_codes"] != ""

    noncore = ~rows["rejected"] & (rows["include"] == "否")
    phase = ~rows["rejected"] & ~noncore & (rows["phased"] == "是") & (rows["project_nature"] != "一次性")
    rows["outcome"] = "library"
    rows.loc[noncore, "outcome"] = "noncore"
    rows.loc[phase, "outcome"] = "excluded"
    rows.loc[rows["rejected"], "outcome"] = "rejected"
    excluded_findings = hits_to_findings(
        rows,
        pd.concat(
            [_hits(rows.index[noncore], "X301", "include"), _hits(rows.index[phase], "X302", "phased")]
        ),
        letters,
    )
    for mask, code in ((noncore, "X301"), (phase, "X302")):
        rows.loc[mask, "reason_codes"] = code
        rows.loc[mask, "reasons"] = reference().findings[code].rule_zh

    findings += row_findings + excluded_findings + warning_findings(rows, letters)
    findings += normalization_findings(rows, workbooks)
    # Downstream steps only read the rows: keep them compact (a 1M-row year: ≈ 1 GiB of text → ≈ 100 MiB)
    result = ValidationResult(compact_text_columns(rows), findings, statuses, _departments(statuses, infos))
    del rows
    release_free_memory()  # the checks' working copies are gone: give their pages to the next step
    return result


def set_aside_reasons(findings: Iterable[Finding]) -> dict[str, str]:
    """file → why the whole workbook was set aside, in words (the rules broken), for its rows' reasons."""
    texts: dict[str, dict[str, None]] = {}
    for f in findings:
        if f.severity == "file_error":
            texts.setdefault(f.file, {})[f.message] = None
    return {file: "整个工作簿未通过文件检查：" + "；".join(messages) for file, messages in texts.items()}


def _departments(statuses: Iterable[FileStatus], infos: dict[str, dict[str, str]]) -> pd.DataFrame:
    records = [
        {**infos[s.file], "source_file": s.file}
        for s in statuses
        if s.readable and not s.set_aside and s.file in infos
    ]
    columns = [c.column for c in reference().columns["info"]] + ["source_file"]
    return pd.DataFrame(records, columns=columns).fillna("")


SUBMISSION_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".et", ".csv", ".ods", ".wps"}


def submission_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the spreadsheet-like files of folders (not Office lock files ~$…)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and p.suffix.lower() in SUBMISSION_SUFFIXES
                and not p.name.startswith(("~$", "."))
            )
        else:
            out.append(path)
    return out
