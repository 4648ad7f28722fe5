"""Normalize: indicator rows → clean names, units and framework labels, a matching form and a canonical key.

Three forms of a name:
- name_norm: what is shown and published. 繁→简, full-width→half-width, single spaces, quotes and edge
  punctuation removed, brackets unified to "()", a leading list number ("1、", "(2)", "①") removed, and a
  trailing bracketed unit ("培训人次（人次）", "覆盖率(%)") moved to the unit. Other brackets are kept: they can
  carry meaning ("培训（会议）天数").
- match_name: the form keys are built from. name_norm without spaces, quotes and list separators (、 / ·),
  latin lower-cased, then rewritten by the synonym rules (schemas/reference/synonyms.csv, then the repo's
  rules/synonyms.csv). It is never shown; every rewrite is recorded by rule id in match_rules.
- key: the identity of an indicator within a release. Two rows with the same key are the same indicator
  and are merged automatically; nothing fuzzier is (see pipelines/dedupe/candidates.py for the review candidates).

    key        = scope | level1 | level2 | function_class | match_name | unit_norm
    common_key =         level1 | level2 |                  match_name | unit_norm

Why these fields: scope keeps department core indicators and project indicators apart (they are different
tables for their users). The framework level is part of the meaning (the same words under 数量指标 and under
质量指标 are two indicators). function_class (the 3-digit 类 of the function code) is used for 项目 only:
project indicators are published per function class, while 部门整体 and 共性 indicators are not tied to one.
unit_norm keeps "万元" and "元" apart: their targets are not comparable. common_key leaves scope and function
class out so that a department's or a project's row identical to a 共性 indicator can be attached to it as a
usage (SPEC §5): look the row's common_key up among the 共性 indicators' common_keys first, then its own key.
The key is not the whole identity across years: pipelines/consolidate/build.py keeps an indicator's id when its
department and name did not change (unit or level changes are recorded), and treats function class as a
property of the usage (same class-free key + the same non-empty definition_form → one indicator).

Repo-local rules (decisions of `indicators review`) live in PATH/rules/synonyms.csv and
PATH/rules/do_not_merge.csv; load_rules reads them together with the shipped table.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.common.frames import categorical_take, text_or_empty
from schemas.text import TEXT_CACHE_SIZE, clean_text, compact
from schemas.vocab import REFERENCE_DIR, read_reference_csv, resolve_framework

SYNONYMS_CSV = REFERENCE_DIR / "synonyms.csv"
UNITS_CSV = REFERENCE_DIR / "units.csv"
SUFFIXES_CSV = REFERENCE_DIR / "metric_suffixes.csv"

REPO_SYNONYM_COLUMNS = ("rule_id", "pattern", "replacement", "kind", "note", "year", "source", "id_a", "id_b")
REPO_DNM_COLUMNS = (
    "rule_id",
    "kind",
    "id_a",
    "name_a",
    "id_b",
    "name_b",
    "pattern",
    "year",
    "source",
    "note",
)
RULE_KINDS = ("word", "prefix", "suffix", "phrase", "regex")

SCOPE_ALIASES = {
    "common": "共性",
    "core": "部门整体",
    "project": "项目",
    "共性": "共性",
    "部门整体": "部门整体",
    "项目": "项目",
}
KEY_SEP = "|"

# Leading list numbers officials type in front of names. Circled digits are removed before NFKC turns
# "①" into a plain "1" that could no longer be told apart from a name starting with a number ("12345热线").
_CIRCLED = re.compile(r"^[\u2460-\u249b\u24eb-\u24ff\u2776-\u2793]\s*")
_ENUM = re.compile(
    r"^(?:\(\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*\)|\d{1,2}\s*[、.)](?!\d)|[一二三四五六七八九十]{1,3}\s*、)\s*"
)
_QUOTES = str.maketrans("", "", "\"'「」『』“”‘’`")
_BRACKETS = str.maketrans({"[": "(", "]": ")", "{": "(", "}": ")"})
_EDGE = " ,;:.、。!?？！·/\\-_~"
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff]) +| +(?=[\u3400-\u9fff])")
_TRAILING_BRACKET = re.compile(r"\(([^()]*)\)$")
_UNIT_PREFIX = re.compile(r"^(?:计量单位|单位)[:：]?")
# Dropped from the matching form only: list separators and spaces never change which measure a name is.
_MATCH_DROP = str.maketrans("", "", " 、/·•,;")


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------
@cache
def unit_table() -> dict[str, str]:
    """Every spelling of a known unit (compact, lower-cased) → the canonical unit."""
    table: dict[str, str] = {}
    for row in read_reference_csv(UNITS_CSV):
        for spelling in (row["unit"], *(a for a in row["aliases"].split("|") if a)):
            table.setdefault(compact(spelling).lower(), row["unit"])
    return table


def _unit_lookup(text: str) -> str:
    key = _UNIT_PREFIX.sub("", compact(text).lower())
    if len(key) >= 2 and key[0] == "(" and key[-1] == ")":
        key = key[1:-1]
    return unit_table().get(key, "")


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def normalize_unit(text: str) -> str:
    """The canonical spelling of a unit ("％", "百分比" → "%", "㎡" → "平方米"); unknown units cleaned as-is."""
    if not text:
        return ""
    known = _unit_lookup(text)
    if known:
        return known
    cleaned = _UNIT_PREFIX.sub("", compact(text).lower())
    return cleaned.strip("()")


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------
def _strip_edges(text: str) -> str:
    return text.strip(_EDGE)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def normalize_name(text: str) -> tuple[str, str]:
    """(display name, unit found at its end). "培訓人次（人次）" → ("培训人次", "人次")."""
    if not text:
        return "", ""
    text = _CIRCLED.sub("", text.strip())
    name = clean_text(text).translate(_QUOTES).translate(_BRACKETS)
    name = _ENUM.sub("", name)
    name = _CJK_SPACE.sub("", name)
    name = _strip_edges(name)
    unit = ""
    match = _TRAILING_BRACKET.search(name)
    if match:
        found = _unit_lookup(match.group(1))
        head = _strip_edges(name[: match.start()])
        if found and head:
            name, unit = head, found
    return name, unit


def base_form(name_norm: str) -> str:
    """The matching form before synonym rules: no spaces, quotes or list separators, latin lower-cased."""
    return name_norm.translate(_MATCH_DROP).lower()


# Words and marks that never change what an explanation says ("反映…情况", punctuation, spaces).
_DEFINITION_NOISE = re.compile(r"反映|情况|[\s\"'“”‘’()（）\[\]【】<>《》,.;:!?，。；：、！？·\-—_~]")


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def definition_form(text: str) -> str:
    """The comparable form of an explanation (指标解释): 繁→简, widths, without punctuation, spaces and the
    filler words 反映/情况. Two explanations are "near-identical" when these forms are equal and not empty —
    an empty explanation says nothing, so it never makes two indicators one (see consolidate)."""
    if not text:
        return ""
    return _DEFINITION_NOISE.sub("", clean_text(text)).lower()


# --------------------------------------------------------------------------------------------------
# Metric suffixes: what a name measures (率 / 人次 / 天数 …), read from its ending
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SuffixTable:
    suffixes: tuple[tuple[str, str], ...]  # (ending, class), longest ending first
    prefixes: tuple[tuple[str, str], ...]
    parent: dict[str, str]
    _by_ending: dict[str, str] = field(default_factory=dict, repr=False)
    _lengths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for suffix, cls in self.suffixes:
            self._by_ending.setdefault(suffix, cls)
        object.__setattr__(self, "_lengths", tuple(sorted({len(s) for s, _ in self.suffixes}, reverse=True)))

    def classify(self, match_name: str) -> str:
        """The measure family of a matching form, "" when its ending is not known."""
        for prefix, cls in self.prefixes:
            if match_name.startswith(prefix):
                return cls
        # "培训班次(会议次数)": the bracket explains, the word before it says what is measured.
        stem = _TRAILING_BRACKET.sub("", match_name) if match_name.endswith(")") else match_name
        stem = stem or match_name
        for length in self._lengths:  # longest ending first
            found = self._by_ending.get(stem[-length:]) if len(stem) >= length else None
            if found is not None:
                return found
        return ""

    def ancestors(self, cls: str) -> tuple[str, ...]:
        chain = []
        seen = set()
        while cls and cls not in seen:
            seen.add(cls)
            chain.append(cls)
            cls = self.parent.get(cls, "")
        return tuple(chain)

    def compatible(self, a: str, b: str) -> bool:
        """Same family, or one more general than the other ("数" and "人数"), or either unknown."""
        if not a or not b or a == b:
            return True
        return a in self.ancestors(b) or b in self.ancestors(a)

    def compatible_many(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """compatible() over two arrays of classes, evaluated once per distinct pair of classes."""
        classes, codes = np.unique(np.concatenate([a, b]).astype(str), return_inverse=True)
        matrix = np.array([[self.compatible(x, y) for y in classes] for x in classes], dtype=bool).reshape(
            len(classes), len(classes)
        )
        return matrix[codes[: len(a)], codes[len(a) :]]


@cache
def suffix_table() -> SuffixTable:
    rows = read_reference_csv(SUFFIXES_CSV)
    suffixes = sorted(
        ((r["text"], r["class"]) for r in rows if r["kind"] == "suffix"), key=lambda t: (-len(t[0]), t[0])
    )
    prefixes = sorted(
        ((r["text"], r["class"]) for r in rows if r["kind"] == "prefix"), key=lambda t: (-len(t[0]), t[0])
    )
    parent: dict[str, str] = {}
    for r in rows:
        if r["parent"]:
            parent.setdefault(r["class"], r["parent"])
    return SuffixTable(tuple(suffixes), tuple(prefixes), parent)


# --------------------------------------------------------------------------------------------------
# Rules: shipped synonyms + the repo's review decisions
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SynonymRule:
    rule_id: str
    pattern: str
    replacement: str
    kind: str  # word | prefix | suffix | phrase | regex
    note: str = ""
    year: str = ""
    source: str = ""
    id_a: str = ""  # review merges: the indicator kept (A) and the one merged into it (B)
    id_b: str = ""


@dataclass(frozen=True)
class DoNotMergeRule:
    rule_id: str
    kind: str  # pair (two names / ids) | pattern (a difference pattern, e.g. "湿→耕")
    id_a: str = ""
    name_a: str = ""
    id_b: str = ""
    name_b: str = ""
    pattern: str = ""
    year: str = ""
    source: str = ""
    note: str = ""


def pattern_key(pattern: str) -> str:
    """A difference pattern without its direction: "湿→耕" and "耕→湿" are one pattern."""
    parts = []
    for op in pattern.split("；"):
        if "→" in op:
            left, right = op.split("→", 1)
            parts.append("↔".join(sorted((left, right))))
        elif op:
            parts.append(op)
    return "；".join(parts)


@dataclass
class MatchRules:
    """The synonym and do-not-merge rules of one rebuild (shipped table + PATH/rules/)."""

    version: str
    synonyms: tuple[SynonymRule, ...]
    do_not_merge: tuple[DoNotMergeRule, ...] = ()
    # 设为共性指标 decisions (PATH/rules/common_promotions.csv): (rule_id, id_a made 共性, id_b merged into it)
    promotions: tuple[tuple[str, str, str], ...] = ()
    _compiled: list[tuple[str, str, str | re.Pattern[str], str]] = field(default_factory=list, repr=False)
    _phrases: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _cache: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    _dnm_names: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _dnm_ids: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _dnm_patterns: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        for rule in self.synonyms:
            if rule.kind == "regex":
                self._compiled.append((rule.rule_id, rule.kind, re.compile(rule.pattern), rule.replacement))
            elif rule.kind != "phrase":
                self._compiled.append(
                    (rule.rule_id, rule.kind, base_form(rule.pattern), base_form(rule.replacement))
                )
        self._phrases = self._resolve_phrases()
        for refusal in self.do_not_merge:
            if refusal.kind == "pattern":
                self._dnm_patterns.add(pattern_key(refusal.pattern))
                continue
            if refusal.name_a and refusal.name_b:
                self._dnm_names.add(
                    _ordered(self.match_form(refusal.name_a)[0], self.match_form(refusal.name_b)[0])
                )
            if refusal.id_a and refusal.id_b:
                self._dnm_ids.add(_ordered(refusal.id_a, refusal.id_b))

    # --- matching form -----------------------------------------------------------------------------
    def _word_form(self, name_norm: str) -> tuple[str, list[str]]:
        form = base_form(name_norm)
        applied: list[str] = []
        for rule_id, kind, pattern, replacement in self._compiled:
            before = form
            if kind == "word":
                form = form.replace(pattern, replacement)  # type: ignore[arg-type]
            elif kind == "prefix":
                if form.startswith(pattern) and len(form) > len(pattern):  # type: ignore[arg-type]
                    form = replacement + form[len(pattern) :]  # type: ignore[arg-type]
            elif kind == "suffix":
                if form.endswith(pattern) and len(form) > len(pattern):  # type: ignore[arg-type]
                    form = form[: len(form) - len(pattern)] + replacement  # type: ignore[arg-type]
            else:  # regex
                form = pattern.sub(replacement, form)  # type: ignore[union-attr]
            if form and form != before:
                applied.append(rule_id)
            elif not form:  # a rule must never erase a name
                form = before
        return form, applied

    def _resolve_phrases(self) -> dict[str, tuple[str, str]]:
        """Phrase rules (review merges) as one map: every name of a merged group → the group's form.

        Stored as display names and turned into matching forms here, so they keep working when the word
        rules change. Chains and cycles (A←B, B←C, C←A) collapse into one group whose form is the first kept name.
        """
        parent: dict[str, str] = {}
        rule_of: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for rule in sorted((r for r in self.synonyms if r.kind == "phrase"), key=lambda r: r.rule_id):
            a = self._word_form(normalize_name(rule.replacement)[0])[0]
            b = self._word_form(normalize_name(rule.pattern)[0])[0]
            if not a or not b or a == b:
                continue
            ra, rb = find(a), find(b)
            parent.setdefault(ra, ra)
            parent.setdefault(rb, rb)
            if ra != rb:
                parent[rb] = ra  # the kept name (A) stays the group's form; rules apply in id order
            rule_of.setdefault(b, rule.rule_id)
            rule_of.setdefault(a, rule.rule_id)
        return {x: (find(x), rule_of.get(x, "")) for x in parent if find(x) != x}

    def match_form(self, name_norm: str) -> tuple[str, str]:
        """(match_name, rule ids applied joined by ";") of a display name."""
        hit = self._cache.get(name_norm)
        if hit is not None:
            return hit
        form, applied = self._word_form(name_norm)
        phrase = self._phrases.get(form)
        if phrase:
            form = phrase[0]
            applied.append(phrase[1])
        result = (form, ";".join(applied))
        if len(self._cache) >= TEXT_CACHE_SIZE:  # bounded, as the text caches (schemas.text)
            self._cache.clear()
        self._cache[name_norm] = result
        return result

    # --- do-not-merge ------------------------------------------------------------------------------
    def blocked(self, id_a: str, match_a: str, id_b: str, match_b: str, pattern: str = "") -> str:
        """The reason a pair must never be proposed, or "" (a reviewer said 不合并 to it, or to its pattern)."""
        if id_a and id_b and _ordered(id_a, id_b) in self._dnm_ids:
            return "pair"
        if _ordered(match_a, match_b) in self._dnm_names:
            return "pair"
        if pattern and pattern_key(pattern) in self._dnm_patterns:
            return "pattern"
        return ""

    @property
    def has_do_not_merge(self) -> bool:
        return bool(self._dnm_ids or self._dnm_names or self._dnm_patterns)

    @property
    def merges(self) -> list[tuple[str, str, str]]:
        """Review merges of two library ids: (rule_id, id_a kept, id_b merged into it)."""
        return [
            (r.rule_id, r.id_a, r.id_b) for r in self.synonyms if r.kind == "phrase" and r.id_a and r.id_b
        ]

    def conflicts(self) -> list[str]:
        """Do-not-merge pairs that the synonym rules make identical anyway (a rule is unsafe): Chinese texts."""
        out = []
        for rule in self.do_not_merge:
            if rule.kind != "pair" or not rule.name_a or not rule.name_b:
                continue
            a, b = self.match_form(rule.name_a)[0], self.match_form(rule.name_b)[0]
            if a == b:
                out.append(
                    f"规则{rule.rule_id}要求“{rule.name_a}”与“{rule.name_b}”不合并，但同义词规则使二者相同：请检查同义词规则"
                )
        return out


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def _read_rules_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return read_reference_csv(path)


def _table_version(path: Path) -> str:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            found = re.search(r"version ([\w.\-]+)", line)
            if found:
                return found.group(1)
    return ""


def _synonyms_from(rows: Iterable[dict[str, str]]) -> list[SynonymRule]:
    rules = []
    for r in rows:
        kind = r.get("kind", "") or "word"
        if kind not in RULE_KINDS:
            raise ValueError(
                f"同义词规则{r.get('rule_id', '')}的类型“{kind}”无法识别：应为 {'、'.join(RULE_KINDS)}"
            )
        rules.append(SynonymRule(**{k: r.get(k, "") or "" for k in REPO_SYNONYM_COLUMNS} | {"kind": kind}))
    return rules


def load_rules(repo_rules_dir: Path | None = None) -> MatchRules:
    """The shipped synonym table plus, when given, PATH/rules/synonyms.csv and PATH/rules/do_not_merge.csv."""
    shipped = _synonyms_from(read_reference_csv(SYNONYMS_CSV))
    version = _table_version(SYNONYMS_CSV)
    repo_syn: list[SynonymRule] = []
    dnm: list[DoNotMergeRule] = []
    promotions: list[tuple[str, str, str]] = []
    if repo_rules_dir is not None:
        repo_syn = _synonyms_from(_read_rules_csv(Path(repo_rules_dir) / "synonyms.csv"))
        for r in _read_rules_csv(Path(repo_rules_dir) / "do_not_merge.csv"):
            dnm.append(DoNotMergeRule(**{k: r.get(k, "") or "" for k in REPO_DNM_COLUMNS}))
        for r in _read_rules_csv(Path(repo_rules_dir) / "common_promotions.csv"):
            if r.get("id_a"):
                promotions.append((r.get("rule_id", "") or "", r["id_a"], r.get("id_b", "") or ""))
        if repo_syn or dnm:
            version = f"{version}+repo{len(repo_syn)}.{len(dnm)}"
        if promotions:
            version = f"{version}+common{len(promotions)}"
    ids = Counter([r.rule_id for r in (*shipped, *repo_syn)] + [r.rule_id for r in dnm])
    duplicated = sorted(i for i, n in ids.items() if n > 1)
    if duplicated:
        raise ValueError(f"规则编号重复：{'、'.join(duplicated)}")
    return MatchRules(
        version=version,
        synonyms=(*shipped, *repo_syn),
        do_not_merge=tuple(dnm),
        promotions=tuple(sorted(promotions)),
    )


@cache
def default_rules() -> MatchRules:
    """The shipped rules only (cached: tests and the benchmark call it often)."""
    return load_rules(None)


def write_rules_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]], header_zh: str) -> None:
    """Write a repo rules file deterministically: a comment line, fixed columns, rows sorted by rule id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"# {header_zh}\n")
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["rule_id"]):
            writer.writerow({c: row.get(c, "") for c in columns})
    tmp.replace(path)


# --------------------------------------------------------------------------------------------------
# Whole tables
# --------------------------------------------------------------------------------------------------
_INPUT_COLUMNS = ("scope", "level1", "level2", "name", "unit", "target_unit", "function_code")


def _text(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str)


def _map_unique(series: pd.Series, func, width: int = 1) -> list[pd.Series]:
    """Apply func once per distinct value and map back: libraries repeat the same names thousands of times.

    With width > 1, func returns a tuple and one Series per element is returned.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    columns = [np.empty(len(uniques), dtype=object) for _ in range(width)]
    for i, value in enumerate(uniques):
        result = func(value)
        if width == 1:
            columns[0][i] = result
        else:
            for j in range(width):
                columns[j][i] = result[j]
    return [pd.Series(column[codes], index=series.index, dtype=object) for column in columns]


def _map_text(series: pd.Series, func) -> pd.Series:
    return _map_unique(series, func)[0].astype(str)


def function_class(code: str) -> str:
    """The 3-digit 类 of a function classification code ("2050803" → "205"), "" when there is none."""
    digits = compact(code)
    return digits[:3] if len(digits) >= 3 and digits[:3].isdigit() else ""


def _join(*parts: pd.Series) -> pd.Series:
    out = parts[0].astype(str)
    for part in parts[1:]:
        out = out + KEY_SEP + part.astype(str)
    return out


_OUTPUT_COLUMNS = (
    "level1_raw",
    "level2_raw",
    "name_norm",
    "unit_from_name",
    "unit_norm",
    "level1",
    "level2",
    "scope",
    "function_class",
    "match_name",
    "match_rules",
    "suffix_class",
    "key",
    "common_key",
)


def _row_codes(frame: pd.DataFrame, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(code of each row's combination of columns, position of each combination's first row)."""
    combined = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
        combined, _ = pd.factorize(combined * max(len(uniques), 1) + codes, use_na_sentinel=False)
    _, first = np.unique(combined, return_index=True)  # factorize numbers combinations by first appearance
    return combined, first


def _normalize_distinct(sub: pd.DataFrame, rules: MatchRules) -> pd.DataFrame:
    """The normalized columns of distinct input rows (see normalize_rows)."""
    out = pd.DataFrame(index=sub.index)
    out["level1_raw"] = sub["level1"]
    out["level2_raw"] = sub["level2"]
    name_norm, unit_from_name = _map_unique(sub["name"], normalize_name, width=2)
    out["name_norm"] = name_norm.astype(str)
    out["unit_from_name"] = unit_from_name.astype(str)
    unit = _map_text(sub["unit"], normalize_unit)
    target_unit = _map_text(sub["target_unit"], normalize_unit)
    unit_norm = unit.where(unit != "", out["unit_from_name"])
    out["unit_norm"] = unit_norm.where(unit_norm != "", target_unit).astype(str)

    pair = _join(sub["level1"], sub["level2"])
    level1, level2 = _map_unique(pair, lambda p: _framework(*p.split(KEY_SEP, 1)), width=2)
    out["level1"] = level1.astype(str)
    out["level2"] = level2.astype(str)
    out["scope"] = _map_text(sub["scope"], lambda s: SCOPE_ALIASES.get(compact(s), compact(s)))
    out["function_class"] = _map_text(sub["function_code"], function_class)

    match_name, match_rules = _map_unique(out["name_norm"], rules.match_form, width=2)
    out["match_name"] = match_name.astype(str)
    out["match_rules"] = match_rules.astype(str)
    out["suffix_class"] = _map_text(out["match_name"], suffix_table().classify)

    key_class = out["function_class"].where(out["scope"] == "项目", "")
    out["key"] = _join(
        out["scope"], out["level1"], out["level2"], key_class, out["match_name"], out["unit_norm"]
    )
    out["common_key"] = _join(out["level1"], out["level2"], out["match_name"], out["unit_norm"])
    return out


def normalize_rows(
    frame: pd.DataFrame, rules: MatchRules | None = None, *, compact: bool = False
) -> pd.DataFrame:
    """Add the normalized columns to indicator rows (English columns, text).

    Adds: name_norm, unit_from_name, unit_norm (the unit column, else the unit found in the name, else the
    target's unit), level1/level2 canonical (raw labels kept in level1_raw/level2_raw), function_class,
    scope (canonical), match_name, match_rules (rule ids), suffix_class, key, common_key.
    The work is done once per distinct combination of the input columns and mapped back, so a million rows
    with the repetition of real libraries take seconds. compact=True: text columns read and added stay
    categorical (pipelines.common.frames) — the consolidation of a province or a country holds millions of rows.
    """
    rules = rules or default_rules()
    out = frame.copy()
    for column in _INPUT_COLUMNS:
        if column not in out.columns:
            out[column] = pd.Series("", index=out.index, dtype=str)
        else:
            out[column] = text_or_empty(out[column]) if compact else _text(out[column])
    codes, first = _row_codes(out, _INPUT_COLUMNS)
    sub = out.iloc[first][list(_INPUT_COLUMNS)].reset_index(drop=True)
    distinct = _normalize_distinct(sub, rules)
    out["level1_raw"] = out["level1"]
    out["level2_raw"] = out["level2"]
    for column in _OUTPUT_COLUMNS[2:]:
        if column in sub.columns and distinct[column].equals(sub[column]):
            continue  # already canonical (scope, levels): no need to copy a million strings
        out[column] = (
            categorical_take(distinct[column], codes, out.index)
            if compact
            else pd.Series(distinct[column].array.take(codes), index=out.index)
        )
    return out


def release_keys(indicators: pd.DataFrame, rules: MatchRules | None = None) -> pd.DataFrame:
    """Keys under which a release's indicators are found again: their name and every alias.

    indicators: the published table (indicator_id, scope, level1, level2, name, unit, function_class or
    function_code, aliases as a list). Returns indicator_id, key, common_key, via ("name" | "alias"), one row
    per distinct (indicator_id, key); a key claimed by two indicators is returned twice and the caller must
    treat it as ambiguous (never merge into either automatically).
    """
    columns = ["indicator_id", "key", "common_key", "via"]
    if indicators.empty:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    base = indicators.copy()
    if "function_code" not in base.columns and "function_class" in base.columns:
        base["function_code"] = base["function_class"]
    rows = []
    for record in base.to_dict("records"):
        names = [(record.get("name", ""), "name")]
        aliases = record.get("aliases")
        if aliases is not None and not isinstance(aliases, str):
            names += [(a, "alias") for a in list(aliases) if a]
        for name, via in names:
            rows.append(
                {
                    "indicator_id": record["indicator_id"],
                    "scope": record.get("scope", ""),
                    "level1": record.get("level1", ""),
                    "level2": record.get("level2", ""),
                    "name": name,
                    "unit": record.get("unit", ""),
                    "function_code": record.get("function_code", ""),
                    "via": via,
                }
            )
    keyed = normalize_rows(pd.DataFrame(rows), rules)
    keyed = keyed.sort_values(["indicator_id", "via", "key"], kind="stable").drop_duplicates(
        ["indicator_id", "key"]
    )
    return keyed[columns].reset_index(drop=True)


def _framework(raw_level1: str, raw_level2: str) -> tuple[str, str]:
    found = resolve_framework(raw_level1, raw_level2)
    return found.level1, found.level2
