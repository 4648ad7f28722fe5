"""indicators review FILE: the decisions of a filled-in merge_review.xlsx become rules of the deployment.

合并 → a phrase synonym rule (B → A, with both ids) in rules/synonyms.csv; 不合并 → a do-not-merge rule (the
pair; a pattern-level 不合并 also the pattern) in rules/do_not_merge.csv; 设为共性指标 → the 合并 rule plus a
row of rules/common_promotions.csv (A becomes a 共性 indicator, keeping its id). Every rebuild reads them
(pipelines/normalize/canonical.py load_rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.dedupe.review import PROMOTE, REVIEW_SHEET, read_review
from pipelines.normalize.canonical import (
    REPO_DNM_COLUMNS,
    REPO_SYNONYM_COLUMNS,
    MatchRules,
    default_rules,
    normalize_name,
    pattern_key,
    read_reference_csv,
    write_rules_csv,
)

REPO_PROMOTION_COLUMNS = ("rule_id", "id_a", "name_a", "id_b", "name_b", "year", "source", "note")
Row = dict[str, str]
Key = tuple[str, str]


@dataclass
class ReviewSummary:
    file: str
    merged: int = 0  # pairs decided 合并
    not_merged: int = 0  # pairs decided 不合并
    promoted: int = 0  # pairs decided 设为共性指标
    undecided: int = 0
    pattern_decisions: int = 0
    new_synonyms: list[str] = field(default_factory=list)  # rule ids added
    new_do_not_merge: list[str] = field(default_factory=list)
    new_promotions: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # earlier rule ids dropped because the decision changed
    merges: list[tuple[str, str]] = field(default_factory=list)  # (id_a kept, id_b merged) for consolidation
    promotions: list[tuple[str, str]] = field(default_factory=list)  # (id_a made 共性, id_b merged into it)
    warnings: list[str] = field(default_factory=list)

    def message_zh(self) -> str:
        text = (
            f"{self.file}：合并{self.merged}对，不合并{self.not_merged}对，设为共性指标{self.promoted}对，"
            f"未决定{self.undecided}对；新增同义词规则{len(self.new_synonyms)}条，"
            f"新增不合并规则{len(self.new_do_not_merge)}条，新增设为共性指标规则{len(self.new_promotions)}条"
        )
        if self.replaced:
            text += f"，改判并替换旧规则{len(self.replaced)}条（{'、'.join(self.replaced)}）"
        return text


def _sheet(pair: Row) -> str:
    """The pair sheet a decision was read from (合并审核, or 合并审核(2)… past Excel's row limit)."""
    return str(pair.get("sheet") or REVIEW_SHEET)


def _next_id(prefix: str, year: int, existing: list[Row]) -> Callable[[], str]:
    """A generator of fresh rule ids for a year: M2025-0001, M2025-0002 … after the ones already used."""
    stem = f"{prefix}{year}-"
    used = [
        int(r["rule_id"][len(stem) :])
        for r in existing
        if r["rule_id"].startswith(stem) and r["rule_id"][len(stem) :].isdigit()
    ]
    counter = [max(used, default=0)]

    def next_id() -> str:
        counter[0] += 1
        return f"{stem}{counter[0]:04d}"

    return next_id


def _pair_key(rules: MatchRules, name_a: str, name_b: str) -> Key:
    a = rules.match_form(normalize_name(name_a)[0])[0]
    b = rules.match_form(normalize_name(name_b)[0])[0]
    return (a, b) if a <= b else (b, a)


def _decision_key(rules: MatchRules, name_a: str, name_b: str, id_a: str, id_b: str) -> Key:
    """What a decision is about: the two names, or the two ids when the names are the same (one name filed
    under two 二级指标, scopes or function classes)."""
    key = _pair_key(rules, name_a, name_b)
    if key[0] != key[1]:
        return key
    return ("#" + min(id_a, id_b), "#" + max(id_a, id_b))


def _read_rows(path: Path) -> list[Row]:
    return read_reference_csv(path) if path.exists() else []


class _RuleBook:
    """The deployment's review rules being updated, indexed by what each decision is about."""

    def __init__(self, rules_dir: Path, year: int, summary: ReviewSummary) -> None:
        self.summary = summary
        self.syn_rows = _read_rows(rules_dir / "synonyms.csv")
        self.dnm_rows = _read_rows(rules_dir / "do_not_merge.csv")
        self.promo_rows = _read_rows(rules_dir / "common_promotions.csv")
        # Word forms only (no phrase rules) so that a pair's identity does not depend on earlier merges.
        self.base = default_rules()
        self.new_syn = _next_id("M", year, self.syn_rows)
        self.new_dnm = _next_id("N", year, self.dnm_rows)
        self.new_promo = _next_id("P", year, self.promo_rows)
        self.syn_index = {
            self.key(r["pattern"], r["replacement"], r.get("id_a", ""), r.get("id_b", "")): r
            for r in self.syn_rows
            if r.get("kind") == "phrase"
        }
        self.dnm_index: dict[Key, Row] = {}
        for r in self.dnm_rows:
            if r.get("kind") != "pair":
                continue
            if r.get("name_a") and r.get("name_b"):
                self.dnm_index[self.key(r["name_a"], r["name_b"], r["id_a"], r["id_b"])] = r
            elif r.get("id_a") and r.get("id_b"):
                self.dnm_index[("#" + min(r["id_a"], r["id_b"]), "#" + max(r["id_a"], r["id_b"]))] = r
        self.promo_index = {
            self.key(r["name_a"], r["name_b"], r.get("id_a", ""), r.get("id_b", "")): r
            for r in self.promo_rows
        }
        self.dnm_patterns = {
            pattern_key(r["pattern"]): r for r in self.dnm_rows if r.get("kind") == "pattern"
        }

    def key(self, name_a: str, name_b: str, id_a: str, id_b: str) -> Key:
        return _decision_key(self.base, name_a, name_b, id_a, id_b)

    def drop(self, index: dict[Key, Row], rows: list[Row], key: Key) -> None:
        """Drop the earlier rule about key (a decision reversed; git keeps the old one)."""
        old = index.pop(key, None)
        if old is not None:
            rows.remove(old)
            self.summary.replaced.append(old["rule_id"])

    def write(self, rules_dir: Path) -> None:
        write_review_rules(rules_dir, self.syn_rows, self.dnm_rows, self.promo_rows)


def _refuse_pattern(book: _RuleBook, pattern: str, year: int, source: str) -> None:
    if pattern_key(pattern) in book.dnm_patterns:
        return
    row = {
        "rule_id": book.new_dnm(),
        "kind": "pattern",
        "pattern": pattern,
        "year": str(year),
        "source": source,
        "note": "按差异模式决定不合并",
    }
    book.dnm_rows.append(row)
    book.dnm_patterns[pattern_key(pattern)] = row
    book.summary.new_do_not_merge.append(row["rule_id"])


def _merge(book: _RuleBook, pair: Row, decision: str, key: Key, year: int, source: str) -> None:
    """合并 or 设为共性指标: the synonym rule (and the promotion), replacing an earlier 不合并."""
    summary = book.summary
    id_a, id_b, name_a, name_b = pair["指标编号A"], pair["指标编号B"], pair["指标名称A"], pair["指标名称B"]
    if decision == PROMOTE:
        summary.promoted += 1
        if id_a and id_b:
            summary.promotions.append((id_a, id_b))
    else:
        summary.merged += 1
        book.drop(book.promo_index, book.promo_rows, key)  # 合并 after 设为共性指标: A keeps its scope
    if id_a and id_b:
        summary.merges.append((id_a, id_b))
    book.drop(book.dnm_index, book.dnm_rows, key)
    if key not in book.syn_index:
        row = {
            "rule_id": book.new_syn(),
            "pattern": name_b,
            "replacement": name_a,
            "kind": "phrase",
            "note": f"{_sheet(pair)}（第{pair['row']}行，{decision}）：{name_b} → {name_a}"
            + ("（名称相同，按编号合并）" if key[0].startswith("#") else ""),
            "year": str(year),
            "source": source,
            "id_a": id_a,
            "id_b": id_b,
        }
        book.syn_rows.append(row)
        book.syn_index[key] = row
        summary.new_synonyms.append(row["rule_id"])
    if decision == PROMOTE and key not in book.promo_index:
        row = {
            "rule_id": book.new_promo(),
            "id_a": id_a,
            "name_a": name_a,
            "id_b": id_b,
            "name_b": name_b,
            "year": str(year),
            "source": source,
            "note": f"{_sheet(pair)}（第{pair['row']}行）决定设为共性指标：{name_b} 并入 {name_a}，{name_a} 改为共性指标",
        }
        book.promo_rows.append(row)
        book.promo_index[key] = row
        summary.new_promotions.append(row["rule_id"])


def _refuse(book: _RuleBook, pair: Row, key: Key, year: int, source: str) -> None:
    """不合并: a do-not-merge rule for the pair, replacing an earlier 合并 or 设为共性指标."""
    book.summary.not_merged += 1
    book.drop(book.syn_index, book.syn_rows, key)
    book.drop(book.promo_index, book.promo_rows, key)
    if key in book.dnm_index:
        return
    same_name = key[0].startswith("#")
    name_a, name_b = pair["指标名称A"], pair["指标名称B"]
    row = {
        "rule_id": book.new_dnm(),
        "kind": "pair",
        "id_a": pair["指标编号A"],
        # The same name under two ids is refused by ids only: by name it would refuse every copy.
        "name_a": "" if same_name else name_a,
        "id_b": pair["指标编号B"],
        "name_b": "" if same_name else name_b,
        "pattern": pair["差异模式"],
        "year": str(year),
        "source": source,
        "note": f"{_sheet(pair)}（第{pair['row']}行）决定不合并"
        + (f"：{name_a}（名称相同）" if same_name else ""),
    }
    book.dnm_rows.append(row)
    book.dnm_index[key] = row
    book.summary.new_do_not_merge.append(row["rule_id"])


def apply_review(review_xlsx: Path, rules_dir: Path, year: int) -> ReviewSummary:
    """Apply a filled-in merge_review.xlsx to rules_dir (synonyms.csv, do_not_merge.csv,
    common_promotions.csv). Idempotent: applying the same file twice adds nothing. A decision that reverses
    an earlier one replaces that rule (git keeps the old one)."""
    review_xlsx, rules_dir = Path(review_xlsx), Path(rules_dir)
    pairs, pattern_decisions = read_review(review_xlsx)
    summary = ReviewSummary(file=review_xlsx.name, pattern_decisions=len(pattern_decisions))
    book = _RuleBook(rules_dir, year, summary)
    source = review_xlsx.name
    for pattern, decision in sorted(pattern_decisions.items()):
        if decision == "不合并":
            _refuse_pattern(book, pattern, year, source)
    for pair in pairs:
        decision = pair["决定"] or pattern_decisions.get(pair["差异模式"], "")
        if not decision:
            summary.undecided += 1
            continue
        id_a, id_b = pair["指标编号A"], pair["指标编号B"]
        key = book.key(pair["指标名称A"], pair["指标名称B"], id_a, id_b)
        if key[0] == key[1] or (key[0].startswith("#") and not (id_a and id_b)):
            summary.warnings.append(f"“{_sheet(pair)}”表第{pair['row']}行两个名称在规范化后已相同，无需决定")
        elif decision in ("合并", PROMOTE):
            _merge(book, pair, decision, key, year, source)
        else:
            _refuse(book, pair, key, year, source)
    book.write(rules_dir)
    return summary


def write_review_rules(
    rules_dir: Path,
    synonyms: list[Row],
    do_not_merge: list[Row],
    promotions: list[Row] | None = None,
) -> None:
    """Write PATH/rules/synonyms.csv, do_not_merge.csv and (when any) common_promotions.csv (sorted by rule
    id, fixed columns)."""
    write_rules_csv(
        Path(rules_dir) / "synonyms.csv",
        REPO_SYNONYM_COLUMNS,
        synonyms,
        "同义词规则（合并审核的决定，indicators review 写入）：pattern 的名称按 replacement 的名称合并。每次重建都会使用。",
    )
    write_rules_csv(
        Path(rules_dir) / "do_not_merge.csv",
        REPO_DNM_COLUMNS,
        do_not_merge,
        "不合并规则（合并审核的决定，indicators review 写入）：pair 为一对指标，pattern 为一种名称差异。每次重建都会使用。",
    )
    promo_path = Path(rules_dir) / "common_promotions.csv"
    if promotions or promo_path.exists():
        write_rules_csv(
            promo_path,
            REPO_PROMOTION_COLUMNS,
            promotions or [],
            "设为共性指标（合并审核的决定，indicators review 写入）：id_b 并入 id_a，id_a 改为共性指标，编号不变。每次重建都会使用。",
        )
