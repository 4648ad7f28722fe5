"""The reference vocabularies and the workbook layout, read once from schemas/reference/*.csv.

Everything a rule compares against is data here (framework, symbols, categories, function codes, limits,
Chinese headers, finding texts), so a bureau can update a list without touching code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from schemas.text import compact

REFERENCE_DIR = Path(__file__).parent / "reference"

SHEET_KINDS = ("info", "core", "project", "common")
INDICATOR_SHEETS = ("core", "project", "common")


def read_reference_csv(path: Path) -> list[dict[str, str]]:
    """A reference CSV without its leading '#' comment lines."""
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(lines)]


@dataclass(frozen=True)
class ColumnSpec:
    sheet: str
    column: str
    header_zh: str
    aliases: tuple[str, ...]
    required: bool
    vocab: str
    width: int
    description_zh: str


@dataclass(frozen=True)
class SheetSpec:
    sheet: str
    name_zh: str
    aliases: tuple[str, ...]
    required: bool
    scope: str


@dataclass(frozen=True)
class FindingSpec:
    code: str
    severity: str
    rule_zh: str
    fix_zh: str


@dataclass(frozen=True)
class FunctionCode:
    code: str
    name: str
    level: str
    parent: str


@dataclass(frozen=True)
class FrameworkAlias:
    raw_level1: str
    raw_level2: str
    level1: str
    level2: str
    kind: str
    note_zh: str


@dataclass
class Reference:
    framework: list[tuple[str, str]]
    framework_aliases: list[FrameworkAlias]
    vocab_values: dict[str, tuple[str, ...]]
    vocab_lookup: dict[str, dict[str, str]]
    function_codes: dict[str, FunctionCode]
    weight_split: dict[tuple[bool, bool], dict[str, int]]
    limits: dict[str, int]
    columns: dict[str, tuple[ColumnSpec, ...]]
    sheets: dict[str, SheetSpec]
    findings: dict[str, FindingSpec]
    header_lookup: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_lookup: dict[str, str] = field(default_factory=dict)
    # (ending, kind) of rate_names.csv, longest ending first: what a percentage measures (R115, W218).
    rate_endings: tuple[tuple[str, str], ...] = ()

    @property
    def rate_pattern(self) -> str:
        """One alternation anchored at the end, as a capture group: the leftmost match is the longest
        listed ending (usable with pandas str.extract)."""
        return "(" + "|".join(re.escape(e) for e, _ in self.rate_endings) + ")$"

    def rate_kind(self, name: str) -> tuple[str, str]:
        """(kind, ending) of the longest listed ending of `name` (a cleaned name), ("", "") when none."""
        if not self.rate_endings:
            return "", ""
        pattern = self.__dict__.get("_rate_regex")
        if pattern is None:
            pattern = self.__dict__["_rate_regex"] = re.compile(self.rate_pattern)
        match = pattern.search(name.replace(" ", ""))
        if not match:
            return "", ""
        ending = match.group(0)
        return dict(self.rate_endings)[ending], ending

    # --- framework -------------------------------------------------------------------------------
    @property
    def level1_values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(l1 for l1, _ in self.framework))

    def level2_values(self, level1: str | None = None) -> tuple[str, ...]:
        return tuple(l2 for l1, l2 in self.framework if level1 is None or l1 == level1)

    @property
    def level1_of(self) -> dict[str, str]:
        return {l2: l1 for l1, l2 in self.framework}

    def column(self, sheet: str, column: str) -> ColumnSpec:
        for spec in self.columns[sheet]:
            if spec.column == column:
                return spec
        raise KeyError((sheet, column))

    def header_zh(self, sheet: str, column: str) -> str:
        return self.column(sheet, column).header_zh


FUNCTION_CODES_OLDER = "function_classification_2008.csv"
# A bureau's own list in its deployment repo (PATH/rules/), overriding the shipped ones.
REPO_FUNCTION_CODES = "function_classification.csv"
_CODE_LEVEL = {3: "类", 5: "款", 7: "项"}


def _function_code_table(path: Path) -> dict[str, FunctionCode]:
    """code → entry of a function-classification CSV. Only `code` is required (a bureau's list may be a
    bare column of codes); level and parent follow from the digits when absent."""
    out: dict[str, FunctionCode] = {}
    if not path.is_file():
        return out
    for r in read_reference_csv(path):
        raw = next((r[k] for k in ("code", "科目编码", "功能分类科目编码", "编码") if r.get(k)), "")
        code = "".join(ch for ch in raw if ch.isdigit())
        if len(code) not in _CODE_LEVEL:
            continue
        name = next((r[k] for k in ("name", "科目名称", "名称") if r.get(k)), "")
        parent = r.get("parent") or r.get("parent_code") or (code[:-2] if len(code) > 3 else "")
        out[code] = FunctionCode(code, name, r.get("level") or _CODE_LEVEL[len(code)], parent)
    return out


def function_codes(
    rules_dir: str | Path | None = None, directory: str | None = None
) -> dict[str, FunctionCode]:
    """Every known function code: current list ∪ older complete edition (of the reference `directory`)
    ∪ the bureau's own list (`rules_dir`/function_classification.csv, whose names win)."""
    if not rules_dir:
        return _function_codes(directory, None, None)
    path = Path(rules_dir) / REPO_FUNCTION_CODES
    stat = path.stat() if path.is_file() else None
    # Keyed by the file's identity: a bureau may drop in a new list between two runs of one process.
    return _function_codes(directory, str(path), (stat.st_mtime_ns, stat.st_size) if stat else None)


@cache
def _function_codes(
    directory: str | None, path: str | None, version: tuple[int, int] | None
) -> dict[str, FunctionCode]:
    codes = dict(reference(directory).function_codes)
    if path and version:
        codes.update(_function_code_table(Path(path)))
    return codes


def _split(aliases: str) -> tuple[str, ...]:
    return tuple(a for a in aliases.split("|") if a)


def _file(base: Path, name: str) -> Path:
    """A reference file of the edition at `base`; a file the edition does not hold is the shipped one (a
    deployment's directory may hold only the files it changes)."""
    own = base / name
    return own if own.is_file() else REFERENCE_DIR / name


def _framework(base: Path) -> list[tuple[str, str]]:
    rows = sorted(read_reference_csv(_file(base, "framework.csv")), key=lambda r: int(r["order"]))
    return [(r["level1"], r["level2"]) for r in rows]


def _vocabularies(
    base: Path, framework: list[tuple[str, str]]
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """Each vocabulary's values in order, and its lookup from every accepted spelling (compact)."""
    values: dict[str, list[str]] = {}
    lookup: dict[str, dict[str, str]] = {}
    for r in sorted(
        read_reference_csv(_file(base, "vocabularies.csv")), key=lambda r: (r["vocab"], int(r["order"]))
    ):
        values.setdefault(r["vocab"], []).append(r["value"])
        names = lookup.setdefault(r["vocab"], {})
        for name in (r["value"], *_split(r["aliases"])):
            names[compact(name)] = r["value"]
    # The framework levels are vocabularies too (drop-down lists, membership checks).
    values["level1"] = list(dict.fromkeys(l1 for l1, _ in framework))
    values["level2"] = [l2 for _, l2 in framework]
    return {k: tuple(v) for k, v in values.items()}, lookup


def _shipped_function_codes(base: Path) -> dict[str, FunctionCode]:
    """Current (partial) list first, then the older complete edition for the codes it lacks (CONTRACT §3)."""
    codes = _function_code_table(_file(base, "function_classification.csv"))
    for code, entry in _function_code_table(_file(base, FUNCTION_CODES_OLDER)).items():
        codes.setdefault(code, entry)
    return codes


def _weight_split(base: Path) -> dict[tuple[bool, bool], dict[str, int]]:
    split: dict[tuple[bool, bool], dict[str, int]] = {}
    for r in read_reference_csv(_file(base, "weight_split.csv")):
        key = (r["has_cost"] == "1", r["has_satisfaction"] == "1")
        split.setdefault(key, {})[r["level1"]] = int(r["weight"])
    return split


def _columns(base: Path) -> dict[str, tuple[ColumnSpec, ...]]:
    columns: dict[str, list[ColumnSpec]] = {}
    for r in read_reference_csv(_file(base, "columns.csv")):
        columns.setdefault(r["sheet"], []).append(
            ColumnSpec(
                r["sheet"],
                r["column"],
                r["header_zh"],
                _split(r["aliases"]),
                r["required"] == "1",
                r["vocab"],
                int(r["width"] or 12),
                r["description_zh"],
            )
        )
    return {k: tuple(v) for k, v in columns.items()}


def _header_lookup(columns: dict[str, tuple[ColumnSpec, ...]]) -> dict[str, dict[str, str]]:
    """sheet → compact header → column. Aliases first, canonical headers last: a canonical header always
    wins over an alias."""
    out: dict[str, dict[str, str]] = {}
    for sheet, specs in columns.items():
        lookup: dict[str, str] = {}
        for spec in specs:
            for alias in spec.aliases:
                lookup.setdefault(compact(alias), spec.column)
        for spec in specs:
            lookup[compact(spec.header_zh)] = spec.column
        out[sheet] = lookup
    return out


def _sheets(base: Path) -> tuple[dict[str, SheetSpec], dict[str, str]]:
    """The sheets, and compact sheet name (or alias) → sheet kind."""
    sheets = {
        r["sheet"]: SheetSpec(
            r["sheet"], r["name_zh"], _split(r["aliases"]), r["required"] == "1", r["scope"]
        )
        for r in read_reference_csv(_file(base, "sheets.csv"))
    }
    lookup = {compact(name): spec.sheet for spec in sheets.values() for name in (*spec.aliases, spec.name_zh)}
    return sheets, lookup


@cache
def reference(directory: str | None = None) -> Reference:
    """Load every reference file once. `directory` lets a bureau point at its own edition: the files there
    replace the shipped ones of the same name (schemas/reference/)."""
    base = Path(directory) if directory else REFERENCE_DIR
    framework = _framework(base)
    vocab_values, vocab_lookup = _vocabularies(base, framework)
    columns = _columns(base)
    sheets, sheet_lookup = _sheets(base)
    rate_endings = sorted(
        ((compact(r["ending"]), r["kind"]) for r in read_reference_csv(_file(base, "rate_names.csv"))),
        key=lambda pair: -len(pair[0]),
    )
    return Reference(
        rate_endings=tuple(rate_endings),
        framework=framework,
        framework_aliases=[
            FrameworkAlias(**r) for r in read_reference_csv(_file(base, "framework_aliases.csv"))
        ],
        vocab_values=vocab_values,
        vocab_lookup=vocab_lookup,
        function_codes=_shipped_function_codes(base),
        weight_split=_weight_split(base),
        limits={r["name"]: int(r["value"]) for r in read_reference_csv(_file(base, "limits.csv"))},
        columns=columns,
        sheets=sheets,
        findings={
            r["code"]: FindingSpec(r["code"], r["severity"], r["rule_zh"], r["fix_zh"])
            for r in read_reference_csv(_file(base, "finding_codes.csv"))
        },
        header_lookup=_header_lookup(columns),
        sheet_lookup=sheet_lookup,
    )


def resolve_vocab(vocab: str, raw: str, directory: str | None = None) -> str | None:
    """The canonical value of a closed-vocabulary cell, or None when it is not recognised."""
    ref = reference(directory)
    key = compact(raw)
    if vocab == "level1":
        return key if key in ref.vocab_values["level1"] else None
    if vocab == "level2":
        return key if key in ref.vocab_values["level2"] else None
    return ref.vocab_lookup.get(vocab, {}).get(key)


@dataclass(frozen=True)
class FrameworkMatch:
    level1: str  # canonical, or the raw text when unknown
    level2: str
    level1_ok: bool
    level2_ok: bool
    note_zh: str = ""  # an info note for every reinterpretation (old or short labels)
    level1_inferred: bool = False  # 一级 was empty and is taken from the 二级 (shown as I404)


def _alias_note(alias: FrameworkAlias, which: str, raw: str, result: str) -> str:
    """The alias's own note, or a generated one: a short form is a reinterpretation too."""
    return alias.note_zh or f"{which}指标“{raw}”已识别为“{result}”"


def _alias_for(aliases: list[FrameworkAlias], level1: str, level2: str) -> FrameworkAlias | None:
    """The first alias listed for exactly this (一级, 二级) pattern ("*": any label on that side)."""
    return next((a for a in aliases if a.raw_level1 == level1 and a.raw_level2 == level2), None)


def _listed_pair(ref: Reference, l1: str, l2: str) -> FrameworkMatch | None:
    """A pair listed as a whole (产出指标/成本指标 → 成本指标/…)."""
    for alias in ref.framework_aliases:
        pair = alias.raw_level1 not in ("*", "") and alias.raw_level2 not in ("*", "")
        if pair and alias.raw_level1 == l1 and alias.raw_level2 == l2:
            note = alias.note_zh or f"“{l1}/{l2}”已识别为“{alias.level1}/{alias.level2}”"
            return FrameworkMatch(alias.level1, alias.level2, True, True, note)
    return None


@cache
def resolve_framework(raw_level1: str, raw_level2: str, directory: str | None = None) -> FrameworkMatch:
    """Map a row's 一级/二级 labels (any framework edition, short forms) to the current framework.

    A written 一级 is only ever replaced by what it means itself (a framework label or a listed alias):
    an unknown 一级 stays unknown (R102) whatever the 二级 says. A row moves to another 一级 only through a
    listed pair (产出指标/成本指标) or when its 一级 is an old label whose 二级 now lives elsewhere
    (项目效果/服务对象满意度 → 满意度指标). `directory`: the reference data's (None: the shipped one).
    """
    ref = reference(directory)
    l1, l2 = compact(raw_level1), compact(raw_level2)
    listed = _listed_pair(ref, l1, l2)
    if listed is not None:
        return listed
    level1_of = ref.level1_of
    notes: list[str] = []
    new_l1, l1_old_label, default_l2 = (l1 if l1 in ref.vocab_values["level1"] else ""), False, ""
    alias1 = _alias_for(ref.framework_aliases, l1, "*") if l1 and not new_l1 else None
    if alias1 is not None:
        new_l1, default_l2, l1_old_label = alias1.level1, alias1.level2, alias1.kind != "short"
        notes.append(_alias_note(alias1, "一级", l1, alias1.level1))
    if l1 and not new_l1:  # an unknown 一级 stays unknown whatever the 二级 says
        alias2 = _alias_for(ref.framework_aliases, "*", l2) if l2 and l2 not in level1_of else None
        return FrameworkMatch(l1, (alias2.level2 if alias2 else "") or l2, False, False, "")
    new_l2 = l2 if l2 in level1_of else ""
    alias2 = _alias_for(ref.framework_aliases, "*", l2) if l2 and not new_l2 else None
    if alias2 is not None:
        new_l2 = alias2.level2
        notes.append(_alias_note(alias2, "二级", l2, alias2.level2))
        if new_l1 and alias2.level1 != new_l1 and l1_old_label:
            # An old 一级 label: its 二级 says where the row belongs in the current framework.
            notes.append(f"按二级指标归入一级指标“{alias2.level1}”")
            new_l1 = alias2.level1
    if not new_l2 and not l2 and default_l2:
        new_l2 = default_l2  # 服务对象满意度 as 一级 names its 二级 too
    inferred = not l1 and bool(new_l2)
    if inferred:
        new_l1 = level1_of[new_l2]  # 一级 left empty: the 二级 is unambiguous
    level2_ok = bool(new_l2) and level1_of.get(new_l2) == new_l1
    return FrameworkMatch(
        new_l1 or l1, new_l2 or l2, bool(new_l1), level2_ok, "；".join(dict.fromkeys(notes)), inferred
    )
