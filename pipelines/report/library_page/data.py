"""The page's data: the library's tables turned into two compact, column-wise JSON documents.

The list document (every indicator's row: what the list and the filters need) is parsed when the page
opens; the text document (definitions, keywords, other names: what search reads) right after the list is
drawn; the card documents (standards, reference values, history; CARD_CHUNK rows each) one at a time,
when a card of its rows opens, so a 30,000-indicator page opens quickly and never parses all of them. Repeated labels (scope, levels, function
classes, departments, units) are sent once and referred to by their index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import chain

import pandas as pd

from pipelines.report.library_page.fold import browser_fold, fold, needs_fold, odd_characters
from schemas.library import SCOPES, STATUS_ZH, STATUSES
from schemas.vocab import function_codes

SEP = "\u0001"  # between the fields of a search text: a query term never spans two fields
STATUS_ORDER = {s: i for i, s in enumerate(STATUSES)}
CARD_CHUNK = 2000  # rows per card document: one inflates in a few tens of milliseconds


@dataclass
class PageData:
    """The JSON documents embedded in the page, each deflated and base64-encoded (page.packed) but the
    list, plain JSON (safe_json) that git deltas against last year's."""

    list_json: str  # what changes yearly, in the list's order; the stable columns by id (blocks.py):
    list_blocks: list[str]  # id, name, symbol: inflated with the list
    fold_json: str  # the query's character map (fold.char_map): the same bytes every year
    text_blocks: list[str]  # the searched texts: inflated right after the list is drawn
    card_json: list[str]  # the cards' yearly fields, CARD_CHUNK rows each: opening a card inflates one
    card_blocks: list[str]  # the cards' standards and first year: the first card inflates them
    count: int
    year_json: list[tuple[int, str]] = field(default_factory=list)  # (year, its targets and changes)


def text(frame: pd.DataFrame, name: str) -> list[str]:
    """A text column as plain strings; "" for a column an older release lacks, and for missing cells."""
    if name not in frame.columns:
        return [""] * len(frame)
    column = frame[name]
    if isinstance(column.dtype, pd.StringDtype):  # a str or missing in every cell: converted in C
        return column.to_numpy(dtype=object, na_value="").tolist()
    return ["" if v is None or v != v else str(v) for v in column.tolist()]


def names(values: object) -> list[str]:
    """A list cell (aliases, departments) as a list of strings."""
    if values is None or isinstance(values, (str, float)):
        return [str(values)] if isinstance(values, str) and values else []
    return [str(v) for v in list(values)]  # type: ignore[call-overload]


def name_lists(column: pd.Series) -> list[list[str]]:
    """names() of every cell of a list column (aliases, departments): the cells themselves where every one
    is a list of str (names() would copy each as it is: 1M rows' ≈ 207k indicators, four reads), else
    names() cell by cell. The lists are shared: read them, do not change them."""
    cells = column.tolist()
    if set(map(type, cells)) <= {list} and set(map(type, chain.from_iterable(cells))) <= {str}:
        return cells
    return [names(v) for v in cells]


class Labels:
    """Distinct labels in first-seen order, each sent once; cells refer to them by index."""

    def __init__(self, fixed: Iterable[str] = ()):
        self.items: list[str] = []
        self.index: dict[str, int] = {}
        for item in fixed:
            self.of(item)

    def of(self, label: str) -> int:
        if label not in self.index:
            self.index[label] = len(self.items)
            self.items.append(label)
        return self.index[label]

    def column(self, values: Sequence[str]) -> list[int]:
        """Each value's index; labels new here numbered in order of first appearance (the distinct values
        met first, then one lookup a row at C speed: 1M rows' ≈ 190k indicators × 5 columns)."""
        for value in dict.fromkeys(values):
            self.of(value)
        return list(map(self.index.__getitem__, values))


def safe_json(value: object) -> str:
    """JSON that cannot end its <script> element or open a comment: <, >, & and the line separators
    are written as \\u escapes (JSON.parse reads them back unchanged)."""
    raw = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028")):
        raw = raw.replace(ch, esc)
    return raw.replace("\u2029", "\\u2029")


def ordered(indicators: pd.DataFrame) -> pd.DataFrame:
    """Active first, then retired and merged; by id within each."""
    order = indicators["status"].map(STATUS_ORDER).fillna(len(STATUSES))
    return indicators.assign(_o=order).sort_values(["_o", "indicator_id"], kind="stable").drop(columns="_o")


def search_texts(ind: pd.DataFrame) -> list[str | int]:
    """Each row's folded search text (id, name, aliases, keywords, definition), or 0 where it equals what
    the browser derives itself (the fields joined, NFKC, lower case): the library's text is stored
    normalized, so only a row with a character opencc or the punctuation map changes is sent."""
    out: list[str | int] = []
    cols = zip(
        text(ind, "indicator_id"),
        text(ind, "name"),
        [" ".join(a) for a in name_lists(ind["aliases"])],
        text(ind, "keywords"),
        text(ind, "definition"),
        strict=True,
    )
    plain_sep = SEP not in odd_characters()
    for fields in cols:
        joined = SEP.join(fields)
        if plain_sep and joined.count(SEP) == len(fields) - 1:
            if not _joined_needs_fold(joined):
                out.append(0)
                continue
        elif not any(needs_fold(f) for f in fields):
            out.append(0)
            continue
        plain = browser_fold(joined)
        folded = SEP.join((fields[0].lower(), *(fold(f) for f in fields[1:])))
        out.append(0 if folded == plain else folded)
    return out


def _joined_needs_fold(joined: str) -> bool:
    """Whether any field of `joined` (fields joined by SEP, none holding SEP, SEP not a folded character)
    needs_fold: one look at the whole text, not one call per field (1M rows: ≈ 190k rows × 5 fields). Its
    odd characters are the fields'; two spaces never span a SEP; a field's edge space is at the text's
    edge or beside a SEP. One compiled pattern (_fold_pattern), not a set look-up per character: 1M rows'
    207k texts 0.41 -> 0.04 s."""
    return _fold_pattern().search(joined) is not None


@cache
def _fold_pattern() -> re.Pattern[str]:
    """An odd character (fold.odd_characters), two spaces, a space at the text's edge or beside a SEP."""
    odd = "".join(sorted(odd_characters()))
    edges = ("  ", "^ ", " \\Z", re.escape(SEP + " "), re.escape(" " + SEP))
    return re.compile("|".join(("[" + re.escape(odd) + "]", *edges)))


def function_labels(codes: Sequence[str], width: int) -> tuple[list[list[str]], list[int]]:
    """The 类 (width 3) or 款 (width 5) of each function code: distinct [code, name] and each row's index
    (-1 when the code is shorter, as for 共性 indicators)."""
    known = function_codes()
    labels = Labels()
    idx = [labels.of(c[:width]) if len(c) >= width else -1 for c in codes]
    pairs = [[c, known[c].name if c in known else ""] for c in labels.items]
    return pairs, idx


def dept_labels(departments: pd.DataFrame, ind: pd.DataFrame) -> tuple[list[list[str]], dict[str, int]]:
    """Every department: those of the departments table, then any code only an indicator names."""
    known = dict(zip(text(departments, "dept_code"), text(departments, "dept_name"), strict=True))
    codes = set(known).union(*name_lists(ind["departments"]))
    ordered_codes = sorted(codes)
    return [[c, known.get(c, "")] for c in ordered_codes], {c: i for i, c in enumerate(ordered_codes)}


def list_document(ind: pd.DataFrame, departments: pd.DataFrame, year: int) -> dict[str, object]:
    """The list, filters and search of every indicator (ind already in page order)."""
    scopes, levels1, levels2 = Labels(SCOPES), Labels(), Labels()
    units, origins = Labels(), Labels()
    codes = text(ind, "function_code")
    classes, cls_idx = function_labels(codes, 3)
    kuan, kuan_idx = function_labels(codes, 5)
    depts, dept_index = dept_labels(departments, ind)
    rows = {
        "id": text(ind, "indicator_id"),
        "name": text(ind, "name"),
        "scope": scopes.column(text(ind, "scope")),
        "l1": levels1.column(text(ind, "level1")),
        "l2": levels2.column(text(ind, "level2")),
        "cls": cls_idx,
        "kuan": kuan_idx,
        "st": [STATUS_ORDER.get(s, 0) for s in text(ind, "status")],
        "unit": units.column(text(ind, "unit")),
        "sym": text(ind, "symbol"),
        "org": origins.column(text(ind, "origin")),
        "dep": [sorted(map(dept_index.__getitem__, d)) for d in name_lists(ind["departments"])],
    }
    labels = {
        "scope": scopes.items,
        "l1": levels1.items,
        "l2": levels2.items,
        "cls": classes,
        "kuan": kuan,
        "dept": depts,
        "status": [[s, STATUS_ZH[s]] for s in STATUSES],
        "unit": units.items,
        "origin": origins.items,
    }
    return {"year": year, "n": len(ind), "chunk": CARD_CHUNK, "labels": labels, "rows": rows}


def text_document(ind: pd.DataFrame) -> dict[str, object]:
    """The texts search reads (and the card shows): other names, keywords, definition, and the folded
    search text of the rows the browser cannot derive itself (search_texts)."""
    return {
        "alias": [" ".join(a) for a in name_lists(ind["aliases"])],
        "kw": text(ind, "keywords"),
        "def": text(ind, "definition"),
        "hay": search_texts(ind),
    }


def short_number(value: float) -> float | int:
    """A figure as short as it reads: 95.0 → 95, 0.1234567 → 0.123457."""
    v = round(float(value), 6)
    return int(v) if v.is_integer() and abs(v) < 1e15 else v
