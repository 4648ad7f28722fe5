"""The reference vocabularies and the workbook layout, read once from schemas/reference/*.csv.

Everything a rule compares against is data here (framework, symbols, categories, function codes, limits,
Chinese headers, finding texts), so a bureau can update a list without touching code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pipelines.text import compact

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


def _split(aliases: str) -> tuple[str, ...]:
    return tuple(a for a in aliases.split("|") if a)


@cache
def reference(directory: str | None = None) -> Reference:
    """Load every reference file once. `directory` lets a bureau point at its own edition."""
    base = Path(directory) if directory else REFERENCE_DIR
    rows = read_reference_csv

    framework = [
        (r["level1"], r["level2"])
        for r in sorted(rows(base / "framework.csv"), key=lambda r: int(r["order"]))
    ]
    aliases = [FrameworkAlias(**r) for r in rows(base / "framework_aliases.csv")]

    vocab_values: dict[str, list[str]] = {}
    vocab_lookup: dict[str, dict[str, str]] = {}
    for r in sorted(rows(base / "vocabularies.csv"), key=lambda r: (r["vocab"], int(r["order"]))):
        vocab_values.setdefault(r["vocab"], []).append(r["value"])
        lookup = vocab_lookup.setdefault(r["vocab"], {})
        for name in (r["value"], *_split(r["aliases"])):
            lookup[compact(name)] = r["value"]
    # The framework levels are vocabularies too (drop-down lists, membership checks).
    vocab_values["level1"] = list(dict.fromkeys(l1 for l1, _ in framework))
    vocab_values["level2"] = [l2 for _, l2 in framework]

    function_codes = {
        r["code"]: FunctionCode(r["code"], r["name"], r["level"], r["parent"])
        for r in rows(base / "function_classification.csv")
    }

    weight_split: dict[tuple[bool, bool], dict[str, int]] = {}
    for r in rows(base / "weight_split.csv"):
        key = (r["has_cost"] == "1", r["has_satisfaction"] == "1")
        weight_split.setdefault(key, {})[r["level1"]] = int(r["weight"])

    limits = {r["name"]: int(r["value"]) for r in rows(base / "limits.csv")}

    columns: dict[str, list[ColumnSpec]] = {}
    for r in rows(base / "columns.csv"):
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
    sheets = {
        r["sheet"]: SheetSpec(
            r["sheet"], r["name_zh"], _split(r["aliases"]), r["required"] == "1", r["scope"]
        )
        for r in rows(base / "sheets.csv")
    }
    findings = {
        r["code"]: FindingSpec(r["code"], r["severity"], r["rule_zh"], r["fix_zh"])
        for r in rows(base / "finding_codes.csv")
    }

    header_lookup: dict[str, dict[str, str]] = {}
    for sheet, specs in columns.items():
        lookup = {}
        # Aliases first, canonical headers last: a canonical header always wins over an alias.
        for spec in specs:
            for alias in spec.aliases:
                lookup.setdefault(compact(alias), spec.column)
        for spec in specs:
            lookup[compact(spec.header_zh)] = spec.column
        header_lookup[sheet] = lookup
    sheet_lookup: dict[str, str] = {}
    for sheet_spec in sheets.values():
        for name in (*sheet_spec.aliases, sheet_spec.name_zh):
            sheet_lookup[compact(name)] = sheet_spec.sheet

    return Reference(
        framework=framework,
        framework_aliases=aliases,
        vocab_values={k: tuple(v) for k, v in vocab_values.items()},
        vocab_lookup=vocab_lookup,
        function_codes=function_codes,
        weight_split=weight_split,
        limits=limits,
        columns={k: tuple(v) for k, v in columns.items()},
        sheets=sheets,
        findings=findings,
        header_lookup=header_lookup,
        sheet_lookup=sheet_lookup,
    )


def resolve_vocab(vocab: str, raw: str) -> str | None:
    """The canonical value of a closed-vocabulary cell, or None when it is not recognised."""
    ref = reference()
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
    note_zh: str = ""  # an info note when an old label was mapped


@cache
def resolve_framework(raw_level1: str, raw_level2: str) -> FrameworkMatch:
    """Map a row's 一级/二级 labels (any framework edition, short forms) to the current framework."""
    ref = reference()
    l1, l2 = compact(raw_level1), compact(raw_level2)
    level1_of = ref.level1_of
    note = ""

    def pattern_matches(pattern: str, value: str) -> bool:
        return pattern == "*" or pattern == value

    # Pair rules first (the old framework's 产出指标/成本指标 depends on both labels).
    for alias in ref.framework_aliases:
        if (
            alias.raw_level1 != "*"
            and alias.raw_level2 != "*"
            and alias.raw_level1 == l1
            and alias.raw_level2 == l2
        ):
            return FrameworkMatch(alias.level1, alias.level2, True, True, alias.note_zh)

    new_l1 = l1 if l1 in ref.vocab_values["level1"] else ""
    new_l2 = l2 if l2 in level1_of else ""
    if not new_l1 and l1:
        for alias in ref.framework_aliases:
            if alias.raw_level2 == "*" and alias.raw_level1 == l1:
                new_l1 = alias.level1
                new_l2 = new_l2 or alias.level2
                note = note or alias.note_zh
                break
    if not new_l2 and l2:
        for alias in ref.framework_aliases:
            if alias.raw_level1 == "*" and pattern_matches(alias.raw_level2, l2):
                # An old-framework 二级 may move the row to another 一级 (成本指标 under 产出, 服务对象满意度
                # under 项目效果); a current-framework 一级 given explicitly is never overridden by a short form.
                old_label = alias.kind != "short" or l1 not in ref.vocab_values["level1"]
                if new_l1 and alias.level1 != new_l1 and not old_label:
                    continue
                new_l2 = alias.level2
                if alias.level1 != new_l1:
                    new_l1 = alias.level1
                new_l1 = new_l1 or alias.level1
                note = note or alias.note_zh
                break
    if not new_l1 and new_l2:
        new_l1 = level1_of[new_l2]  # 一级 left empty (merged cell lost) but 二级 is unambiguous
    level1_ok = bool(new_l1)
    level2_ok = bool(new_l2) and level1_of.get(new_l2) == new_l1
    return FrameworkMatch(new_l1 or l1, new_l2 or l2, level1_ok, level2_ok, note)
