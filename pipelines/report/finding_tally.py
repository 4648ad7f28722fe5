"""The year's findings read once, column-wise, for the review's tables that count them: the overview's
warnings, each file's warnings and file errors, the violations by file, by rule and grouped.

Why: a 1M-row year holds ≈ 1.03M findings, and the tables walked them in Python several times over (a
per-finding sort key, a bucket per group, a FindingGroup per group sorted by group_order, a count per
table): ≈ 1.2-1.6 s CPU, on the critical path of the 1M report (the tables are computed before the
library page's child is forked). Here one pass maps each finding to its kind — (file, sheet, code, field,
message, severity, column): ≈ 123k kinds at 1M rows —, and every count is then over the kinds or numpy
arrays; one more pass reads the rows. The groups are findings.group_findings' groups, in its order, with
its first members and cells, built as columns (no FindingGroup, no list per group).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, TypeVar, cast

import numpy as np

from pipelines.common.findings import GROUP_SAMPLE, SEVERITY_ORDER, Finding, FindingGroup, cells_texts

# The column is part of a kind though not of a group: a rule on one field of one sheet names one column,
# so kinds hardly multiply, and a member's column comes with its kind (no second pass over 1M findings).
_KIND_PARTS = ("file", "sheet", "code", "field", "message", "severity", "column")
_KIND = attrgetter(*_KIND_PARTS)
FILE, SHEET, CODE, FIELD, MESSAGE, SEVERITY, COLUMN = range(7)
K = TypeVar("K", bound=Hashable)
_INT64_BITS = 62  # a combined sort key's room (int64, the sign bit and one to spare)


def first_seen(keys: Iterable[K], n: int) -> tuple[np.ndarray, list[K]]:
    """Each of the n keys' number among the distinct keys, numbered in order of first appearance, and
    those keys. dict.setdefault driven by map gives each key the position of its first appearance with no
    Python-level loop (1M findings: 0.23 s, a list comprehension 0.25 s, one column's pd.factorize 0.3 s)."""
    first: dict[K, int] = {}
    at = np.fromiter(map(first.setdefault, keys, itertools.count()), dtype=np.intp, count=n)
    number = np.zeros(max(n, 1), dtype=np.intp)
    number[np.fromiter(first.values(), dtype=np.intp, count=len(first))] = np.arange(len(first))
    return number[at], list(first)


def sorted_ranks(values: Sequence[Any]) -> np.ndarray:
    """Each value's rank among the distinct values in Python's order (what sorted() compares)."""
    numbers, distinct = first_seen(values, len(values))
    rank = np.empty(len(distinct), dtype=np.intp)
    rank[sorted(range(len(distinct)), key=cast(Callable[[int], Any], distinct.__getitem__))] = np.arange(
        len(distinct)
    )
    return rank[numbers]


def _ordered(keys: list[np.ndarray]) -> np.ndarray:
    """The stable order of lexicographic keys (most significant first; non-negative integers): one
    combined int64 key where it fits — a stable argsort of one array, adaptive to runs already in order —,
    else np.lexsort."""
    widths = [int(k.max()).bit_length() if len(k) else 0 for k in keys]
    if sum(widths) > _INT64_BITS:
        return np.lexsort(keys[::-1])
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key, width in zip(keys, widths, strict=True):
        combined <<= width
        combined |= key
    return np.argsort(combined, kind="stable")


def _numbered(keys: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """A number per distinct row of the key columns (each column's values below its size), the same for
    equal rows: the columns combined into one int64 where they fit, else their tuples."""
    span = 1
    for size in sizes:
        span *= max(size, 1)
    if span >= 1 << _INT64_BITS:
        return first_seen(zip(*(k.tolist() for k in keys), strict=True), len(keys[0]))[0]
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for key, size in zip(keys, sizes, strict=True):
        combined *= max(size, 1)
        combined += key
    return np.unique(combined, return_inverse=True)[1].reshape(-1)


def _value_ranks(values: Sequence[Any]) -> np.ndarray:
    """The rank of each of these distinct values in Python's order (what sorted() compares)."""
    rank = np.empty(len(values), dtype=np.intp)
    rank[sorted(range(len(values)), key=cast(Callable[[int], Any], values.__getitem__))] = np.arange(
        len(values)
    )
    return rank


@dataclass
class Groups:
    """group_findings' groups as columns, in group_order. A text column is held as each group's number
    among the column's values, and those values (`texts`): the review's frame takes them as Arrow
    columns, with no list of 95k texts per column at 1M rows."""

    texts: dict[str, tuple[np.ndarray, list[str]]]  # file, sheet, code, severity, field, message
    fix: list[str]
    count: np.ndarray
    shown: list[str]  # every group's first GROUP_SAMPLE cells, group after group
    bounds: np.ndarray  # group k's cells: shown[bounds[k]:bounds[k + 1]]
    first_row: np.ndarray

    @classmethod
    def none(cls) -> Groups:
        empty = np.zeros(0, dtype=np.intp)
        return cls({name: (empty, []) for name in _TEXT_PARTS}, [], empty, [], np.zeros(1, np.intp), empty)

    def __len__(self) -> int:
        return len(self.fix)

    def values(self, name: str) -> list[str]:
        numbers, values = self.texts[name]
        return [values[i] for i in numbers.tolist()]

    @property
    def cells(self) -> list[list[str]]:
        return [self.shown[a:b] for a, b in itertools.pairwise(self.bounds.tolist())]

    @property
    def cells_zh(self) -> list[str]:
        return cells_texts(self.shown, self.bounds.tolist(), self.count.tolist())

    def as_groups(self) -> list[FindingGroup]:
        return [
            FindingGroup(*rec)
            for rec in zip(
                *(self.values(name) for name in ("file", "sheet", "code", "severity", "field", "message")),
                self.fix,
                self.count.tolist(),
                self.cells,
                self.first_row.tolist(),
                strict=True,
            )
        ]


_TEXT_PARTS = {
    "file": FILE,
    "sheet": SHEET,
    "code": CODE,
    "severity": SEVERITY,
    "field": FIELD,
    "message": MESSAGE,
}


class FindingTally:
    """The findings, each numbered by its kind (kinds in order of first appearance), with each kind's count."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = findings
        kind, kinds = first_seen(map(_KIND, findings), len(findings))
        self.kind = kind
        self.kinds: list[tuple[str, str, str, str, str, str, str]] = kinds
        self.counts = np.bincount(kind, minlength=len(kinds))
        self._parts: dict[int, tuple[np.ndarray, list[str]]] = {}
        self._transposed: list[tuple[str, ...]] | None = None

    def part(self, at: int) -> tuple[np.ndarray, list[str]]:
        """Each kind's value of one part (FILE, SEVERITY, ...) numbered among the part's distinct values
        (in order of first appearance), and those values."""
        if at not in self._parts:
            if self._transposed is None:  # every part's values at once, in C
                self._transposed = list(zip(*self.kinds, strict=True)) or [()] * len(_KIND_PARTS)
            self._parts[at] = first_seen(self._transposed[at], len(self.kinds))
        return self._parts[at]

    def _chosen(self, severities: Collection[str] | None) -> np.ndarray:
        """The kinds of these severities (None: every kind)."""
        if severities is None:
            return np.ones(len(self.kinds), dtype=bool)
        numbers, names = self.part(SEVERITY)
        return np.isin(numbers, [i for i, name in enumerate(names) if name in severities])

    def total(self, severity: str) -> int:
        """How many findings are of this severity."""
        return int(self.counts[self._chosen((severity,))].sum())

    def per_file(self, severity: str) -> dict[str, int]:
        """How many findings of this severity each file has (files with none left out)."""
        chosen = self._chosen((severity,))
        files, names = self.part(FILE)
        counts = np.bincount(files[chosen], weights=self.counts[chosen], minlength=len(names))
        return {names[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()}

    def of_severity(self, *severities: str) -> list[Finding]:
        """The findings of these severities, in their order."""
        chosen = self._chosen(severities)
        if not chosen.any():
            return []
        return [self.findings[i] for i in np.flatnonzero(chosen[self.kind]).tolist()]

    def tally(self, severities: Collection[str]) -> dict[tuple[str, str, str], int]:
        """The findings of these severities counted by (file, severity, rule), in order of first appearance
        (what Counter((f.file, f.severity, f.code) for f in found) gives: a triple first appears with the
        first of its kinds, and the kinds are in order of first appearance)."""
        chosen = np.flatnonzero(self._chosen(severities))
        parts = [self.part(at) for at in (FILE, SEVERITY, CODE)]
        triple, first = first_seen(
            zip(*(numbers[chosen].tolist() for numbers, _ in parts), strict=True), len(chosen)
        )
        counts = np.bincount(triple, weights=self.counts[chosen], minlength=len(first))
        (_, files), (_, severities_), (_, codes) = parts
        return {
            (files[f], severities_[s], codes[c]): int(n)
            for (f, s, c), n in zip(first, counts.tolist(), strict=True)
        }

    def groups(self, severities: Collection[str] | None = None) -> Groups:
        """group_findings of the findings of these severities (None: all of them), as columns: one group
        per (file, sheet, code, field, message); its members in sort_findings' order — severity, row,
        column, then as found — give its severity, fix, first row and first GROUP_SAMPLE cells; the groups
        in group_order (a total order: its key holds the group's whole key)."""
        findings = self.findings
        chosen_kinds = np.flatnonzero(self._chosen(severities))
        if not len(chosen_kinds):
            return Groups.none()
        parts = {at: self.part(at) for at in (FILE, SHEET, CODE, FIELD, MESSAGE, SEVERITY, COLUMN)}
        key = (FILE, SHEET, CODE, FIELD, MESSAGE)  # group_findings' key
        kind_group = _numbered([parts[at][0][chosen_kinds] for at in key], [len(parts[at][1]) for at in key])
        group_of_kind = np.full(len(self.kinds), -1, dtype=np.intp)
        group_of_kind[chosen_kinds] = kind_group
        member_group = group_of_kind[self.kind]
        members = np.flatnonzero(member_group >= 0)  # the findings grouped, in their order
        group = member_group[members]
        member_kind = self.kind[members]
        n_groups = int(group.max()) + 1
        severity_numbers, severity_names = parts[SEVERITY]
        severity_rank = _severity_ranks(severity_names)[severity_numbers]  # per kind
        rows = _excel_rows(findings)[members]
        column_numbers, columns = parts[COLUMN]
        column = column_numbers[member_kind]
        # Members in sort_findings' order within each group: severity, row, column, then as found.
        low = int(rows.min())
        order = _ordered([group, severity_rank[member_kind], rows - low, _value_ranks(columns)[column]])
        counts = np.bincount(group, minlength=n_groups)
        starts = np.cumsum(counts) - counts
        first = members[order[starts]]  # each group's first member
        first_kind = self.kind[first]
        # A cell is shown where the finding has a column or a row (Finding.cell); each group's first
        # GROUP_SAMPLE shown cells, in member order.
        has_column = np.fromiter((bool(c) for c in columns), dtype=bool, count=len(columns))
        has_cell = (has_column[column] | (rows != 0))[order]
        seen = np.cumsum(has_cell)
        before = (seen - has_cell)[starts]
        taken = has_cell & (seen - np.repeat(before, counts) <= GROUP_SAMPLE)
        taken_at = members[order[taken]]  # grouped by number, each group's in member order
        n_shown = np.bincount(group[order[taken]], minlength=n_groups)
        shown_from = np.cumsum(n_shown) - n_shown
        shown = [findings[i].cell for i in taken_at.tolist()]
        has_first = n_shown > 0
        first_cell = np.zeros(n_groups, dtype=np.intp)  # rank of the first shown cell ([] before any: 0)
        first_cell[has_first] = sorted_ranks([shown[a] for a in shown_from[has_first].tolist()]) + 1
        listed = _group_order(parts, first_kind, severity_rank[first_kind], first_cell)
        texts = {name: (parts[at][0][first_kind[listed]], parts[at][1]) for name, at in _TEXT_PARTS.items()}
        # The shown cells in the groups' listed order, one flat list (no list per group: 95k containers
        # that live on would bring the collector's full passes over every object alive).
        lengths = n_shown[listed]
        bounds = np.cumsum(lengths)
        gathered = np.repeat(shown_from[listed] - (bounds - lengths), lengths) + np.arange(int(bounds[-1]))
        return Groups(
            texts,
            [findings[i].fix for i in first[listed].tolist()],
            counts[listed],
            [shown[i] for i in gathered.tolist()],
            np.r_[0, bounds],
            rows[order[starts]][listed],
        )


def _group_order(
    parts: dict[int, tuple[np.ndarray, list[str]]],
    first_kind: np.ndarray,
    severity_rank: np.ndarray,
    first_cell: np.ndarray,
) -> np.ndarray:
    """The groups' places in group_order: file, severity, sheet, code, column, first cell, message (each
    group's values those of its first member's kind: first_kind; its severity's rank; its first cell's)."""
    ranks = {at: _value_ranks(parts[at][1])[parts[at][0][first_kind]] for at in (FILE, SHEET, CODE, FIELD)}
    keys = [ranks[FILE], severity_rank, ranks[SHEET], ranks[CODE], ranks[FIELD], first_cell]
    listed = _ordered(keys)
    # Groups alike in all of these differ by message (their key holds it): ordered by it where any are.
    alike = np.ones(max(len(first_kind) - 1, 0), dtype=bool)
    for k in keys:
        in_order = k[listed]
        alike &= in_order[1:] == in_order[:-1]
    if alike.any():
        message_numbers, messages = parts[MESSAGE]
        keys.append(_value_ranks(messages)[message_numbers[first_kind]])
        listed = _ordered(keys)
    return listed


def _severity_ranks(names: list[str]) -> np.ndarray:
    return np.array([SEVERITY_ORDER.get(s, 9) for s in names], dtype=np.intp)


def _excel_rows(findings: Sequence[Finding]) -> np.ndarray:
    """Each finding's row, or 0 (as sort_findings reads `row or 0`): None is looked up (0), any other row
    is its own default."""
    listed = list(map(attrgetter("row"), findings))
    return np.fromiter(map({None: 0}.get, listed, listed), dtype=np.int64, count=len(findings))
