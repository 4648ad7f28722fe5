"""The canonical forms of what a department wrote: a name, a unit, an explanation, and the matching form
the synonym rules make of a name. Whole tables are keyed in pipelines/normalize/keys.py.

Three forms of a name:
- name_norm: what is shown and published. 繁→简, full-width→half-width, single spaces, quotes and edge
  punctuation removed, brackets unified to "()", a leading list number ("1、", "(2)", "①") removed, and a
  trailing bracketed unit ("培训人次（人次）", "覆盖率(%)") moved to the unit. Other brackets are kept: they can
  carry meaning ("培训（会议）天数").
- match_name: the form keys are built from. name_norm without spaces, quotes and list separators (、 / ·),
  latin lower-cased, then rewritten by the synonym rules (MatchRules: schemas/reference/synonyms.csv, then
  the repo's rules/synonyms.csv). It is never shown; every rewrite is recorded by rule id in match_rules.
- key: the identity of an indicator within a release (pipelines/normalize/keys.py).

Repo-local rules (decisions of `indicators review`) live in PATH/rules/synonyms.csv,
PATH/rules/do_not_merge.csv and PATH/rules/common_promotions.csv; load_rules reads them together with the
shipped table.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from schemas.text import TEXT_CACHE_SIZE, clean_text, compact
from schemas.vocab import REFERENCE_DIR, read_reference_csv

SYNONYMS_CSV = REFERENCE_DIR / "synonyms.csv"
UNITS_CSV = REFERENCE_DIR / "units.csv"

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
TRAILING_BRACKET = re.compile(r"\(([^()]*)\)$")
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
    match = TRAILING_BRACKET.search(name)
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
